//! What an MCP endpoint checks before rmcp sees a request: the body's size
//! (a declared `Content-Length` over the cap is answered 413 before a byte
//! of body is read), the time the body may take to arrive, that the body is
//! one JSON-RPC message (malformed JSON, batches and invalid messages are
//! answered 400 with a JSON-RPC error, the same answer stdio gives, where
//! rmcp would say 415), and the session cap (`initialize` above it is
//! answered 503).

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures::StreamExt;
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorCode, RequestId};

use super::sessions::SessionBudget;
use crate::transport::framing::{self, ErrorFrame};

/// The checks of one endpoint, fixed at start.
#[derive(Debug)]
pub(super) struct Admission {
    pub(super) max_body_bytes: usize,
    pub(super) body_timeout: Duration,
    /// `None` in stateless mode (no sessions to cap).
    pub(super) sessions: Option<Arc<SessionBudget>>,
}

pub(super) async fn admit(
    State(admission): State<Arc<Admission>>,
    request: Request,
    next: Next,
) -> Response {
    let max = admission.max_body_bytes;
    if let Some(declared) = declared_length(request.headers())
        && declared > u64::try_from(max).unwrap_or(u64::MAX)
    {
        return too_large(Some(declared), max);
    }
    if request.method() != Method::POST || !is_json(request.headers()) {
        // rmcp answers these itself (405, 406, 415).
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(admission.body_timeout, read_body(body, max)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(response)) => return *response,
        Err(_) => {
            return json_error(
                StatusCode::REQUEST_TIMEOUT,
                &ErrorFrame::new(
                    None,
                    ErrorCode::INVALID_REQUEST,
                    format!(
                        "the request body did not arrive within {:?}; send it in one go \
                         (limit: --body-timeout / FF_HTTP_BODY_TIMEOUT)",
                        admission.body_timeout
                    ),
                ),
            );
        }
    };
    let message = match framing::decode_body(&bytes) {
        Ok(message) => message,
        Err(error) => {
            tracing::debug!(code = error.error.code.0, message = %error.error.message, "rejected HTTP body");
            return json_error(StatusCode::BAD_REQUEST, &error);
        }
    };
    // A new session is asked for: initialize without a session id.
    let opening = match (&admission.sessions, &*message) {
        (Some(budget), ClientJsonRpcMessage::Request(request))
            if !parts.headers.contains_key("mcp-session-id")
                && matches!(request.request, ClientRequest::InitializeRequest(_)) =>
        {
            Some((budget, request.id.clone()))
        }
        _ => None,
    };
    if let Some((budget, id)) = &opening
        && budget.is_full()
    {
        return sessions_full(budget, id.clone());
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // Initializes that raced past the check above are refused by the
    // session manager, which rmcp reports as a 500: say what happened.
    match opening {
        Some((budget, id))
            if response.status() == StatusCode::INTERNAL_SERVER_ERROR && budget.is_full() =>
        {
            sessions_full(budget, id)
        }
        _ => response,
    }
}

/// 503 for an `initialize` above the session cap.
fn sessions_full(budget: &SessionBudget, id: RequestId) -> Response {
    tracing::warn!(
        live = budget.live(),
        max = budget.max(),
        "session limit reached; refusing initialize"
    );
    let mut response = json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        &ErrorFrame::with_data(
            Some(id),
            ErrorCode(-32000),
            format!(
                "server busy: it already holds its limit of {} live MCP sessions; retry \
                 later, end unused sessions with HTTP DELETE, or raise --max-sessions / \
                 FF_MAX_SESSIONS",
                budget.max()
            ),
            Some(serde_json::json!({ "maxSessions": budget.max() })),
        ),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

/// Reads the whole body, refusing it as soon as it passes `max` bytes.
async fn read_body(body: Body, max: usize) -> Result<Vec<u8>, Box<Response>> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            Box::new(json_error(
                StatusCode::BAD_REQUEST,
                &ErrorFrame::new(
                    None,
                    ErrorCode::PARSE_ERROR,
                    format!("could not read the request body: {err}"),
                ),
            ))
        })?;
        if chunk.len() > max.saturating_sub(bytes.len()) {
            return Err(Box::new(too_large(None, max)));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
}

/// 413, closing the connection: the rest of the body is never read.
fn too_large(declared: Option<u64>, max: usize) -> Response {
    let size = declared.map_or_else(
        || "the request body".to_owned(),
        |n| format!("a request body of {n} bytes"),
    );
    let mut response = json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &ErrorFrame::with_data(
            None,
            ErrorCode::INVALID_REQUEST,
            format!(
                "{size} exceeds the {max}-byte limit; send less or raise --max-body-bytes / \
                 FF_MAX_BODY_BYTES"
            ),
            Some(serde_json::json!({ "maxBodyBytes": max })),
        ),
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

pub(super) fn json_error(status: StatusCode, error: &ErrorFrame) -> Response {
    let body = serde_json::to_vec(error).unwrap_or_default();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

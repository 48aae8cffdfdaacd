//! The request policy in front of every MCP endpoint: `Host` (DNS
//! rebinding), `Origin` (foreign web pages) and the bearer token.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{HeaderMap, StatusCode, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;

use super::HttpOptions;

/// The request policy, fixed at start.
#[derive(Debug)]
pub(super) struct Guard {
    hosts: Vec<String>,
    origins: Vec<String>,
    token: Option<Vec<u8>>,
}

impl Guard {
    pub(super) fn new(options: &HttpOptions, local: SocketAddr) -> Self {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(String::from)
            .collect();
        if !local.ip().is_unspecified() {
            hosts.push(local.ip().to_string());
        }
        hosts.extend(options.allowed_hosts.iter().map(|h| host_name(h)));
        let origins = options
            .allowed_origins
            .iter()
            .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
            .collect();
        Self {
            hosts,
            origins,
            token: options.token.as_ref().map(|t| t.trim().as_bytes().to_vec()),
        }
    }

    fn check(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Rejection> {
        self.check_host(headers, uri)?;
        self.check_origin(headers)?;
        self.check_token(headers)
    }

    fn check_host(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Rejection> {
        let host = match headers.get(header::HOST) {
            Some(value) => value.to_str().ok().map(str::to_owned),
            None => uri.authority().map(|a| a.as_str().to_owned()),
        };
        let Some(host) = host else {
            return Err(reject(
                StatusCode::BAD_REQUEST,
                "missing or unreadable Host header",
            ));
        };
        let name = host_name(&host);
        if self.hosts.contains(&name) {
            Ok(())
        } else {
            Err(reject(
                StatusCode::FORBIDDEN,
                &format!(
                    "Host '{host}' is not allowed (DNS-rebinding protection); start ffmcp with \
                     --allow-host {name} if clients reach it under that name"
                ),
            ))
        }
    }

    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Rejection> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin
            .to_str()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if is_loopback_origin(&origin) || self.origins.contains(&origin) {
            return Ok(());
        }
        Err(reject(
            StatusCode::FORBIDDEN,
            &format!(
                "Origin '{origin}' is not allowed; only loopback origins are accepted by \
                 default. Start ffmcp with --allow-origin {origin} to trust it"
            ),
        ))
    }

    fn check_token(&self, headers: &HeaderMap) -> Result<(), Rejection> {
        let Some(expected) = &self.token else {
            return Ok(());
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            });
        let Some(presented) = presented else {
            return Err(unauthorized(
                "missing 'Authorization: Bearer <token>' header",
            ));
        };
        // Constant time in the token's content (its length is not secret).
        if bool::from(presented.as_bytes().ct_eq(expected)) {
            Ok(())
        } else {
            Err(unauthorized("the bearer token is not valid"))
        }
    }
}

pub(super) async fn guard(
    State(policy): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(rejection) = policy.check(request.headers(), request.uri()) {
        return rejection.into_response();
    }
    let deleting = request.method() == axum::http::Method::DELETE;
    let mut response = next.run(request).await;
    // rmcp closes the session before answering a DELETE, then says 202
    // Accepted; the session is gone, and clients (the Python SDK among them)
    // expect 200 or 204 for a completed termination.
    if deleting && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

/// Why a request was turned away, as the client will read it.
#[derive(Debug)]
struct Rejection {
    status: StatusCode,
    message: String,
}

fn reject(status: StatusCode, message: &str) -> Rejection {
    Rejection {
        status,
        message: message.to_owned(),
    }
}

fn unauthorized(message: &str) -> Rejection {
    reject(StatusCode::UNAUTHORIZED, message)
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        tracing::warn!(status = %self.status, message = %self.message, "rejected HTTP request");
        let mut response = (self.status, format!("{}\n", self.message)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// `host[:port]` (or `[v6]:port`) to the lower-case host alone.
fn host_name(authority: &str) -> String {
    let authority = authority.trim();
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                authority
            }
        })
    };
    host.to_ascii_lowercase()
}

fn is_loopback_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    matches!(host_name(rest).as_str(), "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(token: Option<&str>) -> Guard {
        let mut options = HttpOptions::new(([127, 0, 0, 1], 0).into());
        options.token = token.map(str::to_owned);
        options.allowed_origins = vec!["https://app.example.com/".into()];
        options.allowed_hosts = vec!["mcp.example.com".into()];
        Guard::new(&options, ([127, 0, 0, 1], 8080).into())
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), value.parse().expect("valid header value"));
        }
        map
    }

    fn status(result: Result<(), Rejection>) -> Option<StatusCode> {
        result.err().map(|r| r.status)
    }

    #[test]
    fn host_policy() {
        let g = guard(None);
        let uri = Uri::from_static("/mcp");
        for ok in [
            "localhost:8080",
            "127.0.0.1",
            "[::1]:9",
            "MCP.example.com:443",
        ] {
            assert_eq!(
                status(g.check(&headers(&[(header::HOST, ok)]), &uri)),
                None,
                "{ok}"
            );
        }
        for bad in [
            "evil.example",
            "127.0.0.1.evil.example:8080",
            "localhost.evil",
        ] {
            assert_eq!(
                status(g.check(&headers(&[(header::HOST, bad)]), &uri)),
                Some(StatusCode::FORBIDDEN),
                "{bad}"
            );
        }
    }

    #[test]
    fn origin_policy() {
        let g = guard(None);
        let uri = Uri::from_static("/mcp");
        let check = |origin: &str| {
            status(g.check(
                &headers(&[(header::HOST, "localhost"), (header::ORIGIN, origin)]),
                &uri,
            ))
        };
        assert_eq!(check("http://localhost:3000"), None);
        assert_eq!(check("https://127.0.0.1"), None);
        assert_eq!(check("https://app.example.com"), None);
        assert_eq!(check("https://evil.example"), Some(StatusCode::FORBIDDEN));
        assert_eq!(check("null"), Some(StatusCode::FORBIDDEN));
        assert_eq!(
            check("http://localhost.evil.example"),
            Some(StatusCode::FORBIDDEN)
        );
    }

    #[test]
    fn token_policy() {
        let g = guard(Some("0123456789abcdef0123"));
        let uri = Uri::from_static("/mcp");
        let with = |auth: Option<&str>| {
            let mut h = headers(&[(header::HOST, "localhost")]);
            if let Some(a) = auth {
                h.insert(header::AUTHORIZATION, a.parse().expect("valid header"));
            }
            status(g.check(&h, &uri))
        };
        assert_eq!(with(Some("Bearer 0123456789abcdef0123")), None);
        assert_eq!(with(Some("bearer 0123456789abcdef0123")), None);
        assert_eq!(
            with(Some("Bearer 0123456789abcdef012")),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(with(Some("Basic abc")), Some(StatusCode::UNAUTHORIZED));
        assert_eq!(with(None), Some(StatusCode::UNAUTHORIZED));
    }

    #[test]
    fn non_loopback_bind_needs_token_or_explicit_opt_out() {
        let mut options = HttpOptions::new(([0, 0, 0, 0], 8080).into());
        assert!(options.validate().is_err());
        options.token = Some("short".into());
        assert!(options.validate().is_err());
        options.token = Some("a-long-enough-random-token".into());
        assert!(options.validate().is_ok());
        options.token = None;
        options.insecure_no_auth = true;
        assert!(options.validate().is_ok());
        assert!(
            HttpOptions::new(([127, 0, 0, 1], 0).into())
                .validate()
                .is_ok()
        );
    }
}

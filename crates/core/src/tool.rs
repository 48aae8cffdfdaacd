//! Tool-result conventions shared by every server.
//!
//! * [`Json<T>`]: a successful result, sent as `structuredContent` (matching
//!   the tool's `outputSchema`) plus a short text rendering from [`Render`]
//!   for clients that only show text. It is named `Json` on purpose: rmcp's
//!   `#[tool]` macro derives a tool's `outputSchema` from a return type spelled
//!   `Json<T>` or `Result<Json<T>, E>`, and the end-to-end tests check every
//!   tool declares one.
//! * [`ToolError`]: a failed call, sent as a tool result with `isError: true`
//!   and a message that names what was wrong.
//! * `call_tool` (run by [`crate::server`] around every server): dispatches through a tool router under the process's
//!   admission limits and the call's time budget ([`crate::work`]), and turns
//!   a panic inside a tool into a tool error plus a line on stderr, so one
//!   bug never takes the server down or leaves the client waiting.

use std::{any::Any, fmt, panic::AssertUnwindSafe};

use futures::FutureExt;
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::{
        router::tool::ToolRouter,
        tool::{IntoCallToolResult, ToolCallContext},
    },
    model::{CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock},
    service::RequestContext,
};
use serde::Serialize;

use crate::{model::ModelError, work::Governor};

/// A short human-readable rendering of a tool's structured result.
pub trait Render {
    /// A few lines at most: the structured content carries the full result.
    fn render(&self) -> String;
}

/// A successful structured tool result; see the module docs.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: Serialize + Render> IntoCallToolResult for Json<T> {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let value = serde_json::to_value(&self.0).map_err(|err| {
            ErrorData::internal_error(format!("could not serialise tool result: {err}"), None)
        })?;
        let mut result = CallToolResult::structured(value);
        result.content = vec![ContentBlock::text(self.0.render())];
        Ok(result.into())
    }
}

/// Why a tool call failed, as the caller (an agent) should read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    kind: ToolErrorKind,
    message: String,
}

/// Broad classes of tool failure; the message carries the detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolErrorKind {
    /// The arguments were wrong: fix them and call again.
    InvalidInput,
    /// Something outside ffmcp failed (a fetch, a model provider).
    Upstream,
    /// A bug in ffmcp.
    Internal,
}

impl ToolError {
    /// Bad arguments; `message` names the argument and what would be right.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ToolErrorKind::InvalidInput,
            message: message.into(),
        }
    }

    /// A failure of something ffmcp depends on.
    pub fn upstream(message: impl Into<String>) -> Self {
        Self {
            kind: ToolErrorKind::Upstream,
            message: message.into(),
        }
    }

    /// A bug in ffmcp.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ToolErrorKind::Internal,
            message: message.into(),
        }
    }

    /// Whose failure this is: the caller's arguments, something upstream, or ffmcp.
    pub fn kind(&self) -> ToolErrorKind {
        self.kind
    }

    /// The message shown to the client: names what was wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The `_meta` key of a tool error result naming its [`ToolErrorKind`]
/// (`invalid_input`, `upstream`, `internal`): how `ffmcp <server> <tool>`
/// picks its exit code, and a hint any client may read.
pub const ERROR_KIND_META_KEY: &str = "ffmcp/errorKind";

impl ToolErrorKind {
    /// The name sent under [`ERROR_KIND_META_KEY`].
    pub fn as_str(self) -> &'static str {
        match self {
            ToolErrorKind::InvalidInput => "invalid_input",
            ToolErrorKind::Upstream => "upstream",
            ToolErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// How a model failure reaches the agent: configuration and argument
/// problems are the caller's to fix (`invalid`), the rest is upstream.
impl From<ModelError> for ToolError {
    fn from(err: ModelError) -> Self {
        match err {
            e @ (ModelError::NotConfigured { .. }
            | ModelError::NoEmbeddingRoute { .. }
            | ModelError::InvalidRoute(_)
            | ModelError::InvalidInput(_)) => ToolError::invalid(e.to_string()),
            e @ ModelError::InvalidSchema(_) => {
                ToolError::invalid(format!("argument 'schema': {e}"))
            }
            other => ToolError::upstream(other.to_string()),
        }
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let mut result = CallToolResult::error(vec![ContentBlock::text(self.message)]);
        let mut meta = rmcp::model::MetaObject::new();
        meta.insert(ERROR_KIND_META_KEY.to_owned(), self.kind.as_str().into());
        result.meta = Some(meta);
        Ok(result.into())
    }
}

/// Runs one `tools/call` through `router`: admitted by the process's
/// [`Governor`], bounded by its time budget, stopped
/// on cancellation, with panics contained.
///
/// Core calls this for every server (the [`crate::server`] wrapper); no
/// server calls it itself.
pub(crate) async fn call_tool<S: ServerHandler + Send + Sync + 'static>(
    scope: Scope<'_>,
    router: &ToolRouter<S>,
    server: &S,
    request: CallToolRequestParams,
    mut context: RequestContext<RoleServer>,
) -> Result<CallToolResponse, ErrorData> {
    let Scope {
        governor,
        server: server_name,
        log,
        budget,
    } = scope;
    let name = request.name.clone();
    if router.get(&name).is_none() {
        let known: Vec<String> = router
            .list_all()
            .into_iter()
            .map(|t| t.name.into_owned())
            .collect();
        return Err(ErrorData::invalid_params(
            format!(
                "unknown tool '{name}'; this server offers: {}",
                known.join(", ")
            ),
            None,
        ));
    }
    let session = context
        .extensions
        .get::<axum::http::request::Parts>()
        .and_then(|parts| parts.headers.get("mcp-session-id"))
        .and_then(|id| id.to_str().ok())
        .map(str::to_owned);
    let admission = match governor.admit(session.as_deref()).await {
        Ok(admission) => admission,
        Err(busy) => {
            tracing::warn!(tool = %name, "{busy}");
            return busy.into_call_tool_result();
        }
    };
    let requested_ms = context
        .meta
        .get(TIMEOUT_META_KEY)
        .and_then(serde_json::Value::as_u64);
    let budget = budget.unwrap_or_else(|| governor.limits().budget(server_name, requested_ms));
    // The tool sees a child token: cancelled by the client's cancellation
    // and by the deadline alike, so cooperative work stops either way.
    let cancelled_by_client = context.ct.clone();
    let scoped = cancelled_by_client.child_token();
    context.ct = scoped.clone();
    // Every log line of the call (fetches, model calls, subprocesses) is
    // inside this span: one grep finds a call's whole story.
    let span = tracing::info_span!("tool_call", server = server_name, tool = %name);
    // ... and the span says whose call it is: its events reach this
    // session's client if it asked for them (MCP logging).
    #[allow(deprecated)] // the `_meta` log level is the 2026 form of logging/setLevel
    let requested = context.meta.log_level();
    crate::logging::attach(&span, log, requested, &context.peer);
    let call = tracing::Instrument::instrument(
        AssertUnwindSafe(router.call(ToolCallContext::new(server, request, context)))
            .catch_unwind(),
        span,
    );
    let mut call = std::pin::pin!(call);
    let outcome = tokio::select! {
        outcome = &mut call => outcome,
        () = tokio::time::sleep(budget) => {
            scoped.cancel();
            let _ = tokio::time::timeout(STOP_GRACE, call).await;
            tracing::warn!(tool = %name, budget_ms = budget.as_millis() as u64, "tool call ran out of time; stopped");
            return ToolError::upstream(format!(
                "tool '{name}' stopped after its time budget of {}; the budget is set by \
                 FF_CALL_TIMEOUT_SECS (per server FF_CALL_TIMEOUT_SECS_<SERVER>), and a call \
                 may ask for up to {} s with _meta {{\"{TIMEOUT_META_KEY}\": milliseconds}}",
                human(budget),
                governor.limits().call_timeout_max.as_secs()
            ))
            .into_call_tool_result();
        }
        () = cancelled_by_client.cancelled() => {
            let _ = tokio::time::timeout(STOP_GRACE, call).await;
            return ToolError::invalid(format!("tool '{name}' was cancelled by the client"))
                .into_call_tool_result();
        }
    };
    drop(admission);
    match outcome {
        Ok(result) => result.map(tag_argument_errors),
        Err(panic) => {
            let reason = panic_message(panic.as_ref());
            tracing::error!(tool = %name, %reason, "tool panicked; the server keeps serving");
            ToolError::internal(format!(
                "internal error in tool '{name}': {reason}. This is a bug in ffmcp; \
                 the server is still running. Please report it with the arguments used."
            ))
            .into_call_tool_result()
        }
    }
}

/// rmcp answers arguments that do not deserialise with an error result of
/// its own; it gets the kind of every other argument error.
fn tag_argument_errors(response: CallToolResponse) -> CallToolResponse {
    let CallToolResponse::Complete(mut result) = response else {
        return response;
    };
    let untagged = result.is_error == Some(true)
        && result
            .meta
            .as_ref()
            .is_none_or(|m| !m.contains_key(ERROR_KIND_META_KEY));
    let about_arguments = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .is_some_and(|t| t.text.starts_with("failed to deserialize parameters"));
    if untagged && about_arguments {
        result
            .meta
            .get_or_insert_with(rmcp::model::MetaObject::new)
            .insert(
                ERROR_KIND_META_KEY.to_owned(),
                ToolErrorKind::InvalidInput.as_str().into(),
            );
    }
    CallToolResponse::Complete(result)
}

/// Where a call runs: the process's governor, the server, the session's
/// log, and a budget replacing the server's (tasks take the longest).
pub(crate) struct Scope<'a> {
    pub(crate) governor: &'a Governor,
    pub(crate) server: &'a str,
    pub(crate) log: &'a std::sync::Arc<crate::logging::SessionLog>,
    pub(crate) budget: Option<std::time::Duration>,
}

/// How long a cancelled or timed-out call may take to stop before its
/// answer is sent: work that saves its state on the way out (a crawl, an
/// index commit) finishes first, so a client that exits on the answer
/// (the command line after Ctrl-C) can resume it. A tool that ignores the
/// token is dropped after this, as before.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The `_meta` key with which a call asks for its own time budget (ms).
pub const TIMEOUT_META_KEY: &str = "ffmcp/timeoutMs";

fn human(d: std::time::Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_owned()
    }
}

pub use crate::work::cpu_work;

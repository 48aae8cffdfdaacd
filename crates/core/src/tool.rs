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
//! * [`call_tool`]: dispatches through a tool router and turns a panic inside
//!   a tool into a tool error plus a line on stderr, so one bug never takes
//!   the server down or leaves the client waiting.

use std::{any::Any, fmt, panic::AssertUnwindSafe};

use futures::FutureExt;
use rmcp::{
    ErrorData, RoleServer,
    handler::server::{
        router::tool::ToolRouter,
        tool::{IntoCallToolResult, ToolCallContext},
    },
    model::{CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock},
    service::RequestContext,
};
use serde::Serialize;

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

    pub fn kind(&self) -> ToolErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        Ok(CallToolResult::error(vec![ContentBlock::text(self.message)]).into())
    }
}

/// Runs one `tools/call` through `router`, containing panics.
///
/// Every server's `ServerHandler::call_tool` delegates here.
pub async fn call_tool<S: Send + Sync + 'static>(
    router: &ToolRouter<S>,
    server: &S,
    request: CallToolRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResponse, ErrorData> {
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
    let call = router.call(ToolCallContext::new(server, request, context));
    match AssertUnwindSafe(call).catch_unwind().await {
        Ok(result) => result,
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

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_owned()
    }
}

/// Inputs at least this large are processed off the async workers.
const INLINE_WORK_BYTES: usize = 64 * 1024;

/// Runs CPU-bound tool work on an input of `input_bytes`: inline when small
/// (a thread hop would cost more than the work), on tokio's blocking pool
/// when large, so big documents never stall the transport.
pub async fn cpu_work<T: Send + 'static>(
    input_bytes: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ToolError> {
    if input_bytes < INLINE_WORK_BYTES {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| ToolError::internal(format!("background task failed: {err}")))
}

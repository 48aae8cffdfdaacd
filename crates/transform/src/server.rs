//! The MCP edge of the transform server: argument types, tool methods, and
//! the mapping from domain results to MCP results.

use ffmcp_core::{Json, Render, ToolError, limits};
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{
        CallToolRequestParams, CallToolResponse, Implementation, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::stats::{self, TextStats};

/// The transform server.
#[derive(Clone)]
pub struct Transform {
    tool_router: ToolRouter<Self>,
}

impl Default for Transform {
    fn default() -> Self {
        Self::new()
    }
}

/// Arguments of `text_stats`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextStatsArgs {
    /// The text to measure (at most 2 MiB).
    pub text: String,
}

impl Render for TextStats {
    fn render(&self) -> String {
        format!("{} chars, {} words", self.chars, self.words)
    }
}

#[tool_router]
impl Transform {
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    /// Counts characters, words, sentences and reading time of a text, and guesses its language.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn text_stats(
        &self,
        Parameters(args): Parameters<TextStatsArgs>,
    ) -> Result<Json<TextStats>, ToolError> {
        limits::check_size("text", &args.text, limits::DEFAULT_MAX_INPUT_BYTES)?;
        Ok(Json(stats::text_stats(&args.text)))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Transform {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "ffmcp-transform",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Offline text and data transforms. Every tool returns structured content \
                 matching its output schema, plus a one-line summary.",
            )
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        ffmcp_core::tool::call_tool(&self.tool_router, self, request, context).await
    }
}

//! A panicking tool becomes a tool error, and the server keeps serving.

use ffmcp_core::{Json, Render, ToolError};
use rmcp::{
    ServerHandler, ServiceExt,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{CallToolRequestParams, ServerCapabilities, ServerConfig},
    tool, tool_handler, tool_router,
};
use serde::{Deserialize, Serialize};

#[derive(Clone)]
struct Fragile {
    tool_router: ToolRouter<Self>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Echo {
    /// Text to echo back.
    text: String,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Echoed {
    text: String,
}

impl Render for Echoed {
    fn render(&self) -> String {
        self.text.clone()
    }
}

#[tool_router]
impl Fragile {
    fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    /// Always panics.
    #[tool]
    async fn boom(&self) -> Result<Json<Echoed>, ToolError> {
        panic!("kaboom on purpose");
    }

    /// Echoes its input.
    #[tool]
    async fn echo(&self, Parameters(args): Parameters<Echo>) -> Result<Json<Echoed>, ToolError> {
        Ok(Json(Echoed { text: args.text }))
    }
}

impl ffmcp_core::Tools for Fragile {
    fn tools(&self) -> &ToolRouter<Self> {
        &self.tool_router
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Fragile {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn panic_in_tool_is_a_tool_error_and_server_survives() {
    let context = ffmcp_core::Context::new(ffmcp_core::Config::default());
    let (client_end, server) = crate::harness::serve_wrapped(&context, "fragile", Fragile::new());
    let client = ().serve(client_end).await.expect("client handshake");

    let crashed = client
        .call_tool(CallToolRequestParams::new("boom"))
        .await
        .expect("a tool result, not a dead server");
    assert_eq!(crashed.is_error, Some(true));
    let text = crashed.content[0].as_text().expect("text").text.clone();
    assert!(
        text.contains("kaboom on purpose") && text.contains("boom"),
        "{text}"
    );

    let echoed = client
        .call_tool(
            CallToolRequestParams::new("echo").with_arguments(
                serde_json::json!({"text": "still alive"})
                    .as_object()
                    .expect("object")
                    .clone(),
            ),
        )
        .await
        .expect("echo after panic");
    assert_eq!(
        echoed.structured_content,
        Some(serde_json::json!({"text": "still alive"}))
    );
    assert_eq!(
        echoed.content[0].as_text().expect("text").text,
        "still alive"
    );

    client.cancel().await.expect("client close");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
}

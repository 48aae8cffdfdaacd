//! Roots announced by the MCP client (`roots/list`) decide what a file tool
//! may read when FF_ROOTS is not set, through a real rmcp client.
#![allow(deprecated)] // roots/list is deprecated by SEP-2577; clients still send it.

use ffmcp_core::{Json, Render, ToolError, roots::Roots};
use rmcp::{
    ClientHandler, ErrorData, RoleClient, RoleServer, ServerHandler, ServiceExt,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{
        CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ListRootsResult,
        Root, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use serde::{Deserialize, Serialize};

#[derive(Clone)]
struct FileServer {
    configured: Roots,
    tool_router: ToolRouter<Self>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ReadArgs {
    /// Path to read.
    path: String,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Content {
    text: String,
}

impl Render for Content {
    fn render(&self) -> String {
        self.text.clone()
    }
}

#[tool_router]
impl FileServer {
    /// Reads a file under the request's roots.
    #[tool]
    async fn read(
        &self,
        Parameters(args): Parameters<ReadArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<Content>, ToolError> {
        let roots = self.configured.for_client(&context.peer).await;
        let path = roots.check_read(&args.path)?;
        let text = std::fs::read_to_string(path.as_path())
            .map_err(|e| ToolError::internal(e.to_string()))?;
        Ok(Json(Content { text }))
    }
}

impl ffmcp_core::Tools for FileServer {
    fn tools(&self) -> &ToolRouter<Self> {
        &self.tool_router
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for FileServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// A client whose workspace is one directory.
struct Workspace(String);

impl ClientHandler for Workspace {
    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        Ok(ListRootsResult::new(vec![Root::new(self.0.clone())]))
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_roots().build(),
            Implementation::new("roots-test", "0"),
        )
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn client_announced_roots_bound_file_access() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().canonicalize().expect("canonical");
    std::fs::create_dir_all(base.join("work")).expect("mkdir");
    std::fs::write(base.join("work/notes.txt"), "inside").expect("write");
    std::fs::write(base.join("private.txt"), "outside").expect("write");

    let (client_end, server) = crate::harness::serve_wrapped(
        &ffmcp_core::Context::new(ffmcp_core::Config::default()),
        "files",
        FileServer {
            configured: Roots::default(),
            tool_router: FileServer::tool_router(),
        },
    );
    let workspace = format!("file://{}", base.join("work").display());
    let client = Workspace(workspace)
        .serve(client_end)
        .await
        .expect("client handshake");

    let read = |path: std::path::PathBuf| {
        CallToolRequestParams::new("read").with_arguments(
            serde_json::json!({ "path": path.to_str().expect("utf8") })
                .as_object()
                .expect("object")
                .clone(),
        )
    };
    let inside = client
        .call_tool(read(base.join("work/notes.txt")))
        .await
        .expect("result");
    assert_ne!(inside.is_error, Some(true), "{inside:?}");
    assert_eq!(
        inside.structured_content,
        Some(serde_json::json!({"text": "inside"}))
    );

    let outside = client
        .call_tool(read(base.join("private.txt")))
        .await
        .expect("result");
    assert_eq!(outside.is_error, Some(true));
    let text = outside.content[0].as_text().expect("text").text.clone();
    assert!(text.contains("outside"), "{text}");
    assert!(!text.contains("\"outside\""), "the file was read: {text}");

    client.cancel().await.expect("close");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
}

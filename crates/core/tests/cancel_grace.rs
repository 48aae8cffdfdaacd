//! A cancelled call keeps its slot until the tool has stopped: work that
//! saves its state on the way out (a crawl, an index commit) is not cut off,
//! and a process that waits for the governor to be idle before exiting (the
//! command line after Ctrl-C; MCP sends no answer to a cancelled request)
//! exits only after the save.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use ffmcp_core::{Json, Render, ToolError};
use rmcp::{
    ServerHandler, ServiceExt,
    handler::server::router::tool::ToolRouter,
    model::{
        CallToolRequest, CallToolRequestParams, CancelledNotificationParam, ClientRequest,
        ServerCapabilities, ServerConfig,
    },
    service::{PeerRequestOptions, RequestContext},
    tool, tool_handler, tool_router,
};
use serde::Serialize;

#[derive(Clone)]
struct Tidy {
    tool_router: ToolRouter<Self>,
    saved: Arc<AtomicBool>,
    started: Arc<tokio::sync::Notify>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Done {
    saved: bool,
}

impl Render for Done {
    fn render(&self) -> String {
        format!("saved: {}", self.saved)
    }
}

#[tool_router]
impl Tidy {
    /// Runs until cancelled, then takes a while to save its state.
    #[tool]
    async fn work(&self, ctx: RequestContext<rmcp::RoleServer>) -> Result<Json<Done>, ToolError> {
        self.started.notify_one();
        ctx.ct.cancelled().await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        self.saved.store(true, Ordering::SeqCst);
        Ok(Json(Done { saved: true }))
    }
}

impl ffmcp_core::Tools for Tidy {
    fn tools(&self) -> &ToolRouter<Self> {
        &self.tool_router
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tidy {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_call_holds_its_slot_until_the_tool_has_saved_its_state() {
    let saved = Arc::new(AtomicBool::new(false));
    let started = Arc::new(tokio::sync::Notify::new());
    let tidy = Tidy {
        tool_router: Tidy::tool_router(),
        saved: Arc::clone(&saved),
        started: Arc::clone(&started),
    };
    let context = ffmcp_core::Context::new(ffmcp_core::Config::default());
    let governor = context.governor.clone();
    let (client_end, server) = crate::harness::serve_wrapped(&context, "tidy", tidy);
    let client = ().serve(client_end).await.expect("client handshake");
    let peer = client.peer().clone();
    let handle = peer
        .send_cancellable_request(
            ClientRequest::CallToolRequest(CallToolRequest::new(CallToolRequestParams::new(
                "work",
            ))),
            PeerRequestOptions::no_options(),
        )
        .await
        .expect("send tools/call");
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("the tool started");
    let id = handle.id.clone();
    peer.notify_cancelled(CancelledNotificationParam::new(
        Some(id),
        Some("test".into()),
    ))
    .await
    .expect("send cancellation");
    // The client's own view: the request ends at once, as cancelled.
    let answer = tokio::time::timeout(Duration::from_secs(10), handle.await_response())
        .await
        .expect("the client gives up the request");
    assert!(
        matches!(answer, Err(rmcp::ServiceError::Cancelled { .. })),
        "{answer:?}"
    );
    assert!(!saved.load(Ordering::SeqCst), "the clean-up takes 400 ms");
    // The server's: the slot comes free only once the clean-up has run.
    tokio::time::timeout(Duration::from_secs(10), governor.idle())
        .await
        .expect("the governor comes idle within the grace");
    assert!(
        saved.load(Ordering::SeqCst),
        "the slot came free before the cancelled tool finished saving"
    );

    client.cancel().await.expect("client close");
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

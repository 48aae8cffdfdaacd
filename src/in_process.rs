//! An MCP session with a built server inside this process: the server
//! served over a `tokio::io::duplex` stream, an rmcp client on the other
//! end. How `ffmcp <server> <tool>` and the operator page reach the tools,
//! so they pass every rule a remote client meets.

use std::time::Duration;

use ffmcp_core::Server;
use rmcp::{ClientHandler, RoleClient, ServiceExt, service::RunningService};

/// Bytes in flight each way before a writer waits.
const BUFFER: usize = 256 * 1024;
/// How long the server gets to finish once the client leaves.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// A connected client and the task serving it.
pub struct Session<H: ClientHandler> {
    pub client: RunningService<RoleClient, H>,
    serving: tokio::task::JoinHandle<()>,
}

/// Serves `server` in-process and connects `handler` as its client.
pub async fn open<H: ClientHandler>(server: &Server, handler: H) -> anyhow::Result<Session<H>> {
    let (server_io, client_io) = tokio::io::duplex(BUFFER);
    let serving = server.serve_in_process(server_io);
    let serving = tokio::spawn(async move {
        if let Err(e) = serving.await {
            tracing::debug!(%e, "in-process session ended with an error");
        }
    });
    let client = handler
        .serve(client_io)
        .await
        .map_err(|e| anyhow::anyhow!("in-process MCP session failed to start: {e}"))?;
    Ok(Session { client, serving })
}

impl<H: ClientHandler> Session<H> {
    /// Ends the session and lets the server side finish (bounded).
    pub async fn close(self) {
        let _ = self.client.cancel().await;
        let _ = tokio::time::timeout(CLOSE_GRACE, self.serving).await;
    }
}

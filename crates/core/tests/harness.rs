//! A server as core serves it, over an in-process socket pair.

use std::os::unix::net::UnixStream;

use ffmcp_core::transport::stdio::{ProtocolOut, StdioOptions, StdioTransport};
use rmcp::ServiceExt;

/// Serves `value` wrapped by core (governor, budgets, panic containment)
/// over the stdio transport on one end of a socket pair, in a task of its
/// own; returns the other end, for the client, and the task.
pub fn serve_wrapped<S: ffmcp_core::Tools + Send + Sync + 'static>(
    context: &ffmcp_core::Context,
    name: &'static str,
    value: S,
) -> (tokio::net::UnixStream, tokio::task::JoinHandle<()>) {
    let (server_end, client_end) = UnixStream::pair().expect("socket pair");
    let server_write = server_end.try_clone().expect("clone socket");
    let transport = StdioTransport::new(
        server_end,
        ProtocolOut::new(server_write),
        StdioOptions::default(),
    );
    let server = ffmcp_core::Server::wrap(context, name, value, false);
    let serving = tokio::spawn(async move {
        let running = server.serve(transport).await.expect("server handshake");
        running.waiting().await.expect("server loop");
    });
    client_end.set_nonblocking(true).expect("nonblocking");
    let client_end = tokio::net::UnixStream::from_std(client_end).expect("tokio socket");
    (client_end, serving)
}

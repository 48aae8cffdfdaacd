//! Transports: hardened stdio ([`stdio`]) and streamable HTTP ([`http`]).
//!
//! Servers know nothing about transports; the binary picks one and hands it
//! a [`crate::ServerSpec`].

mod framing;
pub mod http;
pub mod stdio;

use rmcp::{ServerHandler, ServiceExt, service::ServerInitializeError};
use tokio_util::sync::CancellationToken;

/// Why serving stopped abnormally. Clean ends (EOF, SIGINT, SIGTERM) are `Ok`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The client's initialize handshake failed.
    #[error("MCP session failed to start: {0}")]
    Initialize(String),
    /// The transport's options are unusable (e.g. a public bind without a token).
    #[error("{0}")]
    Config(String),
    /// Binding, accepting, reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `server` over the process's stdin/stdout with [`stdio::StdioTransport`].
///
/// Returns `Ok(())` when the client closes stdin or on SIGINT/SIGTERM.
pub async fn serve_stdio<S: ServerHandler>(
    server: S,
    options: stdio::StdioOptions,
) -> Result<(), ServeError> {
    let out = stdio::protect_stdout();
    let transport = stdio::StdioTransport::stdio(out, options);
    let shutdown = CancellationToken::new();
    // One signal listener for the whole session: a signal that lands between
    // the handshake and the service loop must not be lost.
    let signal = shutdown_signal();
    tokio::pin!(signal);
    let running = tokio::select! {
        started = server.serve_with_ct(transport, shutdown.clone()) => match started {
            Ok(running) => running,
            // The client went away before (or during) the handshake: a clean end.
            Err(ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
            Err(err) => return Err(ServeError::Initialize(err.to_string())),
        },
        () = &mut signal => return Ok(()),
    };
    tokio::select! {
        ended = running.waiting() => {
            if let Err(err) = ended {
                tracing::debug!(%err, "service loop ended with an error");
            }
        }
        () = &mut signal => {
            tracing::info!("signal received; stopping");
            shutdown.cancel();
        }
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere).
///
/// The handlers are installed when this function is called, not when the
/// future is first polled, so a signal that arrives at any point after the
/// call is seen (call it before answering anything).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let handlers = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        async move {
            let (Ok(mut term), Ok(mut int)) = handlers else {
                tracing::warn!("could not install signal handlers");
                return std::future::pending().await;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async move {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

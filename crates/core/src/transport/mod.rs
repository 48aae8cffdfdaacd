//! Transports: hardened stdio ([`stdio`]) and streamable HTTP ([`http`]).
//!
//! Servers know nothing about transports; the binary picks one and hands it
//! a [`crate::ServerSpec`].

pub mod http;
pub mod stdio;

use rmcp::{ServerHandler, ServiceExt};
use tokio_util::sync::CancellationToken;

/// Why serving stopped abnormally. Clean ends (EOF, SIGINT, SIGTERM) are `Ok`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("MCP session failed to start: {0}")]
    Initialize(String),
    #[error("{0}")]
    Config(String),
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
    let running = tokio::select! {
        started = server.serve_with_ct(transport, shutdown.clone()) => {
            started.map_err(|err| ServeError::Initialize(err.to_string()))?
        }
        () = shutdown_signal() => return Ok(()),
    };
    tokio::select! {
        ended = running.waiting() => {
            if let Err(err) = ended {
                tracing::debug!(%err, "service loop ended with an error");
            }
        }
        () = shutdown_signal() => {
            tracing::info!("signal received; stopping");
            shutdown.cancel();
        }
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("could not install signal handlers");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

//! Logging: `tracing` to stderr only, plain text, level from `FF_LOG`.
//!
//! stdout is the protocol channel in stdio mode, so no log line may ever go
//! there; this is the only place a subscriber is installed.

use tracing_subscriber::EnvFilter;

/// Environment variable holding the log filter (e.g. `info`, `ffmcp=debug`).
pub const LOG_ENV: &str = "FF_LOG";

/// Installs the global subscriber (stderr, no ANSI colours). Default level:
/// `warn`. Safe to call more than once; later calls do nothing.
pub fn init() {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

//! ffmcp-competitive-intel: watch competitors' feeds and pages on a
//! schedule, detect new and edited items and page changes, diff them.
//!
//! Owns: the `competitive-intel` MCP server and its `ci_` tables.
//! Layout: [`feed`] (RSS/Atom/JSON Feed parsing, item identity,
//! autodiscovery) and [`page`] (selected, de-noised page text) are pure;
//! [`diff`] compares snapshots; [`db`] is every SQL statement; [`engine`]
//! fetches through `core::fetch`, records through `core::store` and runs
//! the scheduler; [`export`] renders changes as JSON, CSV or Atom; `server`
//! is the only module that knows MCP. Deliberately absent: a second HTTP
//! client, a second database, any model call outside `core::model`.

mod cli;
pub mod db;
pub mod diff;
pub mod engine;
pub mod export;
pub mod feed;
pub mod page;
mod probe;
mod resources;
mod server;

pub use engine::{CheckReport, Engine, IntelError, Settings};
pub use server::CompetitiveIntel;

/// The registry entry for the binary. The background task (the scheduler)
/// runs whenever the process serves this server, and alone under
/// `--daemon`; `ffmcp competitive-intel export …` prints changes.
pub fn spec() -> ffmcp_core::ServerSpec {
    ffmcp_core::ServerSpec::new(
        "competitive-intel",
        "Watch competitors' feeds (RSS, Atom, JSON Feed) and pages; flag new items and page changes, with diffs",
        CompetitiveIntel::new,
    )
    .with_background(server::run_background)
    .with_commands(cli::run)
}

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

/// The title clients show for this server (its spec and `serverInfo`).
pub const TITLE: &str = "Competitive intelligence";

/// The registry entry for the binary. The background task (the scheduler)
/// runs whenever the process serves this server, and alone under
/// `--daemon`; `ffmcp competitive-intel export …` prints changes.
pub fn spec() -> ffmcp_core::ServerSpec {
    ffmcp_core::ServerSpec::new(
        "competitive-intel",
        "Watch competitors' feeds (RSS, Atom, JSON Feed) and pages; flag new items and page changes, with diffs",
        |context| {
            let shared = server::Shared::new(context.config.clone(), context.models.clone());
            let (scheduler, commands) = (shared.clone(), shared.clone());
            Ok(ffmcp_core::Server::new(context, "competitive-intel", move || {
                CompetitiveIntel::with_shared(shared.clone())
            })
            .with_background(move || {
                let shared = scheduler.clone();
                async move { shared.run_background().await }
            })
            .with_commands(move |args| {
                let shared = commands.clone();
                async move { cli::run(&shared, args).await }
            }))
        },
    )
    .title(TITLE)
    .uses_models()
    .settings(SETTINGS)
    .schema(&db::SCHEMA)
}

/// What competitive-intel reads besides core's settings.
pub const SETTINGS: &[ffmcp_core::config::Setting] = &[
    ffmcp_core::config::Setting::new("FF_INTEL_CONCURRENCY", "16", "intel: checks in flight"),
    ffmcp_core::config::Setting::new(
        "FF_INTEL_PER_HOST",
        "2",
        "intel: fetches in flight per host",
    ),
    ffmcp_core::config::Setting::new(
        "FF_INTEL_HOST_SPACING_MS",
        "500",
        "intel: pause between requests to one host",
    ),
    ffmcp_core::config::Setting::new(
        "FF_INTEL_MIN_INTERVAL_SECS",
        "60",
        "intel: shortest check interval",
    ),
    ffmcp_core::config::Setting::new(
        "FF_INTEL_KEEP_SNAPSHOTS",
        "50",
        "intel: page snapshots kept per watch",
    ),
    ffmcp_core::config::Setting::new(
        "FF_INTEL_KEEP_CHANGES",
        "1000",
        "intel: changes kept per watch",
    ),
    ffmcp_core::config::Setting::new("FF_INTEL_KEEP_DAYS", "180", "intel: days changes are kept"),
    ffmcp_core::config::Setting::new(
        "FF_INTEL_MAX_BODY_BYTES",
        "10485760",
        "intel: largest fetched body",
    ),
    ffmcp_core::config::Setting::new("FF_INTEL_MAX_WATCHES", "1000", "intel: watches at most"),
    ffmcp_core::config::Setting::new(
        "FF_INTEL_MAX_SNAPSHOT_BYTES",
        "1048576",
        "intel: largest stored snapshot",
    ),
    ffmcp_core::config::Setting::new("FF_INTEL_ROBOTS", "true", "intel: obey robots.txt"),
    ffmcp_core::config::Setting::new(
        "FF_INTEL_LEASE_SECS",
        "300",
        "intel: a claimed check is taken over after this if its process died",
    ),
];

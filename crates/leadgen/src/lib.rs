//! ffmcp-leadgen: lead records from pages and lists, cleaned, merged,
//! checked, scored, and classified in durable batches.
//!
//! Owns: the `leadgen` MCP server. Pure domain modules — [`extract`]
//! (pages and text to leads), [`normalize`], [`dedupe`], [`score`] —
//! take and return plain types; [`enrich`] and [`dns`] do the network
//! checks (MX over UDP, website reachability through `core::fetch`);
//! [`jobs`] keeps classification batches in `core::store` (SQLite or
//! PostgreSQL; processes on one database share a job's leads through
//! leases) and calls models through `core::model`; [`export`]
//! writes CSV/JSON; `server` is the only module that knows MCP.
//!
//! Lead data is personal data: no module logs a lead's fields; job logs
//! carry ids and counts only; `job_delete` purges a job's rows (on SQLite
//! with `secure_delete` on, checkpointing the WAL). Deliberately absent: SMTP
//! probing of mailboxes, crawling beyond the page given.

pub mod dedupe;
pub mod dns;
pub mod enrich;
pub mod export;
pub mod extract;
pub mod jobs;
pub mod lead;
pub mod normalize;
pub mod score;
mod server;

pub use lead::{Lead, LeadKind, Seniority};
pub use server::Leadgen;

/// The title clients show for this server (its spec and `serverInfo`).
pub const TITLE: &str = "Lead generation";

/// The registry entry for the binary.
pub fn spec() -> ffmcp_core::ServerSpec {
    ffmcp_core::ServerSpec::new(
        "leadgen",
        "Leads from pages and lists: extract, normalise, dedupe, enrich, score, and classify in resumable batches",
        |context| {
            let shared = server::Shared::new(context.config.clone(), context.models.clone());
            // Built once: a session (or a stateless request) clones it
            // instead of generating every tool schema again.
            let template = Leadgen::with_shared(shared);
            Ok(ffmcp_core::Server::new(context, "leadgen", move || template.for_session()))
        },
    )
    .title(TITLE)
    .uses_models()
    .settings(SETTINGS)
    .schema(&jobs::SCHEMA)
}

/// What leadgen reads besides core's settings.
pub const SETTINGS: &[ffmcp_core::config::Setting] = &[
    ffmcp_core::config::Setting::new(
        "FF_LEADGEN_CONCURRENCY",
        "8",
        "leadgen: model calls in flight per job (1-64)",
    ),
    ffmcp_core::config::Setting::new(
        "FF_LEADGEN_RETRY_MS",
        "1000",
        "leadgen: first pause when every model route failed",
    ),
    ffmcp_core::config::Setting::new(
        "FF_LEADGEN_RETRY_MAX_MS",
        "5000",
        "leadgen: longest pause between probes of a failing provider",
    ),
    ffmcp_core::config::Setting::new(
        "FF_LEADGEN_LEASE_SECS",
        "300",
        "leadgen: a claimed lead is taken over after this if its process died",
    ),
    ffmcp_core::config::Setting::new(
        "FF_LEADGEN_DNS",
        "system resolver",
        "leadgen: DNS server for MX checks (host:port)",
    ),
];

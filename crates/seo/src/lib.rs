//! ffmcp-seo: page and site SEO audits with scored, fixable findings.
//!
//! Owns: the `seo` MCP server. Layout: [`page`] extracts the facts of one
//! HTML document; [`audit`] turns facts plus the HTTP response into
//! [`finding::Finding`]s and a score ([`finding::CHECKS`] lists every check
//! and its weight); [`structured`] checks schema.org data; [`robots`] and
//! [`sitemap`] read those files; [`crawl`] walks a site through
//! `core::fetch` and [`site`] finds site-level problems in the result;
//! [`report`] renders Markdown and CSV. `server` is the only module that
//! knows MCP; [`crawls`] keeps crawls in the store (`core::store`) for
//! resumption and later reading, bounded by count and age. Deliberately
//! absent: any HTTP client of its own (all fetching is
//! `ffmcp_core::fetch::Fetcher`), JavaScript rendering, and crawl state held
//! in memory beyond the call that runs it.

pub mod audit;
pub mod crawl;
pub mod crawls;
pub mod finding;
pub mod page;
pub mod report;
pub mod robots;
mod server;
pub mod site;
pub mod sitemap;
pub mod structured;
pub mod text;

pub use finding::{CHECKS, Finding, Severity};
pub use server::{Seo, SiteReport};

/// The title clients show for this server (its spec and `serverInfo`).
pub const TITLE: &str = "SEO audits";

/// The registry entry for the binary.
pub fn spec() -> ffmcp_core::ServerSpec {
    ffmcp_core::ServerSpec::new(
        "seo",
        "SEO audits: pages and bounded site crawls with scored, fixable findings; robots.txt, sitemaps, structured data",
        |context| {
            let shared = server::Shared::new(context.config.clone(), context.models.clone());
            // Built once: a session (or a stateless request) clones it
            // instead of generating every tool schema again.
            let template = Seo::with_shared(shared);
            Ok(ffmcp_core::Server::new(context, "seo", move || template.for_session()))
        },
    )
    .title(TITLE)
    .uses_models()
    .settings(SETTINGS)
    .schema(&crawls::SCHEMA)
}

/// What seo reads besides core's settings.
pub const SETTINGS: &[ffmcp_core::config::Setting] = &[
    ffmcp_core::config::Setting::new(
        server::CONCURRENCY_ENV,
        "8",
        "seo: fetches in flight per host (1-64)",
    ),
    ffmcp_core::config::Setting::new("FF_SEO_MAX_CRAWLS", "20", "seo: crawls kept for resume"),
    ffmcp_core::config::Setting::new(
        "FF_SEO_CRAWL_MAX_AGE_DAYS",
        "7",
        "seo: days a crawl is kept",
    ),
];

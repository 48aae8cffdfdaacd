//! ffmcp-seo: page and site SEO audits with scored, fixable findings.
//!
//! Owns: the `seo` MCP server. Layout: [`page`] extracts the facts of one
//! HTML document; [`audit`] turns facts plus the HTTP response into
//! [`finding::Finding`]s and a score ([`finding::CHECKS`] lists every check
//! and its weight); [`structured`] checks schema.org data; [`robots`] and
//! [`sitemap`] read those files; [`crawl`] walks a site through
//! `core::fetch` and [`site`] finds site-level problems in the result;
//! [`report`] renders Markdown and CSV. `server` is the only module that
//! knows MCP. Deliberately absent: any HTTP client of its own (all fetching
//! is `ffmcp_core::fetch::Fetcher`), JavaScript rendering, and state on
//! disk (crawls are kept in memory for resumption).

pub mod audit;
pub mod crawl;
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

/// The registry entry for the binary.
pub fn spec() -> ffmcp_core::ServerSpec {
    ffmcp_core::ServerSpec::new(
        "seo",
        "SEO audits: pages and bounded site crawls with scored, fixable findings; robots.txt, sitemaps, structured data",
        Seo::new,
    )
}

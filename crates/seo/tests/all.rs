//! ffmcp-seo integration tests against the in-process fixture site.

mod crawls;
mod docs;
mod fixture;
mod pages;
mod site;
mod worst_case;

use ffmcp_core::fetch::{FetchLimits, FetchPolicy, Fetcher};

/// A fetcher that may reach the fixture on 127.0.0.1 (and nothing else private).
pub fn fetcher() -> Fetcher {
    Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow("127.0.0.1")
                .expect("valid allow entry"),
        )
        .limits(FetchLimits {
            per_host_concurrency: 8,
            ..FetchLimits::default()
        })
        .build()
        .expect("fetcher")
}

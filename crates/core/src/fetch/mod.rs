//! `core::fetch`: the only way ffmcp code fetches a URL (SSRF-safe).
//!
//! [`policy`] decides which addresses may be reached; [`client`] is the
//! HTTP client built on it: own DNS resolution with connections pinned to
//! checked addresses, redirects re-checked hop by hop, body caps counted
//! after decoding (ours, so the `Content-Encoding` sent stays visible), timeouts, per-host limits and optional robots.txt.

pub mod client;
mod decode;
pub mod policy;
pub mod robots;

pub use client::{
    FetchError, FetchLimits, FetchRequest, Fetched, Fetcher, FetcherBuilder, Lookup, SystemLookup,
    USER_AGENT, robots_allows,
};
pub use policy::{FetchPolicy, non_public_reason};

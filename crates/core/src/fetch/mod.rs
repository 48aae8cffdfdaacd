//! `core::fetch`: the only way ffmcp code fetches a URL (SSRF-safe).
//!
//! [`policy`] decides which addresses may be reached. The HTTP client built
//! on it (own DNS resolution, connections pinned to checked addresses,
//! redirects re-checked, streamed body caps) is not written yet; until it
//! is, no ffmcp server fetches URLs.

pub mod policy;

pub use policy::{FetchPolicy, non_public_reason};

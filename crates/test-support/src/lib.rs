//! Test support shared by every crate of the workspace (dev-only, never
//! published): one place for what tests used to copy.
//!
//! * [`http`]: the fixture HTTP server (axum) sites are served from, with a
//!   request log, a connection count and hostile answers.
//! * [`raw`]: a raw TCP listener for tests whose point is below HTTP.
//! * [`imitation`]: the in-process imitation of the model providers.
//! * [`client`]: spawning a server binary and talking to it over stdio or
//!   streamable HTTP with rmcp's client.
//! * [`snapshot`]: redactions that make insta snapshots machine-independent.
//! * [`worst_case`]: filling a limit and timing a parser against a budget.
//!
//! How to review and accept a snapshot change: see this crate's README.

pub mod client;
pub mod http;
pub mod imitation;
pub mod postgres;
pub mod raw;
pub mod snapshot;
pub mod worst_case;

//! ffmcp-core: what every ffmcp server shares.
//!
//! Owns: the transports (hardened stdio, streamable HTTP with its guards), the
//! server registry type the binary serves from, the tool-result conventions
//! (structured output + short text, typed errors, panic containment) and
//! logging. Deliberately absent: anything about one server's domain, and
//! anything about MCP beyond the edge (domain code never sees rmcp types).
#![warn(missing_docs)]

pub mod config;
pub mod confirm;
pub mod exec;
pub mod fetch;
pub mod freshness;
pub mod html;
pub mod limits;
pub mod logging;
pub mod math;
pub mod model;
pub mod output;
pub mod progress;
pub mod prompts;
pub mod retry;
pub mod roots;
pub mod sampling;
pub mod schema;
pub mod server;
pub mod store;
pub mod subscriptions;
pub mod tasks;
pub mod tool;
pub mod transport;
pub mod work;

pub use config::Config;
pub use server::{Context, Server, ServerSpec, Servers, StartError, Tools};
pub use tool::{Json, Render, ToolError};

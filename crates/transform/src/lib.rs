//! ffmcp-transform: text and data transforms.
//!
//! Owns: the `transform` MCP server, its offline tools and its model-backed
//! tools (summarize, translate, rewrite, extract, classify, models) with the
//! `ffmcp://stats` resource. Domain modules (`convert`, `html`, `markdown`,
//! `stats`, `llm`) take and return plain Rust types; only `server` knows MCP.
//! Model calls go through `ffmcp_core::model` and nowhere else.

pub mod convert;
pub mod html;
pub mod llm;
pub mod markdown;
mod server;
pub mod stats;

pub use ffmcp_core::server::STATS_URI;
pub use server::{Models, Transform};

/// The title clients show for this server (its spec and `serverInfo`).
pub const TITLE: &str = "Text and data transforms";

/// The registry entry for the binary. Every session (stdio, or each HTTP
/// session) uses the process's one model router, so breaker state and
/// statistics are shared with the other servers.
pub fn spec() -> ffmcp_core::ServerSpec {
    ffmcp_core::ServerSpec::new(
        "transform",
        "Text and data transforms: JSON/YAML/TOML/CSV conversion, HTML<->Markdown, text statistics; \
         with a model: summarize, translate, rewrite, extract, classify",
        |context| {
            // Built once: a session (or a stateless request) clones it
            // instead of generating every tool schema again.
            let template = Transform::with_models(Models::new(context.models.clone()));
            Ok(ffmcp_core::Server::new(context, "transform", move || template.clone()))
        },
    )
    .title(TITLE)
    .uses_models()
}

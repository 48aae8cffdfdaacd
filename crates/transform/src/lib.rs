//! ffmcp-transform: text and data transforms.
//!
//! Owns: the `transform` MCP server and its offline tools. Domain modules
//! (`convert`, `html`, `markdown`, `stats`) take and return plain Rust types; only `server` knows MCP.

pub mod convert;
pub mod html;
pub mod markdown;
mod server;
pub mod stats;

pub use server::Transform;

/// The registry entry for the binary.
pub fn spec() -> ffmcp_core::ServerSpec {
    ffmcp_core::ServerSpec::new(
        "transform",
        "Text and data transforms: JSON/YAML/TOML/CSV conversion, HTML<->Markdown, text statistics",
        Transform::new,
    )
}

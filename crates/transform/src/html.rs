//! HTML to Markdown: the one engine every server uses, `ffmcp_core::html`
//! (htmd, with non-content dropped, links made absolute and deep nesting
//! flattened). Re-exported here for the `html_to_markdown` tool.

pub use ffmcp_core::html::{Markdown, html_to_markdown};

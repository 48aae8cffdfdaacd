//! ffmcp-coderag: code search and retrieval for agents over local
//! repositories, offline.
//!
//! Owns: the `coderag` MCP server. Layout: [`walk`] decides which files of
//! a repository are indexed (ignore files, secrets, vendored, generated,
//! binary, oversized); [`lang`] detects the language; [`chunk`] parses with
//! the compiled-in tree-sitter grammars into code units with scope,
//! signature, doc comment, span and identifier occurrences; [`tokens`] is
//! the code-aware tokenizer; [`index`] keeps one tantivy index per
//! repository under the data directory (incremental by content hash,
//! atomic commits, versioned format); [`query`] answers search, symbol,
//! reference, outline and relation questions, BM25 or hybrid; [`dense`]
//! keeps the vectors of definition chunks (made through the model layer's
//! embedding route, `FF_EMBED_MODEL`, when one is configured) and finds the
//! nearest; [`watch`] re-indexes what changes while the server runs;
//! [`mask`] hides credential-like tokens in what leaves; `server` is the
//! only module that knows MCP.
//!
//! Deliberately absent: executing or building anything from the
//! repository; an approximate-nearest-neighbour index (dense search is
//! brute force, see [`dense`]); any embedding made other than through
//! `ffmcp_core::model`.

pub mod chunk;
pub mod dense;
pub mod index;
pub mod lang;
pub mod mask;
pub mod query;
mod server;
pub mod tokens;
pub mod walk;
pub mod watch;

use std::sync::Arc;

pub use server::{CodeRag, DEFAULT_MAX_FILE_BYTES, INDEX_DIR_ENV, MAX_FILE_BYTES_ENV, WATCH_ENV};

/// The title clients show for this server (its spec and `serverInfo`).
pub const TITLE: &str = "Code search";

/// The registry entry for the binary.
pub fn spec() -> ffmcp_core::ServerSpec {
    ffmcp_core::ServerSpec::new(
        "coderag",
        "Code search over local repositories: symbol-level chunks (tree-sitter), BM25 over code-aware tokens, symbols, references, outlines",
        |context| {
            let shared = server::Shared::new(&context.config, Arc::clone(&context.models));
            Ok(ffmcp_core::Server::new(context, "coderag", move || {
                CodeRag::with_shared(shared.clone())
            }))
        },
    )
    .title(TITLE)
    .settings(SETTINGS)
}

/// What coderag reads besides core's settings.
pub const SETTINGS: &[ffmcp_core::config::Setting] = &[
    ffmcp_core::config::Setting::new(
        INDEX_DIR_ENV,
        "",
        "coderag: where indexes are kept (default: coderag/ next to the database)",
    ),
    ffmcp_core::config::Setting::new(
        MAX_FILE_BYTES_ENV,
        "1048576",
        "coderag: largest file indexed",
    ),
    ffmcp_core::config::Setting::new(
        WATCH_ENV,
        "1",
        "coderag: watch indexed repositories and re-index changes (0 turns it off)",
    ),
];

//! ffmcp-docparse: documents to clean Markdown/text, metadata, tables and
//! chunks.
//!
//! Owns: the `docparse` MCP server. Layout: [`detect`] picks a format from
//! magic bytes first and the file name second; each module under
//! [`formats`] turns bytes into the shared [`model::Document`]; [`render`]
//! and [`chunk`] present it; `server` is the only module that knows MCP.
//! Parsers are synchronous and CPU-bound (the server runs them on the
//! blocking pool), check [`ParseOptions::checkpoint`] between pages or
//! sheets for cancellation and progress, and enforce [`Limits`] so hostile
//! files end in a clear [`DocError`], never a panic, a hang or unbounded
//! memory.

pub mod backends;
pub mod cache;
pub mod chunk;
pub mod detect;
pub mod formats;
pub mod input;
pub mod model;
pub mod render;
mod server;
#[doc(hidden)]
pub mod testdocs;

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

pub use detect::Format;
pub use model::Document;
pub use server::DocParse;

/// The title clients show for this server (its spec and `serverInfo`).
pub const TITLE: &str = "Document parser";

/// The registry entry for the binary.
pub fn spec() -> ffmcp_core::ServerSpec {
    ffmcp_core::ServerSpec::new(
        "docparse",
        "Documents (PDF, DOCX, XLSX, PPTX, EPUB, HTML, Markdown, CSV, text) to clean Markdown, metadata, tables and chunks",
        |context| {
            let shared = server::Shared::new(&context.config, context.models.clone());
            Ok(ffmcp_core::Server::new(context, "docparse", move || {
                DocParse::with_shared(shared.clone())
            }))
        },
    )
    .title(TITLE)
    .uses_models()
    .settings(SETTINGS)
}

/// What docparse reads besides core's settings.
pub const SETTINGS: &[ffmcp_core::config::Setting] = &[
    ffmcp_core::config::Setting::new(
        server::MAX_BYTES_ENV,
        "104857600",
        "docparse: largest input file",
    ),
    ffmcp_core::config::Setting::new(
        MAX_EXPANDED_BYTES_ENV,
        "268435456",
        "docparse: one call's decompression and expansion budget",
    ),
    ffmcp_core::config::Setting::new(
        cache::CACHE_BYTES_ENV,
        "67108864",
        "docparse: renderings kept per session for paging",
    ),
];

/// Environment variable overriding [`Limits::max_expanded_bytes`].
pub const MAX_EXPANDED_BYTES_ENV: &str = "FF_DOCPARSE_MAX_EXPANDED_BYTES";
/// Default of [`Limits::max_expanded_bytes`]: 256 MiB keeps a call's peak
/// memory under 512 MiB for any input within the input limit (the input,
/// its base64 frame and the rendering come on top).
pub const DEFAULT_MAX_EXPANDED_BYTES: u64 = 256 << 20;

/// Limits every parser enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input file.
    pub max_input_bytes: u64,
    /// Pages (PDF), slides, sheets or chapters processed.
    pub max_pages: u32,
    /// One call's memory budget: bytes decompressed (ZIP members, PDF
    /// stream filters, fonts) plus the estimated size of what parsing
    /// expands them into (HTML trees, shared strings, cells, blocks),
    /// summed over every part of the document. Setting:
    /// [`MAX_EXPANDED_BYTES_ENV`].
    pub max_expanded_bytes: u64,
    /// Entries in a ZIP container.
    pub max_zip_entries: usize,
    /// Cells read from all sheets of a workbook.
    pub max_cells: u64,
    /// Nesting depth of XML/HTML elements.
    pub max_depth: usize,
    /// Characters of extracted text.
    pub max_output_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 100 << 20,
            max_pages: 5000,
            max_expanded_bytes: DEFAULT_MAX_EXPANDED_BYTES,
            max_zip_entries: 20_000,
            max_cells: 2_000_000,
            max_depth: 512,
            max_output_chars: 50_000_000,
        }
    }
}

/// A 1-based, inclusive page range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRange {
    pub first: u32,
    pub last: u32,
}

impl PageRange {
    /// Whether 1-based `page` is inside.
    pub fn contains(&self, page: u32) -> bool {
        (self.first..=self.last).contains(&page)
    }
}

/// Progress callback: (done, total) units (pages, sheets, slides).
pub type ProgressFn = Arc<dyn Fn(u32, u32) + Send + Sync>;

/// How to parse.
#[derive(Clone, Default)]
pub struct ParseOptions {
    /// Only these pages (PDF) or slides (PPTX); `None` for all.
    pub pages: Option<PageRange>,
    pub limits: Limits,
    /// Set to stop parsing at the next checkpoint.
    pub cancel: Arc<AtomicBool>,
    pub progress: Option<ProgressFn>,
    /// Where the document came from, to resolve relative links (HTML).
    pub base_url: Option<url::Url>,
    /// Bytes charged against [`Limits::max_expanded_bytes`] so far by this
    /// call (shared by every part and every parser the call runs; clones
    /// share it, and [`formats::parse`] starts each call at zero).
    pub expanded: Arc<AtomicU64>,
}

impl std::fmt::Debug for ParseOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParseOptions")
            .field("pages", &self.pages)
            .field("limits", &self.limits)
            .field("expanded", &self.expanded())
            .finish_non_exhaustive()
    }
}

impl ParseOptions {
    /// Call between units of work: reports progress and returns
    /// [`DocError::Cancelled`] once cancellation was requested.
    pub fn checkpoint(&self, done: u32, total: u32) -> Result<(), DocError> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(DocError::Cancelled);
        }
        if let Some(progress) = &self.progress {
            progress(done, total);
        }
        Ok(())
    }

    /// Charges `bytes` of decompressed or expanded data to this call's
    /// memory budget *before* they are produced or kept; once the total
    /// passes [`Limits::max_expanded_bytes`] the call fails with an error
    /// naming the budget, `what` was being expanded and the setting.
    pub fn charge(&self, bytes: u64, what: impl FnOnce() -> String) -> Result<(), DocError> {
        let limit = self.limits.max_expanded_bytes;
        let before = self.expanded.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > limit {
            return Err(budget_error(limit, &what()));
        }
        Ok(())
    }

    /// Bytes charged so far.
    pub fn expanded(&self) -> u64 {
        self.expanded.load(Ordering::Relaxed)
    }

    /// Bytes that may still be charged.
    pub fn remaining(&self) -> u64 {
        self.limits
            .max_expanded_bytes
            .saturating_sub(self.expanded())
    }
}

/// The error of a spent memory budget.
pub fn budget_error(limit: u64, what: &str) -> DocError {
    DocError::Limit(format!(
        "the document expands past the memory budget of {limit} bytes ({what}); \
         set {MAX_EXPANDED_BYTES_ENV} to change it"
    ))
}

/// Why a document could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("unsupported format: {0}")]
    Unsupported(String),
    #[error("malformed {format}: {reason}")]
    Malformed {
        format: &'static str,
        reason: String,
    },
    #[error("{0}")]
    Encrypted(String),
    #[error("limit exceeded: {0}")]
    Limit(String),
    #[error("cancelled")]
    Cancelled,
}

impl DocError {
    /// A malformed-input error for `format`.
    pub fn malformed(format: &'static str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            format,
            reason: reason.into(),
        }
    }
}

/// Detects the format of `bytes` (named `name`, if known) and parses it.
pub fn parse(
    bytes: &[u8],
    name: Option<&str>,
    options: &ParseOptions,
) -> Result<Document, DocError> {
    if bytes.len() as u64 > options.limits.max_input_bytes {
        return Err(DocError::Limit(format!(
            "the document is {} bytes; the limit is {}",
            bytes.len(),
            options.limits.max_input_bytes
        )));
    }
    let format = detect::detect(bytes, name);
    formats::parse(format, bytes, options)
}

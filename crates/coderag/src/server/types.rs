//! Arguments and results of the coderag tools: their doc comments are the
//! schemas an agent reads.

use std::collections::BTreeMap;

use ffmcp_core::Render;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Arguments of `index`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexArgs {
    /// The repository directory: absolute, or relative to the first root.
    /// Must lie under the allowed roots (FF_ROOTS, or the roots your client announces).
    pub path: String,
}

/// Result of `index`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IndexResult {
    /// The repository, canonical.
    pub repo: String,
    /// Files the walk found, skipped ones included.
    pub files_seen: usize,
    /// Files chunked now because they are new or their content changed.
    pub indexed: usize,
    /// Files whose content was unchanged since the last run.
    pub unchanged: usize,
    /// Files dropped from the index (deleted, ignored or now skipped).
    pub removed: usize,
    /// Files never indexed, by reason (secret, vendored, generated, binary, too_large, unreadable).
    pub skipped: BTreeMap<String, usize>,
    /// Chunks written now.
    pub chunks: usize,
    /// Bytes read and chunked now.
    pub bytes: u64,
    /// Definition chunks embedded now (FF_EMBED_MODEL set); unchanged chunks keep their vectors.
    pub embedded: usize,
    /// Vectors in the index after the run (0 without an embedding route).
    pub vectors: usize,
    /// Why no vectors were stored although FF_EMBED_MODEL is set (the index is
    /// searchable by BM25; run `index` again to retry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_error: Option<String>,
    pub elapsed_ms: u64,
    /// Files in the index after the run.
    pub files_total: usize,
}

impl Render for IndexResult {
    fn render(&self) -> String {
        let mut text = format!(
            "Indexed {}: {} files chunked ({} chunks), {} unchanged, {} removed, {} skipped; {} files in the index ({} ms)",
            self.repo,
            self.indexed,
            self.chunks,
            self.unchanged,
            self.removed,
            self.skipped.values().sum::<usize>(),
            self.files_total,
            self.elapsed_ms
        );
        if self.vectors > 0 {
            text.push_str(&format!(
                "; {} chunks embedded, {} vectors",
                self.embedded, self.vectors
            ));
        }
        if let Some(error) = &self.embedding_error {
            text.push_str(&format!("; no vectors stored: {error}"));
        }
        text
    }
}

/// How `search` ranks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Hybrid when the repository has vectors from the configured embedding route, else BM25.
    #[default]
    Auto,
    /// BM25 only.
    Bm25,
    /// BM25 and dense retrieval fused by reciprocal rank; an error without FF_EMBED_MODEL or vectors.
    Hybrid,
}

/// Arguments of `search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// What to look for: words, identifiers (camelCase and snake_case are split and kept whole) or a sentence.
    pub query: String,
    /// Results at most (default 10, 1..=50).
    #[serde(default)]
    pub k: Option<usize>,
    /// Only these languages: rust, python, javascript, typescript, tsx, go, java, c, cpp, markdown, text.
    #[serde(default)]
    pub language: Option<Vec<String>>,
    /// Only files under this path prefix, relative to the repository (e.g. "src/server").
    #[serde(default)]
    pub path: Option<String>,
    /// The repository (as given to `index`); default: every indexed repository under the roots.
    #[serde(default)]
    pub repo: Option<String>,
    /// Total size of the returned code in estimated tokens (4 characters each; default 4000,
    /// 100..=100000). Results past it are left out; the last one that fits partly is cut.
    #[serde(default)]
    pub token_budget: Option<usize>,
    /// `auto` (default): hybrid when an embedding route is configured (FF_EMBED_MODEL) and the
    /// repository has vectors, else BM25; `bm25`: lexical only; `hybrid`: BM25 and dense
    /// retrieval fused by reciprocal rank, an error when that is not possible.
    #[serde(default)]
    pub mode: Option<SearchMode>,
}

/// One code unit.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CodeUnit {
    /// The repository it belongs to.
    pub repo: String,
    /// Relative to the repository.
    pub path: String,
    pub language: String,
    /// function, method, class, struct, enum, trait, impl, interface, module, type, const,
    /// macro; code (lines between definitions), section or text (prose).
    pub kind: String,
    /// Scope path and name, e.g. `Parser::parse` or `pkg.Client.get`.
    pub symbol: String,
    pub signature: String,
    /// The doc comment or docstring.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub doc: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    /// Higher is better, comparable within one call: the BM25 score, or in hybrid search the
    /// reciprocal-rank fusion score (sum of 1/(60 + rank) over the retrievers that found it).
    pub score: f32,
    /// Which retrievers found it: "bm25" (lexical), "dense" (embedding similarity).
    pub found_by: Vec<String>,
    /// The code; nested definitions of a class or impl are shown by their first line.
    /// Credential-like tokens are replaced by "[masked]".
    pub text: String,
    /// The text was cut to fit the token budget.
    pub truncated: bool,
    /// The file changed (or disappeared) since it was indexed: re-run `index`.
    pub stale: bool,
}

/// Result of `search`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchResult {
    /// How the results were ranked: "bm25" or "hybrid".
    pub mode: String,
    /// Why `auto` did not search as it could have (no vectors yet, the embedding route failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub results: Vec<CodeUnit>,
    /// Estimated tokens of the returned text.
    pub tokens: usize,
    /// Results left out to stay within the token budget.
    pub omitted: usize,
}

impl Render for SearchResult {
    fn render(&self) -> String {
        let mut text = format!("{} results ({})", self.results.len(), self.mode);
        if let Some(note) = &self.note {
            text.push_str(&format!("; {note}"));
        }
        if self.omitted > 0 {
            text.push_str(&format!(" ({} left out by the token budget)", self.omitted));
        }
        for unit in &self.results {
            text.push_str(&format!(
                "\n{}:{}-{} {} {}{} ({:.3}, {})",
                unit.path,
                unit.start_line,
                unit.end_line,
                unit.kind,
                unit.symbol,
                if unit.stale { " [stale]" } else { "" },
                unit.score,
                unit.found_by.join("+")
            ));
        }
        text
    }
}

/// Arguments of `find_symbol`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindSymbolArgs {
    /// The name of a definition (not a path): `parse`, `HttpClient`.
    pub name: String,
    /// Only exact names (case-sensitive first, then any case); default false, which falls
    /// back to similar names (typos, name parts) when nothing matches exactly.
    #[serde(default)]
    pub exact: bool,
    /// Only this kind: function, method, class, struct, enum, trait, impl, interface, module, type, const, macro.
    #[serde(default)]
    pub kind: Option<String>,
    /// Only these languages.
    #[serde(default)]
    pub language: Option<Vec<String>>,
    /// The repository; default: every indexed repository under the roots.
    #[serde(default)]
    pub repo: Option<String>,
    /// Results at most (default 20, 1..=200).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A definition.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Symbol {
    pub repo: String,
    pub path: String,
    pub language: String,
    pub kind: String,
    pub name: String,
    /// Scope path and name.
    pub symbol: String,
    pub signature: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub doc: String,
    pub start_line: u32,
    pub end_line: u32,
}

/// Result of `find_symbol`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SymbolsResult {
    pub symbols: Vec<Symbol>,
}

impl Render for SymbolsResult {
    fn render(&self) -> String {
        let mut text = format!("{} symbols", self.symbols.len());
        for s in &self.symbols {
            text.push_str(&format!(
                "\n{}:{} {} {} — {}",
                s.path, s.start_line, s.kind, s.symbol, s.signature
            ));
        }
        text
    }
}

/// Arguments of `references`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferencesArgs {
    /// The identifier, matched whole and case-sensitively (`parse` does not match `parser`).
    pub name: String,
    /// Only files under this path prefix.
    #[serde(default)]
    pub path: Option<String>,
    /// The repository; default: every indexed repository under the roots.
    #[serde(default)]
    pub repo: Option<String>,
    /// Occurrences at most (default 100, 1..=1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// One occurrence of an identifier.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Reference {
    pub repo: String,
    pub path: String,
    pub line: u32,
    /// The enclosing definition's symbol path; empty at file level.
    pub in_symbol: String,
    /// This occurrence is the definition's own name.
    pub definition: bool,
    /// The line, credential-like tokens masked; absent when the file changed since indexing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The file changed since it was indexed.
    pub stale: bool,
}

/// Result of `references`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReferencesResult {
    pub name: String,
    pub references: Vec<Reference>,
    /// More occurrences exist than `limit`.
    pub more: bool,
}

impl Render for ReferencesResult {
    fn render(&self) -> String {
        let mut text = format!("{} occurrences of {}", self.references.len(), self.name);
        for r in &self.references {
            text.push_str(&format!(
                "\n{}:{}{} {}",
                r.path,
                r.line,
                if r.definition { " (definition)" } else { "" },
                r.text.as_deref().unwrap_or("").trim()
            ));
        }
        text
    }
}

/// Arguments of `outline`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutlineArgs {
    /// A file, relative to its repository (as search results give it) or absolute.
    pub path: String,
    /// The repository; default: the indexed repository under the roots that holds the file.
    #[serde(default)]
    pub repo: Option<String>,
}

/// Result of `outline`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OutlineResult {
    pub repo: String,
    pub path: String,
    pub language: String,
    /// Definitions by line; containers come before what they contain.
    pub symbols: Vec<Symbol>,
    /// The file changed since it was indexed.
    pub stale: bool,
}

impl Render for OutlineResult {
    fn render(&self) -> String {
        let mut text = format!(
            "{} ({}): {} symbols",
            self.path,
            self.language,
            self.symbols.len()
        );
        for s in &self.symbols {
            text.push_str(&format!(
                "\n{}-{} {} {}",
                s.start_line, s.end_line, s.kind, s.symbol
            ));
        }
        text
    }
}

/// Arguments of `read`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadArgs {
    /// A file: relative to its repository (as search results give it), or absolute. Only
    /// files under the allowed roots are read; secret-bearing files never are.
    pub path: String,
    /// First line, 1-based (default 1).
    #[serde(default)]
    pub start_line: Option<u32>,
    /// Last line, inclusive (default start_line + 399; at most 2000 lines per call).
    #[serde(default)]
    pub end_line: Option<u32>,
    /// The repository a relative path is in; default: the indexed repositories under the roots, then the first root.
    #[serde(default)]
    pub repo: Option<String>,
}

/// Result of `read`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReadResult {
    /// The file, canonical.
    pub path: String,
    pub language: String,
    pub start_line: u32,
    pub end_line: u32,
    pub total_lines: u32,
    /// The lines, credential-like tokens replaced by "[masked]".
    pub text: String,
    /// Tokens masked.
    pub masked: usize,
}

impl Render for ReadResult {
    fn render(&self) -> String {
        format!(
            "{} lines {}-{} of {}:\n{}",
            self.path, self.start_line, self.end_line, self.total_lines, self.text
        )
    }
}

/// Arguments of `status`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusArgs {
    /// The repository; default: every indexed repository under the roots.
    #[serde(default)]
    pub repo: Option<String>,
}

/// One repository's index.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RepoStatus {
    pub repo: String,
    pub files: usize,
    pub chunks: u64,
    /// Files per language.
    pub languages: BTreeMap<String, usize>,
    /// Files changed or deleted since they were indexed.
    pub stale_files: usize,
    /// Up to 20 of them.
    pub stale: Vec<String>,
    /// Bytes on disk.
    pub index_bytes: u64,
    /// Definition chunks with vectors (0 without an embedding route).
    pub vectors: usize,
    /// The embedding route the vectors were made with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_model: Option<String>,
    /// The index format version.
    pub format: u32,
}

/// Result of `status`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusResult {
    pub repos: Vec<RepoStatus>,
    /// The embedding route configured now (FF_EMBED_MODEL), which `index` embeds through and
    /// hybrid search uses; null when none is configured (search is BM25 only).
    pub embedding_route: Option<EmbeddingRoute>,
}

/// The configured embedding route.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EmbeddingRoute {
    /// `provider:model`.
    pub route: String,
    /// healthy, failing, cooling_down, probing, or unconfigured (see setup_missing).
    pub health: String,
    /// What the route lacks to be usable (a key variable), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_missing: Option<String>,
}

impl Render for StatusResult {
    fn render(&self) -> String {
        let mut lines: Vec<String> = if self.repos.is_empty() {
            vec!["Nothing indexed under the allowed roots yet".to_owned()]
        } else {
            self.repos
                .iter()
                .map(|r| {
                    format!(
                        "{}: {} files, {} chunks, {} stale, {} bytes, {} vectors",
                        r.repo, r.files, r.chunks, r.stale_files, r.index_bytes, r.vectors
                    )
                })
                .collect()
        };
        lines.push(match &self.embedding_route {
            None => {
                "Embedding route: none configured (FF_EMBED_MODEL); search is BM25 only".to_owned()
            }
            Some(e) => match &e.setup_missing {
                None => format!("Embedding route: {} ({})", e.route, e.health),
                Some(missing) => format!("Embedding route: {} ({}, {missing})", e.route, e.health),
            },
        });
        lines.join("\n")
    }
}

/// Arguments of `related`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelatedArgs {
    /// A symbol name (`parse`, `Parser`) or a file relative to its repository (`src/lib.rs`).
    pub target: String,
    /// The repository; default: every indexed repository under the roots.
    #[serde(default)]
    pub repo: Option<String>,
    /// Entries per list at most (default 20, 1..=100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A definition linked to the target.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Related {
    pub repo: String,
    pub symbol: String,
    pub kind: String,
    pub path: String,
    pub line: u32,
    /// Occurrences that make the link.
    pub count: usize,
}

/// Result of `related`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RelatedResult {
    pub target: String,
    /// What the target is: "symbol" or "file".
    pub target_kind: String,
    /// The target's definitions (a file: its definitions).
    pub defined: Vec<Symbol>,
    /// Definitions elsewhere that the target refers to.
    pub uses: Vec<Related>,
    /// Definitions that refer to the target.
    pub used_by: Vec<Related>,
}

impl Render for RelatedResult {
    fn render(&self) -> String {
        let mut text = format!("{} ({})", self.target, self.target_kind);
        text.push_str(&format!("\nuses {}:", self.uses.len()));
        for r in &self.uses {
            text.push_str(&format!(
                "\n  {} {}:{} ×{}",
                r.symbol, r.path, r.line, r.count
            ));
        }
        text.push_str(&format!("\nused by {}:", self.used_by.len()));
        for r in &self.used_by {
            text.push_str(&format!(
                "\n  {} {}:{} ×{}",
                r.symbol, r.path, r.line, r.count
            ));
        }
        text
    }
}

//! The MCP edge of docparse: argument and result types (their doc comments
//! are the schemas an agent reads), the tools, progress and cancellation.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use ffmcp_core::{
    Json, Render, ToolError,
    exec::{Programs, Sandbox, catalog},
    fetch::Fetcher,
    model::{Call, Request, Router},
    progress::Progress,
    roots::Roots,
};
use rmcp::{
    RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{ServerCapabilities, ServerConfig},
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod prompts;
mod resources;

use crate::{
    DocError, Document, Format, Limits, MAX_EXPANDED_BYTES_ENV, PageRange, ParseOptions,
    ProgressFn,
    backends::{self, Engine},
    cache::{self, Cache, Rendering},
    chunk::{self, Chunk, ChunkOptions},
    formats,
    input::{Loaded, Source},
    model::{Metadata, OutlineEntry, Table},
    render::{self, OutputFormat},
};

/// Environment variable: largest document accepted, in bytes.
pub const MAX_BYTES_ENV: &str = "FF_DOCPARSE_MAX_BYTES";
/// Default `max_chars` of `parse`.
const DEFAULT_MAX_CHARS: usize = 100_000;
/// Document text sent to a model by `extract`: long enough for reports and
/// contracts, short enough to bound cost and context.
pub const MAX_MODEL_INPUT_CHARS: usize = 200_000;
/// How `extract` instructs the model.
const EXTRACT_SYSTEM: &str = "You extract structured data from documents. Reply with only one JSON \
value that matches the given JSON Schema: no prose, no code fences. Use only facts stated in the \
document; when the document does not give a value, use null (or omit the field if the schema \
allows). Never invent values.";

/// What every session shares: roots, the fetcher, the helper programs
/// (built once per process by [`crate::spec`]).
pub(crate) struct Shared {
    roots: Result<Roots, String>,
    fetcher: Result<Fetcher, String>,
    programs: Programs,
    sandbox: Result<Sandbox, String>,
    limits: Limits,
    /// The process's model router (`extract`).
    router: Arc<Router>,
    /// Bytes of renderings kept per session for paging.
    cache_bytes: u64,
    /// The tool router with its schemas, generated once and cloned into
    /// each session (a stateless request included).
    tools: std::sync::OnceLock<Arc<ToolRouter<DocParse>>>,
}

impl Shared {
    pub(crate) fn new(config: &ffmcp_core::Config, router: Arc<Router>) -> Arc<Self> {
        let number = |name: &str| config.get(name).and_then(|v| v.trim().parse::<u64>().ok());
        let mut limits = Limits::default();
        if let Some(max) = number(MAX_BYTES_ENV) {
            limits.max_input_bytes = max;
        }
        if let Some(max) = number(MAX_EXPANDED_BYTES_ENV) {
            limits.max_expanded_bytes = max;
        }
        Arc::new(Shared {
            roots: Roots::from_config(config).map_err(|e| e.to_string()),
            fetcher: Fetcher::from_config(config).map_err(|e| e.to_string()),
            programs: Programs::discover(catalog::all()),
            sandbox: Sandbox::from_env().map_err(|e| e.to_string()),
            limits,
            router,
            cache_bytes: number(crate::cache::CACHE_BYTES_ENV)
                .unwrap_or(crate::cache::DEFAULT_CACHE_BYTES),
            tools: std::sync::OnceLock::new(),
        })
    }
}

/// The docparse server.
#[derive(Clone)]
pub struct DocParse {
    /// Shared by every session: cloning it per session (or per stateless
    /// request) would copy every tool definition.
    tool_router: Arc<ToolRouter<Self>>,
    /// Renderings of recent `parse` calls, for paging without re-parsing.
    renderings: Arc<Cache>,
    shared: Arc<Shared>,
}

impl Default for DocParse {
    fn default() -> Self {
        Self::new()
    }
}

/// Defines an argument struct with the source fields every tool takes.
macro_rules! with_source {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// A local file: absolute, or relative to the first root. Only
            /// paths under the allowed roots (FF_ROOTS, or the roots your
            /// client announces) are read.
            #[serde(default)]
            pub path: Option<String>,
            /// An http(s) URL. Private and loopback addresses are refused
            /// unless allowed by FF_ALLOW_HOSTS / FF_ALLOW_PRIVATE_NETWORK.
            #[serde(default)]
            pub url: Option<String>,
            /// The document itself, base64-encoded; give `filename` too.
            #[serde(default)]
            pub content_base64: Option<String>,
            /// File name for `content_base64` (its extension helps detection).
            #[serde(default)]
            pub filename: Option<String>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $name {
            fn source(&self) -> Source<'_> {
                Source {
                    path: self.path.as_deref(),
                    url: self.url.as_deref(),
                    content_base64: self.content_base64.as_deref(),
                    filename: self.filename.as_deref(),
                }
            }
        }
    };
}

with_source!(
    /// Arguments of `parse`.
    ParseArgs {
        /// `markdown` (default) or `text`.
        #[serde(default)]
        output: Option<OutputFormat>,
        /// Pages to read, e.g. `3` or `2-10` (PDF pages, PPTX slides).
        #[serde(default)]
        pages: Option<String>,
        /// Return at most this many characters (default 100000, max 2000000).
        #[serde(default)]
        max_chars: Option<usize>,
        /// Skip this many characters first (use `next_offset` of the previous call).
        #[serde(default)]
        offset: Option<usize>,
        /// PDF text engine: `builtin` (default) or `pdftotext` (when installed).
        #[serde(default)]
        engine: Option<Engine>,
        /// OCR PDF pages that have no text layer (scans) with tesseract,
        /// when pdftoppm and tesseract are installed (default false).
        #[serde(default)]
        ocr: Option<bool>,
        /// Tesseract languages for `ocr`, e.g. `eng` (default) or `eng+deu`.
        #[serde(default)]
        ocr_language: Option<String>,
    }
);

with_source!(
    /// Arguments of `metadata`.
    MetadataArgs {}
);

with_source!(
    /// Arguments of `extract_tables`.
    TablesArgs {
        /// Pages to read, e.g. `3` or `2-10`.
        #[serde(default)]
        pages: Option<String>,
        /// Return at most this many tables (default 100).
        #[serde(default)]
        max_tables: Option<usize>,
    }
);

with_source!(
    /// Arguments of `chunk`.
    ChunkArgs {
        /// Largest chunk, overlap included, in estimated tokens (the count each chunk reports; default 512, 64..=8192).
        #[serde(default)]
        max_tokens: Option<usize>,
        /// Tokens of whole trailing lines repeated from the previous chunk (default 64; at most half of max_tokens).
        #[serde(default)]
        overlap_tokens: Option<usize>,
        /// Headings at this level or above always start a new chunk (default 2).
        #[serde(default)]
        split_level: Option<u8>,
        /// Pages to read, e.g. `3` or `2-10`.
        #[serde(default)]
        pages: Option<String>,
    }
);

with_source!(
    /// Arguments of `extract`.
    ExtractArgs {
        /// JSON Schema of the data to extract (an object schema, e.g. with
        /// `properties` and `required`). The reply is validated against it.
        schema: Value,
        /// What to extract and how, in plain words (optional).
        #[serde(default)]
        instructions: Option<String>,
        /// Routes for this call, `provider:model[,provider:model…]`
        /// (default: FF_LLM_PRIMARY and FF_LLM_FALLBACKS, or the client's
        /// own model through MCP sampling).
        #[serde(default)]
        model: Option<String>,
        /// Pages to read, e.g. `3` or `2-10`.
        #[serde(default)]
        pages: Option<String>,
    }
);

/// Result of `extract`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Extracted {
    pub source: String,
    pub format: Format,
    /// The extracted data; it matches the given schema.
    pub data: Value,
    /// The route that answered (`provider:model`).
    pub route: String,
    /// The first reply did not match the schema and was repaired once.
    pub repaired: bool,
    /// Only the first `MAX_MODEL_INPUT_CHARS` characters were sent.
    pub input_truncated: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

impl Render for Extracted {
    fn render(&self) -> String {
        serde_json::to_string_pretty(&self.data).unwrap_or_default()
    }
}

/// Result of `parse`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Parsed {
    /// The path, URL or file name read.
    pub source: String,
    pub format: Format,
    /// The document (or the requested slice of it).
    pub content: String,
    pub metadata: Metadata,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outline: Vec<OutlineEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Characters in the whole rendering.
    pub total_chars: usize,
    /// More text follows: call again with `offset` = `next_offset`.
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// This slice was cut from an earlier parse of the same bytes with the
    /// same options (kept for paging); the document was not parsed again.
    pub reused: bool,
}

impl Render for Parsed {
    fn render(&self) -> String {
        let mut text = self.content.clone();
        if let Some(next) = self.next_offset {
            text.push_str(&format!(
                "\n\n[truncated: {} of {} characters shown; call again with offset={next}]",
                self.content.chars().count(),
                self.total_chars
            ));
        }
        for warning in &self.warnings {
            text.push_str(&format!("\n[warning] {warning}"));
        }
        text
    }
}

/// Result of `metadata`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MetadataResult {
    pub source: String,
    pub format: Format,
    pub bytes: usize,
    pub metadata: Metadata,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outline: Vec<OutlineEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Render for MetadataResult {
    fn render(&self) -> String {
        let m = &self.metadata;
        let mut lines = vec![format!(
            "{} ({}, {} bytes)",
            self.source,
            self.format.name(),
            self.bytes
        )];
        for (k, v) in [
            ("title", &m.title),
            ("author", &m.author),
            ("subject", &m.subject),
            ("created", &m.created),
            ("modified", &m.modified),
            ("producer", &m.producer),
        ] {
            if let Some(v) = v {
                lines.push(format!("{k}: {v}"));
            }
        }
        if let Some(pages) = m.pages {
            lines.push(format!("pages: {pages}"));
        }
        if !self.outline.is_empty() {
            lines.push(format!("outline: {} entries", self.outline.len()));
        }
        lines.join("\n")
    }
}

/// One table found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FoundTable {
    #[serde(flatten)]
    pub table: Table,
    /// The table as Markdown.
    pub markdown: String,
}

/// Result of `extract_tables`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Tables {
    pub source: String,
    pub format: Format,
    pub tables: Vec<FoundTable>,
    /// More tables exist than were returned.
    pub truncated: bool,
}

impl Render for Tables {
    fn render(&self) -> String {
        if self.tables.is_empty() {
            return format!("no tables found in {}", self.source);
        }
        self.tables
            .iter()
            .map(|t| t.markdown.clone())
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

/// Result of `chunk`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Chunks {
    pub source: String,
    pub format: Format,
    pub chunks: Vec<Chunk>,
    pub total_tokens: usize,
}

impl Render for Chunks {
    fn render(&self) -> String {
        format!(
            "{} chunks, {} tokens in all, from {}",
            self.chunks.len(),
            self.total_tokens,
            self.source
        )
    }
}

/// A helper program and whether it can be used.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Backend {
    pub name: String,
    pub available: bool,
    /// Where it is, or why it is unavailable.
    pub detail: String,
}

/// Result of `formats`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FormatsResult {
    /// Formats `parse` reads.
    pub formats: Vec<FormatInfo>,
    /// Optional helper programs (run sandboxed through core::exec).
    pub backends: Vec<Backend>,
    /// Largest document accepted, in bytes.
    pub max_input_bytes: u64,
    pub max_pages: u32,
}

/// One supported format.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FormatInfo {
    pub format: Format,
    pub extensions: Vec<String>,
}

impl Render for FormatsResult {
    fn render(&self) -> String {
        let formats: Vec<&str> = self.formats.iter().map(|f| f.format.name()).collect();
        let backends: Vec<String> = self
            .backends
            .iter()
            .map(|b| {
                format!(
                    "{}: {}",
                    b.name,
                    if b.available {
                        "available"
                    } else {
                        "not installed"
                    }
                )
            })
            .collect();
        format!(
            "formats: {}\nbackends: {}\nlimit: {} bytes, {} pages",
            formats.join(", "),
            backends.join(", "),
            self.max_input_bytes,
            self.max_pages
        )
    }
}

/// Parses `2-10`, `3` or `4-` (to the end).
fn page_range(spec: Option<&str>) -> Result<Option<PageRange>, ToolError> {
    let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        ToolError::invalid(format!(
            "'pages' must look like 3, 2-10 or 4- (1-based); got '{spec}'"
        ))
    };
    let num = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n >= 1);
    let (first, last) = match spec.split_once('-') {
        Some((a, b)) if b.trim().is_empty() => (num(a).ok_or_else(bad)?, u32::MAX),
        Some((a, b)) => (num(a).ok_or_else(bad)?, num(b).ok_or_else(bad)?),
        None => {
            let n = num(spec).ok_or_else(bad)?;
            (n, n)
        }
    };
    if first > last {
        return Err(bad());
    }
    Ok(Some(PageRange { first, last }))
}

/// How a PDF's text is obtained.
#[derive(Debug, Clone, Copy)]
struct PdfChoice<'a> {
    engine: Engine,
    ocr: bool,
    language: &'a str,
}

fn doc_error(err: DocError) -> ToolError {
    match err {
        DocError::Cancelled => ToolError::invalid("cancelled by the client"),
        other => ToolError::invalid(other.to_string()),
    }
}

impl DocParse {
    /// What `formats` and the `docparse://formats` resource report.
    pub(crate) fn formats_report(&self) -> FormatsResult {
        let shared = &*self.shared;
        let formats = formats::supported()
            .into_iter()
            .map(|format| FormatInfo {
                format,
                extensions: format
                    .extensions()
                    .iter()
                    .map(|e| (*e).to_owned())
                    .collect(),
            })
            .collect();
        let mut backends: Vec<Backend> = shared
            .programs
            .found()
            .into_iter()
            .map(|p| Backend {
                name: p.name().to_owned(),
                available: true,
                detail: p.path().display().to_string(),
            })
            .collect();
        backends.extend(shared.programs.missing().iter().map(|(name, why)| Backend {
            name: name.clone(),
            available: false,
            detail: why.clone(),
        }));
        backends.sort_by(|a, b| a.name.cmp(&b.name));
        FormatsResult {
            formats,
            backends,
            max_input_bytes: shared.limits.max_input_bytes,
            max_pages: shared.limits.max_pages,
        }
    }

    async fn load(
        &self,
        source: Source<'_>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<Loaded, ToolError> {
        let shared = &*self.shared;
        let configured = shared
            .roots
            .as_ref()
            .map_err(|e| ToolError::invalid(format!("FF_ROOTS is invalid: {e}")));
        let fetcher = shared
            .fetcher
            .as_ref()
            .map_err(|e| ToolError::invalid(format!("the fetch policy is invalid: {e}")))?;
        let roots = match (source.path, configured) {
            (Some(_), Err(e)) => return Err(e),
            (Some(_), Ok(roots)) => roots.for_client(&ctx.peer).await,
            (None, _) => Roots::default(),
        };
        source
            .load(&roots, fetcher, shared.limits.max_input_bytes)
            .await
    }

    /// Parses on the blocking pool, forwarding progress and cancellation.
    async fn parse_loaded(
        &self,
        loaded: Loaded,
        pages: Option<PageRange>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<(Format, Document, Arc<Vec<u8>>), ToolError> {
        let format = loaded.format();
        if format == Format::Unknown {
            return Err(ToolError::invalid(format!(
                "cannot tell what kind of document {} is; supported: {}",
                loaded.label,
                formats::supported()
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let reporter = Progress::of(ctx);
        let progress: Option<ProgressFn> = reporter.clone().map(|reporter| {
            Arc::new(move |done: u32, total: u32| {
                reporter.report(done.into(), Some(total.into()), None);
            }) as ProgressFn
        });
        let watcher = {
            let ct = ctx.ct.clone();
            let flag = Arc::clone(&cancel);
            tokio::spawn(async move {
                ct.cancelled().await;
                flag.store(true, Ordering::Relaxed);
            })
        };
        let options = ParseOptions {
            pages,
            limits: self.shared.limits,
            cancel,
            progress,
            base_url: loaded.url.clone(),
            expanded: Arc::default(),
        };
        let bytes = Arc::new(loaded.bytes);
        let input = Arc::clone(&bytes);
        let result =
            tokio::task::spawn_blocking(move || formats::parse(format, &input, &options)).await;
        watcher.abort();
        if let Some(reporter) = reporter {
            reporter.finish().await;
        }
        let doc = result
            .map_err(|e| ToolError::internal(format!("the parser stopped unexpectedly: {e}")))?
            .map_err(doc_error)?;
        Ok((format, doc, bytes))
    }

    /// Parses, applies the PDF engine/OCR choice and renders; the rendering
    /// stops at the output limit (with a warning).
    async fn render_loaded(
        &self,
        loaded: Loaded,
        pages: Option<PageRange>,
        output: OutputFormat,
        choice: &PdfChoice<'_>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<Rendering, ToolError> {
        let (format, mut doc, bytes) = self.parse_loaded(loaded, pages, ctx).await?;
        if format == Format::Pdf && (choice.engine != Engine::Builtin || choice.ocr) {
            self.pdf_backends(&mut doc, bytes, pages, choice, ctx)
                .await?;
        } else if choice.engine != Engine::Builtin || choice.ocr {
            doc.warnings.push(format!(
                "'engine' and 'ocr' apply to PDFs only; this document is {}",
                format.name()
            ));
        }
        let max_chars = self.shared.limits.max_output_chars;
        let Document {
            metadata,
            outline,
            mut warnings,
            blocks,
        } = doc;
        let (text, stopped) = tokio::task::spawn_blocking(move || {
            let doc = Document {
                blocks,
                ..Document::default()
            };
            render::render_limited(&doc, output, max_chars)
        })
        .await
        .map_err(|e| ToolError::internal(format!("rendering stopped unexpectedly: {e}")))?;
        if stopped {
            warnings.push(format!(
                "the rendering stopped at {max_chars} characters (the output limit); ask for a page range for the rest"
            ));
        }
        Ok(Rendering::new(format, text, metadata, outline, warnings))
    }

    /// Applies `engine` and `ocr` to a parsed PDF.
    async fn pdf_backends(
        &self,
        doc: &mut Document,
        pdf: Arc<Vec<u8>>,
        pages: Option<PageRange>,
        choice: &PdfChoice<'_>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<(), ToolError> {
        let PdfChoice {
            engine,
            ocr,
            language,
        } = *choice;
        let shared = &*self.shared;
        let sandbox = shared
            .sandbox
            .as_ref()
            .map_err(|e| ToolError::internal(format!("the sandbox helper is unavailable: {e}")))?;
        if engine == Engine::Pdftotext {
            doc.blocks =
                backends::pdftotext(sandbox, &shared.programs, Arc::clone(&pdf), pages).await?;
        }
        if ocr {
            let mut empty = backends::pages_without_text(doc);
            if empty.len() > backends::MAX_OCR_PAGES {
                doc.warnings.push(format!(
                    "{} pages have no text layer; OCR read the first {} (ask for a page range for the rest)",
                    empty.len(),
                    backends::MAX_OCR_PAGES
                ));
                empty.truncate(backends::MAX_OCR_PAGES);
            }
            let total = u32::try_from(empty.len()).unwrap_or(u32::MAX);
            let reporter = Progress::of(ctx);
            for (done, page) in empty.into_iter().enumerate() {
                if ctx.ct.is_cancelled() {
                    return Err(ToolError::invalid("cancelled by the client"));
                }
                if let Some(reporter) = &reporter {
                    reporter.report(
                        done as u64,
                        Some(total.into()),
                        Some(format!("OCR of page {page}")),
                    );
                }
                let ocr =
                    backends::ocr_page(sandbox, &shared.programs, Arc::clone(&pdf), page, language);
                // Dropping the OCR future kills its process group.
                let text = tokio::select! {
                    text = ocr => text?,
                    () = ctx.ct.cancelled() => return Err(ToolError::invalid("cancelled by the client")),
                };
                backends::insert_page_text(doc, page, &text);
            }
        }
        Ok(())
    }
}

#[tool_router]
impl DocParse {
    /// A server configured from the process environment (tests, tools).
    pub fn new() -> Self {
        let config = ffmcp_core::Config::from_env();
        let router = Arc::new(Router::from_config(&config));
        Self::with_shared(Shared::new(&config, router))
    }

    /// A session's server on state shared with the process's other
    /// sessions; the paging cache is the session's own.
    pub(crate) fn with_shared(shared: Arc<Shared>) -> Self {
        Self {
            tool_router: shared
                .tools
                .get_or_init(|| Arc::new(ffmcp_core::schema::standard_schemas(Self::tool_router())))
                .clone(),
            renderings: Arc::new(Cache::new(shared.cache_bytes)),
            shared,
        }
    }

    /// Read a document (PDF, DOCX, XLSX/XLS/ODS, PPTX, EPUB, HTML, Markdown,
    /// CSV/TSV, text) from a path, URL or base64 and return clean Markdown
    /// (or text) with metadata, outline and warnings. Long documents come
    /// back in slices: follow `next_offset`.
    #[tool(
        title = "Parse a document",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn parse(
        &self,
        Parameters(args): Parameters<ParseArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Parsed>, ToolError> {
        let pages = page_range(args.pages.as_deref())?;
        let max_chars = args.max_chars.unwrap_or(DEFAULT_MAX_CHARS);
        if !(1..=2_000_000).contains(&max_chars) {
            return Err(ToolError::invalid(
                "'max_chars' must be between 1 and 2000000",
            ));
        }
        let loaded = self.load(args.source(), &ctx).await?;
        let source = loaded.label.clone();
        let engine = args.engine.unwrap_or_default();
        let ocr = args.ocr.unwrap_or(false);
        let language = args.ocr_language.as_deref().unwrap_or("eng");
        backends::check_language(language)?;
        let output = args.output.unwrap_or(OutputFormat::Markdown);
        let options = format!(
            "{pages:?}|{output:?}|{engine:?}|{ocr}|{language}|{:?}|{:?}",
            loaded.url.as_ref().map(url::Url::as_str),
            loaded.format()
        );
        // Hashing up to the input limit is CPU work: off the runtime.
        let (loaded, key) = tokio::task::spawn_blocking(move || {
            let key = cache::Key::new(&loaded.bytes, options);
            (loaded, key)
        })
        .await
        .map_err(|e| ToolError::internal(format!("hashing the document failed: {e}")))?;
        let (rendering, reused) = match self.renderings.get(&key) {
            Some(rendering) => (rendering, true),
            None => {
                let choice = PdfChoice {
                    engine,
                    ocr,
                    language,
                };
                let rendering = self
                    .render_loaded(loaded, pages, output, &choice, &ctx)
                    .await?;
                let rendering = Arc::new(rendering);
                self.renderings.insert(key, Arc::clone(&rendering));
                (rendering, false)
            }
        };
        let total_chars = rendering.total_chars;
        let offset = args.offset.unwrap_or(0);
        if offset > total_chars {
            return Err(ToolError::invalid(format!(
                "'offset' {offset} is past the end ({total_chars} characters)"
            )));
        }
        let content = rendering.slice(offset, max_chars).to_owned();
        let end = offset + content.chars().count();
        let truncated = end < total_chars;
        Ok(Json(Parsed {
            source,
            format: rendering.format,
            content,
            metadata: rendering.metadata.clone(),
            outline: rendering.outline.clone(),
            warnings: rendering.warnings.clone(),
            total_chars,
            truncated,
            next_offset: truncated.then_some(end),
            reused,
        }))
    }

    /// Document properties (title, author, dates, pages, producer, …), the
    /// outline, and the detected format, without returning the text.
    #[tool(
        title = "Read a document's metadata",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn metadata(
        &self,
        Parameters(args): Parameters<MetadataArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<MetadataResult>, ToolError> {
        let loaded = self.load(args.source(), &ctx).await?;
        let source = loaded.label.clone();
        let bytes = loaded.bytes.len();
        let (format, doc, _) = self.parse_loaded(loaded, None, &ctx).await?;
        Ok(Json(MetadataResult {
            source,
            format,
            bytes,
            metadata: doc.metadata,
            outline: doc.outline,
            warnings: doc.warnings,
        }))
    }

    /// Every table in a document as rows of cells plus Markdown: sheets of
    /// spreadsheets, tables of DOCX/HTML/Markdown/PPTX, CSV files.
    #[tool(
        title = "Extract a document's tables",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn extract_tables(
        &self,
        Parameters(args): Parameters<TablesArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Tables>, ToolError> {
        let pages = page_range(args.pages.as_deref())?;
        let max = args.max_tables.unwrap_or(100);
        if !(1..=10_000).contains(&max) {
            return Err(ToolError::invalid(
                "'max_tables' must be between 1 and 10000",
            ));
        }
        let loaded = self.load(args.source(), &ctx).await?;
        let source = loaded.label.clone();
        let (format, doc, _) = self.parse_loaded(loaded, pages, &ctx).await?;
        let mut all = Vec::new();
        collect_tables(&doc.blocks, None, &mut all);
        let truncated = all.len() > max;
        all.truncate(max);
        let tables = all
            .into_iter()
            .map(|table| FoundTable {
                markdown: render::table_markdown(&table),
                table,
            })
            .collect();
        Ok(Json(Tables {
            source,
            format,
            tables,
            truncated,
        }))
    }

    /// Split a document into heading-aware chunks for retrieval (RAG), each
    /// with its heading path, pages and a token estimate; neighbours overlap.
    #[tool(
        title = "Chunk a document for retrieval",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn chunk(
        &self,
        Parameters(args): Parameters<ChunkArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Chunks>, ToolError> {
        let pages = page_range(args.pages.as_deref())?;
        let max_tokens = args.max_tokens.unwrap_or(512);
        if !(64..=8192).contains(&max_tokens) {
            return Err(ToolError::invalid(
                "'max_tokens' must be between 64 and 8192",
            ));
        }
        let overlap = args.overlap_tokens.unwrap_or(64);
        if overlap > max_tokens / 2 {
            return Err(ToolError::invalid(format!(
                "'overlap_tokens' must be at most half of max_tokens ({})",
                max_tokens / 2
            )));
        }
        let split_level = args.split_level.unwrap_or(2);
        if !(1..=6).contains(&split_level) {
            return Err(ToolError::invalid("'split_level' must be between 1 and 6"));
        }
        let loaded = self.load(args.source(), &ctx).await?;
        let source = loaded.label.clone();
        let (format, doc, _) = self.parse_loaded(loaded, pages, &ctx).await?;
        let chunks = chunk::chunk(
            &doc,
            ChunkOptions {
                max_tokens,
                overlap_tokens: overlap,
                split_level,
            },
        );
        let total_tokens = chunks.iter().map(|c| c.tokens).sum();
        Ok(Json(Chunks {
            source,
            format,
            chunks,
            total_tokens,
        }))
    }

    /// Extract data matching a caller-given JSON Schema from a document,
    /// with the configured model (FF_LLM_PRIMARY and fallbacks) or the
    /// client's own model via MCP sampling. The reply is validated against
    /// the schema (one repair round); nothing is invented when no model is
    /// configured — the call fails and says how to configure one.
    #[tool(
        title = "Extract data from a document with a model",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn extract(
        &self,
        Parameters(args): Parameters<ExtractArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Extracted>, ToolError> {
        if !args.schema.is_object() {
            return Err(ToolError::invalid(
                "'schema' must be a JSON Schema object, e.g. {\"type\":\"object\",\"properties\":{…}}",
            ));
        }
        if let Some(i) = &args.instructions
            && i.len() > 16 * 1024
        {
            return Err(ToolError::invalid("'instructions' must be at most 16 KiB"));
        }
        let pages = page_range(args.pages.as_deref())?;
        let call = Call::new("extract")
            .with_sampler(ffmcp_core::sampling::client(ctx.peer.clone()))
            .with_model_arg(args.model.as_deref())
            .map_err(|e| ToolError::invalid(e.to_string()))?;
        let loaded = self.load(args.source(), &ctx).await?;
        let source = loaded.label.clone();
        let (format, doc, _) = self.parse_loaded(loaded, pages, &ctx).await?;
        let markdown = render::render(&doc, OutputFormat::Markdown);
        let input_truncated = markdown.chars().count() > MAX_MODEL_INPUT_CHARS;
        let document: String = markdown.chars().take(MAX_MODEL_INPUT_CHARS).collect();
        let mut prompt = String::new();
        if let Some(instructions) = args
            .instructions
            .as_deref()
            .filter(|i| !i.trim().is_empty())
        {
            prompt.push_str(instructions.trim());
            prompt.push_str("\n\n");
        }
        prompt.push_str("<document>\n");
        prompt.push_str(&document);
        prompt.push_str("\n</document>");
        let mut request = Request::new(prompt).with_system(EXTRACT_SYSTEM);
        request.max_tokens = 4096;
        request.temperature = Some(0.0);
        let router = &self.shared.router;
        let reply = router.complete_json(&request, &args.schema, &call).await?;
        Ok(Json(Extracted {
            source,
            format,
            data: reply.value,
            route: reply.response.route.to_string(),
            repaired: reply.repaired,
            input_truncated,
            input_tokens: reply.response.usage.input_tokens,
            output_tokens: reply.response.usage.output_tokens,
            cost_usd: reply.response.cost_usd,
        }))
    }

    /// The formats this server reads, its limits, and which optional helper
    /// programs (pdftotext, tesseract) are installed.
    #[tool(
        title = "List supported formats",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn formats(&self) -> Result<Json<FormatsResult>, ToolError> {
        Ok(Json(self.formats_report()))
    }
}

/// Tables in document order, with the page they are on.
fn collect_tables(blocks: &[crate::model::Block], page: Option<u32>, out: &mut Vec<Table>) {
    use crate::model::Block;
    let mut page = page;
    for block in blocks {
        match block {
            Block::PageBreak { number } => page = Some(*number),
            Block::Table(table) => {
                let mut table = table.clone();
                table.page = table.page.or(page);
                out.push(table);
            }
            Block::Quote(inner) => collect_tables(inner, page, out),
            Block::List { items, .. } => {
                for item in items {
                    collect_tables(&item.children, page, out);
                }
            }
            _ => {}
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DocParse {
    async fn list_prompts(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListPromptsResult, rmcp::ErrorData> {
        Ok(prompts::CATALOG.list())
    }

    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, rmcp::ErrorData> {
        prompts::get(&request)
    }

    async fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, rmcp::ErrorData> {
        prompts::complete(&self.shared, &request, &context).await
    }

    async fn list_resources(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
        Ok(resources::list())
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
        resources::read(self, &request.uri).map(Into::into)
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_completions()
                .enable_prompts()
                .enable_resources()
                .enable_tools()
                .build(),
        )
        .with_server_info(ffmcp_core::server::server_info(
            "ffmcp-docparse",
            env!("CARGO_PKG_VERSION"),
            crate::TITLE,
        ))
        .with_instructions(
            "Documents to clean Markdown or text: `parse` (content, metadata, outline), \
                 `metadata`, `extract_tables`, `chunk` (for retrieval), `formats`. Sources: \
                 `path` (under the allowed roots), `url` (public http/https), or \
                 `content_base64` with `filename`. Long results are sliced: follow `next_offset`.",
        )
    }
}

impl ffmcp_core::Tools for DocParse {
    fn tools(&self) -> &ToolRouter<Self> {
        &self.tool_router
    }

    /// Long calls run as MCP tasks: parsing (OCR included) and model extraction; all read-only.
    fn task_tools(&self) -> &'static [&'static str] {
        &["parse", "chunk", "extract_tables", "extract"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_ranges() {
        assert_eq!(page_range(None).expect("none"), None);
        assert_eq!(
            page_range(Some("3")).expect("one"),
            Some(PageRange { first: 3, last: 3 })
        );
        assert_eq!(
            page_range(Some(" 2 - 10 ")).expect("range"),
            Some(PageRange { first: 2, last: 10 })
        );
        assert_eq!(
            page_range(Some("4-")).expect("open"),
            Some(PageRange {
                first: 4,
                last: u32::MAX
            })
        );
        for bad in ["0", "5-2", "x", "-3", "1-2-3"] {
            let err = page_range(Some(bad)).expect_err(bad);
            assert!(err.to_string().contains("'pages'"), "{err}");
        }
    }
}

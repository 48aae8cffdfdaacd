//! The MCP edge of the transform server: argument and result types (their
//! doc comments are the schemas an agent reads), the tool methods, and the
//! mapping from domain results to them. The offline tools live here, the
//! model-backed ones in `model_tools`; the server also exposes the
//! `ffmcp://stats` resource.

use std::sync::Arc;

use ffmcp_core::{Json, Render, ToolError, limits, model::Router, tool::cpu_work};
use rmcp::{
    RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{ServerCapabilities, ServerConfig},
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    convert::{self, Format},
    html, markdown, stats,
};

mod model_tools;
mod prompts;

const MAX_INPUT: usize = limits::DEFAULT_MAX_INPUT_BYTES;

/// The transform server.
#[derive(Clone)]
pub struct Transform {
    /// Shared by every session: cloning it per session (or per stateless
    /// request) would copy every tool definition.
    tool_router: Arc<ToolRouter<Self>>,
    models: Models,
}

impl Default for Transform {
    fn default() -> Self {
        Self::new()
    }
}

/// The model router, shared by every server and session of the process.
#[derive(Clone)]
pub struct Models(Arc<Router>);

impl Models {
    /// A handle on the process's router.
    pub fn new(router: Arc<Router>) -> Self {
        Self(router)
    }

    fn get(&self) -> &Router {
        &self.0
    }
}

// ---- convert ---------------------------------------------------------------

/// Arguments of `convert`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertArgs {
    /// The data to convert (at most 2 MiB).
    pub input: String,
    /// Format of `input`.
    pub from: Format,
    /// Format to produce.
    pub to: Format,
    /// Pretty-print JSON and TOML output (default true).
    #[serde(default = "yes")]
    pub pretty: bool,
    /// CSV field delimiter, one ASCII character (default ",").
    #[serde(default)]
    pub delimiter: Option<String>,
    /// CSV: the first row is a header naming the columns, and rows are objects (default true).
    /// With false, rows are arrays.
    #[serde(default = "yes")]
    pub header: bool,
    /// CSV input: turn integers, floats and true/false into typed values (default false:
    /// every cell stays a string, so "007" keeps its zeros).
    #[serde(default)]
    pub infer_types: bool,
}

fn yes() -> bool {
    true
}

/// Result of `convert`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConvertResult {
    /// The converted data.
    pub output: String,
    pub from: Format,
    pub to: Format,
    /// Data rows read from or written to CSV (absent for other formats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<usize>,
    /// Things the caller should know about the conversion (e.g. uneven CSV rows).
    pub warnings: Vec<String>,
}

impl Render for ConvertResult {
    fn render(&self) -> String {
        let mut text = format!("Converted {} to {}", self.from, self.to);
        if let Some(records) = self.records {
            text.push_str(&format!(" ({records} records)"));
        }
        for warning in &self.warnings {
            text.push_str(&format!("\nwarning: {warning}"));
        }
        text.push_str(":\n");
        text.push_str(&self.output);
        text
    }
}

// ---- html_to_markdown ------------------------------------------------------

/// Arguments of `html_to_markdown`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HtmlToMarkdownArgs {
    /// The HTML document or fragment (at most 2 MiB).
    pub html: String,
    /// Absolute URL the page came from; relative links and image sources are resolved against it.
    #[serde(default)]
    pub base_url: Option<String>,
}

/// Result of `html_to_markdown`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MarkdownResult {
    /// The Markdown (GitHub-flavoured tables).
    pub markdown: String,
    /// The document's `<title>`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Number of `<a>` elements.
    pub links: usize,
    /// Number of `<img>` elements.
    pub images: usize,
}

impl Render for MarkdownResult {
    fn render(&self) -> String {
        self.markdown.clone()
    }
}

// ---- markdown_to_html ------------------------------------------------------

/// Arguments of `markdown_to_html`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkdownToHtmlArgs {
    /// CommonMark with GitHub extensions (tables, strikethrough, task lists, footnotes); at most 2 MiB.
    pub markdown: String,
}

/// Result of `markdown_to_html`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HtmlResult {
    /// Sanitized HTML: no scripts, event handlers, iframes, styles or javascript: URLs;
    /// links carry rel="noopener noreferrer".
    pub html: String,
    /// The document's headings in order.
    pub headings: Vec<HeadingResult>,
}

/// One heading.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HeadingResult {
    /// 1 to 6.
    pub level: u8,
    /// Plain text of the heading.
    pub text: String,
}

impl Render for HtmlResult {
    fn render(&self) -> String {
        self.html.clone()
    }
}

// ---- text_stats ------------------------------------------------------------

/// Arguments of `text_stats`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextStatsArgs {
    /// The text to measure (at most 2 MiB).
    pub text: String,
}

/// Result of `text_stats`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TextStatsResult {
    /// Unicode scalar values.
    pub chars: usize,
    /// UTF-8 bytes.
    pub bytes: usize,
    /// Words by Unicode word boundaries (UAX #29).
    pub words: usize,
    /// Sentences by Unicode sentence boundaries (UAX #29).
    pub sentences: usize,
    /// Blocks separated by blank lines.
    pub paragraphs: usize,
    pub lines: usize,
    pub avg_words_per_sentence: f64,
    /// At 238 words per minute, rounded up.
    pub reading_time_seconds: u64,
    /// Best language guess; absent when the text has fewer than 5 words or is too ambiguous to guess.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<LanguageResult>,
}

/// A language guess.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LanguageResult {
    /// ISO 639-3 code, e.g. "eng".
    pub code: String,
    /// English name, e.g. "English".
    pub name: String,
    /// 0 to 1.
    pub confidence: f64,
    /// Whether the guess is reliable enough to act on.
    pub reliable: bool,
}

impl Render for TextStatsResult {
    fn render(&self) -> String {
        let mut text = format!(
            "{} words, {} sentences, {} chars; about {} s to read",
            self.words, self.sentences, self.chars, self.reading_time_seconds
        );
        if let Some(lang) = &self.language {
            text.push_str(&format!(
                "; language: {} ({}, confidence {:.2}{})",
                lang.name,
                lang.code,
                lang.confidence,
                if lang.reliable { "" } else { ", unreliable" }
            ));
        }
        text
    }
}

// ---- tools -----------------------------------------------------------------

#[tool_router]
impl Transform {
    /// A server configured from the process environment (tests, tools).
    pub fn new() -> Self {
        let config = ffmcp_core::Config::from_env();
        Self::with_models(Models::new(Arc::new(Router::from_config(&config))))
    }

    /// A server whose model tools use `models` (shared across sessions).
    pub fn with_models(models: Models) -> Self {
        Self {
            tool_router: Arc::new(ffmcp_core::schema::standard_schemas(
                Self::tool_router() + Self::model_tool_router(),
            )),
            models,
        }
    }

    /// Converts data between JSON, YAML, TOML and CSV. Key order is preserved. Conversions that
    /// would lose information are refused with an error naming the place (nested data to CSV,
    /// null to TOML, a non-table to TOML). CSV cells stay strings unless infer_types is set.
    /// Input up to 2 MiB.
    #[tool(
        title = "Convert between data formats",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn convert(
        &self,
        Parameters(args): Parameters<ConvertArgs>,
    ) -> Result<Json<ConvertResult>, ToolError> {
        limits::check_size("input", &args.input, MAX_INPUT)?;
        let delimiter = match args.delimiter.as_deref() {
            None => b',',
            Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            Some("\\t") => b'\t',
            Some(other) => {
                return Err(ToolError::invalid(format!(
                    "argument 'delimiter' must be one ASCII character (e.g. \",\", \";\", \"\\t\"), got {other:?}"
                )));
            }
        };
        let options = convert::Options {
            pretty: args.pretty,
            delimiter,
            header: args.header,
            infer_types: args.infer_types,
        };
        let (input, from, to) = (args.input, args.from, args.to);
        let converted = cpu_work(input.len(), move || {
            convert::convert(&input, from, to, &options)
        })
        .await?
        .map_err(|e| ToolError::invalid(e.to_string()))?;
        Ok(Json(ConvertResult {
            output: converted.output,
            from,
            to,
            records: converted.records,
            warnings: converted.warnings,
        }))
    }

    /// Converts HTML to Markdown (headings, lists, links, emphasis, code blocks, GitHub tables,
    /// images). Scripts, styles, iframes and other non-content elements are dropped. Give
    /// base_url to make relative links absolute. Input up to 2 MiB.
    #[tool(
        title = "Convert HTML to Markdown",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn html_to_markdown(
        &self,
        Parameters(args): Parameters<HtmlToMarkdownArgs>,
    ) -> Result<Json<MarkdownResult>, ToolError> {
        limits::check_size("html", &args.html, MAX_INPUT)?;
        limits::check_html_depth("html", &args.html, limits::MAX_HTML_DEPTH)?;
        let base = match args.base_url.as_deref() {
            None => None,
            Some(raw) => Some(url::Url::parse(raw).map_err(|e| {
                ToolError::invalid(format!(
                    "argument 'base_url' must be an absolute URL like https://example.com/page, got {raw:?} ({e})"
                ))
            })?),
        };
        let html = args.html;
        let out = cpu_work(html.len(), move || {
            html::html_to_markdown(&html, base.as_ref())
        })
        .await?;
        Ok(Json(MarkdownResult {
            markdown: out.markdown,
            title: out.title,
            links: out.links,
            images: out.images,
        }))
    }

    /// Renders Markdown (CommonMark + GitHub tables, strikethrough, task lists, footnotes) to
    /// HTML that is always sanitized: raw HTML cannot inject scripts, event handlers, iframes,
    /// styles or javascript: URLs. Also lists the headings. Input up to 2 MiB.
    #[tool(
        title = "Render Markdown to safe HTML",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn markdown_to_html(
        &self,
        Parameters(args): Parameters<MarkdownToHtmlArgs>,
    ) -> Result<Json<HtmlResult>, ToolError> {
        limits::check_size("markdown", &args.markdown, MAX_INPUT)?;
        // Raw HTML inside Markdown reaches ammonia's html5ever parser.
        limits::check_html_depth("markdown", &args.markdown, limits::MAX_HTML_DEPTH)?;
        limits::check_markdown_depth("markdown", &args.markdown, limits::MAX_MARKDOWN_DEPTH)?;
        let source = args.markdown;
        let out = cpu_work(source.len(), move || markdown::markdown_to_html(&source))
            .await?
            .map_err(|e| ToolError::invalid(format!("argument 'markdown': {e}")))?;
        Ok(Json(HtmlResult {
            html: out.html,
            headings: out
                .headings
                .into_iter()
                .map(|h| HeadingResult {
                    level: h.level,
                    text: h.text,
                })
                .collect(),
        }))
    }

    /// Counts characters, bytes, words, sentences, paragraphs and lines of a text (Unicode-aware),
    /// estimates reading time and guesses the language (ISO 639-3). Input up to 2 MiB.
    #[tool(
        title = "Measure a text",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn text_stats(
        &self,
        Parameters(args): Parameters<TextStatsArgs>,
    ) -> Result<Json<TextStatsResult>, ToolError> {
        limits::check_size("text", &args.text, MAX_INPUT)?;
        let text = args.text;
        let s = cpu_work(text.len(), move || stats::text_stats(&text)).await?;
        Ok(Json(TextStatsResult {
            chars: s.chars,
            bytes: s.bytes,
            words: s.words,
            sentences: s.sentences,
            paragraphs: s.paragraphs,
            lines: s.lines,
            avg_words_per_sentence: s.avg_words_per_sentence,
            reading_time_seconds: s.reading_time_seconds,
            language: s.language.map(|l| LanguageResult {
                code: l.code.to_owned(),
                name: l.name.to_owned(),
                confidence: l.confidence,
                reliable: l.reliable,
            }),
        }))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Transform {
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
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, rmcp::ErrorData> {
        prompts::complete(&request)
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_completions()
                .enable_prompts()
                .enable_tools()
                .build(),
        )
            .with_server_info(ffmcp_core::server::server_info(
            "ffmcp-transform",
            env!("CARGO_PKG_VERSION"),
            crate::TITLE,
        ))
            .with_instructions(
                "Text and data transforms. Offline: convert between JSON/YAML/TOML/CSV, \
                 HTML to Markdown, Markdown to sanitized HTML, text statistics. With a language \
                 model (FF_LLM_PRIMARY, or the client's own via MCP sampling): summarize, \
                 translate, rewrite, extract (to a JSON schema), classify; `models` shows the \
                 routes and their health, resource ffmcp://stats the latency, tokens and cost. \
                 Every tool returns structured content matching its output schema plus a short text.",
            )
    }
}

impl ffmcp_core::Tools for Transform {
    fn tools(&self) -> &ToolRouter<Self> {
        &self.tool_router
    }

    /// Long calls run as MCP tasks: model work on long texts.
    fn task_tools(&self) -> &'static [&'static str] {
        &["summarize", "translate"]
    }
}

//! The MCP edge of the transform server: argument and result types (their
//! doc comments are the schemas an agent reads), the tool methods, and the
//! mapping from domain results to them.

use std::sync::{Arc, OnceLock};

use ffmcp_core::{
    Json, Render, ToolError, limits,
    model::{Call, ModelError, Response, RouteStatus, Router},
    tool::cpu_work,
};
use rmcp::{
    ErrorData, Peer, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{
        CallToolRequestParams, CallToolResponse, Implementation, ListResourcesResult,
        PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
        ReadResourceResult, Resource, ResourceContents, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    convert::{self, Format},
    html,
    llm::{self, RewriteLength, Scored, SummaryFormat, SummaryLength, TransformError},
    markdown, stats,
};

const MAX_INPUT: usize = limits::DEFAULT_MAX_INPUT_BYTES;
/// Text sent to a model: large enough for long documents, small enough to
/// bound cost and context.
const MAX_MODEL_INPUT: usize = 256 * 1024;

/// The URI of the model-call statistics resource.
pub const STATS_URI: &str = "ffmcp://stats";

/// The transform server.
#[derive(Clone)]
pub struct Transform {
    tool_router: ToolRouter<Self>,
    models: Models,
}

impl Default for Transform {
    fn default() -> Self {
        Self::new()
    }
}

/// The model router, shared by every session of the process and built on
/// first use (the offline tools never pay for it).
#[derive(Clone, Default)]
pub struct Models(Arc<OnceLock<Router>>);

impl Models {
    /// A handle that reads `FF_LLM_*` and the provider variables on first use.
    pub fn from_env() -> Self {
        Self::default()
    }

    /// A handle on an already-built router.
    pub fn with_router(router: Router) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(router);
        Self(Arc::new(cell))
    }

    fn get(&self) -> &Router {
        self.0.get_or_init(Router::from_env)
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

// ---- model-backed tools: shared ---------------------------------------------

/// How a model call went: which route answered and what it cost.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelUse {
    /// The route that answered, `provider:model`.
    pub route: String,
    /// The model as the provider named it.
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// USD, when the model's price is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Whole call, retries and fallbacks included.
    pub latency_ms: u64,
    /// Provider attempts made.
    pub attempts: u32,
    /// Routes passed over before the one that answered (0: the first answered).
    pub fallbacks: u32,
}

impl From<&Response> for ModelUse {
    fn from(r: &Response) -> Self {
        Self {
            route: r.route.to_string(),
            model: r.model.clone(),
            input_tokens: r.usage.input_tokens,
            output_tokens: r.usage.output_tokens,
            cost_usd: r.cost_usd,
            latency_ms: u64::try_from(r.latency.as_millis()).unwrap_or(u64::MAX),
            attempts: r.attempts,
            fallbacks: r.fallbacks,
        }
    }
}

impl ModelUse {
    fn line(&self) -> String {
        let mut line = format!("[{} · {} ms", self.route, self.latency_ms);
        if self.fallbacks > 0 {
            line.push_str(&format!(" · after {} fallback(s)", self.fallbacks));
        }
        line.push(']');
        line
    }
}

fn model_error(err: TransformError) -> ToolError {
    match err {
        TransformError::Model(ModelError::InvalidRoute(m)) => ToolError::invalid(m),
        TransformError::Model(e @ ModelError::InvalidSchema(_)) => {
            ToolError::invalid(format!("argument 'schema': {e}"))
        }
        other => ToolError::upstream(other.to_string()),
    }
}

fn model_call(tool: &str, model: Option<&str>, peer: Peer<RoleServer>) -> Result<Call, ToolError> {
    Call::new(tool)
        .with_peer(peer)
        .with_model_arg(model)
        .map_err(|e| ToolError::invalid(e.to_string()))
}

fn check_text(text: &str) -> Result<(), ToolError> {
    limits::check_size("text", text, MAX_MODEL_INPUT)?;
    if text.trim().is_empty() {
        return Err(ToolError::invalid("argument 'text' is empty"));
    }
    Ok(())
}

/// Text produced by a model.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TextResult {
    /// The produced text.
    pub text: String,
    pub model: ModelUse,
}

impl Render for TextResult {
    fn render(&self) -> String {
        format!("{}\n{}", self.text, self.model.line())
    }
}

// ---- summarize --------------------------------------------------------------

/// Arguments of `summarize`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummarizeArgs {
    /// The text to summarise (at most 256 KiB).
    pub text: String,
    /// short, medium (default) or long.
    #[serde(default)]
    pub length: SummaryLength,
    /// paragraph (default), bullets or tldr (one line).
    #[serde(default)]
    pub format: SummaryFormat,
    /// What the summary should concentrate on, e.g. "pricing changes".
    #[serde(default)]
    pub focus: Option<String>,
    /// Language of the summary (default: the text's own), e.g. "English".
    #[serde(default)]
    pub language: Option<String>,
    /// Route(s) to use instead of the configured ones: provider:model, comma-separated
    /// (e.g. "openai:gpt-4o-mini"). Default: FF_LLM_PRIMARY then FF_LLM_FALLBACKS.
    #[serde(default)]
    pub model: Option<String>,
}

// ---- translate --------------------------------------------------------------

/// Arguments of `translate`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslateArgs {
    /// The text to translate (at most 256 KiB); Markdown and line breaks are kept.
    pub text: String,
    /// Target language, e.g. "German" or "pt-BR".
    pub to: String,
    /// Source language, when known (default: detected by the model).
    #[serde(default)]
    pub from: Option<String>,
    /// true for the formal register, false for the informal one (default: as the source).
    #[serde(default)]
    pub formal: Option<bool>,
    /// Route(s) to use instead of the configured ones: provider:model, comma-separated.
    #[serde(default)]
    pub model: Option<String>,
}

// ---- rewrite ----------------------------------------------------------------

/// Arguments of `rewrite`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RewriteArgs {
    /// The text to rewrite (at most 256 KiB).
    pub text: String,
    /// Desired tone, e.g. "friendly", "formal", "confident".
    #[serde(default)]
    pub tone: Option<String>,
    /// Who will read it, e.g. "executives", "10-year-olds", "developers new to Rust".
    #[serde(default)]
    pub audience: Option<String>,
    /// shorter, same (default) or longer.
    #[serde(default)]
    pub length: RewriteLength,
    /// Anything else to change, e.g. "use British spelling".
    #[serde(default)]
    pub instructions: Option<String>,
    /// Route(s) to use instead of the configured ones: provider:model, comma-separated.
    #[serde(default)]
    pub model: Option<String>,
}

// ---- extract ----------------------------------------------------------------

/// Arguments of `extract`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractArgs {
    /// The free text to extract from (at most 256 KiB).
    pub text: String,
    /// A JSON Schema (an object) the result must match, e.g.
    /// {"type":"object","properties":{"name":{"type":"string"},"email":{"type":["string","null"]}},"required":["name"]}.
    pub schema: serde_json::Map<String, Value>,
    /// Extra guidance, e.g. "dates as YYYY-MM-DD".
    #[serde(default)]
    pub instructions: Option<String>,
    /// Route(s) to use instead of the configured ones: provider:model, comma-separated.
    #[serde(default)]
    pub model: Option<String>,
}

/// Result of `extract`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExtractResult {
    /// The extracted data; it matches the given schema.
    pub data: Value,
    /// Whether the model's first reply failed validation and was repaired once.
    pub repaired: bool,
    pub model: ModelUse,
}

impl Render for ExtractResult {
    fn render(&self) -> String {
        format!("{}\n{}", self.data, self.model.line())
    }
}

// ---- classify ---------------------------------------------------------------

/// Arguments of `classify`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyArgs {
    /// The text to classify (at most 256 KiB).
    pub text: String,
    /// The labels to choose from (2 to 200 distinct, non-empty).
    pub labels: Vec<String>,
    /// Return every label that applies instead of the single best one (default false).
    #[serde(default)]
    pub multi_label: bool,
    /// What the labels mean or how to decide, e.g. "billing = anything about invoices or refunds".
    #[serde(default)]
    pub instructions: Option<String>,
    /// Route(s) to use instead of the configured ones: provider:model, comma-separated.
    #[serde(default)]
    pub model: Option<String>,
}

/// Result of `classify`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ClassifyResult {
    /// The best label (absent when multi_label found none that applies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The model's confidence in `label`, 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Every label returned, most confident first (one for single-label calls).
    pub labels: Vec<Scored>,
    pub model: ModelUse,
}

impl Render for ClassifyResult {
    fn render(&self) -> String {
        let picked = self
            .labels
            .iter()
            .map(|s| format!("{} ({:.2})", s.label, s.confidence))
            .collect::<Vec<_>>()
            .join(", ");
        let picked = if picked.is_empty() {
            "no label applies".to_owned()
        } else {
            picked
        };
        format!("{picked}\n{}", self.model.line())
    }
}

// ---- models -----------------------------------------------------------------

/// Arguments of `models` (none).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelsArgs {}

/// Result of `models`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ModelsResult {
    /// Whether FF_LLM_PRIMARY (or FF_LLM_FALLBACKS) names at least one usable route.
    pub configured: bool,
    /// Whether the connected client advertises MCP sampling (used when nothing is configured).
    pub client_sampling: bool,
    /// The configured routes in order (primary first) and their health.
    pub routes: Vec<RouteResult>,
    /// Problems found reading the configuration.
    pub problems: Vec<String>,
    /// Retry and breaker settings in force.
    pub policy: PolicyResult,
}

/// One configured route.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RouteResult {
    /// `provider:model`.
    pub route: String,
    /// anthropic, openai, gemini, bedrock, openai-compat or sampling.
    pub provider: String,
    pub model: String,
    /// 0 for the primary.
    pub position: usize,
    /// healthy, failing (recent failures), cooling_down (skipped by the breaker), probing
    /// (the next call tries it again) or unconfigured (see setup_missing).
    pub health: String,
    pub consecutive_failures: u32,
    /// Time left before the breaker lets a call try the route again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooldown_remaining_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// What must be set before the route can work, e.g. "OPENAI_API_KEY is not set".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_missing: Option<String>,
}

impl From<RouteStatus> for RouteResult {
    fn from(r: RouteStatus) -> Self {
        let health = serde_json::to_value(r.health)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Self {
            route: r.route,
            provider: r.provider.to_owned(),
            model: r.model,
            position: r.position,
            health,
            consecutive_failures: r.consecutive_failures,
            cooldown_remaining_ms: r.cooldown_remaining_ms,
            last_error: r.last_error,
            setup_missing: r.setup_missing,
        }
    }
}

/// The router's settings.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PolicyResult {
    pub attempt_timeout_ms: u64,
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    pub retry_after_cap_ms: u64,
    pub breaker_failures: u32,
    pub cooldown_ms: u64,
}

impl Render for ModelsResult {
    fn render(&self) -> String {
        if self.routes.is_empty() {
            let fallback = if self.client_sampling {
                "the connected client's own model (MCP sampling) will be used"
            } else {
                "model tools will fail until FF_LLM_PRIMARY is set"
            };
            return format!("No model route configured; {fallback}.");
        }
        self.routes
            .iter()
            .map(|r| {
                let mut line = format!("{}. {} — {}", r.position + 1, r.route, r.health);
                if let Some(ms) = r.cooldown_remaining_ms {
                    line.push_str(&format!(", cooling down {ms} ms"));
                }
                if let Some(missing) = &r.setup_missing {
                    line.push_str(&format!(", {missing}"));
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

// ---- tools -----------------------------------------------------------------

#[tool_router]
impl Transform {
    pub fn new() -> Self {
        Self::with_models(Models::from_env())
    }

    /// A server whose model tools use `models` (shared across sessions).
    pub fn with_models(models: Models) -> Self {
        Self {
            tool_router: Self::tool_router(),
            models,
        }
    }

    /// Converts data between JSON, YAML, TOML and CSV. Key order is preserved. Conversions that
    /// would lose information are refused with an error naming the place (nested data to CSV,
    /// null to TOML, a non-table to TOML). CSV cells stay strings unless infer_types is set.
    /// Input up to 2 MiB.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
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
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
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
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    async fn markdown_to_html(
        &self,
        Parameters(args): Parameters<MarkdownToHtmlArgs>,
    ) -> Result<Json<HtmlResult>, ToolError> {
        limits::check_size("markdown", &args.markdown, MAX_INPUT)?;
        // Raw HTML inside Markdown reaches ammonia's html5ever parser.
        limits::check_html_depth("markdown", &args.markdown, limits::MAX_HTML_DEPTH)?;
        let source = args.markdown;
        let out = cpu_work(source.len(), move || markdown::markdown_to_html(&source)).await?;
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
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
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

    /// Summarises a text with the configured language model (FF_LLM_PRIMARY, with fallbacks;
    /// or the client's own model via MCP sampling). Choose length (short/medium/long), format
    /// (paragraph/bullets/tldr), an optional focus and output language. Never invents content:
    /// fails with a clear message when no model answers. Input up to 256 KiB.
    #[tool(annotations(read_only_hint = true, idempotent_hint = false, open_world_hint = true))]
    async fn summarize(
        &self,
        peer: Peer<RoleServer>,
        Parameters(args): Parameters<SummarizeArgs>,
    ) -> Result<Json<TextResult>, ToolError> {
        check_text(&args.text)?;
        let call = model_call("summarize", args.model.as_deref(), peer)?;
        let response = llm::summarize(
            self.models.get(),
            &call,
            &args.text,
            args.length,
            args.format,
            args.focus.as_deref(),
            args.language.as_deref(),
        )
        .await
        .map_err(model_error)?;
        Ok(Json(TextResult {
            model: ModelUse::from(&response),
            text: response.text,
        }))
    }

    /// Translates a text into another language with the configured language model, keeping
    /// Markdown, names, numbers, URLs and code. Optional source language and formal/informal
    /// register. Input up to 256 KiB.
    #[tool(annotations(read_only_hint = true, idempotent_hint = false, open_world_hint = true))]
    async fn translate(
        &self,
        peer: Peer<RoleServer>,
        Parameters(args): Parameters<TranslateArgs>,
    ) -> Result<Json<TextResult>, ToolError> {
        check_text(&args.text)?;
        if args.to.trim().is_empty() {
            return Err(ToolError::invalid(
                "argument 'to' must name the target language, e.g. \"German\"",
            ));
        }
        let call = model_call("translate", args.model.as_deref(), peer)?;
        let response = llm::translate(
            self.models.get(),
            &call,
            &args.text,
            args.to.trim(),
            args.from.as_deref(),
            args.formal,
        )
        .await
        .map_err(model_error)?;
        Ok(Json(TextResult {
            model: ModelUse::from(&response),
            text: response.text,
        }))
    }

    /// Rewrites a text for a tone (e.g. friendly, formal), an audience (e.g. executives) and/or
    /// a length (shorter/same/longer), keeping its facts, with the configured language model.
    /// Give at least one of tone, audience, length or instructions. Input up to 256 KiB.
    #[tool(annotations(read_only_hint = true, idempotent_hint = false, open_world_hint = true))]
    async fn rewrite(
        &self,
        peer: Peer<RoleServer>,
        Parameters(args): Parameters<RewriteArgs>,
    ) -> Result<Json<TextResult>, ToolError> {
        check_text(&args.text)?;
        if args.tone.is_none()
            && args.audience.is_none()
            && args.instructions.is_none()
            && args.length == RewriteLength::Same
        {
            return Err(ToolError::invalid(
                "say what to change: give at least one of 'tone', 'audience', 'instructions', \
                 or 'length' (shorter/longer)",
            ));
        }
        let call = model_call("rewrite", args.model.as_deref(), peer)?;
        let spec = llm::RewriteSpec {
            tone: args.tone.as_deref(),
            audience: args.audience.as_deref(),
            length: args.length,
            instructions: args.instructions.as_deref(),
        };
        let response = llm::rewrite(self.models.get(), &call, &args.text, &spec)
            .await
            .map_err(model_error)?;
        Ok(Json(TextResult {
            model: ModelUse::from(&response),
            text: response.text,
        }))
    }

    /// Extracts structured data from free text into a JSON Schema you give (e.g. contacts,
    /// dates, line items). The model's reply is validated against the schema, repaired once if
    /// needed, and otherwise the call fails with the validation problem: the data always matches.
    /// Input up to 256 KiB.
    #[tool(annotations(read_only_hint = true, idempotent_hint = false, open_world_hint = true))]
    async fn extract(
        &self,
        peer: Peer<RoleServer>,
        Parameters(args): Parameters<ExtractArgs>,
    ) -> Result<Json<ExtractResult>, ToolError> {
        check_text(&args.text)?;
        let call = model_call("extract", args.model.as_deref(), peer)?;
        let schema = Value::Object(args.schema);
        let answer = llm::extract(
            self.models.get(),
            &call,
            &args.text,
            &schema,
            args.instructions.as_deref(),
        )
        .await
        .map_err(model_error)?;
        Ok(Json(ExtractResult {
            model: ModelUse::from(&answer.response),
            data: answer.value,
            repaired: answer.repaired,
        }))
    }

    /// Classifies a text into labels you give, with the model's confidence (0-1): the single
    /// best label, or with multi_label every label that applies. Labels are enforced: the
    /// result only ever contains your labels. Input up to 256 KiB.
    #[tool(annotations(read_only_hint = true, idempotent_hint = false, open_world_hint = true))]
    async fn classify(
        &self,
        peer: Peer<RoleServer>,
        Parameters(args): Parameters<ClassifyArgs>,
    ) -> Result<Json<ClassifyResult>, ToolError> {
        check_text(&args.text)?;
        let mut labels: Vec<String> = Vec::with_capacity(args.labels.len());
        for label in &args.labels {
            let label = label.trim();
            if label.is_empty() {
                return Err(ToolError::invalid(
                    "argument 'labels' contains an empty label",
                ));
            }
            if !labels.iter().any(|l| l == label) {
                labels.push(label.to_owned());
            }
        }
        if !(2..=200).contains(&labels.len()) {
            return Err(ToolError::invalid(format!(
                "argument 'labels' needs 2 to 200 distinct labels, got {}",
                labels.len()
            )));
        }
        let call = model_call("classify", args.model.as_deref(), peer)?;
        let (picked, answer) = llm::classify(
            self.models.get(),
            &call,
            &args.text,
            &labels,
            args.multi_label,
            args.instructions.as_deref(),
        )
        .await
        .map_err(model_error)?;
        Ok(Json(ClassifyResult {
            label: picked.first().map(|s| s.label.clone()),
            confidence: picked.first().map(|s| s.confidence),
            labels: picked,
            model: ModelUse::from(&answer.response),
        }))
    }

    /// Lists the configured model routes (FF_LLM_PRIMARY, then FF_LLM_FALLBACKS) with their
    /// health: healthy, failing, cooling_down (skipped by the circuit breaker, with the time
    /// left), probing, or unconfigured (a key is missing); plus whether the connected client
    /// can sample. Per-call latency, tokens and cost are in the ffmcp://stats resource.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    async fn models(
        &self,
        peer: Peer<RoleServer>,
        Parameters(_args): Parameters<ModelsArgs>,
    ) -> Result<Json<ModelsResult>, ToolError> {
        let router = self.models.get();
        let config = router.config();
        let routes = router.status();
        Ok(Json(ModelsResult {
            configured: routes.iter().any(|r| r.setup_missing.is_none()),
            client_sampling: peer
                .peer_info()
                .is_some_and(|info| info.capabilities.sampling.is_some()),
            routes: routes.into_iter().map(RouteResult::from).collect(),
            problems: router.problems().to_vec(),
            policy: PolicyResult {
                attempt_timeout_ms: millis(config.attempt_timeout),
                max_attempts: config.max_attempts,
                backoff_base_ms: millis(config.backoff_base),
                retry_after_cap_ms: millis(config.retry_after_cap),
                breaker_failures: config.breaker_threshold,
                cooldown_ms: millis(config.cooldown),
            },
        }))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Transform {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
            .with_server_info(Implementation::new(
                "ffmcp-transform",
                env!("CARGO_PKG_VERSION"),
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

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        ffmcp_core::tool::call_tool(&self.tool_router, self, request, context).await
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(vec![
            Resource::new(STATS_URI, "stats")
                .with_title("Model call statistics")
                .with_description(
                    "Model calls since the server started: per tool and per route, calls, \
                     failures, attempts, fallbacks, tokens, cost (USD) and p50/p95/p99 latency; \
                     plus each route's health. No prompt or completion text.",
                )
                .with_mime_type("application/json"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != STATS_URI {
            return Err(ErrorData::resource_not_found(
                format!(
                    "unknown resource '{}'; this server offers {STATS_URI}",
                    request.uri
                ),
                None,
            ));
        }
        let router = self.models.get();
        let body = serde_json::json!({
            "stats": router.stats(),
            "routes": router.status(),
        });
        let text = serde_json::to_string_pretty(&body).map_err(|e| {
            ErrorData::internal_error(format!("could not serialise the stats: {e}"), None)
        })?;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, STATS_URI).with_mime_type("application/json"),
        ])
        .into())
    }
}

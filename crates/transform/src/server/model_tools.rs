//! The MCP edge of transform's model-backed tools: argument and result
//! types (their doc comments are the schemas an agent reads), the tool
//! methods, and the mapping from `llm` results and `core::model` errors.

use ffmcp_core::{
    Json, Render, ToolError, limits,
    model::{Call, Response, RouteStatus},
};
use rmcp::{Peer, RoleServer, handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Transform;
use crate::llm::{self, RewriteLength, Scored, SummaryFormat, SummaryLength, TransformError};

/// Text sent to a model: large enough for long documents, small enough to
/// bound cost and context.
const MAX_MODEL_INPUT: usize = 256 * 1024;

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
        TransformError::Model(e) => e.into(),
        other => ToolError::upstream(other.to_string()),
    }
}

fn model_call(tool: &str, model: Option<&str>, peer: Peer<RoleServer>) -> Result<Call, ToolError> {
    Call::new(tool)
        .with_sampler(ffmcp_core::sampling::client(peer))
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
    /// The embedding route (FF_EMBED_MODEL; coderag's dense retrieval) and its health; null when
    /// none is configured.
    pub embedding: Option<RouteResult>,
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
        let describe = |r: &RouteResult| {
            let mut line = format!("{} — {}", r.route, r.health);
            if let Some(ms) = r.cooldown_remaining_ms {
                line.push_str(&format!(", cooling down {ms} ms"));
            }
            if let Some(missing) = &r.setup_missing {
                line.push_str(&format!(", {missing}"));
            }
            line
        };
        let mut lines: Vec<String> = if self.routes.is_empty() {
            let fallback = if self.client_sampling {
                "the connected client's own model (MCP sampling) will be used"
            } else {
                "model tools will fail until FF_LLM_PRIMARY is set"
            };
            vec![format!("No model route configured; {fallback}.")]
        } else {
            self.routes
                .iter()
                .map(|r| format!("{}. {}", r.position + 1, describe(r)))
                .collect()
        };
        lines.push(match &self.embedding {
            Some(r) => format!("Embedding route: {}", describe(r)),
            None => "Embedding route: none configured (FF_EMBED_MODEL)".to_owned(),
        });
        lines.join("\n")
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

// ---- tools -------------------------------------------------------------------

#[tool_router(router = model_tool_router, vis = "pub(super)")]
impl Transform {
    /// Summarises a text with the configured language model (FF_LLM_PRIMARY, with fallbacks;
    /// or the client's own model via MCP sampling). Choose length (short/medium/long), format
    /// (paragraph/bullets/tldr), an optional focus and output language. Never invents content:
    /// fails with a clear message when no model answers. Input up to 256 KiB.
    #[tool(
        title = "Summarize a text",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
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
    #[tool(
        title = "Translate a text",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
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
    #[tool(
        title = "Rewrite a text",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
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
    #[tool(
        title = "Extract structured data from text",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
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
    #[tool(
        title = "Classify a text",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
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
    /// left), probing, or unconfigured (a key is missing); the embedding route (FF_EMBED_MODEL,
    /// or null when none is configured); plus whether the connected client can sample. Per-call latency, tokens and cost are in the ffmcp://stats resource.
    #[tool(
        title = "List model routes",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
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
            embedding: router.embed_status().map(RouteResult::from),
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

//! The router: one `complete` call walks the routes in order, retrying
//! transient failures with exponential backoff and full jitter (honouring
//! `retry-after` up to a cap), moving on when a route keeps failing, and
//! skipping routes whose circuit breaker is open, so later calls do not pay
//! a dead provider's timeouts.
//!
//! Failure policy (see [`ProviderError`]'s classification):
//! * 408, 429, 5xx (529 and 503 included), timeouts, connection errors and
//!   malformed replies are transient: up to `max_attempts` per route, then
//!   the next route. A timeout moves to the next route at once when there is
//!   one (a slow provider tends to stay slow), and so does a `retry-after`
//!   longer than `retry_after_cap`.
//! * Other 4xx (400, 401, 403, 404, 422, ...) stop the call: no retry, no
//!   fallback; the error names the provider, status and message.
//! * A route that cannot be used here (no key, no sampling client) is
//!   passed over without counting against it.
//!
//! Breaker: after `breaker_threshold` consecutive abandoned calls a route is
//! skipped for `cooldown`; then one call probes it (half-open) while the
//! others keep skipping; a success closes it, a failure re-opens it. When
//! every route is cooling down, each gets one attempt anyway rather than the
//! call failing untried.

use std::{fmt, sync::Arc, time::Duration};

// tokio's clock: windows and latencies follow a paused test clock too.
use tokio::time::Instant;
use tracing::Instrument;

pub use super::breaker::{RouteHealth, RouteStatus};
pub use super::config::RouterConfig;
use super::{
    accounting::{CallRecord, Stats, StatsSnapshot},
    breaker::Breaker,
    provider::{Disposition, Failure, ProviderError, Providers},
    request::{Completion, Request, Usage},
    route::{ProviderKind, RequestedRoute, Route, parse_requested_routes},
    sampler::Sampler,
};

/// Who is calling: the tool (for accounting), an optional per-call route
/// list replacing the configured one, and who answers the `sampling` route.
///
/// `routes` is trusted (set by ffmcp's own code); `requested` comes from a
/// tool argument and is checked against the configuration before use.
#[derive(Clone, Default)]
pub struct Call {
    /// The calling tool's name, for accounting (`(direct)` when empty).
    pub tool: String,
    /// Routes replacing the configured ones (trusted).
    pub routes: Option<Vec<Route>>,
    /// Routes from a tool's `model` argument (checked against the configuration).
    pub requested: Option<Vec<RequestedRoute>>,
    /// Who answers `sampling` routes (the calling MCP client).
    pub sampler: Option<Arc<dyn Sampler>>,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("tool", &self.tool)
            .field("routes", &self.routes)
            .field("requested", &self.requested)
            .field("sampler", &self.sampler.is_some())
            .finish()
    }
}

impl Call {
    /// A call from `tool` over the configured routes.
    pub fn new(tool: impl Into<String>) -> Self {
        Self {
            tool: tool.into(),
            ..Self::default()
        }
    }

    /// Replaces the configured routes for this call (a tool's `model` argument).
    pub fn with_routes(mut self, routes: Vec<Route>) -> Self {
        self.routes = Some(routes);
        self
    }

    /// Who answers `sampling` routes (at the server edge: the calling MCP
    /// client, `ffmcp_core::sampling::client`).
    pub fn with_sampler(mut self, sampler: Arc<dyn Sampler>) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// Parses a tool's `model` argument (`provider:model`, comma-separated).
    ///
    /// Only the syntax is checked here; [`Router::complete`] (and
    /// [`Router::authorize`]) accept it only where it selects configured
    /// providers and base URLs.
    pub fn with_model_arg(mut self, model: Option<&str>) -> Result<Self, ModelError> {
        match model.map(str::trim).filter(|m| !m.is_empty()) {
            None => Ok(self),
            Some(spec) => {
                let requested = parse_requested_routes(spec)
                    .map_err(|e| ModelError::InvalidRoute(e.to_string()))?;
                self.requested = Some(requested);
                Ok(self)
            }
        }
    }
}

/// A completed call.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The generated text.
    pub text: String,
    /// The route that answered.
    pub route: Route,
    /// The model as the provider named it.
    pub model: String,
    /// Tokens of the answering attempt.
    pub usage: Usage,
    /// `None` when the model's price is unknown.
    pub cost_usd: Option<f64>,
    /// Provider attempts made, across routes.
    pub attempts: u32,
    /// Routes passed over before the one that answered.
    pub fallbacks: u32,
    /// From the start of the call to the answer, retries and fallbacks included.
    pub latency: Duration,
    /// The provider's stop reason, verbatim.
    pub stop_reason: Option<String>,
}

/// Why one route did not answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteFailure {
    /// The route that failed.
    pub route: Route,
    /// Attempts made on it (0 when its breaker was open).
    pub attempts: u32,
    /// The last error, or why the route was skipped.
    pub reason: String,
}

/// A failed call, worded for the agent that made it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// No route is configured and the client cannot sample.
    #[error("{}", not_configured_message(.problems))]
    NotConfigured {
        /// What was wrong in the configuration, if anything.
        problems: Vec<String>,
    },
    /// Embeddings were asked for and no embedding route is configured.
    #[error("{}", no_embedding_route_message(.problems))]
    NoEmbeddingRoute {
        /// What was wrong in the configuration, if anything.
        problems: Vec<String>,
    },
    /// The input cannot be sent as it is (an empty embedding input).
    #[error("{0}")]
    InvalidInput(String),
    /// A per-call route list could not be parsed.
    #[error("argument 'model': {0}")]
    InvalidRoute(String),
    /// The provider refused the request itself (4xx): retrying or falling
    /// back would not help.
    #[error(
        "{route} rejected the request with {error}; not retried and no fallback tried, \
         since the request or credentials must change"
    )]
    Rejected {
        /// The route (`provider:model`) that refused.
        route: String,
        /// The provider's refusal.
        error: Box<ProviderError>,
    },
    /// Every route failed.
    #[error("every model route failed: {}", list_failures(.failures))]
    AllFailed {
        /// Each route's failure, in the order tried.
        failures: Vec<RouteFailure>,
    },
    /// The caller's JSON schema is not a valid schema.
    #[error("the JSON schema is not valid: {0}")]
    InvalidSchema(String),
    /// The reply did not match the schema, even after one repair attempt.
    #[error(
        "{route} replied with JSON that does not match the schema, also after one repair attempt: {problem}"
    )]
    InvalidOutput {
        /// The route (`provider:model`) that replied.
        route: String,
        /// Where the reply breaks the schema.
        problem: String,
    },
}

/// How to make a route available, for errors about the `model` argument.
const CONFIGURE_HINT: &str = "add the route to FF_LLM_PRIMARY or FF_LLM_FALLBACKS in the server's \
     environment (with its key variable, e.g. FF_LLM_FALLBACKS=openai-compat:http://127.0.0.1:11434/v1#llama3) \
     and select it here by its provider and model";

/// Two base URLs name the same server (trailing slashes aside).
fn same_base(a: &url::Url, b: &url::Url) -> bool {
    a.as_str().trim_end_matches('/') == b.as_str().trim_end_matches('/')
}

fn not_configured_message(problems: &[String]) -> String {
    let mut text = String::from(
        "no model is configured: set FF_LLM_PRIMARY to a route such as \
         anthropic:claude-sonnet-4-5 (with ANTHROPIC_API_KEY), openai:gpt-4o (OPENAI_API_KEY), \
         gemini:gemini-2.5-pro (GEMINI_API_KEY), bedrock:<model id> (AWS_ACCESS_KEY_ID, \
         AWS_SECRET_ACCESS_KEY, AWS_REGION) or openai-compat:http://127.0.0.1:11434/v1#llama3 \
         (a local Ollama), optionally FF_LLM_FALLBACKS with more routes; or connect from an \
         MCP client that supports sampling",
    );
    if !problems.is_empty() {
        text.push_str(". Configuration problems: ");
        text.push_str(&problems.join("; "));
    }
    text
}

fn no_embedding_route_message(problems: &[String]) -> String {
    let mut text = String::from(
        "no embedding route is configured: set FF_EMBED_MODEL to a route such as \
         openai:text-embedding-3-small (with OPENAI_API_KEY), gemini:gemini-embedding-001 \
         (GEMINI_API_KEY) or openai-compat:http://127.0.0.1:11434/v1#nomic-embed-text \
         (a local Ollama, llama.cpp or vLLM server)",
    );
    let relevant: Vec<&String> = problems
        .iter()
        .filter(|p| p.starts_with(super::config::EMBED_MODEL_ENV))
        .collect();
    if !relevant.is_empty() {
        text.push_str(". Configuration problems: ");
        text.push_str(
            &relevant
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    text
}

fn list_failures(failures: &[RouteFailure]) -> String {
    failures
        .iter()
        .map(|f| match f.attempts {
            0 => format!("{}: {}", f.route, f.reason),
            1 => format!("{}: {} (1 attempt)", f.route, f.reason),
            n => format!("{}: {} ({n} attempts)", f.route, f.reason),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The model client every server uses; see the module docs.
pub struct Router {
    pub(super) config: RouterConfig,
    /// Built on first use: a process whose tools never call a model never
    /// loads TLS roots or builds an HTTP client.
    providers: std::sync::OnceLock<Providers>,
    pub(super) breaker: Breaker,
    pub(super) stats: Stats,
    pub(super) problems: Vec<String>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.config.routes)
            .finish_non_exhaustive()
    }
}

/// How one route's turn ended without an answer.
pub(super) enum RouteEnd {
    /// Stop the whole call.
    Stop(ProviderError),
    /// Go to the next route; `counts` says whether the breaker should count it.
    Abandon {
        error: ProviderError,
        attempts: u32,
        counts: bool,
    },
}

/// How the call goes on after a route's turn.
pub(super) enum Settled<T> {
    Answer(T),
    Next(RouteFailure),
    Stop(ModelError),
}

impl Router {
    /// A router over `config`, with no configuration problems to report.
    pub fn new(config: RouterConfig) -> Self {
        Self::with_problems(config, Vec::new())
    }

    /// A router that reports `problems` (from reading its configuration)
    /// in its not-configured error and in [`Router::problems`].
    pub fn with_problems(config: RouterConfig, problems: Vec<String>) -> Self {
        // A probe that never reports back stops blocking others after the
        // longest a route's turn can take.
        let probe_budget =
            (config.attempt_timeout + config.backoff_max).saturating_mul(config.max_attempts);
        Self {
            providers: std::sync::OnceLock::new(),
            breaker: Breaker::new(config.breaker_threshold, config.cooldown, probe_budget),
            config,
            stats: Stats::default(),
            problems,
        }
    }

    /// From the configuration; its problems are logged and kept.
    pub fn from_config(config: &crate::config::Config) -> Self {
        let (config, problems) = RouterConfig::from_config(config);
        for problem in &problems {
            tracing::warn!(%problem, "model configuration");
        }
        Self::with_problems(config, problems)
    }

    /// The configuration it routes by.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// What was wrong in its configuration (empty when nothing was).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The providers, for direct calls that bypass routing.
    pub fn providers(&self) -> &Providers {
        self.providers
            .get_or_init(|| Providers::new(self.config.providers.clone()))
    }

    /// Every tool's and route's counters so far (the `ffmcp://stats` resource).
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// The configured routes and their health.
    pub fn status(&self) -> Vec<RouteStatus> {
        let now = Instant::now();
        self.config
            .routes
            .iter()
            .enumerate()
            .map(|(position, route)| {
                let setup_missing = self.providers().missing_setup(route);
                let (health, consecutive_failures, remaining, last_error) =
                    self.breaker.state(route, setup_missing.is_some(), now);
                RouteStatus {
                    route: route.to_string(),
                    provider: route.provider.name(),
                    model: route.model.clone(),
                    position,
                    health,
                    consecutive_failures,
                    cooldown_remaining_ms: remaining.map(|d| d.as_millis() as u64),
                    last_error,
                    setup_missing,
                }
            })
            .collect()
    }

    /// The embedding route (`FF_EMBED_MODEL`) and its health; `None` when
    /// none is configured.
    pub fn embed_status(&self) -> Option<RouteStatus> {
        let route = self.config.embed.as_ref()?;
        let setup_missing = self.providers().missing_setup(route);
        let (health, consecutive_failures, remaining, last_error) =
            self.breaker
                .state(route, setup_missing.is_some(), Instant::now());
        Some(RouteStatus {
            route: route.to_string(),
            provider: route.provider.name(),
            model: route.model.clone(),
            position: 0,
            health,
            consecutive_failures,
            cooldown_remaining_ms: remaining.map(|d| d.as_millis() as u64),
            last_error,
            setup_missing,
        })
    }

    /// One completion, routed; see the module docs for the policy.
    pub async fn complete(&self, request: &Request, call: &Call) -> Result<Response, ModelError> {
        let started = Instant::now();
        let tool = if call.tool.is_empty() {
            "(direct)"
        } else {
            call.tool.as_str()
        };
        let routes = self.plan(call)?;
        let span = tracing::info_span!("model_call", tool, routes = routes.len());
        let mut attempts = 0;
        let result = self
            .run(request, call, &routes, &mut attempts, started)
            .instrument(span.clone())
            .await;
        let latency = started.elapsed();
        let _in_span = span.enter();
        match &result {
            Ok(response) => {
                self.stats.call(
                    tool,
                    CallRecord {
                        ok: true,
                        attempts,
                        fallbacks: response.fallbacks,
                        usage: response.usage,
                        cost_usd: response.cost_usd,
                        latency,
                    },
                );
                tracing::info!(
                    tool,
                    route = %response.route,
                    attempts,
                    fallbacks = response.fallbacks,
                    input_tokens = response.usage.input_tokens,
                    output_tokens = response.usage.output_tokens,
                    cost_usd = response.cost_usd.unwrap_or(0.0),
                    latency_ms = latency.as_millis() as u64,
                    "model call"
                );
            }
            Err(error) => {
                self.stats.call(
                    tool,
                    CallRecord {
                        ok: false,
                        attempts,
                        fallbacks: 0,
                        usage: Usage::default(),
                        cost_usd: None,
                        latency,
                    },
                );
                tracing::warn!(tool, attempts, latency_ms = latency.as_millis() as u64, %error, "model call failed");
            }
        }
        result
    }

    /// The routes a tool argument asked for, if the configuration allows
    /// each: a configured route, a model on a provider whose credentials are
    /// configured (its base URL is the configured one), a model on the
    /// configured OpenAI-compatible server, or sampling. A URL that is not a
    /// configured base URL is refused: a tool argument never chooses where
    /// ffmcp connects or where a key is sent.
    pub fn authorize(&self, requested: &[RequestedRoute]) -> Result<Vec<Route>, ModelError> {
        requested
            .iter()
            .map(|wanted| self.authorize_one(wanted))
            .collect()
    }

    fn authorize_one(&self, wanted: &RequestedRoute) -> Result<Route, ModelError> {
        let configured_compat = || {
            self.configured_routes().find_map(|r| match &r.provider {
                ProviderKind::OpenAiCompat(url) => Some(url.clone()),
                _ => None,
            })
        };
        let refuse =
            |reason: String| ModelError::InvalidRoute(format!("route '{wanted}' {reason}"));
        match wanted {
            RequestedRoute::CompatModel(model) => match configured_compat() {
                Some(base) => Ok(Route {
                    provider: ProviderKind::OpenAiCompat(base),
                    model: model.clone(),
                }),
                None => Err(refuse(format!(
                    "needs an OpenAI-compatible server in the configuration, and none is: \
                     {CONFIGURE_HINT}"
                ))),
            },
            RequestedRoute::Route(route) => match &route.provider {
                ProviderKind::Sampling => Ok(route.clone()),
                ProviderKind::OpenAiCompat(url) => {
                    let known = self.configured_routes().any(|r| {
                        matches!(&r.provider, ProviderKind::OpenAiCompat(u) if same_base(u, url))
                    });
                    if known {
                        Ok(route.clone())
                    } else {
                        Err(refuse(format!(
                            "names a base URL that is not configured; a tool argument cannot \
                             choose where ffmcp connects. Write `openai-compat:{}` to use the \
                             configured OpenAI-compatible server, or {CONFIGURE_HINT}",
                            route.model
                        )))
                    }
                }
                _ => match self.providers().missing_setup(route) {
                    None => Ok(route.clone()),
                    Some(missing) => Err(refuse(format!(
                        "uses {} which is not configured here ({missing}); {CONFIGURE_HINT}",
                        route.provider.name()
                    ))),
                },
            },
        }
    }

    /// Every route the operator configured: chat routes, then the embedding route.
    fn configured_routes(&self) -> impl Iterator<Item = &Route> {
        self.config.routes.iter().chain(self.config.embed.iter())
    }

    fn plan(&self, call: &Call) -> Result<Vec<Route>, ModelError> {
        if let Some(routes) = call.routes.as_ref().filter(|r| !r.is_empty()) {
            return Ok(routes.clone());
        }
        if let Some(requested) = call.requested.as_ref().filter(|r| !r.is_empty()) {
            return self.authorize(requested);
        }
        if !self.config.routes.is_empty() {
            return Ok(self.config.routes.clone());
        }
        if call.sampler.as_ref().is_some_and(|s| s.available()) {
            return Ok(vec![Route {
                provider: ProviderKind::Sampling,
                model: String::new(),
            }]);
        }
        Err(ModelError::NotConfigured {
            problems: self.problems.clone(),
        })
    }

    async fn run(
        &self,
        request: &Request,
        call: &Call,
        routes: &[Route],
        attempts: &mut u32,
        started: Instant,
    ) -> Result<Response, ModelError> {
        let mut failures: Vec<RouteFailure> = Vec::new();
        let mut cooling: Vec<usize> = Vec::new();
        let mut tried_any = false;
        for (index, route) in routes.iter().enumerate() {
            if !self.breaker.admit(route) {
                self.stats.skipped(&route.to_string());
                failures.push(RouteFailure {
                    route: route.clone(),
                    attempts: 0,
                    reason: self.breaker.cooling_reason(route),
                });
                cooling.push(failures.len() - 1);
                continue;
            }
            tried_any = true;
            let more = index + 1 < routes.len();
            let turn = self
                .try_route(
                    route,
                    more,
                    self.config.max_attempts,
                    attempts,
                    || {
                        self.providers()
                            .complete(route, request, call.sampler.as_deref())
                    },
                    |completion| self.cost(route, completion),
                )
                .await;
            match self.settle(route, turn) {
                Settled::Answer(completion) => {
                    return Ok(self.response(route, completion, *attempts, index, started));
                }
                Settled::Next(failure) => failures.push(failure),
                Settled::Stop(error) => return Err(error),
            }
        }
        if !tried_any && !cooling.is_empty() {
            // Every route is cooling down: one attempt each rather than
            // failing a call without trying anything.
            for (n, slot) in cooling.iter().enumerate() {
                let route = failures[*slot].route.clone();
                let more = n + 1 < cooling.len();
                let turn = self
                    .try_route(
                        &route,
                        more,
                        1,
                        attempts,
                        || {
                            self.providers()
                                .complete(&route, request, call.sampler.as_deref())
                        },
                        |completion| self.cost(&route, completion),
                    )
                    .await;
                match self.settle(&route, turn) {
                    Settled::Answer(completion) => {
                        return Ok(self.response(&route, completion, *attempts, *slot, started));
                    }
                    Settled::Next(failure) => failures[*slot] = failure,
                    Settled::Stop(error) => return Err(error),
                }
            }
        }
        Err(ModelError::AllFailed { failures })
    }

    /// Updates the breaker after a route's turn and says how the call goes on.
    pub(super) fn settle<T>(&self, route: &Route, turn: Result<T, RouteEnd>) -> Settled<T> {
        match turn {
            Ok(completion) => {
                self.breaker.record_success(route);
                Settled::Answer(completion)
            }
            Err(RouteEnd::Stop(error)) => {
                self.breaker.release_probe(route);
                Settled::Stop(ModelError::Rejected {
                    route: route.to_string(),
                    error: Box::new(error),
                })
            }
            Err(RouteEnd::Abandon {
                error,
                attempts,
                counts,
            }) => {
                if counts {
                    self.breaker.record_failure(route, &error);
                } else {
                    self.breaker.release_probe(route);
                }
                Settled::Next(RouteFailure {
                    route: route.clone(),
                    attempts,
                    reason: error.to_string(),
                })
            }
        }
    }

    /// One route's turn: attempts with backoff until an answer, a refusal,
    /// or the route is given up. `attempt` makes one provider attempt;
    /// `account` gives an answer's tokens and cost for the route's stats.
    pub(super) async fn try_route<T, F>(
        &self,
        route: &Route,
        more_routes: bool,
        max_attempts: u32,
        attempts: &mut u32,
        attempt: impl Fn() -> F,
        account: impl Fn(&T) -> (Usage, Option<f64>),
    ) -> Result<T, RouteEnd>
    where
        F: std::future::Future<Output = Result<T, ProviderError>>,
    {
        let label = route.to_string();
        let mut n = 0;
        loop {
            n += 1;
            *attempts += 1;
            let started = Instant::now();
            let result = match tokio::time::timeout(self.config.attempt_timeout, attempt()).await {
                Ok(result) => result,
                Err(_) => Err(ProviderError::new(
                    Failure::Timeout,
                    format!(
                        "no answer within {} ms",
                        self.config.attempt_timeout.as_millis()
                    ),
                )),
            };
            let error = match result {
                Ok(answer) => {
                    self.stats
                        .attempt(&label, started.elapsed(), Some(account(&answer)));
                    return Ok(answer);
                }
                Err(error) => error,
            };
            self.stats.attempt(&label, started.elapsed(), None);
            tracing::warn!(route = %label, attempt = n, %error, "model attempt failed");
            match error.disposition() {
                Disposition::Stop => return Err(RouteEnd::Stop(error)),
                Disposition::NextRoute => {
                    return Err(RouteEnd::Abandon {
                        error,
                        attempts: n,
                        counts: false,
                    });
                }
                Disposition::Retry => {}
            }
            let wait = match error.retry_after {
                Some(asked) if asked > self.config.retry_after_cap && more_routes => None,
                Some(asked) => Some(asked.min(self.config.retry_after_cap)),
                None => Some(self.backoff(n)),
            };
            let timed_out = error.failure == Failure::Timeout && more_routes;
            match wait {
                Some(wait) if n < max_attempts && !timed_out => tokio::time::sleep(wait).await,
                _ => {
                    return Err(RouteEnd::Abandon {
                        error,
                        attempts: n,
                        counts: true,
                    });
                }
            }
        }
    }

    /// Full jitter: uniform in [0, min(max, base * 2^(n-1))] (`crate::retry`).
    fn backoff(&self, attempt: u32) -> Duration {
        let (base, max) = (self.config.backoff_base, self.config.backoff_max);
        crate::retry::Backoff::new(base, max, crate::retry::Jitter::Full).delay(attempt)
    }

    fn cost(&self, route: &Route, completion: &Completion) -> (Usage, Option<f64>) {
        (
            completion.usage,
            self.price(route, &completion.model, completion.usage),
        )
    }

    /// The cost of `usage` on `route`, priced by the route's model or, when
    /// that is unknown, by the model the provider named.
    pub(super) fn price(&self, route: &Route, answered_by: &str, usage: Usage) -> Option<f64> {
        self.config
            .prices
            .cost(&route.model, usage)
            .or_else(|| self.config.prices.cost(answered_by, usage))
    }

    fn response(
        &self,
        route: &Route,
        completion: Completion,
        attempts: u32,
        index: usize,
        started: Instant,
    ) -> Response {
        Response {
            cost_usd: self.cost(route, &completion).1,
            text: completion.text,
            route: route.clone(),
            model: completion.model,
            usage: completion.usage,
            attempts,
            fallbacks: index as u32,
            latency: started.elapsed(),
            stop_reason: completion.stop_reason,
        }
    }
}

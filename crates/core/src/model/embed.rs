//! Embeddings: the one way ffmcp turns text into vectors, next to the chat
//! call and under the same rules.
//!
//! The route is `FF_EMBED_MODEL` (`openai:text-embedding-3-small`,
//! `gemini:gemini-embedding-001`, `openai-compat:http://host:port/v1#model`
//! for Ollama, llama.cpp or vLLM). One route and no fallback: vectors of two
//! models live in different spaces and cannot be compared, so a second
//! route would corrupt an index rather than save it. Everything else is the
//! chat call's: providers connect only to configured base URLs (a per-call
//! route is checked by [`Router::authorize`]), one attempt's time limit,
//! retries with backoff on transient failures, the route's circuit breaker,
//! accounting per tool and route (tokens where the provider reports them —
//! Gemini does not — and cost where the price is known), keys scrubbed from
//! every error.
//!
//! Inputs go in batches of at most [`MAX_EMBED_BATCH`], each cut to
//! [`MAX_EMBED_INPUT_CHARS`] characters (within every supported model's
//! input limit). Vectors come back as the provider gave them, in input
//! order; callers normalise if they compare by cosine.

use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use super::{
    accounting::CallRecord,
    provider::Embedded,
    request::Usage,
    route::Route,
    router::{Call, ModelError, RouteFailure, Router, Settled},
};

/// Inputs per provider request at most (Gemini takes 100, OpenAI 2048).
pub const MAX_EMBED_BATCH: usize = 96;
/// Characters of one input at most; longer inputs are cut.
pub const MAX_EMBED_INPUT_CHARS: usize = 8000;

/// What the vectors are for. Gemini embeds documents and queries
/// differently (`taskType`); OpenAI-shaped APIs ignore it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmbedPurpose {
    /// Text to be found (indexed chunks).
    #[default]
    Document,
    /// Text to search with.
    Query,
}

/// A completed embeddings call.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// One vector per input, in input order, as the provider gave them.
    pub vectors: Vec<Vec<f32>>,
    /// The route that answered.
    pub route: Route,
    /// The model as the provider named it.
    pub model: String,
    /// Input tokens over every batch (0 when the provider reports none).
    pub usage: Usage,
    /// `None` when the model's price is unknown.
    pub cost_usd: Option<f64>,
    /// Provider requests that answered (batches).
    pub requests: u32,
    /// Provider attempts made, retries included.
    pub attempts: u32,
    /// From the start of the call to the last batch's answer.
    pub latency: Duration,
}

impl Router {
    /// The configured embedding route (`FF_EMBED_MODEL`), if any.
    pub fn embed_route(&self) -> Option<&Route> {
        self.config.embed.as_ref()
    }

    /// Vectors for `inputs`, in batches, through the embedding route; see
    /// the module docs. No route configured is [`ModelError::NoEmbeddingRoute`].
    pub async fn embed(
        &self,
        inputs: &[String],
        purpose: EmbedPurpose,
        call: &Call,
    ) -> Result<Embeddings, ModelError> {
        let started = Instant::now();
        let tool = if call.tool.is_empty() {
            "(direct)"
        } else {
            call.tool.as_str()
        };
        let route = self.embed_plan(call)?;
        if let Some(at) = inputs.iter().position(|t| t.trim().is_empty()) {
            return Err(ModelError::InvalidInput(format!(
                "embedding input {at} is empty; providers refuse empty text"
            )));
        }
        let span = tracing::info_span!("embed_call", tool, route = %route, inputs = inputs.len());
        let mut attempts = 0;
        let result = self
            .embed_batches(&route, inputs, purpose, &mut attempts, started)
            .instrument(span.clone())
            .await;
        let latency = started.elapsed();
        let _in_span = span.enter();
        let (ok, usage, cost_usd) = match &result {
            Ok(done) => {
                tracing::info!(
                    tool,
                    route = %route,
                    inputs = inputs.len(),
                    requests = done.requests,
                    attempts,
                    input_tokens = done.usage.input_tokens,
                    cost_usd = done.cost_usd.unwrap_or(0.0),
                    latency_ms = latency.as_millis() as u64,
                    "embedding call"
                );
                (true, done.usage, done.cost_usd)
            }
            Err(error) => {
                tracing::warn!(tool, attempts, latency_ms = latency.as_millis() as u64, %error, "embedding call failed");
                (false, Usage::default(), None)
            }
        };
        self.stats.call(
            tool,
            CallRecord {
                ok,
                attempts,
                fallbacks: 0,
                usage,
                cost_usd,
                latency,
            },
        );
        result
    }

    /// The one route of an embeddings call: the caller's (trusted), a tool
    /// argument's (authorized against the configuration), or `FF_EMBED_MODEL`.
    fn embed_plan(&self, call: &Call) -> Result<Route, ModelError> {
        let route = if let Some(route) = call.routes.as_ref().and_then(|r| r.first()) {
            route.clone()
        } else if let Some(requested) = call.requested.as_ref().filter(|r| !r.is_empty()) {
            if requested.len() > 1 {
                return Err(ModelError::InvalidRoute(
                    "embeddings use exactly one route: vectors of two models cannot be compared"
                        .to_owned(),
                ));
            }
            self.authorize(requested)?.remove(0)
        } else {
            self.config
                .embed
                .clone()
                .ok_or_else(|| ModelError::NoEmbeddingRoute {
                    problems: self.problems.clone(),
                })?
        };
        if !route.provider.embeds() {
            return Err(ModelError::InvalidRoute(format!(
                "route '{route}' has no embeddings API here; use openai, gemini or openai-compat"
            )));
        }
        Ok(route)
    }

    async fn embed_batches(
        &self,
        route: &Route,
        inputs: &[String],
        purpose: EmbedPurpose,
        attempts: &mut u32,
        started: Instant,
    ) -> Result<Embeddings, ModelError> {
        let inputs: Vec<String> = inputs.iter().map(|t| bounded(t)).collect();
        let mut done = Embeddings {
            vectors: Vec::with_capacity(inputs.len()),
            route: route.clone(),
            model: route.model.clone(),
            usage: Usage::default(),
            cost_usd: Some(0.0),
            requests: 0,
            attempts: 0,
            latency: Duration::ZERO,
        };
        let label = route.to_string();
        for batch in inputs.chunks(MAX_EMBED_BATCH) {
            // A cooling route still gets one attempt: there is no other.
            let admitted = self.breaker.admit(route);
            if !admitted {
                self.stats.skipped(&label);
            }
            let max_attempts = if admitted {
                self.config.max_attempts
            } else {
                1
            };
            let turn = self
                .try_route(
                    route,
                    false,
                    max_attempts,
                    attempts,
                    || self.providers().embed(route, batch, purpose),
                    |e: &Embedded| (e.usage, self.price(route, &e.model, e.usage)),
                )
                .await;
            let embedded = match self.settle(route, turn) {
                Settled::Answer(embedded) => embedded,
                Settled::Next(failure) => {
                    return Err(ModelError::AllFailed {
                        failures: vec![failure],
                    });
                }
                Settled::Stop(error) => return Err(error),
            };
            let dim = done.vectors.first().map(Vec::len);
            if let (Some(dim), Some(got)) = (dim, embedded.vectors.first())
                && got.len() != dim
            {
                return Err(ModelError::AllFailed {
                    failures: vec![RouteFailure {
                        route: route.clone(),
                        attempts: *attempts,
                        reason: format!(
                            "batches came back with {dim} and {} dimensions",
                            got.len()
                        ),
                    }],
                });
            }
            done.requests += 1;
            done.usage.input_tokens += embedded.usage.input_tokens;
            done.cost_usd = done
                .cost_usd
                .zip(self.price(route, &embedded.model, embedded.usage))
                .map(|(a, b)| a + b);
            done.model = embedded.model;
            done.vectors.extend(embedded.vectors);
        }
        done.attempts = *attempts;
        done.latency = started.elapsed();
        Ok(done)
    }
}

/// `text` cut to [`MAX_EMBED_INPUT_CHARS`] characters.
fn bounded(text: &str) -> String {
    match text.char_indices().nth(MAX_EMBED_INPUT_CHARS) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_inputs_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_EMBED_INPUT_CHARS + 5);
        assert_eq!(bounded(&long).chars().count(), MAX_EMBED_INPUT_CHARS);
        assert_eq!(bounded("short"), "short");
    }
}

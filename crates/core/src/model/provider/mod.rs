//! Providers: one thin client per wire format behind [`Provider`], and the
//! failure classification the router acts on.

mod anthropic;
pub(crate) mod aws;
mod bedrock;
mod gemini;
mod http;
mod openai;
mod sampling;
pub mod sigv4;

use std::{fmt, time::Duration};

use futures::future::BoxFuture;

use super::{
    embed::EmbedPurpose,
    request::{Completion, Request, Usage},
    route::{ProviderKind, Route},
    sampler::Sampler,
    settings::ProviderSettings,
};

/// One wire format. `complete` makes exactly one attempt; retrying,
/// timeouts and fallback are the router's.
pub(crate) trait Provider: Send + Sync {
    fn complete<'a>(
        &'a self,
        model: &'a str,
        request: &'a Request,
        sampler: Option<&'a dyn Sampler>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>>;
}

/// One embeddings attempt's answer, checked: one finite vector per input,
/// all of one dimension, in input order, as the provider gave them (not
/// normalised).
#[derive(Debug, Clone, PartialEq)]
pub struct Embedded {
    /// One vector per input.
    pub vectors: Vec<Vec<f32>>,
    /// The model that answered, as the provider names it.
    pub model: String,
    /// Input tokens, when the provider reports them (Gemini does not).
    pub usage: Usage,
}

/// What went wrong with one attempt, classified for the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The provider answered with this HTTP status.
    Status(u16),
    /// No answer within the attempt timeout.
    Timeout,
    /// Could not connect, or the connection broke before a full answer.
    Connect,
    /// An answer that is not the provider's documented shape (bad JSON, truncated).
    Malformed,
    /// The route cannot be used here and now (no credentials, no sampling client).
    Unavailable,
    /// The MCP client declined or failed a sampling request.
    Declined,
}

/// How the router proceeds after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Transient: try the same route again after a backoff, then the next route.
    Retry,
    /// This route will not work for this call: go to the next one at once.
    NextRoute,
    /// The request itself is wrong: stop, no retry and no fallback.
    Stop,
}

/// One failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// What the router should do next.
    pub failure: Failure,
    /// The provider's own message (or ours), one line.
    pub message: String,
    /// `retry-after` / `retry-after-ms` as sent with the failure.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    /// A failure without a `retry-after`.
    pub fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn disposition(&self) -> Disposition {
        match self.failure {
            Failure::Status(408 | 429 | 500..=599) => Disposition::Retry,
            Failure::Status(_) => Disposition::Stop,
            Failure::Timeout | Failure::Connect | Failure::Malformed => Disposition::Retry,
            Failure::Unavailable | Failure::Declined => Disposition::NextRoute,
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.failure {
            Failure::Status(status) => write!(f, "HTTP {status}: {}", self.message),
            Failure::Timeout => write!(f, "timed out: {}", self.message),
            Failure::Connect => write!(f, "connection failed: {}", self.message),
            Failure::Malformed => write!(f, "malformed response: {}", self.message),
            Failure::Unavailable => write!(f, "unavailable: {}", self.message),
            Failure::Declined => write!(f, "sampling failed: {}", self.message),
        }
    }
}

impl std::error::Error for ProviderError {}

/// Every provider, ready to call; the direct (unrouted) way to reach one.
pub struct Providers {
    anthropic: anthropic::Anthropic,
    openai: openai::OpenAi,
    gemini: gemini::Gemini,
    bedrock: bedrock::Bedrock,
    compat_api_key: Option<String>,
    http: reqwest::Client,
    sampling: sampling::Sampling,
    /// Configured secret values, scrubbed from every error message.
    secrets: Vec<String>,
    /// Why HTTP providers cannot be called (an unusable `FF_LLM_PROXY`).
    http_unusable: Option<String>,
}

impl fmt::Debug for Providers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Providers").finish_non_exhaustive()
    }
}

impl Providers {
    /// Every provider, built from `settings`. Never fails: when no HTTP client
    /// can be built (a bad proxy), HTTP routes refuse each call with the reason.
    pub fn new(settings: ProviderSettings) -> Self {
        let secrets = settings.secrets();
        let (http, http_unusable) = match http::client(settings.proxy.as_deref()) {
            Ok(client) => (client, None),
            // Never fall back to a direct connection the operator did not ask
            // for: HTTP routes stay unavailable and say why.
            // The placeholder client is never used (every HTTP route
            // refuses). It trusts no root at all, so it builds even where
            // no CA certificates can be read (a confined process).
            Err(problem) => (
                reqwest::Client::builder()
                    .tls_certs_only(std::iter::empty())
                    .no_proxy()
                    .build()
                    .unwrap_or_default(),
                Some(problem),
            ),
        };
        Self {
            secrets,
            http_unusable,
            anthropic: anthropic::Anthropic::new(http.clone(), settings.anthropic),
            openai: openai::OpenAi::new(http.clone(), settings.openai, openai::Dialect::OpenAi),
            gemini: gemini::Gemini::new(http.clone(), settings.gemini),
            bedrock: bedrock::Bedrock::new(http.clone(), settings.bedrock),
            compat_api_key: settings.compat_api_key,
            http,
            sampling: sampling::Sampling,
        }
    }

    /// One attempt on `route`, without retries, timeout or fallback.
    /// `sampler` answers the `sampling` route (the calling MCP client).
    pub async fn complete(
        &self,
        route: &Route,
        request: &Request,
        sampler: Option<&dyn Sampler>,
    ) -> Result<Completion, ProviderError> {
        if let Some(problem) = &self.http_unusable
            && route.provider != ProviderKind::Sampling
        {
            return Err(ProviderError::new(Failure::Unavailable, problem.clone()));
        }
        self.attempt(route, request, sampler)
            .await
            .map_err(|mut error| {
                error.message = http::scrub(&error.message, &self.secrets, 300);
                error
            })
    }

    async fn attempt(
        &self,
        route: &Route,
        request: &Request,
        sampler: Option<&dyn Sampler>,
    ) -> Result<Completion, ProviderError> {
        match &route.provider {
            ProviderKind::Anthropic => {
                self.anthropic
                    .complete(&route.model, request, sampler)
                    .await
            }
            ProviderKind::OpenAi => self.openai.complete(&route.model, request, sampler).await,
            ProviderKind::Gemini => self.gemini.complete(&route.model, request, sampler).await,
            ProviderKind::Bedrock => self.bedrock.complete(&route.model, request, sampler).await,
            ProviderKind::OpenAiCompat(base) => {
                let endpoint = super::settings::Endpoint::new(
                    base.as_str().to_owned(),
                    self.compat_api_key.clone(),
                );
                openai::OpenAi::new(self.http.clone(), endpoint, openai::Dialect::Compatible)
                    .complete(&route.model, request, sampler)
                    .await
            }
            ProviderKind::Sampling => self.sampling.complete(&route.model, request, sampler).await,
        }
    }

    /// One embeddings attempt on `route` for `inputs`, without retries,
    /// timeout or batching (the router's).
    pub async fn embed(
        &self,
        route: &Route,
        inputs: &[String],
        purpose: EmbedPurpose,
    ) -> Result<Embedded, ProviderError> {
        if let Some(problem) = &self.http_unusable {
            return Err(ProviderError::new(Failure::Unavailable, problem.clone()));
        }
        let attempt = async {
            let embedded = match &route.provider {
                ProviderKind::OpenAi => self.openai.embed(&route.model, inputs).await?,
                ProviderKind::Gemini => self.gemini.embed(&route.model, inputs, purpose).await?,
                ProviderKind::OpenAiCompat(base) => {
                    let endpoint = super::settings::Endpoint::new(
                        base.as_str().to_owned(),
                        self.compat_api_key.clone(),
                    );
                    openai::OpenAi::new(self.http.clone(), endpoint, openai::Dialect::Compatible)
                        .embed(&route.model, inputs)
                        .await?
                }
                other => {
                    return Err(ProviderError::new(
                        Failure::Unavailable,
                        format!("{} has no embeddings API", other.name()),
                    ));
                }
            };
            check_vectors(&embedded, inputs.len())?;
            Ok(embedded)
        };
        attempt.await.map_err(|mut error: ProviderError| {
            error.message = http::scrub(&error.message, &self.secrets, 300);
            error
        })
    }

    /// Why `route` cannot be used at all (missing credentials), if so.
    pub fn missing_setup(&self, route: &Route) -> Option<String> {
        if let Some(problem) = &self.http_unusable
            && route.provider != ProviderKind::Sampling
        {
            return Some(problem.clone());
        }
        match route.provider {
            ProviderKind::Anthropic => self
                .anthropic
                .key_missing()
                .then(|| "ANTHROPIC_API_KEY is not set".to_owned()),
            ProviderKind::OpenAi => self
                .openai
                .key_missing()
                .then(|| "OPENAI_API_KEY is not set".to_owned()),
            ProviderKind::Gemini => self
                .gemini
                .key_missing()
                .then(|| "GEMINI_API_KEY (or GOOGLE_API_KEY) is not set".to_owned()),
            ProviderKind::Bedrock => self.bedrock.missing_setup(),
            ProviderKind::OpenAiCompat(_) | ProviderKind::Sampling => None,
        }
    }
}

/// A reply that does not give one usable vector per input is malformed.
fn check_vectors(embedded: &Embedded, inputs: usize) -> Result<(), ProviderError> {
    let malformed = |what: String| Err(ProviderError::new(Failure::Malformed, what));
    if embedded.vectors.len() != inputs {
        return malformed(format!(
            "{} vectors for {inputs} inputs",
            embedded.vectors.len()
        ));
    }
    let dim = embedded.vectors.first().map_or(0, Vec::len);
    if inputs > 0 && dim == 0 {
        return malformed("empty vectors".to_owned());
    }
    if let Some(bad) = embedded.vectors.iter().position(|v| v.len() != dim) {
        return malformed(format!(
            "vector {bad} has {} dimensions, the first has {dim}",
            embedded.vectors[bad].len()
        ));
    }
    if embedded
        .vectors
        .iter()
        .any(|v| v.iter().any(|x| !x.is_finite()))
    {
        return malformed("a vector holds a non-finite number".to_owned());
    }
    Ok(())
}

//! The model-client layer: the one way ffmcp calls a language model.
//!
//! It knows no MCP types: sampling goes through a [`Sampler`] the server
//! edge implements (`ffmcp_core::sampling`), and model errors become tool
//! errors at the edge (`ffmcp_core::tool`).
//!
//! Owns: the providers (Anthropic Messages, OpenAI Chat Completions,
//! Gemini `generateContent`, Bedrock Converse signed with SigV4,
//! OpenAI-compatible servers by base URL, and MCP sampling through the
//! calling client), the [`Router`] that walks the configured routes with
//! retries, backoff, fallback and a circuit breaker, structured output
//! ([`Router::complete_json`]), embeddings ([`Router::embed`]: OpenAI
//! `/embeddings`, Gemini `batchEmbedContents`, OpenAI-compatible servers;
//! one route, `FF_EMBED_MODEL`, under the same rules), and accounting ([`Stats`]). The in-process
//! provider imitation that tests and benches point the layer at lives in the
//! dev-only `ffmcp-test-support` crate. Deliberately absent: prompts (the
//! servers own what they ask), streaming (no tool needs partial output yet),
//! and the SSRF policy of `core::fetch`: provider base URLs come from the
//! operator only, so loopback — a local Ollama — is fine. A tool's `model`
//! argument can only pick among configured providers and base URLs
//! ([`Router::authorize`]); the HTTP client follows no redirect and takes no
//! proxy from the environment (only `FF_LLM_PROXY`); provider error text is
//! truncated and scrubbed of every configured secret before it reaches a
//! tool result or a log line.
//!
//! # Why hand-written clients (decision, 2026-11)
//!
//! * `genai` (0.7) covers every provider and, since 0.7, exposes the HTTP
//!   status and response headers of a failed call. It was not adopted: it
//!   brings ~15 crates we do not otherwise build (derive_more, serde_with,
//!   strum, uuid, mime_guess, value-ext, tokio-stream, …) plus reqwest's
//!   http2/charset features, Bedrock signing only through `aws-config` (the
//!   SDK's credential chain), no per-attempt timeout of its own for
//!   non-streaming calls, and its own message model that we would map to and
//!   from anyway. The wire formats we need are five small JSON shapes.
//! * `async-openai` (0.43) is OpenAI-only and a large generated type surface;
//!   the OpenAI shape we need is a few fields.
//! * `backon` (1.6) is a good retry crate, and its `adjust` hook can honour
//!   `retry-after`, but retrying here is entangled with choosing the next
//!   route, the breaker and per-call accounting (attempts, fallbacks); the
//!   loop in `router` is ~40 lines and keeps that in one place.
//! * Bedrock: `aws-sigv4` (1.6) needs Rust 1.94 (our MSRV is 1.89) and pulls
//!   the smithy runtime types; [`sigv4`] is a small signer on
//!   `hmac` + `sha2` (RustCrypto; `sha2` was already in the tree via rmcp),
//!   checked against AWS's published SigV4 test-suite signatures.
//! * One `reqwest::Client` (rustls, the workspace's one TLS stack) shared by
//!   the HTTP providers; JSON via `serde_json`, `retry-after` dates via
//!   `httpdate` (already in the tree via hyper), jitter via `fastrand`
//!   (already in via tempfile), reply validation via `jsonschema` (no default
//!   features).

mod accounting;
mod breaker;
mod config;
mod embed;
mod provider;
mod request;
mod route;
mod router;
mod sampler;
mod settings;
mod structured;

pub use accounting::{PriceTable, RouteStats, SeriesStats, Stats, StatsSnapshot};
pub use config::EMBED_MODEL_ENV;
pub use embed::{EmbedPurpose, Embeddings, MAX_EMBED_BATCH, MAX_EMBED_INPUT_CHARS};
pub use provider::{Embedded, Failure, ProviderError, Providers};
pub use request::{Completion, Message, OutputSchema, Request, Role, Usage};
pub use route::{
    ProviderKind, RequestedRoute, Route, RouteError, parse_requested_routes, parse_routes,
};
pub use router::{
    Call, ModelError, Response, RouteFailure, RouteHealth, RouteStatus, Router, RouterConfig,
};
pub use sampler::Sampler;
pub use settings::{
    AwsChain, AwsCredentials, BedrockSettings, ContainerEndpoint, Endpoint, ProviderSettings,
    WebIdentity,
};
pub use structured::JsonResponse;

#[doc(hidden)]
pub use provider::sigv4;
/// How a system prompt introduces the schema (the test-support imitation reads it back).
#[doc(hidden)]
pub use request::SCHEMA_MARKER;

//! The seam between the model layer and whoever can sample for it.
//!
//! core::model knows no MCP types: the `sampling` route asks a [`Sampler`],
//! and the server edge (`ffmcp_core::sampling`) implements it on the calling
//! MCP client's `sampling/createMessage`. Tests implement it directly.

use futures::future::BoxFuture;

use super::{
    provider::ProviderError,
    request::{Completion, Request},
};

/// Something that can answer a completion with its own model (an MCP client
/// that advertised `sampling`).
pub trait Sampler: Send + Sync {
    /// Whether sampling can be asked for at all (the client advertised it).
    fn available(&self) -> bool;

    /// One attempt; `model` is a hint (may be empty). Retrying, timeouts and
    /// fallback are the router's.
    fn sample<'a>(
        &'a self,
        model: &'a str,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>>;
}

//! The `sampling` route as a provider: hands the request to the call's
//! [`Sampler`] (at the server edge, the calling MCP client). Works with no
//! API key at all.

use futures::future::BoxFuture;

use super::{Failure, Provider, ProviderError};
use crate::model::{
    request::{Completion, Request},
    sampler::Sampler,
};

pub(crate) struct Sampling;

impl Provider for Sampling {
    fn complete<'a>(
        &'a self,
        model: &'a str,
        request: &'a Request,
        sampler: Option<&'a dyn Sampler>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            let Some(sampler) = sampler else {
                return Err(ProviderError::new(
                    Failure::Unavailable,
                    "no MCP client is connected to sample from",
                ));
            };
            if !sampler.available() {
                return Err(ProviderError::new(
                    Failure::Unavailable,
                    "the connected MCP client does not advertise the sampling capability",
                ));
            }
            sampler.sample(model, request).await
        })
    }
}

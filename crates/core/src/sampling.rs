//! MCP sampling at the server edge: the calling client's own model,
//! through `sampling/createMessage`, as a [`Sampler`] for core::model.
//! Works with no API key at all when the client advertised the `sampling`
//! capability at initialize.

// Sampling is deprecated by SEP-2577 in newer protocol versions, but every
// client that negotiates through initialize (protocol <= 2025-11-25) still
// has it, and that is what clients ship today.
#![allow(deprecated)]

use std::sync::Arc;

use futures::future::BoxFuture;
use rmcp::{
    Peer, RoleServer, ServiceError,
    model::{CreateMessageRequestParams, ModelHint, ModelPreferences, SamplingMessage},
};

use crate::model::{Completion, Failure, ProviderError, Request, Role, Sampler, Usage};

/// The calling MCP client as a [`Sampler`]; pass it to
/// [`Call::with_sampler`](crate::model::Call::with_sampler).
pub fn client(peer: Peer<RoleServer>) -> Arc<dyn Sampler> {
    Arc::new(ClientSampler(peer))
}

struct ClientSampler(Peer<RoleServer>);

impl Sampler for ClientSampler {
    fn available(&self) -> bool {
        self.0
            .peer_info()
            .is_some_and(|info| info.capabilities.sampling.is_some())
    }

    fn sample<'a>(
        &'a self,
        model: &'a str,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            let messages = request
                .messages
                .iter()
                .map(|m| match m.role {
                    Role::User => SamplingMessage::user_text(m.text.clone()),
                    Role::Assistant => SamplingMessage::assistant_text(m.text.clone()),
                })
                .collect();
            let mut params = CreateMessageRequestParams::new(messages, request.max_tokens);
            if let Some(system) = request.system_with_schema() {
                params = params.with_system_prompt(system);
            }
            params.temperature = request.temperature;
            if !model.is_empty() {
                let mut preferences = ModelPreferences::default();
                preferences.hints = Some(vec![ModelHint::new(model)]);
                params = params.with_model_preferences(preferences);
            }
            let result = self.0.create_message(params).await.map_err(|e| match e {
                ServiceError::McpError(data) => ProviderError::new(
                    Failure::Declined,
                    format!("the client answered with an error: {}", data.message),
                ),
                ServiceError::Timeout { timeout } => ProviderError::new(
                    Failure::Timeout,
                    format!("the client did not answer within {timeout:?}"),
                ),
                other => ProviderError::new(Failure::Declined, other.to_string()),
            })?;
            let text: String = result
                .message
                .content
                .into_vec()
                .iter()
                .filter_map(|block| block.as_text().map(|t| t.text.clone()))
                .collect();
            Ok(Completion {
                text,
                model: result.model,
                usage: Usage::default(),
                stop_reason: result.stop_reason,
            })
        })
    }
}

//! Anthropic Messages API: `POST {ANTHROPIC_BASE_URL}/v1/messages` with
//! `x-api-key` and `anthropic-version`.

use crate::model::sampler::Sampler;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::{Failure, Provider, ProviderError, http};
use crate::model::{
    request::{Completion, Request, Role, Usage},
    settings::Endpoint,
};

/// The API version this client speaks.
pub(crate) const VERSION: &str = "2023-06-01";

pub(crate) struct Anthropic {
    http: reqwest::Client,
    endpoint: Endpoint,
}

impl Anthropic {
    pub(crate) fn new(http: reqwest::Client, endpoint: Endpoint) -> Self {
        Self { http, endpoint }
    }

    pub(crate) fn key_missing(&self) -> bool {
        self.endpoint.api_key.is_none()
    }
}

impl Provider for Anthropic {
    fn complete<'a>(
        &'a self,
        model: &'a str,
        request: &'a Request,
        _sampler: Option<&'a dyn Sampler>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            let Some(key) = &self.endpoint.api_key else {
                return Err(ProviderError::new(
                    Failure::Unavailable,
                    "ANTHROPIC_API_KEY is not set",
                ));
            };
            let body = body(model, request);
            let url = format!("{}/v1/messages", self.endpoint.base_url);
            let call = self
                .http
                .post(url)
                .header("x-api-key", key)
                .header("anthropic-version", VERSION);
            let reply = http::post_json(call, body.to_string().into_bytes()).await?;
            parse(&reply, model)
        })
    }
}

fn body(model: &str, request: &Request) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            json!({
                "role": match m.role { Role::User => "user", Role::Assistant => "assistant" },
                "content": m.text,
            })
        })
        .collect();
    let mut body = json!({
        "model": model,
        "max_tokens": request.max_tokens,
        "messages": messages,
    });
    if let Some(system) = request.system_with_schema() {
        body["system"] = json!(system);
    }
    if let Some(t) = request.temperature_json() {
        body["temperature"] = t;
    }
    body
}

fn parse(reply: &Value, model: &str) -> Result<Completion, ProviderError> {
    let blocks = reply["content"]
        .as_array()
        .ok_or_else(|| http::shape_error("anthropic", "content array", reply))?;
    let text: String = blocks
        .iter()
        .filter(|b| b["type"] == "text")
        .filter_map(|b| b["text"].as_str())
        .collect();
    Ok(Completion {
        text,
        model: reply["model"].as_str().unwrap_or(model).to_owned(),
        usage: Usage {
            input_tokens: reply["usage"]["input_tokens"].as_u64().unwrap_or(0),
            output_tokens: reply["usage"]["output_tokens"].as_u64().unwrap_or(0),
        },
        stop_reason: reply["stop_reason"].as_str().map(str::to_owned),
    })
}

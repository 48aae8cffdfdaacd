//! OpenAI Chat Completions: `POST {OPENAI_BASE_URL}/chat/completions` with a
//! bearer key, and embeddings: `POST {OPENAI_BASE_URL}/embeddings`; the same
//! shapes serve OpenAI-compatible servers (Ollama, vLLM, llama.cpp) at their
//! own base URL.

use crate::model::sampler::Sampler;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::{Embedded, Failure, Provider, ProviderError, http};
use crate::model::{
    request::{Completion, Request, Role, Usage},
    settings::Endpoint,
};

/// Small differences between OpenAI itself and the servers that copy it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// api.openai.com: a key is required; `max_completion_tokens` (newer
    /// models reject `max_tokens`).
    OpenAi,
    /// Local servers: the key is optional; `max_tokens` (what they all accept).
    Compatible,
}

pub(crate) struct OpenAi {
    http: reqwest::Client,
    endpoint: Endpoint,
    dialect: Dialect,
}

impl OpenAi {
    pub(crate) fn new(http: reqwest::Client, endpoint: Endpoint, dialect: Dialect) -> Self {
        Self {
            http,
            endpoint,
            dialect,
        }
    }

    pub(crate) fn key_missing(&self) -> bool {
        self.dialect == Dialect::OpenAi && self.endpoint.api_key.is_none()
    }

    /// One embeddings request for `inputs` (one attempt).
    pub(crate) async fn embed(
        &self,
        model: &str,
        inputs: &[String],
    ) -> Result<Embedded, ProviderError> {
        if self.key_missing() {
            return Err(ProviderError::new(
                Failure::Unavailable,
                "OPENAI_API_KEY is not set",
            ));
        }
        let body = json!({"model": model, "input": inputs, "encoding_format": "float"});
        let url = format!("{}/embeddings", self.endpoint.base_url);
        let mut call = self.http.post(url);
        if let Some(key) = &self.endpoint.api_key {
            call = call.bearer_auth(key);
        }
        let reply = http::post_json(call, body.to_string().into_bytes()).await?;
        parse_embeddings(&reply, model)
    }
}

impl Provider for OpenAi {
    fn complete<'a>(
        &'a self,
        model: &'a str,
        request: &'a Request,
        _sampler: Option<&'a dyn Sampler>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            if self.key_missing() {
                return Err(ProviderError::new(
                    Failure::Unavailable,
                    "OPENAI_API_KEY is not set",
                ));
            }
            let body = body(model, request, self.dialect);
            let url = format!("{}/chat/completions", self.endpoint.base_url);
            let mut call = self.http.post(url);
            if let Some(key) = &self.endpoint.api_key {
                call = call.bearer_auth(key);
            }
            let reply = http::post_json(call, body.to_string().into_bytes()).await?;
            parse(&reply, model)
        })
    }
}

fn body(model: &str, request: &Request, dialect: Dialect) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    // Local servers honour response_format unevenly: they also get the
    // schema spelled out in the system prompt.
    let system = match dialect {
        Dialect::OpenAi => request.system.clone(),
        Dialect::Compatible => request.system_with_schema(),
    };
    if let Some(system) = system {
        messages.push(json!({"role": "system", "content": system}));
    }
    for m in &request.messages {
        let role = match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        messages.push(json!({"role": role, "content": m.text}));
    }
    let mut body = json!({"model": model, "messages": messages});
    let budget_field = match dialect {
        Dialect::OpenAi => "max_completion_tokens",
        Dialect::Compatible => "max_tokens",
    };
    body[budget_field] = json!(request.max_tokens);
    if let Some(t) = request.temperature_json() {
        body["temperature"] = t;
    }
    if let Some(schema) = &request.schema {
        // strict mode would demand additionalProperties:false everywhere,
        // which caller-given schemas rarely say; the router validates anyway.
        body["response_format"] = json!({
            "type": "json_schema",
            "json_schema": {"name": schema.name, "schema": schema.schema, "strict": false},
        });
    }
    body
}

fn parse(reply: &Value, model: &str) -> Result<Completion, ProviderError> {
    let choice = &reply["choices"][0];
    let message = choice
        .get("message")
        .ok_or_else(|| http::shape_error("chat completions", "choices[0].message", reply))?;
    let text = match &message["content"] {
        Value::String(s) => s.clone(),
        // Some servers send content parts.
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        Value::Null => match message["refusal"].as_str() {
            Some(refusal) => {
                return Err(ProviderError::new(
                    Failure::Malformed,
                    format!("the model refused: {refusal}"),
                ));
            }
            None => String::new(),
        },
        _ => return Err(http::shape_error("chat completions", "text content", reply)),
    };
    Ok(Completion {
        text,
        model: reply["model"].as_str().unwrap_or(model).to_owned(),
        usage: Usage {
            input_tokens: reply["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
            output_tokens: reply["usage"]["completion_tokens"].as_u64().unwrap_or(0),
        },
        stop_reason: choice["finish_reason"].as_str().map(str::to_owned),
    })
}

/// `{"data": [{"index": i, "embedding": [...]}, ...], "usage": {...}}`, in
/// input order whatever order the items come in.
fn parse_embeddings(reply: &Value, model: &str) -> Result<Embedded, ProviderError> {
    let items = reply["data"]
        .as_array()
        .ok_or_else(|| http::shape_error("embeddings", "data array", reply))?;
    let mut indexed = Vec::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let index = item["index"].as_u64().map_or(position, |i| i as usize);
        let vector = http::floats(&item["embedding"])
            .ok_or_else(|| http::shape_error("embeddings", "numeric embedding", reply))?;
        indexed.push((index, vector));
    }
    indexed.sort_by_key(|(index, _)| *index);
    Ok(Embedded {
        vectors: indexed.into_iter().map(|(_, v)| v).collect(),
        model: reply["model"].as_str().unwrap_or(model).to_owned(),
        usage: Usage {
            input_tokens: reply["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
            output_tokens: 0,
        },
    })
}

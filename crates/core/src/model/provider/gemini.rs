//! Google Gemini: `POST {GEMINI_BASE_URL}/v1beta/models/{model}:generateContent`
//! and, for embeddings, `:batchEmbedContents`, with `x-goog-api-key`.

use crate::model::sampler::Sampler;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::{Embedded, Failure, Provider, ProviderError, http};
use crate::model::{
    embed::EmbedPurpose,
    request::{Completion, Request, Role, Usage},
    settings::Endpoint,
};

pub(crate) struct Gemini {
    http: reqwest::Client,
    endpoint: Endpoint,
}

impl Gemini {
    pub(crate) fn new(http: reqwest::Client, endpoint: Endpoint) -> Self {
        Self { http, endpoint }
    }

    pub(crate) fn key_missing(&self) -> bool {
        self.endpoint.api_key.is_none()
    }

    /// One `batchEmbedContents` request for `inputs` (one attempt). Gemini
    /// reports no token counts for embeddings.
    pub(crate) async fn embed(
        &self,
        model: &str,
        inputs: &[String],
        purpose: EmbedPurpose,
    ) -> Result<Embedded, ProviderError> {
        let Some(key) = &self.endpoint.api_key else {
            return Err(ProviderError::new(
                Failure::Unavailable,
                "GEMINI_API_KEY (or GOOGLE_API_KEY) is not set",
            ));
        };
        let model = model.strip_prefix("models/").unwrap_or(model);
        let url = format!(
            "{}/v1beta/models/{}:batchEmbedContents",
            self.endpoint.base_url,
            super::sigv4::encode_segment(model)
        );
        let task = match purpose {
            EmbedPurpose::Document => "RETRIEVAL_DOCUMENT",
            EmbedPurpose::Query => "RETRIEVAL_QUERY",
        };
        let requests: Vec<Value> = inputs
            .iter()
            .map(|text| {
                json!({
                    "model": format!("models/{model}"),
                    "content": {"parts": [{"text": text}]},
                    "taskType": task,
                })
            })
            .collect();
        let call = self.http.post(url).header("x-goog-api-key", key);
        let body = json!({ "requests": requests });
        let reply = http::post_json(call, body.to_string().into_bytes()).await?;
        let items = reply["embeddings"]
            .as_array()
            .ok_or_else(|| http::shape_error("gemini", "embeddings", &reply))?;
        let vectors = items
            .iter()
            .map(|item| http::floats(&item["values"]))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| http::shape_error("gemini", "numeric embedding values", &reply))?;
        Ok(Embedded {
            vectors,
            model: model.to_owned(),
            usage: Usage::default(),
        })
    }
}

impl Provider for Gemini {
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
                    "GEMINI_API_KEY (or GOOGLE_API_KEY) is not set",
                ));
            };
            let url = format!(
                "{}/v1beta/models/{}:generateContent",
                self.endpoint.base_url,
                super::sigv4::encode_segment(model)
            );
            let call = self.http.post(url).header("x-goog-api-key", key);
            let reply = http::post_json(call, body(request).to_string().into_bytes()).await?;
            parse(&reply, model)
        })
    }
}

fn body(request: &Request) -> Value {
    let contents: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "model",
            };
            json!({"role": role, "parts": [{"text": m.text}]})
        })
        .collect();
    let mut config = json!({"maxOutputTokens": request.max_tokens});
    if let Some(t) = request.temperature_json() {
        config["temperature"] = t;
    }
    if let Some(schema) = &request.schema {
        config["responseMimeType"] = json!("application/json");
        config["responseJsonSchema"] = schema.schema.clone();
    }
    let mut body = json!({"contents": contents, "generationConfig": config});
    if let Some(system) = &request.system {
        body["systemInstruction"] = json!({"parts": [{"text": system}]});
    }
    body
}

fn parse(reply: &Value, model: &str) -> Result<Completion, ProviderError> {
    let candidate = &reply["candidates"][0];
    if candidate.is_null() {
        // A blocked prompt comes back 200 with promptFeedback and no candidates.
        let reason = reply["promptFeedback"]["blockReason"].as_str();
        return Err(match reason {
            Some(reason) => ProviderError::new(
                Failure::Status(400),
                format!("the prompt was blocked: {reason}"),
            ),
            None => http::shape_error("gemini", "candidates", reply),
        });
    }
    let text: String = candidate["content"]["parts"]
        .as_array()
        .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
        .unwrap_or_default();
    Ok(Completion {
        text,
        model: reply["modelVersion"].as_str().unwrap_or(model).to_owned(),
        usage: Usage {
            input_tokens: reply["usageMetadata"]["promptTokenCount"]
                .as_u64()
                .unwrap_or(0),
            output_tokens: reply["usageMetadata"]["candidatesTokenCount"]
                .as_u64()
                .unwrap_or(0),
        },
        stop_reason: candidate["finishReason"].as_str().map(str::to_owned),
    })
}

//! AWS Bedrock Converse: `POST {endpoint}/model/{modelId}/converse`, signed
//! with SigV4 (service `bedrock`) with credentials from AWS's standard chain
//! ([`super::aws`]).

use std::time::SystemTime;

use crate::model::sampler::Sampler;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use url::Url;

use super::{Failure, Provider, ProviderError, aws::CredentialChain, http, sigv4};
use crate::model::{
    request::{Completion, Request, Role, Usage},
    settings::BedrockSettings,
};

pub(crate) struct Bedrock {
    http: reqwest::Client,
    settings: BedrockSettings,
    credentials: CredentialChain,
}

impl Bedrock {
    pub(crate) fn new(http: reqwest::Client, settings: BedrockSettings) -> Self {
        let credentials = CredentialChain::new(
            settings.credentials.clone(),
            settings.chain.clone(),
            settings.region.clone(),
            http.clone(),
        );
        Self {
            http,
            settings,
            credentials,
        }
    }

    pub(crate) fn missing_setup(&self) -> Option<String> {
        if self.settings.region.is_none() {
            return Some("AWS_REGION is not set".into());
        }
        self.credentials.missing()
    }

    fn endpoint(&self, region: &str) -> String {
        match &self.settings.endpoint {
            Some(endpoint) => endpoint.trim_end_matches('/').to_owned(),
            None => format!("https://bedrock-runtime.{region}.amazonaws.com"),
        }
    }
}

impl Provider for Bedrock {
    fn complete<'a>(
        &'a self,
        model: &'a str,
        request: &'a Request,
        _sampler: Option<&'a dyn Sampler>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            if let Some(missing) = self.missing_setup() {
                return Err(ProviderError::new(Failure::Unavailable, missing));
            }
            let Some(region) = &self.settings.region else {
                return Err(ProviderError::new(
                    Failure::Unavailable,
                    "AWS setup incomplete",
                ));
            };
            let resolved = self.credentials.credentials().await?;
            let creds = &resolved.credentials;
            let raw = format!(
                "{}/model/{}/converse",
                self.endpoint(region),
                sigv4::encode_segment(model)
            );
            let url = Url::parse(&raw).map_err(|e| {
                ProviderError::new(
                    Failure::Unavailable,
                    format!("Bedrock endpoint URL {raw:?} is not valid: {e}"),
                )
            })?;
            let host = match (url.host_str(), url.port()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_owned(),
                (None, _) => {
                    return Err(ProviderError::new(
                        Failure::Unavailable,
                        format!("Bedrock endpoint URL {raw:?} has no host"),
                    ));
                }
            };
            let body = body(request).to_string().into_bytes();
            let payload_hash = sigv4::sha256_hex(&body);
            let amz_date = sigv4::amz_date(SystemTime::now());
            let mut signed: Vec<(&str, &str)> = vec![
                ("content-type", "application/json"),
                ("host", &host),
                ("x-amz-content-sha256", &payload_hash),
                ("x-amz-date", &amz_date),
            ];
            if let Some(token) = &creds.session_token {
                signed.push(("x-amz-security-token", token));
            }
            let scope = sigv4::Scope {
                access_key_id: &creds.access_key_id,
                secret_access_key: &creds.secret_access_key,
                region,
                service: "bedrock",
            };
            let authorization = sigv4::authorization(&scope, "POST", &url, &signed, &payload_hash);
            let mut call = self.http.post(url.clone());
            for (name, value) in &signed {
                // reqwest sets Host from the URL (the same value) and
                // content-type in post_json.
                if !matches!(*name, "host" | "content-type") {
                    call = call.header(*name, *value);
                }
            }
            call = call.header("authorization", authorization);
            // Credentials from the chain are not among the configured
            // secrets the caller scrubs: scrub them here.
            let reply = http::post_json(call, body).await.map_err(|mut error| {
                let secrets: Vec<String> = [
                    Some(creds.secret_access_key.clone()),
                    creds.session_token.clone(),
                ]
                .into_iter()
                .flatten()
                .collect();
                error.message = http::scrub(&error.message, &secrets, 1000);
                error
            })?;
            parse(&reply, model)
        })
    }
}

fn body(request: &Request) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            json!({"role": role, "content": [{"text": m.text}]})
        })
        .collect();
    let mut config = json!({"maxTokens": request.max_tokens});
    if let Some(t) = request.temperature_json() {
        config["temperature"] = t;
    }
    let mut body = json!({"messages": messages, "inferenceConfig": config});
    if let Some(system) = request.system_with_schema() {
        body["system"] = json!([{"text": system}]);
    }
    body
}

fn parse(reply: &Value, model: &str) -> Result<Completion, ProviderError> {
    let content = reply["output"]["message"]["content"]
        .as_array()
        .ok_or_else(|| http::shape_error("bedrock", "output.message.content", reply))?;
    let text: String = content.iter().filter_map(|b| b["text"].as_str()).collect();
    Ok(Completion {
        text,
        model: model.to_owned(),
        usage: Usage {
            input_tokens: reply["usage"]["inputTokens"].as_u64().unwrap_or(0),
            output_tokens: reply["usage"]["outputTokens"].as_u64().unwrap_or(0),
        },
        stop_reason: reply["stopReason"].as_str().map(str::to_owned),
    })
}

//! The wire formats as the imitation checks and answers them: chat in
//! each provider's shape, embeddings in OpenAI's and Gemini's.

use std::time::Duration;

use serde_json::{Value, json};
use url::Url;

use super::{
    API_KEY, AWS_ACCESS_KEY_ID, AWS_REGION, AWS_SECRET_ACCESS_KEY, Action, HttpRequest, Prompt,
};
use ffmcp_core::model::{SCHEMA_MARKER, sigv4};

/// Which provider a request was addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Anthropic,
    OpenAi,
    /// An OpenAI-compatible local server (`/compat/v1/chat/completions`).
    Compat,
    Gemini,
    Bedrock,
}

pub(crate) struct WireCall {
    pub wire: Wire,
    pub model: String,
    /// An embeddings request (OpenAI `/embeddings`, Gemini `batchEmbedContents`).
    pub embeddings: bool,
}

/// Which wire and model a request is for (the model from the path or body).
pub(crate) fn identify(request: &HttpRequest) -> Option<WireCall> {
    if request.method != "POST" {
        return None;
    }
    let path = request.path.split('?').next().unwrap_or("");
    let body_model = || {
        serde_json::from_slice::<Value>(&request.body)
            .ok()
            .and_then(|b| b["model"].as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let (wire, model, embeddings) = match path {
        "/v1/messages" => (Wire::Anthropic, body_model(), false),
        "/v1/chat/completions" => (Wire::OpenAi, body_model(), false),
        "/compat/v1/chat/completions" => (Wire::Compat, body_model(), false),
        "/v1/embeddings" => (Wire::OpenAi, body_model(), true),
        "/compat/v1/embeddings" => (Wire::Compat, body_model(), true),
        _ => {
            if let Some(rest) = path.strip_prefix("/v1beta/models/") {
                if let Some(model) = rest.strip_suffix(":generateContent") {
                    (Wire::Gemini, percent_decode(model), false)
                } else {
                    let model = rest.strip_suffix(":batchEmbedContents")?;
                    (Wire::Gemini, percent_decode(model), true)
                }
            } else if let Some(rest) = path.strip_prefix("/model/") {
                let model = rest.strip_suffix("/converse")?;
                (Wire::Bedrock, percent_decode(model), false)
            } else {
                return None;
            }
        }
    };
    Some(WireCall {
        wire,
        model,
        embeddings,
    })
}

impl Wire {
    /// The provider's error answer for `status`.
    pub(crate) fn error(self, status: u16, retry_after: Option<Duration>) -> Action {
        let message = match status {
            529 => "Overloaded",
            503 => "The service is temporarily unavailable",
            429 => "Rate limit exceeded",
            401 => "invalid api key",
            _ => "imitation fault",
        };
        self.error_with(status, message, retry_after)
    }

    pub(crate) fn error_with(
        self,
        status: u16,
        message: &str,
        retry_after: Option<Duration>,
    ) -> Action {
        let mut headers = Vec::new();
        if let Some(after) = retry_after {
            headers.push((
                "retry-after".to_owned(),
                after.as_secs_f64().ceil().to_string(),
            ));
            headers.push(("retry-after-ms".to_owned(), after.as_millis().to_string()));
        }
        let body = match self {
            Wire::Anthropic => {
                let kind = match status {
                    400 | 422 => "invalid_request_error",
                    401 => "authentication_error",
                    403 => "permission_error",
                    404 => "not_found_error",
                    429 => "rate_limit_error",
                    529 => "overloaded_error",
                    _ => "api_error",
                };
                json!({"type": "error", "error": {"type": kind, "message": message}})
            }
            Wire::OpenAi | Wire::Compat => {
                let kind = match status {
                    400..=499 if status != 429 => "invalid_request_error",
                    429 => "rate_limit_exceeded",
                    _ => "server_error",
                };
                json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
            }
            Wire::Gemini => {
                let kind = match status {
                    400 => "INVALID_ARGUMENT",
                    401 => "UNAUTHENTICATED",
                    403 => "PERMISSION_DENIED",
                    404 => "NOT_FOUND",
                    429 => "RESOURCE_EXHAUSTED",
                    503 | 529 => "UNAVAILABLE",
                    _ => "INTERNAL",
                };
                json!({"error": {"code": status, "message": message, "status": kind}})
            }
            Wire::Bedrock => {
                let kind = match status {
                    400 | 422 => "ValidationException",
                    401 | 403 => "AccessDeniedException",
                    404 => "ResourceNotFoundException",
                    429 => "ThrottlingException",
                    503 | 529 => "ServiceUnavailableException",
                    _ => "InternalServerException",
                };
                headers.push((
                    "x-amzn-errortype".to_owned(),
                    format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
                ));
                json!({"message": message})
            }
        };
        Action::Respond {
            status,
            headers,
            body: body.to_string().into_bytes(),
        }
    }
}

/// Checks the request as the provider would and answers it.
pub(crate) fn answer(
    call: &WireCall,
    request: &HttpRequest,
    responder: Option<&(dyn Fn(&Prompt) -> String + Send + Sync)>,
) -> Action {
    if call.embeddings {
        return super::embeddings::answer(call, request);
    }
    let prompt = match check(call, request) {
        Ok(prompt) => prompt,
        Err((status, message)) => return call.wire.error_with(status, &message, None),
    };
    let text = match responder {
        Some(responder) => responder(&prompt),
        None => default_reply(&prompt),
    };
    let input_tokens = tokens(&prompt.system.clone().unwrap_or_default())
        + prompt.messages.iter().map(|(_, t)| tokens(t)).sum::<u64>();
    let output_tokens = tokens(&text);
    let model = &call.model;
    let reply = match call.wire {
        Wire::Anthropic => json!({
            "id": "msg_imitation", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }),
        Wire::OpenAi | Wire::Compat => json!({
            "id": "chatcmpl-imitation", "object": "chat.completion", "created": 1_764_000_000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens, "total_tokens": input_tokens + output_tokens},
        }),
        Wire::Gemini => json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": input_tokens, "candidatesTokenCount": output_tokens, "totalTokenCount": input_tokens + output_tokens},
            "modelVersion": model,
        }),
        Wire::Bedrock => json!({
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": input_tokens + output_tokens},
            "metrics": {"latencyMs": 1},
        }),
    };
    Action::Respond {
        status: 200,
        headers: Vec::new(),
        body: reply.to_string().into_bytes(),
    }
}

pub(crate) type Rejection = (u16, String);

pub(crate) fn reject<T>(status: u16, message: impl Into<String>) -> Result<T, Rejection> {
    Err((status, message.into()))
}

fn check(call: &WireCall, request: &HttpRequest) -> Result<Prompt, Rejection> {
    if !request
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json"))
    {
        return reject(400, "content-type must be application/json");
    }
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(body @ Value::Object(_)) => body,
        _ => return reject(400, "the request body is not a JSON object"),
    };
    match call.wire {
        Wire::Anthropic => check_anthropic(call, request, &body),
        Wire::OpenAi | Wire::Compat => check_openai(call, request, &body),
        Wire::Gemini => check_gemini(call, request, &body),
        Wire::Bedrock => check_bedrock(call, request, &body),
    }
}

fn check_anthropic(
    call: &WireCall,
    request: &HttpRequest,
    body: &Value,
) -> Result<Prompt, Rejection> {
    if request.header("x-api-key") != Some(API_KEY) {
        return reject(401, "invalid x-api-key");
    }
    if request.header("anthropic-version").is_none() {
        return reject(400, "anthropic-version: header is required");
    }
    if !body["model"].is_string() {
        return reject(400, "model: Field required");
    }
    if body["max_tokens"].as_u64().is_none_or(|n| n < 1) {
        return reject(400, "max_tokens: Field required");
    }
    let system = match &body["system"] {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks) => Some(blocks.iter().filter_map(|b| b["text"].as_str()).collect()),
        _ => {
            return reject(
                400,
                "system: Input should be a valid string or list of text blocks",
            );
        }
    };
    let messages = messages(
        &body["messages"],
        &["user", "assistant"],
        |m| match &m["content"] {
            Value::String(s) => Some(s.clone()),
            Value::Array(blocks) => {
                Some(blocks.iter().filter_map(|b| b["text"].as_str()).collect())
            }
            _ => None,
        },
    )?;
    if messages.first().is_some_and(|(r, _)| r != "user") {
        return reject(400, "messages: first message must use the \"user\" role");
    }
    if messages.windows(2).any(|w| w[0].0 == w[1].0) {
        return reject(
            400,
            "messages: roles must alternate between \"user\" and \"assistant\"",
        );
    }
    let schema = system.as_deref().and_then(schema_in_prompt);
    Ok(Prompt {
        wire: call.wire,
        model: call.model.clone(),
        system,
        messages,
        schema,
    })
}

fn check_openai(call: &WireCall, request: &HttpRequest, body: &Value) -> Result<Prompt, Rejection> {
    let auth = request.header("authorization");
    match call.wire {
        Wire::OpenAi if auth != Some(&format!("Bearer {API_KEY}")) => {
            return reject(401, "Incorrect API key provided");
        }
        Wire::OpenAi if body.get("max_tokens").is_some() => {
            return reject(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            );
        }
        _ => {}
    }
    if !body["model"].is_string() {
        return reject(400, "you must provide a model parameter");
    }
    let mut all = messages(
        &body["messages"],
        &["system", "developer", "user", "assistant"],
        |m| m["content"].as_str().map(str::to_owned),
    )?;
    let system = match all.first() {
        Some((role, _)) if role == "system" || role == "developer" => Some(all.remove(0).1),
        _ => None,
    };
    let native = match &body["response_format"] {
        Value::Null => None,
        format if format["type"] == "json_schema" => {
            if !format["json_schema"]["name"].is_string()
                || !format["json_schema"]["schema"].is_object()
            {
                return reject(
                    400,
                    "response_format.json_schema needs a name and a schema object",
                );
            }
            Some(format["json_schema"]["schema"].clone())
        }
        format if format["type"] == "json_object" || format["type"] == "text" => None,
        _ => {
            return reject(
                400,
                "response_format.type must be text, json_object or json_schema",
            );
        }
    };
    let schema = native.or_else(|| system.as_deref().and_then(schema_in_prompt));
    Ok(Prompt {
        wire: call.wire,
        model: call.model.clone(),
        system,
        messages: all,
        schema,
    })
}

fn check_gemini(call: &WireCall, request: &HttpRequest, body: &Value) -> Result<Prompt, Rejection> {
    let query_key = request
        .path
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("key=")));
    if request.header("x-goog-api-key").or(query_key) != Some(API_KEY) {
        return reject(400, "API key not valid. Please pass a valid API key.");
    }
    let messages = messages(&body["contents"], &["user", "model"], |m| {
        let parts = m["parts"].as_array()?;
        Some(parts.iter().filter_map(|p| p["text"].as_str()).collect())
    })?;
    let system = body["systemInstruction"]["parts"].as_array().map(|parts| {
        parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<String>()
    });
    let config = &body["generationConfig"];
    if !config.is_null() && !config.is_object() {
        return reject(400, "generationConfig must be an object");
    }
    let native = config.get("responseJsonSchema").cloned();
    if native.is_some() && config["responseMimeType"] != "application/json" {
        return reject(
            400,
            "responseJsonSchema requires responseMimeType application/json",
        );
    }
    let schema = native.or_else(|| system.as_deref().and_then(schema_in_prompt));
    Ok(Prompt {
        wire: call.wire,
        model: call.model.clone(),
        system,
        messages,
        schema,
    })
}

fn check_bedrock(
    call: &WireCall,
    request: &HttpRequest,
    body: &Value,
) -> Result<Prompt, Rejection> {
    verify_signature(request)?;
    let messages = messages(&body["messages"], &["user", "assistant"], |m| {
        let blocks = m["content"].as_array()?;
        Some(blocks.iter().filter_map(|b| b["text"].as_str()).collect())
    })?;
    if body.get("inferenceConfig").is_some_and(|c| !c.is_object()) {
        return reject(400, "inferenceConfig must be an object");
    }
    let system = body["system"].as_array().map(|blocks| {
        blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<String>()
    });
    let schema = system.as_deref().and_then(schema_in_prompt);
    Ok(Prompt {
        wire: call.wire,
        model: call.model.clone(),
        system,
        messages,
        schema,
    })
}

/// Recomputes the SigV4 signature over what was actually received.
fn verify_signature(request: &HttpRequest) -> Result<(), Rejection> {
    let Some(auth) = request.header("authorization") else {
        return reject(403, "Missing Authentication Token");
    };
    let field = |name: &str| {
        auth.split([',', ' '])
            .find_map(|part| part.trim().strip_prefix(name))
            .unwrap_or("")
    };
    let credential = field("Credential=");
    let signed = field("SignedHeaders=");
    let mut scope = credential.split('/');
    let (key, _date, region, service) = (scope.next(), scope.next(), scope.next(), scope.next());
    if key != Some(AWS_ACCESS_KEY_ID) {
        return reject(
            403,
            "The security token included in the request is invalid.",
        );
    }
    if region != Some(AWS_REGION) || service != Some("bedrock") {
        return reject(
            403,
            format!(
                "Credential should be scoped to a valid region and service bedrock, got {credential}"
            ),
        );
    }
    let names: Vec<&str> = signed.split(';').collect();
    if !names.contains(&"host") || !names.contains(&"x-amz-date") {
        return reject(403, "host and x-amz-date must be signed");
    }
    let mut headers = Vec::new();
    for name in &names {
        let Some(value) = request.header(name) else {
            return reject(
                403,
                format!("signed header {name} is missing from the request"),
            );
        };
        headers.push((*name, value));
    }
    let payload_hash = sigv4::sha256_hex(&request.body);
    if let Some(claimed) = request.header("x-amz-content-sha256")
        && claimed != payload_hash
    {
        return reject(
            400,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        );
    }
    let host = request.header("host").unwrap_or("");
    let Ok(url) = Url::parse(&format!("http://{host}{}", request.path)) else {
        return reject(400, "unparseable request target");
    };
    let expected = sigv4::authorization(
        &sigv4::Scope {
            access_key_id: AWS_ACCESS_KEY_ID,
            secret_access_key: AWS_SECRET_ACCESS_KEY,
            region: AWS_REGION,
            service: "bedrock",
        },
        "POST",
        &url,
        &headers,
        &payload_hash,
    );
    if expected != auth {
        return reject(
            403,
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    Ok(())
}

/// `(role, text)` pairs of a non-empty message array with known roles.
fn messages(
    value: &Value,
    roles: &[&str],
    text: impl Fn(&Value) -> Option<String>,
) -> Result<Vec<(String, String)>, Rejection> {
    let Some(list) = value.as_array().filter(|l| !l.is_empty()) else {
        return reject(400, "messages: at least one message is required");
    };
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let role = m["role"].as_str().unwrap_or("");
            if !roles.contains(&role) {
                return reject(
                    400,
                    format!("messages.{i}.role: must be one of {roles:?}, got {role:?}"),
                );
            }
            match text(m) {
                Some(t) => Ok((role.to_owned(), t)),
                None => reject(400, format!("messages.{i}: content has no text")),
            }
        })
        .collect()
}

/// The schema a system prompt spells out after [`SCHEMA_MARKER`].
fn schema_in_prompt(system: &str) -> Option<Value> {
    let (_, after) = system.split_once(SCHEMA_MARKER)?;
    serde_json::from_str(after.trim_start().lines().next()?).ok()
}

fn default_reply(prompt: &Prompt) -> String {
    match &prompt.schema {
        Some(schema) => instance_of(schema).to_string(),
        None => {
            let start: String = prompt.last_user().chars().take(60).collect();
            format!("Imitation reply from {}: {start}", prompt.model)
        }
    }
}

/// A small value that satisfies common schemas (first enum value, minimums).
pub(crate) fn instance_of(schema: &Value) -> Value {
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema[key].as_array().and_then(|e| e.first()) {
            return instance_of(first);
        }
    }
    let kind = match &schema["type"] {
        Value::String(s) => s.as_str(),
        Value::Array(kinds) => kinds.iter().find_map(Value::as_str).unwrap_or("null"),
        _ if schema["properties"].is_object() => "object",
        _ => "string",
    };
    match kind {
        "object" => {
            let mut object = serde_json::Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, sub) in properties {
                    object.insert(name.clone(), instance_of(sub));
                }
            }
            Value::Object(object)
        }
        "array" => {
            let n = schema["minItems"].as_u64().unwrap_or(1).max(1);
            Value::Array((0..n).map(|_| instance_of(&schema["items"])).collect())
        }
        "integer" => json!(schema["minimum"].as_i64().unwrap_or(1)),
        "number" => {
            let low = schema["minimum"].as_f64().unwrap_or(0.0);
            let high = schema["maximum"].as_f64().unwrap_or(low + 1.0);
            json!((low + high) / 2.0)
        }
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => json!("imitation"),
    }
}

pub(crate) fn tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

//! Embeddings as the imitation answers them: OpenAI's `/embeddings` (and the
//! OpenAI-compatible server's) and Gemini's `batchEmbedContents`, checked
//! the way the providers check them (key, model, non-empty inputs, batch
//! limits), answered with deterministic vectors computed from the text.
//!
//! The vectors ([`vector_of`]) are a hashed bag of words: identifiers are
//! split on camelCase and snake_case, a few plural endings and stop words
//! are dropped, and a small synonym table folds words that mean the same
//! ("remove", "delete", "erase") onto one feature. So texts that share
//! meaning land near each other the way a real model's would, coarsely,
//! and the same text always gets the same vector: an imitation of the
//! API, not of any model's results.

use serde_json::{Value, json};

use super::{
    API_KEY, Action, HttpRequest,
    wire::{Rejection, Wire, WireCall, reject, tokens},
};

/// Dimensions of the imitation's vectors.
pub const DIMENSIONS: usize = 256;
/// Inputs one Gemini `batchEmbedContents` request takes at most.
pub const GEMINI_MAX_BATCH: usize = 100;
/// Inputs one OpenAI `/embeddings` request takes at most.
pub const OPENAI_MAX_BATCH: usize = 2048;

/// Words folded onto one feature, the first of each group naming it.
const SYNONYMS: &[&[&str]] = &[
    &[
        "remove", "delete", "erase", "drop", "discard", "evict", "purge", "unlink",
    ],
    &["fetch", "get", "retrieve", "load", "download", "obtain"],
    &["create", "make", "build", "construct", "new"],
    &["find", "search", "lookup", "locate", "seek"],
    &["start", "begin", "launch", "spawn", "boot"],
    &["stop", "end", "halt", "terminate", "shutdown", "kill"],
    &["item", "entry", "record", "element"],
    &["store", "cache", "table", "map", "registry"],
    &["text", "string", "str"],
    &["error", "failure", "fault"],
    &["count", "tally", "total"],
];

/// Words that carry no meaning for retrieval here (English and keywords).
const STOP: &[&str] = &[
    "a", "an", "the", "of", "to", "from", "by", "in", "into", "for", "and", "or", "is", "it",
    "its", "this", "that", "with", "on", "at", "be", "as", "def", "fn", "func", "function",
    "return", "returns", "self", "pub", "let", "const", "var", "if", "else", "none", "null",
];

/// The imitation's vector of `text` (unit length).
pub fn vector_of(text: &str) -> Vec<f32> {
    let mut vector = vec![0f32; DIMENSIONS];
    for word in words(text) {
        let hash = fnv(word.as_bytes());
        let slot = (hash % DIMENSIONS as u64) as usize;
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        vector[slot] += sign;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        // Nothing meaningful: a fixed direction, still a unit vector.
        vector[0] = 1.0;
    } else {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

/// The meaningful words of `text`, synonyms folded.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| !c.is_alphanumeric()) {
        for part in split_case(raw) {
            let lower = part.to_lowercase();
            if STOP.contains(&lower.as_str()) {
                continue;
            }
            let word = singular(&lower);
            if word.len() < 2 {
                continue;
            }
            let folded = SYNONYMS
                .iter()
                .find(|group| group.iter().any(|g| singular(g) == word))
                .map_or(word, |group| group[0]);
            out.push(folded.to_owned());
        }
    }
    out
}

/// `parseHTTPRequest` → `parse`, `HTTP`, `Request`.
fn split_case(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (at, c) = chars[i];
        let prev = chars[i - 1].1;
        let next_lower = chars.get(i + 1).is_some_and(|(_, n)| n.is_lowercase());
        if c.is_uppercase() && (prev.is_lowercase() || prev.is_ascii_digit() || next_lower) {
            parts.push(&word[start..at]);
            start = at;
        }
    }
    if start < word.len() {
        parts.push(&word[start..]);
    }
    parts
}

/// A few English endings dropped, so "entries" meets "entry".
fn singular(word: &str) -> &str {
    if let Some(stem) = word.strip_suffix("ies").filter(|s| s.len() >= 2) {
        // "entries" → "entr" + "y" is not a slice; keep the stem, which
        // both forms share after this function ("entry" → "entr").
        return stem;
    }
    if let Some(stem) = word.strip_suffix('y').filter(|s| s.len() >= 3) {
        return stem;
    }
    match word.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 && !stem.ends_with('s') => stem,
        _ => word,
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Checks an embeddings request and answers it.
pub(crate) fn answer(call: &WireCall, request: &HttpRequest) -> Action {
    let checked = match call.wire {
        Wire::Gemini => check_gemini(call, request),
        _ => check_openai(call, request),
    };
    let inputs = match checked {
        Ok(inputs) => inputs,
        Err((status, message)) => return call.wire.error_with(status, &message, None),
    };
    let vectors: Vec<Vec<f32>> = inputs.iter().map(|t| vector_of(t)).collect();
    let reply = match call.wire {
        Wire::Gemini => json!({
            "embeddings": vectors.iter().map(|v| json!({"values": v})).collect::<Vec<_>>(),
        }),
        _ => {
            let used: u64 = inputs.iter().map(|t| tokens(t)).sum();
            json!({
                "object": "list",
                "data": vectors.iter().enumerate().map(|(i, v)| json!({"object": "embedding", "index": i, "embedding": v})).collect::<Vec<_>>(),
                "model": call.model,
                "usage": {"prompt_tokens": used, "total_tokens": used},
            })
        }
    };
    Action::Respond {
        status: 200,
        headers: Vec::new(),
        body: reply.to_string().into_bytes(),
    }
}

fn body(request: &HttpRequest) -> Result<Value, Rejection> {
    if !request
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json"))
    {
        return reject(400, "content-type must be application/json");
    }
    match serde_json::from_slice(&request.body) {
        Ok(body @ Value::Object(_)) => Ok(body),
        _ => reject(400, "the request body is not a JSON object"),
    }
}

fn check_openai(call: &WireCall, request: &HttpRequest) -> Result<Vec<String>, Rejection> {
    if call.wire == Wire::OpenAi
        && request.header("authorization") != Some(&format!("Bearer {API_KEY}"))
    {
        return reject(401, "Incorrect API key provided");
    }
    let body = body(request)?;
    if !body["model"].is_string() {
        return reject(400, "you must provide a model parameter");
    }
    match body.get("encoding_format").and_then(Value::as_str) {
        None | Some("float") => {}
        Some(other) => {
            return reject(
                400,
                format!("encoding_format {other:?} is not served by this imitation; use float"),
            );
        }
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or((400, "'$.input' is invalid: expected strings".to_owned()))?,
        _ => return reject(400, "'input' is a required property"),
    };
    if inputs.is_empty() || inputs.len() > OPENAI_MAX_BATCH {
        return reject(
            400,
            format!("'$.input' must hold 1 to {OPENAI_MAX_BATCH} items"),
        );
    }
    if inputs.iter().any(|t| t.is_empty()) {
        return reject(
            400,
            "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        );
    }
    Ok(inputs)
}

fn check_gemini(call: &WireCall, request: &HttpRequest) -> Result<Vec<String>, Rejection> {
    if request.header("x-goog-api-key") != Some(API_KEY) {
        return reject(400, "API key not valid. Please pass a valid API key.");
    }
    let body = body(request)?;
    let Some(requests) = body["requests"].as_array().filter(|r| !r.is_empty()) else {
        return reject(400, "requests: at least one request is required");
    };
    if requests.len() > GEMINI_MAX_BATCH {
        return reject(
            400,
            format!("at most {GEMINI_MAX_BATCH} requests can be in one batch"),
        );
    }
    let expected = format!("models/{}", call.model);
    requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if r["model"].as_str() != Some(expected.as_str()) {
                return reject(
                    400,
                    format!("requests[{i}].model must be {expected:?}, as in the URL"),
                );
            }
            if let Some(task) = r.get("taskType").and_then(Value::as_str)
                && !matches!(
                    task,
                    "RETRIEVAL_QUERY"
                        | "RETRIEVAL_DOCUMENT"
                        | "SEMANTIC_SIMILARITY"
                        | "CLASSIFICATION"
                        | "CLUSTERING"
                        | "CODE_RETRIEVAL_QUERY"
                )
            {
                return reject(400, format!("requests[{i}].taskType {task:?} is invalid"));
            }
            let text: String = r["content"]["parts"]
                .as_array()
                .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
                .unwrap_or_default();
            if text.is_empty() {
                return reject(400, format!("requests[{i}].content has no text"));
            }
            Ok(text)
        })
        .collect()
}

/// The texts of an embeddings request as the imitation recorded it.
pub(crate) fn inputs_of(body: &Value) -> Vec<String> {
    if let Some(requests) = body["requests"].as_array() {
        return requests
            .iter()
            .map(|r| {
                r["content"]["parts"]
                    .as_array()
                    .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
                    .unwrap_or_default()
            })
            .collect();
    }
    match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &str, b: &str) -> f32 {
        vector_of(a)
            .iter()
            .zip(vector_of(b))
            .map(|(x, y)| x * y)
            .sum()
    }

    #[test]
    fn synonyms_land_near_and_unrelated_text_far() {
        let near = cosine("delete an entry", "fn remove_record(key)");
        let far = cosine("delete an entry", "fn parse_http_header(line)");
        assert!(near > 0.7, "{near}");
        assert!(far < 0.3, "{far}");
        assert_eq!(vector_of("same text"), vector_of("same text"));
        assert_eq!(
            words("parseHTTPRequest entries"),
            ["parse", "http", "request", "item"]
        );
    }
}

//! The HTTP plumbing every HTTP provider shares: one client, one way to
//! post JSON and classify what comes back.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{Failure, ProviderError};

/// Replies larger than this are refused (no completion is this large).
const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// The one HTTP client of the model layer. Timeouts per attempt are the
/// router's; this only bounds connecting.
///
/// Keys travel in headers (or signatures) to the configured base URL only:
/// redirects are never followed (a 3xx is a failed attempt, so a provider or
/// a man in the middle cannot bounce a key to another host), and no proxy is
/// taken from the environment; `proxy` (`FF_LLM_PROXY`) is the one way to
/// route model calls through a proxy.
pub(crate) fn client(proxy: Option<&str>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("ffmcp/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(50))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if let Some(proxy) = proxy {
        let proxy = reqwest::Proxy::all(proxy)
            .map_err(|e| format!("FF_LLM_PROXY is not a proxy URL: {e}"))?;
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|e| format!("could not build the model HTTP client: {e}"))
}

/// Replaces every configured secret in `text` (longest first) and keeps
/// at most `max` bytes: provider error bodies reach tool results and logs
/// only this way.
pub(crate) fn scrub(text: &str, secrets: &[String], max: usize) -> String {
    let mut text = text.to_owned();
    for secret in secrets {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), "[redacted]");
        }
    }
    truncate(text, max)
}

/// Sends `request` with a JSON body and returns the parsed JSON reply of a
/// 2xx answer; anything else becomes a classified [`ProviderError`].
pub(crate) async fn post_json(
    request: reqwest::RequestBuilder,
    body: Vec<u8>,
) -> Result<Value, ProviderError> {
    let response = request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(transport_error)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = read_capped(response).await?;
    if (300..400).contains(&status) {
        let to = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(no location)");
        return Err(ProviderError::new(
            Failure::Status(status),
            format!(
                "redirect to {}; model requests never follow redirects (credentials stay \
                 with the configured host): set the base URL to the final address",
                truncate(to.to_owned(), 120)
            ),
        ));
    }
    if !(200..300).contains(&status) {
        return Err(ProviderError {
            failure: Failure::Status(status),
            message: error_message(&bytes, &headers),
            retry_after: retry_after(&headers),
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ProviderError::new(
            Failure::Malformed,
            format!("reply is not JSON ({e}): {}", snippet(&bytes)),
        )
    })
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_REPLY_BYTES {
                    return Err(ProviderError::new(
                        Failure::Malformed,
                        format!("reply larger than {} MiB", MAX_REPLY_BYTES >> 20),
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(e) if e.is_timeout() => {
                return Err(ProviderError::new(Failure::Timeout, e.to_string()));
            }
            Err(e) => {
                return Err(ProviderError::new(
                    Failure::Malformed,
                    format!(
                        "reply body broke off after {} bytes: {}",
                        bytes.len(),
                        chain(&e)
                    ),
                ));
            }
        }
    }
}

fn transport_error(e: reqwest::Error) -> ProviderError {
    let failure = if e.is_timeout() {
        Failure::Timeout
    } else {
        Failure::Connect
    };
    ProviderError::new(failure, chain(&e))
}

/// An error and its sources on one line (reqwest's own message is terse).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// The provider's error message: `error.type: error.message` for Anthropic,
/// OpenAI and Gemini shapes, `x-amzn-errortype: message` for AWS.
pub(crate) fn error_message(body: &[u8], headers: &HeaderMap) -> String {
    let aws_type = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.split(':').next().unwrap_or(t).to_owned());
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return match aws_type {
            Some(t) => format!("{t}: {}", snippet(body)),
            None => snippet(body),
        };
    };
    let error = value
        .get("error")
        .filter(|e| e.is_object())
        .unwrap_or(&value);
    let message = ["message", "Message"]
        .iter()
        .find_map(|k| error.get(*k).and_then(Value::as_str))
        .or_else(|| value.get("error").and_then(Value::as_str));
    let kind = ["type", "status"]
        .iter()
        .find_map(|k| error.get(*k).and_then(Value::as_str))
        .filter(|k| *k != "error")
        .map(str::to_owned)
        .or(aws_type);
    let text = match (kind, message) {
        (Some(kind), Some(message)) => format!("{kind}: {message}"),
        (None, Some(message)) => message.to_owned(),
        (Some(kind), None) => kind,
        (None, None) => snippet(body),
    };
    truncate(text, 300)
}

/// `retry-after-ms` (Anthropic, OpenAI) or `retry-after` (seconds or an HTTP date).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms.min(86_400_000.0) / 1000.0));
    }
    let value = header("retry-after")?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        "(empty body)".to_owned()
    } else {
        truncate(text, 200)
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// A JSON array of numbers as `f32`s; `None` for anything else.
pub(crate) fn floats(value: &Value) -> Option<Vec<f32>> {
    value
        .as_array()?
        .iter()
        .map(|n| n.as_f64().map(|f| f as f32))
        .collect()
}

/// A missing field in an otherwise well-formed reply.
pub(crate) fn shape_error(provider: &str, what: &str, reply: &Value) -> ProviderError {
    ProviderError::new(
        Failure::Malformed,
        format!(
            "{provider} reply has no {what}: {}",
            truncate(reply.to_string(), 200)
        ),
    )
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        map
    }

    #[test]
    fn reads_retry_after_forms() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "150"), ("retry-after", "9")])),
            Some(Duration::from_millis(150))
        );
        assert_eq!(
            retry_after(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[])), None);
    }

    #[test]
    fn extracts_each_providers_error_message() {
        let none = headers(&[]);
        for (body, expected) in [
            (
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                "overloaded_error: Overloaded",
            ),
            (
                r#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}"#,
                "invalid_request_error: Incorrect API key",
            ),
            (
                r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
                "RESOURCE_EXHAUSTED: Quota exceeded",
            ),
            ("<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
        ] {
            assert_eq!(error_message(body.as_bytes(), &none), expected);
        }
        let aws = headers(&[("x-amzn-errortype", "ThrottlingException:http://internal")]);
        assert_eq!(
            error_message(br#"{"message":"Too many requests"}"#, &aws),
            "ThrottlingException: Too many requests"
        );
    }
}

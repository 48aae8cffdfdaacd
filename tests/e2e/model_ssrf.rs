//! The `model` argument and the model HTTP client under attack (issue 13,
//! item 1): a tool argument never chooses where ffmcp connects, keys never
//! follow a redirect or an environment proxy, and provider error bodies come
//! back scrubbed of every configured secret. Each test counts connections at
//! the listener the attacker wanted reached and asserts there were none.

use std::time::Duration;

use ffmcp_test_support::{imitation::Imitation, raw::RawListener as Listener};
use serde_json::{Value, json};

use super::support::{Client, MODEL_VARS, bin, call, error_text, structured};

const COMPAT_KEY: &str = "sk-compat-0f9e8d7c6b5a49382716";
const ANTHROPIC_KEY: &str = "sk-ant-api03-SECRETSECRETSECRET";

fn silent(_: &str) -> String {
    "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n".to_owned()
}

/// Answers 400 quoting the request's credentials back, as a hostile or
/// careless provider (or a proxy's error page) might.
fn echo_credentials(head: &str) -> String {
    let creds: Vec<&str> = head
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("authorization") || l.starts_with("x-api-key")
        })
        .collect();
    let body = json!({"error": {"type": "invalid_request_error",
        "message": format!("invalid credentials: {}", creds.join(" | "))}})
    .to_string();
    format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

async fn transform_with(env: &[(&str, String)]) -> Client {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("transform").env("FF_LOG", "warn");
    for var in MODEL_VARS {
        cmd.env_remove(var);
    }
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"] {
        cmd.env_remove(var).env_remove(var.to_ascii_lowercase());
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    ffmcp_test_support::client::connect_stdio(cmd).await
}

fn summarize(model: Option<&str>) -> Value {
    let mut args = json!({"text": "Quarterly numbers: revenue grew 12% while costs fell."});
    if let Some(model) = model {
        args["model"] = json!(model);
    }
    args
}

/// Waits long enough for a stray connection to have arrived.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_model_argument_cannot_choose_where_ffmcp_connects() {
    let imitation = Imitation::start().await.expect("imitation");
    let target = Listener::start(silent).await;
    let client = transform_with(&[
        (
            "FF_LLM_PRIMARY",
            format!("openai-compat:{}#llama3", imitation.compat_base_url()),
        ),
        ("OPENAI_COMPAT_API_KEY", COMPAT_KEY.to_owned()),
        ("FF_LLM_MAX_ATTEMPTS", "1".to_owned()),
    ])
    .await;

    let hostile = [
        format!("openai-compat:{}/v1#m", target.base()),
        format!("openai-compat:{}/v1#m,openai-compat:llama3", target.base()),
        "openai-compat:http://169.254.169.254/latest#m".to_owned(),
        "openai-compat:http://[::1]:9/v1#m".to_owned(),
        // A provider whose key is not configured is not a way out either.
        "anthropic:claude-sonnet-4-5".to_owned(),
    ];
    for model in &hostile {
        let result = call(&client, "summarize", summarize(Some(model))).await;
        let text = error_text(&result);
        assert!(text.contains("argument 'model'"), "{model}: {text}");
        assert!(
            text.contains("FF_LLM_PRIMARY"),
            "says how to configure: {text}"
        );
        assert!(!text.contains(COMPAT_KEY), "{text}");
    }
    settle().await;
    assert_eq!(target.connections(), 0, "the tool argument reached its URL");

    // The configured server stays selectable by model name alone.
    let ok = structured(
        &call(
            &client,
            "summarize",
            summarize(Some("openai-compat:llama3")),
        )
        .await,
    );
    assert!(
        ok["model"]["route"]
            .as_str()
            .unwrap_or("")
            .contains("llama3"),
        "{ok}"
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn keys_follow_no_redirect_and_no_environment_proxy() {
    // The configured provider answers 307 to a collector; a proxy from the
    // environment waits for the key as well.
    let collector = Listener::start(silent).await;
    let to = collector.port();
    let provider = Listener::start(move |_| {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:{to}/steal\r\ncontent-length: 0\r\n\r\n"
        )
    })
    .await;
    let proxy = Listener::start(silent).await;

    let client = transform_with(&[
        ("FF_LLM_PRIMARY", "anthropic:claude-sonnet-4-5".to_owned()),
        ("ANTHROPIC_BASE_URL", provider.base()),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY.to_owned()),
        ("FF_LLM_MAX_ATTEMPTS", "1".to_owned()),
        ("HTTPS_PROXY", proxy.base()),
        ("HTTP_PROXY", proxy.base()),
        ("ALL_PROXY", proxy.base()),
        ("http_proxy", proxy.base()),
    ])
    .await;
    let result = call(&client, "summarize", summarize(None)).await;
    let text = error_text(&result);
    assert!(
        text.contains("307") && text.contains("never follow redirects"),
        "{text}"
    );
    settle().await;
    assert!(
        provider.connections() >= 1,
        "the configured provider is called"
    );
    assert_eq!(collector.connections(), 0, "the key followed a redirect");
    assert_eq!(proxy.connections(), 0, "the key went through an env proxy");
    client.cancel().await.ok();

    // A provider host that does not resolve: with an environment proxy in
    // force the request (and key) would go to the proxy.
    let client = transform_with(&[
        ("FF_LLM_PRIMARY", "anthropic:claude-sonnet-4-5".to_owned()),
        (
            "ANTHROPIC_BASE_URL",
            "http://model-gateway.invalid".to_owned(),
        ),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY.to_owned()),
        ("FF_LLM_MAX_ATTEMPTS", "1".to_owned()),
        ("HTTPS_PROXY", proxy.base()),
        ("HTTP_PROXY", proxy.base()),
        ("ALL_PROXY", proxy.base()),
        ("http_proxy", proxy.base()),
    ])
    .await;
    let _ = error_text(&call(&client, "summarize", summarize(None)).await);
    settle().await;
    assert_eq!(proxy.connections(), 0, "an env proxy was used");
    client.cancel().await.ok();
}

#[tokio::test]
async fn provider_error_bodies_come_back_without_secrets() {
    let provider = Listener::start(echo_credentials).await;
    let client = transform_with(&[
        ("FF_LLM_PRIMARY", "anthropic:claude-sonnet-4-5".to_owned()),
        ("ANTHROPIC_BASE_URL", provider.base()),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY.to_owned()),
        (
            "FF_LLM_FALLBACKS",
            format!("openai-compat:{}/v1#m", provider.base()),
        ),
        ("OPENAI_COMPAT_API_KEY", COMPAT_KEY.to_owned()),
    ])
    .await;
    let text = error_text(&call(&client, "summarize", summarize(None)).await);
    // The provider did see the key (so the echo had something to leak) …
    let seen = provider.received().join("\n");
    assert!(seen.contains(ANTHROPIC_KEY), "the provider got the key");
    // … and the tool error quotes the reply without it.
    assert!(text.contains("invalid credentials"), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.contains(ANTHROPIC_KEY), "{text}");
    assert!(!text.contains("SECRETSECRET"), "{text}");
    let text = error_text(
        &call(
            &client,
            "summarize",
            summarize(Some(&format!("openai-compat:{}/v1#m", provider.base()))),
        )
        .await,
    );
    assert!(!text.contains(COMPAT_KEY), "{text}");
    client.cancel().await.ok();
}

//! Each provider's request shape and response parsing, and how each
//! injected fault is classified, through `Providers::complete` (one attempt,
//! no routing).

use std::time::Duration;

use ffmcp_core::model::{Completion, Failure, ProviderError, Providers, Request, Usage};
use ffmcp_test_support::imitation::{AWS_ACCESS_KEY_ID, Fault, Imitation, Recorded, Wire};
use serde_json::{Value, json};

use super::{imitation, route};

fn request() -> Request {
    Request::new("Say hello to the imitation")
        .with_system("Be brief.")
        .with_max_tokens(64)
        .with_temperature(0.2)
}

async fn direct(
    imitation: &Imitation,
    spec: &str,
    request: &Request,
) -> Result<Completion, ProviderError> {
    Providers::new(imitation.settings())
        .complete(&route(spec), request, None)
        .await
}

fn only_request(imitation: &Imitation) -> Recorded {
    let requests = imitation.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    requests.into_iter().next().expect("one request")
}

fn assert_usage(usage: Usage) {
    assert!(
        usage.input_tokens > 0 && usage.output_tokens > 0,
        "{usage:?}"
    );
}

#[tokio::test]
async fn anthropic_messages_shape() {
    let imitation = imitation().await;
    let done = direct(&imitation, "anthropic:claude-sonnet-4-5", &request())
        .await
        .expect("answer");
    assert!(
        done.text
            .starts_with("Imitation reply from claude-sonnet-4-5: Say hello"),
        "{}",
        done.text
    );
    assert_eq!(done.stop_reason.as_deref(), Some("end_turn"));
    assert_usage(done.usage);
    let sent = only_request(&imitation);
    assert_eq!(sent.wire, Wire::Anthropic);
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some("imitation-key"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        sent.body,
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Say hello to the imitation"}],
            "system": "Be brief.",
            "temperature": 0.2,
        })
    );
}

#[tokio::test]
async fn openai_chat_completions_shape_with_json_schema() {
    let imitation = imitation().await;
    let schema = json!({"type": "object", "properties": {"greeting": {"type": "string"}}, "required": ["greeting"]});
    let done = direct(
        &imitation,
        "openai:gpt-4o",
        &request().with_schema("hello", schema.clone()),
    )
    .await
    .expect("answer");
    assert_eq!(
        serde_json::from_str::<Value>(&done.text).expect("json"),
        json!({"greeting": "imitation"})
    );
    assert_eq!(done.stop_reason.as_deref(), Some("stop"));
    assert_usage(done.usage);
    let sent = only_request(&imitation);
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.header("authorization"), Some("Bearer imitation-key"));
    assert_eq!(sent.body["max_completion_tokens"], 64);
    assert!(sent.body.get("max_tokens").is_none(), "{}", sent.body);
    assert_eq!(
        sent.body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(sent.body["messages"][1]["role"], "user");
    assert_eq!(
        sent.body["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "hello", "schema": schema, "strict": false}})
    );
}

#[tokio::test]
async fn openai_compatible_server_shape() {
    let imitation = imitation().await;
    let spec = format!("openai-compat:{}#llama3", imitation.compat_base_url());
    let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}});
    let done = direct(&imitation, &spec, &request().with_schema("r", schema))
        .await
        .expect("answer");
    assert_eq!(done.text, r#"{"ok":true}"#);
    let sent = only_request(&imitation);
    assert_eq!(sent.wire, Wire::Compat);
    assert_eq!(
        sent.header("authorization"),
        None,
        "no key configured, none sent"
    );
    assert_eq!(sent.body["max_tokens"], 64);
    let system = sent.body["messages"][0]["content"]
        .as_str()
        .expect("system");
    assert!(
        system.starts_with("Be brief.") && system.contains("JSON Schema"),
        "{system}"
    );
}

#[tokio::test]
async fn gemini_generate_content_shape() {
    let imitation = imitation().await;
    let schema = json!({"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}});
    let done = direct(
        &imitation,
        "gemini:gemini-2.5-flash",
        &request().with_schema("n", schema.clone()),
    )
    .await
    .expect("answer");
    assert_eq!(done.text, r#"{"n":3}"#);
    assert_eq!(done.stop_reason.as_deref(), Some("STOP"));
    assert_usage(done.usage);
    let sent = only_request(&imitation);
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(sent.header("x-goog-api-key"), Some("imitation-key"));
    assert_eq!(
        sent.body,
        json!({
            "contents": [{"role": "user", "parts": [{"text": "Say hello to the imitation"}]}],
            "generationConfig": {
                "maxOutputTokens": 64, "temperature": 0.2,
                "responseMimeType": "application/json", "responseJsonSchema": schema,
            },
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
        })
    );
}

#[tokio::test]
async fn bedrock_converse_is_sigv4_signed() {
    let imitation = imitation().await;
    let model = "anthropic.claude-3-5-sonnet-20240620-v1:0";
    let done = direct(&imitation, &format!("bedrock:{model}"), &request())
        .await
        .expect("the imitation verified the signature");
    assert!(done.text.contains(model), "{}", done.text);
    assert_usage(done.usage);
    let sent = only_request(&imitation);
    assert_eq!(
        sent.path,
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    assert_eq!(sent.model, model);
    let auth = sent.header("authorization").expect("signed");
    assert!(
        auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY_ID}/"))
            && auth.contains("/us-east-1/bedrock/aws4_request")
            && auth.contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date"),
        "{auth}"
    );
    assert_eq!(sent.body["inferenceConfig"]["maxTokens"], 64);
    assert_eq!(sent.body["system"], json!([{"text": "Be brief."}]));
    assert_eq!(
        sent.body["messages"][0]["content"],
        json!([{"text": "Say hello to the imitation"}])
    );

    // A wrong secret signs differently: the imitation refuses it, as AWS does.
    let mut settings = imitation.settings();
    if let Some(creds) = settings.bedrock.credentials.as_mut() {
        creds.secret_access_key = "wrong".into();
    }
    let err = Providers::new(settings)
        .complete(&route(&format!("bedrock:{model}")), &request(), None)
        .await
        .expect_err("bad signature");
    assert_eq!(err.failure, Failure::Status(403));
    assert!(err.message.contains("signature"), "{err}");
}

#[tokio::test]
async fn provider_errors_carry_status_type_and_message() {
    let imitation = imitation().await;
    for (spec, model, expected) in [
        ("anthropic:m-a", "m-a", "overloaded_error: Overloaded"),
        ("openai:m-o", "m-o", "server_error: Overloaded"),
        ("gemini:m-g", "m-g", "UNAVAILABLE: Overloaded"),
        (
            "bedrock:m-b",
            "m-b",
            "ServiceUnavailableException: Overloaded",
        ),
    ] {
        imitation.fault_times(model, Fault::Status(529), 1);
        let err = direct(&imitation, spec, &request()).await.expect_err("529");
        assert_eq!(err.failure, Failure::Status(529), "{spec}");
        assert_eq!(err.message, expected, "{spec}");
    }
    let mut settings = imitation.settings();
    settings.anthropic.api_key = Some("wrong".into());
    let err = Providers::new(settings)
        .complete(&route("anthropic:m"), &request(), None)
        .await
        .expect_err("401");
    assert_eq!(
        err.to_string(),
        "HTTP 401: authentication_error: invalid x-api-key"
    );
}

#[tokio::test]
async fn faults_are_classified() {
    let imitation = imitation().await;
    let cases = [
        (
            Fault::RateLimited {
                retry_after: Duration::from_millis(1500),
            },
            Failure::Status(429),
        ),
        (Fault::Reset, Failure::Connect),
        (Fault::MalformedJson, Failure::Malformed),
        (Fault::Truncated, Failure::Malformed),
        (Fault::Status(503), Failure::Status(503)),
    ];
    for (fault, expected) in cases {
        imitation.fault_times("m", fault.clone(), 1);
        let err = direct(&imitation, "openai:m", &request())
            .await
            .expect_err("fault");
        assert_eq!(err.failure, expected, "{fault:?}: {err}");
        if let Fault::RateLimited { .. } = fault {
            assert_eq!(err.retry_after, Some(Duration::from_millis(1500)));
        }
    }
    // The imitation answers the next request normally again.
    direct(&imitation, "openai:m", &request())
        .await
        .expect("healthy");
}

#[tokio::test]
async fn missing_credentials_make_a_route_unavailable() {
    let imitation = imitation().await;
    let mut settings = imitation.settings();
    settings.openai.api_key = None;
    settings.bedrock.region = None;
    let providers = Providers::new(settings);
    let err = providers
        .complete(&route("openai:gpt-4o"), &request(), None)
        .await
        .expect_err("no key");
    assert_eq!(err.failure, Failure::Unavailable);
    assert!(err.message.contains("OPENAI_API_KEY"), "{err}");
    assert_eq!(
        providers.missing_setup(&route("bedrock:m")).as_deref(),
        Some("AWS_REGION is not set")
    );
    assert_eq!(imitation.requests().len(), 0, "nothing was sent");
}

#[tokio::test]
async fn malformed_requests_are_refused_like_the_provider_would() {
    let imitation = imitation().await;
    // Two user turns in a row: Anthropic demands alternation.
    let mut bad = request();
    bad.messages.push(ffmcp_core::model::Message::user("again"));
    let err = direct(&imitation, "anthropic:m", &bad)
        .await
        .expect_err("400");
    assert_eq!(err.failure, Failure::Status(400));
    assert!(err.message.contains("alternate"), "{err}");
}

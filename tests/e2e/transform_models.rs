//! transform's model-backed tools end to end: the real binary, a real MCP
//! client, and the provider imitation running in this test process on
//! 127.0.0.1 (pointed at through the providers' own base-URL variables).
#![allow(deprecated)] // MCP sampling is deprecated by SEP-2577; clients still ship it

use std::sync::{Arc, Mutex};

use ffmcp_test_support::{
    client::{call_peer, conforming, connect_stdio_with},
    imitation::{Fault, Imitation},
};
use rmcp::{
    ClientHandler, ErrorData, RoleClient,
    model::{
        CallToolRequestParams, ClientCapabilities, ClientConfig, CreateMessageRequestParams,
        CreateMessageResult, Implementation, ReadResourceRequestParams, ResourceContents,
        SamplingMessage,
    },
    service::{RequestContext, RunningService},
};
use serde_json::{Value, json};

use super::support::{HttpProc, MODEL_VARS, bin, http_client, text_of};

const PRIMARY: &str = "claude-sonnet-4-5";
const FALLBACK: &str = "gpt-4o";

/// The imitation's variables plus two routes and short retry windows.
fn routed_env(imitation: &Imitation) -> Vec<(&'static str, String)> {
    let mut env = imitation.env();
    env.extend([
        ("FF_LLM_PRIMARY", format!("anthropic:{PRIMARY}")),
        ("FF_LLM_FALLBACKS", format!("openai:{FALLBACK}")),
        ("FF_LLM_BACKOFF_MS", "5".into()),
        ("FF_LLM_BACKOFF_MAX_MS", "20".into()),
        ("FF_LLM_COOLDOWN_MS", "200".into()),
    ]);
    env
}

/// `ffmcp transform` over stdio with exactly `env` for the model layer.
async fn client<H: ClientHandler>(
    handler: H,
    env: &[(&str, String)],
) -> RunningService<RoleClient, H> {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("transform").env("FF_LOG", "warn");
    for var in MODEL_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    connect_stdio_with(handler, cmd).await
}

/// Calls `tool`; its structured result, checked against the outputSchema.
async fn call_ok<H: ClientHandler>(
    client: &RunningService<RoleClient, H>,
    tool: &str,
    args: Value,
) -> Value {
    let result = call_peer(client, tool, args).await;
    conforming(client, tool, &result).await
}

async fn read_stats<H: ClientHandler>(client: &RunningService<RoleClient, H>) -> Value {
    let resources = client.list_all_resources().await.expect("resources/list");
    assert!(
        resources.iter().any(|r| r.uri == "ffmcp://stats"),
        "{resources:?}"
    );
    let read = client
        .read_resource(ReadResourceRequestParams::new("ffmcp://stats"))
        .await
        .expect("resources/read");
    let Some(ResourceContents::TextResourceContents { text, .. }) = read.contents.first() else {
        panic!("text contents expected: {read:?}");
    };
    serde_json::from_str(text).expect("stats are JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn model_tools_answer_through_the_router() {
    let imitation = Imitation::start().await.expect("imitation");
    let client = client((), &routed_env(&imitation)).await;
    let text =
        "Our refund policy changed on 1 March: refunds now take 5 days. Contact ana@example.com.";

    let out = call_ok(
        &client,
        "summarize",
        json!({"text": text, "length": "short", "format": "bullets"}),
    )
    .await;
    assert!(
        out["text"]
            .as_str()
            .expect("text")
            .starts_with("Imitation reply from"),
        "{out}"
    );
    assert_eq!(out["model"]["route"], format!("anthropic:{PRIMARY}"));
    assert_eq!(out["model"]["fallbacks"], 0);
    assert!(
        out["model"]["cost_usd"].as_f64().is_some_and(|c| c > 0.0),
        "{out}"
    );
    let sent = imitation.requests().pop().expect("a request");
    let system = sent.body["system"].as_str().expect("system prompt");
    assert!(system.contains("2 or 3 Markdown bullets"), "{system}");
    assert!(
        sent.body["messages"][0]["content"]
            .as_str()
            .expect("content")
            .contains(text)
    );

    let out = call_ok(
        &client,
        "translate",
        json!({"text": text, "to": "German", "formal": true}),
    )
    .await;
    assert!(out["text"].as_str().is_some_and(|t| !t.is_empty()));
    let out = call_ok(
        &client,
        "rewrite",
        json!({"text": text, "tone": "friendly", "length": "shorter"}),
    )
    .await;
    assert!(out["text"].as_str().is_some_and(|t| !t.is_empty()));
    let err = call_peer(&client, "rewrite", json!({"text": text})).await;
    assert_eq!(err.is_error, Some(true));
    assert!(
        text_of(&err).contains("say what to change"),
        "{}",
        text_of(&err)
    );

    let schema = json!({
        "type": "object",
        "properties": {"email": {"type": "string"}, "days": {"type": "integer", "minimum": 5}},
        "required": ["email", "days"]
    });
    let out = call_ok(&client, "extract", json!({"text": text, "schema": schema})).await;
    assert_eq!(out["data"], json!({"email": "imitation", "days": 5}));
    assert_eq!(out["repaired"], false);

    let out = call_ok(
        &client,
        "classify",
        json!({"text": text, "labels": ["billing", "other"]}),
    )
    .await;
    assert_eq!(out["label"], "billing");
    assert_eq!(out["confidence"], 0.5);
    let out = call_ok(
        &client,
        "classify",
        json!({"text": text, "labels": ["billing", "other"], "multi_label": true}),
    )
    .await;
    assert_eq!(out["labels"][0]["label"], "billing");
    let err = call_peer(
        &client,
        "classify",
        json!({"text": text, "labels": ["only"]}),
    )
    .await;
    assert!(
        text_of(&err).contains("2 to 200 distinct labels"),
        "{}",
        text_of(&err)
    );

    // A per-call model replaces the configured routes.
    let out = call_ok(
        &client,
        "summarize",
        json!({"text": text, "model": "gemini:gemini-2.5-flash"}),
    )
    .await;
    assert_eq!(out["model"]["route"], "gemini:gemini-2.5-flash");

    // The primary goes down: the fallback answers, and `models` shows it.
    imitation.outage(PRIMARY, Fault::Status(529));
    let out = call_ok(
        &client,
        "classify",
        json!({"text": text, "labels": ["billing", "other"]}),
    )
    .await;
    assert_eq!(out["model"]["route"], format!("openai:{FALLBACK}"));
    assert_eq!(out["model"]["fallbacks"], 1);
    assert_eq!(out["model"]["attempts"], 4);
    let models = call_ok(&client, "models", json!({})).await;
    assert_eq!(models["configured"], true);
    assert_eq!(models["routes"][0]["route"], format!("anthropic:{PRIMARY}"));
    assert_eq!(models["routes"][0]["health"], "failing");
    assert!(
        models["routes"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("529")),
        "{models}"
    );
    assert_eq!(models["routes"][1]["health"], "healthy");

    let stats = read_stats(&client).await;
    assert_eq!(stats["stats"]["tools"]["classify"]["calls"], 3, "{stats}");
    assert_eq!(
        stats["stats"]["tools"]["classify"]["fallbacks"], 1,
        "{stats}"
    );
    assert!(
        stats["stats"]["tools"]["summarize"]["latency"]["p99_ms"].is_u64(),
        "{stats}"
    );
    let primary = &stats["stats"]["routes"][format!("anthropic:{PRIMARY}")];
    assert_eq!(primary["failures"], 3, "{stats}");
    assert!(
        !stats.to_string().contains("refund policy"),
        "no prompt text in stats"
    );
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_model_the_tools_say_what_to_set() {
    let client = client((), &[]).await;
    let out = call_peer(
        &client,
        "summarize",
        json!({"text": "Some text to summarise."}),
    )
    .await;
    assert_eq!(out.is_error, Some(true));
    let message = text_of(&out);
    for needle in ["FF_LLM_PRIMARY", "ANTHROPIC_API_KEY", "sampling"] {
        assert!(message.contains(needle), "{needle:?} in {message}");
    }
    let models = call_ok(&client, "models", json!({})).await;
    assert_eq!(models["configured"], false);
    assert_eq!(models["client_sampling"], false);
    assert_eq!(models["routes"], json!([]));
    assert_eq!(models["embedding"], json!(null), "{models}");
    // The offline tools are unaffected.
    call_ok(&client, "text_stats", json!({"text": "still works"})).await;
    client.cancel().await.expect("close");
}

/// A client whose own model answers `sampling/createMessage`.
#[derive(Clone, Default)]
struct Sampler {
    asked: Arc<Mutex<Vec<CreateMessageRequestParams>>>,
}

impl ClientHandler for Sampler {
    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let system = params.system_prompt.clone().unwrap_or_default();
        self.asked.lock().expect("lock").push(params);
        let reply = if system.contains("JSON Schema") {
            json!({"label": "other", "confidence": 0.75}).to_string()
        } else {
            "A summary from the client's own model.".to_owned()
        };
        Ok(CreateMessageResult::new(
            SamplingMessage::assistant_text(reply),
            "client-llm".into(),
        ))
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_sampling().build(),
            Implementation::new("ffmcp-e2e-sampler", "0"),
        )
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sampling_client_powers_the_tools_without_any_key() {
    let sampler = Sampler::default();
    let client = client(sampler.clone(), &[]).await;
    let out = call_ok(
        &client,
        "summarize",
        json!({"text": "A long text about nothing in particular."}),
    )
    .await;
    assert_eq!(out["text"], "A summary from the client's own model.");
    assert_eq!(out["model"]["route"], "sampling");
    assert_eq!(out["model"]["model"], "client-llm");
    let out = call_ok(
        &client,
        "classify",
        json!({"text": "hello", "labels": ["billing", "other"]}),
    )
    .await;
    assert_eq!(
        (out["label"].as_str(), out["confidence"].as_f64()),
        (Some("other"), Some(0.75))
    );
    let models = call_ok(&client, "models", json!({})).await;
    assert_eq!(models["client_sampling"], true);
    let asked = sampler.asked.lock().expect("lock").clone();
    assert_eq!(asked.len(), 2);
    assert!(
        asked[0]
            .system_prompt
            .as_deref()
            .is_some_and(|s| s.contains("summarise"))
    );
    client.cancel().await.expect("close");
}

/// Over streamable HTTP: a classification batch while the primary has an
/// outage in the middle; every item gets a result.
#[tokio::test(flavor = "multi_thread")]
async fn classify_batch_over_http_survives_an_outage() {
    let imitation = Arc::new(Imitation::start().await.expect("imitation"));
    let env = routed_env(&imitation);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = HttpProc::spawn(bin(), &["transform", "--http", "127.0.0.1:0"], &env);
    let client = Arc::new(http_client(&format!("{}/mcp", server.base), None).await);

    // At most 8 in flight; items start in order, so the outage covers items 20..40.
    let slots = Arc::new(tokio::sync::Semaphore::new(8));
    let mut batch = tokio::task::JoinSet::new();
    for i in 0..60 {
        let slot = slots.clone().acquire_owned().await.expect("semaphore open");
        if i == 20 {
            imitation.outage(PRIMARY, Fault::Status(503));
        }
        if i == 40 {
            imitation.clear(PRIMARY);
        }
        let client = client.clone();
        batch.spawn(async move {
            let _slot = slot;
            let args = json!({"text": format!("message {i}"), "labels": ["billing", "other"]});
            let Value::Object(args) = args else {
                unreachable!()
            };
            let result = client
                .call_tool(CallToolRequestParams::new("classify").with_arguments(args))
                .await
                .expect("answered");
            assert_ne!(
                result.is_error,
                Some(true),
                "item {i}: {}",
                text_of(&result)
            );
            result.structured_content.expect("structured")
        });
    }
    let results: Vec<Value> = batch.join_all().await;
    assert_eq!(results.len(), 60);
    assert!(results.iter().all(|r| r["label"] == "billing"));
    let fell_back = results
        .iter()
        .filter(|r| r["model"]["fallbacks"] == 1)
        .count();
    assert!(
        fell_back >= 10,
        "{fell_back} items answered by the fallback"
    );
    assert!(imitation.hits(FALLBACK) >= 10);
}

//! Resource change notifications end to end (`core::subscriptions`): a
//! leadgen job watched with `resources/subscribe` (2025-11-25 clients) and
//! with `subscriptions/listen` (2026-07-28), its changes caused by the
//! test (cancel, resume to done against the provider imitation), and two
//! HTTP sessions that each hear only the job they watch.
#![allow(deprecated)] // resources/subscribe is one of the two paths under test.

use ffmcp_test_support::{
    client::call_peer,
    imitation::{Fault, Imitation},
};
use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::{
        ProtocolVersion, ReadResourceRequestParams, ResourceContents,
        ResourceUpdatedNotificationParam, ServerNotification, SubscribeRequestParams,
        SubscriptionFilter,
    },
    service::{ClientLifecycleMode, ClientServiceExt, NotificationContext, RunningService},
    transport::{StreamableHttpClientTransport, TokioChildProcess},
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::support::{HttpProc, MODEL_VARS, TIMEOUT, bin, error_text, structured};

const MODEL: &str = "claude-sonnet-4-5";

/// Reports `notifications/resources/updated`.
#[derive(Clone)]
struct Heard(mpsc::UnboundedSender<String>);

impl ClientHandler for Heard {
    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.0.send(params.uri);
    }
}

/// The imitation's variables, one route that is down until the test
/// clears it (so a job waits, and changes only when the test acts), fast
/// retries, a private FF_DB.
fn env(imitation: &Imitation, dir: &std::path::Path) -> Vec<(String, String)> {
    imitation.outage(MODEL, Fault::Status(529));
    imitation.respond(MODEL, |_| {
        json!({"label": "hot", "confidence": 0.9, "rationale": "r"}).to_string()
    });
    let mut env: Vec<(String, String)> = imitation
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for (k, v) in [
        ("FF_LLM_PRIMARY", format!("anthropic:{MODEL}")),
        ("FF_LLM_FALLBACKS", String::new()),
        ("FF_LLM_BACKOFF_MS", "5".into()),
        ("FF_LLM_BACKOFF_MAX_MS", "20".into()),
        ("FF_LLM_COOLDOWN_MS", "50".into()),
        ("FF_LEADGEN_RETRY_MS", "50".into()),
        ("FF_LEADGEN_RETRY_MAX_MS", "100".into()),
        ("FF_DB", dir.join("ffmcp.db").display().to_string()),
        ("FF_LOG", "warn".into()),
    ] {
        env.retain(|(name, _)| name != k);
        env.push((k.to_owned(), v));
    }
    env
}

fn leadgen_command(env: &[(String, String)]) -> tokio::process::Command {
    #[allow(clippy::disallowed_methods)] // tests start the binary under test directly
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("leadgen");
    for var in MODEL_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

async fn start_job<H: ClientHandler>(client: &RunningService<RoleClient, H>) -> String {
    let started = structured(
        &call_peer(
            client,
            "job_start",
            json!({
                "leads": [{"name": "Ada Lovelace", "company": "Analytical"},
                          {"name": "Charles Babbage", "company": "Analytical"}],
                "categories": [{"name": "hot"}, {"name": "cold"}]
            }),
        )
        .await,
    );
    started["id"].as_str().expect("job id").to_owned()
}

async fn job_state<H: ClientHandler>(client: &RunningService<RoleClient, H>, uri: &str) -> Value {
    let read = client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .expect("resources/read");
    let Some(ResourceContents::TextResourceContents { text, .. }) = read.contents.first() else {
        panic!("text contents expected: {read:?}");
    };
    let status: Value = serde_json::from_str(text).expect("JSON");
    status["state"].clone()
}

/// The next URI heard, within the test timeout.
async fn next_heard(heard: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(TIMEOUT, heard.recv())
        .await
        .expect("a notifications/resources/updated in time")
        .expect("client open")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscribed_leadgen_job_notifies_its_cancel_and_its_progress_to_done() {
    let dir = tempfile::tempdir().expect("tempdir");
    let imitation = Imitation::start().await.expect("imitation");
    let env = env(&imitation, dir.path());
    let (tx, mut heard) = mpsc::unbounded_channel();
    let transport = TokioChildProcess::new(leadgen_command(&env)).expect("spawn");
    let client = Heard(tx).serve(transport).await.expect("handshake");
    let resources = client
        .peer_info()
        .and_then(|info| info.capabilities.resources.clone())
        .expect("resources capability");
    assert_eq!(resources.subscribe, Some(true), "stateful stdio offers it");

    let id = start_job(&client).await;
    let uri = format!("leadgen://jobs/{id}");
    let unknown = client
        .subscribe(SubscribeRequestParams::new("leadgen://jobs/lg_nosuchjob"))
        .await
        .expect_err("an unknown job cannot be subscribed to");
    assert!(unknown.to_string().contains("no job"), "{unknown}");
    client
        .subscribe(SubscribeRequestParams::new(uri.clone()))
        .await
        .expect("subscribe");

    // The route is down: nothing finishes until the test acts. Cancelling
    // is a change the subscriber hears.
    let cancelled = structured(&call_peer(&client, "job_cancel", json!({"job_id": id})).await);
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    let mut state = Value::Null;
    for _ in 0..50 {
        assert_eq!(next_heard(&mut heard).await, uri);
        state = job_state(&client, &uri).await;
        if state == "cancelled" {
            break;
        }
    }
    assert_eq!(state, "cancelled");

    // The route comes back and the job is resumed: every change is heard,
    // the last one with the job done.
    imitation.clear(MODEL);
    let resumed = call_peer(&client, "job_resume", json!({"job_id": id})).await;
    assert!(resumed.is_error != Some(true), "{}", error_text(&resumed));
    for _ in 0..200 {
        assert_eq!(next_heard(&mut heard).await, uri);
        state = job_state(&client, &uri).await;
        if state == "done" {
            break;
        }
    }
    assert_eq!(state, "done", "a notification came with the job done");
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_2026_client_listens_to_a_leadgen_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let imitation = Imitation::start().await.expect("imitation");
    let env = env(&imitation, dir.path());
    let transport = TokioChildProcess::new(leadgen_command(&env)).expect("spawn");
    let client = ()
        .serve_with_lifecycle(
            transport,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("server/discover");
    let id = start_job(&client).await;
    let uri = format!("leadgen://jobs/{id}");
    let filter = SubscriptionFilter::builder()
        .resource_subscriptions([uri.clone(), "seo://crawls/x".to_owned()])
        .build();
    let mut subscription = tokio::time::timeout(TIMEOUT, client.peer().listen(filter))
        .await
        .expect("acknowledged in time")
        .expect("subscriptions/listen");
    assert_eq!(
        subscription.acknowledged().resource_subscriptions,
        Some(vec![uri.clone()]),
        "leadgen accepts its own job, not another server's URI"
    );

    let cancelled = structured(&call_peer(&client, "job_cancel", json!({"job_id": id})).await);
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    let next = tokio::time::timeout(TIMEOUT, subscription.next())
        .await
        .expect("an update in time")
        .expect("the stream");
    match next {
        Some(ServerNotification::ResourceUpdatedNotification(n)) => assert_eq!(n.params.uri, uri),
        other => panic!("expected notifications/resources/updated, got {other:?}"),
    }
    assert_eq!(job_state(&client, &uri).await, "cancelled");
    drop(subscription);
    client.cancel().await.expect("close");
}

/// Over stateful HTTP every session has its own subscriptions: a session
/// is told about the job it watches and not about another session's.
#[tokio::test(flavor = "multi_thread")]
async fn http_sessions_hear_only_the_jobs_they_watch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let imitation = Imitation::start().await.expect("imitation");
    let env = env(&imitation, dir.path());
    let mut refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // The host's own model keys never reach the server.
    for var in MODEL_VARS {
        if !env.iter().any(|(k, _)| k == var) {
            refs.push((var, ""));
        }
    }
    let http = HttpProc::spawn(bin(), &["leadgen", "--http", "127.0.0.1:0"], &refs);
    let url = format!("{}/mcp", http.base);
    let connect = |handler: Heard| {
        let transport = StreamableHttpClientTransport::from_uri(url.clone());
        async move {
            tokio::time::timeout(TIMEOUT, handler.serve(transport))
                .await
                .expect("handshake in time")
                .expect("handshake")
        }
    };
    let (tx_a, mut heard_a) = mpsc::unbounded_channel();
    let (tx_b, mut heard_b) = mpsc::unbounded_channel();
    let a = connect(Heard(tx_a)).await;
    let b = connect(Heard(tx_b)).await;

    let job_a = start_job(&a).await;
    let job_b = start_job(&b).await;
    let (uri_a, uri_b) = (
        format!("leadgen://jobs/{job_a}"),
        format!("leadgen://jobs/{job_b}"),
    );
    a.subscribe(SubscribeRequestParams::new(uri_a.clone()))
        .await
        .expect("a subscribes");
    b.subscribe(SubscribeRequestParams::new(uri_b.clone()))
        .await
        .expect("b subscribes");

    // A's job changes first; B must not hear it: B's first update is its own.
    structured(&call_peer(&a, "job_cancel", json!({"job_id": job_a})).await);
    assert_eq!(next_heard(&mut heard_a).await, uri_a);
    structured(&call_peer(&b, "job_cancel", json!({"job_id": job_b})).await);
    assert_eq!(next_heard(&mut heard_b).await, uri_b);
    while let Ok(uri) = heard_a.try_recv() {
        assert_eq!(uri, uri_a, "session A heard only its job");
    }
    while let Ok(uri) = heard_b.try_recv() {
        assert_eq!(uri, uri_b, "session B heard only its job");
    }
    a.cancel().await.expect("close a");
    b.cancel().await.expect("close b");
}

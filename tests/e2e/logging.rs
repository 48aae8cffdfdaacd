//! MCP logging (issue 16, item 3) through the real binary: the `logging`
//! capability, `logging/setLevel` per session, and tracing events of a
//! session's tool calls arriving as `notifications/message` — only at the
//! level asked for, never without asking, never in another session.
//!
//! The event used is the model layer's warning when a model call fails
//! (the provider is a local listener answering 500).

#![allow(deprecated)] // rmcp marks the logging types deprecated (SEP-2577).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use ffmcp_test_support::raw::RawListener as Listener;
use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::{
        CallToolRequestParams, LoggingLevel, LoggingMessageNotificationParam, RequestMetaObject,
        SetLevelRequestParams,
    },
    service::{NotificationContext, RunningService},
    transport::{
        StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use serde_json::{Value, json};

use ffmcp_test_support::client::call_peer as call;

use super::support::{HttpProc, MODEL_VARS, TIMEOUT, bin, structured};

/// A client that records every `notifications/message` it receives.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<LoggingMessageNotificationParam>>>);

impl Recorder {
    fn messages(&self) -> Vec<LoggingMessageNotificationParam> {
        self.0.lock().expect("lock").clone()
    }

    /// Waits (bounded) until a message says a model call failed.
    async fn model_failure(&self) -> LoggingMessageNotificationParam {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            if let Some(m) = self
                .messages()
                .into_iter()
                .find(|m| m.data["message"] == "model call failed")
            {
                return m;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no 'model call failed' message; got {:?}",
                self.messages()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl ClientHandler for Recorder {
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.0.lock().expect("lock").push(params);
    }
}

type Session = RunningService<RoleClient, Recorder>;

fn error_500(_: &str) -> String {
    "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n".to_owned()
}

/// The environment of a transform server whose one model route is
/// `provider` (one attempt, so each call fails fast).
fn failing_model(provider: &Listener) -> Vec<(&'static str, String)> {
    vec![
        ("FF_LLM_PRIMARY", "anthropic:claude-sonnet-4-5".to_owned()),
        ("ANTHROPIC_BASE_URL", provider.base()),
        ("ANTHROPIC_API_KEY", "sk-ant-test-logging".to_owned()),
        ("FF_LLM_MAX_ATTEMPTS", "1".to_owned()),
        // Every call reaches the provider: the breaker stays closed.
        ("FF_LLM_BREAKER_FAILURES", "100".to_owned()),
    ]
}

async fn stdio_session(env: &[(&'static str, String)]) -> (Session, Recorder) {
    #[allow(clippy::disallowed_methods)] // tests start the binary under test directly
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("transform").env("FF_LOG", "warn");
    for var in MODEL_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let recorder = Recorder::default();
    let session = ffmcp_test_support::client::connect_stdio_with(recorder.clone(), cmd).await;
    (session, recorder)
}

async fn http_session(url: &str) -> (Session, Recorder) {
    let recorder = Recorder::default();
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_owned()),
    );
    let session = tokio::time::timeout(TIMEOUT, recorder.clone().serve(transport))
        .await
        .expect("handshake in time")
        .expect("handshake succeeds");
    (session, recorder)
}

async fn set_level(session: &Session, level: LoggingLevel) {
    tokio::time::timeout(
        TIMEOUT,
        session.set_level(SetLevelRequestParams::new(level)),
    )
    .await
    .expect("setLevel in time")
    .expect("setLevel accepted");
}

async fn summarize(session: &Session) {
    let result = call(
        session.peer(),
        "summarize",
        json!({"text": "Quarterly numbers: revenue grew 12% while costs fell."}),
    )
    .await;
    assert_eq!(
        result.is_error,
        Some(true),
        "the model call fails: {result:?}"
    );
}

/// Long enough for a stray notification to have arrived.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn set_level_debug_then_a_failing_model_call_sends_its_warning() {
    let provider = Listener::start(error_500).await;
    let (session, recorder) = stdio_session(&failing_model(&provider)).await;
    let info = session.peer_info().expect("server info");
    assert!(
        info.capabilities.logging.is_some(),
        "logging capability advertised: {:?}",
        info.capabilities
    );

    set_level(&session, LoggingLevel::Debug).await;
    summarize(&session).await;
    let message = recorder.model_failure().await;
    assert_eq!(message.level, LoggingLevel::Warning);
    assert_eq!(
        message.logger.as_deref(),
        Some("ffmcp_core::model::router"),
        "logger is the tracing target"
    );
    assert_eq!(
        message.data["tool"], "summarize",
        "fields come along: {message:?}"
    );
    assert!(message.data.get("error").is_some(), "{message:?}");
    assert!(provider.connections() >= 1, "the provider was called");
    // stdout stayed protocol only: the session still answers.
    let stats = structured(&call(session.peer(), "text_stats", json!({"text": "a b"})).await);
    assert_eq!(stats["words"], 2);
    session.cancel().await.ok();
}

#[tokio::test]
async fn no_message_without_set_level_nor_below_the_level_set() {
    let provider = Listener::start(error_500).await;
    let (session, recorder) = stdio_session(&failing_model(&provider)).await;

    // Never asked: the failing call's warning is not sent.
    summarize(&session).await;
    settle().await;
    assert!(provider.connections() >= 1, "the provider was called");
    assert!(recorder.messages().is_empty(), "{:?}", recorder.messages());

    // Asked for errors only: a warning is below that.
    set_level(&session, LoggingLevel::Error).await;
    summarize(&session).await;
    settle().await;
    assert!(recorder.messages().is_empty(), "{:?}", recorder.messages());

    // Lowered to warning: now it comes.
    set_level(&session, LoggingLevel::Warning).await;
    summarize(&session).await;
    assert_eq!(recorder.model_failure().await.level, LoggingLevel::Warning);
    session.cancel().await.ok();
}

#[tokio::test]
async fn two_http_sessions_each_receive_only_their_own_calls_messages() {
    let provider = Listener::start(error_500).await;
    let env = failing_model(&provider);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = HttpProc::spawn(bin(), &["transform", "--http", "127.0.0.1:0"], &env);
    let url = format!("{}/mcp", server.base);
    let (a, a_log) = http_session(&url).await;
    let (b, b_log) = http_session(&url).await;
    set_level(&a, LoggingLevel::Debug).await;
    set_level(&b, LoggingLevel::Debug).await;

    // A's call fails and logs; B works meanwhile without logging.
    let (_, stats) = tokio::join!(
        summarize(&a),
        call(b.peer(), "text_stats", json!({"text": "one two"}))
    );
    assert_eq!(structured(&stats)["words"], 2);
    a_log.model_failure().await;
    settle().await;
    assert!(
        b_log.messages().is_empty(),
        "B got A's: {:?}",
        b_log.messages()
    );
    let a_count = a_log.messages().len();

    // And the other way round.
    summarize(&b).await;
    b_log.model_failure().await;
    settle().await;
    assert_eq!(
        a_log.messages().len(),
        a_count,
        "A got B's: {:?}",
        a_log.messages()
    );
    a.cancel().await.ok();
    b.cancel().await.ok();
}

#[tokio::test]
async fn a_call_with_its_own_level_in_meta_gets_its_messages_without_set_level() {
    // The 2026-07-28 form: `_meta` `io.modelcontextprotocol/logLevel` on
    // the request, for that call only.
    let provider = Listener::start(error_500).await;
    let (session, recorder) = stdio_session(&failing_model(&provider)).await;
    let Value::Object(args) = json!({"text": "Revenue grew 12% while costs fell."}) else {
        unreachable!()
    };
    let mut params = CallToolRequestParams::new("summarize").with_arguments(args);
    let mut meta = RequestMetaObject::default();
    meta.set_log_level(LoggingLevel::Warning);
    params.meta = Some(meta);
    let result = tokio::time::timeout(TIMEOUT, session.call_tool(params))
        .await
        .expect("in time")
        .expect("call");
    assert_eq!(result.is_error, Some(true), "{result:?}");
    recorder.model_failure().await;

    // The next call without it gets nothing: the session never set a level.
    let before = recorder.messages().len();
    summarize(&session).await;
    settle().await;
    assert_eq!(
        recorder.messages().len(),
        before,
        "{:?}",
        recorder.messages()
    );
    session.cancel().await.ok();
}

//! Resource governance end to end (issue 14): heavy calls run off the
//! threads that answer the protocol, every call has a time budget, and
//! admission is bounded — through the real binary and rmcp's client.

use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientRequest, PingRequest, RequestMetaObject,
};
use serde_json::{Value, json};

use super::support::{Client, HttpProc, TIMEOUT, bin, error_text, http_client, stdio_client_env};

/// Markdown that is legal (shallow) but costly for the sanitizer: one
/// element per two bytes, just under the old 64 KiB inline threshold.
fn heavy_markdown() -> Value {
    json!({"markdown": "*_".repeat(30_000)})
}

fn params(tool: &str, args: Value, timeout_ms: Option<u64>) -> CallToolRequestParams {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    let mut params = CallToolRequestParams::new(tool.to_owned()).with_arguments(args);
    if let Some(ms) = timeout_ms {
        let mut meta = RequestMetaObject::default();
        meta.0.insert("ffmcp/timeoutMs".to_owned(), json!(ms));
        params.meta = Some(meta);
    }
    params
}

async fn ping_latency(client: &Client) -> Duration {
    let started = Instant::now();
    tokio::time::timeout(
        TIMEOUT,
        client.send_request(ClientRequest::PingRequest(PingRequest::default())),
    )
    .await
    .expect("ping answered in time")
    .expect("ping ok");
    started.elapsed()
}

/// Starts `n` heavy calls, then pings while they run; returns the slowest ping.
async fn ping_under_load(client: &Client, n: usize) -> Duration {
    let mut heavy = Vec::new();
    for _ in 0..n {
        let peer = client.peer().clone();
        heavy.push(tokio::spawn(async move {
            peer.call_tool(params("markdown_to_html", heavy_markdown(), None))
                .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        worst = worst.max(ping_latency(client).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for call in heavy {
        let result: CallToolResult = call.await.expect("join").expect("answered");
        assert_ne!(result.is_error, Some(true), "{result:?}");
    }
    worst
}

#[tokio::test]
async fn ping_is_answered_promptly_while_heavy_calls_run_over_stdio() {
    let client = stdio_client_env("transform", &[]).await;
    let worst = ping_under_load(&client, 6).await;
    assert!(worst < Duration::from_secs(1), "ping took {worst:?}");
    client.cancel().await.ok();
}

#[tokio::test]
async fn ping_is_answered_promptly_while_heavy_calls_run_over_http() {
    let server = HttpProc::spawn(bin(), &["transform", "--http", "127.0.0.1:0"], &[]);
    let client = http_client(&format!("{}/mcp", server.base), None).await;
    let worst = ping_under_load(&client, 6).await;
    assert!(worst < Duration::from_secs(1), "ping took {worst:?}");
    client.cancel().await.ok();
}

#[tokio::test]
async fn a_call_past_its_budget_stops_with_a_clear_timeout() {
    let client = stdio_client_env("transform", &[("FF_WORKERS", "1")]).await;
    let started = Instant::now();
    let result = tokio::time::timeout(
        TIMEOUT,
        client.call_tool(params("markdown_to_html", heavy_markdown(), Some(20))),
    )
    .await
    .expect("answered in time")
    .expect("answered");
    let text = error_text(&result);
    assert!(text.contains("time budget of 20 ms"), "{text}");
    assert!(text.contains("FF_CALL_TIMEOUT_SECS"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The server keeps serving.
    let ok = tokio::time::timeout(
        TIMEOUT,
        client.call_tool(params("text_stats", json!({"text": "still here"}), None)),
    )
    .await
    .expect("in time")
    .expect("answered");
    assert_ne!(ok.is_error, Some(true), "{ok:?}");
    client.cancel().await.ok();
}

#[tokio::test]
async fn calls_beyond_the_admission_limit_get_a_busy_error() {
    let client = stdio_client_env(
        "transform",
        &[("FF_MAX_CALLS", "1"), ("FF_CALL_QUEUE_WAIT_MS", "100")],
    )
    .await;
    let peer = client.peer().clone();
    let running = tokio::spawn(async move {
        peer.call_tool(params("markdown_to_html", heavy_markdown(), None))
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let busy = tokio::time::timeout(
        TIMEOUT,
        client.call_tool(params("text_stats", json!({"text": "x"}), None)),
    )
    .await
    .expect("in time")
    .expect("answered");
    let text = error_text(&busy);
    assert!(text.contains("server busy"), "{text}");
    assert!(text.contains("FF_MAX_CALLS"), "{text}");
    let first = running.await.expect("join").expect("answered");
    assert_ne!(first.is_error, Some(true), "the admitted call finishes");
    // Once the slot is free, calls run again.
    let ok = client
        .call_tool(params("text_stats", json!({"text": "x"}), None))
        .await
        .expect("answered");
    assert_ne!(ok.is_error, Some(true), "{ok:?}");
    client.cancel().await.ok();
}

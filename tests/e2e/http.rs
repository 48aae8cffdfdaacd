//! Streamable HTTP: rmcp's client end to end, and the guards with raw requests.
//! The connection, request and session limits are tested in [`limits`].

mod limits;

use reqwest::StatusCode;
use rustix::process::Signal;
use serde_json::json;

use super::support::{HttpProc, Proc, bin, call, http_client, initialize_request, text_of};

const TOKEN: &str = "e2e-token-0123456789abcdef";

async fn post_initialize(url: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(initialize_request(1).to_string());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn rmcp_client_lists_and_calls_over_http() {
    let server = HttpProc::spawn(bin(), &["transform", "--http", "127.0.0.1:0"], &[]);
    let client = http_client(&format!("{}/mcp", server.base), None).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(tools.iter().any(|t| t.name == "text_stats"));
    let result = call(&client, "text_stats", json!({"text": "one two three"})).await;
    assert_ne!(result.is_error, Some(true), "{}", text_of(&result));
    assert_eq!(
        result.structured_content.as_ref().expect("structured")["words"],
        3
    );
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn stateless_mode_serves_without_sessions() {
    let server = HttpProc::spawn(
        bin(),
        &["transform", "--http", "127.0.0.1:0", "--stateless"],
        &[],
    );
    let url = format!("{}/mcp", server.base);
    let (status, _) = post_initialize(&url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let client = http_client(&url, None).await;
    let result = call(&client, "text_stats", json!({"text": "a b"})).await;
    assert_eq!(
        result.structured_content.as_ref().expect("structured")["words"],
        2
    );
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_mounts_every_server_under_its_name() {
    let server = HttpProc::spawn(bin(), &["serve", "--http", "127.0.0.1:0"], &[]);
    server.proc.wait_stderr("\"mcpServers\"");
    let client = http_client(&format!("{}/transform/mcp", server.base), None).await;
    let result = call(&client, "text_stats", json!({"text": "x"})).await;
    assert_ne!(result.is_error, Some(true));
    client.cancel().await.expect("close");
    let (status, _) = post_initialize(&format!("{}/nope/mcp", server.base), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_origin_is_forbidden_and_loopback_origin_allowed() {
    let server = HttpProc::spawn(
        bin(),
        &[
            "transform",
            "--http",
            "127.0.0.1:0",
            "--allow-origin",
            "https://app.example.com",
        ],
        &[],
    );
    let url = format!("{}/mcp", server.base);
    let (status, body) = post_initialize(&url, &[("origin", "https://evil.example")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("--allow-origin"),
        "says how to allow it: {body}"
    );
    for allowed in ["http://localhost:5173", "https://app.example.com"] {
        let (status, _) = post_initialize(&url, &[("origin", allowed)]).await;
        assert_eq!(status, StatusCode::OK, "{allowed}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_host_is_forbidden() {
    let server = HttpProc::spawn(bin(), &["transform", "--http", "127.0.0.1:0"], &[]);
    let url = format!("{}/mcp", server.base);
    let (status, body) = post_initialize(&url, &[("host", "attacker.example")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("attacker.example"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_answers_without_auth() {
    let server = HttpProc::spawn(
        bin(),
        &["transform", "--http", "127.0.0.1:0"],
        &[("FF_HTTP_TOKEN", TOKEN)],
    );
    let response = reqwest::get(format!("{}/healthz", server.base))
        .await
        .expect("healthz");
    assert_eq!(response.status(), StatusCode::OK);
}

/// With `FF_DB` a PostgreSQL URL, `/healthz` says whether the store
/// answers: 503 while it does not (a load balancer then stops routing to
/// the replica), without naming the database to an unauthenticated caller.
#[tokio::test(flavor = "multi_thread")]
async fn healthz_reports_whether_a_shared_store_answers() {
    let down = HttpProc::spawn(
        bin(),
        &["competitive-intel", "--http", "127.0.0.1:0"],
        &[
            ("FF_DB", "postgres://ffmcp:s3cret@127.0.0.1:1/ffmcp"),
            ("FF_DB_CONNECT_TIMEOUT_MS", "1000"),
        ],
    );
    let response = reqwest::get(format!("{}/healthz", down.base))
        .await
        .expect("healthz");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = response.text().await.expect("body");
    assert_eq!(body, "store: unreachable\n");
    let Some(url) = ffmcp_test_support::postgres::fresh_database(
        "healthz_reports_whether_a_shared_store_answers",
    )
    .await
    else {
        return;
    };
    let up = HttpProc::spawn(
        bin(),
        &["competitive-intel", "--http", "127.0.0.1:0"],
        &[("FF_DB", url.as_str())],
    );
    let response = reqwest::get(format!("{}/healthz", up.base))
        .await
        .expect("healthz");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.text().await.expect("body"),
        "ok\nstore: reachable\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_body_is_rejected() {
    let server = HttpProc::spawn(
        bin(),
        &[
            "transform",
            "--http",
            "127.0.0.1:0",
            "--max-body-bytes",
            "2048",
        ],
        &[],
    );
    let body =
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"pad":"x".repeat(10_000)}});
    let response = reqwest::Client::new()
        .post(format!("{}/mcp", server.base))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn non_loopback_bind_without_token_refuses_to_start() {
    let mut proc = Proc::spawn(bin(), &["transform", "--http", "0.0.0.0:0"], &[]);
    let line = proc.wait_stderr("refusing");
    assert!(line.contains("FF_HTTP_TOKEN"), "{line}");
    assert_eq!(proc.wait_exit(), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn non_loopback_bind_requires_the_token() {
    let server = HttpProc::spawn(
        bin(),
        &["transform", "--http", "0.0.0.0:0"],
        &[("FF_HTTP_TOKEN", TOKEN)],
    );
    let url = format!("http://127.0.0.1:{}/mcp", server.port());
    let (status, body) = post_initialize(&url, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) =
        post_initialize(&url, &[("authorization", "Bearer wrong-token-0123456789")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bearer = format!("Bearer {TOKEN}");
    let (status, _) = post_initialize(&url, &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::OK);

    let client = http_client(&url, Some(TOKEN)).await;
    let result = call(&client, "text_stats", json!({"text": "authorised"})).await;
    assert_ne!(result.is_error, Some(true));
    client.cancel().await.expect("close");
}

#[test]
fn token_file_is_read_and_short_tokens_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, "short\n").expect("write token");
    let path = path.to_str().expect("utf-8 path");
    let mut proc = Proc::spawn(
        bin(),
        &["transform", "--http", "127.0.0.1:0", "--token-file", path],
        &[],
    );
    proc.wait_stderr("shorter than 16");
    assert_eq!(proc.wait_exit(), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_shuts_down_gracefully() {
    let mut server = HttpProc::spawn(bin(), &["transform", "--http", "127.0.0.1:0"], &[]);
    let client = http_client(&format!("{}/mcp", server.base), None).await;
    call(&client, "text_stats", json!({"text": "x"})).await;
    server.proc.signal(Signal::TERM);
    assert_eq!(server.proc.wait_exit(), Some(0));
    drop(client);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_ends_the_session_with_no_content() {
    let server = HttpProc::spawn(bin(), &["transform", "--http", "127.0.0.1:0"], &[]);
    let url = format!("{}/mcp", server.base);
    let http = reqwest::Client::new();
    let init = http
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(initialize_request(1).to_string())
        .send()
        .await
        .expect("initialize");
    let session = init
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .expect("ascii")
        .to_owned();
    let delete = |session: String| {
        http.delete(&url)
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-06-18")
            .send()
    };
    let response = delete(session.clone()).await.expect("delete");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let after = http
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-06-18")
        .body(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        .send()
        .await
        .expect("request after delete");
    assert_eq!(after.status(), StatusCode::NOT_FOUND, "the session is gone");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stateless_server_offers_no_subscription_it_cannot_deliver() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let env = [("FF_DB", db.to_str().expect("utf8"))];
    let mut seen = Vec::new();
    for stateless in [false, true] {
        let mut args = vec!["competitive-intel", "--http", "127.0.0.1:0"];
        if stateless {
            args.push("--stateless");
        }
        let server = HttpProc::spawn(bin(), &args, &env);
        let client = http_client(&format!("{}/mcp", server.base), None).await;
        let capabilities = client
            .peer_info()
            .expect("server info")
            .capabilities
            .clone();
        let resources = capabilities.resources.expect("resources offered");
        seen.push((stateless, resources.subscribe));
        if stateless {
            assert_eq!(resources.subscribe, None, "stateless: {resources:?}");
            assert_eq!(resources.list_changed, None, "stateless: {resources:?}");
        }
        client.cancel().await.expect("close");
    }
    assert_eq!(seen[0], (false, Some(true)), "stateful servers do offer it");
}

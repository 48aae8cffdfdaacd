//! Connection, request and session limits of the HTTP transport, with raw
//! sockets where a well-behaved client would not do what an attacker does.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use super::post_initialize;
use crate::e2e::support::{HttpProc, Proc, bin, call, http_client, initialize_request, text_of};

/// Raises this test process's descriptor limit so it can hold `n` sockets.
fn allow_descriptors(n: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|c| c < n + 256) {
        let target = limit.maximum.map_or(n + 256, |m| m.min(n + 256));
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: limit.maximum,
            },
        );
    }
}

/// Opens `n` connections that never finish a request head: every other one
/// sends half a request line, the rest send nothing.
async fn half_open(addr: &str, n: usize) -> Vec<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        if i % 2 == 0 {
            stream.write_all(b"POST /mcp HTT").await.expect("partial");
        }
        held.push(stream);
    }
    held
}

/// A fresh rmcp client's handshake and one tool call; returns how long it took.
async fn fresh_client_round_trip(url: &str) -> Duration {
    let started = Instant::now();
    let client = http_client(url, None).await;
    let result = call(&client, "text_stats", json!({"text": "still served"})).await;
    let elapsed = started.elapsed();
    assert_ne!(result.is_error, Some(true), "{}", text_of(&result));
    client.cancel().await.expect("close");
    elapsed
}

/// Whether the server closed `stream` (EOF or reset) within `wait`.
async fn closed_within(stream: &mut tokio::net::TcpStream, wait: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {} // an answer (e.g. 408) before the close
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::print_stderr)] // the measured time, shown with --nocapture
async fn thousand_half_open_connections_leave_a_fresh_client_served_within_2s() {
    allow_descriptors(1200);
    let (server, addr) = transform_http(&[]);
    let held = half_open(&addr, 1000).await;
    let elapsed = fresh_client_round_trip(&format!("{}/mcp", server.base)).await;
    eprintln!("fresh client with 1000 half-open connections held: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    drop(held);
}

#[tokio::test(flavor = "multi_thread")]
async fn at_the_connection_cap_half_open_connections_make_room_for_real_clients() {
    let (server, addr) = transform_http(&["--max-connections", "50"]);
    let held = half_open(&addr, 200).await;
    // The harm is absent: the server holds no more than its cap. Rounds of
    // short checks until the excess is closed (a loaded machine may take a
    // moment), at most 10 s; the connections it keeps never close here.
    let mut open: Vec<tokio::net::TcpStream> = held;
    let mut closed = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while closed < 150 && Instant::now() < deadline {
        let mut still = Vec::with_capacity(open.len());
        for mut stream in open {
            if closed_within(&mut stream, Duration::from_millis(5)).await {
                closed += 1;
            } else {
                still.push(stream);
            }
        }
        open = still;
    }
    assert!(
        closed >= 150,
        "only {closed} of 200 over a cap of 50 were closed"
    );
    let elapsed = fresh_client_round_trip(&format!("{}/mcp", server.base)).await;
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn over_the_cap_with_every_connection_busy_a_newcomer_gets_503() {
    let (_server, addr) = transform_http(&["--max-connections", "1"]);
    // A request in flight on the only slot: its body is still arriving.
    let mut busy = post_started(&addr, "100", "{").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let mut newcomer = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let answer = read_all(&mut newcomer, Duration::from_secs(2)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(1));
    // The request in flight was not cut.
    assert!(!closed_within(&mut busy, Duration::from_millis(200)).await);
}

/// `ffmcp transform --http 127.0.0.1:0 FLAGS` and its `host:port`.
fn transform_http(flags: &[&str]) -> (HttpProc, String) {
    let mut args = vec!["transform", "--http", "127.0.0.1:0"];
    args.extend_from_slice(flags);
    let server = HttpProc::spawn(bin(), &args, &[]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    (server, addr)
}

/// A raw connection to `addr` that has sent the head of `POST /mcp`
/// declaring `length` body bytes, then `body_start` (and nothing more).
async fn post_started(addr: &str, length: &str, body_start: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            format!(
                "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Accept: application/json, text/event-stream\r\nContent-Length: {length}\r\n\r\n{body_start}"
            )
            .as_bytes(),
        )
        .await
        .expect("head sent");
    stream
}

async fn read_all(stream: &mut tokio::net::TcpStream, wait: Duration) -> String {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::print_stderr)] // the measured time, shown with --nocapture
async fn declared_body_over_the_cap_gets_413_at_once_without_sending_it() {
    let (_server, addr) = transform_http(&[]);
    let started = Instant::now();
    let mut stream = post_started(&addr, "1000000000000000000", "").await;
    // No body is ever sent; the server must answer and close on its own.
    let answer = read_all(&mut stream, Duration::from_secs(5)).await;
    let elapsed = started.elapsed();
    eprintln!("413 for a declared 10^18-byte body after {elapsed:?}");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("--max-body-bytes"), "{answer}");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_trickles_in_gets_408_after_the_body_timeout() {
    let (_server, addr) = transform_http(&["--body-timeout", "0.5"]);
    let started = Instant::now();
    let mut stream = post_started(&addr, "100", "{\"jsonrpc\"").await;
    let answer = read_all(&mut stream, Duration::from_secs(5)).await;
    let elapsed = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_secs(3),
        "answered after {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_request_head_gets_431_and_the_server_serves_on() {
    use tokio::io::AsyncWriteExt;
    let (server, addr) = transform_http(&[]);
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    // The server may stop reading (and close) before all of it is written.
    let _ = stream.write_all(head.as_bytes()).await;
    let answer = read_all(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    // A normal head is still served.
    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_loris_and_idle_keep_alive_connections_are_closed_after_the_header_timeout() {
    use tokio::io::AsyncWriteExt;
    let (_server, addr) = transform_http(&["--header-timeout", "0.5"]);

    // Slow loris: a header line every 100 ms, never the blank line.
    let mut loris = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let started = Instant::now();
    loris
        .write_all(format!("POST /mcp HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
        .await
        .expect("head start");
    let mut closed_after = None;
    for i in 0..50 {
        if closed_within(&mut loris, Duration::from_millis(100)).await {
            closed_after = Some(started.elapsed());
            break;
        }
        if loris
            .write_all(format!("X-Drip-{i}: x\r\n").as_bytes())
            .await
            .is_err()
        {
            closed_after = Some(started.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("the slow-loris connection was never closed");
    assert!(
        closed_after >= Duration::from_millis(400) && closed_after < Duration::from_secs(3),
        "closed after {closed_after:?}"
    );

    // Keep-alive: one complete request, then silence.
    let mut idle = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    idle.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .expect("request");
    assert!(
        closed_within(&mut idle, Duration::from_secs(3)).await,
        "idle keep-alive connection still open"
    );
}

/// POSTs an initialize and returns the new session's id.
async fn initialize_session(http: &reqwest::Client, url: &str) -> String {
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(initialize_request(1).to_string())
        .send()
        .await
        .expect("initialize");
    assert_eq!(response.status(), StatusCode::OK);
    let id = response
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .expect("ascii")
        .to_owned();
    let _ = response.text().await;
    id
}

async fn post_in_session(
    http: &reqwest::Client,
    url: &str,
    session: &str,
    body: &str,
) -> StatusCode {
    http.post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-06-18")
        .body(body.to_owned())
        .send()
        .await
        .expect("request in session")
        .status()
}

#[tokio::test(flavor = "multi_thread")]
async fn session_cap_refuses_the_sixth_initialize_until_one_is_deleted() {
    let server = HttpProc::spawn(
        bin(),
        &["transform", "--http", "127.0.0.1:0", "--max-sessions", "5"],
        &[],
    );
    let url = format!("{}/mcp", server.base);
    let http = reqwest::Client::new();
    let mut sessions = Vec::new();
    for _ in 0..5 {
        sessions.push(initialize_session(&http, &url).await);
    }
    let (status, body) = post_initialize(&url, &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).expect("a JSON-RPC error body");
    assert_eq!(error["id"], 1, "{error}");
    let message = error["error"]["message"].as_str().expect("message");
    assert!(message.contains("--max-sessions"), "{message}");

    let deleted = http
        .delete(&url)
        .header("mcp-session-id", &sessions[0])
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    initialize_session(&http, &url).await;
    let (status, _) = post_initialize(&url, &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "full again");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_initializes_never_exceed_the_session_cap() {
    let server = HttpProc::spawn(
        bin(),
        &["transform", "--http", "127.0.0.1:0", "--max-sessions", "5"],
        &[],
    );
    let url = format!("{}/mcp", server.base);
    let attempts: Vec<_> = (0..40)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { post_initialize(&url, &[]).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("joined"));
    }
    let opened = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    assert_eq!((opened, refused), (5, 35), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_session_expires_frees_its_place_and_its_id_gets_404() {
    let server = HttpProc::spawn(
        bin(),
        &[
            "transform",
            "--http",
            "127.0.0.1:0",
            "--max-sessions",
            "1",
            "--session-idle-timeout",
            "0.5",
        ],
        &[],
    );
    let url = format!("{}/mcp", server.base);
    let http = reqwest::Client::new();
    let session = initialize_session(&http, &url).await;
    let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    assert_eq!(
        post_in_session(&http, &url, &session, initialized).await,
        StatusCode::ACCEPTED
    );
    let (status, _) = post_initialize(&url, &[]).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the only place is taken"
    );

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    assert_eq!(
        post_in_session(&http, &url, &session, list).await,
        StatusCode::NOT_FOUND,
        "the expired session is gone"
    );
    // Its place (and memory) was given back.
    initialize_session(&http, &url).await;
}

async fn post_raw(url: &str, body: &str) -> (StatusCode, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_owned())
        .send()
        .await
        .expect("sent");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not a JSON-RPC error body ({e}): {text}"));
    (status, value)
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_bodies_and_batches_get_400_with_a_json_rpc_parse_error() {
    let server = HttpProc::spawn(bin(), &["transform", "--http", "127.0.0.1:0"], &[]);
    let url = format!("{}/mcp", server.base);
    for body in [
        "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ",
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
        "",
    ] {
        let (status, error) = post_raw(&url, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {error}");
        assert_eq!(error["error"]["code"], -32700, "{body:?}: {error}");
        assert!(error["id"].is_null(), "{error}");
    }
    // The server still serves afterwards.
    let (status, _) = post_initialize(&url, &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn initialize_without_protocol_version_is_answered_alike_on_stdio_and_http() {
    let request = json!({
        "jsonrpc": "2.0", "id": 4, "method": "initialize",
        "params": {"capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}
    });
    let server = HttpProc::spawn(bin(), &["transform", "--http", "127.0.0.1:0"], &[]);
    let (status, over_http) = post_raw(&format!("{}/mcp", server.base), &request.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{over_http}");

    let mut stdio = Proc::spawn(bin(), &["transform"], &[]);
    stdio.send(&request);
    let over_stdio = stdio.recv();
    assert_eq!(over_stdio, over_http);
    assert_eq!(over_stdio["id"], 4);
    assert_eq!(over_stdio["error"]["code"], -32602, "{over_stdio}");
    assert!(
        over_stdio["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("protocolVersion")),
        "{over_stdio}"
    );
}

//! Both protocol generations, first-class: rmcp clients speaking every
//! `initialize` version (2024-11-05 … 2025-11-25) and the 2026-07-28
//! `server/discover` lifecycle, over stdio, stateful HTTP and stateless
//! HTTP; and a client of each generation on one HTTP endpoint at once.

use rmcp::{
    ClientLifecycleMode, ClientServiceExt, RoleClient,
    model::{
        CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ProtocolVersion,
    },
    service::RunningService,
    transport::{StreamableHttpClientTransport, TokioChildProcess},
};
use serde_json::json;

use super::support::{HttpProc, TIMEOUT, bin, text_of};

type Session = RunningService<RoleClient, ClientConfig>;

/// Every version a client may ask for with `initialize`.
const INITIALIZE_VERSIONS: [ProtocolVersion; 4] = [
    ProtocolVersion::V_2024_11_05,
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
];

/// A client that speaks `version`: `initialize` for the 2024–2025
/// versions, `server/discover` (no handshake, per-request metadata) for
/// 2026-07-28.
fn client_for(version: &ProtocolVersion) -> (ClientConfig, ClientLifecycleMode) {
    let config = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("ffmcp-e2e-generations", "0"),
    )
    .with_protocol_version(version.clone());
    let lifecycle = if version.has_initialize() {
        ClientLifecycleMode::Initialize
    } else {
        ClientLifecycleMode::Discover {
            preferred_versions: vec![version.clone()],
        }
    };
    (config, lifecycle)
}

async fn over_stdio(version: &ProtocolVersion) -> Session {
    let (config, lifecycle) = client_for(version);
    #[allow(clippy::disallowed_methods)] // tests start the binary under test directly
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("transform").env("FF_LOG", "warn");
    let transport = TokioChildProcess::new(cmd).expect("spawn the server");
    tokio::time::timeout(TIMEOUT, config.serve_with_lifecycle(transport, lifecycle))
        .await
        .expect("startup in time")
        .unwrap_or_else(|e| panic!("{version} over stdio: {e}"))
}

async fn over_http(url: &str, version: &ProtocolVersion) -> Session {
    let (config, lifecycle) = client_for(version);
    let transport = StreamableHttpClientTransport::from_uri(url.to_owned());
    tokio::time::timeout(TIMEOUT, config.serve_with_lifecycle(transport, lifecycle))
        .await
        .expect("startup in time")
        .unwrap_or_else(|e| panic!("{version} over {url}: {e}"))
}

/// The session negotiated `version`, lists transform's tools and calls one
/// with a result that depends on the arguments.
async fn lists_and_calls(session: &Session, version: &ProtocolVersion, words: &str, how: &str) {
    let info = session.peer_info().expect("server info");
    assert_eq!(&info.protocol_version, version, "{how}: negotiated version");
    assert!(info.capabilities.tools.is_some(), "{how}: {info:?}");
    let title = info.server_info.as_ref().and_then(|i| i.title.as_deref());
    assert_eq!(
        title,
        Some(ffmcp_transform::TITLE),
        "{how}: serverInfo title"
    );
    let tools = tokio::time::timeout(TIMEOUT, session.list_all_tools())
        .await
        .expect("tools/list in time")
        .unwrap_or_else(|e| panic!("{how}: tools/list: {e}"));
    assert!(
        tools.iter().any(|t| t.name == "text_stats"),
        "{how}: {} tools",
        tools.len()
    );
    let serde_json::Value::Object(args) = json!({ "text": words }) else {
        unreachable!()
    };
    let result = tokio::time::timeout(
        TIMEOUT,
        session.call_tool(CallToolRequestParams::new("text_stats").with_arguments(args)),
    )
    .await
    .expect("tools/call in time")
    .unwrap_or_else(|e| panic!("{how}: tools/call: {e}"));
    assert_ne!(result.is_error, Some(true), "{how}: {}", text_of(&result));
    let expected = words.split_whitespace().count();
    assert_eq!(
        result.structured_content.as_ref().expect("structured")["words"],
        expected,
        "{how}"
    );
}

fn every_version() -> Vec<ProtocolVersion> {
    let mut all = INITIALIZE_VERSIONS.to_vec();
    all.push(ProtocolVersion::V_2026_07_28);
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn every_version_lists_and_calls_over_stdio() {
    for version in every_version() {
        let session = over_stdio(&version).await;
        lists_and_calls(
            &session,
            &version,
            "one two three",
            &format!("{version} stdio"),
        )
        .await;
        session.cancel().await.ok();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_version_lists_and_calls_over_stateful_and_stateless_http() {
    for stateless in [false, true] {
        let mut args = vec!["transform", "--http", "127.0.0.1:0"];
        if stateless {
            args.push("--stateless");
        }
        let server = HttpProc::spawn(bin(), &args, &[]);
        let url = format!("{}/mcp", server.base);
        let mode = if stateless { "stateless" } else { "stateful" };
        for version in every_version() {
            let session = over_http(&url, &version).await;
            lists_and_calls(
                &session,
                &version,
                "a b c d",
                &format!("{version} {mode} HTTP"),
            )
            .await;
            session.cancel().await.ok();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_2026_client_and_a_2025_client_share_one_endpoint_at_once() {
    for stateless in [false, true] {
        let mut args = vec!["transform", "--http", "127.0.0.1:0"];
        if stateless {
            args.push("--stateless");
        }
        let server = HttpProc::spawn(bin(), &args, &[]);
        let url = format!("{}/mcp", server.base);
        let (modern, legacy) = (ProtocolVersion::V_2026_07_28, ProtocolVersion::V_2025_11_25);
        // Both connected before either works, then both working at once,
        // several rounds each, so their requests interleave on the endpoint.
        let (new, old) = tokio::join!(over_http(&url, &modern), over_http(&url, &legacy));
        let rounds = |session: Session, version: ProtocolVersion, words: &'static str| async move {
            for round in 0..5 {
                let how = format!("{version} round {round} (stateless: {stateless})");
                lists_and_calls(&session, &version, words, &how).await;
            }
            session
        };
        let (new, old) = tokio::join!(
            rounds(new, modern, "modern client words here"),
            rounds(old, legacy, "legacy client")
        );
        new.cancel().await.ok();
        old.cancel().await.ok();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stateless_http_answers_bad_bodies_and_versionless_initialize_like_stateful() {
    let request = json!({
        "jsonrpc": "2.0", "id": 4, "method": "initialize",
        "params": {"capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}
    })
    .to_string();
    let mut answers = Vec::new();
    for stateless in [false, true] {
        let mut args = vec!["transform", "--http", "127.0.0.1:0"];
        if stateless {
            args.push("--stateless");
        }
        let server = HttpProc::spawn(bin(), &args, &[]);
        let url = format!("{}/mcp", server.base);
        let mut seen = Vec::new();
        for body in [
            "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ",
            r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
            "[]",
            request.as_str(),
        ] {
            let response = reqwest::Client::new()
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(body.to_owned())
                .send()
                .await
                .expect("sent");
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            let value: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{body:?}: not a JSON-RPC body ({e}): {text}"));
            assert_eq!(
                status,
                reqwest::StatusCode::BAD_REQUEST,
                "{body:?}: {value}"
            );
            let code = if body == request { -32602 } else { -32700 };
            assert_eq!(value["error"]["code"], code, "{body:?}: {value}");
            seen.push(value);
        }
        answers.push(seen);
    }
    assert_eq!(
        answers[0], answers[1],
        "stateful and stateless answer alike"
    );
}

/// A 2026-07-28 call is served without a session in stateful mode too; its
/// reply, one message, comes back as one JSON body in both modes, as in
/// stateless mode (before, stateful mode wrapped it in an event stream).
#[tokio::test(flavor = "multi_thread")]
async fn a_2026_call_is_answered_with_one_json_body_in_both_modes() {
    let call = json!({
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {
            "name": "text_stats", "arguments": {"text": "two words"},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {}
            }
        }
    })
    .to_string();
    for stateless in [false, true] {
        let mut args = vec!["transform", "--http", "127.0.0.1:0"];
        if stateless {
            args.push("--stateless");
        }
        let server = HttpProc::spawn(bin(), &args, &[]);
        let response = reqwest::Client::new()
            .post(format!("{}/mcp", server.base))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "text_stats")
            .body(call.clone())
            .timeout(TIMEOUT)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            kind.starts_with("application/json"),
            "stateless: {stateless}: {kind}"
        );
        assert!(
            response.headers().get("mcp-session-id").is_none(),
            "no session for a 2026 call (stateless: {stateless})"
        );
        let value: serde_json::Value = response.json().await.expect("a JSON body");
        assert_eq!(value["id"], 7, "{value}");
        assert_eq!(
            value["result"]["structuredContent"]["words"], 2,
            "stateless: {stateless}: {value}"
        );
    }
}

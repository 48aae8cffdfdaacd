//! Questions to the user (SEP-2322 input requests): replacing an existing
//! export asks the person behind a 2026-07-28 client, with a sealed
//! `requestState`; a forged, altered or replayed state, or a "no", leaves
//! the file as it was. Older clients get the plain "already exists" error.

use ffmcp_test_support::client::TIMEOUT;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, Implementation,
    InputRequest, InputRequiredResult, InputResponses, ProtocolVersion,
};
use serde_json::{Value, json};

use super::{
    support::bin,
    tasks::{TaskClient, serve},
};

fn asking_client() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::builder().enable_elicitation().build(),
        Implementation::new("confirm-e2e", "1"),
    )
}

async fn intel(dir: &std::path::Path, config: ClientConfig, modern: bool) -> TaskClient {
    #[allow(clippy::disallowed_methods)] // the binary under test, started directly
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("competitive-intel")
        .env("FF_LOG", "warn")
        .env("FF_DB", dir.join("intel.db"))
        .env("FF_ROOTS", dir);
    let transport = rmcp::transport::TokioChildProcess::new(cmd).expect("spawn");
    let client = if modern {
        tokio::time::timeout(TIMEOUT, serve(config, transport)).await
    } else {
        let legacy = config.with_protocol_version(ProtocolVersion::V_2025_11_25);
        tokio::time::timeout(TIMEOUT, rmcp::ServiceExt::serve(legacy, transport)).await
    };
    client.expect("in time").expect("handshake")
}

async fn export(
    client: &TaskClient,
    args: Value,
    answer: Option<(Value, String)>,
) -> CallToolResponse {
    let mut params = CallToolRequestParams::new("export_changes")
        .with_arguments(args.as_object().expect("object").clone());
    if let Some((response, state)) = answer {
        let mut responses = InputResponses::new();
        responses.insert("confirm".into(), response);
        params = params
            .with_input_responses(responses)
            .with_request_state(state);
    }
    tokio::time::timeout(TIMEOUT, client.peer().call_tool_once(params))
        .await
        .expect("in time")
        .expect("answered")
}

fn question(response: CallToolResponse) -> InputRequiredResult {
    match response {
        CallToolResponse::InputRequired(question) => question,
        other => panic!("expected a question, got {other:?}"),
    }
}

fn refused(response: &CallToolResponse) -> String {
    match response {
        CallToolResponse::Complete(result) if result.is_error == Some(true) => {
            format!("{:?}", result.content)
        }
        other => panic!("expected a tool error, got {other:?}"),
    }
}

fn yes() -> Value {
    json!({ "action": "accept", "content": { "replace": true } })
}

#[tokio::test(flavor = "multi_thread")]
async fn replacing_a_file_asks_and_a_sealed_answer_is_the_only_way_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let target = root.join("changes.json");
    let other = root.join("other.json");
    std::fs::write(&target, "keep me").expect("seed");
    std::fs::write(&other, "keep me too").expect("seed");
    let client = intel(&root, asking_client(), true).await;
    let args = json!({ "path": "changes.json", "format": "json" });

    // The question: an elicitation naming the file, with a sealed state.
    let asked = question(export(&client, args.clone(), None).await);
    let requests = asked.input_requests.clone().expect("input requests");
    let Some(InputRequest::Elicitation(elicit)) = requests.get("confirm") else {
        panic!("an elicitation: {requests:?}");
    };
    assert!(format!("{elicit:?}").contains("changes.json"), "{elicit:?}");
    let state = asked.request_state.clone().expect("a request state");
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep me");

    // An altered state is refused outright.
    let mut forged = state.clone();
    let last = forged.pop().expect("non-empty");
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let err = tokio::time::timeout(
        TIMEOUT,
        client.peer().call_tool_once(
            CallToolRequestParams::new("export_changes")
                .with_arguments(args.as_object().expect("object").clone())
                .with_input_responses(InputResponses::from([("confirm".into(), yes())]))
                .with_request_state(forged),
        ),
    )
    .await
    .expect("in time")
    .expect_err("a forged state is a protocol error");
    assert!(err.to_string().contains("requestState"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep me");

    // The state of one call does not open another (another file).
    let elsewhere = json!({ "path": "other.json", "format": "json" });
    let replayed = tokio::time::timeout(
        TIMEOUT,
        client.peer().call_tool_once(
            CallToolRequestParams::new("export_changes")
                .with_arguments(elsewhere.as_object().expect("object").clone())
                .with_input_responses(InputResponses::from([("confirm".into(), yes())]))
                .with_request_state(state.clone()),
        ),
    )
    .await
    .expect("in time");
    assert!(
        replayed.is_err(),
        "a replayed state is refused: {replayed:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&other).expect("read"),
        "keep me too"
    );

    // "No" ends in the ordinary refusal, without asking again.
    let declined = export(
        &client,
        args.clone(),
        Some((json!({ "action": "decline" }), state.clone())),
    )
    .await;
    assert!(
        refused(&declined).contains("already exists"),
        "{declined:?}"
    );
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep me");

    // "Yes" with the state replaces the file.
    let accepted = export(&client, args, Some((yes(), state))).await;
    let CallToolResponse::Complete(result) = accepted else {
        panic!("completed: {accepted:?}");
    };
    assert_ne!(result.is_error, Some(true), "{result:?}");
    let written = std::fs::read_to_string(&target).expect("read");
    assert!(written.trim_start().starts_with('['), "{written}");
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_that_cannot_answer_get_the_plain_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    std::fs::write(root.join("changes.json"), "keep me").expect("seed");
    let args = json!({ "path": "changes.json", "format": "json" });
    // A 2025-11-25 session, even one with elicitation; a 2026 one without it.
    for (config, modern) in [(asking_client(), false), (ClientConfig::default(), true)] {
        let client = intel(&root, config, modern).await;
        let response = export(&client, args.clone(), None).await;
        assert!(
            refused(&response).contains("already exists"),
            "{response:?}"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("changes.json")).expect("read"),
            "keep me"
        );
    }
}

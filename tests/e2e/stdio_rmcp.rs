//! stdio, through rmcp's own client: handshake, tool listing, schemas.

use serde_json::json;

use super::support::{call, stdio_client, text_of};

#[tokio::test(flavor = "multi_thread")]
async fn handshake_reports_server_identity_and_tools_capability() {
    let client = stdio_client("transform").await;
    let info = client.peer_info().expect("server info after handshake");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("ffmcp-transform")
    );
    assert!(info.capabilities.tools.is_some());
    client.cancel().await.expect("clean close");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_tool_has_valid_input_and_output_schemas() {
    let client = stdio_client("transform").await;
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(!tools.is_empty());
    for tool in &tools {
        let input = serde_json::Value::Object((*tool.input_schema).clone());
        assert_eq!(
            input["type"], "object",
            "{}: input schema must be an object",
            tool.name
        );
        assert!(
            jsonschema::meta::is_valid(&input),
            "{}: input schema is not valid JSON Schema: {input}",
            tool.name
        );
        let output = tool
            .output_schema
            .as_ref()
            .unwrap_or_else(|| panic!("{} declares no outputSchema", tool.name));
        let output = serde_json::Value::Object((**output).clone());
        assert!(
            jsonschema::meta::is_valid(&output),
            "{}: output schema is not valid JSON Schema: {output}",
            tool.name
        );
        assert!(
            tool.description.as_deref().is_some_and(|d| d.len() > 20),
            "{}: tools need a real description",
            tool.name
        );
    }
    client.cancel().await.expect("clean close");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_are_tool_errors_that_name_the_problem() {
    let client = stdio_client("transform").await;
    let missing = call(&client, "text_stats", json!({})).await;
    assert_eq!(missing.is_error, Some(true));
    assert!(text_of(&missing).contains("text"), "{}", text_of(&missing));

    let unknown = call(&client, "text_stats", json!({"text": "hi", "txet": 1})).await;
    assert_eq!(unknown.is_error, Some(true));
    assert!(text_of(&unknown).contains("txet"), "{}", text_of(&unknown));

    let wrong_type = call(&client, "text_stats", json!({"text": 42})).await;
    assert_eq!(wrong_type.is_error, Some(true));

    // Within the frame limit but over the per-argument limit (2 MiB).
    let big = "a".repeat(3 * 1024 * 1024);
    let too_big = call(&client, "text_stats", json!({ "text": big })).await;
    assert_eq!(too_big.is_error, Some(true));
    assert!(text_of(&too_big).contains("limit"), "{}", text_of(&too_big));

    // The server is still fine afterwards.
    let ok = call(&client, "text_stats", json!({"text": "still here"})).await;
    assert_ne!(ok.is_error, Some(true), "{}", text_of(&ok));
    client.cancel().await.expect("clean close");
}

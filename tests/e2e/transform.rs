//! The transform server's tools, called through a real client; each
//! structured result is checked against the tool's declared outputSchema.

use serde_json::{Value, json};

use super::support::{Client, call, stdio_client, text_of};

async fn call_ok(client: &Client, tool: &str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool} failed: {}",
        text_of(&result)
    );
    assert!(
        !text_of(&result).is_empty(),
        "{tool}: a text rendering is expected"
    );
    let structured = result
        .structured_content
        .clone()
        .expect("structured content");
    let tools = client.list_all_tools().await.expect("tools/list");
    let tool_def = tools.iter().find(|t| t.name == tool).expect("tool listed");
    let schema = Value::Object((**tool_def.output_schema.as_ref().expect("outputSchema")).clone());
    let validator = jsonschema::validator_for(&schema).expect("compilable output schema");
    if let Err(err) = validator.validate(&structured) {
        panic!("{tool}: structured content does not match outputSchema: {err}\n{structured}");
    }
    structured
}

#[tokio::test(flavor = "multi_thread")]
async fn text_stats_counts() {
    let client = stdio_client("transform").await;
    let out = call_ok(
        &client,
        "text_stats",
        json!({"text": "Hello there. How are you today?"}),
    )
    .await;
    assert_eq!(out["words"], 6);
    client.cancel().await.expect("close");
}

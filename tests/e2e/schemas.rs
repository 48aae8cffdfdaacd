//! Every tool schema of every server uses only JSON Schema's own `format`
//! values (issue 16.4): strict validators such as Ajv warn on schemars'
//! `uint32`, `int64` or `double`, which become `minimum`/`maximum` instead.

use serde_json::Value;

use super::support::stdio_client_env;

use ffmcp_core::schema::STANDARD_FORMATS as STANDARD;

fn formats(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(format)) = map.get("format") {
                out.push(format.clone());
            }
            for (key, child) in map {
                if !matches!(key.as_str(), "default" | "examples" | "const" | "enum") {
                    formats(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| formats(item, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_tool_schema_uses_standard_formats_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let db = db.to_str().expect("utf-8");
    let mut bounded = 0;
    for server in [
        "transform",
        "docparse",
        "seo",
        "competitive-intel",
        "leadgen",
    ] {
        let client = stdio_client_env(server, &[("FF_DB", db)]).await;
        let tools = client.list_all_tools().await.expect("tools/list");
        assert!(!tools.is_empty(), "{server}");
        for tool in tools {
            let mut seen = Vec::new();
            let input = Value::Object(tool.input_schema.as_ref().clone());
            formats(&input, &mut seen);
            if let Some(output) = &tool.output_schema {
                formats(&Value::Object(output.as_ref().clone()), &mut seen);
            }
            for format in &seen {
                assert!(
                    STANDARD.contains(&format.as_str()),
                    "{server}/{}: format {format:?}",
                    tool.name
                );
            }
            bounded += input.to_string().matches("\"minimum\"").count();
        }
        client.cancel().await.ok();
    }
    assert!(bounded > 0, "integer arguments carry their bounds");
}

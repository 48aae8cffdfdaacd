//! The transform server's tools, called through a real client; each
//! structured result is checked against the tool's declared outputSchema.

use serde_json::{Value, json};

use ffmcp_test_support::client::conforming;

use super::support::{Client, call, stdio_client, text_of};

/// Calls `tool`; its structured result, checked against the outputSchema.
async fn call_ok(client: &Client, tool: &str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    conforming(client, tool, &result).await
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

#[tokio::test(flavor = "multi_thread")]
async fn convert_between_formats() {
    let client = stdio_client("transform").await;
    let yaml = call_ok(
        &client,
        "convert",
        json!({"input": r#"{"name":"ffmcp","tags":["a","b"],"n":2}"#, "from": "json", "to": "yaml"}),
    )
    .await;
    let text = yaml["output"].as_str().expect("output");
    assert!(
        text.contains("name: ffmcp") && text.contains("- a"),
        "{text}"
    );

    let toml = call_ok(
        &client,
        "convert",
        json!({"input": text, "from": "yaml", "to": "toml"}),
    )
    .await;
    let toml_text = toml["output"].as_str().expect("output");
    assert!(toml_text.contains("name = \"ffmcp\""), "{toml_text}");

    let csv = call_ok(
        &client,
        "convert",
        json!({"input": r#"[{"a":1,"b":"x"},{"a":2,"b":"y"}]"#, "from": "json", "to": "csv"}),
    )
    .await;
    assert_eq!(
        csv["output"].as_str().expect("output").trim(),
        "a,b\n1,x\n2,y"
    );

    let back = call_ok(
        &client,
        "convert",
        json!({"input": "a,b\n1,x\n", "from": "csv", "to": "json"}),
    )
    .await;
    let parsed: Value =
        serde_json::from_str(back["output"].as_str().expect("output")).expect("json");
    assert_eq!(
        parsed,
        json!([{"a": "1", "b": "x"}]),
        "CSV cells stay strings by default"
    );
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn convert_refuses_lossy_cases_with_precise_errors() {
    let client = stdio_client("transform").await;
    let nested = call(
        &client,
        "convert",
        json!({"input": r#"[{"a":{"deep":1}}]"#, "from": "json", "to": "csv"}),
    )
    .await;
    assert_eq!(nested.is_error, Some(true));
    assert!(
        text_of(&nested).contains('a'),
        "names the nested field: {}",
        text_of(&nested)
    );

    let broken = call(
        &client,
        "convert",
        json!({"input": "{\"a\": ", "from": "json", "to": "yaml"}),
    )
    .await;
    assert_eq!(broken.is_error, Some(true));
    assert!(
        text_of(&broken).contains("line"),
        "says where: {}",
        text_of(&broken)
    );

    let bad_format = call(
        &client,
        "convert",
        json!({"input": "{}", "from": "xml", "to": "json"}),
    )
    .await;
    assert_eq!(bad_format.is_error, Some(true));
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn html_to_markdown_keeps_structure_and_drops_scripts() {
    let client = stdio_client("transform").await;
    let html = r#"<html><head><title>Doc</title><script>alert(1)</script></head><body>
        <h1>Title</h1><p>Some <strong>bold</strong> and a <a href="/x">link</a>.</p>
        <ul><li>one</li><li>two</li></ul></body></html>"#;
    let out = call_ok(
        &client,
        "html_to_markdown",
        json!({"html": html, "base_url": "https://example.com/docs/"}),
    )
    .await;
    let md = out["markdown"].as_str().expect("markdown");
    assert!(md.contains("# Title"), "{md}");
    assert!(md.contains("**bold**"), "{md}");
    assert!(
        md.contains("https://example.com/x"),
        "absolutised link: {md}"
    );
    assert!(md.contains("one") && md.contains("two"), "{md}");
    assert!(!md.contains("alert"), "scripts dropped: {md}");
    assert_eq!(out["title"], "Doc");
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn markdown_to_html_is_sanitized() {
    let client = stdio_client("transform").await;
    let md = "# Hi\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>";
    let out = call_ok(&client, "markdown_to_html", json!({"markdown": md})).await;
    let html = out["html"].as_str().expect("html");
    assert!(html.contains("<h1>Hi</h1>"), "{html}");
    assert!(html.contains("<table>"), "GFM tables: {html}");
    for forbidden in ["<script", "javascript:", "onerror"] {
        assert!(
            !html.contains(forbidden),
            "{forbidden} must be stripped: {html}"
        );
    }
    assert_eq!(out["headings"][0]["text"], "Hi");
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_html_nesting_is_refused_quickly() {
    let client = stdio_client("transform").await;
    let html = "<div>".repeat(200_000);
    let result = call(&client, "html_to_markdown", json!({ "html": html })).await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        text_of(&result).contains("the limit is 1024"),
        "{}",
        text_of(&result)
    );
    client.cancel().await.expect("close");
}

//! A Rust MCP client talking to ffmcp over streamable HTTP.
//!
//! ```sh
//! cargo run --release -- serve &                       # every server on 127.0.0.1:8765
//! cargo run --example http_client -- http://127.0.0.1:8765/transform/mcp
//! ```

use rmcp::{
    ServiceExt,
    model::CallToolRequestParams,
    transport::{
        StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig,
    },
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8765/transform/mcp".to_owned());
    let mut config = StreamableHttpClientTransportConfig::with_uri(url);
    if let Ok(token) = std::env::var("FF_HTTP_TOKEN") {
        config = config.auth_header(token);
    }
    let client = ().serve(StreamableHttpClientTransport::from_config(config)).await?;
    let tools = client.list_all_tools().await?;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    let arguments = serde_json::json!({ "text": "Hello from a Rust MCP client." });
    let result = client
        .call_tool(
            CallToolRequestParams::new("text_stats")
                .with_arguments(arguments.as_object().cloned().unwrap_or_default()),
        )
        .await?;
    let report = serde_json::json!({ "tools": names, "text_stats": result.structured_content });
    std::io::Write::write_all(
        &mut std::io::stdout(),
        format!("{}\n", serde_json::to_string_pretty(&report)?).as_bytes(),
    )?;
    client.cancel().await?;
    Ok(())
}

//! `ffmcp registry-json`: the `server.json` the official MCP registry reads
//! (schema 2025-12-11, vendored with its source in `xtask/registry/`),
//! generated from the server table so it cannot drift from what the binary
//! offers. `cargo xtask server-json` writes it to the repository root; CI and
//! `e2e::registry` check the checked-in file equals this output and
//! validates against the schema.
//!
//! One registry entry, `io.github.ffmcp/ffmcp`: the registry proves that a
//! server name owns an npm package through the package's single `mcpName`,
//! and every server ships in the one `ffmcp` package. Each server is a
//! package of that entry, once per transport: `npx ffmcp <server>` over
//! stdio, and `npx ffmcp <server> --http 127.0.0.1:8765` over streamable
//! HTTP. Icons are left out here: the registry accepts only `https` icon
//! URLs, while the servers' own icons (in `serverInfo`) are `data:` URIs.

use ffmcp_core::{Servers, config::CORE_SETTINGS, config::Setting};
use serde_json::{Value, json};

/// The registry name; the npm package's `mcpName` (`xtask dist` reads it
/// from the generated server.json).
pub const REGISTRY_NAME: &str = "io.github.ffmcp/ffmcp";
/// The schema the entry follows.
pub const SCHEMA: &str =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";
/// The npm package every server ships in.
const NPM_PACKAGE: &str = "ffmcp";
/// Where the HTTP packages listen (`ffmcp serve`'s default port too).
const HTTP_ADDR: &str = "127.0.0.1:8765";
/// Model settings offered for servers with model tools.
const MODEL_SETTINGS: &[&str] = &["FF_LLM_PRIMARY", "ANTHROPIC_API_KEY"];

/// The registry entry for every server in `servers`.
pub fn server_json(servers: &Servers) -> Value {
    let version = env!("CARGO_PKG_VERSION");
    let repository = env!("CARGO_PKG_REPOSITORY");
    let mut packages = Vec::new();
    for spec in servers.iter() {
        let title = spec.display_title().unwrap_or(spec.name());
        let server_argument = json!({
            "type": "positional",
            "value": spec.name(),
            "description": format!("{title}: {}", spec.summary()),
        });
        let mut settings: Vec<&Setting> = spec.own_settings().iter().collect();
        if spec.has_models() {
            settings.extend(
                MODEL_SETTINGS
                    .iter()
                    .filter_map(|name| CORE_SETTINGS.iter().find(|s| s.name == *name)),
            );
        }
        let environment: Vec<Value> = settings.into_iter().map(environment_variable).collect();
        let package = |transport: Value, arguments: Vec<Value>| {
            let mut package = json!({
                "registryType": "npm",
                "registryBaseUrl": "https://registry.npmjs.org",
                "identifier": NPM_PACKAGE,
                "version": version,
                "runtimeHint": "npx",
                "transport": transport,
                "packageArguments": arguments,
            });
            if !environment.is_empty() {
                package["environmentVariables"] = json!(environment);
            }
            package
        };
        packages.push(package(
            json!({ "type": "stdio" }),
            vec![server_argument.clone()],
        ));
        packages.push(package(
            json!({ "type": "streamable-http", "url": format!("http://{HTTP_ADDR}/mcp") }),
            vec![
                server_argument,
                json!({
                    "type": "named",
                    "name": "--http",
                    "value": HTTP_ADDR,
                    "description": "Serve over streamable HTTP at this address (path /mcp)",
                }),
            ],
        ));
    }
    json!({
        "$schema": SCHEMA,
        "name": REGISTRY_NAME,
        "title": "ffmcp",
        "description": "Production MCP servers in one binary: documents, SEO, leads, competitors, transforms",
        "version": version,
        "repository": { "url": repository, "source": "github" },
        "websiteUrl": ffmcp_core::server::WEBSITE_URL,
        "packages": packages,
    })
}

/// `server_json` as the file is written: pretty, with a final newline.
pub fn render(servers: &Servers) -> String {
    let mut text = serde_json::to_string_pretty(&server_json(servers))
        .expect("a JSON value always serialises");
    text.push('\n');
    text
}

fn environment_variable(setting: &Setting) -> Value {
    let mut variable = json!({
        "name": setting.name,
        "description": setting.help,
        "isRequired": false,
        "isSecret": setting.secret,
    });
    if !setting.default.is_empty() && !setting.secret {
        variable["default"] = json!(setting.default);
    }
    variable
}

//! Registry-ready: the checked-in `server.json` is what `ffmcp
//! registry-json` generates from the server table and is valid against the
//! official schema (vendored in xtask/registry/); every server tells
//! clients its title, icon and website.

use std::collections::BTreeSet;

use serde_json::Value;

use super::support::{bin, stdio_client};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn run(args: &[&str]) -> String {
    #[allow(clippy::disallowed_methods)] // tests start the binary under test directly
    let out = std::process::Command::new(bin())
        .args(args)
        .output()
        .expect("run ffmcp");
    assert!(out.status.success(), "ffmcp {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Every server in the table, with the title its crate declares.
const TITLES: &[(&str, &str)] = &[
    ("coderag", ffmcp_coderag::TITLE),
    ("competitive-intel", ffmcp_competitive_intel::TITLE),
    ("docparse", ffmcp_docparse::TITLE),
    ("leadgen", ffmcp_leadgen::TITLE),
    ("seo", ffmcp_seo::TITLE),
    ("transform", ffmcp_transform::TITLE),
];

#[test]
fn server_json_is_generated_from_the_server_table_and_valid() {
    let generated = run(&["registry-json"]);
    let checked_in = std::fs::read_to_string(format!("{ROOT}/server.json")).expect("server.json");
    assert!(
        generated == checked_in,
        "server.json is out of date: run `cargo xtask server-json` and commit it"
    );

    let doc: Value = serde_json::from_str(&checked_in).expect("JSON");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/xtask/registry/server.schema.json"))
            .expect("vendored schema"),
    )
    .expect("schema JSON");
    assert_eq!(doc["$schema"], schema["$id"], "names the vendored schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "server.json against the schema: {errors:#?}"
    );

    // The registry's checks beyond the schema (its validators package).
    assert!(doc["description"].as_str().expect("description").len() <= 100);
    let packages = doc["packages"].as_array().expect("packages");
    let mut offered = BTreeSet::new();
    for package in packages {
        assert_eq!(package["identifier"], "ffmcp", "{package}");
        assert_eq!(package["version"], doc["version"], "{package}");
        let transport = &package["transport"];
        let server = package["packageArguments"][0]["value"]
            .as_str()
            .expect("the server argument");
        match transport["type"].as_str() {
            Some("stdio") => assert!(transport.get("url").is_none(), "{package}"),
            Some("streamable-http") => {
                let url = transport["url"].as_str().expect("a url");
                assert!(
                    url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
                    "{url}"
                );
            }
            other => panic!("unexpected transport {other:?}"),
        }
        offered.insert((
            server.to_owned(),
            transport["type"].as_str().unwrap_or("").to_owned(),
        ));
    }
    // Every server, on both transports, and nothing else.
    let listed: BTreeSet<(String, String)> = run(&["list"])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .flat_map(|name| ["stdio", "streamable-http"].map(|t| (name.to_owned(), t.to_owned())))
        .collect();
    assert_eq!(offered, listed);
    assert_eq!(listed.len(), TITLES.len() * 2, "TITLES lists every server");
}

#[tokio::test]
async fn every_server_tells_clients_its_title_icon_and_website() {
    for (server, title) in TITLES {
        let client = stdio_client(server).await;
        let info = client.peer_info().expect("server info");
        let implementation = info.server_info.as_ref().expect("serverInfo");
        assert_eq!(implementation.name, format!("ffmcp-{server}"));
        assert_eq!(implementation.title.as_deref(), Some(*title), "{server}");
        assert_eq!(
            implementation.website_url.as_deref(),
            Some(ffmcp_core::server::WEBSITE_URL)
        );
        let icons = implementation.icons.as_ref().expect("icons");
        assert_eq!(icons.len(), 1, "{server}");
        assert!(
            icons[0].src.starts_with("data:image/svg+xml,%3Csvg")
                && !icons[0]
                    .src
                    .contains(|c: char| c.is_whitespace() || "<>'\"#".contains(c)),
            "{server}: {}",
            icons[0].src
        );
        client.cancel().await.ok();
    }
}

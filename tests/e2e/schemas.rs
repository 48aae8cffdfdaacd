//! What every server's tools/list promises about its tools.
//!
//! - Schemas use only JSON Schema's own `format` values (issue 16.4): strict
//!   validators such as Ajv warn on schemars' `uint32`, `int64` or `double`,
//!   which become `minimum`/`maximum` instead.
//! - Every tool has a human title and all four annotation hints (issue 16.3).
//!   Clients decide from the hints whether to ask before a call (destructive),
//!   retry it (idempotent) or run it without a prompt (read-only, closed
//!   world), so a wrong hint is a bug: [`HINTS`] pins every tool's four values
//!   and a tool missing from it fails the test.

use std::collections::BTreeSet;

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
    for server in SERVERS {
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

const SERVERS: [&str; 6] = [
    "transform",
    "docparse",
    "seo",
    "competitive-intel",
    "leadgen",
    "coderag",
];

/// (server, tool, read_only, destructive, idempotent, open_world).
/// read_only: nothing changes anywhere (fetching a URL still counts);
/// destructive: may delete or overwrite (removals, `overwrite: true` exports);
/// idempotent: the same arguments twice have no further effect;
/// open_world: talks to the internet or a language model.
#[rustfmt::skip]
const HINTS: &[(&str, &str, bool, bool, bool, bool)] = &[
    ("docparse", "parse", true, false, true, true),
    ("docparse", "metadata", true, false, true, true),
    ("docparse", "extract_tables", true, false, true, true),
    ("docparse", "chunk", true, false, true, true),
    ("docparse", "extract", true, false, false, true),
    ("docparse", "formats", true, false, true, false),
    ("seo", "audit_page", true, false, true, true),
    ("seo", "audit_site", false, true, false, true),
    ("seo", "check_robots", true, false, true, true),
    ("seo", "parse_sitemap", true, false, true, true),
    ("seo", "extract_structured_data", true, false, true, true),
    ("seo", "compare_pages", true, false, true, true),
    ("seo", "suggest", true, false, false, true),
    ("competitive-intel", "watch_add", false, false, true, true),
    ("competitive-intel", "watch_list", true, false, true, false),
    ("competitive-intel", "watch_update", false, true, true, false),
    ("competitive-intel", "watch_remove", false, true, true, false),
    ("competitive-intel", "check_now", false, false, false, true),
    ("competitive-intel", "changes", true, false, true, false),
    ("competitive-intel", "diff", true, false, true, false),
    ("competitive-intel", "history", true, false, true, false),
    ("competitive-intel", "summarize_changes", true, false, false, true),
    ("competitive-intel", "parse_feed", true, false, true, true),
    ("competitive-intel", "export_changes", false, true, true, false),
    ("leadgen", "extract_leads", true, false, true, true),
    ("leadgen", "normalize_leads", true, false, true, false),
    ("leadgen", "dedupe_leads", true, false, true, false),
    ("leadgen", "enrich_leads", true, false, true, true),
    ("leadgen", "score_leads", true, false, true, false),
    ("leadgen", "job_start", false, false, false, true),
    ("leadgen", "job_status", true, false, true, false),
    ("leadgen", "job_results", true, false, true, false),
    ("leadgen", "job_cancel", false, false, true, false),
    ("leadgen", "job_resume", false, false, true, true),
    ("leadgen", "job_delete", false, true, true, false),
    ("leadgen", "export_leads", false, true, true, false),
    ("transform", "convert", true, false, true, false),
    ("transform", "html_to_markdown", true, false, true, false),
    ("transform", "markdown_to_html", true, false, true, false),
    ("transform", "text_stats", true, false, true, false),
    ("transform", "summarize", true, false, false, true),
    ("transform", "translate", true, false, false, true),
    ("transform", "rewrite", true, false, false, true),
    ("transform", "extract", true, false, false, true),
    ("transform", "classify", true, false, false, true),
    ("transform", "models", true, false, true, false),
    ("coderag", "index", false, false, true, false),
    ("coderag", "search", true, false, true, false),
    ("coderag", "find_symbol", true, false, true, false),
    ("coderag", "references", true, false, true, false),
    ("coderag", "outline", true, false, true, false),
    ("coderag", "read", true, false, true, false),
    ("coderag", "status", true, false, true, false),
    ("coderag", "related", true, false, true, false),
];

#[tokio::test]
async fn every_tool_has_a_title_and_honest_annotations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let db = db.to_str().expect("utf-8");
    let mut listed = BTreeSet::new();
    for server in SERVERS {
        let client = stdio_client_env(server, &[("FF_DB", db)]).await;
        let tools = client.list_all_tools().await.expect("tools/list");
        client.cancel().await.ok();
        for tool in tools {
            let name = format!("{server}/{}", tool.name);
            let title = tool.title.as_deref().unwrap_or_default();
            assert!(!title.trim().is_empty(), "{name}: no title");
            assert_ne!(title, tool.name.as_ref(), "{name}: the title is the name");
            let a = tool
                .annotations
                .unwrap_or_else(|| panic!("{name}: no annotations"));
            let got = (
                a.read_only_hint
                    .unwrap_or_else(|| panic!("{name}: readOnlyHint unset")),
                a.destructive_hint
                    .unwrap_or_else(|| panic!("{name}: destructiveHint unset")),
                a.idempotent_hint
                    .unwrap_or_else(|| panic!("{name}: idempotentHint unset")),
                a.open_world_hint
                    .unwrap_or_else(|| panic!("{name}: openWorldHint unset")),
            );
            assert!(!(got.0 && got.1), "{name}: read-only yet destructive");
            let want = HINTS
                .iter()
                .find(|h| h.0 == server && h.1 == tool.name)
                .map(|h| (h.2, h.3, h.4, h.5))
                .unwrap_or_else(|| panic!("{name}: not in HINTS; decide its hints and add it"));
            assert_eq!(
                got, want,
                "{name}: (read_only, destructive, idempotent, open_world)"
            );
            listed.insert(name);
        }
    }
    let expected: BTreeSet<String> = HINTS.iter().map(|h| format!("{}/{}", h.0, h.1)).collect();
    assert_eq!(listed, expected, "HINTS names exactly the listed tools");
}

//! What the server factory and the typed configuration promise, seen from
//! outside: one model router (one accounting) for every server of a
//! process, `ffmcp://stats` on every server with model tools, and an
//! effective configuration that names each value's source and never shows
//! a secret.

use std::process::Command;

use ffmcp_test_support::imitation::Imitation;
use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

use super::support::{Client, HttpProc, bin, call, http_client};

async fn stats(client: &Client) -> Value {
    let resources = client.list_all_resources().await.expect("resources/list");
    assert!(
        resources.iter().any(|r| r.uri == "ffmcp://stats"),
        "ffmcp://stats listed: {resources:?}"
    );
    let read = client
        .read_resource(ReadResourceRequestParams::new("ffmcp://stats"))
        .await
        .expect("resources/read");
    let Some(ResourceContents::TextResourceContents { text, .. }) = read.contents.first() else {
        panic!("text contents expected: {read:?}");
    };
    serde_json::from_str(text).expect("stats are JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_server_under_serve_shares_one_router_and_its_accounting() {
    let imitation = Imitation::start().await.expect("imitation");
    let mut env: Vec<(&str, String)> = imitation.env();
    env.push(("FF_LLM_PRIMARY", "anthropic:claude-sonnet-4-5".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = HttpProc::spawn(bin(), &["serve", "--http", "127.0.0.1:0"], &env);

    let transform = http_client(&format!("{}/transform/mcp", server.base), None).await;
    let before = stats(&transform).await;
    assert!(before["stats"]["tools"]["summarize"].is_null(), "{before}");
    let done = call(
        &transform,
        "summarize",
        json!({"text": "The meeting moved to Tuesday. Bring the Q3 numbers.", "length": "short"}),
    )
    .await;
    assert_ne!(done.is_error, Some(true), "{done:?}");

    // The call made through transform shows in every other server's
    // statistics: one router, one set of breakers, one accounting.
    for other in ["seo", "leadgen", "docparse", "competitive-intel"] {
        let client = http_client(&format!("{}/{other}/mcp", server.base), None).await;
        let seen = stats(&client).await;
        assert_eq!(
            seen["stats"]["tools"]["summarize"]["calls"],
            json!(1),
            "{other}: {seen}"
        );
        assert_eq!(
            seen["routes"][0]["route"],
            json!("anthropic:claude-sonnet-4-5"),
            "{other}: {seen}"
        );
        client.cancel().await.expect("close");
    }
    transform.cancel().await.expect("close");
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    for var in [
        "FF_CONFIG_FILE",
        "FF_MAX_CALLS",
        "FF_SEO_MAX_CONCURRENCY",
        "OPENAI_API_KEY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run ffmcp");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn config_show_names_each_source_and_never_a_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ffmcp.toml");
    std::fs::write(
        &file,
        "FF_MAX_CALLS = 7\nFF_SEO_MAX_CONCURRENCY = 2\nOPENAI_API_KEY = \"sk-from-the-file-0123\"\n",
    )
    .expect("write");
    let file_arg = file.display().to_string();
    let (code, out, err) = run(
        &["config", "show", "--json", "--config-file", &file_arg],
        &[
            ("FF_SEO_MAX_CONCURRENCY", "3"),
            ("OPENAI_API_KEY", "sk-from-the-environment-4567"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("sk-from-the-file") && !out.contains("sk-from-the-environment"),
        "a secret was printed: {out}"
    );
    let shown: Value = serde_json::from_str(&out).expect("JSON");
    let setting = |name: &str| {
        shown["settings"]
            .as_array()
            .expect("settings")
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} listed: {out}"))
    };
    assert_eq!(setting("FF_MAX_CALLS")["value"], "7");
    assert_eq!(setting("FF_MAX_CALLS")["source"], "file");
    assert_eq!(setting("FF_SEO_MAX_CONCURRENCY")["value"], "3");
    assert_eq!(setting("FF_SEO_MAX_CONCURRENCY")["source"], "environment");
    assert_eq!(setting("FF_SEO_MAX_CONCURRENCY")["owner"], "seo");
    assert_eq!(setting("OPENAI_API_KEY")["source"], "environment");
    assert_eq!(setting("FF_DB")["source"], Value::Null);
    assert_eq!(shown["config_file"], json!(file_arg));

    // The text form (and doctor) says the same, also without the secret.
    let (code, text, err) = run(
        &["config", "show"],
        &[
            ("FF_CONFIG_FILE", &file_arg),
            ("OPENAI_API_KEY", "sk-from-the-environment-4567"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!text.contains("sk-from"), "{text}");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("FF_MAX_CALLS "))
        .expect("FF_MAX_CALLS line");
    assert!(line.contains('7') && line.contains("config file"), "{line}");
}

#[test]
fn a_bad_config_file_stops_every_command_with_the_key_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ffmcp.toml");
    std::fs::write(&file, "LD_PRELOAD = \"/tmp/evil.so\"\n").expect("write");
    let file_arg = file.display().to_string();
    for args in [
        &["config", "show", "--config-file", &file_arg][..],
        &["transform", "--config-file", &file_arg],
    ] {
        let (code, out, err) = run(args, &[]);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(err.contains("unknown key 'LD_PRELOAD'"), "{args:?}: {err}");
        assert!(out.is_empty(), "nothing on stdout: {out}");
    }
}

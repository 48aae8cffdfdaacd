//! The command line: list, config, version, errors.

use std::process::Command;

use super::support::bin;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().expect("run ffmcp");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn list_names_every_server() {
    let (code, out, _) = run(&["list"]);
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.starts_with("transform ")), "{out}");
}

#[test]
fn config_claude_prints_valid_config_with_absolute_binary_path() {
    let (code, out, err) = run(&["config", "claude", "transform"]);
    assert_eq!(code, 0, "{err}");
    let config: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let entry = &config["mcpServers"]["transform"];
    let command = entry["command"].as_str().expect("command");
    assert!(std::path::Path::new(command).is_absolute(), "{command}");
    assert!(std::path::Path::new(command).exists(), "{command}");
    assert_eq!(entry["args"], serde_json::json!(["transform"]));
}

#[test]
fn config_claude_rejects_unknown_servers_and_lists_known_ones() {
    let (code, _, err) = run(&["config", "claude", "nope"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("unknown server 'nope'") && err.contains("transform"),
        "{err}"
    );
}

#[test]
fn version_and_help_everywhere() {
    let version = env!("CARGO_PKG_VERSION");
    for args in [
        &["--version"][..],
        &["transform", "--version"],
        &["serve", "--version"],
    ] {
        let (code, out, _) = run(args);
        assert_eq!(code, 0, "{args:?}");
        assert!(out.contains(version), "{args:?}: {out}");
    }
    for args in [
        &["--help"][..],
        &["transform", "--help"],
        &["serve", "--help"],
        &["config", "claude", "--help"],
    ] {
        let (code, out, _) = run(args);
        assert_eq!(code, 0, "{args:?}");
        assert!(out.contains("Usage"), "{args:?}: {out}");
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let (code, _, err) = run(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("frobnicate"), "{err}");
}

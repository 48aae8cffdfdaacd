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

/// README's forms, run as written: server names stay server names, and the
/// config path comes from `--write=PATH` or `--config PATH`.
#[test]
fn config_claude_write_takes_servers_as_servers() {
    let home = tempfile::tempdir().expect("tempdir");
    let cwd = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(super::support::bin())
            .args(args)
            .current_dir(cwd.path())
            .env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .expect("run ffmcp");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["config", "claude", "--write", "transform"]);
    assert!(
        !cwd.path().join("transform").exists(),
        "a server name became a file"
    );
    let default = home
        .path()
        .join(".config/Claude/claude_desktop_config.json");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&default).expect("default config written"))
            .expect("json");
    let servers = config["mcpServers"].as_object().expect("servers");
    assert_eq!(servers.keys().collect::<Vec<_>>(), vec!["transform"]);

    let explicit = cwd.path().join("other.json");
    run(&["config", "claude", "--write=other.json", "docparse"]);
    run(&[
        "config",
        "claude",
        "--config",
        explicit.to_str().expect("utf-8"),
        "seo",
    ]);
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&explicit).expect("explicit config")).expect("json");
    let mut names: Vec<&String> = config["mcpServers"]
        .as_object()
        .expect("servers")
        .keys()
        .collect();
    names.sort();
    assert_eq!(names, vec!["docparse", "seo"]);
}

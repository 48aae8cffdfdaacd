//! The public surface, pinned by insta snapshots (tests/e2e/snapshots/):
//! every server's `tools/list` through the rmcp client, `--help` of the
//! binary and of every subcommand, the `audit` report of a fixture config
//! (text and JSON), and the `doctor` report (text and JSON) with what
//! differs between machines redacted. A change to any of them fails
//! `cargo test` until the new snapshot is reviewed and accepted
//! (crates/test-support/README.md says how).

use std::{path::Path, process::Command};

use ffmcp_test_support::{client::connect_stdio, snapshot::redact};
use serde_json::Value;

use super::support::{MODEL_VARS, bin};

const SERVERS: [&str; 6] = [
    "coderag",
    "competitive-intel",
    "docparse",
    "leadgen",
    "seo",
    "transform",
];

/// Removes from `cmd` every variable of this process that configures
/// ffmcp or a model provider, and points HOME at `home`, so the output
/// does not depend on the machine the test runs on.
fn isolate(cmd: &mut impl EnvCommand, home: &Path) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("FF_") || MODEL_VARS.contains(&key.as_ref()) {
            cmd.remove(&key);
        }
    }
    cmd.set("HOME", home.as_os_str());
    cmd.set("XDG_CONFIG_HOME", home.join(".config").as_os_str());
    cmd.set("XDG_DATA_HOME", home.join(".local/share").as_os_str());
}

/// The environment edits both std's and tokio's `Command` take.
trait EnvCommand {
    fn remove(&mut self, key: &str);
    fn set(&mut self, key: &str, value: &std::ffi::OsStr);
}

impl EnvCommand for Command {
    fn remove(&mut self, key: &str) {
        self.env_remove(key);
    }
    fn set(&mut self, key: &str, value: &std::ffi::OsStr) {
        self.env(key, value);
    }
}

impl EnvCommand for tokio::process::Command {
    fn remove(&mut self, key: &str) {
        self.env_remove(key);
    }
    fn set(&mut self, key: &str, value: &std::ffi::OsStr) {
        self.env(key, value);
    }
}

/// Runs `ffmcp ARGS` isolated in `home`; returns (exit code, stdout).
fn run(args: &[&str], home: &Path) -> (i32, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    isolate(&mut cmd, home);
    let out = cmd.output().expect("run ffmcp");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_servers_tools_list() {
    let home = tempfile::tempdir().expect("tempdir");
    for server in SERVERS {
        let mut cmd = tokio::process::Command::new(bin());
        cmd.arg(server).env("FF_LOG", "warn");
        isolate(&mut cmd, home.path());
        let client = connect_stdio(cmd).await;
        let mut tools: Vec<Value> = client
            .list_all_tools()
            .await
            .expect("tools/list")
            .iter()
            .map(|tool| serde_json::to_value(tool).expect("a tool serialises"))
            .collect();
        tools.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        client.cancel().await.ok();
        insta::assert_json_snapshot!(format!("tools_list__{server}"), tools);
    }
}

/// The subcommands a `--help` text lists under `Commands:` (not `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_of_the_binary_and_every_subcommand() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let (code, help) = run(&args, home.path());
        assert_eq!(code, 0, "ffmcp {args:?}");
        let name = if path.is_empty() {
            "help__ffmcp".to_owned()
        } else {
            format!("help__ffmcp_{}", path.join("_"))
        };
        insta::assert_snapshot!(name, help);
        seen += 1;
        for sub in subcommands(&help) {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
    }
    assert!(seen > SERVERS.len(), "every server has a subcommand");
}

/// The risky fixture config, audited from a copy in a fresh HOME.
#[test]
fn audit_report_of_a_fixture_config() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("claude_desktop_config.json");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit/risky.json"),
        &config,
    )
    .expect("copy the fixture");
    let config = config.to_str().expect("UTF-8 path");
    let home_dir = home.path().to_str().expect("UTF-8 path");
    let paths = [(home_dir, "[HOME]")];

    let (code, text) = run(&["audit", config], home.path());
    insta::assert_snapshot!("audit__risky_text", redact(&text, &paths));
    let (json_code, json) = run(&["audit", config, "--json"], home.path());
    assert_eq!(code, json_code, "text and JSON exit the same way");
    let report: Value =
        serde_json::from_str(&redact(&json, &paths)).expect("audit --json prints JSON");
    insta::assert_json_snapshot!("audit__risky_json", report);
}

/// Labels of `doctor` lines whose values describe this machine (kernel,
/// sandbox support, installed programs) rather than ffmcp.
const MACHINE_LABELS: &[&str] = &[
    "Landlock",
    "seccomp",
    "local sockets",
    "signals",
    "inherited fds",
    "no_new_privs",
    "rlimits",
    "tried",
    "program",
    "system",
];

/// The doctor text with machine-specific values replaced by `[machine]`:
/// for `tried` and `program` lines the name stays, and the closing verdict
/// line (which depends on the kernel) is redacted too.
fn redact_doctor_text(text: &str) -> String {
    let mut out = Vec::new();
    let mut in_security = false;
    for line in text.lines() {
        if line == "security protections on this machine" {
            in_security = true;
            out.push(line.to_owned());
            continue;
        }
        let Some(rest) = line.strip_prefix("  ") else {
            let verdict =
                line.starts_with("All protections") || line.starts_with("Some protections");
            let keep = !(in_security && verdict);
            out.push(if keep {
                line.to_owned()
            } else {
                "[machine]".to_owned()
            });
            continue;
        };
        let (label, value) = rest.split_once("  ").unwrap_or((rest, ""));
        if !MACHINE_LABELS.contains(&label) {
            out.push(line.to_owned());
            continue;
        }
        let value = value.trim_start();
        let kept = match label {
            "tried" | "program" => value.split_once(": ").map_or_else(
                || "[machine]".to_owned(),
                |(name, _)| format!("{name}: [machine]"),
            ),
            _ => "[machine]".to_owned(),
        };
        out.push(format!("  {label:<16}{kept}"));
    }
    out.join("\n") + "\n"
}

/// Every leaf of `value` replaced by `"[machine]"`, the structure kept.
fn machine_leaves(value: &mut Value) {
    match value {
        Value::Object(map) => map.values_mut().for_each(machine_leaves),
        Value::Array(items) => items.iter_mut().for_each(machine_leaves),
        leaf => *leaf = Value::String("[machine]".into()),
    }
}

/// The doctor JSON with what describes this machine redacted.
fn redact_doctor_json(mut report: Value) -> Value {
    for key in ["sandbox", "all_active", "system"] {
        if let Some(value) = report.get_mut(key) {
            machine_leaves(value);
        }
    }
    if let Some(checks) = report.get_mut("checks").and_then(Value::as_array_mut) {
        for check in checks {
            if let Some(result) = check.get_mut("result") {
                machine_leaves(result);
            }
        }
    }
    // An installed program has a `path`, a missing one says why it is
    // `unavailable`: which of the two is the machine's business.
    if let Some(programs) = report.get_mut("programs").and_then(Value::as_array_mut) {
        for program in programs {
            let name = program["name"].clone();
            *program = serde_json::json!({ "name": name, "path | unavailable": "[machine]" });
        }
    }
    report
}

#[test]
fn doctor_report() {
    let home = tempfile::tempdir().expect("tempdir");
    let home_dir = home.path().to_str().expect("UTF-8 path");
    let stable = [
        (home_dir, "[HOME]"),
        (env!("CARGO_PKG_VERSION"), "[VERSION]"),
    ];
    let (_, text) = run(&["doctor"], home.path());
    insta::assert_snapshot!("doctor__text", redact_doctor_text(&redact(&text, &stable)));
    let (_, json) = run(&["doctor", "--json"], home.path());
    let report: Value =
        serde_json::from_str(&redact(&json, &stable)).expect("doctor --json prints JSON");
    insta::assert_json_snapshot!("doctor__json", redact_doctor_json(report));
}

//! `ffmcp audit`: exit codes, the JSON report, secret redaction and errors,
//! on the sample configs in tests/fixtures/audit.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

use super::support::bin;

/// Secrets written into risky.json; none may ever be printed.
const SECRETS: &[&str] = &[
    "ghp_EXAMPLEexampleEXAMPLEexampleEXAMPLE0",
    "hunter2-super-secret-value",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/audit")
        .join(name)
}

fn audit(args: &[&str], env: &[(&str, &Path)]) -> (i32, String, String) {
    let mut cmd = Command::new(bin());
    cmd.arg("audit").args(args);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd.output().expect("run ffmcp audit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn audit_file(name: &str, json: bool) -> (i32, String, String) {
    let path = fixture(name);
    let path = path.to_str().expect("UTF-8 path");
    if json {
        audit(&[path, "--json"], &[])
    } else {
        audit(&[path], &[])
    }
}

/// Rule ids per server from a `--json` report.
fn rules_by_server(report: &Value) -> BTreeMap<String, Vec<String>> {
    let mut rules: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in report["findings"].as_array().expect("findings") {
        let server = f["server"].as_str().expect("server").to_owned();
        rules
            .entry(server)
            .or_default()
            .push(f["rule"].as_str().expect("rule").to_owned());
    }
    rules
}

#[test]
fn audit_clean_config_exits_zero() {
    let (code, out, err) = audit_file("clean.json", false);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(7 servers)"), "{out}");
    assert!(out.trim_end().ends_with("0 high, 0 medium, 0 low"), "{out}");

    let (code, out, err) = audit_file("clean.json", true);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(report["servers"], 7);
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(
        report["summary"],
        serde_json::json!({"high": 0, "medium": 0, "low": 0})
    );
}

#[test]
fn audit_risky_config_reports_each_rule_and_exits_two() {
    let (code, out, err) = audit_file("risky.json", true);
    assert_eq!(code, 2, "{err}");
    let report: Value = serde_json::from_str(&out).expect("valid JSON");
    assert!(
        report["config"]
            .as_str()
            .expect("config")
            .ends_with("risky.json")
    );
    assert_eq!(report["servers"], 9);
    let expected: BTreeMap<String, Vec<String>> = [
        ("shell-oneliner", &["inline-code", "pipe-to-shell"][..]),
        ("python-inline", &["inline-code"]),
        ("unpinned-npx", &["unpinned-package"]),
        ("latest-uvx", &["unpinned-package"]),
        ("tmp-binary", &["writable-path"]),
        ("relative", &["relative-command"]),
        ("github", &["secret-in-env"]),
        ("api-in-args", &["secret-in-args"]),
        ("plain-http", &["insecure-remote"]),
    ]
    .into_iter()
    .map(|(server, rules)| {
        (
            server.to_owned(),
            rules.iter().map(|r| (*r).to_owned()).collect(),
        )
    })
    .collect();
    assert_eq!(rules_by_server(&report), expected);
    assert_eq!(
        report["summary"],
        serde_json::json!({"high": 7, "medium": 2, "low": 1})
    );

    for f in report["findings"].as_array().expect("findings") {
        for key in ["severity", "server", "rule", "message", "fix"] {
            assert!(f[key].as_str().is_some_and(|s| !s.is_empty()), "{key}: {f}");
        }
        // guard confines what an entry runs; it cannot un-leak a secret.
        let confinable = [
            "inline-code",
            "pipe-to-shell",
            "writable-path",
            "unpinned-package",
        ]
        .contains(&f["rule"].as_str().unwrap_or_default());
        assert_eq!(f.get("suggestion").is_some(), confinable, "{f}");
    }
    let shell = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["server"] == "shell-oneliner")
        .expect("shell-oneliner finding");
    let args = shell["suggestion"]["args"].as_array().expect("args");
    assert_eq!(shell["suggestion"]["command"], "ffmcp");
    assert_eq!(
        args[..5],
        ["guard", "--policy", "<policy.toml>", "--", "/bin/bash"]
    );
}

#[test]
fn audit_text_report_groups_by_server() {
    let (code, out, err) = audit_file("risky.json", false);
    assert_eq!(code, 2, "{err}");
    assert!(out.contains("\nshell-oneliner\n  [HIGH]"), "{out}");
    assert!(out.contains("[MEDIUM] unpinned-package"), "{out}");
    assert!(out.contains("[LOW]    relative-command"), "{out}");
    assert!(
        out.contains("suggested entry: {\"command\":\"ffmcp\""),
        "{out}"
    );
    assert!(out.trim_end().ends_with("7 high, 2 medium, 1 low"), "{out}");
}

#[test]
fn audit_never_prints_secrets() {
    for json in [false, true] {
        let (_, out, err) = audit_file("risky.json", json);
        for secret in SECRETS {
            assert!(!out.contains(secret), "secret on stdout:\n{out}");
            assert!(!err.contains(secret), "secret on stderr:\n{err}");
        }
        assert!(out.contains("ghp_…") && out.contains("hunt…"), "{out}");
    }
}

#[test]
fn audit_accepts_vscode_jsonc_configs() {
    let (code, out, err) = audit_file("vscode.jsonc", true);
    assert_eq!(code, 2, "{err}");
    let report: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(report["servers"], 2);
    let rules = rules_by_server(&report);
    assert_eq!(rules["pwsh-encoded"], ["inline-code"]);
    assert!(!rules.contains_key("pinned"), "{rules:?}");
}

#[test]
fn audit_invalid_json_names_the_file_and_position() {
    let (code, out, err) = audit_file("invalid.json", false);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("invalid.json"), "{err}");
    assert!(err.contains("line 5, column 7"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn audit_missing_file_is_an_error() {
    let missing = fixture("does-not-exist.json");
    let (code, _, err) = audit(&[missing.to_str().expect("UTF-8")], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("does-not-exist.json"), "{err}");
}

/// Where the binary looks for Claude Desktop's config, given a fake home.
fn default_location(home: &Path) -> (Vec<(&'static str, &Path)>, PathBuf) {
    let file = Path::new("Claude").join("claude_desktop_config.json");
    if cfg!(windows) {
        (vec![("APPDATA", home)], home.join(file))
    } else if cfg!(target_os = "macos") {
        (
            vec![("HOME", home)],
            home.join("Library/Application Support").join(file),
        )
    } else {
        (
            vec![("HOME", home), ("XDG_CONFIG_HOME", home)],
            home.join(file),
        )
    }
}

#[test]
fn audit_default_config_location() {
    let home = tempfile::tempdir().expect("temp dir");
    let (env, path) = default_location(home.path());

    let (code, _, err) = audit(&[], &env);
    assert_eq!(code, 1);
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("ffmcp audit PATH"), "{err}");

    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::copy(fixture("clean.json"), &path).expect("copy config");
    let (code, out, err) = audit(&["--json"], &env);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(report["config"], path.display().to_string());
}

#[test]
fn audit_help_describes_the_command() {
    let (code, out, _) = audit(&["--help"], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("Report risky entries"), "{out}");
    assert!(out.contains("--json"), "{out}");
}

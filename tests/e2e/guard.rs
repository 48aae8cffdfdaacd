//! `ffmcp guard`: relays a confined stdio server to a real MCP client,
//! keeps non-protocol output off stdout, and refuses what the policy does
//! not allow — before anything runs.

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
};

use rmcp::{ServiceExt, transport::TokioChildProcess};
use serde_json::{Value, json};

use super::support::{TIMEOUT, bin, call};

const PYTHON: &str = "/usr/bin/python3";

fn write_policy(dir: &Path, toml: &str) -> std::path::PathBuf {
    let path = dir.join("policy.toml");
    std::fs::write(&path, toml).expect("policy");
    path
}

fn guard(policy: &Path, command: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("guard")
        .arg("--policy")
        .arg(policy)
        .arg("--")
        .args(command)
        .env("FF_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[tokio::test]
async fn relays_a_confined_server_to_an_mcp_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = write_policy(
        dir.path(),
        &format!("programs = [{:?}]\nargs = [\"transform\"]\n", bin()),
    );
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("guard")
        .arg("--policy")
        .arg(&policy)
        .arg("--")
        .arg(bin())
        .arg("transform")
        .env("FF_LOG", "warn");
    let transport = TokioChildProcess::new(cmd).expect("spawn guard");
    let client = tokio::time::timeout(TIMEOUT, ().serve(transport))
        .await
        .expect("handshake in time")
        .expect("handshake through the guard");
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("ffmcp-transform")
    );
    let result = call(&client, "text_stats", json!({ "text": "one two three" })).await;
    let stats = result.structured_content.expect("structured");
    assert_eq!(stats["words"], 3, "{stats}");
    client.cancel().await.expect("close");
}

#[test]
fn drops_non_json_output_and_confines_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let server_dir = root.join("server");
    std::fs::create_dir(&server_dir).expect("mkdir");
    let sentinel = root.join("SENTINEL");
    let script = server_dir.join("server.py");
    std::fs::write(
        &script,
        format!(
            r#"import json, sys
print("Starting my server v1.0 ...", flush=True)
try:
    open({sentinel:?}, "w").write("x"); wrote = True
except Exception:
    wrote = False
sys.stdin.readline()
print(json.dumps({{"jsonrpc": "2.0", "id": 1, "result": {{"wrote_outside": wrote}}}}), flush=True)
print("debug: done", flush=True)
"#,
            sentinel = sentinel.display().to_string()
        ),
    )
    .expect("script");
    let policy = write_policy(
        &root,
        &format!(
            "programs = [{PYTHON:?}]\nargs = [\"-I\", {script:?}]\nread = [{dir:?}]\n",
            script = script.display().to_string(),
            dir = server_dir.display().to_string()
        ),
    );
    let mut child = guard(&policy, &[PYTHON, "-I", script.to_str().expect("utf8")])
        .spawn()
        .expect("guard");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n")
        .expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect("guard ends");
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "only the JSON line reaches stdout: {stdout:?}"
    );
    let message: Value = serde_json::from_str(lines[0]).expect("json");
    assert!(
        stderr.contains("dropped a non-JSON line") && stderr.contains("Starting my server"),
        "stderr: {stderr}"
    );
    // The policy grants no write outside the server's temp dir.
    let doctor = Command::new(bin())
        .args(["doctor", "--json"])
        .output()
        .expect("doctor");
    let doctor: Value = serde_json::from_slice(&doctor.stdout).expect("doctor json");
    if doctor["sandbox"]["applied"]["landlock_full"] == true {
        assert_eq!(message["result"]["wrote_outside"], false, "{message}");
        assert!(!sentinel.exists());
    }
}

#[test]
fn refuses_programs_and_arguments_outside_the_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let sentinel = root.join("SENTINEL");
    let script = root.join("server.py");
    std::fs::write(&script, "print('{}')\n").expect("script");
    let policy = write_policy(
        &root,
        &format!(
            "programs = [{PYTHON:?}]\nargs = [\"-I\", {script:?}]\n",
            script = script.display().to_string()
        ),
    );
    let touch = format!("touch {}", sentinel.display());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["/bin/sh", "-c", &touch],
            "not in the policy's `programs`",
        ),
        (vec!["sh", "-c", &touch], "not in the policy's `programs`"),
        (
            vec![PYTHON, "-c", "open('SENTINEL','w')"],
            "matches no pattern",
        ),
        (
            vec![PYTHON, "-I", script.to_str().expect("utf8"), "--extra"],
            "argument 3",
        ),
    ];
    for (command, expected) in cases {
        let out = guard(&policy, &command)
            .stdin(Stdio::null())
            .output()
            .expect("guard");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command:?} ran");
        assert!(stderr.contains(expected), "{command:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{command:?} wrote to stdout");
    }
    assert!(!sentinel.exists(), "a refused command ran");

    let bad = write_policy(&root, "programs = [\"node\"]\nenv = [\"LD_PRELOAD\"]\n");
    let out = guard(&bad, &["node"])
        .stdin(Stdio::null())
        .output()
        .expect("guard");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("LD_PRELOAD"));
}

#[test]
fn loader_hooks_in_the_callers_environment_never_reach_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let script = root.join("env.py");
    std::fs::write(
        &script,
        "import json, os\nprint(json.dumps(sorted(os.environ)))\n",
    )
    .expect("script");
    let policy = write_policy(
        &root,
        &format!(
            "programs = [{PYTHON:?}]\nargs = [\"-I\", {script:?}]\nread = [{root:?}]\nenv = [\"SAFE_SETTING\"]\n",
            script = script.display().to_string(),
            root = root.display().to_string()
        ),
    );
    let out = guard(&policy, &[PYTHON, "-I", script.to_str().expect("utf8")])
        .env("LD_PRELOAD", "/nonexistent/libevil.so")
        .env("LD_LIBRARY_PATH", "/tmp/evil")
        .env("PYTHONPATH", "/tmp/evil")
        .env("SECRET_TOKEN", "do-not-leak")
        .env("SAFE_SETTING", "passed")
        .stdin(Stdio::null())
        .output()
        .expect("guard");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: Vec<String> = serde_json::from_slice(&out.stdout).expect("json keys");
    for banned in [
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "PYTHONPATH",
        "SECRET_TOKEN",
    ] {
        assert!(
            !keys.iter().any(|k| k == banned),
            "{banned} leaked: {keys:?}"
        );
    }
    assert!(keys.iter().any(|k| k == "SAFE_SETTING"), "{keys:?}");
}

//! `ffmcp guard`: relays a confined stdio server to a real MCP client,
//! keeps non-protocol output off stdout, and refuses what the policy does
//! not allow — before anything runs.

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
};

use serde_json::{Value, json};

use super::support::{bin, call};

use super::support::PYTHON;

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
    if !super::support::python_available("relays_a_confined_server_to_an_mcp_client") {
        return;
    }
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
    let client = ffmcp_test_support::client::connect_stdio(cmd).await;
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
    if !super::support::python_available("drops_non_json_output_and_confines_the_server") {
        return;
    }
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
    if !super::support::python_available("refuses_programs_and_arguments_outside_the_policy") {
        return;
    }
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
    if !super::support::python_available(
        "loader_hooks_in_the_callers_environment_never_reach_the_server",
    ) {
        return;
    }
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

/// Runs the guard with `policy` and `command`, stdin closed.
fn guard_output(policy: &Path, command: &[&str], strict: bool) -> std::process::Output {
    let mut cmd = guard(policy, command);
    if strict {
        cmd.env("FF_STRICT", "1");
    }
    cmd.stdin(Stdio::null()).output().expect("guard")
}

/// The server's one JSON line, when it ran.
fn reply(out: &std::process::Output) -> Option<Value> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .next()
        .map(|l| serde_json::from_str(l).expect("json line"))
}

fn doctor_sandbox() -> Value {
    let out = Command::new(bin())
        .args(["doctor", "--json"])
        .output()
        .expect("doctor");
    let doctor: Value = serde_json::from_slice(&out.stdout).expect("doctor json");
    doctor["sandbox"].clone()
}

#[test]
fn policy_globs_do_not_cross_slashes_or_climb_out() {
    if !super::support::python_available("policy_globs_do_not_cross_slashes_or_climb_out") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let notes = root.join("notes");
    std::fs::create_dir(&notes).expect("mkdir");
    let script = root.join("argv.py");
    std::fs::write(
        &script,
        "import json, sys\nprint(json.dumps({'jsonrpc': '2.0', 'id': 1, 'result': sys.argv[1:]}))\n",
    )
    .expect("script");
    let script = script.to_str().expect("utf8");
    let root_s = root.display().to_string();
    let policy = write_policy(
        &root,
        &format!(
            "programs = [{PYTHON:?}]\nargs = [\"-I\", {script:?}, \"{root_s}/notes/*\"]\nread = [{root_s:?}]\n"
        ),
    );
    for hostile in [
        format!("{root_s}/notes/../.ssh/id_rsa"),
        format!("{root_s}/notes/./../.ssh/id_rsa"),
        format!("{root_s}/notes//../../etc/passwd"),
        format!("{root_s}/notes/x/../../policy.toml"),
        format!("{root_s}/notes/sub/deeper.txt"),
        format!("{root_s}/notes/../notes/../.ssh"),
    ] {
        let out = guard_output(&policy, &[PYTHON, "-I", script, &hostile], false);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{hostile} ran");
        assert!(
            stderr.contains("argument 3") && stderr.contains("matches no pattern"),
            "{hostile}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{hostile}: the server started");
    }
    // Allowed: a file directly in notes/, and a spelling of one that the
    // server receives normalised (what was checked is what runs).
    for (arg, received) in [
        (
            format!("{root_s}/notes/a.txt"),
            format!("{root_s}/notes/a.txt"),
        ),
        (
            format!("{root_s}/notes/sub/../b.txt"),
            format!("{root_s}/notes/b.txt"),
        ),
    ] {
        let out = guard_output(&policy, &[PYTHON, "-I", script, &arg], false);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let message = reply(&out).expect("the server ran");
        assert_eq!(message["result"], json!([received]), "{message}");
    }
}

#[test]
fn a_guarded_server_reaches_no_local_socket_parent_signal_or_inherited_descriptor() {
    if !super::support::python_available(
        "a_guarded_server_reaches_no_local_socket_parent_signal_or_inherited_descriptor",
    ) {
        return;
    }
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let sock = root.join("docker.sock");
    let pathname = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
    pathname.set_nonblocking(true).expect("nonblocking");
    let name = format!("ffmcp-guard-test-{}", std::process::id());
    let abstract_listener = {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).expect("name");
        std::os::unix::net::UnixListener::bind_addr(&addr).expect("bind abstract")
    };
    abstract_listener
        .set_nonblocking(true)
        .expect("nonblocking");
    let secret_path = root.join("secret");
    std::fs::write(&secret_path, "TOP-SECRET-FD").expect("secret");
    // As `exec 7</secret` before `ffmcp guard`: open, not close-on-exec.
    let secret = std::fs::File::open(&secret_path).expect("open");
    rustix::io::fcntl_setfd(&secret, rustix::io::FdFlags::empty()).expect("clear CLOEXEC");
    let fd = secret.as_raw_fd();
    let server_dir = root.join("server");
    std::fs::create_dir(&server_dir).expect("mkdir");
    let script = server_dir.join("server.py");
    std::fs::write(
        &script,
        format!(
            r#"import json, os, signal, socket, time
r = {{}}
def attempt(name, fn):
    try:
        fn(); r[name] = "allowed"
    except Exception as e:
        r[name] = type(e).__name__
unix = lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
attempt("pathname", lambda: unix().connect({sock:?}))
attempt("abstract", lambda: unix().connect("\0" + {name:?}))
attempt("vsock", lambda: socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM))
attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
attempt("fd", lambda: os.read({fd}, 100))
attempt("parent", lambda: os.kill(os.getppid(), signal.SIGTERM))
attempt("pair", lambda: socket.socketpair())
time.sleep(0.3)
print(json.dumps({{"jsonrpc": "2.0", "id": 1, "result": r}}), flush=True)
"#,
            sock = sock.display().to_string(),
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
    let out = guard_output(
        &policy,
        &[PYTHON, "-I", script.to_str().expect("utf8")],
        false,
    );
    drop(secret);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The guard (the server's parent) survived its SIGTERM and relayed.
    assert!(out.status.success(), "{:?} {stderr}", out.status);
    let r = reply(&out).expect("the guard relayed the reply")["result"].clone();
    let sandbox = doctor_sandbox();
    assert_ne!(r["fd"], "allowed", "{r}");
    assert_eq!(r["fd"], "OSError", "{r}");
    if sandbox["applied"]["seccomp_active"] == true {
        for attempt in ["pathname", "abstract", "vsock", "netlink"] {
            assert_eq!(r[attempt], "PermissionError", "{attempt}: {r}");
        }
        // Anonymous pairs stay available to asyncio servers.
        assert_eq!(r["pair"], "allowed", "{r}");
    }
    if sandbox["applied"]["signals_confined"] == true {
        assert_eq!(r["parent"], "PermissionError", "{r}");
    }
    for (what, listener) in [("pathname", &pathname), ("abstract", &abstract_listener)] {
        assert!(
            matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "the {what} listener saw a connection"
        );
    }
}

#[test]
fn unix_sockets_named_in_the_policy_are_the_only_ones_allowed() {
    if !super::support::python_available(
        "unix_sockets_named_in_the_policy_are_the_only_ones_allowed",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let listen = |name: &str| {
        let path = root.join(name);
        let l = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        l.set_nonblocking(true).expect("nonblocking");
        (path, l)
    };
    let (allowed, allowed_l) = listen("allowed.sock");
    let (forbidden, forbidden_l) = listen("forbidden.sock");
    let name = format!("ffmcp-guard-unix-{}", std::process::id());
    let abstract_l = {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).expect("name");
        std::os::unix::net::UnixListener::bind_addr(&addr).expect("bind abstract")
    };
    abstract_l.set_nonblocking(true).expect("nonblocking");
    let arrived = |l: &std::os::unix::net::UnixListener| l.accept().is_ok();
    let server_dir = root.join("server");
    std::fs::create_dir(&server_dir).expect("mkdir");
    let script = server_dir.join("server.py");
    std::fs::write(
        &script,
        format!(
            r#"import json, socket
r = {{}}
def attempt(name, target):
    try:
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(target); r[name] = "allowed"
    except Exception as e:
        r[name] = type(e).__name__
attempt("allowed", {allowed:?})
attempt("forbidden", {forbidden:?})
attempt("abstract", "\0" + {name:?})
print(json.dumps({{"jsonrpc": "2.0", "id": 1, "result": r}}), flush=True)
"#,
            allowed = allowed.display().to_string(),
            forbidden = forbidden.display().to_string(),
        ),
    )
    .expect("script");
    let script = script.to_str().expect("utf8");
    let policy = write_policy(
        &root,
        &format!(
            "programs = [{PYTHON:?}]\nargs = [\"-I\", {script:?}]\nread = [{dir:?}]\nunix_sockets = [{allowed:?}]\n",
            dir = server_dir.display().to_string(),
            allowed = allowed.display().to_string(),
        ),
    );
    let sandbox = doctor_sandbox();
    // Strict: runs only where Landlock can hold connects to the named path
    // (ABI 9); elsewhere it refuses, naming the gap, before the server runs.
    let strict = guard_output(&policy, &[PYTHON, "-I", script], true);
    let resolve_unix = strict.status.success();
    if resolve_unix {
        let r = reply(&strict).expect("ran")["result"].clone();
        assert_eq!(r["allowed"], "allowed", "{r}");
        assert_eq!(r["forbidden"], "PermissionError", "{r}");
        assert_eq!(r["abstract"], "PermissionError", "{r}");
        assert!(arrived(&allowed_l));
        assert!(!arrived(&forbidden_l), "the forbidden socket was reached");
        assert!(!arrived(&abstract_l), "the abstract socket was reached");
    } else {
        let stderr = String::from_utf8_lossy(&strict.stderr);
        assert!(
            stderr.contains("strict mode") && stderr.contains("RESOLVE_UNIX"),
            "{stderr}"
        );
        assert!(strict.stdout.is_empty(), "the server ran under --strict");
        assert!(!arrived(&allowed_l) && !arrived(&forbidden_l) && !arrived(&abstract_l));
    }
    // Without strict: the named socket works, abstract sockets stay scoped.
    let out = guard_output(&policy, &[PYTHON, "-I", script], false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = reply(&out).expect("ran")["result"].clone();
    assert_eq!(r["allowed"], "allowed", "{r}");
    assert!(arrived(&allowed_l), "the named socket was not reached");
    if sandbox["applied"]["landlock_scopes"] == true {
        assert_eq!(r["abstract"], "PermissionError", "{r}");
        assert!(!arrived(&abstract_l), "the abstract socket was reached");
    }
    if resolve_unix {
        assert!(!arrived(&forbidden_l), "the forbidden socket was reached");
    }
}

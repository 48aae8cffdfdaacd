//! Escapes a confined program tries through the kernel rather than the
//! filesystem: local sockets (a real pathname and an abstract listener the
//! test starts), other socket families, signals to processes outside the
//! sandbox, descriptors inherited from the parent. Each runs with Landlock as
//! the kernel offers it and, where it matters, as an ABI 5 kernel would, so
//! the seccomp fallbacks are proven too. `ffmcp doctor` must report each.

use std::{path::Path, process::Command};

use ffmcp_core::exec::{ExecError, Sandbox};
use serde_json::Value;

use super::super::support::bin;
use super::{Fixture, PYTHON, python, quick, unique};

/// A listener the confined child must not reach; `arrived` is checked after.
struct Listener(std::os::unix::net::UnixListener);

impl Listener {
    fn path(path: &Path) -> Self {
        let l = std::os::unix::net::UnixListener::bind(path).expect("bind pathname socket");
        l.set_nonblocking(true).expect("nonblocking");
        Self(l)
    }

    fn abstract_name(name: &str) -> Self {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name).expect("name");
        let l = std::os::unix::net::UnixListener::bind_addr(&addr).expect("bind abstract");
        l.set_nonblocking(true).expect("nonblocking");
        Self(l)
    }

    /// Whether any connection reached the listener.
    fn arrived(&self) -> bool {
        match self.0.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Python that tries each of `attempts` and prints {name: "allowed" | error}.
fn attempts_script(attempts: &[(&str, String)]) -> String {
    let mut code = String::from(
        "import json, os, signal, socket, sys\nr = {}\ndef attempt(name, fn):\n    try:\n        fn(); r[name] = 'allowed'\n    except Exception as e:\n        r[name] = type(e).__name__\n",
    );
    for (name, lambda) in attempts {
        code.push_str(&format!("attempt({name:?}, lambda: {lambda})\n"));
    }
    code.push_str("print(json.dumps(r))\n");
    code
}

async fn run_attempts(fx: &Fixture, sandbox: &Sandbox, name: &str, code: &str) -> Value {
    let out = fx
        .run_python_with(sandbox, name, code, |call| call)
        .await
        .expect("runs");
    assert!(out.success(), "stderr: {}", out.stderr);
    serde_json::from_slice(&out.stdout).expect("json")
}

#[tokio::test]
async fn local_sockets_and_other_socket_families_are_out_of_reach() {
    if !super::super::support::python_available(
        "local_sockets_and_other_socket_families_are_out_of_reach",
    ) {
        return;
    }
    let fx = Fixture::new();
    let sock = fx.root().join("docker.sock");
    let pathname = Listener::path(&sock);
    let name = unique("abstract");
    let abstract_listener = Listener::abstract_name(&name);
    let unix = "socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)";
    let attempts = [
        (
            "pathname",
            format!("{unix}.connect({:?})", sock.display().to_string()),
        ),
        ("abstract", format!("{unix}.connect('\\0' + {name:?})")),
        ("unix_socket", unix.to_owned()),
        (
            "vsock",
            "socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)".to_owned(),
        ),
        (
            "netlink",
            "socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)".to_owned(),
        ),
        (
            "packet",
            "socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)".to_owned(),
        ),
        (
            "inet6",
            "socket.socket(socket.AF_INET6, socket.SOCK_STREAM)".to_owned(),
        ),
        ("socketpair", "socket.socketpair()".to_owned()),
    ];
    let code = attempts_script(&attempts);
    // Landlock as the kernel offers it, then as an ABI 5 kernel would
    // (no scopes): seccomp's family allowlist must hold either way.
    for (label, sandbox) in [
        ("native", Sandbox::new(bin())),
        ("abi5", Sandbox::new(bin()).max_landlock_abi(5)),
    ] {
        let probe = sandbox.probe().await.expect("probe");
        let r = run_attempts(&fx, &sandbox, &format!("sockets-{label}.py"), &code).await;
        if probe.applied.seccomp_active {
            for (attempt, _) in &attempts {
                assert_eq!(r[attempt], "PermissionError", "{label} {attempt}: {r}");
            }
            assert!(
                probe.unix_socket_blocked && probe.abstract_socket_blocked,
                "{probe:?}"
            );
            assert!(probe.vsock_blocked && probe.netlink_blocked, "{probe:?}");
        }
        if probe.applied.local_sockets_confined {
            assert!(
                !pathname.arrived(),
                "{label}: the pathname listener was reached"
            );
            assert!(
                !abstract_listener.arrived(),
                "{label}: the abstract listener was reached"
            );
        }
    }
}

#[tokio::test]
async fn signals_cannot_reach_processes_outside_the_sandbox() {
    if !super::super::support::python_available(
        "signals_cannot_reach_processes_outside_the_sandbox",
    ) {
        return;
    }
    let fx = Fixture::new();
    let mut victim = std::process::Command::new("/bin/sleep")
        .arg("300")
        .spawn()
        .expect("victim");
    let pid = victim.id();
    let attempts = [
        ("parent_probe", "os.kill(os.getppid(), 0)".to_owned()),
        ("victim_probe", format!("os.kill({pid}, 0)")),
        ("victim_term", format!("os.kill({pid}, signal.SIGTERM)")),
        ("victim_kill", format!("os.kill({pid}, signal.SIGKILL)")),
        (
            "victim_pidfd",
            format!("signal.pidfd_send_signal(os.pidfd_open({pid}), signal.SIGKILL)"),
        ),
        ("self", "os.kill(os.getpid(), 0)".to_owned()),
    ];
    let code = attempts_script(&attempts);
    for (label, sandbox) in [
        ("native", Sandbox::new(bin())),
        // No Landlock signal scope: the seccomp fallback must hold.
        ("abi5", Sandbox::new(bin()).max_landlock_abi(5)),
    ] {
        let probe = sandbox.probe().await.expect("probe");
        let r = run_attempts(&fx, &sandbox, &format!("signals-{label}.py"), &code).await;
        assert_eq!(
            victim.try_wait().expect("victim status"),
            None,
            "{label}: the victim outside the sandbox was killed: {r}"
        );
        if probe.applied.signals_confined {
            for (attempt, _) in &attempts[..attempts.len() - 1] {
                assert_eq!(r[attempt], "PermissionError", "{label} {attempt}: {r}");
            }
            assert!(probe.signal_parent_blocked, "{probe:?}");
        }
        assert_eq!(r["self"], "allowed", "{label}: {r}");
    }
    let _ = victim.kill();
    let _ = victim.wait();
}

#[tokio::test]
async fn inherited_descriptors_never_reach_the_program() {
    if !super::super::support::python_available("inherited_descriptors_never_reach_the_program") {
        return;
    }
    use std::os::fd::AsRawFd;
    let fx = Fixture::new();
    let secret_path = fx.root().join("secret");
    std::fs::write(&secret_path, "TOP-SECRET-FD").expect("secret");
    // As `exec 7</secret` before starting ffmcp: open, not close-on-exec.
    let secret = std::fs::File::open(&secret_path).expect("open");
    rustix::io::fcntl_setfd(&secret, rustix::io::FdFlags::empty()).expect("clear CLOEXEC");
    let fd = secret.as_raw_fd();
    let code = format!(
        "import os, sys\ntry:\n    sys.stdout.write(os.read({fd}, 100).decode())\nexcept OSError as e:\n    sys.stdout.write(type(e).__name__)\n"
    );
    // Control: without the sandbox the descriptor really is inherited.
    let leaked = std::process::Command::new(PYTHON)
        .args(["-I", "-c", &code])
        .output()
        .expect("python");
    assert_eq!(String::from_utf8_lossy(&leaked.stdout), "TOP-SECRET-FD");
    let out = fx.run_python("fd.py", &code).await;
    drop(secret);
    assert!(out.success(), "stderr: {}", out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OSError", "{out:?}");
    let probe = fx.sandbox.probe().await.expect("probe");
    assert!(
        probe.applied.inherited_fds_closed && probe.inherited_fd_blocked,
        "{probe:?}"
    );
}

#[tokio::test]
async fn strict_mode_refuses_to_run_when_a_protection_is_missing() {
    if !super::super::support::python_available(
        "strict_mode_refuses_to_run_when_a_protection_is_missing",
    ) {
        return;
    }
    let fx = Fixture::new();
    let programs = python(quick());
    let py = programs.get(PYTHON).expect("python");
    let script = fx.script("ran.py", "print('ran')\n");
    let call = || {
        py.invoke()
            .flag("-I")
            .expect("valid argument")
            .input(&script)
            .expect("valid argument")
    };
    // As on a kernel without Landlock scopes (ABI 5): strict refuses…
    let strict = Sandbox::new(bin()).max_landlock_abi(5).strict(true);
    let err = strict.run(call()).await.expect_err("refused");
    assert!(matches!(err, ExecError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("Landlock"), "{err}");
    // …where the same call runs without strict mode.
    let lenient = Sandbox::new(bin()).max_landlock_abi(5);
    let out = lenient.run(call()).await.expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ran");
}

#[test]
#[allow(clippy::print_stderr)] // the visible notice on a kernel without the layers
fn doctor_tries_each_escape_and_reports_it_blocked() {
    if !super::super::support::python_available("doctor_tries_each_escape_and_reports_it_blocked") {
        return;
    }
    let out = Command::new(bin())
        .args(["doctor", "--json"])
        .output()
        .expect("doctor");
    let doctor: Value = serde_json::from_slice(&out.stdout).expect("doctor json");
    let checks: Vec<(String, String)> = doctor["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["check"].as_str().expect("name").to_owned(),
                c["result"].as_str().expect("result").to_owned(),
            )
        })
        .collect();
    for expected in [
        "connect to a pathname unix socket",
        "connect to an abstract unix socket",
        "AF_VSOCK socket",
        "AF_NETLINK socket",
        "kill(getppid(), 0)",
        "read an inherited descriptor",
    ] {
        assert!(
            checks.iter().any(|(name, _)| name == expected),
            "doctor does not try {expected}: {checks:?}"
        );
    }
    let applied = &doctor["sandbox"]["applied"];
    let strict = Command::new(bin())
        .args(["doctor", "--json", "--strict"])
        .output()
        .expect("doctor --strict");
    if applied["seccomp_active"] == true && applied["landlock_full"] == true {
        for (name, result) in &checks {
            assert_eq!(result, "blocked", "{name}");
        }
        assert_eq!(applied["inherited_fds_closed"], true, "{applied}");
        assert_eq!(doctor["all_active"], true);
        assert!(strict.status.success());
    } else {
        eprintln!(
            "doctor: this kernel lacks Landlock ABI 6 or seccomp; checking that --strict fails"
        );
        assert_eq!(doctor["all_active"], false);
        assert!(!strict.status.success());
    }
}

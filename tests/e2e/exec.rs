//! core::exec through the real sandbox helper (this build's ffmcp binary).
//! Hostile children are small Python scripts run by Debian's python3, an
//! allowlisted program for these tests only. Every attack asserts the
//! refusal or the limit AND the absence of its side effect.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use ffmcp_core::{
    exec::{
        ExecError, ExecLimits, Invocation, Output, ProgramSpec, Programs, ResourceLimits, Sandbox,
    },
    roots::Roots,
};
use serde_json::Value;

mod escapes;

use super::support::PYTHON;

struct Fixture {
    dir: tempfile::TempDir,
    roots: Roots,
    sandbox: Sandbox,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let roots = Roots::new([dir.path()]).expect("roots");
        Self {
            dir,
            roots,
            sandbox: Sandbox::new(super::support::bin()),
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().expect("canonical")
    }

    fn script(&self, name: &str, code: &str) -> ffmcp_core::roots::AllowedPath {
        let path = self.root().join(name);
        std::fs::write(&path, code).expect("write script");
        self.roots
            .check_read(path.to_str().expect("utf8"))
            .expect("script under the root")
    }

    /// Writes `code` as `name` under the root and runs `python3 -I` on it
    /// in this fixture's sandbox.
    async fn run_python(&self, name: &str, code: &str) -> Output {
        self.run_python_with(&self.sandbox, name, code, |call| call)
            .await
            .expect("runs")
    }

    /// [`Self::run_python`] in `sandbox`, with `more` added to the call
    /// (outputs, in-memory inputs).
    async fn run_python_with(
        &self,
        sandbox: &Sandbox,
        name: &str,
        code: &str,
        more: impl FnOnce(Invocation<'_>) -> Invocation<'_>,
    ) -> Result<Output, ExecError> {
        let programs = python(quick());
        let py = programs.get(PYTHON).expect("python");
        let script = self.script(name, code);
        let call = py
            .invoke()
            .flag("-I")
            .expect("valid argument")
            .input(&script)
            .expect("valid argument");
        sandbox.run(more(call)).await
    }
}

fn python(limits: ExecLimits) -> Programs {
    let programs = Programs::discover([ProgramSpec::new(PYTHON)
        .flags(["-I", "-S"])
        .options(["-X"])
        .limits(limits)]);
    programs.get(PYTHON).expect("Debian's python3 is installed");
    programs
}

fn quick() -> ExecLimits {
    ExecLimits {
        wall: Duration::from_secs(20),
        ..ExecLimits::default()
    }
}

/// Live processes whose command line contains `marker`.
fn processes_with(marker: &str) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|cmd| String::from_utf8_lossy(cmd).contains(marker))
        .count()
}

fn unique(tag: &str) -> String {
    format!(
        "ffmcp-test-{tag}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    )
}

const ARGV_DUMP: &str = "import json, sys\nprint(json.dumps(sys.argv[1:]))\n";

#[tokio::test]
async fn literals_reach_the_program_verbatim_after_double_dash() {
    if !super::support::python_available("literals_reach_the_program_verbatim_after_double_dash") {
        return;
    }
    let fx = Fixture::new();
    let programs = python(quick());
    let py = programs.get(PYTHON).expect("python");
    let script = fx.script("argv.py", ARGV_DUMP);
    let sentinel = fx.root().join("SENTINEL");
    let s = sentinel.display();
    let hostile = [
        format!("; touch {s}"),
        format!("| touch {s}"),
        format!("&& touch {s}"),
        format!("$(touch {s})"),
        format!("`touch {s}`"),
        format!("x\ntouch {s}"),
        "-o/etc/x".to_owned(),
        "--output=/tmp/x".to_owned(),
        "-".to_owned(),
    ];
    let mut call = py
        .invoke()
        .flag("-I")
        .expect("valid argument")
        .flag("-S")
        .expect("valid argument")
        .input(&script)
        .expect("valid argument");
    for h in &hostile {
        call = call.literal(h).expect("a literal is always accepted");
    }
    let out = fx.sandbox.run(call).await.expect("runs");
    assert!(out.success(), "stderr: {}", out.stderr);
    let argv: Vec<String> = serde_json::from_slice(&out.stdout).expect("json argv");
    assert_eq!(argv[0], "--", "literals follow --");
    assert_eq!(&argv[1..], &hostile[..]);
    assert!(!sentinel.exists(), "a shell interpreted an argument");
}

#[tokio::test]
async fn option_injection_and_malformed_arguments_are_refused_before_running() {
    if !super::support::python_available(
        "option_injection_and_malformed_arguments_are_refused_before_running",
    ) {
        return;
    }
    let programs = python(quick());
    let py = programs.get(PYTHON).expect("python");
    let err = py.invoke().flag("-o/etc/x").expect_err("unknown flag");
    assert!(matches!(err, ExecError::UnknownFlag { .. }), "{err}");
    assert!(err.to_string().contains("-o/etc/x"));
    let err = py.invoke().flag("-c").expect_err("-c is not allowed");
    assert!(matches!(err, ExecError::UnknownFlag { .. }), "{err}");
    let err = py
        .invoke()
        .option("-X", "-o/etc/x")
        .expect_err("option-like value");
    assert!(matches!(err, ExecError::OptionLike { .. }), "{err}");
    let err = py
        .invoke()
        .option("-X", "--output=/etc/x")
        .expect_err("option-like value");
    assert!(matches!(err, ExecError::OptionLike { .. }), "{err}");
    let err = py
        .invoke()
        .literal("x")
        .and_then(|c| c.flag("-I"))
        .expect_err("flag after a literal");
    assert!(err.to_string().contains("cannot follow a literal"), "{err}");
    let err = py.invoke().literal("a\0b").expect_err("NUL");
    assert!(err.to_string().contains("NUL"), "{err}");
    let err = py
        .invoke()
        .literal(&"x".repeat(ffmcp_core::exec::MAX_ARG_BYTES + 1))
        .expect_err("oversized");
    assert!(err.to_string().contains("limit"), "{err}");
    let err = py.invoke().output("../escape").expect_err("output name");
    assert!(err.to_string().contains("plain file name"), "{err}");
    let err = py.invoke().token("-").expect_err("token not in spec");
    assert!(matches!(err, ExecError::UnknownFlag { .. }), "{err}");
    // A spec can never pass loader hooks through.
    let programs = Programs::discover([ProgramSpec::new(PYTHON).env(["LD_PRELOAD"])]);
    let err = programs.get(PYTHON).expect_err("refused spec");
    assert!(err.to_string().contains("LD_PRELOAD"), "{err}");
    let err = Programs::discover([ProgramSpec::new("no-such-program-ffmcp")])
        .get("no-such-program-ffmcp")
        .expect_err("missing");
    assert!(err.to_string().contains("not installed"), "{err}");
}

#[tokio::test]
async fn the_child_sees_only_the_scrubbed_environment() {
    if !super::support::python_available("the_child_sees_only_the_scrubbed_environment") {
        return;
    }
    let fx = Fixture::new();
    let out = fx
        .run_python(
            "env.py",
            "import json, os\nprint(json.dumps(dict(os.environ)))\n",
        )
        .await;
    assert!(out.success(), "stderr: {}", out.stderr);
    let env: serde_json::Map<String, Value> = serde_json::from_slice(&out.stdout).expect("json");
    let mut keys: Vec<&str> = env.keys().map(String::as_str).collect();
    keys.sort_unstable();
    // LC_CTYPE may be added by Python itself for the C locale.
    keys.retain(|k| *k != "LC_CTYPE");
    assert_eq!(keys, ["HOME", "LANG", "PATH", "TMPDIR"], "env: {env:?}");
    assert!(std::env::var("CARGO_MANIFEST_DIR").is_ok() || std::env::var("PATH").is_ok());
}

#[tokio::test]
async fn endless_forking_is_stopped() {
    if !super::support::python_available("endless_forking_is_stopped") {
        return;
    }
    let fx = Fixture::new();
    let programs = python(quick());
    let py = programs.get(PYTHON).expect("python");
    let marker = unique("fork");
    let script = fx.script(
        "fork.py",
        "import os, sys\nn = 0\nwhile n < 100000:\n    os.fork()\n    n += 1\n",
    );
    let started = Instant::now();
    let result = fx
        .sandbox
        .run(
            py.invoke()
                .flag("-I")
                .expect("valid argument")
                .input(&script)
                .expect("valid argument")
                .literal(&marker)
                .expect("valid argument"),
        )
        .await;
    let probe = fx.sandbox.probe().await.expect("probe");
    match result {
        Ok(out) => {
            assert!(!out.success(), "the fork bomb succeeded");
            if probe.applied.seccomp_active {
                assert!(
                    out.stderr.contains("PermissionError") || out.stderr.contains("not permitted"),
                    "stderr: {}",
                    out.stderr
                );
            }
        }
        Err(e) => assert!(matches!(e, ExecError::Timeout { .. }), "{e}"),
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        processes_with(&marker),
        0,
        "forked children outlived the run"
    );
}

#[tokio::test]
async fn unbounded_allocation_hits_the_address_space_limit() {
    if !super::support::python_available("unbounded_allocation_hits_the_address_space_limit") {
        return;
    }
    let fx = Fixture::new();
    let programs = python(ExecLimits {
        resources: ResourceLimits {
            address_space_bytes: 512 << 20,
            ..ExecLimits::default().resources
        },
        ..quick()
    });
    let py = programs.get(PYTHON).expect("python");
    let script = fx.script(
        "alloc.py",
        "blocks = []\nwhile True:\n    blocks.append(bytearray(64 << 20))\n",
    );
    let out = fx
        .sandbox
        .run(
            py.invoke()
                .flag("-I")
                .expect("valid argument")
                .input(&script)
                .expect("valid argument"),
        )
        .await
        .expect("ends");
    assert!(!out.success());
    assert!(out.stderr.contains("MemoryError"), "stderr: {}", out.stderr);
}

#[tokio::test]
async fn a_child_that_never_exits_is_killed_at_the_wall_limit() {
    if !super::support::python_available("a_child_that_never_exits_is_killed_at_the_wall_limit") {
        return;
    }
    let fx = Fixture::new();
    let programs = python(ExecLimits {
        wall: Duration::from_millis(1500),
        ..ExecLimits::default()
    });
    let py = programs.get(PYTHON).expect("python");
    let marker = unique("sleep");
    let script = fx.script("sleep.py", "import time\ntime.sleep(1000)\n");
    let started = Instant::now();
    let err = fx
        .sandbox
        .run(
            py.invoke()
                .flag("-I")
                .expect("valid argument")
                .input(&script)
                .expect("valid argument")
                .literal(&marker)
                .expect("valid argument"),
        )
        .await
        .expect_err("timeout");
    assert!(matches!(err, ExecError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(processes_with(&marker), 0, "the child outlived its timeout");
}

#[tokio::test]
async fn cancelling_a_run_kills_the_child() {
    if !super::support::python_available("cancelling_a_run_kills_the_child") {
        return;
    }
    let fx = Fixture::new();
    let programs = python(quick());
    let py = programs.get(PYTHON).expect("python");
    let marker = unique("cancel");
    let script = fx.script("sleep.py", "import time\ntime.sleep(1000)\n");
    let run = fx.sandbox.run(
        py.invoke()
            .flag("-I")
            .expect("valid argument")
            .input(&script)
            .expect("valid argument")
            .literal(&marker)
            .expect("valid argument"),
    );
    // Wait until the child really runs, then drop the future.
    let cancelled = tokio::time::timeout(Duration::from_millis(1500), run).await;
    assert!(cancelled.is_err(), "the sleeper finished?");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        processes_with(&marker),
        0,
        "the child outlived cancellation"
    );
}

#[tokio::test]
async fn cpu_time_limit_stops_a_busy_loop() {
    if !super::support::python_available("cpu_time_limit_stops_a_busy_loop") {
        return;
    }
    let fx = Fixture::new();
    let programs = python(ExecLimits {
        resources: ResourceLimits {
            cpu_secs: 1,
            ..ExecLimits::default().resources
        },
        ..quick()
    });
    let py = programs.get(PYTHON).expect("python");
    let script = fx.script("spin.py", "while True:\n    pass\n");
    let err = fx
        .sandbox
        .run(
            py.invoke()
                .flag("-I")
                .expect("valid argument")
                .input(&script)
                .expect("valid argument"),
        )
        .await
        .expect_err("cpu limit");
    assert!(matches!(err, ExecError::CpuLimit { limit: 1, .. }), "{err}");
}

#[tokio::test]
async fn flooding_stdout_is_truncated_with_a_marker() {
    if !super::support::python_available("flooding_stdout_is_truncated_with_a_marker") {
        return;
    }
    let fx = Fixture::new();
    let programs = python(ExecLimits {
        max_stdout_bytes: 1 << 20,
        ..quick()
    });
    let py = programs.get(PYTHON).expect("python");
    let script = fx.script(
        "flood.py",
        "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n",
    );
    let started = Instant::now();
    let out = fx
        .sandbox
        .run(
            py.invoke()
                .flag("-I")
                .expect("valid argument")
                .input(&script)
                .expect("valid argument"),
        )
        .await
        .expect("ends");
    assert!(out.stdout_truncated);
    assert_eq!(out.stdout.len(), 1 << 20);
    assert!(!out.success());
    assert!(
        out.stdout_text()
            .ends_with("[output truncated at 1048576 bytes]")
    );
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn confinement_holds_where_the_kernel_provides_it() {
    if !super::support::python_available("confinement_holds_where_the_kernel_provides_it") {
        return;
    }
    let fx = Fixture::new();
    let probe = fx.sandbox.probe().await.expect("probe runs");
    // The probe's claims and its own checks agree.
    if probe.applied.seccomp_active {
        assert!(
            probe.network_blocked && probe.process_creation_blocked,
            "{probe:?}"
        );
    }
    if probe.applied.landlock_full {
        assert!(
            probe.read_outside_blocked && probe.write_outside_blocked,
            "{probe:?}"
        );
    }
    // The same from a real program: a secret next to its input, a write
    // outside its directory, a socket, a subprocess.
    std::fs::write(fx.root().join("secret.txt"), "secret").expect("secret");
    let outside = fx.root().join("written-outside");
    let out = fx
        .run_python(
            "escape.py",
            &format!(
                r#"import json, os, socket, subprocess
r = {{}}
def attempt(name, fn):
    try:
        fn(); r[name] = "allowed"
    except Exception as e:
        r[name] = type(e).__name__
attempt("read", lambda: open({secret:?}).read())
attempt("write", lambda: open({outside:?}, "w").write("x"))
attempt("net", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
attempt("spawn", lambda: subprocess.run(["/bin/true"]))
attempt("tmp", lambda: open(os.path.join(os.environ["TMPDIR"], "ok"), "w").write("x"))
print(json.dumps(r))
"#,
                secret = fx.root().join("secret.txt").display().to_string(),
                outside = outside.display().to_string(),
            ),
        )
        .await;
    assert!(out.success(), "stderr: {}", out.stderr);
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["tmp"], "allowed", "{r}");
    if probe.applied.landlock_full {
        assert_eq!(r["read"], "PermissionError", "{r}");
        assert_eq!(r["write"], "PermissionError", "{r}");
        assert!(!outside.exists());
    }
    if probe.applied.seccomp_active {
        assert_eq!(r["net"], "PermissionError", "{r}");
        assert_eq!(r["spawn"], "PermissionError", "{r}");
    }
}

#[tokio::test]
async fn output_files_come_back_and_the_call_directory_is_removed() {
    if !super::support::python_available("output_files_come_back_and_the_call_directory_is_removed")
    {
        return;
    }
    let fx = Fixture::new();
    let out = fx
        .run_python_with(
            &fx.sandbox,
            "write.py",
            "import os, sys\nopen(sys.argv[1], 'w').write(os.getcwd())\n",
            |call| call.output("result.txt").expect("valid argument"),
        )
        .await
        .expect("runs");
    assert!(out.success(), "stderr: {}", out.stderr);
    let (name, bytes) = &out.files[0];
    assert_eq!(name, "result.txt");
    let call_dir = PathBuf::from(String::from_utf8(bytes.clone()).expect("utf8"));
    assert!(
        call_dir.starts_with(std::env::temp_dir().canonicalize().expect("tmp"))
            || call_dir.is_absolute()
    );
    assert!(
        !Path::new(&call_dir).exists(),
        "per-call directory left behind"
    );
}

#[tokio::test]
async fn in_memory_inputs_are_written_into_the_call_directory() {
    if !super::support::python_available("in_memory_inputs_are_written_into_the_call_directory") {
        return;
    }
    let fx = Fixture::new();
    let out = fx
        .run_python_with(
            &fx.sandbox,
            "upper.py",
            "import sys\ndata = open(sys.argv[1], 'rb').read()\nopen('out.txt', 'wb').write(data.upper())\n",
            |call| {
                call.input_data("in.txt", b"hello".to_vec())
                    .expect("valid argument")
            },
        )
        .await
        .expect("runs");
    assert!(out.success(), "stderr: {}", out.stderr);
    // The program's new file comes back; the input does not.
    assert_eq!(out.files, vec![("out.txt".to_owned(), b"HELLO".to_vec())]);
    let programs = python(quick());
    let err = programs
        .get(PYTHON)
        .expect("python")
        .invoke()
        .input_data("../x", Vec::new())
        .expect_err("bad name");
    assert!(err.to_string().contains("plain file name"), "{err}");
}

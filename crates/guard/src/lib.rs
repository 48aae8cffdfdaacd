//! `ffmcp guard`: run a third-party stdio MCP server under the same
//! confinement as ffmcp's own subprocesses, and relay its stdio.
//!
//! The policy (TOML) says which programs may start, which arguments they
//! may receive (glob patterns, every argument must match one after `..` is
//! resolved; see [`glob`]), what they may read and write, whether they may
//! use the network, which Unix sockets they may connect to, whether they
//! may start processes, and which environment variables pass. Everything
//! else is refused before anything runs. While it runs, the server's stdout is
//! relayed line by line and only lines that are JSON reach the client: a
//! server that prints banners or debug output cannot corrupt the protocol.
//!
//! What this crate owns: the policy format, its checks, and the relay.
//! What it does not: confinement itself. The sandbox helper, Landlock,
//! seccomp, rlimits, the probe and the child's environment are
//! `ffmcp_core::exec`'s, used through its public API ([`Sandbox`],
//! [`HelperRequest`], [`child_env`], [`GroupKill`]), so a guarded server is
//! confined exactly as ffmcp's own subprocesses are. `ffmcp __sandbox-exec`
//! (the helper side) stays in core, at the top of the binary's `main`.

pub mod glob;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

pub use glob::{glob_match, normalise_argument};

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use ffmcp_core::exec::{
    ExitInfo, GroupKill, Sandbox, child_env,
    confine::{Confinement, ResourceLimits},
    exit_info, find_on_path,
    helper::{EXIT_NOT_RUN, EXIT_REFUSED, HelperRequest},
    is_dangerous_env, world_writable,
};

/// Largest relayed line (one JSON-RPC message) from the server.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// A guard policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardPolicy {
    /// Programs that may start: names looked up on PATH, or absolute paths.
    pub programs: Vec<String>,
    /// Glob patterns (`*` within one path component, `**` across `/`,
    /// `?`); every argument, with `..` resolved, must match one. Empty: no
    /// arguments at all.
    #[serde(default)]
    pub args: Vec<String>,
    /// Paths the server may read (besides system libraries). `~` is $HOME.
    #[serde(default)]
    pub read: Vec<String>,
    /// Paths the server may write (besides its own temp dir).
    #[serde(default)]
    pub write: Vec<String>,
    /// Network access: AF_INET/AF_INET6 sockets (off by default).
    #[serde(default)]
    pub network: bool,
    /// Pathname Unix sockets the server may connect to (`~` is $HOME).
    /// Naming one allows AF_UNIX sockets; with none, the server can create
    /// no Unix socket at all (Docker, D-Bus and X11 stay out of reach).
    #[serde(default)]
    pub unix_sockets: Vec<String>,
    /// May start processes (npx and uvx launchers need this).
    #[serde(default)]
    pub subprocesses: bool,
    /// Environment variables passed through (besides PATH, LANG, TMPDIR, HOME).
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub limits: GuardLimits,
    /// Drop (and report on stderr) stdout lines that are not JSON.
    #[serde(default = "yes")]
    pub strict_framing: bool,
}

fn yes() -> bool {
    true
}

/// Resource limits of a guarded server (0 = unlimited).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardLimits {
    pub memory_mb: u64,
    pub cpu_secs: u64,
    pub open_files: u64,
    pub processes: u64,
    pub file_size_mb: u64,
}

impl Default for GuardLimits {
    fn default() -> Self {
        Self {
            memory_mb: 8192,
            cpu_secs: 0,
            open_files: 1024,
            processes: 256,
            file_size_mb: 1024,
        }
    }
}

/// Why the guard refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("reading the policy {path}: {reason}")]
    Policy { path: String, reason: String },
    #[error("policy refuses to run '{program}': {reason}")]
    ProgramRefused { program: String, reason: String },
    #[error(
        "policy refuses argument {index} ('{arg}') of {program}: it matches no pattern in `args`"
    )]
    ArgumentRefused {
        program: String,
        index: usize,
        arg: String,
    },
    #[error("{0}")]
    Io(String),
}

impl GuardPolicy {
    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> Result<Self, GuardError> {
        let err = |reason: String| GuardError::Policy {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let policy: Self = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        policy.validate().map_err(err)?;
        Ok(policy)
    }

    fn validate(&self) -> Result<(), String> {
        if self.programs.is_empty() {
            return Err("`programs` must list at least one program".to_owned());
        }
        if let Some(name) = self.env.iter().find(|n| is_dangerous_env(n)) {
            return Err(format!(
                "environment variable {name} changes how programs load code and can never be passed"
            ));
        }
        if let Some(bad) = self
            .unix_sockets
            .iter()
            .find(|p| !Path::new(&expand_home(p)).is_absolute() || p.contains('\0'))
        {
            return Err(format!(
                "`unix_sockets` entry '{bad}' must be an absolute path (or start with ~/)"
            ));
        }
        Ok(())
    }

    /// The absolute path to run and the arguments to pass (normalised, as
    /// they were matched), when `program` and `args` are allowed.
    pub fn check(
        &self,
        program: &str,
        args: &[String],
    ) -> Result<(PathBuf, Vec<String>), GuardError> {
        let refused = |reason: &str| GuardError::ProgramRefused {
            program: program.to_owned(),
            reason: reason.to_owned(),
        };
        let resolved = resolve_program(program)
            .ok_or_else(|| refused("not found (or found only in a world-writable directory)"))?;
        let allowed = self.programs.iter().any(|entry| {
            if entry.contains('/') {
                Path::new(&expand_home(entry))
                    .canonicalize()
                    .is_ok_and(|p| p == resolved)
            } else {
                !program.contains('/')
                    && entry == program
                    && resolve_program(entry).is_some_and(|p| p == resolved)
            }
        });
        if !allowed {
            return Err(refused(&format!(
                "it is not in the policy's `programs` ({})",
                self.programs.join(", ")
            )));
        }
        let patterns: Vec<String> = self.args.iter().map(|p| expand_home(p)).collect();
        let mut checked = Vec::with_capacity(args.len());
        for (index, arg) in args.iter().enumerate() {
            let arg = normalise_argument(arg);
            if !patterns.iter().any(|pattern| glob_match(pattern, &arg)) {
                return Err(GuardError::ArgumentRefused {
                    program: program.to_owned(),
                    index: index + 1,
                    arg: arg.chars().take(120).collect(),
                });
            }
            checked.push(arg.into_owned());
        }
        Ok((resolved, checked))
    }

    fn resources(&self) -> ResourceLimits {
        ResourceLimits {
            cpu_secs: self.limits.cpu_secs,
            address_space_bytes: self.limits.memory_mb << 20,
            file_size_bytes: self.limits.file_size_mb << 20,
            open_files: self.limits.open_files,
            processes: self.limits.processes,
        }
    }
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ if path == "~" => std::env::var("HOME").unwrap_or_else(|_| path.to_owned()),
        _ => path.to_owned(),
    }
}

fn resolve_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = Path::new(program).canonicalize().ok()?;
        let dir_ok = path.parent().is_some_and(|d| !world_writable(d));
        return (dir_ok && path.is_file()).then_some(path);
    }
    find_on_path(program)
}

/// Where a guarded server runs: its program, its own temp dir (cwd, TMPDIR
/// and HOME), and the policy's paths that exist.
struct Places {
    program: PathBuf,
    dir: tempfile::TempDir,
    read: Vec<PathBuf>,
    write: Vec<PathBuf>,
    unix_sockets: Vec<PathBuf>,
}

impl Places {
    /// Blocking: creates the temp dir and checks which policy paths exist
    /// (a missing one is skipped with a warning).
    fn of(policy: &GuardPolicy, program: PathBuf) -> Result<Self, GuardError> {
        let dir = tempfile::Builder::new()
            .prefix("ffmcp-guard-")
            .tempdir()
            .map_err(|e| GuardError::Io(format!("creating the server's temp dir: {e}")))?;
        let existing = |paths: &[String]| -> Vec<PathBuf> {
            paths
                .iter()
                .map(|p| PathBuf::from(expand_home(p)))
                .filter(|p| {
                    let ok = p.exists();
                    if !ok {
                        tracing::warn!(path = %p.display(), "guard policy path does not exist; skipped");
                    }
                    ok
                })
                .collect()
        };
        let mut read = existing(&policy.read);
        read.push(program.clone());
        let mut write = existing(&policy.write);
        write.push(dir.path().to_path_buf());
        let unix_sockets = existing(&policy.unix_sockets);
        Ok(Self {
            program,
            dir,
            read,
            write,
            unix_sockets,
        })
    }
}

/// Runs blocking file-system work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, GuardError> + Send + 'static,
) -> Result<T, GuardError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| GuardError::Io(format!("file-system task failed: {e}")))?
}

/// Runs `program` under `policy`, relaying stdin and (framed) stdout until
/// it exits. Returns the exit code to exit with.
pub async fn run(
    sandbox: &Sandbox,
    policy: &GuardPolicy,
    program: &str,
    args: &[String],
) -> Result<i32, GuardError> {
    // Resolving the program and checking paths touch the file system: on
    // the blocking pool, not on an async thread.
    let (resolved, args) = blocking({
        let (policy, program, args) = (policy.clone(), program.to_owned(), args.to_vec());
        move || policy.check(&program, &args)
    })
    .await?;
    sandbox
        .require_verified()
        .await
        .map_err(|reason| GuardError::ProgramRefused {
            program: program.to_owned(),
            reason,
        })?;
    let Places {
        program: resolved,
        dir,
        read,
        write,
        unix_sockets,
    } = blocking({
        let policy = policy.clone();
        move || Places::of(&policy, resolved)
    })
    .await?;
    if !unix_sockets.is_empty()
        && let Ok(probe) = sandbox.probe().await
        && !probe.applied.unix_connect_confined
    {
        tracing::warn!(
            "the policy names unix_sockets, but this kernel's Landlock lacks RESOLVE_UNIX (ABI 9): the server can connect to every pathname Unix socket (--strict refuses)"
        );
    }
    let request = HelperRequest {
        program: resolved,
        args,
        cwd: dir.path().to_path_buf(),
        confinement: Confinement {
            read,
            write,
            network: policy.network,
            subprocesses: policy.subprocesses,
            limits: policy.resources(),
            strict: sandbox.is_strict(),
            unix_sockets,
            // Anonymous pairs reach nothing; asyncio and libuv need them.
            socket_pairs: true,
            max_landlock_abi: None,
        },
        probe: None,
    };
    let mut command = sandbox
        .helper_command(&request, child_env(&policy.env, dir.path()))
        .map_err(GuardError::Io)?;
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command
        .spawn()
        .map_err(|e| GuardError::Io(format!("starting the sandbox helper: {e}")))?;
    let group = GroupKill::new(child.id());
    let (Some(mut child_in), Some(child_out)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(GuardError::Io("the server's pipes are missing".to_owned()));
    };
    let to_child = tokio::spawn(async move {
        let mut stdin = tokio::io::stdin();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if child_in.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    let _ = child_in.flush().await;
                }
            }
        }
        // Dropping child_in closes the server's stdin: its cue to exit.
    });
    let framing = policy.strict_framing;
    let from_child = tokio::spawn(relay_stdout(child_out, framing));
    let status = tokio::select! {
        status = child.wait() => status,
        () = ffmcp_core::transport::shutdown_signal() => {
            group.kill();
            child.wait().await
        }
    };
    let _ = from_child.await;
    to_child.abort();
    // Removing the temp dir is file-system work too.
    let _ = tokio::task::spawn_blocking(move || drop(dir)).await;
    let status = status.map_err(|e| GuardError::Io(format!("waiting for the server: {e}")))?;
    Ok(match exit_info(status) {
        ExitInfo::Code(code) => {
            if code == EXIT_REFUSED || code == EXIT_NOT_RUN {
                tracing::error!("the sandbox did not start the server (see the message above)");
            }
            code
        }
        ExitInfo::Signal(sig) => 128 + sig,
    })
}

/// Copies the server's stdout to ours, one line at a time; with `framing`,
/// lines that are not JSON go to the log instead.
async fn relay_stdout(child_out: tokio::process::ChildStdout, framing: bool) {
    let mut reader = BufReader::with_capacity(64 * 1024, child_out);
    let mut stdout = tokio::io::stdout();
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .await;
        match read {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.len() > MAX_LINE_BYTES {
            tracing::error!(
                "the server wrote a line over {MAX_LINE_BYTES} bytes; stopping the relay"
            );
            break;
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if framing && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
            let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
            tracing::warn!("dropped a non-JSON line the server wrote to stdout: {preview}");
            continue;
        }
        if stdout.write_all(body).await.is_err()
            || stdout.write_all(b"\n").await.is_err()
            || stdout.flush().await.is_err()
        {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_loader_hooks_and_unknown_keys() {
        let p: GuardPolicy =
            toml::from_str("programs = [\"node\"]\nenv = [\"LD_PRELOAD\"]\n").expect("parses");
        assert!(p.validate().expect_err("refused").contains("LD_PRELOAD"));
        let err = toml::from_str::<GuardPolicy>("programs = [\"node\"]\nnetwrk = true\n")
            .expect_err("typo");
        assert!(err.to_string().contains("netwrk"), "{err}");
    }
}

//! [`Sandbox`]: runs an [`Invocation`] under the helper with its limits:
//! per-call directory, capped output, wall timeout, group kill on every
//! exit path (timeout, overflow, cancellation).

// The one home of process creation (see clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Instant,
};

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    sync::OnceCell,
};

use super::{
    CHILD_PATH, ExecError, ExitInfo, Invocation, Output, Slot,
    confine::Confinement,
    helper::{EXIT_NOT_RUN, EXIT_REFUSED, HELPER_ARG, HelperRequest, MESSAGE_PREFIX},
    is_dangerous_env,
    probe::{self, ProbeReport},
    strict_mode,
};

/// Runs [`Invocation`]s under the sandbox helper.
#[derive(Debug)]
pub struct Sandbox {
    helper: PathBuf,
    strict: bool,
    max_landlock_abi: Option<u8>,
    probed: OnceCell<Result<ProbeReport, String>>,
}

impl Sandbox {
    /// A sandbox whose helper is `helper` (an ffmcp binary).
    pub fn new(helper: impl Into<PathBuf>) -> Self {
        Self {
            helper: helper.into(),
            strict: false,
            max_landlock_abi: None,
            probed: OnceCell::new(),
        }
    }

    /// A sandbox whose helper is this very binary (which must call
    /// [`run_if_requested`](super::helper::run_if_requested) at the top of `main`).
    pub fn from_current_exe() -> std::io::Result<Self> {
        Ok(Self::new(std::env::current_exe()?))
    }

    /// The helper is this binary; strict mode as configured
    /// ([`strict_mode`]).
    pub fn from_env() -> std::io::Result<Self> {
        Ok(Self::from_current_exe()?.strict(strict_mode()))
    }

    /// Refuse to run anything when a protection is unavailable.
    pub fn strict(mut self, yes: bool) -> Self {
        self.strict = yes;
        self
    }

    /// Whether strict mode is on.
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// Uses at most Landlock ABI `abi`, as if the kernel were older: the
    /// seccomp fallbacks for older kernels can then be tested on a new one.
    pub fn max_landlock_abi(mut self, abi: u8) -> Self {
        self.max_landlock_abi = Some(abi);
        self
    }

    /// Strict mode: `Ok` only when the probe found every protection applied
    /// and every escape blocked; otherwise why not.
    pub(crate) async fn require_verified(&self) -> Result<(), String> {
        if !self.strict {
            return Ok(());
        }
        let report = self.probe().await.map_err(|e| e.to_string())?;
        let failures = report.failures();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "strict mode: refusing to run without {}",
                failures.join("; ")
            ))
        }
    }

    /// Applies the standard confinement in a throwaway helper, tests that it
    /// holds, and reports. Cached after the first call.
    pub async fn probe(&self) -> Result<ProbeReport, ExecError> {
        let result = self
            .probed
            .get_or_init(|| async {
                let report = probe::run(&self.helper, self.max_landlock_abi).await;
                match &report {
                    Ok(report) => {
                        for failure in report.failures() {
                            tracing::warn!(
                                "sandbox protection unavailable on this machine: {failure}"
                            );
                        }
                    }
                    Err(e) => tracing::warn!("sandbox probe failed: {e}"),
                }
                report
            })
            .await;
        result.clone().map_err(|reason| ExecError::Refused {
            program: "the sandbox probe".to_owned(),
            reason,
        })
    }

    /// The helper command for `request`: cleared environment plus `env`,
    /// its own process group, killed when dropped. Stdio is the caller's.
    pub(crate) fn helper_command(
        &self,
        request: &HelperRequest,
        env: Vec<(String, String)>,
    ) -> Result<tokio::process::Command, String> {
        let json = serde_json::to_string(request).map_err(|e| e.to_string())?;
        let mut command = tokio::process::Command::new(&self.helper);
        command
            .arg(HELPER_ARG)
            .arg(json)
            .env_clear()
            .envs(env)
            .current_dir(&request.cwd)
            .process_group(0)
            .kill_on_drop(true);
        Ok(command)
    }

    /// Runs `invocation` to completion within its limits.
    pub async fn run(&self, invocation: Invocation<'_>) -> Result<Output, ExecError> {
        let program = invocation.program;
        let spec = &program.spec;
        let name = program.name().to_owned();
        // Probe once, so a missing protection is logged once; strict mode
        // refuses unless every escape the probe tried was blocked.
        let _ = self.probe().await;
        self.require_verified()
            .await
            .map_err(|reason| ExecError::Refused {
                program: name.clone(),
                reason,
            })?;
        let io_err = |what: &str, e: std::io::Error| ExecError::Io {
            program: name.clone(),
            reason: format!("{what}: {e}"),
        };
        let dir = tempfile::Builder::new()
            .prefix("ffmcp-exec-")
            .tempdir()
            .map_err(|e| io_err("creating the per-call directory", e))?;
        let cwd = dir.path().to_path_buf();
        for (name, bytes) in &invocation.data {
            std::fs::write(cwd.join(name), bytes)
                .map_err(|e| io_err(&format!("writing input file {name}"), e))?;
        }
        let args: Vec<String> = invocation
            .args
            .iter()
            .map(|slot| match slot {
                Slot::Text(t) => t.clone(),
                Slot::Output(n) => cwd.join(n).to_string_lossy().into_owned(),
            })
            .collect();
        let mut read = invocation.inputs.clone();
        read.extend(spec.read_paths.iter().cloned());
        read.push(program.path.clone());
        let request = HelperRequest {
            program: program.path.clone(),
            args,
            cwd: cwd.clone(),
            confinement: Confinement {
                read,
                write: vec![cwd.clone()],
                network: false,
                subprocesses: spec.subprocesses,
                limits: spec.limits.resources,
                strict: self.strict,
                unix_sockets: Vec::new(),
                socket_pairs: false,
                max_landlock_abi: self.max_landlock_abi,
            },
            probe: None,
        };
        let mut command = self
            .helper_command(&request, child_env(&spec.env, &cwd))
            .map_err(|reason| ExecError::Io {
                program: name.clone(),
                reason,
            })?;
        command
            .stdin(if invocation.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| io_err("starting the sandbox helper", e))?;
        let group = GroupKill(child.id());
        if let (Some(bytes), Some(mut stdin)) = (invocation.stdin, child.stdin.take()) {
            tokio::spawn(async move {
                let _ = stdin.write_all(&bytes).await;
            });
        }
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(ExecError::Io {
                program: name,
                reason: "the child's output pipes are missing".to_owned(),
            });
        };
        let limits = spec.limits;
        let work = async {
            let (out, err) = tokio::join!(
                read_capped(stdout, limits.max_stdout_bytes, Some(&group)),
                read_capped(stderr, limits.max_stderr_bytes, None),
            );
            let status = child.wait().await;
            (out, err, status)
        };
        let Ok(((stdout, stdout_truncated), (stderr, stderr_truncated), status)) =
            tokio::time::timeout(limits.wall, work).await
        else {
            group.kill();
            return Err(ExecError::Timeout {
                program: name,
                limit: limits.wall,
            });
        };
        // Leftovers of a program allowed to fork die with the group.
        group.kill();
        let status = status.map_err(|e| io_err("waiting for the program", e))?;
        let status = exit_info(status);
        let mut stderr = String::from_utf8_lossy(&stderr).into_owned();
        if let Some(reason) = stderr.strip_prefix(MESSAGE_PREFIX)
            && matches!(status, ExitInfo::Code(EXIT_REFUSED | EXIT_NOT_RUN))
        {
            return Err(ExecError::Refused {
                program: name,
                reason: reason.trim().to_owned(),
            });
        }
        if status == ExitInfo::Signal(libc_sigxcpu()) {
            return Err(ExecError::CpuLimit {
                program: name,
                limit: limits.resources.cpu_secs,
            });
        }
        if stderr_truncated {
            stderr.push_str(&format!(
                "\n[stderr truncated at {} bytes]",
                limits.max_stderr_bytes
            ));
        }
        let files = collect_outputs(&cwd, &invocation.data, limits.max_output_files_bytes);
        drop(dir);
        Ok(Output {
            program: name,
            status,
            stdout,
            stdout_truncated,
            stderr,
            files,
            elapsed: started.elapsed(),
        })
    }
}

/// SIGXCPU's number (24 on Linux x86 and ARM; 30 on some other systems).
fn libc_sigxcpu() -> i32 {
    rustix::process::Signal::XCPU.as_raw()
}

pub(crate) fn exit_info(status: std::process::ExitStatus) -> ExitInfo {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitInfo::Code(code),
        (None, Some(sig)) => ExitInfo::Signal(sig),
        (None, None) => ExitInfo::Code(-1),
    }
}

/// The child's whole environment: the base four plus the `passthrough`
/// names that are set here and not dangerous.
pub(crate) fn child_env(passthrough: &[String], tmp: &Path) -> Vec<(String, String)> {
    let lang = std::env::var("LANG")
        .ok()
        .filter(|l| {
            l.len() <= 32
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@'))
        })
        .unwrap_or_else(|| "C.UTF-8".to_owned());
    let tmp = tmp.to_string_lossy().into_owned();
    let mut env = vec![
        ("PATH".to_owned(), CHILD_PATH.to_owned()),
        ("LANG".to_owned(), lang),
        ("TMPDIR".to_owned(), tmp.clone()),
        ("HOME".to_owned(), tmp),
    ];
    for name in passthrough {
        if is_dangerous_env(name) {
            continue;
        }
        if let Ok(value) = std::env::var(name) {
            // A listed HOME, LANG or TMPDIR replaces the default.
            env.retain(|(n, _)| n != name);
            env.push((name.clone(), value));
        }
    }
    env
}

/// Kills a whole process group (the helper's pid is its group id).
pub(crate) struct GroupKill(pub(crate) Option<u32>);

impl GroupKill {
    pub(crate) fn kill(&self) {
        let Some(pid) = self.0.and_then(|p| i32::try_from(p).ok()) else {
            return;
        };
        if let Some(pid) = rustix::process::Pid::from_raw(pid) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        // Cancellation or error: nothing of this run outlives it.
        self.kill();
    }
}

/// Reads to EOF keeping at most `cap` bytes. With `stop`, overflowing
/// kills the group (a flood ends now); without, the rest is drained.
async fn read_capped(
    mut reader: impl AsyncRead + Unpin,
    cap: usize,
    stop: Option<&GroupKill>,
) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut truncated = false;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let room = cap.saturating_sub(kept.len());
        if n > room {
            kept.extend_from_slice(&buf[..room]);
            truncated = true;
            if let Some(group) = stop {
                group.kill();
                break;
            }
        } else {
            kept.extend_from_slice(&buf[..n]);
        }
    }
    (kept, truncated)
}

/// Regular files the program left in the per-call directory (inputs
/// excluded), by name, up to `cap` bytes in all.
fn collect_outputs(dir: &Path, inputs: &[(String, Vec<u8>)], cap: usize) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !inputs.iter().any(|(input, _)| input == n))
        .collect();
    names.sort();
    let mut left = cap;
    let mut files = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.len() as usize > left {
            continue;
        }
        if let Ok(bytes) = std::fs::read(&path) {
            left -= bytes.len().min(left);
            files.push((name, bytes));
        }
    }
    files
}

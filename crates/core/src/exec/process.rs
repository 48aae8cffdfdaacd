//! Running and capturing: how a run ended ([`ExitInfo`], [`Output`]), the
//! process-group kill that bounds every run, and the capped readers of its
//! output pipes and per-call directory.

use std::{fmt, path::Path, time::Duration};

use tokio::io::{AsyncRead, AsyncReadExt};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitInfo {
    /// Exited with this status.
    Code(i32),
    /// Killed by this signal (ours on a limit, or the program's own).
    Signal(i32),
}

impl fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(c) => write!(f, "exit status {c}"),
            Self::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// The result of a run that completed (successfully or not).
#[derive(Debug, Clone)]
pub struct Output {
    /// The program's name.
    pub program: String,
    /// How it ended.
    pub status: ExitInfo,
    /// Standard output, at most the run's `max_stdout_bytes`.
    pub stdout: Vec<u8>,
    /// Stdout hit its cap; the program was stopped there.
    pub stdout_truncated: bool,
    /// Stderr, lossily decoded, with a marker when it was cut.
    pub stderr: String,
    /// Files the program wrote in its per-call directory (e.g. those named
    /// with [`Invocation::output`](super::Invocation::output)), inputs excluded.
    pub files: Vec<(String, Vec<u8>)>,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

impl Output {
    /// Exit status 0 and output complete.
    pub fn success(&self) -> bool {
        self.status == ExitInfo::Code(0) && !self.stdout_truncated
    }

    /// Stdout as text, ending with a clear marker when it was truncated.
    pub fn stdout_text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.stdout).into_owned();
        if self.stdout_truncated {
            text.push_str(&format!(
                "\n[output truncated at {} bytes]",
                self.stdout.len()
            ));
        }
        text
    }
}

/// A finished process's status as an [`ExitInfo`].
pub fn exit_info(status: std::process::ExitStatus) -> ExitInfo {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitInfo::Code(code),
        (None, Some(sig)) => ExitInfo::Signal(sig),
        (None, None) => ExitInfo::Code(-1),
    }
}

/// Kills a whole process group (the helper's pid is its group id), at the
/// latest when dropped: nothing a run started outlives it, whether it ends,
/// fails or is cancelled. Build it from `Child::id()` right after spawning a
/// [`super::Sandbox::helper_command`].
#[derive(Debug)]
pub struct GroupKill(Option<u32>);

impl GroupKill {
    /// The group led by `pid` (`None`: the child already exited).
    pub fn new(pid: Option<u32>) -> Self {
        Self(pid)
    }

    /// Sends SIGKILL to the whole group now.
    pub fn kill(&self) {
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
pub(super) async fn read_capped(
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

/// A run's per-call directory (its only writable place). Created, filled,
/// read back and removed on the blocking pool, never on an async thread:
/// input and output files can be hundreds of megabytes.
pub(super) struct CallDir(Option<tempfile::TempDir>);

/// What failed while preparing the per-call directory, and the error.
type Failed = (String, std::io::Error);

impl CallDir {
    /// A fresh directory holding the `data` files; returns their names.
    pub(super) async fn create(
        data: Vec<(String, Vec<u8>)>,
    ) -> Result<(Self, Vec<String>), Failed> {
        let made = tokio::task::spawn_blocking(move || {
            let dir = tempfile::Builder::new()
                .prefix("ffmcp-exec-")
                .tempdir()
                .map_err(|e| ("creating the per-call directory".to_owned(), e))?;
            let mut names = Vec::with_capacity(data.len());
            for (name, bytes) in data {
                std::fs::write(dir.path().join(&name), &bytes)
                    .map_err(|e| (format!("writing input file {name}"), e))?;
                names.push(name);
            }
            Ok((Self(Some(dir)), names))
        })
        .await;
        made.unwrap_or_else(|e| {
            Err((
                "creating the per-call directory".to_owned(),
                std::io::Error::other(e),
            ))
        })
    }

    pub(super) fn path(&self) -> &Path {
        self.0
            .as_ref()
            .map_or(Path::new(""), tempfile::TempDir::path)
    }

    /// Reads back the files the program wrote (`inputs` excluded, at most
    /// `cap` bytes in all), then removes the directory; both finish before
    /// this returns.
    pub(super) async fn finish(
        mut self,
        inputs: Vec<String>,
        cap: usize,
    ) -> Vec<(String, Vec<u8>)> {
        let Some(dir) = self.0.take() else {
            return Vec::new();
        };
        tokio::task::spawn_blocking(move || {
            let files = collect_outputs(dir.path(), &inputs, cap);
            drop(dir);
            files
        })
        .await
        .unwrap_or_default()
    }
}

impl Drop for CallDir {
    /// Error and cancellation paths: remove the directory on the blocking
    /// pool (dropping the task unrun, at shutdown, still removes it).
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn_blocking(move || drop(dir))),
                Err(_) => drop(dir),
            }
        }
    }
}

/// Regular files the program left in the per-call directory (inputs
/// excluded), by name, up to `cap` bytes in all.
fn collect_outputs(dir: &Path, inputs: &[String], cap: usize) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !inputs.contains(n))
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

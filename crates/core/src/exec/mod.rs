//! `core::exec`: the only way ffmcp code starts a process.
//!
//! - **Allowlisted programs.** A [`ProgramSpec`] names a program and the
//!   exact flags, value-taking options and fixed tokens it may receive;
//!   [`Programs::discover`] resolves the names to absolute paths once.
//! - **Typed argument slots.** An [`Invocation`] accepts only: an allowed
//!   flag, an allowed option with a typed value (an integer or a word that
//!   cannot start with `-`), an input path that passed [`crate::roots`]
//!   (absolute, so never option-like), an output file in the per-call
//!   directory, or a free literal, which always goes after `--`. Nothing is
//!   split, nothing passes through a shell.
//! - **Clean environment.** Cleared except `PATH`, `LANG`, `TMPDIR`, `HOME`
//!   and names a spec lists; loader and interpreter hooks (`LD_PRELOAD`,
//!   `PYTHONPATH`, `NODE_OPTIONS`…) can never be listed.
//! - **Limits and confinement.** The child runs under the sandbox helper
//!   ([`helper`], [`confine`]): rlimits, Landlock (files, TCP, abstract Unix
//!   socket and signal scopes), seccomp (no socket family at all, signals
//!   only to itself where Landlock cannot scope them), no inherited
//!   descriptor above 2, its own process group (killed whole on timeout,
//!   overflow or cancellation), and a per-call temp dir that is its only
//!   writable place and is removed afterwards.
//! - **Verified, not assumed.** [`probe`] confines a throwaway helper the
//!   same way and tries each escape; `ffmcp doctor` reports it and strict
//!   mode refuses to run anything when one is not blocked.

// The one home of process creation (see clippy.toml).
#![allow(clippy::disallowed_methods)]

pub mod catalog;
pub mod confine;
pub mod guard;
pub mod helper;
mod invocation;
pub mod probe;
mod sandbox;

use std::{
    collections::HashMap,
    fmt,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

pub use confine::{Applied, ResourceLimits};
pub use helper::{HELPER_ARG, run_if_requested};
use invocation::Slot;
pub use invocation::{Invocation, OptValue};
pub use probe::ProbeReport;
pub use sandbox::Sandbox;
pub(crate) use sandbox::{GroupKill, child_env, exit_info};

/// Environment variable: `1` turns on strict mode (as `--strict` does).
pub const STRICT_ENV: &str = "FF_STRICT";

static STRICT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns strict mode on for this process (`--strict`).
pub fn set_strict(yes: bool) {
    STRICT.store(yes, std::sync::atomic::Ordering::Relaxed);
}

/// Strict mode: refuse to run a program when a protection is unavailable.
pub fn strict_mode() -> bool {
    STRICT.load(std::sync::atomic::Ordering::Relaxed)
        || std::env::var(STRICT_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Longest single argument.
pub const MAX_ARG_BYTES: usize = 32 * 1024;
/// Longest whole command line.
pub const MAX_ARGV_BYTES: usize = 256 * 1024;
/// Most arguments in one invocation.
pub const MAX_ARGS: usize = 1024;
/// Longest option value word.
const MAX_WORD_BYTES: usize = 1024;
/// `PATH` inside the sandbox.
const CHILD_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Environment variables that change how a program loads or interprets
/// code; no spec or policy can pass them.
pub fn is_dangerous_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("LD_")
        || upper.starts_with("DYLD_")
        || upper.starts_with("MALLOC_")
        || matches!(
            upper.as_str(),
            "GCONV_PATH"
                | "GLIBC_TUNABLES"
                | "LOCPATH"
                | "NLSPATH"
                | "HOSTALIASES"
                | "RESOLV_HOST_CONF"
                | "BASH_ENV"
                | "ENV"
                | "SHELLOPTS"
                | "BASHOPTS"
                | "PS4"
                | "IFS"
                | "CDPATH"
                | "PYTHONPATH"
                | "PYTHONHOME"
                | "PYTHONSTARTUP"
                | "PYTHONINSPECT"
                | "PERL5LIB"
                | "PERL5OPT"
                | "PERLLIB"
                | "RUBYOPT"
                | "RUBYLIB"
                | "NODE_OPTIONS"
                | "NODE_PATH"
                | "JAVA_TOOL_OPTIONS"
                | "_JAVA_OPTIONS"
                | "JDK_JAVA_OPTIONS"
                | "GIT_SSH_COMMAND"
                | "GIT_EXEC_PATH"
                | "EDITOR"
                | "VISUAL"
                | "PAGER"
                | "PATH"
        )
}

/// Limits of one run of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecLimits {
    /// Wall-clock limit; the process group is killed when it passes.
    pub wall: Duration,
    pub resources: ResourceLimits,
    /// Stdout kept; past it the group is killed and the output marked truncated.
    pub max_stdout_bytes: usize,
    /// Stderr kept; the rest is drained and dropped.
    pub max_stderr_bytes: usize,
    /// Total bytes of output files read back from the temp dir.
    pub max_output_files_bytes: usize,
}

impl Default for ExecLimits {
    fn default() -> Self {
        Self {
            wall: Duration::from_secs(60),
            resources: ResourceLimits {
                cpu_secs: 60,
                address_space_bytes: 2 << 30,
                file_size_bytes: 256 << 20,
                open_files: 256,
                processes: 64,
            },
            max_stdout_bytes: 32 << 20,
            max_stderr_bytes: 64 << 10,
            max_output_files_bytes: 256 << 20,
        }
    }
}

/// A program ffmcp may run and the arguments it may receive.
#[derive(Debug, Clone)]
pub struct ProgramSpec {
    /// Looked up on `PATH` once; an absolute path is taken as is.
    pub name: String,
    /// Flags that take no value.
    pub flags: Vec<String>,
    /// Options that take exactly one value, as the next argument.
    pub options: Vec<String>,
    /// Fixed positional tokens (e.g. `-` for "write to stdout").
    pub tokens: Vec<String>,
    /// Extra environment variables passed through from ffmcp's own.
    pub env: Vec<String>,
    /// Extra read-only paths (data files the program needs).
    pub read_paths: Vec<PathBuf>,
    /// May start other processes (threads are always allowed).
    pub subprocesses: bool,
    pub limits: ExecLimits,
}

impl ProgramSpec {
    /// A spec with no flags, no options and default limits.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            flags: Vec::new(),
            options: Vec::new(),
            tokens: Vec::new(),
            env: Vec::new(),
            read_paths: Vec::new(),
            subprocesses: false,
            limits: ExecLimits::default(),
        }
    }

    fn strings<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Vec<String> {
        items.into_iter().map(Into::into).collect()
    }

    /// Flags that take no value.
    pub fn flags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, flags: I) -> Self {
        self.flags = Self::strings(flags);
        self
    }

    /// Options that take one value.
    pub fn options<I: IntoIterator<Item = S>, S: Into<String>>(mut self, options: I) -> Self {
        self.options = Self::strings(options);
        self
    }

    /// Fixed positional tokens.
    pub fn tokens<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tokens: I) -> Self {
        self.tokens = Self::strings(tokens);
        self
    }

    /// Environment variables passed through.
    pub fn env<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.env = Self::strings(names);
        self
    }

    /// Extra read-only paths.
    pub fn read_paths<I: IntoIterator<Item = P>, P: Into<PathBuf>>(mut self, paths: I) -> Self {
        self.read_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Allows starting processes.
    pub fn subprocesses(mut self, yes: bool) -> Self {
        self.subprocesses = yes;
        self
    }

    /// Replaces the limits.
    pub fn limits(mut self, limits: ExecLimits) -> Self {
        self.limits = limits;
        self
    }

    fn validate(&self) -> Result<(), ExecError> {
        if let Some(name) = self.env.iter().find(|n| is_dangerous_env(n)) {
            return Err(ExecError::InvalidSpec {
                program: self.name.clone(),
                reason: format!("environment variable {name} can never be passed to a program"),
            });
        }
        if let Some(bad) = self
            .flags
            .iter()
            .chain(&self.options)
            .find(|f| !f.starts_with('-') || f.len() < 2 || f.contains(['\0', '=', ' ']))
        {
            return Err(ExecError::InvalidSpec {
                program: self.name.clone(),
                reason: format!("'{bad}' is not a flag"),
            });
        }
        Ok(())
    }
}

/// A program found on this machine.
#[derive(Debug, Clone)]
pub struct Program {
    spec: Arc<ProgramSpec>,
    path: PathBuf,
}

impl Program {
    /// The allowlisted name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The absolute path that will be executed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts building a call.
    pub fn invoke(&self) -> Invocation<'_> {
        Invocation::new(self)
    }
}

/// The allowlist, resolved once at start.
#[derive(Debug, Clone, Default)]
pub struct Programs {
    found: HashMap<String, Program>,
    missing: Vec<(String, String)>,
}

impl Programs {
    /// Resolves each spec's name on `PATH` (absolute, non-world-writable
    /// directories only).
    pub fn discover(specs: impl IntoIterator<Item = ProgramSpec>) -> Self {
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        let dirs: Vec<PathBuf> = std::env::split_paths(&path_var)
            .filter(|d| d.is_absolute() && !world_writable(d))
            .collect();
        let mut programs = Self::default();
        for spec in specs {
            let name = spec.name.clone();
            if let Err(e) = spec.validate() {
                programs.missing.push((name, e.to_string()));
                continue;
            }
            match resolve(&name, &dirs) {
                Some(path) => {
                    programs.found.insert(
                        name,
                        Program {
                            spec: Arc::new(spec),
                            path,
                        },
                    );
                }
                None => programs
                    .missing
                    .push((name, "not installed (not on PATH)".to_owned())),
            }
        }
        programs
    }

    /// The program named `name`, if it is allowlisted and installed.
    pub fn get(&self, name: &str) -> Result<&Program, ExecError> {
        self.found.get(name).ok_or_else(|| ExecError::NotAvailable {
            program: name.to_owned(),
            reason: self
                .missing
                .iter()
                .find(|(n, _)| n == name)
                .map_or("not in the allowlist".to_owned(), |(_, why)| why.clone()),
        })
    }

    /// Installed programs, sorted by name.
    pub fn found(&self) -> Vec<&Program> {
        let mut found: Vec<_> = self.found.values().collect();
        found.sort_by(|a, b| a.name().cmp(b.name()));
        found
    }

    /// Allowlisted programs that are unavailable, and why.
    pub fn missing(&self) -> &[(String, String)] {
        &self.missing
    }
}

fn world_writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o002 != 0)
}

fn resolve(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let candidate = if name.starts_with('/') {
        Some(PathBuf::from(name)).filter(|p| executable(p))
    } else if name.is_empty() || name.contains('/') || name.contains('\0') {
        None
    } else {
        dirs.iter().map(|d| d.join(name)).find(|p| executable(p))
    }?;
    candidate.canonicalize().ok()
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitInfo {
    Code(i32),
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
    pub program: String,
    pub status: ExitInfo,
    pub stdout: Vec<u8>,
    /// Stdout hit its cap; the program was stopped there.
    pub stdout_truncated: bool,
    /// Stderr, lossily decoded, with a marker when it was cut.
    pub stderr: String,
    /// Files the program wrote in its per-call directory (e.g. those named
    /// with [`Invocation::output`]), inputs excluded.
    pub files: Vec<(String, Vec<u8>)>,
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

/// Why a program did not run, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{program} is not available: {reason}")]
    NotAvailable { program: String, reason: String },
    #[error("invalid program spec for {program}: {reason}")]
    InvalidSpec { program: String, reason: String },
    #[error("'{flag}' is not an allowed argument of {program}")]
    UnknownFlag { program: String, flag: String },
    #[error(
        "the value '{value}' for {program} starts with '-' and would be read as an option; refused"
    )]
    OptionLike { program: String, value: String },
    #[error("invalid argument for {program}: {reason}")]
    InvalidArgument { program: String, reason: String },
    #[error("{program} ran longer than {limit:?} and was stopped")]
    Timeout { program: String, limit: Duration },
    #[error("{program} used more than {limit} CPU seconds and was stopped")]
    CpuLimit { program: String, limit: u64 },
    #[error("the sandbox refused to run {program}: {reason}")]
    Refused { program: String, reason: String },
    #[error("could not run {program}: {reason}")]
    Io { program: String, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_environment_names() {
        for name in [
            "LD_PRELOAD",
            "ld_library_path",
            "DYLD_INSERT_LIBRARIES",
            "PYTHONPATH",
            "NODE_OPTIONS",
            "BASH_ENV",
            "GLIBC_TUNABLES",
        ] {
            assert!(is_dangerous_env(name), "{name}");
        }
        for name in ["TESSDATA_PREFIX", "OMP_THREAD_LIMIT", "LANG"] {
            assert!(!is_dangerous_env(name), "{name}");
        }
        let spec = ProgramSpec::new("cat").env(["LD_PRELOAD"]);
        assert!(matches!(
            spec.validate(),
            Err(ExecError::InvalidSpec { .. })
        ));
    }
}

//! The allowlist: [`ProgramSpec`] says what a program may receive and how
//! long and large it may run ([`ExecLimits`]); [`Programs::discover`]
//! resolves the names once, from trusted `PATH` directories only.

use std::{
    collections::HashMap,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use super::{ExecError, Invocation, ResourceLimits, is_dangerous_env};

/// Limits of one run of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecLimits {
    /// Wall-clock limit; the process group is killed when it passes.
    pub wall: Duration,
    /// Resource limits of the process (rlimits).
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
    /// Wall clock, resources and output caps of each run.
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

    pub(super) fn validate(&self) -> Result<(), ExecError> {
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
    pub(super) spec: Arc<ProgramSpec>,
    pub(super) path: PathBuf,
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
        let dirs = search_dirs();
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

/// The `PATH` directories a program may be taken from: absolute and not
/// world-writable (anyone could plant a program in one that is).
fn search_dirs() -> Vec<PathBuf> {
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path_var)
        .filter(|d| d.is_absolute() && !world_writable(d))
        .collect()
}

/// The canonical path of the executable `name` found on `PATH` the way
/// [`Programs::discover`] finds it (absolute, non-world-writable
/// directories only; an absolute `name` is taken as is). `ffmcp guard`
/// resolves the programs of its policy with it.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    resolve(name, &search_dirs())
}

/// Whether `dir` is writable by every user (`o+w`).
pub fn world_writable(dir: &Path) -> bool {
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

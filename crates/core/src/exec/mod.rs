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
//!
//! Code map: `program` (specs, limits, discovery), `invocation` (argument
//! slots), `env` (the child's environment), `sandbox` (one run: per-call
//! directory, limits, capture), `process` (exit status, output, group
//! kill), [`helper`] and [`confine`] (the confining side),
//! [`probe`] (verification), [`catalog`] (the programs ffmcp's servers use).
//!
//! `ffmcp guard` (crate `ffmcp-guard`) runs long-lived third-party servers
//! on the same machinery: [`Sandbox::helper_command`] with a
//! [`helper::HelperRequest`] it builds from its policy, [`child_env`],
//! [`GroupKill`], [`exit_info`], [`find_on_path`] and [`world_writable`].

// The one home of process creation (see clippy.toml).
#![allow(clippy::disallowed_methods)]

pub mod catalog;
pub mod confine;
mod env;
pub mod helper;
mod invocation;
pub mod probe;
mod process;
mod program;
mod sandbox;

pub use confine::{Applied, ResourceLimits};
use env::CHILD_PATH;
pub use env::{child_env, is_dangerous_env};
pub use helper::{HELPER_ARG, run_if_requested};
use invocation::Slot;
pub use invocation::{Invocation, OptValue};
pub use probe::ProbeReport;
pub use process::{ExitInfo, GroupKill, Output, exit_info};
pub use program::{ExecLimits, Program, ProgramSpec, Programs, find_on_path, world_writable};
pub use sandbox::Sandbox;

use std::time::Duration;

/// Environment variable: `1` turns on strict mode (as `--strict` does).
pub const STRICT_ENV: &str = "FF_STRICT";

static STRICT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns strict mode on for this process (`--strict`, or `FF_STRICT` in
/// the configuration: the binary sets it once at start).
///
/// A process-wide switch rather than a field of the sandbox: every
/// sandbox of the process must refuse alike.
pub fn set_strict(yes: bool) {
    STRICT.store(yes, std::sync::atomic::Ordering::Relaxed);
}

/// Strict mode: refuse to run a program when a protection is unavailable.
pub fn strict_mode() -> bool {
    STRICT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Longest single argument.
pub const MAX_ARG_BYTES: usize = 32 * 1024;
/// Longest whole command line.
pub const MAX_ARGV_BYTES: usize = 256 * 1024;
/// Most arguments in one invocation.
pub const MAX_ARGS: usize = 1024;
/// Longest option value word.
const MAX_WORD_BYTES: usize = 1024;

/// Why a program did not run, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The program is not allowlisted or not installed.
    #[error("{program} is not available: {reason}")]
    NotAvailable {
        /// The program's name.
        program: String,
        /// Why it is missing.
        reason: String,
    },
    /// The program's spec asks for something never allowed (a dangerous
    /// environment variable, a flag that is not a flag): a bug in ffmcp.
    #[error("invalid program spec for {program}: {reason}")]
    InvalidSpec {
        /// The program's name.
        program: String,
        /// What is wrong with the spec.
        reason: String,
    },
    /// A flag the program's spec does not allow.
    #[error("'{flag}' is not an allowed argument of {program}")]
    UnknownFlag {
        /// The program's name.
        program: String,
        /// The refused flag.
        flag: String,
    },
    /// A value that would be read as an option.
    #[error(
        "the value '{value}' for {program} starts with '-' and would be read as an option; refused"
    )]
    OptionLike {
        /// The program's name.
        program: String,
        /// The refused value.
        value: String,
    },
    /// An argument that breaks a limit or rule of the invocation.
    #[error("invalid argument for {program}: {reason}")]
    InvalidArgument {
        /// The program's name.
        program: String,
        /// What was wrong with the argument.
        reason: String,
    },
    /// The run passed its wall-clock limit; its process group was killed.
    #[error("{program} ran longer than {limit:?} and was stopped")]
    Timeout {
        /// The program's name.
        program: String,
        /// The wall-clock limit it passed.
        limit: Duration,
    },
    /// The run passed its CPU-time limit.
    #[error("{program} used more than {limit} CPU seconds and was stopped")]
    CpuLimit {
        /// The program's name.
        program: String,
        /// The CPU seconds it was allowed.
        limit: u64,
    },
    /// The sandbox helper refused to run the program (a protection strict
    /// mode requires failed) or could not execute it.
    #[error("the sandbox refused to run {program}: {reason}")]
    Refused {
        /// The program's name.
        program: String,
        /// What the helper reported.
        reason: String,
    },
    /// Starting, feeding or reading the process failed.
    #[error("could not run {program}: {reason}")]
    Io {
        /// The program's name.
        program: String,
        /// The underlying I/O error.
        reason: String,
    },
}

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

//! The sandbox helper: the ffmcp binary re-executed as
//! `ffmcp __sandbox-exec <request-json>`. It confines itself (rlimits,
//! Landlock, seccomp, close-on-exec on every descriptor above 2), changes
//! to the per-call directory and `exec`s the target, which inherits every
//! restriction. Running in a fresh, single-threaded process is what lets
//! this stay free of `pre_exec` and unsafe code.
//!
//! Any binary that uses [`super::Sandbox`] must call
//! [`run_if_requested`] first thing in `main`.

// The one home of process creation (see clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::{ffi::OsStr, io::Write, os::unix::process::CommandExt, path::PathBuf, process::Command};

use serde::{Deserialize, Serialize};

use super::{
    confine::{self, Confinement},
    probe::{self, PROBE_ARG, ProbeStage, ProbeTargets},
};

/// The hidden first argument that selects helper mode.
pub const HELPER_ARG: &str = "__sandbox-exec";
/// Prefix of the helper's own messages on stderr.
pub const MESSAGE_PREFIX: &str = "ffmcp-sandbox: ";
/// Exit status when the helper refused or failed before exec.
pub const EXIT_REFUSED: i32 = 125;
/// Exit status when the target could not be executed.
pub const EXIT_NOT_RUN: i32 = 127;

/// What the parent asks the helper to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HelperRequest {
    /// Absolute path of the program (in probe mode: this ffmcp binary).
    pub program: PathBuf,
    /// Arguments, already validated by the program's spec.
    pub args: Vec<String>,
    /// Working directory (the per-call temp dir).
    pub cwd: PathBuf,
    /// What the child is confined to.
    pub confinement: Confinement,
    /// Probe mode: confine, then exec the probe program against these.
    #[serde(default)]
    pub probe: Option<ProbeTargets>,
}

/// Runs the helper (or the probe program) and exits when this process was
/// started as one; returns otherwise.
pub fn run_if_requested() {
    let mut args = std::env::args_os();
    let mode = args.nth(1);
    let code = if mode.as_deref() == Some(OsStr::new(HELPER_ARG)) {
        let request = args.next().unwrap_or_default();
        match serde_json::from_slice::<HelperRequest>(request.as_encoded_bytes()) {
            Ok(request) => run(&request),
            Err(e) => refuse(EXIT_REFUSED, &format!("invalid helper request: {e}")),
        }
    } else if mode.as_deref() == Some(OsStr::new(PROBE_ARG)) {
        probe::run_stage(args.next().unwrap_or_default().as_encoded_bytes())
    } else {
        return;
    };
    std::process::exit(code);
}

fn run(request: &HelperRequest) -> i32 {
    if let Err(e) = std::env::set_current_dir(&request.cwd) {
        return refuse(
            EXIT_REFUSED,
            &format!("cannot enter {}: {e}", request.cwd.display()),
        );
    }
    // Probe mode: a descriptor left open as a careless parent would leave
    // it; the confinement must keep it from the program.
    let secret = match request.probe.as_ref().map(probe::open_inheritable) {
        Some(Err(e)) => return refuse(EXIT_REFUSED, &e),
        Some(Ok(file)) => Some(file),
        None => None,
    };
    let applied = match confine::apply(&request.confinement) {
        Ok(applied) => applied,
        Err(e) => return refuse(EXIT_REFUSED, &e),
    };
    let mut command = Command::new(&request.program);
    if let (Some(targets), Some(secret)) = (&request.probe, &secret) {
        use std::os::fd::AsRawFd;
        let stage = ProbeStage {
            applied,
            targets: targets.clone(),
            fd: secret.as_raw_fd(),
        };
        let json = serde_json::to_string(&stage).unwrap_or_default();
        command.arg(PROBE_ARG).arg(json);
    } else {
        command.args(&request.args);
    }
    // `exec` only returns on failure.
    let err = command.exec();
    refuse(
        EXIT_NOT_RUN,
        &format!("cannot run {}: {err}", request.program.display()),
    )
}

fn refuse(code: i32, message: &str) -> i32 {
    let _ = writeln!(std::io::stderr(), "{MESSAGE_PREFIX}{message}");
    code
}

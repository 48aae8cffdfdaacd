//! The sandbox helper: the ffmcp binary re-executed as
//! `ffmcp __sandbox-exec <request-json>`. It confines itself (rlimits,
//! Landlock, seccomp), changes to the per-call directory and `exec`s the
//! target, which inherits every restriction. Running in a fresh,
//! single-threaded process is what lets this stay free of `pre_exec` and
//! unsafe code.
//!
//! Any binary that uses [`super::Sandbox`] must call
//! [`run_if_requested`] first thing in `main`.

// The one home of process creation (see clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::{
    ffi::OsStr,
    io::Write,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::Command,
};

use serde::{Deserialize, Serialize};

use super::confine::{self, Applied, Confinement};

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
    /// Absolute path of the program; ignored in probe mode.
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Working directory (the per-call temp dir).
    pub cwd: PathBuf,
    pub confinement: Confinement,
    /// Apply the confinement, test it, print a [`ProbeReport`] as JSON.
    pub probe: bool,
}

/// What the probe found: what was applied, and whether it held.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProbeReport {
    pub applied: Applied,
    /// Opening an IPv4 socket failed.
    pub network_blocked: bool,
    /// Starting a process failed.
    pub process_creation_blocked: bool,
    /// Reading a file outside the allowed paths failed.
    pub read_outside_blocked: bool,
    /// Creating a file outside the writable directory failed.
    pub write_outside_blocked: bool,
}

/// Runs the helper and exits when this process was started as one;
/// returns otherwise.
pub fn run_if_requested() {
    let mut args = std::env::args_os();
    if args.nth(1).as_deref() != Some(OsStr::new(HELPER_ARG)) {
        return;
    }
    let request = args.next().unwrap_or_default();
    let code = match serde_json::from_slice::<HelperRequest>(request.as_encoded_bytes()) {
        Ok(request) => run(&request),
        Err(e) => refuse(EXIT_REFUSED, &format!("invalid helper request: {e}")),
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
    let applied = match confine::apply(&request.confinement) {
        Ok(applied) => applied,
        Err(e) => return refuse(EXIT_REFUSED, &e),
    };
    if request.probe {
        return probe(applied, &request.cwd);
    }
    // `exec` only returns on failure.
    let err = Command::new(&request.program).args(&request.args).exec();
    refuse(
        EXIT_NOT_RUN,
        &format!("cannot run {}: {err}", request.program.display()),
    )
}

fn probe(applied: Applied, cwd: &Path) -> i32 {
    let network_blocked = std::net::UdpSocket::bind("127.0.0.1:0").is_err();
    let process_creation_blocked = Command::new("/bin/true")
        .stdin(std::process::Stdio::null())
        .status()
        .is_err();
    // Regular files outside every allowed path (not symlinks into /usr).
    let read_outside_blocked = ["/etc/passwd", "/etc/hostname", "/etc/group"]
        .iter()
        .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
        .all(|p| std::fs::read(p).is_err());
    let outside = cwd
        .parent()
        .unwrap_or(Path::new("/"))
        .join(format!(".ffmcp-probe-{}", std::process::id()));
    let write_outside_blocked = match std::fs::File::create(&outside) {
        Ok(_) => {
            let _ = std::fs::remove_file(&outside);
            false
        }
        Err(_) => true,
    };
    let report = ProbeReport {
        applied,
        network_blocked,
        process_creation_blocked,
        read_outside_blocked,
        write_outside_blocked,
    };
    let json = serde_json::to_string(&report).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    if out
        .write_all(json.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return EXIT_REFUSED;
    }
    0
}

fn refuse(code: i32, message: &str) -> i32 {
    let _ = writeln!(std::io::stderr(), "{MESSAGE_PREFIX}{message}");
    code
}

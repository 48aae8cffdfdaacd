//! Confinement the sandbox helper applies to itself before it execs the
//! target: resource limits, Landlock (filesystem, TCP, and the abstract
//! Unix socket and signal scopes), seccomp (dangerous calls, socket
//! families, and signals where Landlock cannot scope them), and closing
//! every inherited descriptor above 2. Runs single-threaded in a fresh
//! process (the re-exec'd ffmcp binary), so no `pre_exec` and no unsafe
//! code is needed.
//!
//! Socket families are an allowlist: a core::exec program may create no
//! socket at all; a guarded server gets AF_INET/AF_INET6 only when its
//! policy grants `network`, and AF_UNIX only when the policy names socket
//! paths (`unix_sockets`). Every other family (AF_VSOCK, AF_NETLINK,
//! AF_PACKET, …) is always refused. Connecting is what reaches the
//! Docker socket, the D-Bus bus or X11, so refusing the family is the
//! layer that holds on every kernel; Landlock's `RESOLVE_UNIX` right
//! (ABI 9) narrows an allowed AF_UNIX to the named paths where the kernel
//! has it, and [`Applied::missing`] says so where it does not.

#[cfg(target_os = "linux")]
mod linux;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Resource limits of one run. Zero means "leave the inherited limit".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLimits {
    /// CPU seconds (RLIMIT_CPU; SIGXCPU then SIGKILL).
    pub cpu_secs: u64,
    /// Address space in bytes (RLIMIT_AS).
    pub address_space_bytes: u64,
    /// Largest file the child may write (RLIMIT_FSIZE).
    pub file_size_bytes: u64,
    /// Open file descriptors (RLIMIT_NOFILE).
    pub open_files: u64,
    /// Processes of this user (RLIMIT_NPROC; not enforced for root).
    pub processes: u64,
}

/// What the helper confines the child to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Confinement {
    /// Read-only (and executable) paths.
    pub read: Vec<PathBuf>,
    /// Read-write paths (the per-call temp dir).
    pub write: Vec<PathBuf>,
    /// Allow AF_INET/AF_INET6 sockets.
    pub network: bool,
    /// Allow creating processes (threads are always allowed).
    pub subprocesses: bool,
    /// CPU, memory, file-size and descriptor limits (rlimits).
    pub limits: ResourceLimits,
    /// Refuse to run when a protection cannot be applied.
    pub strict: bool,
    /// Pathname Unix sockets the child may connect to; non-empty allows
    /// AF_UNIX sockets (guard policies' `unix_sockets`).
    #[serde(default)]
    pub unix_sockets: Vec<PathBuf>,
    /// Allow `socketpair(AF_UNIX)`: an anonymous connected pair that
    /// reaches nothing outside (Python's asyncio and libuv need one).
    #[serde(default)]
    pub socket_pairs: bool,
    /// Use at most this Landlock ABI, as if the kernel were older: lets
    /// tests exercise the seccomp fallbacks on a new kernel.
    #[serde(default)]
    pub max_landlock_abi: Option<u8>,
}

/// What was actually enforced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Applied {
    /// "fully enforced (ABI 6)", "partially enforced", or why not.
    pub landlock: String,
    /// Every right of Landlock ABI 6 (files, TCP, scopes) is enforced.
    pub landlock_full: bool,
    /// Landlock scopes abstract Unix sockets and signals to the sandbox.
    pub landlock_scopes: bool,
    /// Landlock confines connecting to pathname Unix sockets (ABI 9).
    pub unix_connect_confined: bool,
    /// "active" with what the filter blocks, or why there is no filter.
    pub seccomp: String,
    /// A seccomp filter is installed.
    pub seccomp_active: bool,
    /// The socket families `socket()` accepts, or why there is no filter.
    pub sockets: String,
    /// Neither pathname nor abstract Unix sockets outside the named paths
    /// can be reached.
    pub local_sockets_confined: bool,
    /// How local sockets are confined, or what is missing.
    pub local_sockets: String,
    /// Signals cannot reach processes outside the sandbox.
    pub signals_confined: bool,
    /// Which layer confines signals, or why nothing does.
    pub signals: String,
    /// Every descriptor above 2 is close-on-exec.
    pub inherited_fds_closed: bool,
    /// `PR_SET_NO_NEW_PRIVS` is set: exec cannot gain privileges (setuid).
    pub no_new_privs: bool,
    /// Which resource limits are enforced, or why not.
    pub rlimits: String,
    /// The resource limits were set.
    pub rlimits_active: bool,
}

impl Applied {
    /// The protections that are missing, for `--strict` and logs.
    pub fn missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if !self.landlock_full {
            missing.push(format!("Landlock: {}", self.landlock));
        }
        if !self.seccomp_active {
            missing.push(format!("seccomp: {}", self.seccomp));
        }
        if !self.local_sockets_confined {
            missing.push(format!("local sockets: {}", self.local_sockets));
        }
        if !self.signals_confined {
            missing.push(format!("signals: {}", self.signals));
        }
        if !self.inherited_fds_closed {
            missing.push("inherited descriptors: not closed".to_owned());
        }
        if !self.rlimits_active {
            missing.push(format!("rlimits: {}", self.rlimits));
        }
        missing
    }
}

/// Paths every dynamically linked program needs to start, read-only.
pub const SYSTEM_READ_PATHS: &[&str] = &[
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/sbin",
    "/opt",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/fonts",
    "/etc/alternatives",
    "/etc/ssl/openssl.cnf",
    "/dev/null",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
    "/proc/self",
    "/sys/devices/system/cpu",
];

/// Applies everything, in order: rlimits, Landlock, seccomp, then marks
/// every descriptor above 2 close-on-exec.
pub fn apply(conf: &Confinement) -> Result<Applied, String> {
    let mut applied = Applied::default();
    apply_rlimits(&conf.limits, &mut applied)?;
    imp::landlock(conf, &mut applied)?;
    imp::seccomp(conf, &mut applied)?;
    judge_local_sockets(conf, &mut applied);
    close_inherited(&mut applied);
    if conf.strict {
        let missing = applied.missing();
        if !missing.is_empty() {
            return Err(format!(
                "strict mode: refusing to run without {}",
                missing.join("; ")
            ));
        }
    }
    Ok(applied)
}

/// Whether Unix sockets outside the named paths stay out of reach.
fn judge_local_sockets(conf: &Confinement, applied: &mut Applied) {
    (applied.local_sockets_confined, applied.local_sockets) = if !applied.seccomp_active {
        (
            false,
            "no seccomp filter: AF_UNIX sockets (Docker, D-Bus, X11) are reachable".to_owned(),
        )
    } else if conf.unix_sockets.is_empty() {
        (true, "socket(AF_UNIX) denied by seccomp".to_owned())
    } else {
        let mut gaps = Vec::new();
        if !applied.unix_connect_confined {
            gaps.push("pathname sockets outside `unix_sockets` are reachable (connecting needs Landlock ABI 9, LANDLOCK_ACCESS_FS_RESOLVE_UNIX)");
        }
        if !applied.landlock_scopes {
            gaps.push("abstract sockets are reachable (needs Landlock ABI 6 scopes)");
        }
        if gaps.is_empty() {
            (
                true,
                "AF_UNIX allowed; Landlock limits connects to the named paths and scopes abstract sockets"
                    .to_owned(),
            )
        } else {
            (false, format!("AF_UNIX allowed: {}", gaps.join("; ")))
        }
    };
}

/// Marks every descriptor above 2 close-on-exec, so nothing the parent
/// inherited (`exec 7</secret` before starting ffmcp) reaches the target.
fn close_inherited(applied: &mut Applied) {
    // close_range(3, ~0, CLOSE_RANGE_CLOEXEC) where the kernel has it
    // (5.11+), otherwise each open descriptor; safe because it only sets a
    // flag, it never invalidates a descriptor this process owns.
    close_fds::set_fds_cloexec(3, &[]);
    applied.inherited_fds_closed = true;
}

fn apply_rlimits(limits: &ResourceLimits, applied: &mut Applied) -> Result<(), String> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let set = |resource: Resource, value: u64, name: &str| -> Result<(), String> {
        if value == 0 {
            return Ok(());
        }
        setrlimit(
            resource,
            Rlimit {
                current: Some(value),
                maximum: Some(value),
            },
        )
        .map_err(|e| format!("setting {name} to {value}: {e}"))
    };
    // CPU: the soft limit sends SIGXCPU; one more second, then SIGKILL.
    if limits.cpu_secs > 0 {
        setrlimit(
            Resource::Cpu,
            Rlimit {
                current: Some(limits.cpu_secs),
                maximum: Some(limits.cpu_secs + 1),
            },
        )
        .map_err(|e| format!("setting RLIMIT_CPU: {e}"))?;
    }
    set(Resource::As, limits.address_space_bytes, "RLIMIT_AS")?;
    set(Resource::Fsize, limits.file_size_bytes, "RLIMIT_FSIZE")?;
    set(Resource::Nofile, limits.open_files, "RLIMIT_NOFILE")?;
    set(Resource::Nproc, limits.processes, "RLIMIT_NPROC")?;
    // Never write core dumps of a process that read user documents.
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    applied.rlimits_active = true;
    applied.rlimits = if rustix::process::geteuid().is_root() {
        "cpu, address space, file size, open files (process count is not enforced for root; process creation is blocked by seccomp instead)".to_owned()
    } else {
        "cpu, address space, file size, open files, process count".to_owned()
    };
    Ok(())
}

#[cfg(target_os = "linux")]
use linux as imp;

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{Applied, Confinement};

    pub(super) fn landlock(_: &Confinement, applied: &mut Applied) -> Result<(), String> {
        applied.landlock = "Landlock exists only on Linux".to_owned();
        applied.signals = "no Landlock or seccomp on this system".to_owned();
        Ok(())
    }

    pub(super) fn seccomp(_: &Confinement, applied: &mut Applied) -> Result<(), String> {
        applied.seccomp = "seccomp exists only on Linux".to_owned();
        applied.sockets = "not filtered (no seccomp)".to_owned();
        Ok(())
    }
}

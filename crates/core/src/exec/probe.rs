//! The sandbox probe behind `ffmcp doctor` and strict mode: confine a
//! throwaway helper exactly as a core::exec program is confined, exec a
//! probe program (this binary again) under it, and let that program try
//! every escape: a TCP socket, a new process, reading and writing outside
//! its paths, connecting to a pathname and an abstract Unix socket the
//! parent listens on, creating AF_VSOCK and AF_NETLINK sockets, signalling
//! its parent, and reading a descriptor that was open at exec. The parent
//! checks its listeners too: "blocked" means the attempt failed AND no
//! connection arrived.

// The one home of process creation (see clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::{
    io::Write,
    os::unix::net::UnixListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use serde::{Deserialize, Serialize};

use super::{
    CHILD_PATH, ExecLimits, HELPER_ARG,
    confine::{Applied, Confinement},
    helper::{EXIT_REFUSED, HelperRequest},
};

/// The hidden first argument of the probe program (run by the helper).
pub const PROBE_ARG: &str = "__sandbox-probe";

/// What the probe found: what was applied, and whether it held.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ProbeReport {
    /// What the helper reported as enforced.
    pub applied: Applied,
    /// Opening an IPv4 socket failed.
    pub network_blocked: bool,
    /// Starting a process failed.
    pub process_creation_blocked: bool,
    /// Reading a file outside the allowed paths failed.
    pub read_outside_blocked: bool,
    /// Creating a file outside the writable directory failed.
    pub write_outside_blocked: bool,
    /// Connecting to a pathname Unix socket outside the allowed paths
    /// failed, and its listener saw no connection.
    pub unix_socket_blocked: bool,
    /// Connecting to an abstract Unix socket failed, and its listener saw
    /// no connection.
    pub abstract_socket_blocked: bool,
    /// Creating an AF_VSOCK socket failed.
    pub vsock_blocked: bool,
    /// Creating an AF_NETLINK socket failed.
    pub netlink_blocked: bool,
    /// `kill(getppid(), 0)` failed.
    pub signal_parent_blocked: bool,
    /// A descriptor open (not close-on-exec) in the helper was closed in
    /// the program it exec'd.
    pub inherited_fd_blocked: bool,
}

impl ProbeReport {
    /// Each escape tried, and whether it was blocked.
    pub fn checks(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("network socket", self.network_blocked),
            ("process creation", self.process_creation_blocked),
            ("read outside allowed paths", self.read_outside_blocked),
            (
                "write outside the call directory",
                self.write_outside_blocked,
            ),
            (
                "connect to a pathname unix socket",
                self.unix_socket_blocked,
            ),
            (
                "connect to an abstract unix socket",
                self.abstract_socket_blocked,
            ),
            ("AF_VSOCK socket", self.vsock_blocked),
            ("AF_NETLINK socket", self.netlink_blocked),
            ("kill(getppid(), 0)", self.signal_parent_blocked),
            ("read an inherited descriptor", self.inherited_fd_blocked),
        ]
    }

    /// Every protection applied and every escape blocked.
    pub fn all_held(&self) -> bool {
        self.applied.missing().is_empty() && self.checks().iter().all(|(_, blocked)| *blocked)
    }

    /// What is missing or did not hold, for strict mode and logs.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = self.applied.missing();
        failures.extend(
            self.checks()
                .into_iter()
                .filter(|(_, blocked)| !blocked)
                .map(|(name, _)| format!("{name}: NOT blocked")),
        );
        failures
    }
}

/// What the probe program attacks; set up by the parent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeTargets {
    /// A pathname socket the parent listens on, outside the allowed paths.
    pub unix_socket: PathBuf,
    /// An abstract socket name the parent listens on.
    pub abstract_name: String,
    /// A file the helper opens (not close-on-exec) before confining itself.
    pub secret: PathBuf,
}

/// What the helper hands to the probe program.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ProbeStage {
    pub applied: Applied,
    pub targets: ProbeTargets,
    /// The descriptor number of the open secret.
    pub fd: i32,
}

/// Runs the probe with `helper` (an ffmcp binary); `max_landlock_abi` as
/// in [`Confinement`].
pub(super) async fn run(
    helper: &Path,
    max_landlock_abi: Option<u8>,
) -> Result<ProbeReport, String> {
    // File system work on the blocking pool, not on an async thread.
    let dir = tokio::task::spawn_blocking(probe_dir)
        .await
        .map_err(|e| format!("creating a temp dir: {e}"))??;
    let report = probe_in(&dir, helper, max_landlock_abi).await;
    let _ = tokio::task::spawn_blocking(move || drop(dir)).await;
    report
}

/// A temp dir with an empty `work` dir (the probe's writable place) and a
/// `secret` file it must not be able to read.
fn probe_dir() -> Result<tempfile::TempDir, String> {
    let dir = tempfile::Builder::new()
        .prefix("ffmcp-probe-")
        .tempdir()
        .map_err(|e| format!("creating a temp dir: {e}"))?;
    let work = dir.path().join("work");
    std::fs::create_dir(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "ffmcp probe secret")
        .map_err(|e| format!("creating {}: {e}", secret.display()))?;
    Ok(dir)
}

async fn probe_in(
    dir: &tempfile::TempDir,
    helper: &Path,
    max_landlock_abi: Option<u8>,
) -> Result<ProbeReport, String> {
    let work = dir.path().join("work");
    let secret = dir.path().join("secret");
    let unix_socket = dir.path().join("outside.sock");
    let pathname = UnixListener::bind(&unix_socket)
        .map_err(|e| format!("listening on {}: {e}", unix_socket.display()))?;
    let abstract_name = format!("ffmcp-probe-{}-{}", std::process::id(), fastrand::u64(..));
    let abstract_listener = listen_abstract(&abstract_name)?;
    for listener in std::iter::once(&pathname).chain(abstract_listener.as_ref()) {
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("probe listener: {e}"))?;
    }
    let request = HelperRequest {
        program: helper.to_path_buf(),
        args: Vec::new(),
        cwd: work.clone(),
        confinement: Confinement {
            read: vec![helper.to_path_buf()],
            write: vec![work],
            network: false,
            subprocesses: false,
            limits: ExecLimits::default().resources,
            strict: false,
            unix_sockets: Vec::new(),
            socket_pairs: false,
            max_landlock_abi,
        },
        probe: Some(ProbeTargets {
            unix_socket,
            abstract_name,
            secret,
        }),
    };
    let json = serde_json::to_string(&request).map_err(|e| e.to_string())?;
    let out = tokio::process::Command::new(helper)
        .arg(HELPER_ARG)
        .arg(json)
        .env_clear()
        .env("PATH", CHILD_PATH)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .map_err(|_| "the probe did not finish in 20 s".to_owned())?
        .map_err(|e| format!("starting {}: {e}", helper.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} ({})",
            String::from_utf8_lossy(&out.stderr).trim(),
            out.status
        ));
    }
    let mut report: ProbeReport =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("unreadable probe report: {e}"))?;
    // A connect that "failed" but reached the listener still leaked.
    report.unix_socket_blocked &= nothing_arrived(&pathname);
    report.abstract_socket_blocked &= abstract_listener.as_ref().is_none_or(nothing_arrived);
    Ok(report)
}

fn nothing_arrived(listener: &UnixListener) -> bool {
    matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[cfg(target_os = "linux")]
fn listen_abstract(name: &str) -> Result<Option<UnixListener>, String> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)
        .map_err(|e| format!("abstract socket name: {e}"))?;
    UnixListener::bind_addr(&addr)
        .map(Some)
        .map_err(|e| format!("listening on @{name}: {e}"))
}

/// Abstract Unix sockets exist only on Linux: nothing to reach elsewhere.
#[cfg(not(target_os = "linux"))]
fn listen_abstract(_: &str) -> Result<Option<UnixListener>, String> {
    Ok(None)
}

/// In the helper, before confining: opens the secret without
/// close-on-exec, as a descriptor inherited from a careless parent would be.
pub(super) fn open_inheritable(targets: &ProbeTargets) -> Result<std::fs::File, String> {
    let file = std::fs::File::open(&targets.secret)
        .map_err(|e| format!("opening {}: {e}", targets.secret.display()))?;
    rustix::io::fcntl_setfd(&file, rustix::io::FdFlags::empty())
        .map_err(|e| format!("clearing close-on-exec: {e}"))?;
    Ok(file)
}

/// The probe program: runs when this binary was started with
/// [`PROBE_ARG`] (by the helper, confined); prints a [`ProbeReport`].
pub(super) fn run_stage(stage_json: &[u8]) -> i32 {
    let stage: ProbeStage = match serde_json::from_slice(stage_json) {
        Ok(stage) => stage,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "invalid probe stage: {e}");
            return EXIT_REFUSED;
        }
    };
    // First, before this process opens anything that could reuse the number.
    let inherited_fd_blocked = !std::fs::read_link(format!("/proc/self/fd/{}", stage.fd))
        .is_ok_and(|target| target == stage.targets.secret);
    let network_blocked = std::net::UdpSocket::bind("127.0.0.1:0").is_err();
    let process_creation_blocked = Command::new("/bin/true")
        .stdin(Stdio::null())
        .status()
        .is_err();
    // Regular files outside every allowed path (not symlinks into /usr).
    let read_outside_blocked = ["/etc/passwd", "/etc/hostname", "/etc/group"]
        .iter()
        .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
        .all(|p| std::fs::read(p).is_err());
    let cwd = std::env::current_dir().unwrap_or_default();
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
    let unix_socket_blocked =
        std::os::unix::net::UnixStream::connect(&stage.targets.unix_socket).is_err();
    let abstract_socket_blocked = connect_abstract(&stage.targets.abstract_name).is_err();
    use rustix::net::{AddressFamily, SocketType, socket};
    let vsock_blocked = socket(AddressFamily::VSOCK, SocketType::STREAM, None).is_err();
    let netlink_blocked = socket(AddressFamily::NETLINK, SocketType::RAW, None).is_err();
    let signal_parent_blocked = rustix::process::getppid()
        .is_none_or(|parent| rustix::process::test_kill_process(parent).is_err());
    let report = ProbeReport {
        applied: stage.applied,
        network_blocked,
        process_creation_blocked,
        read_outside_blocked,
        write_outside_blocked,
        unix_socket_blocked,
        abstract_socket_blocked,
        vsock_blocked,
        netlink_blocked,
        signal_parent_blocked,
        inherited_fd_blocked,
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

#[cfg(target_os = "linux")]
fn connect_abstract(name: &str) -> std::io::Result<std::os::unix::net::UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    std::os::unix::net::UnixStream::connect_addr(&addr)
}

#[cfg(not(target_os = "linux"))]
fn connect_abstract(_: &str) -> std::io::Result<std::os::unix::net::UnixStream> {
    Err(std::io::ErrorKind::Unsupported.into())
}

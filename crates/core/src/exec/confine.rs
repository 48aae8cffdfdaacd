//! Confinement the sandbox helper applies to itself before it execs the
//! target: resource limits, Landlock and seccomp. Runs single-threaded in a
//! fresh process (the re-exec'd ffmcp binary), so no `pre_exec` and no
//! unsafe code is needed.

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
    /// Allow network sockets.
    pub network: bool,
    /// Allow creating processes (threads are always allowed).
    pub subprocesses: bool,
    pub limits: ResourceLimits,
    /// Refuse to run when a protection cannot be applied.
    pub strict: bool,
}

/// What was actually enforced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// "fully enforced (ABI 6)", "partially enforced", or why not.
    pub landlock: String,
    pub landlock_full: bool,
    pub seccomp: String,
    pub seccomp_active: bool,
    pub no_new_privs: bool,
    pub rlimits: String,
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

/// Applies everything, in order: rlimits, Landlock, seccomp.
pub fn apply(conf: &Confinement) -> Result<Applied, String> {
    let mut applied = Applied::default();
    apply_rlimits(&conf.limits, &mut applied)?;
    imp::landlock(conf, &mut applied)?;
    imp::seccomp(conf, &mut applied)?;
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
mod imp {
    use std::collections::BTreeMap;

    use landlock::{
        ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, LandlockStatus, Ruleset,
        RulesetAttr, RulesetCreatedAttr, RulesetStatus, path_beneath_rules,
    };
    use seccompiler::{
        SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };

    use super::{Applied, Confinement, SYSTEM_READ_PATHS};

    /// The newest ABI this code asks for; older kernels get best effort.
    const WANTED_ABI: ABI = ABI::V6;

    pub(super) fn landlock(conf: &Confinement, applied: &mut Applied) -> Result<(), String> {
        let err = |e: landlock::RulesetError| format!("Landlock: {e}");
        let mut ruleset = Ruleset::default()
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(AccessFs::from_all(WANTED_ABI))
            .map_err(err)?;
        if !conf.network {
            ruleset = ruleset
                .handle_access(AccessNet::from_all(WANTED_ABI))
                .map_err(err)?;
        }
        let read: Vec<&std::path::Path> = SYSTEM_READ_PATHS
            .iter()
            .map(std::path::Path::new)
            .chain(conf.read.iter().map(|p| p.as_path()))
            .collect();
        let status = ruleset
            .create()
            .map_err(err)?
            .add_rules(path_beneath_rules(read, AccessFs::from_read(WANTED_ABI)))
            .map_err(err)?
            .add_rules(path_beneath_rules(
                ["/dev/null"],
                AccessFs::from_read(WANTED_ABI) | AccessFs::WriteFile,
            ))
            .map_err(err)?
            .add_rules(path_beneath_rules(
                &conf.write,
                AccessFs::from_all(WANTED_ABI),
            ))
            .map_err(err)?
            .restrict_self()
            .map_err(err)?;
        applied.no_new_privs = status.no_new_privs;
        let abi = match status.landlock {
            LandlockStatus::Available { effective_abi, .. } => format!("{effective_abi:?}"),
            LandlockStatus::NotEnabled => "not enabled in this kernel".to_owned(),
            LandlockStatus::NotImplemented => "not built into this kernel".to_owned(),
        };
        (applied.landlock, applied.landlock_full) = match status.ruleset {
            RulesetStatus::FullyEnforced => (format!("fully enforced (ABI {abi})"), true),
            RulesetStatus::PartiallyEnforced => (
                format!("partially enforced (kernel ABI {abi} lacks some rights)"),
                false,
            ),
            RulesetStatus::NotEnforced => (format!("not enforced ({abi})"), false),
        };
        Ok(())
    }

    pub(super) fn seccomp(conf: &Confinement, applied: &mut Applied) -> Result<(), String> {
        let arch = match TargetArch::try_from(std::env::consts::ARCH) {
            Ok(arch) => arch,
            Err(_) => {
                applied.seccomp = format!("no filter for {}", std::env::consts::ARCH);
                return Ok(());
            }
        };
        let err = |e: seccompiler::BackendError| format!("seccomp: {e}");
        let mut denied: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        for nr in always_denied() {
            denied.insert(nr, Vec::new());
        }
        if !conf.network {
            let mut rules = Vec::new();
            for domain in [
                libc::AF_INET,
                libc::AF_INET6,
                libc::AF_PACKET,
                libc::AF_NETLINK,
            ] {
                rules.push(
                    SeccompRule::new(vec![
                        SeccompCondition::new(
                            0,
                            SeccompCmpArgLen::Dword,
                            SeccompCmpOp::Eq,
                            domain as u64,
                        )
                        .map_err(err)?,
                    ])
                    .map_err(err)?,
                );
            }
            denied.insert(libc::SYS_socket, rules);
        }
        if !conf.subprocesses {
            // clone without CLONE_THREAD makes a process; with it, a thread.
            denied.insert(
                libc::SYS_clone,
                vec![
                    SeccompRule::new(vec![
                        SeccompCondition::new(
                            0,
                            SeccompCmpArgLen::Qword,
                            SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
                            0,
                        )
                        .map_err(err)?,
                    ])
                    .map_err(err)?,
                ],
            );
            #[cfg(target_arch = "x86_64")]
            for nr in [libc::SYS_fork, libc::SYS_vfork] {
                denied.insert(nr, Vec::new());
            }
            // Staying in our process group keeps the group kill complete.
            for nr in [libc::SYS_setsid, libc::SYS_setpgid] {
                denied.insert(nr, Vec::new());
            }
        }
        let eperm = SeccompFilter::new(
            denied,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )
        .map_err(err)?;
        // clone3 passes its flags in memory, where a filter cannot look:
        // ENOSYS makes libc fall back to clone, which the filter above sees.
        let enosys = SeccompFilter::new(
            BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )
        .map_err(err)?;
        for filter in [enosys, eperm] {
            let program: seccompiler::BpfProgram = filter.try_into().map_err(err)?;
            seccompiler::apply_filter(&program).map_err(|e| format!("seccomp: {e}"))?;
        }
        applied.seccomp_active = true;
        applied.seccomp = format!(
            "active: no {}ptrace, kernel modules, kexec, bpf, mount, namespaces, keyrings, io_uring{}",
            if conf.network {
                ""
            } else {
                "network sockets, "
            },
            if conf.subprocesses {
                ""
            } else {
                ", new processes"
            }
        );
        Ok(())
    }

    /// Calls no document converter needs and every escape wants.
    fn always_denied() -> Vec<i64> {
        vec![
            libc::SYS_ptrace,
            libc::SYS_process_vm_readv,
            libc::SYS_process_vm_writev,
            libc::SYS_kcmp,
            libc::SYS_init_module,
            libc::SYS_finit_module,
            libc::SYS_delete_module,
            libc::SYS_kexec_load,
            libc::SYS_kexec_file_load,
            libc::SYS_bpf,
            libc::SYS_perf_event_open,
            libc::SYS_mount,
            libc::SYS_umount2,
            libc::SYS_pivot_root,
            libc::SYS_chroot,
            libc::SYS_setns,
            libc::SYS_unshare,
            libc::SYS_keyctl,
            libc::SYS_add_key,
            libc::SYS_request_key,
            libc::SYS_userfaultfd,
            libc::SYS_io_uring_setup,
            libc::SYS_io_uring_enter,
            libc::SYS_io_uring_register,
            libc::SYS_swapon,
            libc::SYS_swapoff,
            libc::SYS_reboot,
            libc::SYS_open_by_handle_at,
        ]
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{Applied, Confinement};

    pub(super) fn landlock(_: &Confinement, applied: &mut Applied) -> Result<(), String> {
        applied.landlock = "Landlock exists only on Linux".to_owned();
        Ok(())
    }

    pub(super) fn seccomp(_: &Confinement, applied: &mut Applied) -> Result<(), String> {
        applied.seccomp = "seccomp exists only on Linux".to_owned();
        Ok(())
    }
}

//! Landlock and seccomp on Linux.

use std::{collections::BTreeMap, path::Path};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, LandlockStatus, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope, path_beneath_rules,
};
use seccompiler::{
    SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    TargetArch,
};

use super::{Applied, Confinement, SYSTEM_READ_PATHS};

/// The ABI whose every right we require: files, TCP, and the abstract Unix
/// socket and signal scopes. Older kernels get best effort.
const REQUIRED_ABI: ABI = ABI::V6;
/// Newer rights asked for where the kernel has them: `RESOLVE_UNIX` (ABI 9)
/// confines connecting to pathname Unix sockets.
const WANTED_ABI: ABI = ABI::V9;

pub(super) fn landlock(conf: &Confinement, applied: &mut Applied) -> Result<(), String> {
    let err = |e: landlock::RulesetError| format!("Landlock: {e}");
    let (required, wanted) = match conf.max_landlock_abi {
        Some(max) => {
            let max = ABI::from(i32::from(max));
            (max.min(REQUIRED_ABI), max.min(WANTED_ABI))
        }
        None => (REQUIRED_ABI, WANTED_ABI),
    };
    let mut ruleset = Ruleset::default().set_compatibility(CompatLevel::BestEffort);
    if wanted == ABI::Unsupported {
        applied.landlock = "not enforced (limited to ABI 0)".to_owned();
        applied.signals = signals_unscoped();
        return Ok(());
    }
    ruleset = ruleset
        .handle_access(AccessFs::from_all(wanted))
        .map_err(err)?;
    if !conf.network && required >= ABI::V4 {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(required))
            .map_err(err)?;
    }
    if required >= ABI::V6 {
        ruleset = ruleset.scope(Scope::from_all(required)).map_err(err)?;
    }
    let read: Vec<&Path> = SYSTEM_READ_PATHS
        .iter()
        .map(Path::new)
        .chain(conf.read.iter().map(|p| p.as_path()))
        .collect();
    let status = ruleset
        .create()
        .map_err(err)?
        .add_rules(path_beneath_rules(read, AccessFs::from_read(wanted)))
        .map_err(err)?
        .add_rules(path_beneath_rules(
            ["/dev/null"],
            AccessFs::from_read(wanted) | AccessFs::WriteFile,
        ))
        .map_err(err)?
        .add_rules(path_beneath_rules(&conf.write, AccessFs::from_all(wanted)))
        .map_err(err)?
        .add_rules(path_beneath_rules(
            if wanted >= ABI::V9 {
                &conf.unix_sockets[..]
            } else {
                &[]
            },
            AccessFs::ResolveUnix,
        ))
        .map_err(err)?
        .restrict_self()
        .map_err(err)?;
    applied.no_new_privs = status.no_new_privs;
    let effective = match status.landlock {
        LandlockStatus::Available { effective_abi, .. } => Some(effective_abi.min(wanted)),
        LandlockStatus::NotEnabled | LandlockStatus::NotImplemented => None,
    };
    let abi = match (status.landlock, effective) {
        (_, Some(abi)) => format!("{abi:?}"),
        (LandlockStatus::NotEnabled, None) => "not enabled in this kernel".to_owned(),
        _ => "not built into this kernel".to_owned(),
    };
    let enforced = status.ruleset != RulesetStatus::NotEnforced;
    let at_least = |abi: ABI| enforced && effective.is_some_and(|e| e >= abi);
    applied.landlock_full = at_least(REQUIRED_ABI) && required >= REQUIRED_ABI;
    applied.landlock_scopes = applied.landlock_full;
    applied.unix_connect_confined = at_least(ABI::V9);
    applied.landlock = match status.ruleset {
        RulesetStatus::NotEnforced => format!("not enforced ({abi})"),
        _ if applied.landlock_full => format!("fully enforced (ABI {abi})"),
        _ => format!("partially enforced (ABI {abi} lacks some rights)"),
    };
    applied.signals = if applied.landlock_scopes {
        applied.signals_confined = true;
        "Landlock signal scope: only processes inside the sandbox".to_owned()
    } else {
        signals_unscoped()
    };
    Ok(())
}

fn signals_unscoped() -> String {
    "no Landlock signal scope (needs ABI 6) and no seccomp filter".to_owned()
}

pub(super) fn seccomp(conf: &Confinement, applied: &mut Applied) -> Result<(), String> {
    let arch = match TargetArch::try_from(std::env::consts::ARCH) {
        Ok(arch) => arch,
        Err(_) => {
            applied.seccomp = format!("no filter for {}", std::env::consts::ARCH);
            applied.sockets = "not filtered (no seccomp)".to_owned();
            return Ok(());
        }
    };
    let err = |e: seccompiler::BackendError| format!("seccomp: {e}");
    let mut denied: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for nr in always_denied() {
        denied.insert(nr, Vec::new());
    }
    let mut families: Vec<(i32, &str)> = Vec::new();
    if conf.network {
        families.extend([(libc::AF_INET, "AF_INET"), (libc::AF_INET6, "AF_INET6")]);
    }
    if !conf.unix_sockets.is_empty() {
        families.push((libc::AF_UNIX, "AF_UNIX"));
    }
    // socket(domain, …): refused unless the domain is on the list.
    denied.insert(
        libc::SYS_socket,
        unless_arg0_in(families.iter().map(|(f, _)| *f))?,
    );
    let pairs: &[i32] = if conf.socket_pairs {
        &[libc::AF_UNIX]
    } else {
        &[]
    };
    denied.insert(libc::SYS_socketpair, unless_arg0_in(pairs.iter().copied())?);
    applied.sockets = match families.is_empty() {
        true => "socket(): no family".to_owned(),
        false => format!(
            "socket(): {} only",
            families
                .iter()
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    } + if conf.socket_pairs {
        "; socketpair(): AF_UNIX only"
    } else {
        "; socketpair(): none"
    };
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
    let signal_filter = !applied.landlock_scopes;
    if signal_filter {
        // Without the Landlock signal scope: signals only to this process
        // (the helper's pid is the target's after exec) and its group.
        let me = rustix::process::getpid().as_raw_nonzero().get();
        let pid = |v: i32| u64::from(v as u32);
        denied.insert(
            libc::SYS_kill,
            vec![arg0_none_of(&[pid(0), pid(me), pid(me.wrapping_neg())])?],
        );
        for nr in [
            libc::SYS_tkill,
            libc::SYS_tgkill,
            libc::SYS_rt_sigqueueinfo,
            libc::SYS_rt_tgsigqueueinfo,
        ] {
            denied.insert(nr, vec![arg0_none_of(&[pid(me)])?]);
        }
        // A pidfd says nothing a filter can compare: refused outright.
        denied.insert(libc::SYS_pidfd_send_signal, Vec::new());
        applied.signals_confined = true;
        applied.signals = "seccomp (no Landlock signal scope on this kernel): kill, tkill, tgkill and rt_(tg)sigqueueinfo only to the program itself and its process group; pidfd_send_signal refused".to_owned();
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
        "active: {}; no ptrace, kernel modules, kexec, bpf, mount, namespaces, keyrings, io_uring{}{}",
        applied.sockets,
        if conf.subprocesses {
            ""
        } else {
            ", new processes"
        },
        if signal_filter {
            ", signals outside the process group"
        } else {
            ""
        }
    );
    Ok(())
}

/// Rules matching when the first argument (an int) is none of `allowed`;
/// with nothing allowed, the call always matches.
fn unless_arg0_in(allowed: impl Iterator<Item = i32>) -> Result<Vec<SeccompRule>, String> {
    let allowed: Vec<u64> = allowed.map(|v| u64::from(v as u32)).collect();
    if allowed.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![arg0_none_of(&allowed)?])
}

/// One rule: the first argument (32 bits) differs from every value.
fn arg0_none_of(values: &[u64]) -> Result<SeccompRule, String> {
    let err = |e: seccompiler::BackendError| format!("seccomp: {e}");
    let conditions = values
        .iter()
        .map(|v| SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, *v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    SeccompRule::new(conditions).map_err(err)
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

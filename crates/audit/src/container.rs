//! Rule: containers that are not contained. `docker run` / `podman run`
//! with the host's root or secrets mounted, the Docker socket mounted (root
//! on the host), `--privileged` or extra capabilities, or the host's network
//! or process namespaces. `ffmcp guard` cannot confine these: the container
//! is started by a daemon outside any sandbox, so the flags must change.

use super::*;

/// `docker run` options that take a value (the next word when not `=`).
const VALUE_OPTS: &str = "-v --volume --mount -e --env --env-file --name -p --publish --network --net \
    -u --user -w --workdir --entrypoint -l --label --label-file -h --hostname --cap-add --cap-drop \
    --security-opt --device --pid --ipc --uts --userns --cgroupns --add-host --dns --dns-search \
    --dns-option --expose --health-cmd --health-interval --health-retries --health-timeout \
    --health-start-period --log-driver --log-opt --memory -m --memory-swap --cpus --cpu-shares -c \
    --cpuset-cpus --pull --platform --restart --runtime --shm-size --stop-signal --stop-timeout \
    --tmpfs --ulimit --volumes-from --volume-driver --cidfile --ip --ip6 --mac-address --link \
    --gpus --group-add --annotation --attach -a --blkio-weight --pids-limit --isolation \
    --storage-opt --sysctl --init-path --oom-score-adj --network-alias --cgroup-parent";

const ENGINES: &str = "docker podman nerdctl";

pub(super) fn container_rules(program: &str, args: &[String]) -> Vec<Finding> {
    if !listed(ENGINES, program) {
        return Vec::new();
    }
    let Some(options) = run_options(args) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    let mut i = 0;
    while let Some(arg) = options.get(i) {
        let (name, value, used_next) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned()), false),
            _ if listed(VALUE_OPTS, arg) => (arg.as_str(), options.get(i + 1).cloned(), true),
            _ => (arg.as_str(), None, false),
        };
        i += if used_next { 2 } else { 1 };
        let value = value.unwrap_or_default();
        match name {
            "--privileged" if value != "false" => findings.push(privileged("--privileged")),
            "--cap-add" => {
                let cap = value.to_ascii_uppercase();
                let cap = cap.trim_start_matches("CAP_");
                if matches!(
                    cap,
                    "ALL" | "SYS_ADMIN" | "SYS_PTRACE" | "SYS_MODULE" | "DAC_READ_SEARCH" | "BPF"
                ) {
                    findings.push(privileged(&format!("--cap-add {value}")));
                }
            }
            "--security-opt" => {
                let v = value.replace(':', "=").to_ascii_lowercase();
                if matches!(
                    v.as_str(),
                    "seccomp=unconfined" | "apparmor=unconfined" | "label=disable"
                ) || v == "systempaths=unconfined"
                {
                    findings.push(privileged(&format!("--security-opt {value}")));
                }
            }
            "--device" => findings.push(privileged(&format!("--device {value}"))),
            "--network" | "--net" | "--pid" | "--ipc" | "--uts" | "--userns" | "--cgroupns"
                if value == "host" =>
            {
                let what = if matches!(name, "--network" | "--net") {
                    "the host's network: it reaches every service listening on this machine's loopback (databases, admin ports, other MCP servers)"
                } else {
                    "a host namespace: it sees and can signal the host's processes or shares its kernel identity"
                };
                findings.push(finding(
                    Severity::High,
                    "container-host-namespace",
                    format!("the container runs in {what} (`{name}=host`)"),
                    format!("Drop `{name}=host`; publish only the ports the server needs (`-p 127.0.0.1:PORT:PORT`)."),
                ));
            }
            "-v" | "--volume" => findings.extend(mount_finding(volume_source(&value), &value)),
            "--mount" => findings.extend(mount_finding(mount_source(&value), &value)),
            _ => {}
        }
    }
    findings
}

/// The options of `run` (or `container run`, `create`) up to the image.
fn run_options(args: &[String]) -> Option<Vec<String>> {
    let mut i = 0;
    // Global options before the subcommand (`--context x`, `-H host`).
    while let Some(arg) = args.get(i) {
        if !arg.starts_with('-') {
            break;
        }
        let valued = matches!(
            arg.as_str(),
            "-H" | "--host" | "--context" | "-c" | "--config" | "-l" | "--log-level"
        );
        i += if valued { 2 } else { 1 };
    }
    let mut sub = args.get(i)?.as_str();
    if sub == "container" {
        i += 1;
        sub = args.get(i)?.as_str();
    }
    if !matches!(sub, "run" | "create") {
        return None;
    }
    let mut options = Vec::new();
    i += 1;
    while let Some(arg) = args.get(i) {
        if arg == "--" || !arg.starts_with('-') {
            break;
        }
        options.push(arg.clone());
        if listed(VALUE_OPTS, arg) {
            options.extend(args.get(i + 1).cloned());
            i += 1;
        } else if arg.len() > 2 && !arg.starts_with("--") && arg.starts_with("-v") {
            // `-v/:/host` written as one word.
            options.pop();
            options.push("-v".into());
            options.push(arg[2..].to_owned());
        }
        i += 1;
    }
    Some(options)
}

fn privileged(flag: &str) -> Finding {
    finding(
        Severity::High,
        "container-privileged",
        format!("`{flag}` gives the container the host's devices or kernel powers: whatever runs in it can take over the host"),
        "Remove the flag; an MCP server never needs it. Add only the specific device or capability the server documents, if any.".into(),
    )
}

/// `SRC:DST[:opts]` → SRC (named volumes have no `/`).
fn volume_source(spec: &str) -> String {
    // Windows drive letters (`C:\x:/y`) keep their first colon.
    let b = spec.as_bytes();
    if b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/') {
        let rest = &spec[2..];
        return format!("{}{}", &spec[..2], rest.split(':').next().unwrap_or(rest));
    }
    spec.split(':').next().unwrap_or(spec).to_owned()
}

/// `type=bind,source=/,target=/host` → `/`.
fn mount_source(spec: &str) -> String {
    spec.split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| matches!(k.trim(), "source" | "src"))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn mount_finding(source: String, spec: &str) -> Option<Finding> {
    let normal = normalise_host_path(&source);
    if normal.ends_with(".sock") || normal.contains("docker.sock") {
        return Some(finding(
            Severity::High,
            "container-socket",
            format!("the container mounts the container engine's socket ({}): it can start a privileged container and so is root on the host", quote(spec, 80)),
            "Remove the socket mount. A server that must manage containers needs a dedicated, restricted API proxy, not the raw socket.".into(),
        ));
    }
    let what = sensitive_host_path(&normal)?;
    Some(finding(
        Severity::High,
        "container-host-mount",
        format!(
            "the container mounts {what} ({}): a compromised server reads or rewrites it",
            quote(spec, 80)
        ),
        "Mount only the directory the server works on (read-only where possible, `:ro`), never the host root, a home directory, or system and credential directories.".into(),
    ))
}

/// Lower-case, forward slashes, no trailing or doubled slashes, `$HOME` → `~`.
fn normalise_host_path(path: &str) -> String {
    let mut p = path.trim().replace('\\', "/");
    for home in ["${home}", "$home", "%userprofile%", "$env:userprofile"] {
        if p.to_ascii_lowercase().starts_with(home) {
            p = format!("~{}", &p[home.len()..]);
        }
    }
    let mut out = String::new();
    for part in p.split('/') {
        if part.is_empty() || part == "." {
            continue;
        }
        out.push('/');
        out.push_str(part);
    }
    let absolute = p.starts_with('/');
    let out = if absolute {
        if out.is_empty() { "/".into() } else { out }
    } else {
        out.trim_start_matches('/').to_owned()
    };
    out.to_ascii_lowercase()
}

/// Why a host path is too much to hand a container, if it is.
pub(super) fn sensitive_host_path(normal: &str) -> Option<&'static str> {
    const SYSTEM: &[&str] = &[
        "/etc",
        "/root",
        "/home",
        "/users",
        "/var",
        "/var/run",
        "/run",
        "/proc",
        "/sys",
        "/dev",
        "/boot",
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/private",
        "/var/lib",
        "/var/lib/docker",
        "/system",
        "/library",
    ];
    const SECRET_DIRS: &[&str] = &[
        ".ssh",
        ".aws",
        ".gnupg",
        ".kube",
        ".docker",
        ".config",
        ".azure",
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".git-credentials",
        ".password-store",
        ".local",
        ".bashrc",
        ".profile",
        ".zshrc",
        "library",
    ];
    if normal == "/" || (normal.len() == 2 && normal.ends_with(':')) {
        return Some("the host's root directory");
    }
    if SYSTEM.contains(&normal) {
        return Some("a host system directory");
    }
    let parts: Vec<&str> = normal.trim_start_matches('/').split('/').collect();
    let home_rest: Option<&[&str]> = match parts.as_slice() {
        ["~", rest @ ..] => Some(rest),
        ["home" | "users", _user, rest @ ..] => Some(rest),
        [drive, "users", _user, rest @ ..] if drive.ends_with(':') => Some(rest),
        _ => None,
    };
    match home_rest {
        Some([]) => Some("a home directory on the host"),
        Some([first, ..]) if SECRET_DIRS.contains(first) => {
            Some("a credential or startup-file location in a home directory")
        }
        _ if normal == "~" => Some("a home directory on the host"),
        _ => None,
    }
}

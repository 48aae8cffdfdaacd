//! Entries already wrapped in `ffmcp guard --policy P -- …` are judged on P:
//! what the guard confines (inline code, unpinned or remote packages,
//! scripts in temp folders, interpreter variables) is not reported again;
//! what the policy grants is: the network, writes to the home directory,
//! reads of the whole disk or of credential folders, new processes.
//! Loader variables (`LD_PRELOAD`) still count: they reach `ffmcp guard`
//! itself before any policy applies.

use super::*;

/// Rules about what the guarded program does, which the policy bounds:
/// every confinable rule but `loader-env` (`LD_PRELOAD` and the like load
/// into the unconfined `ffmcp guard` process itself).
fn guard_confines(rule: &str) -> bool {
    rule != "loader-env" && super::CONFINABLE_RULES.contains(&rule)
}

/// Home-relative places whose contents are credentials or run at login.
const HOME_SECRETS: &[&str] = &[
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
    "Library",
];

pub(super) fn judge_guarded(
    call: &GuardCall,
    runs: Vec<Finding>,
    probes: &Probes,
    scrub: &Scrubber,
) -> Vec<Finding> {
    let Some(written) = &call.policy else {
        let mut out = runs;
        out.push(finding(
            Severity::Low,
            "guard-policy-unreadable",
            "`ffmcp guard` is given no `--policy`: it refuses to start".into(),
            "Add `--policy FILE` (`ffmcp audit --fix` writes a minimal one).".into(),
        ));
        return out;
    };
    let path = policy_path(written, probes);
    let shown = scrub.apply(&path.display().to_string());
    let policy = match (probes.guard_policy)(&path) {
        Ok(policy) => policy,
        Err(reason) => {
            // Nothing to judge the confinement by: report what runs as is.
            let mut out = runs;
            out.push(finding(
                Severity::Low,
                "guard-policy-unreadable",
                format!(
                    "the guard policy {shown} cannot be read here ({}), so what it confines is reported as if unguarded",
                    scrub.apply(&reason)
                ),
                "Use an absolute `--policy` path that exists and parses; clients start servers from an unspecified directory.".into(),
            ));
            return out;
        }
    };
    let untrusted = runs.iter().any(|f| guard_confines(f.rule));
    let mut out: Vec<Finding> = runs
        .into_iter()
        .filter(|f| !guard_confines(f.rule))
        .collect();
    let home = probes.home.as_deref();
    let broad_reads: Vec<String> = policy
        .read
        .iter()
        .filter(|p| broad_path(p, home).is_some())
        .cloned()
        .collect();
    for w in &policy.write {
        if let Some(what) = broad_path(w, home) {
            out.push(finding(
                Severity::High,
                "guard-writes-home",
                format!("the guard policy {shown} lets the server write {} ({what}): it can plant code that runs at your next login or shell start", quote(w, 60)),
                format!("Remove {} from `write` in {shown}; grant only the project directory the server works on.", quote(w, 60)),
            ));
        }
    }
    if !broad_reads.is_empty() {
        let severity = if policy.network {
            Severity::High
        } else {
            Severity::Medium
        };
        let with_net = if policy.network {
            " and, with `network = true`, send it anywhere"
        } else {
            ""
        };
        out.push(finding(
            severity,
            "guard-broad-read",
            format!(
                "the guard policy {shown} lets the server read {}: it sees your keys and credentials{with_net}",
                broad_reads.iter().map(|r| quote(r, 60)).collect::<Vec<_>>().join(", ")
            ),
            format!("Narrow `read` in {shown} to the directories the server needs."),
        ));
    }
    if policy.network {
        let severity = if untrusted {
            Severity::Medium
        } else {
            Severity::Low
        };
        let why = if untrusted {
            "the code it runs is not pinned or reviewed, and it may send what it reads anywhere"
        } else {
            "it may send what it reads anywhere"
        };
        out.push(finding(
            severity,
            "guard-network",
            format!("the guard policy {shown} grants network access: {why}"),
            format!("Set `network = false` in {shown} unless the server must reach the internet (package runners such as npx need it to download)."),
        ));
    }
    if policy.subprocesses {
        out.push(finding(
            Severity::Low,
            "guard-subprocesses",
            format!("the guard policy {shown} lets the server start other programs (confined like itself)"),
            format!("Set `subprocesses = false` in {shown} if the server is a single program (launchers such as npx and uvx need it)."),
        ));
    }
    out
}

/// Where a `--policy` value points: `~` is the home directory, a relative
/// path is read next to the config.
pub(super) fn policy_path(written: &str, probes: &Probes) -> PathBuf {
    if let (Some(rest), Some(home)) = (written.strip_prefix("~/"), &probes.home) {
        return home.join(rest);
    }
    let path = Path::new(written);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        probes.config_dir.join(path)
    }
}

/// Why a policy path is too broad, if it is: the root, a home directory
/// (or all of them), or a credential or login-script place in one.
fn broad_path(path: &str, home: Option<&Path>) -> Option<&'static str> {
    let trimmed = path.trim();
    let expanded = match (trimmed.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", home.display())
        }
        _ => trimmed.to_owned(),
    };
    let normal: Vec<&str> = expanded
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if expanded.starts_with('/') && normal.is_empty() {
        return Some("the whole file system");
    }
    if matches!(normal.as_slice(), ["home" | "Users"] | ["root"]) {
        return Some("every home directory");
    }
    let home_parts: Option<Vec<String>> = home.map(|h| {
        h.to_string_lossy()
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    });
    let rest: Option<&[&str]> = match &home_parts {
        Some(h) if !h.is_empty() && normal.len() >= h.len() && normal[..h.len()] == h[..] => {
            Some(&normal[h.len()..])
        }
        _ => match normal.as_slice() {
            ["home" | "Users", _user, rest @ ..] => Some(rest),
            _ => None,
        },
    };
    match rest? {
        [] => Some("your home directory"),
        [first, ..] if first.starts_with('.') || HOME_SECRETS.contains(first) => {
            Some("a credential, configuration or login-script place in your home")
        }
        _ => None,
    }
}

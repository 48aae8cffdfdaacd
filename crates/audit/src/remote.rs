//! Rule: code fetched from a URL or a git repository instead of a registry
//! (`npx https://…/x.tgz`, `npx github:user/repo`, `uvx --from git+…`,
//! `uv run https://…/x.py`, `deno run -A https://…`). Nothing pins what
//! such a source serves: no published version, no registry integrity or
//! provenance; a moved tag, a pushed branch or a replaced file runs next
//! start. A full commit hash pins the content, so that is medium.

use super::*;

pub(super) fn remote_rules(program: &str, args: &[String]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let (runner, specs): (String, Vec<String>) = match program {
        "npx" | "bunx" | "pnpx" => (program.into(), npm_exec_args(args).packages),
        "npm" | "pnpm" | "yarn" | "bun" => {
            let names: &[&str] = match program {
                "npm" => &["exec", "x"],
                "bun" => &["x"],
                _ => &["dlx"],
            };
            match subcommand(args, names) {
                Some(rest) => (
                    format!("{program} {}", args[args.len() - rest.len() - 1]),
                    npm_exec_args(rest).packages,
                ),
                None => return findings,
            }
        }
        "uvx" => ("uvx".into(), python_specs(args, "--from")),
        "uv" => {
            if let Some(rest) = subcommand(args, &["tool"]).and_then(|r| subcommand(r, &["run"])) {
                ("uv tool run".into(), python_specs(rest, "--from"))
            } else if let Some(rest) = subcommand(args, &["run"]) {
                let mut specs = with_values(rest);
                if let Some((script, _)) = uv_run_target(rest)
                    && is_url(&script)
                {
                    specs.push(script);
                }
                ("uv run".into(), specs)
            } else {
                return findings;
            }
        }
        "pipx" => match subcommand(args, &["run"]) {
            Some(rest) => ("pipx run".into(), python_specs(rest, "--spec")),
            None => return findings,
        },
        "deno" => return deno_remote(args).into_iter().collect(),
        _ => return findings,
    };
    let python = !matches!(
        program,
        "npx" | "bunx" | "pnpx" | "npm" | "pnpm" | "yarn" | "bun"
    );
    for spec in specs {
        let source = if python {
            python_remote(&spec)
        } else {
            npm_remote(&spec)
        };
        if let Some(pinned) = source {
            findings.push(remote_finding(&runner, &spec, pinned, None));
        }
    }
    findings
}

/// `uv run [options] TARGET ARGS`: the target (a command, a script or a URL).
pub(super) fn uv_run_target(rest: &[String]) -> Option<(String, Vec<String>)> {
    let mut i = 0;
    while let Some(arg) = rest.get(i) {
        let a = arg.as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') {
            break;
        }
        i += if listed(UV_VALUE_OPTS, a) { 2 } else { 1 };
    }
    let (first, tail) = rest.get(i.min(rest.len())..)?.split_first()?;
    Some((first.clone(), tail.to_vec()))
}

/// The `--from`/`--spec` value or first operand, and every `--with` value.
fn python_specs(args: &[String], from_flag: &str) -> Vec<String> {
    let mut specs = python_runner_packages(args, from_flag);
    specs.extend(with_values(args));
    specs
}

/// `--with a,b`, `--with=a` values (before the command).
pub(super) fn with_values(args: &[String]) -> Vec<String> {
    let mut values = Vec::new();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" || !a.starts_with('-') {
            break;
        }
        if let Some(v) = a.strip_prefix("--with=") {
            values.extend(v.split(',').map(str::to_owned));
        } else if a == "--with" {
            values.extend(
                args.get(i + 1)
                    .into_iter()
                    .flat_map(|v| v.split(','))
                    .map(str::to_owned),
            );
            i += 1;
        } else if listed(UV_VALUE_OPTS, a) {
            i += 1;
        }
        i += 1;
    }
    values.retain(|v| !v.trim().is_empty());
    values
}

pub(super) fn is_url(spec: &str) -> bool {
    let lower = spec.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Some(pinned to a commit?) when an npm spec is a URL or a git source.
pub(super) fn npm_remote(spec: &str) -> Option<bool> {
    let lower = spec.to_ascii_lowercase();
    let git = [
        "git+",
        "git:",
        "git://",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
    ]
    .iter()
    .any(|p| lower.starts_with(p));
    let shorthand = !spec.starts_with('@')
        && !is_path_or_url(spec)
        && !spec.contains("://")
        && !spec.contains(':')
        && spec.contains('/');
    if git || shorthand {
        let commit = spec.rsplit_once('#').is_some_and(|(_, r)| is_commit(r));
        return Some(commit);
    }
    if lower.contains("://") {
        return Some(false); // a tarball URL: its content can change
    }
    None
}

/// Some(pinned to a commit?) for `git+https://…@REF`, `name @ git+…`, URLs.
pub(super) fn python_remote(spec: &str) -> Option<bool> {
    let lower = spec.to_ascii_lowercase();
    let url = lower
        .find("git+")
        .or_else(|| lower.find("https://"))
        .or_else(|| lower.find("http://"))?;
    let url = &spec[url..];
    if !url.to_ascii_lowercase().starts_with("git+") {
        return Some(false);
    }
    let path = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = path.split('#').next().unwrap_or(path);
    let commit = path.rsplit_once('@').is_some_and(|(_, r)| is_commit(r));
    Some(commit)
}

/// A full (40 or 64 hex digit) commit id, or an abbreviated one of 7+.
fn is_commit(reference: &str) -> bool {
    let r = reference.trim();
    (7..=64).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_hexdigit())
}

fn remote_finding(runner: &str, spec: &str, commit: bool, perms: Option<&str>) -> Finding {
    let source = quote(spec, 100);
    let (severity, detail) = if commit {
        (
            Severity::Medium,
            "pinned to a commit, but from outside a registry".to_owned(),
        )
    } else {
        (
            Severity::High,
            "no version pins it: whatever the URL or branch serves runs next start".to_owned(),
        )
    };
    let perms = perms.map(|p| format!(" with {p}")).unwrap_or_default();
    finding(
        severity,
        "remote-source",
        format!("`{runner}` runs code fetched from {source}{perms}; {detail}"),
        "Install a released version from the package registry, pinned exactly; if it must come from git, pin a reviewed full commit hash. Run it under `ffmcp guard` (`ffmcp audit --fix`).".into(),
    )
}

/// `deno run [-A | --allow-…] https://…`: a remote script, high when it is
/// given broad permissions.
fn deno_remote(args: &[String]) -> Option<Finding> {
    let rest = subcommand(args, &["run", "serve", "install"])?;
    let mut broad = Vec::new();
    let mut target = None;
    for arg in rest {
        let a = arg.as_str();
        if !a.starts_with('-') {
            target = Some(arg.clone());
            break;
        }
        let (name, value) = a.split_once('=').unwrap_or((a, ""));
        let is_broad = match name {
            "-A" | "--allow-all" | "--allow-run" | "--allow-ffi" | "--allow-sys" => true,
            "--allow-write" | "--allow-read" | "--allow-env" | "--allow-net" | "-W" | "-R"
            | "-E" | "-N" => value.is_empty(),
            _ => false,
        };
        if is_broad {
            broad.push(a.to_owned());
        }
    }
    let target = target.filter(|t| is_url(t))?;
    let mut f = remote_finding(
        "deno",
        &target,
        false,
        (!broad.is_empty())
            .then(|| format!("`{}`", broad.join(" ")))
            .as_deref(),
    );
    if broad.is_empty() {
        f.severity = Severity::Medium;
        f.message = format!(
            "`deno` runs a remote script {} (without broad permissions): it changes whenever the URL's content does",
            quote(&target, 100)
        );
    }
    Some(f)
}

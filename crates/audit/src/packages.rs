//! Rule: package runners (`npx`, `uvx`, …) fetching unpinned packages.

use super::*;

// ---------------------------------------------------------------------------
// Rule: unpinned package runners

/// What `npx`-like runners were asked to fetch: `--package` values or the
/// first operand, and a `-c`/`--call` shell string.
pub(super) struct NpmExec {
    pub(super) packages: Vec<String>,
    pub(super) call: Option<InlineCode>,
}

pub(super) fn npm_exec_args(args: &[String]) -> NpmExec {
    const VALUE_OPTS: &str = "--registry --cache --userconfig --prefix -w --workspace --node-options --shell \
        --script-shell";
    let mut packages = Vec::new();
    let mut call = None;
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if let Some(v) = a.strip_prefix("--package=") {
            packages.push(v.to_owned());
        } else if a == "-p" || a == "--package" {
            packages.extend(args.get(i + 1).cloned());
            i += 1;
        } else if let Some(code) = a.strip_prefix("--call=") {
            call = Some(code_from("--call", code, args, i + 1));
        } else if a == "-c" || a == "--call" {
            call = Some(code_from(a, "", args, i + 1));
            i += 1;
        } else if listed(VALUE_OPTS, a) {
            i += 1;
        } else if !a.starts_with('-') {
            break;
        }
        i += 1;
    }
    if packages.is_empty() && call.is_none() {
        packages.extend(args.get(i).cloned());
    }
    NpmExec { packages, call }
}

/// The arguments after a subcommand (`npm exec ...`), if it is one of `names`.
pub(super) fn subcommand<'a>(args: &'a [String], names: &[&str]) -> Option<&'a [String]> {
    let idx = args.iter().position(|a| !a.starts_with('-'))?;
    names
        .contains(&args[idx].as_str())
        .then(|| &args[idx + 1..])
}

/// Options of `uvx`, `uv run`, `uv tool run` and `pipx run` that take a value.
pub(super) const UV_VALUE_OPTS: &str = "--with --with-editable --with-requirements -w --python -p --index --index-url -i \
    --extra-index-url --default-index --find-links -f --constraints -c --overrides \
    --directory --project --cache-dir --config-file --refresh-package \
    --reinstall-package --upgrade-package -P --python-preference --color \
    --keyring-provider --exclude-newer --resolution --prerelease --index-strategy \
    --link-mode --env-file --pip-args --allow-insecure-host --config-setting -C \
    --package --extra --group --only-group --no-group";

/// `uvx`/`pipx run` arguments: the `--from`/`--spec` value or the first operand.
pub(super) fn python_runner_packages(args: &[String], from_flag: &str) -> Vec<String> {
    let mut from = None;
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if let Some(v) = a.strip_prefix(from_flag).and_then(|r| r.strip_prefix('=')) {
            from = Some(v.to_owned());
        } else if a == from_flag {
            from = args.get(i + 1).cloned();
            i += 1;
        } else if listed(UV_VALUE_OPTS, a) {
            i += 1;
        } else if !a.starts_with('-') {
            break;
        }
        i += 1;
    }
    from.or_else(|| args.get(i).cloned()).into_iter().collect()
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Ecosystem {
    Npm,
    Python,
}

pub(super) fn unpinned_packages(program: &str, args: &[String]) -> Vec<Finding> {
    let (runner, ecosystem, packages) = match program {
        "npx" | "bunx" | "pnpx" => (
            program.to_owned(),
            Ecosystem::Npm,
            npm_exec_args(args).packages,
        ),
        "npm" | "pnpm" | "yarn" | "bun" => {
            let names: &[&str] = match program {
                "npm" => &["exec", "x"],
                "bun" => &["x"],
                _ => &["dlx"],
            };
            let Some(rest) = subcommand(args, names) else {
                return Vec::new();
            };
            (
                format!("{program} {}", args[args.len() - rest.len() - 1]),
                Ecosystem::Npm,
                npm_exec_args(rest).packages,
            )
        }
        "uvx" => {
            let mut specs = python_runner_packages(args, "--from");
            specs.extend(with_values(args));
            ("uvx".into(), Ecosystem::Python, specs)
        }
        "uv" => {
            if let Some(rest) =
                subcommand(args, &["tool"]).and_then(|r| subcommand(r, &["run", "uvx"]))
            {
                let mut specs = python_runner_packages(rest, "--from");
                specs.extend(with_values(rest));
                ("uv tool run".into(), Ecosystem::Python, specs)
            } else if let Some(rest) = subcommand(args, &["run"]) {
                ("uv run --with".into(), Ecosystem::Python, with_values(rest))
            } else {
                return Vec::new();
            }
        }
        "pipx" => {
            let Some(rest) = subcommand(args, &["run"]) else {
                return Vec::new();
            };
            (
                "pipx run".into(),
                Ecosystem::Python,
                python_runner_packages(rest, "--spec"),
            )
        }
        _ => return Vec::new(),
    };
    packages
        .iter()
        .filter_map(|spec| {
            let pin = match ecosystem {
                Ecosystem::Npm => npm_pin(spec),
                Ecosystem::Python => python_pin(spec),
            };
            unpinned_finding(&runner, ecosystem, spec, pin)
        })
        .collect()
}

/// How exactly a package spec names what will run.
#[derive(Debug, PartialEq)]
pub(super) enum Pin {
    /// An exact version, a local path, or a URL: nothing moves under you.
    Exact,
    /// No version at all.
    Missing { name: String },
    /// `@latest`.
    Latest { name: String },
    /// A range or a tag (`^1.2`, `next`, `>=1`).
    Loose { name: String, version: String },
}

pub(super) fn unpinned_finding(
    runner: &str,
    ecosystem: Ecosystem,
    spec: &str,
    pin: Pin,
) -> Option<Finding> {
    let (detail, name) = match pin {
        Pin::Exact => return None,
        Pin::Missing { name } => ("has no version".to_owned(), name),
        Pin::Latest { name } => ("asks for @latest".to_owned(), name),
        Pin::Loose { name, version } => {
            (format!("asks for `{version}`, not an exact version"), name)
        }
    };
    let fix = match ecosystem {
        Ecosystem::Npm => format!(
            "Pin an exact version: `{name}@X.Y.Z` (current: `npm view {name} version`); a new release, or a hijacked one, then cannot run unreviewed."
        ),
        Ecosystem::Python => format!(
            "Pin an exact version: `{name}==X.Y.Z` (with `--from`/`--spec` if the command name differs); a new release, or a hijacked one, then cannot run unreviewed."
        ),
    };
    Some(finding(
        Severity::Medium,
        "unpinned-package",
        format!("`{runner}` fetches `{spec}`, which {detail}: each start may run different code"),
        fix,
    ))
}

pub(super) fn is_path_or_url(spec: &str) -> bool {
    let b = spec.as_bytes();
    spec.starts_with(['.', '/', '~', '\\'])
        || spec.starts_with("file:")
        || (b.len() > 2
            && b[1] == b':'
            && b[0].is_ascii_alphabetic()
            && matches!(b[2], b'\\' | b'/'))
}

pub(super) fn npm_pin(spec: &str) -> Pin {
    if is_path_or_url(spec) {
        return Pin::Exact;
    }
    let git = ["git+", "git:", "github:", "gitlab:", "bitbucket:", "gist:"]
        .iter()
        .any(|p| spec.starts_with(p));
    if spec.contains("://") && !git {
        return Pin::Exact; // a tarball URL: the remote-source rule reports it
    }
    if git || (!spec.starts_with('@') && spec.contains('/')) {
        return Pin::Exact; // a git source: the remote-source rule reports it
    }
    let name_end = if let Some(scoped) = spec.strip_prefix('@') {
        scoped
            .find('/')
            .and_then(|slash| scoped[slash..].find('@').map(|at| 1 + slash + at))
    } else {
        spec.find('@')
    };
    let Some(at) = name_end else {
        return Pin::Missing {
            name: spec.to_owned(),
        };
    };
    let (name, version) = (spec[..at].to_owned(), &spec[at + 1..]);
    if version.eq_ignore_ascii_case("latest") {
        Pin::Latest { name }
    } else if is_exact_semver(version) {
        Pin::Exact
    } else if version.is_empty() {
        Pin::Missing { name }
    } else {
        Pin::Loose {
            name,
            version: version.to_owned(),
        }
    }
}

/// `1.2.3`, `v1.2.3`, `=1.2.3`, `1.2.3-beta.1+build`.
pub(super) fn is_exact_semver(version: &str) -> bool {
    let v = version.strip_prefix(['=', 'v']).unwrap_or(version);
    let core_end = v.find(['-', '+']).unwrap_or(v.len());
    let parts: Vec<&str> = v[..core_end].split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let tail_ok = v[core_end..]
        .bytes()
        .skip(1)
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    parts.len() == 3 && parts.iter().all(numeric) && tail_ok && !v[core_end..].ends_with(['-', '+'])
}

pub(super) fn python_pin(spec: &str) -> Pin {
    if is_path_or_url(spec) || spec.contains("://") {
        return Pin::Exact;
    }
    let name_of = |s: &str| {
        let end = s
            .find(['[', '=', '<', '>', '~', '!', '@', ' ', ';'])
            .unwrap_or(s.len());
        s[..end].to_owned()
    };
    if let Some(at) = spec.find("==") {
        let version = spec[at..].trim_start_matches('=').trim();
        if version.is_empty() || version.contains(['*', ',', ' ']) {
            return Pin::Loose {
                name: name_of(spec),
                version: spec[at..].to_owned(),
            };
        }
        return Pin::Exact;
    }
    if spec.contains(['<', '>', '~', '!']) {
        let start = spec.find(['<', '>', '~', '!']).unwrap_or(0);
        return Pin::Loose {
            name: name_of(spec),
            version: spec[start..].to_owned(),
        };
    }
    if let Some(at) = spec.find('@') {
        let version = spec[at + 1..].trim();
        return if version.eq_ignore_ascii_case("latest") {
            Pin::Latest {
                name: name_of(spec),
            }
        } else if version.is_empty() {
            Pin::Missing {
                name: name_of(spec),
            }
        } else {
            Pin::Exact
        };
    }
    Pin::Missing {
        name: name_of(spec),
    }
}

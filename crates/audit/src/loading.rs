//! Rules: environment variables that make a program load other code
//! (`LD_PRELOAD`, `NODE_OPTIONS`, `PYTHONPATH`, …), and scripts or modules
//! loaded from temporary or download folders (`node -r /tmp/x.js`,
//! `python ~/Downloads/server.py`), which any program or browser can write.

use super::*;

/// Dynamic-loader variables: they act on every program started with them,
/// `ffmcp guard` itself included.
pub(super) fn is_loader_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("LD_") || upper.starts_with("DYLD_")
}

/// Interpreter variables that inject code or change where modules load from.
/// (name, injects code directly?)
const INTERPRETER_VARS: &[(&str, bool)] = &[
    ("NODE_OPTIONS", true),
    ("NODE_PATH", false),
    ("PYTHONPATH", false),
    ("PYTHONSTARTUP", true),
    ("PYTHONHOME", false),
    ("PYTHONINSPECT", true),
    ("PYTHONUSERBASE", false),
    ("PERL5OPT", true),
    ("PERL5LIB", false),
    ("PERLLIB", false),
    ("RUBYOPT", true),
    ("RUBYLIB", false),
    ("BASH_ENV", true),
    ("ENV", true),
    ("JAVA_TOOL_OPTIONS", true),
    ("_JAVA_OPTIONS", true),
    ("JDK_JAVA_OPTIONS", true),
    ("GIT_SSH_COMMAND", true),
];

/// `NODE_OPTIONS`, `PYTHONPATH` and the like.
pub(super) fn is_interpreter_var(name: &str) -> bool {
    INTERPRETER_VARS
        .iter()
        .any(|(v, _)| v.eq_ignore_ascii_case(name))
}

/// Findings for `NAME=value` pairs the entry sets (its `env` map, or
/// assignments on an `env` command line).
pub(super) fn loader_env<'a>(
    vars: impl Iterator<Item = (&'a str, &'a str)>,
    scrub: &Scrubber,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, value) in vars {
        let shown = quote(&scrub.apply(value), 60);
        let risky_place = in_writable_place(value);
        if is_loader_var(name) {
            let upper = name.to_ascii_uppercase();
            let injects = matches!(
                upper.as_str(),
                "LD_PRELOAD" | "LD_AUDIT" | "DYLD_INSERT_LIBRARIES"
            );
            let severity = if injects || risky_place {
                Severity::High
            } else {
                Severity::Medium
            };
            findings.push(finding(
                severity,
                "loader-env",
                format!(
                    "env {name}={shown} makes the dynamic loader load other libraries into the server (and into `ffmcp guard`, which cannot filter it)"
                ),
                format!("Remove {name} from the entry (`ffmcp audit --fix` does); install the libraries the server needs system-wide instead."),
            ));
            continue;
        }
        let Some((_, injects)) = INTERPRETER_VARS
            .iter()
            .find(|(v, _)| v.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        let severity = if *injects || risky_place {
            Severity::High
        } else {
            Severity::Medium
        };
        let what = if *injects {
            "runs or preloads extra code in the interpreter"
        } else {
            "changes where the interpreter loads modules from, so another module can stand in"
        };
        findings.push(finding(
            severity,
            "interpreter-env",
            format!("env {name}={shown} {what}"),
            format!("Remove {name}; put what the server needs in its own package or script. `ffmcp guard` never passes {name} to the server."),
        ));
    }
    findings
}

/// Scripts and modules handed to a program from temp or download folders.
pub(super) fn writable_scripts(layer: &Layer, scrub: &Scrubber) -> Vec<Finding> {
    // An interpreter's first operand is the script it runs.
    let operand = is_interpreter(&layer.program)
        .then(|| layer.args.iter().position(|a| !a.starts_with('-')))
        .flatten();
    let mut findings = Vec::new();
    for (i, arg) in layer.args.iter().enumerate() {
        // `--require=/tmp/x.js`, `--from=/tmp/pkg.whl`
        let value = arg
            .split_once('=')
            .filter(|(k, _)| k.starts_with('-'))
            .map_or(arg.as_str(), |(_, v)| v);
        let Some(place) = writable_place(value) else {
            continue;
        };
        let previous = i.checked_sub(1).and_then(|p| layer.args.get(p));
        let loads = previous.is_some_and(|p| {
            listed(
                "-r --require --import --loader --experimental-loader --preload -I -M --from \
                 --with --spec --rcfile --init-file -File -file --file",
                p,
            )
        });
        let file_like = looks_like_code(value);
        if !(operand == Some(i) || loads || file_like) || is_bare_dir(value) {
            continue;
        }
        findings.push(finding(
            Severity::High,
            "writable-script",
            format!(
                "`{}` loads {} from {place}, which other programs (a download, a browser, any local process) can write",
                layer.program,
                quote(&scrub.apply(value), 80)
            ),
            "Move the script into a directory only you can write (e.g. ~/.local/share/<server>) or install the server properly, and point the entry there.".into(),
        ));
    }
    findings
}

const INTERPRETERS: &str = "sh bash zsh dash ksh mksh ash fish node nodejs bun deno perl ruby php \
    lua luajit Rscript rscript java osascript pwsh powershell cscript wscript tsx ts-node";

fn is_interpreter(program: &str) -> bool {
    listed(INTERPRETERS, program) || is_python(program)
}

fn looks_like_code(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [
        ".js", ".mjs", ".cjs", ".ts", ".mts", ".py", ".pyz", ".sh", ".bash", ".pl", ".rb", ".php",
        ".ps1", ".jar", ".so", ".dylib", ".dll", ".exe", ".whl", ".tgz", ".tar.gz", ".zip", ".bat",
        ".cmd", ".lua",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

/// `/tmp`, `/tmp/`, `~/Downloads`: a folder itself, not something in it.
fn is_bare_dir(path: &str) -> bool {
    let normal = path.to_ascii_lowercase().replace('\\', "/");
    let normal = normal.trim_end_matches('/');
    normal.ends_with("/tmp")
        || normal.ends_with("/downloads")
        || normal.ends_with("/temp")
        || normal == "/dev/shm"
        || matches!(normal, "%temp%" | "%tmp%" | "$tmpdir" | "${tmpdir}")
}

fn in_writable_place(value: &str) -> bool {
    value
        .split([':', ';', ' ', '='])
        .any(|part| writable_place(part).is_some())
}

/// Which writable place a path is in, if any.
pub(super) fn writable_place(path: &str) -> Option<&'static str> {
    let normal = path.trim().to_ascii_lowercase().replace('\\', "/");
    let temp = [
        "/tmp/",
        "/var/tmp/",
        "/dev/shm/",
        "/private/tmp/",
        "/private/var/tmp/",
        "/private/var/folders/",
    ]
    .iter()
    .any(|p| normal.starts_with(p))
        || ["%temp%", "%tmp%", "$tmpdir", "${tmpdir}", "$env:temp"]
            .iter()
            .any(|m| normal.starts_with(m))
        || ["/appdata/local/temp/", "/windows/temp/"]
            .iter()
            .any(|m| normal.contains(m));
    if temp {
        return Some("a temporary folder");
    }
    let downloads = normal.contains("/downloads/")
        && (normal.starts_with('~')
            || normal.starts_with("$home")
            || normal.starts_with("${home}")
            || normal.starts_with("%userprofile%")
            || normal.starts_with("/home/")
            || normal.starts_with("/users/")
            || normal.get(1..3) == Some(":/"));
    downloads.then_some("a download folder")
}

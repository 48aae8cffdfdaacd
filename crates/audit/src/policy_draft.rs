//! The minimal guard policy `ffmcp audit --fix` writes for one entry:
//! exactly this program with exactly these arguments, reads of the paths it
//! names (never the root, a home directory or credential folders), no writes
//! outside the server's own temp dir, the network and subprocesses only for
//! what evidently needs them (package runners download and spawn; shells
//! spawn), and the entry's own environment variable names minus those that
//! inject code. Rendered as TOML that guard's parser reads.

use super::*;

/// A policy before it is written, with why each grant was made.
#[derive(Debug, PartialEq)]
pub(super) struct PolicyDraft {
    pub(super) programs: Vec<String>,
    pub(super) args: Vec<String>,
    pub(super) read: Vec<String>,
    pub(super) network: bool,
    pub(super) subprocesses: bool,
    pub(super) env: Vec<String>,
    /// One line per decision, written as comments and printed.
    pub(super) notes: Vec<String>,
}

const PACKAGE_RUNNERS: &str = "npx bunx pnpx npm pnpm yarn bun uvx uv pipx deno";
const SHELLS: &str = "sh bash zsh dash ksh mksh ash fish cmd powershell pwsh";

pub(super) fn draft(command: &str, args: &[String], env_names: &[String]) -> PolicyDraft {
    let invocation = Invocation::of(command, args);
    let programs: Vec<&str> = invocation
        .layers
        .iter()
        .map(|l| l.program.as_str())
        .collect();
    let mut notes = Vec::new();
    let runner = programs.iter().find(|p| listed(PACKAGE_RUNNERS, p));
    let url = args.iter().find(|a| a.contains("://"));
    let network = runner.is_some() || url.is_some();
    match (runner, url) {
        (Some(r), _) => notes.push(format!("network on: `{r}` downloads what it runs")),
        (None, Some(_)) => notes.push("network on: the command line names a URL".into()),
        (None, None) => notes.push("network off: nothing on the command line needs it".into()),
    }
    let line = std::iter::once(command)
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    let shell = programs.iter().find(|p| listed(SHELLS, p));
    let subprocesses = runner.is_some() || shell.is_some() || pipe_to_shell(&line).is_some();
    match (runner, shell) {
        (Some(r), _) => notes.push(format!(
            "subprocesses on: `{r}` starts the package it fetched"
        )),
        (None, Some(s)) => notes.push(format!("subprocesses on: `{s}` runs other programs")),
        (None, None) => notes.push("subprocesses off".into()),
    }
    let mut read = Vec::new();
    for arg in args {
        let value = arg
            .split_once('=')
            .filter(|(k, _)| k.starts_with('-'))
            .map_or(arg.as_str(), |(_, v)| v);
        let absolute = value.starts_with('/') || value.starts_with("~/");
        if !absolute || value.contains("://") || read.iter().any(|r| r == value) {
            continue;
        }
        if let Some(why) = sensitive_host_path(&normalise(value)) {
            notes.push(format!(
                "not readable: {value} ({why}); add a narrower path if the server needs one"
            ));
            continue;
        }
        read.push(value.to_owned());
    }
    if !read.is_empty() {
        notes.push(format!(
            "read: the paths on the command line ({})",
            read.join(", ")
        ));
    }
    notes.push(
        "write: nothing but the server's own temp dir; add project directories it must change"
            .into(),
    );
    let mut env = Vec::new();
    for name in env_names {
        if ffmcp_core::exec::is_dangerous_env(name) || strips_env(name) {
            notes.push(format!(
                "env {name} is not passed (it changes how programs load code)"
            ));
        } else {
            env.push(name.clone());
        }
    }
    PolicyDraft {
        programs: vec![command.to_owned()],
        args: args.to_vec(),
        read,
        network,
        subprocesses,
        env,
        notes,
    }
}

/// Whether `--fix` removes `name` from an entry's `env`.
pub(super) fn strips_env(name: &str) -> bool {
    is_loader_var(name) || is_interpreter_var(name)
}

fn normalise(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        out.push('/');
        out.push_str(part);
    }
    let out = if out.is_empty() { "/".to_owned() } else { out };
    match path.strip_prefix("~/") {
        Some(_) => format!("~{out}").replacen("~/~", "~", 1),
        None => out,
    }
    .to_ascii_lowercase()
}

impl PolicyDraft {
    /// The policy file: a header, the decisions as comments, then the keys.
    pub(super) fn to_toml(&self, server: &str) -> String {
        let mut out = format!(
            "# ffmcp guard policy for the MCP server {}, written by `ffmcp audit --fix`.\n\
             # Minimal: this command line only. Widen it deliberately if the server needs more.\n",
            toml_string(server)
        );
        for note in &self.notes {
            out.push_str(&format!("#   {}\n", note.replace(['\n', '\r'], " ")));
        }
        out.push_str(&format!("programs = {}\n", toml_array(&self.programs)));
        out.push_str(&format!("args = {}\n", toml_array(&self.args)));
        out.push_str(&format!("read = {}\n", toml_array(&self.read)));
        out.push_str("write = []\n");
        out.push_str(&format!("network = {}\n", self.network));
        out.push_str(&format!("subprocesses = {}\n", self.subprocesses));
        out.push_str(&format!("env = {}\n", toml_array(&self.env)));
        out
    }
}

fn toml_array(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

//! `ffmcp audit`: reads an MCP client config (Claude Desktop's by default, or
//! any JSON with `mcpServers`, `servers` or `mcp.servers`) and reports risky
//! server entries: inline code and stdin-fed shells, download-and-run, code
//! from URLs and git, unpinned packages, scripts and commands in writable
//! places, loader and interpreter variables, containers that are not
//! contained, secrets stored in the file, plain-http remotes. An entry
//! already under `ffmcp guard` is judged on its policy instead of on what the
//! guard confines. `ffmcp audit --fix` (module `fix`) rewrites the entries
//! guard can confine into their guarded form.
//!
//! The rules are pure functions over `serde_json::Value`; the only I/O is
//! reading the file, asking whether a command's directory is world-writable
//! and reading guard policies, injected through [`Probes`] so tests choose
//! what the machine looks like. Secrets are never echoed: every text an
//! entry produces is scrubbed of the secrets found in it.
//!
//! The binary calls [`run`], [`fix`] and [`default_config_path`]; the rules
//! are reachable directly through [`audit`] with [`Probes`] for tests and
//! other front ends. [`config_file`] (backup, then atomic replace) is shared
//! with `ffmcp config claude --write`, the other writer of client configs;
//! it lives here because both writers edit the same kind of file, and this
//! crate owns what a safe edit of a client config is. Errors are
//! [`AuditError`]s whose messages name the file and what was wrong.

pub mod config_file;
mod container;
mod error;
mod fix;
mod guarded;
mod inline;
mod invocation;
mod jsonc;
mod loading;
mod location;
mod packages;
mod policy_draft;
mod remote;
mod render;
mod secrets;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_rules;
#[cfg(test)]
mod tests_secrets;

use container::*;
use guarded::*;
use inline::*;
use invocation::*;
use jsonc::*;
use loading::*;
use location::*;
use packages::*;
use remote::*;
use render::*;
use secrets::*;

pub use error::{AuditError, Result};
pub use fix::fix;

use std::path::{Path, PathBuf};

use error::{IoContext, invalid};
use ffmcp_guard::GuardPolicy;
use serde_json::{Map, Value, json};

/// What `ffmcp audit` prints and how it exits.
#[derive(Debug)]
pub struct Outcome {
    pub output: String,
    /// 0: nothing high; 2: at least one high finding.
    pub exit_code: u8,
}

/// Exit code when at least one high-severity finding is reported.
const EXIT_HIGH: u8 = 2;

/// Config files are small; anything bigger is not a client config.
const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// Audits the config at `config` (or the Claude Desktop default) and renders
/// the report as text or JSON.
pub fn run(config: Option<PathBuf>, json: bool) -> Result<Outcome> {
    let path = config_path(config)?;
    let (_, value) = load(&path)?;
    let probes = Probes::of_this_machine(&path);
    let report =
        audit(&value, &probes).map_err(|err| invalid(format!("{}: {err}", path.display())))?;
    let output = if json {
        let mut text = serde_json::to_string_pretty(&render_json(&path, &report))
            .map_err(|e| invalid(format!("rendering the report as JSON: {e}")))?;
        text.push('\n');
        text
    } else {
        render_text(&path, &report)
    };
    let exit_code = if report.count(Severity::High) > 0 {
        EXIT_HIGH
    } else {
        0
    };
    Ok(Outcome { output, exit_code })
}

/// The config named on the command line, or Claude Desktop's if it exists.
fn config_path(config: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = config {
        return Ok(path);
    }
    let path = default_config_path(|name| std::env::var_os(name))?;
    if !path.exists() {
        return Err(invalid(format!(
            "no config given and no Claude Desktop config at {}; pass the path of an MCP client config: ffmcp audit PATH",
            path.display()
        )));
    }
    Ok(path)
}

/// The config's text and parsed value.
fn load(path: &Path) -> Result<(String, Value)> {
    let text = read_config(path)?;
    let value = parse_config(&text).map_err(|err| {
        invalid(format!(
            "{}: invalid JSON at line {}, column {}: {}",
            path.display(),
            err.line(),
            err.column(),
            json_error_reason(&err)
        ))
    })?;
    Ok((text, value))
}

/// What the rules may ask about the machine.
pub struct Probes<'a> {
    /// Whether an existing directory is writable by other users.
    pub world_writable: &'a dyn Fn(&Path) -> bool,
    /// Reads and parses a guard policy (with guard's own parser).
    pub guard_policy: &'a dyn Fn(&Path) -> Result<GuardPolicy, String>,
    /// Relative `--policy` paths are read from here (the config's directory).
    pub config_dir: PathBuf,
    /// `~` in policies.
    pub home: Option<PathBuf>,
}

impl Probes<'static> {
    /// The real file system, for a config at `config`.
    pub fn of_this_machine(config: &Path) -> Self {
        Probes {
            world_writable: &world_writable,
            guard_policy: &load_guard_policy,
            config_dir: config
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// A policy is a short TOML file; anything else (a FIFO, `/dev/zero`, a
/// huge file) is refused before reading, so a hostile `--policy` cannot
/// hang the audit or exhaust its memory.
const MAX_POLICY_BYTES: u64 = 1 << 20;

fn load_guard_policy(path: &Path) -> Result<GuardPolicy, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_POLICY_BYTES {
        return Err(format!(
            "{} bytes; a policy is at most {MAX_POLICY_BYTES}",
            meta.len()
        ));
    }
    GuardPolicy::load(path).map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// One risky thing about one server entry, with what to do about it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    pub server: String,
    pub rule: &'static str,
    pub message: String,
    pub fix: String,
    /// The entry wrapped in `ffmcp guard` (stdio entries with a high finding).
    pub suggestion: Option<Value>,
}

/// The findings for a whole config, per server in config order, most
/// severe first within a server.
#[derive(Debug)]
pub struct Report {
    pub servers: Vec<ServerReport>,
}

#[derive(Debug)]
pub struct ServerReport {
    pub name: String,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.servers.iter().flat_map(|s| s.findings.iter())
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings().filter(|f| f.severity == severity).count()
    }
}

/// Audits every server entry of a parsed config.
pub fn audit(config: &Value, probes: &Probes) -> Result<Report, String> {
    let Some(root) = config.as_object() else {
        return Err("the top level is not a JSON object; expected {\"mcpServers\": {...}}".into());
    };
    let mut report = Report {
        servers: Vec::new(),
    };
    for table in server_tables(root) {
        for (name, entry) in table {
            let mut findings = audit_entry(entry, probes);
            findings.sort_by_key(|f| f.severity);
            for f in &mut findings {
                f.server.clone_from(name);
            }
            report.servers.push(ServerReport {
                name: name.clone(),
                findings,
            });
        }
    }
    Ok(report)
}

/// Parses a config, tolerating what VS Code's JSONC allows (comments,
/// trailing commas). Error positions refer to the original text.
pub fn parse_config(text: &str) -> Result<Value, serde_json::Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(&strip_jsonc(text))
}

/// Where Claude Desktop keeps its config on this OS, from environment
/// variables looked up through `var`.
pub fn default_config_path(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<PathBuf> {
    let non_empty = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let file = Path::new("Claude").join("claude_desktop_config.json");
    if cfg!(windows) {
        let appdata = non_empty("APPDATA")
            .ok_or_else(|| invalid("APPDATA is not set; pass the config path"))?;
        return Ok(appdata.join(file));
    }
    let home = non_empty("HOME");
    if cfg!(target_os = "macos") {
        let home = home.ok_or_else(|| invalid("HOME is not set; pass the config path"))?;
        return Ok(home.join("Library/Application Support").join(file));
    }
    if let Some(xdg) = non_empty("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join(file));
    }
    let home = home
        .ok_or_else(|| invalid("neither XDG_CONFIG_HOME nor HOME is set; pass the config path"))?;
    Ok(home.join(".config").join(file))
}

fn read_config(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).io_context(|| format!("reading {}", path.display()))?;
    if meta.is_dir() {
        return Err(invalid(format!(
            "{} is a directory; pass the config file",
            path.display()
        )));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(invalid(format!(
            "{} is {} bytes; a client config is at most {MAX_CONFIG_BYTES}",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).io_context(|| format!("reading {}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| invalid(format!("{}: not UTF-8 text", path.display())))
}

/// serde_json's message without its trailing " at line L column C".
fn json_error_reason(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

#[cfg(unix)]
fn world_writable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir).is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o002 != 0)
}

#[cfg(not(unix))]
fn world_writable(_dir: &Path) -> bool {
    false
}

// ---------------------------------------------------------------------------
// Entries

/// A server table a client config may hold: `mcpServers` (Claude Desktop,
/// Cursor, ...), `servers` (VS Code mcp.json), `mcp.servers` (VS Code
/// settings, as a dotted key or nested).
#[derive(Debug, Clone, Copy)]
enum TableKey {
    Top(&'static str),
    NestedMcp,
}

/// The tables present in `root`, in the order entries are reported.
fn table_keys(root: &Map<String, Value>) -> Vec<TableKey> {
    ["mcpServers", "servers", "mcp.servers"]
        .into_iter()
        .map(TableKey::Top)
        .chain([TableKey::NestedMcp])
        .filter(|key| table_ref(root, *key).is_some())
        .collect()
}

fn table_ref(root: &Map<String, Value>, key: TableKey) -> Option<&Map<String, Value>> {
    match key {
        TableKey::Top(name) => root.get(name),
        TableKey::NestedMcp => root.get("mcp").and_then(|mcp| mcp.get("servers")),
    }
    .and_then(Value::as_object)
}

fn table_mut(root: &mut Value, key: TableKey) -> Option<&mut Map<String, Value>> {
    match key {
        TableKey::Top(name) => root.get_mut(name),
        TableKey::NestedMcp => root.get_mut("mcp").and_then(|mcp| mcp.get_mut("servers")),
    }
    .and_then(Value::as_object_mut)
}

fn server_tables(root: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    table_keys(root)
        .into_iter()
        .filter_map(|key| table_ref(root, key))
        .collect()
}

/// A finding before it is attributed to a server.
fn finding(severity: Severity, rule: &'static str, message: String, fix: String) -> Finding {
    Finding {
        severity,
        server: String::new(),
        rule,
        message,
        fix,
        suggestion: None,
    }
}

fn audit_entry(entry: &Value, probes: &Probes) -> Vec<Finding> {
    let Some(obj) = entry.as_object() else {
        return vec![finding(
            Severity::Low,
            "invalid-entry",
            "the entry is not a JSON object; clients skip or reject it".into(),
            "Make it an object with `command` and `args`, or with `url`.".into(),
        )];
    };
    let command = obj.get("command").and_then(Value::as_str);
    let args = string_list(obj.get("args"));
    let url = ["url", "serverUrl"]
        .iter()
        .find_map(|key| obj.get(*key).and_then(Value::as_str));
    let env = obj.get("env").and_then(Value::as_object);
    let headers = obj.get("headers").and_then(Value::as_object);

    // Secrets first, so every later message can be scrubbed of them.
    let mut findings = Vec::new();
    let mut secrets = Vec::new();
    if let Some(env) = env {
        secrets_in_map(env, MapKind::Env, &mut findings, &mut secrets);
    }
    if let Some(headers) = headers {
        secrets_in_map(headers, MapKind::Headers, &mut findings, &mut secrets);
    }
    if let Some(command) = command {
        let line: Vec<String> = std::iter::once(command.to_owned())
            .chain(args.iter().cloned())
            .collect();
        secrets_in_args(&line, &mut findings, &mut secrets);
    }
    if let Some(url) = url {
        for hit in secrets_in_url(url) {
            findings.push(hit_finding(
                &hit,
                hit.rule("secret-in-url"),
                "the server URL",
                "Send the credential in a header referencing an environment variable (e.g. `Authorization: Bearer ${TOKEN}`) instead of the URL, and rotate it.".into(),
            ));
            secrets.push(hit.value);
        }
    }
    let scrub = Scrubber::new(secrets);

    if let Some(url) = url {
        findings.extend(insecure_remote(url, "the server URL", &scrub));
    }
    let mut guarded = false;
    if let Some(command) = command {
        let invocation = Invocation::of(command, &args);
        let mut runs = Vec::new();
        for layer in &invocation.layers {
            runs.extend(command_location(
                &layer.command,
                probes.world_writable,
                &scrub,
            ));
            runs.extend(stdio_rules(layer, &scrub));
        }
        let line = std::iter::once(command)
            .chain(args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(what) = pipe_to_shell(&line) {
            runs.push(finding(
                Severity::High,
                "pipe-to-shell",
                format!("the command line downloads or builds code and runs it ({what})"),
                "Install the server once from a pinned, verified release (checksum or signature) and point `command` at the installed binary; never pipe a download into a shell on every start.".into(),
            ));
        }
        let env_pairs = env
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
            .chain(
                invocation
                    .assignments
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            );
        runs.extend(loader_env(env_pairs, &scrub));
        match &invocation.guard {
            Some(call) => {
                guarded = true;
                findings.extend(judge_guarded(call, runs, probes, &scrub));
            }
            None => findings.extend(runs),
        }
    } else if url.is_none() {
        findings.push(finding(
            Severity::Low,
            "invalid-entry",
            "the entry has neither `command` nor `url`".into(),
            "Give it `command` (and `args`) for a local server, or `url` for a remote one.".into(),
        ));
    }

    dedup(&mut findings);
    cap_per_rule(&mut findings);
    for f in &mut findings {
        f.message = scrub.apply(&f.message);
        f.fix = scrub.apply(&f.fix);
    }
    // Confinement helps with what the command runs, not with a leaked
    // secret or a plain-HTTP remote: suggest `ffmcp guard` only there.
    let confinable = |f: &Finding| CONFINABLE_RULES.contains(&f.rule);
    if let Some(command) = command
        && !guarded
        && findings.iter().any(confinable)
    {
        let suggestion = guard_suggestion(command, &args, &scrub);
        for f in findings.iter_mut().filter(|f| confinable(f)) {
            f.suggestion = Some(suggestion.clone());
        }
    }
    findings
}

/// Findings about what a stdio entry runs, which `ffmcp guard` confines
/// (`ffmcp audit --fix` rewrites entries that have one).
pub(crate) const CONFINABLE_RULES: &[&str] = &[
    "inline-code",
    "stdin-code",
    "pipe-to-shell",
    "writable-path",
    "writable-script",
    "unpinned-package",
    "remote-source",
    "interpreter-env",
    "loader-env",
];

/// `args` as strings; a lone string counts as one argument.
fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Most findings of one rule reported for one entry; a config with
/// thousands of arguments gets a bounded report.
const MAX_PER_RULE: usize = 5;

fn cap_per_rule(findings: &mut Vec<Finding>) {
    let mut counts: std::collections::HashMap<&'static str, usize> = Default::default();
    for f in findings.iter() {
        *counts.entry(f.rule).or_default() += 1;
    }
    let mut seen: std::collections::HashMap<&'static str, usize> = Default::default();
    findings.retain_mut(|f| {
        let n = seen.entry(f.rule).or_default();
        *n += 1;
        let total = counts.get(f.rule).copied().unwrap_or(0);
        if *n == MAX_PER_RULE && total > MAX_PER_RULE {
            f.message
                .push_str(&format!(" (and {} more like it)", total - MAX_PER_RULE));
        }
        *n <= MAX_PER_RULE
    });
}

fn dedup(findings: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.rule, f.message.clone())));
}

/// The entry re-written to run under `ffmcp guard`.
fn guard_suggestion(command: &str, args: &[String], scrub: &Scrubber) -> Value {
    let mut wrapped: Vec<String> = ["guard", "--policy", "<policy.toml>", "--"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    wrapped.push(scrub.apply(command));
    wrapped.extend(args.iter().map(|a| scrub.apply(a)));
    json!({ "command": "ffmcp", "args": wrapped })
}

/// The basename of a command, lower-cased, without a Windows executable suffix.
fn program_name(command: &str) -> String {
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let lower = base.to_ascii_lowercase();
    for ext in [".exe", ".cmd", ".bat", ".com"] {
        if let Some(stem) = lower.strip_suffix(ext) {
            return stem.to_owned();
        }
    }
    lower
}

/// `word` is one of the whitespace-separated words of `list`.
fn listed(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

/// `text` in backquotes, cut to `max` characters.
fn quote(text: &str, max: usize) -> String {
    let text = text.replace('\n', " ");
    if text.chars().count() > max {
        let head: String = text.chars().take(max).collect();
        format!("`{head}…`")
    } else {
        format!("`{text}`")
    }
}

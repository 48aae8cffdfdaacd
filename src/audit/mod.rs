//! `ffmcp audit`: reads an MCP client config (Claude Desktop's by default, or
//! any JSON with `mcpServers`, `servers` or `mcp.servers`) and reports risky
//! server entries: inline code, download-and-run, unpinned packages, commands
//! in writable places, secrets stored in the file, plain-http remotes.
//!
//! The rules are pure functions over `serde_json::Value`; the only I/O is
//! reading the file and asking whether a command's directory is world-writable
//! (injected into [`audit`], so tests never touch the disk). Secrets are never
//! echoed: every text an entry produces is scrubbed of the secrets found in it.

mod inline;
mod location;
mod packages;
mod secrets;
#[cfg(test)]
mod tests;

use inline::*;
use location::*;
use packages::*;
use secrets::*;

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
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
pub fn run(config: Option<PathBuf>, json: bool) -> anyhow::Result<Outcome> {
    let path = match config {
        Some(path) => path,
        None => {
            let path = default_config_path(|name| std::env::var_os(name))?;
            if !path.exists() {
                bail!(
                    "no config given and no Claude Desktop config at {}; pass the path of an MCP client config: ffmcp audit PATH",
                    path.display()
                );
            }
            path
        }
    };
    let text = read_config(&path)?;
    let value = parse_config(&text).map_err(|err| {
        anyhow!(
            "{}: invalid JSON at line {}, column {}: {}",
            path.display(),
            err.line(),
            err.column(),
            json_error_reason(&err)
        )
    })?;
    let report =
        audit(&value, &world_writable).map_err(|err| anyhow!("{}: {err}", path.display()))?;
    let output = if json {
        let mut text = serde_json::to_string_pretty(&render_json(&path, &report))?;
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

/// Audits every server entry of a parsed config. `world_writable` says whether
/// a directory that exists on this machine is writable by other users.
pub fn audit(config: &Value, world_writable: &dyn Fn(&Path) -> bool) -> Result<Report, String> {
    let Some(root) = config.as_object() else {
        return Err("the top level is not a JSON object; expected {\"mcpServers\": {...}}".into());
    };
    let mut report = Report {
        servers: Vec::new(),
    };
    for table in server_tables(root) {
        for (name, entry) in table {
            let mut findings = audit_entry(entry, world_writable);
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
pub fn default_config_path(
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> anyhow::Result<PathBuf> {
    let non_empty = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let file = Path::new("Claude").join("claude_desktop_config.json");
    if cfg!(windows) {
        let appdata = non_empty("APPDATA").context("APPDATA is not set; pass the config path")?;
        return Ok(appdata.join(file));
    }
    let home = non_empty("HOME");
    if cfg!(target_os = "macos") {
        let home = home.context("HOME is not set; pass the config path")?;
        return Ok(home.join("Library/Application Support").join(file));
    }
    if let Some(xdg) = non_empty("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join(file));
    }
    let home = home.context("neither XDG_CONFIG_HOME nor HOME is set; pass the config path")?;
    Ok(home.join(".config").join(file))
}

fn read_config(path: &Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.is_dir() {
        bail!("{} is a directory; pass the config file", path.display());
    }
    if meta.len() > MAX_CONFIG_BYTES {
        bail!(
            "{} is {} bytes; a client config is at most {MAX_CONFIG_BYTES}",
            path.display(),
            meta.len()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| anyhow!("{}: not UTF-8 text", path.display()))
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
// Rendering

fn render_json(path: &Path, report: &Report) -> Value {
    let findings: Vec<Value> = report
        .findings()
        .map(|f| {
            let mut obj = json!({
                "severity": f.severity.as_str(),
                "server": f.server,
                "rule": f.rule,
                "message": f.message,
                "fix": f.fix,
            });
            if let (Some(suggestion), Some(map)) = (&f.suggestion, obj.as_object_mut()) {
                map.insert("suggestion".into(), suggestion.clone());
            }
            obj
        })
        .collect();
    json!({
        "config": path.display().to_string(),
        "servers": report.servers.len(),
        "findings": findings,
        "summary": {
            "high": report.count(Severity::High),
            "medium": report.count(Severity::Medium),
            "low": report.count(Severity::Low),
        },
    })
}

fn render_text(path: &Path, report: &Report) -> String {
    let count = report.servers.len();
    let plural = if count == 1 { "" } else { "s" };
    let mut out = format!("ffmcp audit: {} ({count} server{plural})\n", path.display());
    if count == 0 {
        out.push_str("no MCP servers found (looked for mcpServers, servers, mcp.servers)\n");
    }
    for server in &report.servers {
        let name = &server.name;
        if server.findings.is_empty() {
            out.push_str(&format!("\n{name}: no findings\n"));
            continue;
        }
        out.push_str(&format!("\n{name}\n"));
        for f in &server.findings {
            let tag = format!("[{}]", f.severity.as_str().to_ascii_uppercase());
            out.push_str(&format!("  {tag:<8} {}: {}\n", f.rule, f.message));
            out.push_str(&format!("           fix: {}\n", f.fix));
        }
        if let Some(suggestion) = server.findings.iter().find_map(|f| f.suggestion.as_ref()) {
            out.push_str(&format!("  suggested entry: {suggestion}\n"));
        }
    }
    out.push_str(&format!(
        "\n{} high, {} medium, {} low\n",
        report.count(Severity::High),
        report.count(Severity::Medium),
        report.count(Severity::Low)
    ));
    out
}

// ---------------------------------------------------------------------------
// Entries

/// The server tables a client config may hold: `mcpServers` (Claude Desktop,
/// Cursor, ...), `servers` (VS Code mcp.json), `mcp.servers` (VS Code settings).
fn server_tables(root: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    let nested = root
        .get("mcp")
        .and_then(|mcp| mcp.get("servers"))
        .and_then(Value::as_object);
    ["mcpServers", "servers", "mcp.servers"]
        .iter()
        .filter_map(|key| root.get(*key).and_then(Value::as_object))
        .chain(nested)
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

fn audit_entry(entry: &Value, world_writable: &dyn Fn(&Path) -> bool) -> Vec<Finding> {
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
            findings.push(finding(
                Severity::High,
                "secret-in-url",
                format!("the server URL embeds {} ({})", hit.what, redact(&hit.value)),
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
        findings.extend(command_location(command, world_writable, &scrub));
        let (program, rest, wrapped) = effective_invocation(command, &args);
        guarded = wrapped;
        findings.extend(stdio_rules(&program, rest, &scrub));
        let line = std::iter::once(command)
            .chain(args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(what) = pipe_to_shell(&line) {
            findings.push(finding(
                Severity::High,
                "pipe-to-shell",
                format!("the command line downloads or builds code and runs it ({what})"),
                "Install the server once from a pinned, verified release (checksum or signature) and point `command` at the installed binary; never pipe a download into a shell on every start.".into(),
            ));
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

/// Findings about what a stdio entry runs, which `ffmcp guard` can confine.
const CONFINABLE_RULES: &[&str] = &[
    "inline-code",
    "pipe-to-shell",
    "writable-path",
    "unpinned-package",
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

fn dedup(findings: &mut Vec<Finding>) {
    let mut seen = Vec::new();
    findings.retain(|f| {
        let key = (f.rule, f.message.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
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

/// The program that really runs: `env VAR=x prog ...` runs `prog`, and
/// `ffmcp guard ... -- prog ...` runs `prog` already guarded (third value).
fn effective_invocation<'a>(command: &str, args: &'a [String]) -> (String, &'a [String], bool) {
    let program = program_name(command);
    if program == "env" {
        let mut i = 0;
        while let Some(arg) = args.get(i) {
            if matches!(arg.as_str(), "-u" | "--unset" | "-C" | "--chdir") {
                i += 2;
            } else if arg.starts_with('-') || arg.contains('=') {
                i += 1;
            } else {
                return (program_name(arg), &args[i + 1..], false);
            }
        }
    }
    if program == "ffmcp"
        && args.first().map(String::as_str) == Some("guard")
        && let Some(sep) = args.iter().position(|a| a == "--")
        && let Some(inner) = args.get(sep + 1)
    {
        let (program, rest, _) = effective_invocation(inner, &args[sep + 2..]);
        return (program, rest, true);
    }
    (program, args, false)
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

// ---------------------------------------------------------------------------
// JSONC

/// Blanks `//` and `/* */` comments and trailing commas, keeping every other
/// byte where it was so parse errors point into the original text.
fn strip_jsonc(text: &str) -> String {
    let src = text.as_bytes();
    let mut out = src.to_vec();
    let mut in_string = false;
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match (c, src.get(i + 1)) {
            (b'"', _) => in_string = true,
            (b'/', Some(b'/')) => {
                while i < src.len() && src[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
                continue;
            }
            (b'/', Some(b'*')) => {
                let end = src[i + 2..]
                    .windows(2)
                    .position(|w| w == b"*/")
                    .map_or(src.len(), |p| i + 2 + p + 2);
                for byte in &mut out[i..end] {
                    if *byte != b'\n' {
                        *byte = b' ';
                    }
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // Trailing commas, on the comment-free text.
    let mut in_string = false;
    let mut i = 0;
    while i < out.len() {
        let c = out[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else if c == b'"' {
            in_string = true;
        } else if c == b',' {
            let next = out[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
            if matches!(next, Some(b'}' | b']')) {
                out[i] = b' ';
            }
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

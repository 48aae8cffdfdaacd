//! Every tool from the command line: `ffmcp <server> <tool> [--arg value …]
//! [BARE]` and `ffmcp call <server> <tool> --json '{…}'`.
//!
//! No second implementation: the built server is served in this process
//! over an in-memory duplex stream and called through an rmcp client, so a
//! call from the shell passes the same admission, time budget, roots,
//! fetch policy and argument checks as one from an agent. The arguments are
//! read against the input schema `tools/list` returns ([`args`]); the
//! client announces the current directory as its root unless `FF_ROOTS` is
//! set, and shows the tool's progress notifications ([`progress`]).
//!
//! Exit status: 0 done, 1 internal error, 2 bad input (the arguments, a
//! path outside the roots; from the tool error's `ffmcp/errorKind` or an
//! invalid-params JSON-RPC error), 3 upstream failure (a site, a model
//! provider), 130 interrupted: Ctrl-C sends `notifications/cancelled` and
//! waits (at most 5 s) for the tool to stop and give back its slot.

// Roots (`roots/list`) are deprecated by SEP-2577 but still how core learns a
// client's workspace (`core::roots`); the implicit root goes that way.
#![allow(deprecated)]

mod args;
mod progress;

use std::{
    io::{Read as _, Write as _},
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use ffmcp_core::{Config, Context, Server, roots::Roots, tool::ERROR_KIND_META_KEY};
use rmcp::{
    ClientHandler, RoleClient,
    model::{
        CallToolRequest, CallToolRequestParams, CallToolResult, CancelledNotificationParam,
        ClientCapabilities, ClientConfig, ClientRequest, ErrorCode, Implementation,
        ListRootsResult, ProgressNotificationParam, Root, ServerResult,
    },
    service::{NotificationContext, PeerRequestOptions, RequestContext, ServiceError},
};
use serde_json::{Map, Value};

pub use args::EXIT_CODES;
use args::{Kind, Param, Words};
use progress::ProgressView;

/// Exit status for bad input.
const BAD_INPUT: u8 = 2;
/// Exit status for an upstream failure.
const UPSTREAM: u8 = 3;
/// Exit status after Ctrl-C.
const INTERRUPTED: u8 = 130;
/// The most a bare file argument or stdin may hold when read as text.
const MAX_TEXT_BYTES: u64 = 32 * 1024 * 1024;
/// How long a cancelled call gets to stop before the process exits.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// How the tool's arguments are given.
#[derive(Debug)]
pub enum Given {
    /// Words after the tool name: `--name value`, a bare argument, `--json`.
    Words(Vec<String>),
    /// A JSON object (`ffmcp call … --json`; `-` reads it from stdin).
    Json { text: String, structured: bool },
}

/// What happened to a command-line tool call.
#[derive(Debug)]
pub enum Outcome {
    /// The call ran (or its help was printed): exit with this.
    Exit(ExitCode),
    /// The server has no tool of that name; these are its tools.
    NotATool(Vec<String>),
}

/// Runs `tool` of the built `server` with arguments `given`, printing the
/// result on stdout and errors on stderr.
pub async fn run(
    server: &Server,
    server_name: &str,
    tool: &str,
    given: Given,
    context: &Context,
) -> anyhow::Result<Outcome> {
    let config = &context.config;
    let cwd = std::env::current_dir()?;
    let configured_roots = config
        .get(ffmcp_core::roots::ROOTS_ENV)
        .is_some_and(|r| !r.trim().is_empty());
    let root_uri = if configured_roots {
        None
    } else {
        Some(
            url::Url::from_directory_path(&cwd)
                .map_err(|()| anyhow::anyhow!("the current directory is not absolute"))?
                .to_string(),
        )
    };
    let view = Arc::new(ProgressView::for_stderr());
    let handler = CliClient {
        root: root_uri,
        view: view.clone(),
    };
    let session = crate::in_process::open(server, handler).await?;
    let outcome = call(
        &session.client,
        server_name,
        tool,
        given,
        context,
        &cwd,
        &view,
    )
    .await;
    view.clear();
    session.close().await;
    outcome
}

async fn call(
    client: &rmcp::service::RunningService<RoleClient, CliClient>,
    server_name: &str,
    tool: &str,
    given: Given,
    context: &Context,
    cwd: &Path,
    view: &ProgressView,
) -> anyhow::Result<Outcome> {
    let config = &context.config;
    let tools = client
        .peer()
        .list_all_tools()
        .await
        .map_err(|e| anyhow::anyhow!("tools/list failed: {e}"))?;
    let wanted = tool.replace('-', "_");
    let Some(definition) = tools.iter().find(|t| t.name == wanted) else {
        return Ok(Outcome::NotATool(
            tools.iter().map(|t| t.name.replace('_', "-")).collect(),
        ));
    };
    let params = args::params(&definition.input_schema);
    let (arguments, structured) = match given {
        Given::Json { text, structured } => match json_arguments(&text) {
            Ok(arguments) => (arguments, structured),
            Err(message) => return Ok(fail(BAD_INPUT, &message)),
        },
        Given::Words(words) => match args::parse(&params, &words) {
            Ok(Words::Help) => {
                let none = Map::new();
                let bare = args::Bare {
                    url: bare_target(&params, &none, "https://")
                        .filter(|p| p.name.ends_with("url"))
                        .map(|p| p.name.clone()),
                    other: bare_target(&params, &none, "").map(|p| p.name.clone()),
                };
                write_stdout(&args::help(server_name, definition, &params, &bare))?;
                return Ok(Outcome::Exit(ExitCode::SUCCESS));
            }
            Ok(Words::Call(parsed)) => {
                let mut arguments = parsed.arguments;
                if let Some(word) = parsed.bare
                    && let Err(message) = place_bare(&params, &mut arguments, &word, config, cwd)
                {
                    return Ok(fail(BAD_INPUT, &message));
                }
                (arguments, parsed.structured)
            }
            Err(message) => {
                return Ok(fail(
                    BAD_INPUT,
                    &format!(
                        "{message} (see `ffmcp {server_name} {} --help`)",
                        wanted.replace('_', "-")
                    ),
                ));
            }
        },
    };
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(
        CallToolRequestParams::new(wanted.clone()).with_arguments(arguments),
    ));
    let peer = client.peer().clone();
    // Listen before sending: a Ctrl-C at any point after this is seen.
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let handle = peer
        .send_cancellable_request(request, PeerRequestOptions::no_options())
        .await
        .map_err(|e| anyhow::anyhow!("sending tools/call failed: {e}"))?;
    let id = handle.id.clone();
    let response = handle.await_response();
    tokio::pin!(response);
    let answer = tokio::select! {
        answer = &mut response => answer,
        _ = &mut interrupt => {
            view.clear();
            let note = CancelledNotificationParam::new(Some(id), Some("interrupted (Ctrl-C)".into()));
            let _ = peer.notify_cancelled(note).await;
            // MCP sends no answer to a cancelled request, so wait for the
            // call's slot instead: it comes free once the tool has stopped
            // (a crawl has saved its state, so `--resume` finds it).
            let _ = tokio::time::timeout(CANCEL_GRACE, context.governor.idle()).await;
            return Ok(fail(INTERRUPTED, &format!("{wanted}: interrupted; the call was cancelled")));
        }
    };
    view.clear();
    Ok(match answer {
        Ok(ServerResult::CallToolResult(result)) => print_result(&result, structured)?,
        Ok(ServerResult::InputRequiredResult(_)) => fail(
            BAD_INPUT,
            &format!(
                "{wanted} asks for a confirmation the command line cannot give; pass the argument that confirms it (e.g. --overwrite)"
            ),
        ),
        Ok(other) => fail(1, &format!("unexpected answer to tools/call: {other:?}")),
        Err(ServiceError::McpError(error)) => {
            let code = if error.code == ErrorCode::INVALID_PARAMS {
                BAD_INPUT
            } else {
                1
            };
            fail(code, &format!("{wanted}: {}", error.message))
        }
        Err(other) => fail(1, &format!("{wanted}: {other}")),
    })
}

/// Prints a tool result; the exit status follows the error kind.
fn print_result(result: &CallToolResult, structured: bool) -> anyhow::Result<Outcome> {
    let text: Vec<&str> = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect();
    let text = text.join("\n");
    if result.is_error == Some(true) {
        let kind = result
            .meta
            .as_ref()
            .and_then(|m| m.get(ERROR_KIND_META_KEY))
            .and_then(Value::as_str);
        let code = match kind {
            Some("invalid_input") => BAD_INPUT,
            Some("upstream") => UPSTREAM,
            _ => 1,
        };
        return Ok(fail(code, &text));
    }
    let mut out = if structured {
        let value = result
            .structured_content
            .clone()
            .unwrap_or_else(|| Value::String(text));
        serde_json::to_string_pretty(&value)?
    } else {
        text
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    write_stdout(&out)?;
    Ok(Outcome::Exit(ExitCode::SUCCESS))
}

/// `ffmcp call … --json TEXT`: a JSON object (`-`: read from stdin).
fn json_arguments(text: &str) -> Result<Map<String, Value>, String> {
    let text = if text == "-" {
        read_capped(std::io::stdin().lock(), "stdin")?
    } else {
        text.to_owned()
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(arguments)) => Ok(arguments),
        Ok(_) => Err("--json takes a JSON object of arguments, e.g. '{\"text\": \"hi\"}'".into()),
        Err(e) => Err(format!("--json is not valid JSON: {e}")),
    }
}

/// Which argument a bare word fills: `path` for a local path, a `url`
/// property for a URL, else the tool's one required free-text string (or
/// its first free-text string).
fn bare_target<'a>(
    params: &'a [Param],
    given: &Map<String, Value>,
    word: &str,
) -> Option<&'a Param> {
    let free =
        |p: &&Param| p.kind == Kind::String && p.choices.is_empty() && !given.contains_key(&p.name);
    if word.contains("://") {
        let url = params
            .iter()
            .filter(free)
            .find(|p| p.name == "url")
            .or_else(|| params.iter().filter(free).find(|p| p.name.ends_with("url")));
        if url.is_some() {
            return url;
        }
    } else if let Some(path) = params.iter().filter(free).find(|p| p.name == "path") {
        return Some(path);
    }
    let required: Vec<&Param> = params.iter().filter(free).filter(|p| p.required).collect();
    match required.as_slice() {
        [one] => Some(one),
        _ => params
            .iter()
            .filter(free)
            .find(|p| !p.name.ends_with("url")),
    }
}

/// Puts the bare word where [`bare_target`] says. A word naming a local
/// file given to a text argument (`input`, `text`, …) brings the file's
/// text, read under the same roots the tools use; `-` brings stdin. A
/// required enumerated argument still missing takes the file's extension
/// when that is one of its values (`data.yaml` → `from: yaml`).
fn place_bare(
    params: &[Param],
    arguments: &mut Map<String, Value>,
    word: &str,
    config: &Config,
    cwd: &Path,
) -> Result<(), String> {
    let target = bare_target(params, arguments, word).ok_or_else(|| {
        format!("this tool has no argument a bare '{word}' could fill; give it as --name value")
    })?;
    let value = if target.name == "path" {
        let path = Path::new(word);
        if path.is_absolute() {
            word.to_owned()
        } else {
            cwd.join(path).to_string_lossy().into_owned()
        }
    } else if target.name.ends_with("url") {
        word.to_owned()
    } else if word == "-" {
        read_capped(std::io::stdin().lock(), "stdin")?
    } else if cwd.join(word).is_file() {
        let text = read_under_roots(word, config, cwd)?;
        fill_format_from_extension(params, arguments, word);
        text
    } else {
        word.to_owned()
    };
    arguments.insert(target.name.clone(), Value::String(value));
    Ok(())
}

fn fill_format_from_extension(params: &[Param], arguments: &mut Map<String, Value>, word: &str) {
    let Some(extension) = Path::new(word).extension().and_then(|e| e.to_str()) else {
        return;
    };
    let extension = match extension.to_ascii_lowercase().as_str() {
        "yml" => "yaml".to_owned(),
        "htm" => "html".to_owned(),
        "md" => "markdown".to_owned(),
        other => other.to_owned(),
    };
    let open: Vec<&Param> = params
        .iter()
        .filter(|p| p.required && !arguments.contains_key(&p.name))
        .filter(|p| p.choices.contains(&extension))
        .collect();
    if let [param] = open.as_slice() {
        arguments.insert(param.name.clone(), Value::String(extension));
    }
}

/// A file's text, checked against the roots the tools would use: `FF_ROOTS`
/// when set, else the current directory (the CLI's implicit root).
fn read_under_roots(word: &str, config: &Config, cwd: &Path) -> Result<String, String> {
    let roots = match Roots::from_config(config).map_err(|e| e.to_string())? {
        roots if roots.is_empty() => Roots::new([cwd]).map_err(|e| e.to_string())?,
        roots => roots,
    };
    let absolute: PathBuf = cwd.join(word);
    let allowed = roots
        .check_read(&absolute.to_string_lossy())
        .map_err(|e| e.to_string())?;
    let file = allowed
        .open_read()
        .map_err(|e| format!("cannot read '{word}': {e}"))?;
    read_capped(file, word)
}

fn read_capped(source: impl std::io::Read, what: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    source
        .take(MAX_TEXT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > MAX_TEXT_BYTES {
        return Err(format!(
            "{what} is larger than {} MiB",
            MAX_TEXT_BYTES / 1024 / 1024
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8 text"))
}

/// Prints `message` on stderr and exits with `code`.
fn fail(code: u8, message: &str) -> Outcome {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "ffmcp: error: {}", message.trim_end());
    Outcome::Exit(ExitCode::from(code))
}

fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// The in-process client: announces the implicit root and shows progress.
struct CliClient {
    /// `file://` URI of the current directory, unless `FF_ROOTS` is set.
    root: Option<String>,
    view: Arc<ProgressView>,
}

impl ClientHandler for CliClient {
    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, rmcp::ErrorData> {
        Ok(ListRootsResult::new(
            self.root.iter().map(|uri| Root::new(uri.clone())).collect(),
        ))
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.view
            .update(params.progress, params.total, params.message.as_deref());
    }

    fn get_info(&self) -> ClientConfig {
        let capabilities = if self.root.is_some() {
            ClientCapabilities::builder().enable_roots().build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(
            capabilities,
            Implementation::new("ffmcp-cli", env!("CARGO_PKG_VERSION")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params_of(schema: Value) -> Vec<Param> {
        let Value::Object(schema) = schema else {
            unreachable!()
        };
        args::params(&schema)
    }

    #[test]
    fn a_bare_word_fills_path_url_or_the_text_argument() {
        let string = json!({"type": ["string", "null"]});
        let document = params_of(json!({"type": "object", "properties": {
            "path": string, "url": string, "content_base64": string}}));
        let page = params_of(json!({"type": "object", "properties": {
            "url": string, "html": string, "base_url": string}}));
        let site = params_of(json!({"type": "object", "properties": {
            "start_url": string, "sitemap_url": string, "resume": string}}));
        let convert = params_of(
            json!({"type": "object", "required": ["input", "from", "to"],
            "properties": {"input": {"type": "string"}, "from": {"enum": ["json", "yaml"]},
            "to": {"enum": ["json", "yaml"]}, "delimiter": string}}),
        );
        let none = Map::new();
        let table: &[(&[Param], &str, Option<&str>)] = &[
            (&document, "report.pdf", Some("path")),
            (&document, "https://example.com/a.pdf", Some("url")),
            (&page, "https://example.com", Some("url")),
            (&page, "<html></html>", Some("html")),
            (&site, "https://example.com", Some("start_url")),
            (&site, "crawl-1", Some("resume")),
            (&convert, "data.yaml", Some("input")),
            (&[], "x", None),
        ];
        for (params, word, expected) in table {
            let target = bare_target(params, &none, word).map(|p| p.name.as_str());
            assert_eq!(target, *expected, "{word}");
        }
        // An argument given as a flag is not filled again.
        let given = Map::from_iter([("url".to_owned(), json!("https://a.example"))]);
        let target = bare_target(&page, &given, "https://b.example").map(|p| p.name.as_str());
        assert_eq!(target, Some("base_url"));
    }

    #[test]
    fn a_file_extension_fills_the_one_missing_format() {
        let convert = params_of(
            json!({"type": "object", "required": ["input", "from", "to"],
            "properties": {"input": {"type": "string"}, "from": {"enum": ["json", "yaml"]},
            "to": {"enum": ["json", "yaml"]}}}),
        );
        let mut arguments = Map::from_iter([("to".to_owned(), json!("json"))]);
        fill_format_from_extension(&convert, &mut arguments, "data.YML");
        assert_eq!(arguments["from"], "yaml");
        // Two open formats: which one the extension names is unknown.
        let mut arguments = Map::new();
        fill_format_from_extension(&convert, &mut arguments, "data.yaml");
        assert!(arguments.is_empty(), "{arguments:?}");
    }
}

//! Spawning a server binary and talking to it: an rmcp client over stdio
//! or streamable HTTP, tool calls bounded in time, and a raw child process
//! with line-by-line stdio for frame-level tests. The binary is a
//! parameter (`env!("CARGO_BIN_EXE_ffmcp")` is only known to the root
//! package's tests), so every crate's tests can use these.

use std::{
    io::{BufRead, BufReader, Read, Write},
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use rmcp::{
    ClientHandler, Peer, RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult},
    service::RunningService,
    transport::{
        StreamableHttpClientTransport, TokioChildProcess,
        streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use serde_json::Value;

/// How long a handshake, a tool call or an expected line may take.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub type Client = RunningService<RoleClient, ()>;

/// An rmcp client over the stdio of `cmd` (stdin/stdout are taken over).
pub async fn connect_stdio(cmd: tokio::process::Command) -> Client {
    connect_stdio_with((), cmd).await
}

/// [`connect_stdio`] with a client `handler` of its own (sampling,
/// notifications, progress), the handshake bounded in time.
pub async fn connect_stdio_with<H: ClientHandler>(
    handler: H,
    cmd: tokio::process::Command,
) -> RunningService<RoleClient, H> {
    let transport = TokioChildProcess::new(cmd).expect("spawn the server");
    tokio::time::timeout(TIMEOUT, handler.serve(transport))
        .await
        .expect("handshake in time")
        .expect("handshake succeeds")
}

/// An rmcp client talking to `bin ARGS` over stdio, with `FF_LOG=warn`
/// and `env` added to the environment.
pub async fn stdio_client(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Client {
    #[allow(clippy::disallowed_methods)] // tests start the binary under test directly
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(args).env("FF_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    connect_stdio(cmd).await
}

/// An rmcp client talking to a streamable HTTP endpoint.
pub async fn http_client(url: &str, token: Option<&str>) -> Client {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(token) = token {
        config = config.auth_header(token.to_owned());
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    tokio::time::timeout(TIMEOUT, ().serve(transport))
        .await
        .expect("handshake in time")
        .expect("handshake succeeds")
}

/// Calls a tool with JSON arguments, bounded in time.
pub async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    call_peer(client.peer(), tool, args).await
}

/// [`call`] through any client's peer (e.g. one with its own handler).
pub async fn call_peer(peer: &Peer<RoleClient>, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("tool arguments must be an object");
    };
    let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(args);
    tokio::time::timeout(TIMEOUT, peer.call_tool(params))
        .await
        .expect("tool call in time")
        .expect("tool call answered")
}

/// The text blocks of a tool result, joined by newlines.
pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The structured content of a successful tool result.
pub fn structured(result: &CallToolResult) -> Value {
    assert_ne!(
        result.is_error,
        Some(true),
        "tool error: {}",
        text_of(result)
    );
    result
        .structured_content
        .clone()
        .expect("structured content")
}

/// The structured content of a successful `result` of `tool` that also
/// has a text rendering, checked against the outputSchema `peer`'s server
/// declares for `tool`.
pub async fn conforming(peer: &Peer<RoleClient>, tool: &str, result: &CallToolResult) -> Value {
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool} failed: {}",
        text_of(result)
    );
    assert!(
        !text_of(result).is_empty(),
        "{tool}: a text rendering is expected"
    );
    let structured = result
        .structured_content
        .clone()
        .expect("structured content");
    let tools = peer.list_all_tools().await.expect("tools/list");
    let tool_def = tools.iter().find(|t| t.name == tool).expect("tool listed");
    let schema = Value::Object((**tool_def.output_schema.as_ref().expect("outputSchema")).clone());
    let validator = jsonschema::validator_for(&schema).expect("compilable output schema");
    if let Err(err) = validator.validate(&structured) {
        panic!("{tool}: structured content does not match outputSchema: {err}\n{structured}");
    }
    structured
}

/// The text of a tool error (asserting it is one).
pub fn error_text(result: &CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "expected an error: {result:?}");
    text_of(result)
}

/// A running child process with piped stdio read line by line; killed on drop.
pub struct Proc {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub stdout: Option<mpsc::Receiver<String>>,
    pub stderr: mpsc::Receiver<String>,
}

impl std::fmt::Debug for Proc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proc")
            .field("pid", &self.child.id())
            .finish()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Proc {
    /// Spawns `bin ARGS` with piped stdio, `FF_LOG=info`, no
    /// `FF_HTTP_TOKEN` from the host, and `env` added.
    pub fn spawn(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        #[allow(clippy::disallowed_methods)] // tests start the binary under test directly
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("FF_HTTP_TOKEN")
            .env("FF_LOG", "info");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn the server");
        let stdout = child.stdout.take().map(lines_of);
        let stderr = lines_of(child.stderr.take().expect("piped stderr"));
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    /// Writes raw bytes to stdin.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Writes one JSON value as a line.
    pub fn send(&mut self, value: &Value) {
        let mut line = serde_json::to_vec(value).expect("serialise");
        line.push(b'\n');
        self.send_raw(&line);
    }

    /// Reads the next stdout line, which must be JSON.
    pub fn recv(&mut self) -> Value {
        let line = self
            .stdout
            .as_ref()
            .expect("stdout piped")
            .recv_timeout(TIMEOUT)
            .expect("a response line in time");
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"))
    }

    /// Waits for a stderr line containing `needle`; returns it.
    pub fn wait_stderr(&self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => seen.push(line),
                Err(_) => break,
            }
        }
        panic!("no stderr line containing {needle:?}; saw: {seen:#?}");
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the server did not exit in time");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal (e.g. SIGTERM) to the process.
    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, signal).expect("send signal");
    }
}

/// A stdio session set up by hand (initialize + initialized), for raw-frame tests.
pub fn raw_stdio(bin: &str, args: &[&str]) -> Proc {
    let mut proc = Proc::spawn(bin, args, &[]);
    proc.send(&initialize_request(1));
    let init = proc.recv();
    assert_eq!(init["id"], 1, "initialize answered: {init}");
    assert!(init["result"]["serverInfo"].is_object(), "{init}");
    proc.send(&serde_json::json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
    proc
}

/// A JSON-RPC `initialize` request with id `id`.
pub fn initialize_request(id: u64) -> Value {
    serde_json::json!({
        "jsonrpc": "2.0", "id": id, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "ffmcp-e2e", "version": "0"}
        }
    })
}

/// A running server with `--http 127.0.0.1:0` and the address it bound.
#[derive(Debug)]
pub struct HttpProc {
    pub proc: Proc,
    pub base: String,
}

impl HttpProc {
    /// Spawns `bin ARGS` (which must include `--http ADDR`), waits for the
    /// ready line, and extracts `http://host:port`.
    pub fn spawn(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let proc = Proc::spawn(bin, args, env);
        let line = proc.wait_stderr("http://");
        let start = line.find("http://").expect("url in ready line");
        let rest = &line[start + "http://".len()..];
        let end = rest
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(rest.len());
        let base = format!("http://{}", &rest[..end]);
        Self { proc, base }
    }

    /// The port it bound.
    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in base url")
    }
}

/// Whether every program in `programs` is installed. When one is missing
/// the test should return early: this prints a SKIPPED notice straight to
/// stderr (libtest hides `eprintln!` of passing tests), unless
/// `FFMCP_REQUIRE_OPTIONAL` is set (CI sets it), which makes it a failure.
pub fn optional_programs(test: &str, programs: &[&str], hint: &str) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| !std::path::Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("FFMCP_REQUIRE_OPTIONAL").is_none(),
        "{test}: {} missing ({hint}); FFMCP_REQUIRE_OPTIONAL is set, so this is a failure",
        missing.join(", ")
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {} not installed ({hint}; set FFMCP_REQUIRE_OPTIONAL=1 to make this a failure)",
        missing.join(", ")
    );
    false
}

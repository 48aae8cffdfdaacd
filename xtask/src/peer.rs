//! The servers under test and a minimal MCP client for each transport.

use std::{
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, ChildStdin, ChildStdout, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde_json::{Value, json};

pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// The newer generation: no handshake, everything a server needs to know in
/// each request's `_meta` (and, over HTTP, in standard headers).
pub const PROTOCOL_2026: &str = "2026-07-28";

/// A server process, killed on drop.
pub struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process, in MiB.
    pub fn rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS in /proc status")?;
        Ok(kb / 1024.0)
    }
}

/// One way to talk MCP to a server: send a request, get its response.
pub trait Client {
    fn request(&mut self, message: &Value) -> anyhow::Result<Value>;
    fn notify(&mut self, message: &Value) -> anyhow::Result<()>;
}

pub fn initialize(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
        "clientInfo": {"name": "ffmcp-bench", "version": "0"}}})
}

pub fn initialized() -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
}

pub fn tool_call(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "text_stats", "arguments": {"text": "hello world"}}})
}

/// [`tool_call`] as a 2026-07-28 client sends it: no session, the protocol
/// version, client info and capabilities in `_meta`.
pub fn tool_call_2026(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "text_stats", "arguments": {"text": "hello world"},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": PROTOCOL_2026,
                "io.modelcontextprotocol/clientInfo": {"name": "ffmcp-bench", "version": "0"},
                "io.modelcontextprotocol/clientCapabilities": {}}}})
}

/// Does the MCP handshake on `client`.
pub fn handshake(client: &mut dyn Client) -> anyhow::Result<()> {
    let response = client.request(&initialize(0))?;
    if response.get("result").is_none() {
        bail!("initialize failed: {response}");
    }
    client.notify(&initialized())
}

// ---- stdio -------------------------------------------------------------------

pub struct StdioClient {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    line: String,
}

/// Spawns `program args` as a stdio MCP server.
pub fn spawn_stdio(program: &Path, args: &[&str]) -> anyhow::Result<(Server, StdioClient)> {
    spawn_stdio_in(program, args, Path::new("."))
}

/// Spawns `program args` in `dir` as a stdio MCP server.
pub fn spawn_stdio_in(
    program: &Path,
    args: &[&str],
    dir: &Path,
) -> anyhow::Result<(Server, StdioClient)> {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let stdin = child.stdin.take().context("stdin")?;
    let stdout = BufReader::new(child.stdout.take().context("stdout")?);
    Ok((
        Server { child },
        StdioClient {
            stdin,
            stdout,
            line: String::new(),
        },
    ))
}

impl Client for StdioClient {
    fn request(&mut self, message: &Value) -> anyhow::Result<Value> {
        self.notify(message)?;
        let id = &message["id"];
        loop {
            self.line.clear();
            if self.stdout.read_line(&mut self.line)? == 0 {
                bail!("server closed stdout");
            }
            let response: Value = serde_json::from_str(&self.line)?;
            if &response["id"] == id {
                return Ok(response);
            }
        }
    }

    fn notify(&mut self, message: &Value) -> anyhow::Result<()> {
        let mut bytes = serde_json::to_vec(message)?;
        bytes.push(b'\n');
        self.stdin.write_all(&bytes)?;
        self.stdin.flush()?;
        Ok(())
    }
}

// ---- streamable HTTP -----------------------------------------------------------

pub struct HttpClient {
    agent: ureq::Agent,
    url: String,
    session: Option<String>,
    /// The protocol version spoken.
    version: &'static str,
}

/// A free loopback port (bound and released).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Spawns `program args` (already listening on `port` once up) and waits for it.
pub fn spawn_http(
    program: &Path,
    args: &[&str],
    port: u16,
    path: &str,
) -> anyhow::Result<(Server, HttpClient)> {
    spawn_http_with_env(program, args, port, path, &[])
}

/// Another client of an HTTP server already listening on `port`.
pub fn spawn_http_client(port: u16, path: &str) -> HttpClient {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    HttpClient {
        agent,
        url: format!("http://127.0.0.1:{port}{path}"),
        session: None,
        version: PROTOCOL_VERSION,
    }
}

/// [`spawn_http`] with extra environment variables.
pub fn spawn_http_with_env(
    program: &Path,
    args: &[&str],
    port: u16,
    path: &str,
    env: &[(&str, &str)],
) -> anyhow::Result<(Server, HttpClient)> {
    let child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let mut server = Server { child };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = server.child.try_wait()? {
            bail!(
                "{} exited ({status}) before listening on port {port}",
                program.display()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not listen on port {port} within 30 s",
                program.display()
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    Ok((
        server,
        HttpClient {
            agent,
            url: format!("http://127.0.0.1:{port}{path}"),
            session: None,
            version: PROTOCOL_VERSION,
        },
    ))
}

impl HttpClient {
    /// Speaks protocol `version` (its header; 2026-07-28 adds the standard
    /// `Mcp-Method`/`Mcp-Name` headers).
    pub fn speaking(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }

    /// Ends this client's session (`DELETE` with its session id); the
    /// HTTP status, or `None` when there was no session.
    pub fn delete_session(&mut self) -> anyhow::Result<Option<u16>> {
        let Some(session) = self.session.take() else {
            return Ok(None);
        };
        let response = self
            .agent
            .delete(&self.url)
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", PROTOCOL_VERSION)
            .call()?;
        Ok(Some(response.status().as_u16()))
    }

    fn post(&mut self, message: &Value) -> anyhow::Result<(u16, String, String)> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", self.version);
        if self.version == PROTOCOL_2026
            && let Some(method) = message["method"].as_str()
        {
            request = request.header("mcp-method", method);
            if let Some(name) = message["params"]["name"].as_str() {
                request = request.header("mcp-name", name);
            }
        }
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        let mut response = request.send(serde_json::to_string(message)?)?;
        if let Some(session) = response.headers().get("mcp-session-id") {
            self.session = Some(session.to_str()?.to_owned());
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string()?;
        Ok((status, content_type, body))
    }
}

/// `clients` clients of the HTTP server on `port`, each on its own
/// connection (and, below 2026-07-28, in its own session) speaking
/// `version`, call `call(id)` as fast as they can for `window` after 50
/// untimed calls each; the calls answered per second, all clients together.
pub fn throughput(
    port: u16,
    clients: usize,
    window: Duration,
    version: &'static str,
    call: fn(u64) -> Value,
) -> anyhow::Result<f64> {
    let start = std::sync::Arc::new(std::sync::Barrier::new(clients + 1));
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let start = start.clone();
            thread::spawn(move || -> anyhow::Result<u64> {
                let mut client = spawn_http_client(port, "/mcp").speaking(version);
                let mut ready = || -> anyhow::Result<()> {
                    if version != PROTOCOL_2026 {
                        handshake(&mut client)?;
                    }
                    for id in 0..50 {
                        client.request(&call(id + 1))?;
                    }
                    Ok(())
                };
                let ready = ready();
                // Every client waits here, ready or not, so none is left
                // blocked on the barrier when one fails.
                start.wait();
                ready?;
                let deadline = Instant::now() + window;
                let mut calls = 0;
                while Instant::now() < deadline {
                    let response = client.request(&call(calls + 100))?;
                    if response.get("result").is_none() {
                        bail!("tools/call failed: {response}");
                    }
                    calls += 1;
                }
                Ok(calls)
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut calls = 0;
    for worker in workers {
        calls += worker
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))??;
    }
    Ok(calls as f64 / began.elapsed().as_secs_f64())
}

/// The HTTP floor: `GET path` on a server already listening on `port`,
/// through the same client stack as the MCP calls, `warmup` untimed then
/// `iterations` timed round-trips.
pub fn http_floor(
    port: u16,
    path: &str,
    warmup: usize,
    iterations: usize,
) -> anyhow::Result<Vec<Duration>> {
    let client = spawn_http_client(port, path);
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..warmup + iterations {
        let started = Instant::now();
        let mut response = client.agent.get(&client.url).call()?;
        let body = response.body_mut().read_to_string()?;
        if i >= warmup {
            samples.push(started.elapsed());
        }
        if response.status() != 200 {
            bail!("GET {path}: HTTP {}: {body}", response.status());
        }
    }
    Ok(samples)
}

/// A bare HTTP/1.1 responder on a free loopback port, in threads of this
/// process: it reads each request head and writes a fixed `200 ok`, so a
/// round-trip to it is the client and the kernel alone, the floor under
/// every HTTP server measured with this client.
pub fn bare_http_responder() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let Ok(mut writer) = stream.try_clone() else {
                    return;
                };
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => {
                            let reply = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";
                            if writer.write_all(reply).is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    Ok(port)
}

impl Client for HttpClient {
    fn request(&mut self, message: &Value) -> anyhow::Result<Value> {
        let (status, content_type, body) = self.post(message)?;
        if status != 200 {
            bail!("HTTP {status}: {body}");
        }
        if content_type.starts_with("text/event-stream") {
            for data in body.lines().filter_map(|l| l.strip_prefix("data:")) {
                let Ok(value) = serde_json::from_str::<Value>(data.trim()) else {
                    continue;
                };
                if value["id"] == message["id"] {
                    return Ok(value);
                }
            }
            bail!(
                "no response with id {} in event stream: {body}",
                message["id"]
            );
        }
        Ok(serde_json::from_str(&body)?)
    }

    fn notify(&mut self, message: &Value) -> anyhow::Result<()> {
        let (status, _, body) = self.post(message)?;
        if !(200..300).contains(&status) {
            bail!("notification got HTTP {status}: {body}");
        }
        Ok(())
    }
}

//! `cargo xtask bench protocol`: ffmcp vs Python FastMCP, measured in one run
//! with the same client code, so the ratios compare like with like; both
//! protocol generations (2025-06-18 with its `initialize` handshake and
//! sessions, 2026-07-28 with per-request `_meta` and no handshake), stdio
//! and HTTP, stateful and stateless. Besides one client's round-trips, a
//! second table measures throughput over HTTP with many clients at once
//! (`--clients`, each in its own session), the load a shared deployment
//! serves: calls per second, ffmcp against FastMCP.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde_json::json;

use crate::peer::{self, Client, Server};

/// `cargo xtask bench protocol` options.
#[derive(clap::Args)]
pub struct Options {
    /// Timed round-trips per server and transport (at least 10).
    #[arg(long, default_value_t = 2000, value_parser = at_least_ten)]
    pub iterations: usize,
    /// Untimed round-trips before timing starts.
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
    /// HTTP clients calling at once in the throughput table (0 skips it).
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Seconds each throughput row is measured for.
    #[arg(long, default_value_t = 3)]
    pub throughput_secs: u64,
}

/// Fewer than ten samples make no percentile; smaller counts are raised to 10.
fn at_least_ten(value: &str) -> Result<usize, String> {
    value
        .parse::<usize>()
        .map(|n| n.max(10))
        .map_err(|_| format!("takes a number, got {value}"))
}

const COLD_START_RUNS: usize = 20;
/// The Python SDK the peer runs on (FastMCP is `MCPServer` in mcp 2.x).
const PEER_REQUIREMENT: &str = "mcp>=2.3,<3";

/// Which protocol generation a row's client speaks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Generation {
    /// 2025-06-18: `initialize`, then calls (in a session over stateful HTTP).
    V2025,
    /// 2026-07-28: no handshake; `_meta` and standard headers on each call.
    V2026,
}

impl Generation {
    fn call(self, id: u64) -> serde_json::Value {
        match self {
            Self::V2025 => peer::tool_call(id),
            Self::V2026 => peer::tool_call_2026(id),
        }
    }
}

/// The ffmcp HTTP rows: name, `--stateless`, the client's generation.
const FFMCP_HTTP: [(&str, bool, Generation); 4] = [
    ("ffmcp http", false, Generation::V2025),
    ("ffmcp http stateless", true, Generation::V2025),
    ("ffmcp http 2026", false, Generation::V2026),
    ("ffmcp http stateless 2026", true, Generation::V2026),
];

/// A free port and the arguments serving `ffmcp transform` on it.
fn ffmcp_http(stateless: bool) -> anyhow::Result<(u16, Vec<String>)> {
    let port = peer::free_port()?;
    let mut args = vec![
        "transform".to_owned(),
        "--http".to_owned(),
        format!("127.0.0.1:{port}"),
    ];
    if stateless {
        args.push("--stateless".to_owned());
    }
    Ok((port, args))
}

/// One row of the throughput table.
struct Throughput {
    name: &'static str,
    calls_per_sec: f64,
}

/// One row of the result table.
struct Row {
    name: &'static str,
    median_us: f64,
    p99_us: f64,
    mean_us: f64,
    cold_start_ms: Option<f64>,
    idle_rss_mib: f64,
}

pub fn protocol(options: Options) -> anyhow::Result<()> {
    let root = workspace_root()?;
    let ffmcp = build_release(&root)?;
    let mut rows = Vec::new();

    eprintln!("measuring the pipe floor (cat echoing each request) ...");
    rows.push(floor_row(&options)?);
    eprintln!("measuring ffmcp (stdio, http; both generations) ...");
    rows.push(stdio_row("ffmcp stdio", &ffmcp, &["transform"], &options)?);
    rows.push(stdio_row_2026(
        "ffmcp stdio 2026",
        &ffmcp,
        &["transform"],
        &options,
    )?);
    for (name, stateless, generation) in FFMCP_HTTP {
        let (port, args) = ffmcp_http(stateless)?;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        rows.push(http_row(
            name, &ffmcp, &args, port, "/mcp", generation, &options,
        )?);
    }
    rows.push(bare_http_row(&options)?);
    rows.push(http_floor_row(&ffmcp, &options)?);
    let mut throughput = Vec::new();
    if options.clients > 0 {
        eprintln!(
            "measuring ffmcp HTTP throughput ({} clients at once) ...",
            options.clients
        );
        for (name, stateless, generation) in FFMCP_HTTP {
            let (port, args) = ffmcp_http(stateless)?;
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            throughput.push(throughput_row(
                name, &ffmcp, &args, port, generation, &options,
            )?);
        }
    }

    match python_peer(&root) {
        Ok(python) => {
            let script = root.join("xtask/peers/fastmcp_server.py");
            let script = script.to_str().context("non-UTF-8 path")?;
            eprintln!("measuring FastMCP (stdio, http) ...");
            rows.push(stdio_row(
                "fastmcp stdio",
                &python,
                &[script, "stdio"],
                &options,
            )?);
            let port = peer::free_port()?;
            let port_text = port.to_string();
            rows.push(http_row(
                "fastmcp http",
                &python,
                &[script, "http", &port_text],
                port,
                "/mcp",
                Generation::V2025,
                &options,
            )?);
            // The Python SDK serves 2026-07-28 too; a peer that does not is
            // reported as such, not as a failure of the run.
            match stdio_row_2026("fastmcp stdio 2026", &python, &[script, "stdio"], &options) {
                Ok(row) => rows.push(row),
                Err(e) => eprintln!("FastMCP over stdio does not answer 2026-07-28 calls: {e:#}"),
            }
            let port = peer::free_port()?;
            let port_text = port.to_string();
            match http_row(
                "fastmcp http 2026",
                &python,
                &[script, "http", &port_text],
                port,
                "/mcp",
                Generation::V2026,
                &options,
            ) {
                Ok(row) => rows.push(row),
                Err(e) => eprintln!("FastMCP over HTTP does not answer 2026-07-28 calls: {e:#}"),
            }
            if options.clients > 0 {
                eprintln!(
                    "measuring FastMCP HTTP throughput ({} clients at once) ...",
                    options.clients
                );
                for (name, generation) in [
                    ("fastmcp http", Generation::V2025),
                    ("fastmcp http 2026", Generation::V2026),
                ] {
                    let port = peer::free_port()?;
                    let port_text = port.to_string();
                    match throughput_row(
                        name,
                        &python,
                        &[script, "http", &port_text],
                        port,
                        generation,
                        &options,
                    ) {
                        Ok(row) => throughput.push(row),
                        Err(e) => eprintln!("{name}: no throughput measured: {e:#}"),
                    }
                }
            }
        }
        Err(err) => eprintln!("FastMCP peer unavailable, reporting ffmcp only: {err:#}"),
    }

    report(&root, &rows, &throughput, &options)
}

fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask has no parent directory")
}

fn build_release(root: &Path) -> anyhow::Result<PathBuf> {
    eprintln!("building target/release/ffmcp ...");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--locked", "--bin", "ffmcp"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    Ok(root.join("target/release/ffmcp"))
}

/// A venv under target/ with the Python SDK; returns its python.
fn python_peer(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join("target/bench-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()?
            .success();
        if !ok {
            bail!("python3 -m venv failed");
        }
    }
    // Idempotent: a no-op (no download) when a matching version is installed.
    let ok = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            PEER_REQUIREMENT,
        ])
        .status()?
        .success();
    if !ok {
        bail!("pip install {PEER_REQUIREMENT} failed");
    }
    Ok(python)
}

fn stdio_row(
    name: &'static str,
    program: &Path,
    args: &[&str],
    options: &Options,
) -> anyhow::Result<Row> {
    let mut starts = Vec::with_capacity(COLD_START_RUNS);
    for _ in 0..COLD_START_RUNS {
        let started = Instant::now();
        let (_server, mut client) = peer::spawn_stdio(program, args)?;
        client.request(&peer::initialize(0))?;
        starts.push(started.elapsed());
    }
    let (server, mut client) = peer::spawn_stdio(program, args)?;
    peer::handshake(&mut client)?;
    let mut row = measure(name, &server, &mut client, options)?;
    row.cold_start_ms = Some(median(&mut starts).as_secs_f64() * 1e3);
    Ok(row)
}

/// A 2026-07-28 client over stdio: no handshake; cold start is the time to
/// the first call's answer.
fn stdio_row_2026(
    name: &'static str,
    program: &Path,
    args: &[&str],
    options: &Options,
) -> anyhow::Result<Row> {
    let mut starts = Vec::with_capacity(COLD_START_RUNS);
    for _ in 0..COLD_START_RUNS {
        let started = Instant::now();
        let (_server, mut client) = peer::spawn_stdio(program, args)?;
        let answer = client.request(&peer::tool_call_2026(0))?;
        if answer.get("result").is_none() {
            bail!("{name}: the first call failed: {answer}");
        }
        starts.push(started.elapsed());
    }
    let (server, mut client) = peer::spawn_stdio(program, args)?;
    let mut row = measure_with(name, &server, &mut client, options, true, Generation::V2026)?;
    row.cold_start_ms = Some(median(&mut starts).as_secs_f64() * 1e3);
    Ok(row)
}

/// The same client against `cat`: one pipe round-trip with no server work,
/// the floor any stdio server on this machine is measured against.
fn floor_row(options: &Options) -> anyhow::Result<Row> {
    let (server, mut client) = peer::spawn_stdio(Path::new("cat"), &[])?;
    let mut row = measure_with(
        "pipe floor (cat)",
        &server,
        &mut client,
        options,
        false,
        Generation::V2025,
    )?;
    row.cold_start_ms = None;
    Ok(row)
}

/// The same client against a bare responder that parses nothing: the
/// client's and the kernel's share of any HTTP round-trip here.
fn bare_http_row(options: &Options) -> anyhow::Result<Row> {
    let port = peer::bare_http_responder()?;
    let samples = peer::http_floor(port, "/", options.warmup, options.iterations)?;
    Ok(row_of("http floor (bare responder)", samples, 0.0))
}

/// ffmcp's `GET /healthz` through the same client: the accept loop, the
/// guards and an HTTP exchange with no MCP in it, the floor the HTTP rows
/// stand on (as `cat` is for stdio).
fn http_floor_row(ffmcp: &Path, options: &Options) -> anyhow::Result<Row> {
    let (port, args) = ffmcp_http(false)?;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (server, _client) = peer::spawn_http(ffmcp, &args, port, "/healthz")?;
    let samples = peer::http_floor(port, "/healthz", options.warmup, options.iterations)?;
    Ok(row_of(
        "http floor (ffmcp GET /healthz)",
        samples,
        server.rss_mib()?,
    ))
}

/// A row from round-trip `samples` (no cold start).
fn row_of(name: &'static str, mut samples: Vec<Duration>, idle_rss_mib: f64) -> Row {
    let mean = samples.iter().sum::<Duration>() / samples.len().max(1) as u32;
    let p99 = percentile(&mut samples, 0.99);
    Row {
        name,
        median_us: median(&mut samples).as_secs_f64() * 1e6,
        p99_us: p99.as_secs_f64() * 1e6,
        mean_us: mean.as_secs_f64() * 1e6,
        cold_start_ms: None,
        idle_rss_mib,
    }
}

fn http_row(
    name: &'static str,
    program: &Path,
    args: &[&str],
    port: u16,
    path: &str,
    generation: Generation,
    options: &Options,
) -> anyhow::Result<Row> {
    let (server, client) = peer::spawn_http(program, args, port, path)?;
    match generation {
        Generation::V2025 => {
            let mut client = client;
            peer::handshake(&mut client)?;
            measure(name, &server, &mut client, options)
        }
        Generation::V2026 => {
            let mut client = client.speaking(peer::PROTOCOL_2026);
            measure_with(name, &server, &mut client, options, true, generation)
        }
    }
}

/// `options.clients` clients, each in its own session (2025) or speaking
/// 2026-07-28, call as fast as they can for `options.throughput_secs`; the
/// calls answered per second, all clients together.
fn throughput_row(
    name: &'static str,
    program: &Path,
    args: &[&str],
    port: u16,
    generation: Generation,
    options: &Options,
) -> anyhow::Result<Throughput> {
    let (_server, _first) = peer::spawn_http(program, args, port, "/mcp")?;
    let version = match generation {
        Generation::V2025 => peer::PROTOCOL_VERSION,
        Generation::V2026 => peer::PROTOCOL_2026,
    };
    let call = match generation {
        Generation::V2025 => peer::tool_call,
        Generation::V2026 => peer::tool_call_2026,
    };
    let window = Duration::from_secs(options.throughput_secs.max(1));
    let calls_per_sec = peer::throughput(port, options.clients, window, version, call)
        .with_context(|| name.to_owned())?;
    Ok(Throughput {
        name,
        calls_per_sec,
    })
}

fn measure(
    name: &'static str,
    server: &Server,
    client: &mut dyn Client,
    options: &Options,
) -> anyhow::Result<Row> {
    measure_with(name, server, client, options, true, Generation::V2025)
}

fn measure_with(
    name: &'static str,
    server: &Server,
    client: &mut dyn Client,
    options: &Options,
    expect_result: bool,
    generation: Generation,
) -> anyhow::Result<Row> {
    for id in 0..options.warmup {
        client.request(&generation.call(id as u64 + 1))?;
    }
    let mut samples = Vec::with_capacity(options.iterations);
    for id in 0..options.iterations {
        let call = generation.call((options.warmup + id) as u64 + 1);
        let started = Instant::now();
        let response = client.request(&call)?;
        samples.push(started.elapsed());
        if expect_result && response.get("result").is_none() {
            bail!("{name}: tools/call failed: {response}");
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    Ok(row_of(name, samples, server.rss_mib()?))
}

fn median(samples: &mut [Duration]) -> Duration {
    percentile(samples, 0.5)
}

fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples.get(index).copied().unwrap_or_default()
}

fn report(
    root: &Path,
    rows: &[Row],
    throughput: &[Throughput],
    options: &Options,
) -> anyhow::Result<()> {
    println!(
        "\n## tools/call round-trip ({} calls after {} warm-up)\n",
        options.iterations, options.warmup
    );
    println!("| server | median µs | p99 µs | mean µs | cold start ms | idle RSS MiB |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let cold = r
            .cold_start_ms
            .map_or("-".to_owned(), |ms| format!("{ms:.1}"));
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {} | {:.1} |",
            r.name, r.median_us, r.p99_us, r.mean_us, cold, r.idle_rss_mib
        );
    }
    let find = |name: &str| rows.iter().find(|r| r.name == name);
    println!();
    for transport in ["stdio", "http", "stdio 2026", "http 2026"] {
        if let (Some(ours), Some(theirs)) = (
            find(&format!("ffmcp {transport}")),
            find(&format!("fastmcp {transport}")),
        ) {
            println!(
                "{transport}: FastMCP median / ffmcp median = {:.1}x; RSS ratio {:.1}x",
                theirs.median_us / ours.median_us,
                theirs.idle_rss_mib / ours.idle_rss_mib
            );
        }
    }
    for generation in ["", " 2026"] {
        if let (Some(stateful), Some(stateless)) = (
            find(&format!("ffmcp http{generation}")),
            find(&format!("ffmcp http stateless{generation}")),
        ) {
            println!(
                "http{generation}: stateless / stateful median = {:.2} (calls/s {:.0} vs {:.0})",
                stateless.median_us / stateful.median_us,
                1e6 / stateless.mean_us,
                1e6 / stateful.mean_us
            );
        }
    }
    if let (Some(ours), Some(theirs)) = (find("ffmcp stdio"), find("fastmcp stdio"))
        && let (Some(a), Some(b)) = (ours.cold_start_ms, theirs.cold_start_ms)
    {
        println!("cold start: FastMCP / ffmcp = {:.1}x", b / a);
    }
    if !throughput.is_empty() {
        println!(
            "\n## tools/call throughput over HTTP ({} clients at once, {} s each)\n",
            options.clients, options.throughput_secs
        );
        println!("| server | calls/s |");
        println!("|---|---:|");
        for t in throughput {
            println!("| {} | {:.0} |", t.name, t.calls_per_sec);
        }
        println!();
        let find = |name: &str| throughput.iter().find(|t| t.name == name);
        for generation in ["", " 2026"] {
            if let (Some(ours), Some(theirs)) = (
                find(&format!("ffmcp http{generation}")),
                find(&format!("fastmcp http{generation}")),
            ) {
                println!(
                    "http{generation}: ffmcp calls/s / FastMCP calls/s = {:.1}x",
                    ours.calls_per_sec / theirs.calls_per_sec
                );
            }
            if let (Some(stateful), Some(stateless)) = (
                find(&format!("ffmcp http{generation}")),
                find(&format!("ffmcp http stateless{generation}")),
            ) {
                println!(
                    "http{generation}: stateless / stateful calls/s = {:.2}",
                    stateless.calls_per_sec / stateful.calls_per_sec
                );
            }
        }
    }
    let json = json!({
        "iterations": options.iterations,
        "warmup": options.warmup,
        "clients": options.clients,
        "throughput": throughput.iter().map(|t| json!({
            "server": t.name, "calls_per_sec": t.calls_per_sec,
        })).collect::<Vec<_>>(),
        "rows": rows.iter().map(|r| json!({
            "server": r.name, "median_us": r.median_us, "p99_us": r.p99_us, "mean_us": r.mean_us,
            "cold_start_ms": r.cold_start_ms, "idle_rss_mib": r.idle_rss_mib,
        })).collect::<Vec<_>>(),
    });
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("protocol.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    println!("\nwritten: target/bench/protocol.json");
    Ok(())
}

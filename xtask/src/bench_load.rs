//! `cargo xtask bench load [--heavy N] [--pings N] [--skip-build]`: how
//! the protocol holds up while heavy calls run. Over stdio and HTTP, the
//! release `ffmcp transform` gets N concurrent heavy calls
//! (`markdown_to_html` on ~60 KB of sanitizer-heavy Markdown, re-issued as
//! they finish) while a second stream sends `ping`s one after another; the
//! table shows ping p50/p99 idle, under load with the default limits and
//! under load with the limits lifted (`FF_WORKERS=64`, `FF_MAX_CALLS=4096`),
//! and the heavy calls finished per second. A last row measures trivial-call
//! throughput (`text_stats`) from 8 HTTP sessions under the admission limit.

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::peer::{self, Client};

/// `cargo xtask bench load` options.
#[derive(clap::Args)]
pub struct Options {
    /// Heavy calls running at once while pings are timed.
    #[arg(long, default_value_t = 3)]
    heavy: usize,
    /// Pings timed per row.
    #[arg(long, default_value_t = 200)]
    pings: usize,
    /// Use the existing target/release/ffmcp.
    #[arg(long)]
    skip_build: bool,
}

struct Row {
    name: String,
    p50_ms: f64,
    p99_ms: f64,
    heavy_per_s: f64,
}

pub fn run(options: &Options) -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask has a parent")?
        .to_path_buf();
    if !options.skip_build {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--locked", "--bin", "ffmcp"])
            .current_dir(&root)
            .status()?;
        if !status.success() {
            bail!("cargo build --release failed");
        }
    }
    let binary = root.join("target/release/ffmcp");
    let lifted: &[(&str, &str)] = &[("FF_WORKERS", "64"), ("FF_MAX_CALLS", "4096")];
    let mut rows = Vec::new();
    for (transport, env, heavy) in [
        ("stdio, idle", &[][..], 0),
        ("stdio, heavy calls, default limits", &[][..], options.heavy),
        ("stdio, heavy calls, limits lifted", lifted, options.heavy),
        ("http, idle", &[][..], 0),
        ("http, heavy calls, default limits", &[][..], options.heavy),
        ("http, heavy calls, limits lifted", lifted, options.heavy),
    ] {
        let row = if transport.starts_with("stdio") {
            stdio_row(&binary, env, heavy, options.pings)
        } else {
            http_row(&binary, env, heavy, options.pings)
        }
        .with_context(|| transport.to_owned())?;
        rows.push(Row {
            name: format!("{transport} ({heavy} heavy)"),
            ..row
        });
    }
    let throughput = trivial_throughput(&binary)?;
    println!("| scenario | ping p50 ms | ping p99 ms | heavy calls/s |");
    println!("|---|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {:.2} | {:.2} | {:.2} |",
            row.name, row.p50_ms, row.p99_ms, row.heavy_per_s
        );
    }
    println!(
        "\ntrivial calls (text_stats) from 8 HTTP sessions, default limits: {throughput:.0} calls/s"
    );
    Ok(())
}

fn heavy_call(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "markdown_to_html", "arguments": {"markdown": "*_".repeat(30_000)}}})
}

fn ping(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"})
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1e3
    };
    (at(0.5), at(0.99))
}

/// One stdio server; heavy requests and pings share its pipe, a reader
/// thread routes the answers.
fn stdio_row(
    binary: &Path,
    env: &[(&str, &str)],
    heavy: usize,
    pings: usize,
) -> anyhow::Result<Row> {
    let mut child = Command::new(binary)
        .arg("transform")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().context("stdin")?;
    let stdout = BufReader::new(child.stdout.take().context("stdout")?);
    let (pong_tx, pong_rx) = mpsc::channel::<u64>();
    let (heavy_tx, heavy_rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let Ok(value) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let id = value["id"].as_u64().unwrap_or(0);
            if id >= 1_000_000 {
                let _ = heavy_tx.send(());
            } else {
                let _ = pong_tx.send(id);
            }
        }
    });
    let mut send = |message: &Value| -> anyhow::Result<()> {
        let mut bytes = serde_json::to_vec(message)?;
        bytes.push(b'\n');
        stdin.write_all(&bytes)?;
        stdin.flush()?;
        Ok(())
    };
    send(&peer::initialize(1))?;
    pong_rx.recv_timeout(Duration::from_secs(30))?;
    send(&peer::initialized())?;
    let mut next_heavy = 1_000_000u64;
    for _ in 0..heavy {
        send(&heavy_call(next_heavy))?;
        next_heavy += 1;
    }
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let mut samples = Vec::with_capacity(pings);
    let mut finished = 0u64;
    for id in 2..(2 + pings as u64) {
        while heavy_rx.try_recv().is_ok() {
            finished += 1;
            send(&heavy_call(next_heavy))?;
            next_heavy += 1;
        }
        let sent = Instant::now();
        send(&ping(id))?;
        loop {
            let got = pong_rx.recv_timeout(Duration::from_secs(120))?;
            if got == id {
                break;
            }
        }
        samples.push(sent.elapsed());
        thread::sleep(Duration::from_millis(10));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    let (p50_ms, p99_ms) = percentiles(samples);
    Ok(Row {
        name: String::new(),
        p50_ms,
        p99_ms,
        heavy_per_s: finished as f64 / elapsed,
    })
}

/// One HTTP server; heavy calls from their own sessions on threads, pings
/// from another session.
fn http_row(
    binary: &Path,
    env: &[(&str, &str)],
    heavy: usize,
    pings: usize,
) -> anyhow::Result<Row> {
    let port = peer::free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let (server, mut pinger) = spawn_http_env(binary, &addr, port, env)?;
    peer::handshake(&mut pinger)?;
    let stop = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..heavy {
        let (stop, finished) = (Arc::clone(&stop), Arc::clone(&finished));
        let mut client = peer::spawn_http_client(port, "/mcp");
        workers.push(thread::spawn(move || -> anyhow::Result<()> {
            peer::handshake(&mut client)?;
            let mut id = 1_000_000 + (w as u64) * 100_000;
            while !stop.load(Ordering::Relaxed) {
                client.request(&heavy_call(id))?;
                finished.fetch_add(1, Ordering::Relaxed);
                id += 1;
            }
            Ok(())
        }));
    }
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let mut samples = Vec::with_capacity(pings);
    for id in 2..(2 + pings as u64) {
        let sent = Instant::now();
        pinger.request(&ping(id))?;
        samples.push(sent.elapsed());
        thread::sleep(Duration::from_millis(10));
    }
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow::anyhow!("worker panicked"))??;
    }
    drop(server);
    let (p50_ms, p99_ms) = percentiles(samples);
    Ok(Row {
        name: String::new(),
        p50_ms,
        p99_ms,
        heavy_per_s: finished.load(Ordering::Relaxed) as f64 / elapsed,
    })
}

fn spawn_http_env(
    binary: &Path,
    addr: &str,
    port: u16,
    env: &[(&str, &str)],
) -> anyhow::Result<(peer::Server, peer::HttpClient)> {
    peer::spawn_http_with_env(binary, &["transform", "--http", addr], port, "/mcp", env)
}

/// `text_stats` calls per second from 8 HTTP sessions for 3 s.
fn trivial_throughput(binary: &Path) -> anyhow::Result<f64> {
    let port = peer::free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let (_server, _) = spawn_http_env(binary, &addr, port, &[])?;
    peer::throughput(
        port,
        8,
        Duration::from_secs(3),
        peer::PROTOCOL_VERSION,
        peer::tool_call,
    )
}

//! `cargo xtask bench sessions [--sessions N] [--cycles K] [--binary PATH]`:
//! does the server give memory back after HTTP sessions end? Over
//! stateful HTTP, `ffmcp transform` gets K cycles of N sessions (each:
//! `initialize`, `notifications/initialized`, `tools/list`), opened from 8
//! threads and then ended with `DELETE`; the server's resident memory
//! (`VmRSS`) is sampled before the first cycle, with all N sessions open,
//! and after they are closed (once the count settles, at most 5 s).
//! The last column is what a cycle leaves behind over the idle baseline.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde_json::json;

use crate::peer::{self, Client, HttpClient, Server};

/// `cargo xtask bench sessions` options.
#[derive(clap::Args)]
pub struct Options {
    /// Sessions opened (and closed) per cycle.
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// Open-then-close cycles.
    #[arg(long, default_value_t = 3)]
    cycles: usize,
    /// Measure this binary instead of building the release one.
    #[arg(long)]
    binary: Option<PathBuf>,
}

const THREADS: usize = 8;

pub fn run(options: &Options) -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask has a parent")?
        .to_path_buf();
    let binary = match &options.binary {
        Some(path) => path.clone(),
        None => {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "--release", "--locked", "--bin", "ffmcp"])
                .current_dir(&root)
                .status()?;
            if !status.success() {
                bail!("cargo build --release failed");
            }
            root.join("target/release/ffmcp")
        }
    };
    let port = peer::free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let cap = (options.sessions + 16).to_string();
    let (server, _) = peer::spawn_http_with_env(
        &binary,
        &["transform", "--http", &addr],
        port,
        "/mcp",
        &[("FF_MAX_SESSIONS", &cap), ("FF_LOG", "warn")],
    )?;
    thread::sleep(Duration::from_millis(300));
    let idle = server.rss_mib()?;
    println!(
        "{} sessions per cycle (initialize + tools/list, then DELETE), {}",
        options.sessions,
        binary.display()
    );
    println!("\nidle before the first cycle: {idle:.1} MiB\n");
    println!("| cycle | open s/s | RSS all open MiB | RSS after close MiB | left over idle MiB |");
    println!("|---:|---:|---:|---:|---:|");
    for cycle in 1..=options.cycles {
        let started = Instant::now();
        let clients = open_sessions(port, options.sessions)?;
        let rate = options.sessions as f64 / started.elapsed().as_secs_f64();
        let peak = server.rss_mib()?;
        close_sessions(clients)?;
        let after = settled_rss(&server)?;
        println!(
            "| {cycle} | {rate:.0} | {peak:.1} | {after:.1} | {:+.1} |",
            after - idle
        );
    }
    Ok(())
}

/// `n` live sessions, each initialized and listed once.
fn open_sessions(port: u16, n: usize) -> anyhow::Result<Vec<HttpClient>> {
    let opened = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let mut workers = Vec::new();
    for t in 0..THREADS {
        let share = n / THREADS + usize::from(t < n % THREADS);
        let opened = Arc::clone(&opened);
        workers.push(thread::spawn(move || -> anyhow::Result<()> {
            for _ in 0..share {
                let mut client = peer::spawn_http_client(port, "/mcp");
                peer::handshake(&mut client)?;
                let listed = client.request(&json!({
                    "jsonrpc": "2.0", "id": 1, "method": "tools/list"
                }))?;
                if listed["result"]["tools"]
                    .as_array()
                    .is_none_or(Vec::is_empty)
                {
                    bail!("tools/list answered {listed}");
                }
                opened
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .push(client);
            }
            Ok(())
        }));
    }
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))??;
    }
    let clients = std::mem::take(&mut *opened.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    Ok(clients)
}

fn close_sessions(mut clients: Vec<HttpClient>) -> anyhow::Result<()> {
    for client in &mut clients {
        match client.delete_session()? {
            Some(status) if (200..300).contains(&status) => {}
            other => bail!("DELETE of a session answered {other:?}"),
        }
    }
    Ok(())
}

/// RSS once it stops falling (sampled every 250 ms, at most 5 s): an
/// allocator that returns memory lazily gets its chance.
fn settled_rss(server: &Server) -> anyhow::Result<f64> {
    let mut last = server.rss_mib()?;
    for _ in 0..20 {
        thread::sleep(Duration::from_millis(250));
        let now = server.rss_mib()?;
        if (last - now).abs() < 0.05 {
            return Ok(now);
        }
        last = now;
    }
    Ok(last)
}

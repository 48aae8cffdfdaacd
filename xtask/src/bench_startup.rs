//! `cargo xtask bench startup`: what a user pays to launch a server —
//! binary size, cold start to the first response (`initialize`), and idle
//! memory of the whole process tree after the handshake — for every ffmcp
//! server run directly and through `npx` (from the packages `cargo xtask
//! dist --pack` builds), side by side with Node reference servers
//! (`@modelcontextprotocol/server-everything` and `server-filesystem`,
//! installed from the npm registry into `target/bench-node`).

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::peer::{self, Client};

const RUNS: usize = 10;

struct Row {
    name: String,
    cold_ms: f64,
    rss_mib: f64,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Resident memory of `pid` and all its descendants, MiB.
fn tree_rss_mib(pid: u32) -> f64 {
    let mut total_kb = 0.0;
    let mut stack = vec![pid.to_string()];
    while let Some(p) = stack.pop() {
        let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
        total_kb += status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        let children =
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        stack.extend(children.split_whitespace().map(str::to_owned));
    }
    total_kb / 1024.0
}

fn measure(name: &str, program: &Path, args: &[&str], cwd: Option<&Path>) -> anyhow::Result<Row> {
    let mut starts = Vec::new();
    let mut rss = 0.0;
    for i in 0..RUNS {
        let started = Instant::now();
        let (server, mut client) = match cwd {
            Some(dir) => peer::spawn_stdio_in(program, args, dir)?,
            None => peer::spawn_stdio(program, args)?,
        };
        let response = client
            .request(&peer::initialize(1))
            .with_context(|| format!("{name}: initialize"))?;
        starts.push(started.elapsed());
        if response.get("result").is_none() {
            bail!("{name}: initialize failed: {response}");
        }
        if i == RUNS - 1 {
            client.notify(&peer::initialized())?;
            std::thread::sleep(Duration::from_millis(500));
            rss = tree_rss_mib(server.pid());
        }
    }
    starts.sort();
    Ok(Row {
        name: name.to_owned(),
        cold_ms: starts[RUNS / 2].as_secs_f64() * 1e3,
        rss_mib: rss,
    })
}

/// Runs the benchmark.
pub fn run() -> anyhow::Result<()> {
    let root = root();
    let binary = root.join("target/release/ffmcp");
    if !binary.is_file() {
        bail!("build first: cargo xtask dist --pack");
    }
    let size = std::fs::metadata(&binary)?.len() as f64 / 1048576.0;
    let listed = Command::new(&binary).arg("list").output()?;
    let servers: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();

    // npx installs: ffmcp from the packed tarballs, Node references from npm.
    let npx_dir = root.join("target/bench-npx");
    let dist = root.join("target/dist/npm");
    let _ = std::fs::remove_dir_all(&npx_dir);
    std::fs::create_dir_all(&npx_dir)?;
    std::fs::write(
        npx_dir.join("package.json"),
        "{\"name\":\"bench-npx\",\"private\":true}\n",
    )?;
    let tarballs: Vec<PathBuf> = std::fs::read_dir(&dist)
        .with_context(|| format!("{} (run cargo xtask dist --pack)", dist.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tgz"))
        .collect();
    npm(
        &npx_dir,
        &[
            "install",
            "--offline",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ],
        &tarballs,
    )?;
    let node_dir = root.join("target/bench-node");
    std::fs::create_dir_all(&node_dir)?;
    if !node_dir.join("package.json").exists() {
        std::fs::write(
            node_dir.join("package.json"),
            "{\"name\":\"bench-node\",\"private\":true}\n",
        )?;
    }
    npm(
        &node_dir,
        &[
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "@modelcontextprotocol/server-everything",
            "@modelcontextprotocol/server-filesystem",
        ],
        &[],
    )?;

    let mut rows = Vec::new();
    for server in &servers {
        rows.push(measure(
            &format!("ffmcp {server} (binary)"),
            &binary,
            &[server],
            None,
        )?);
        rows.push(measure(
            &format!("npx ffmcp {server}"),
            Path::new("npx"),
            &["--no-install", "ffmcp", server],
            Some(&npx_dir),
        )?);
    }
    let tmp = std::env::temp_dir();
    let tmp = tmp.to_string_lossy();
    rows.push(measure(
        "node server-everything (node)",
        Path::new("node"),
        &[
            "node_modules/@modelcontextprotocol/server-everything/dist/index.js",
            "stdio",
        ],
        Some(&node_dir),
    )?);
    rows.push(measure(
        "npx server-everything",
        Path::new("npx"),
        &["--no-install", "mcp-server-everything", "stdio"],
        Some(&node_dir),
    )?);
    rows.push(measure(
        "npx server-filesystem",
        Path::new("npx"),
        &["--no-install", "mcp-server-filesystem", &tmp],
        Some(&node_dir),
    )?);

    println!("\nbinary size: {size:.1} MiB (target/release/ffmcp, stripped, thin LTO)\n");
    println!(
        "| server | cold start to initialize, median ms | idle RSS of the process tree, MiB |"
    );
    println!("|---|---:|---:|");
    for r in &rows {
        println!("| {} | {:.1} | {:.1} |", r.name, r.cold_ms, r.rss_mib);
    }
    Ok(())
}

fn npm(dir: &Path, args: &[&str], files: &[PathBuf]) -> anyhow::Result<()> {
    let status = Command::new("npm")
        .args(args)
        .args(files)
        .current_dir(dir)
        .status()
        .context("running npm (is Node.js installed?)")?;
    if !status.success() {
        bail!("npm {} failed in {}", args.join(" "), dir.display());
    }
    Ok(())
}

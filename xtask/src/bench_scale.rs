//! `cargo xtask bench scale [--leads N] [--watches N]`: how work scales
//! with replicas on one PostgreSQL database, beside one process on SQLite.
//!
//! Two workloads, each run with 1, 2 and 3 replicas on PostgreSQL and once
//! on SQLite: a leadgen classification job (model latency imitated at
//! 200 ms, 8 calls in flight per replica; `leadgen_bench scale`) and
//! draining due competitive-intel watches (feeds that answer after 200 ms,
//! 16 checks in flight per replica; `intel_bench scale`). A replica is an
//! engine with its own store handle and connection pool, claiming work with
//! leases exactly as a server process does; the replicas of one run share a
//! process (and the machine's cores). Also reported: the claim statement's
//! time per item, and whether any item was done twice (model calls or
//! fetches beyond one per item).
//!
//! PostgreSQL: the server `FFMCP_TEST_PG_URL` names, else a throwaway
//! cluster started here (and stopped) when the PostgreSQL binaries are
//! installed (`/usr/lib/postgresql/*/bin`). The examples run in release
//! mode.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail, ensure};
use serde_json::Value;

/// `cargo xtask bench scale` options.
#[derive(clap::Args)]
pub struct Options {
    /// Leads in the classification job.
    #[arg(long, default_value_t = 600)]
    leads: usize,
    /// Due watches drained.
    #[arg(long, default_value_t = 300)]
    watches: usize,
}

const REPLICAS: [usize; 3] = [1, 2, 3];

pub fn run(options: &Options) -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask lives in the workspace root")?
        .to_path_buf();
    for (package, example) in [
        ("ffmcp-leadgen", "leadgen_bench"),
        ("ffmcp-competitive-intel", "intel_bench"),
    ] {
        eprintln!("building {example} (release) ...");
        let status = Command::new(cargo())
            .current_dir(&root)
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                package,
                "--example",
                example,
            ])
            .status()
            .context("running cargo")?;
        ensure!(status.success(), "building {example} failed: {status}");
    }
    let examples = root.join("target/release/examples");
    let cluster = match std::env::var("FFMCP_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => Cluster::Given(url),
        _ => Cluster::start()?,
    };

    let leads = options.leads.to_string();
    let watches = options.watches.to_string();
    let mut rows = Vec::new();
    for (work, binary, n) in [
        ("leadgen", examples.join("leadgen_bench"), &leads),
        ("intel", examples.join("intel_bench"), &watches),
    ] {
        let mut runs = vec![("sqlite", 1)];
        runs.extend(REPLICAS.map(|r| ("postgres", r)));
        for (backend, replicas) in runs {
            eprintln!("{work}: {backend}, {replicas} replica(s) ...");
            let out = Command::new(&binary)
                .args(["scale", n, &replicas.to_string(), backend])
                .env("FFMCP_TEST_PG_URL", cluster.url())
                .env_remove("FFMCP_REQUIRE_OPTIONAL")
                .output()
                .with_context(|| format!("running {}", binary.display()))?;
            ensure!(
                out.status.success(),
                "{} scale {n} {replicas} {backend} failed: {}",
                binary.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            let line = stdout.lines().last().context("no output")?;
            rows.push((work, serde_json::from_str::<Value>(line)?));
        }
    }
    print_table(&rows, options)
}

fn print_table(rows: &[(&str, Value)], options: &Options) -> anyhow::Result<()> {
    println!(
        "| work | store | replicas | throughput | vs 1 replica on PostgreSQL | claim per item | done twice |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for work in ["leadgen", "intel"] {
        let (label, unit, rate, per_item, items, done) = if work == "leadgen" {
            (
                format!("leadgen job, {} leads, model 200 ms", options.leads),
                "leads/s",
                "leads_per_second",
                "claim_ms_per_lead",
                "leads",
                "calls",
            )
        } else {
            (
                format!("watch checks, {} due, fetch 200 ms", options.watches),
                "checks/s",
                "checks_per_second",
                "claim_ms_per_watch",
                "watches",
                "fetches",
            )
        };
        let mine: Vec<&Value> = rows
            .iter()
            .filter(|(w, _)| *w == work)
            .map(|(_, v)| v)
            .collect();
        let base = mine
            .iter()
            .find(|v| v["backend"] == "postgres" && v["replicas"] == 1)
            .and_then(|v| v[rate].as_f64())
            .context("the one-replica PostgreSQL run")?;
        for v in mine {
            let throughput = v[rate].as_f64().context("throughput")?;
            let store = if v["backend"] == "sqlite" {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            let twice =
                v[done].as_u64().unwrap_or(0) as i64 - v[items].as_u64().unwrap_or(0) as i64;
            println!(
                "| {label} | {store} | {} | {throughput:.1} {unit} | {:.2}x | {:.3} ms | {twice} |",
                v["replicas"],
                throughput / base,
                v[per_item].as_f64().unwrap_or(f64::NAN),
            );
        }
    }
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The PostgreSQL server the examples use.
enum Cluster {
    /// `FFMCP_TEST_PG_URL`, as given.
    Given(String),
    /// A throwaway cluster in a temporary directory, stopped on drop.
    Started {
        bin: PathBuf,
        dir: tempfile::TempDir,
        url: String,
        as_postgres: bool,
    },
}

impl Cluster {
    /// initdb + pg_ctl start on a free port, owned by the `postgres` user
    /// when running as root (initdb refuses root).
    fn start() -> anyhow::Result<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()
            .context(
                "no PostgreSQL: set FFMCP_TEST_PG_URL to a server, or install the \
                 postgresql package (/usr/lib/postgresql/*/bin/initdb)",
            )?;
        let uid = Command::new("id").arg("-u").output()?;
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = tempfile::tempdir()?;
        if as_postgres {
            let status = Command::new("chown")
                .arg("postgres")
                .arg(dir.path())
                .status()?;
            ensure!(status.success(), "chown postgres {}", dir.path().display());
        }
        let port = crate::peer::free_port()?;
        let data = dir.path().join("data");
        let run = |program: &Path, args: &[&str]| -> anyhow::Result<()> {
            let mut cmd = if as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            };
            let out = cmd.args(args).output()?;
            if !out.status.success() {
                bail!(
                    "{} failed: {}",
                    program.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Ok(())
        };
        let data_str = data.to_str().context("utf-8 temp path")?;
        eprintln!("starting a throwaway PostgreSQL cluster on port {port} ...");
        run(
            &bin.join("initdb"),
            &["-D", data_str, "-A", "trust", "-U", "postgres"],
        )?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            dir.path().display()
        );
        let log = dir.path().join("log");
        run(
            &bin.join("pg_ctl"),
            &[
                "-D",
                data_str,
                "-o",
                &options,
                "-l",
                log.to_str().context("utf-8 temp path")?,
                "-w",
                "start",
            ],
        )?;
        Ok(Self::Started {
            bin,
            dir,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            as_postgres,
        })
    }

    fn url(&self) -> &str {
        match self {
            Self::Given(url) | Self::Started { url, .. } => url,
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Self::Started {
            bin,
            dir,
            as_postgres,
            ..
        } = self
        {
            let pg_ctl = bin.join("pg_ctl");
            let data = dir.path().join("data");
            let mut cmd = if *as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
                c
            } else {
                Command::new(&pg_ctl)
            };
            let _ = cmd
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "stop"])
                .output();
        }
    }
}

//! `cargo xtask bench leadgen`: extraction + normalisation throughput on a
//! generated 10,000-lead corpus (target >= 5,000 leads/s) and a durable
//! classification job's wall time over the same raw model calls (target
//! < 5 % overhead), against the in-process provider imitation. Runs
//! ffmcp-leadgen's `leadgen_bench` example in release mode.

use std::{path::Path, process::Command};

use anyhow::{Context, ensure};

pub fn run() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask lives in the workspace root")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "ffmcp-leadgen",
            "--example",
            "leadgen_bench",
        ])
        .status()
        .context("running cargo")?;
    ensure!(status.success(), "leadgen_bench failed: {status}");
    Ok(())
}

//! `cargo xtask bench model [--calls N]`: what the model router adds over a
//! direct provider call, and how long a fallback takes, measured against the
//! in-process provider imitation (loopback; no network, no API key). Runs
//! ffmcp-core's `model_bench` example in release mode.

use std::{path::Path, process::Command};

use anyhow::{Context, ensure};

pub fn run(calls: usize) -> anyhow::Result<()> {
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
            "ffmcp-core",
            "--example",
            "model_bench",
            "--",
        ])
        .arg(calls.max(100).to_string())
        .status()
        .context("running cargo")?;
    ensure!(status.success(), "model_bench failed: {status}");
    Ok(())
}

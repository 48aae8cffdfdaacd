//! `cargo xtask ci [--skip-tests]`: the part of `.ci/run` worth running
//! before every commit, in the same order and with the same flags, stopping
//! at the first failure: formatting, clippy with warnings as errors, the
//! workspace tests, and core's rustdoc with warnings as errors (broken
//! intra-doc links). `.ci/run` adds what needs installing or takes long:
//! poppler/tesseract (so optional-program tests run), cargo-deny, the MSRV
//! toolchain, the Python SDK interop and the npx packaging check.
//!
//! Tests that need optional programs skip with a notice here unless
//! `FFMCP_REQUIRE_OPTIONAL` is set, exactly as under plain `cargo test`.

use std::process::Command;

use anyhow::{Context, bail};

/// `cargo xtask ci` options.
#[derive(clap::Args)]
pub struct Options {
    /// Skip `cargo test --workspace` (the slow step).
    #[arg(long)]
    skip_tests: bool,
}

/// One step: a cargo command and the environment it needs.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const FMT: Step = Step {
    name: "cargo fmt --check",
    args: &["fmt", "--all", "--check"],
    env: &[],
};
const CLIPPY: Step = Step {
    name: "cargo clippy (warnings are errors)",
    args: &[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ],
    env: &[],
};
const TEST: Step = Step {
    name: "cargo test --workspace",
    args: &["test", "--workspace", "--locked"],
    env: &[],
};
const DOC: Step = Step {
    name: "cargo doc for ffmcp-core (warnings are errors)",
    args: &["doc", "-p", "ffmcp-core", "--no-deps", "--locked"],
    env: &[("RUSTDOCFLAGS", "-D warnings")],
};

pub fn run(options: &Options) -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask lives in the workspace root")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let steps: Vec<&Step> = if options.skip_tests {
        vec![&FMT, &CLIPPY, &DOC]
    } else {
        vec![&FMT, &CLIPPY, &TEST, &DOC]
    };
    for step in steps {
        eprintln!("\n==== {}", step.name);
        let status = Command::new(&cargo)
            .current_dir(root)
            .args(step.args)
            .envs(step.env.iter().copied())
            .status()
            .with_context(|| format!("running cargo for {}", step.name))?;
        if !status.success() {
            bail!("{} failed ({status})", step.name);
        }
    }
    eprintln!("\n==== cargo xtask ci: all steps passed");
    Ok(())
}

//! `cargo xtask server-json [--check]`: writes `server.json` (the official
//! MCP registry's entry for ffmcp) from `ffmcp registry-json`, which
//! generates it from the server table; `--check` instead fails when the
//! checked-in file differs (CI runs that). Schema validation is the test
//! `e2e::registry::server_json_is_generated_from_the_server_table_and_valid`
//! (the schema is vendored in `xtask/registry/`).

use std::process::Command;

use anyhow::{Context, bail};

use crate::dist::workspace_root;

/// `cargo xtask server-json` options.
#[derive(clap::Args)]
pub struct Options {
    /// Compare instead of writing: fail when server.json is out of date.
    #[arg(long)]
    check: bool,
}

/// Runs `cargo xtask server-json`.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let root = workspace_root();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "run",
            "--quiet",
            "--locked",
            "--bin",
            "ffmcp",
            "--",
            "registry-json",
        ])
        .current_dir(&root)
        .output()
        .context("running cargo run --bin ffmcp -- registry-json")?;
    if !output.status.success() {
        bail!(
            "ffmcp registry-json failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let generated = String::from_utf8(output.stdout).context("registry-json printed non-UTF-8")?;
    let path = root.join("server.json");
    if options.check {
        let current = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        if current != generated {
            bail!(
                "{} is out of date with the server table: run `cargo xtask server-json` and commit it",
                path.display()
            );
        }
        println!("{} is current", path.display());
    } else {
        std::fs::write(&path, generated).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The registry name in the checked-in server.json: the npm package's
/// `mcpName`, which the registry compares with it to prove ownership.
pub fn registry_name() -> anyhow::Result<String> {
    let path = workspace_root().join("server.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    match doc["name"].as_str() {
        Some(name) => Ok(name.to_owned()),
        None => bail!("{} has no \"name\"", path.display()),
    }
}

//! `cargo xtask msrv`: no package in the lock file (for any platform) declares
//! a `rust-version` newer than the workspace's.
//!
//! Why both this and CI's build with the old toolchain: `.ci/run` checks the
//! workspace with exactly the declared Rust (`cargo +1.89 check`), which
//! proves our own code; but a dependency bump that raises its
//! `rust-version` is refused by that resolver only at `cargo update` time,
//! and a platform-only dependency (Windows, macOS) is never compiled here.
//! Reading `cargo metadata` catches both in a second, offline. It also
//! prints the dependencies that set the floor, which is how the declared
//! minimum was chosen: the true minimum is the highest `rust-version` among
//! them.

use std::process::Command;

use anyhow::{Context, bail, ensure};
use serde_json::Value;

/// `1.89` and `1.89.0` as comparable numbers (missing parts are zero).
fn parse(version: &str) -> anyhow::Result<[u64; 3]> {
    let mut parts = [0u64; 3];
    let mut fields = version.split('.');
    for part in &mut parts {
        if let Some(field) = fields.next() {
            *part = field
                .parse()
                .with_context(|| format!("rust-version '{version}' is not N.N[.N]"))?;
        }
    }
    ensure!(
        fields.next().is_none(),
        "rust-version '{version}' has more than three parts"
    );
    Ok(parts)
}

pub fn run() -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let metadata: Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata printed no JSON")?;
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .context("no workspace_members")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages = metadata["packages"]
        .as_array()
        .context("no packages in cargo metadata")?;

    let ours = packages
        .iter()
        .filter(|p| members.contains(&p["id"].as_str().unwrap_or_default()))
        .filter_map(|p| p["rust_version"].as_str())
        .map(|v| parse(v).map(|n| (n, v)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let Some(&(declared, declared_text)) = ours.iter().min() else {
        bail!("no workspace member declares rust-version (Cargo.toml [workspace.package])");
    };

    let mut dependencies = Vec::new();
    for package in packages {
        if members.contains(&package["id"].as_str().unwrap_or_default()) {
            continue;
        }
        if let Some(text) = package["rust_version"].as_str() {
            let name = package["name"].as_str().unwrap_or("?");
            let version = package["version"].as_str().unwrap_or("?");
            dependencies.push((parse(text)?, text, format!("{name} {version}")));
        }
    }
    dependencies.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
    let too_new: Vec<_> = dependencies.iter().filter(|d| d.0 > declared).collect();
    if !too_new.is_empty() {
        for (_, text, name) in &too_new {
            eprintln!("  {name} needs Rust {text}");
        }
        bail!(
            "{} dependencies need a newer Rust than the workspace's rust-version {declared_text}; \
             raise it in Cargo.toml or pin older versions",
            too_new.len()
        );
    }
    let floor: Vec<&str> = dependencies
        .iter()
        .take_while(|d| dependencies.first().is_some_and(|top| top.0 == d.0))
        .map(|d| d.2.as_str())
        .collect();
    println!(
        "msrv: workspace rust-version {declared_text}; {} of {} dependencies declare one, \
         the highest is {} ({})",
        dependencies.len(),
        packages.len() - members.len(),
        dependencies.first().map_or("none", |d| d.1),
        floor.join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn versions_compare_with_missing_parts_as_zero() {
        assert_eq!(parse("1.89").ok(), Some([1, 89, 0]));
        assert_eq!(parse("1.89.0").ok(), parse("1.89").ok());
        assert!(parse("1.90").ok() > parse("1.89.3").ok());
        assert!(parse("1.x").is_err());
        assert!(parse("1.2.3.4").is_err());
    }
}

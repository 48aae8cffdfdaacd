//! `cargo xtask dist [--skip-build] [--pack] [--dev]`: the release binary and the
//! npm packages that let users run `npx ffmcp <server>`.
//!
//! Layout under `target/dist/npm/`:
//! - `ffmcp/`: the package users install. Its `bin` is a tiny Node launcher
//!   (`xtask/npm/launcher.js`) that runs the binary of the matching
//!   per-platform package, stdio untouched, signals forwarded, exit status
//!   preserved. The per-platform packages are `optionalDependencies`, so
//!   npm installs only the one whose `os`/`cpu` match; nothing is
//!   downloaded at install or run time.
//! - `<platform>-<arch>/` (`@ffmcp/linux-x64`, …): `bin/ffmcp`, built here
//!   for this host. The other platforms are built with the same command on
//!   their own hosts (or cross toolchains) and published alongside.
//!
//! Release profile (root Cargo.toml): thin LTO, 4 codegen units, stripped
//! symbols, and `panic = "unwind"` on purpose: a panicking tool must become
//! a tool error while the server keeps serving (`core::tool::call_tool`
//! catches it), which `panic = "abort"` would make impossible.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};
use serde_json::json;

/// Every platform the main package knows about (npm's names): only those
/// that are built and tested. Windows does not build (`core::roots` opens
/// files through `std::os::unix` and `std::os::fd` without a fallback);
/// macOS is not built or tested anywhere, and its `core::exec` would run
/// programs without Landlock or seccomp (both Linux-only). Users elsewhere
/// get the launcher's message to install from source. linux-arm64 is
/// checked with `cargo check --target aarch64-unknown-linux-gnu` (the
/// seccomp filter knows both architectures) and built on an arm64 host with
/// this same command.
pub const PLATFORMS: &[(&str, &str)] = &[("linux", "x64"), ("linux", "arm64")];

const LAUNCHER: &str = include_str!("../npm/launcher.js");

/// This host as npm names it.
fn host() -> anyhow::Result<(&'static str, &'static str)> {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "darwin",
        "windows" => "win32",
        other => bail!("no npm platform name for {other}"),
    };
    let cpu = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => bail!("no npm cpu name for {other}"),
    };
    if !PLATFORMS.contains(&(os, cpu)) {
        bail!(
            "ffmcp's npm packages are built for Linux only (dist::PLATFORMS); {os}-{cpu} is not one"
        );
    }
    Ok((os, cpu))
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `cargo xtask dist` options.
#[derive(clap::Args)]
pub struct Options {
    /// Package the binary already in target/ instead of building it.
    #[arg(long)]
    skip_build: bool,
    /// Also run `npm pack`, leaving .tgz files in target/dist/npm.
    #[arg(long)]
    pack: bool,
    /// Package the debug binary: CI checks the npx path with the binary its
    /// tests already built instead of paying for an LTO build.
    #[arg(long)]
    dev: bool,
}

/// Runs `cargo xtask dist`.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let Options {
        skip_build,
        pack,
        dev,
    } = *options;
    let root = workspace_root();
    let version = env!("CARGO_PKG_VERSION");
    let profile_dir = if dev { "debug" } else { "release" };
    if !skip_build {
        let mut build = vec!["build", "--locked", "--bin", "ffmcp"];
        if !dev {
            build.push("--release");
        }
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(&build)
            .current_dir(&root)
            .status()
            .context("running cargo build")?;
        if !status.success() {
            bail!("cargo {} failed", build.join(" "));
        }
    }
    let exe = if cfg!(windows) { "ffmcp.exe" } else { "ffmcp" };
    let binary = root.join("target").join(profile_dir).join(exe);
    if !binary.is_file() {
        bail!("{} is missing; run without --skip-build", binary.display());
    }
    let out = root.join("target/dist/npm");
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("clearing {}", out.display()))?;
    }

    let (os, cpu) = host()?;
    let platform_dir = out.join(format!("{os}-{cpu}"));
    std::fs::create_dir_all(platform_dir.join("bin"))?;
    let target = platform_dir.join("bin").join(exe);
    std::fs::copy(&binary, &target).context("copying the binary")?;
    set_executable(&target)?;
    write_json(
        &platform_dir.join("package.json"),
        &json!({
            "name": format!("@ffmcp/{os}-{cpu}"),
            "version": version,
            "description": format!("The ffmcp binary for {os}-{cpu}; installed by the `ffmcp` package."),
            "license": "Apache-2.0",
            "repository": "https://github.com/ffmcp/ffmcp",
            "os": [os],
            "cpu": [cpu],
            "files": ["bin/"],
            "preferUnplugged": true
        }),
    )?;

    let main_dir = out.join("ffmcp");
    std::fs::create_dir_all(main_dir.join("bin"))?;
    let launcher = main_dir.join("bin/ffmcp.js");
    std::fs::write(&launcher, LAUNCHER)?;
    set_executable(&launcher)?;
    // The registry proves that server.json's name owns this package by
    // comparing it with `mcpName`.
    let mcp_name = crate::server_json::registry_name()?;
    let optional: serde_json::Map<String, serde_json::Value> = PLATFORMS
        .iter()
        .map(|(o, c)| (format!("@ffmcp/{o}-{c}"), json!(version)))
        .collect();
    write_json(
        &main_dir.join("package.json"),
        &json!({
            "name": "ffmcp",
            "version": version,
            "description": "Production MCP servers (docparse, transform, …) in one native binary: `npx ffmcp <server>`.",
            "license": "Apache-2.0",
            "repository": "https://github.com/ffmcp/ffmcp",
            "mcpName": mcp_name,
            "bin": { "ffmcp": "bin/ffmcp.js" },
            "files": ["bin/"],
            "engines": { "node": ">=18" },
            "optionalDependencies": optional
        }),
    )?;
    std::fs::write(
        main_dir.join("README.md"),
        "# ffmcp\n\nProduction MCP servers in one native binary. `npx -y ffmcp@VERSION <server>`; \
         `npx ffmcp list` shows the servers. See https://github.com/ffmcp/ffmcp.\n"
            .replace("VERSION", version),
    )?;

    let size = std::fs::metadata(&binary)?.len();
    println!(
        "binary   {} ({:.1} MiB)",
        binary.display(),
        size as f64 / 1048576.0
    );
    println!("package  {}", main_dir.display());
    println!("package  {}", platform_dir.display());
    if pack {
        for dir in [&platform_dir, &main_dir] {
            let status = Command::new("npm")
                .args(["pack", "--silent", "--pack-destination"])
                .arg(&out)
                .current_dir(dir)
                .status()
                .context("running npm pack (is Node.js installed?)")?;
            if !status.success() {
                bail!("npm pack failed in {}", dir.display());
            }
        }
        for entry in std::fs::read_dir(&out)?.flatten() {
            if entry.path().extension().is_some_and(|e| e == "tgz") {
                println!("tarball  {}", entry.path().display());
            }
        }
    }
    Ok(())
}

fn write_json(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(unix)]
fn set_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

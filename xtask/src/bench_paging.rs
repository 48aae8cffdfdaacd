//! `cargo xtask bench paging [--pages N] [--skip-build]`: what following
//! `next_offset` through a long document costs against one full parse. A
//! generated PDF of N pages (default 1,151, the size of the book in
//! issue 14) is parsed once (every call parses the whole document; this one
//! returns a small slice) and then paged from the start at the default
//! `max_chars` by the release `ffmcp docparse` over stdio; the
//! table shows both times and their ratio (the target is under 1.5×: the
//! server keeps the rendering and cuts slices from it).

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{Context, bail};
use serde_json::{Value, json};

pub fn run(pages: usize, skip_build: bool) -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask has a parent")?
        .to_path_buf();
    if !skip_build {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--locked", "--bin", "ffmcp"])
            .current_dir(&root)
            .status()?;
        if !status.success() {
            bail!("cargo build --release failed");
        }
    }
    let dir = std::env::temp_dir().join(format!("ffmcp-bench-paging-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let pdf = ffmcp_docparse::testdocs::pdf_pages(pages, 40);
    std::fs::write(dir.join("book.pdf"), &pdf)?;
    std::fs::write(
        dir.join("warm.pdf"),
        ffmcp_docparse::testdocs::pdf_pages(5, 40),
    )?;
    let binary = root.join("target/release/ffmcp");
    // Each in a fresh server: the kept renderings live per session.
    let once = measure(&binary, &dir, false);
    let paged = measure(&binary, &dir, true);
    let _ = std::fs::remove_dir_all(&dir);
    let ((full_time, chars, _), (paged_time, _, slices)) = (once?, paged?);
    println!("| document | characters | one parse s | paged s ({slices} slices) | ratio |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| generated PDF, {pages} pages, {} KiB | {chars} | {:.3} | {:.3} | {:.2}× |",
        pdf.len() / 1024,
        full_time.as_secs_f64(),
        paged_time.as_secs_f64(),
        paged_time.as_secs_f64() / full_time.as_secs_f64()
    );
    Ok(())
}

/// One server: a warm-up parse, then either one parse of the book (a small
/// slice) or every slice of it; returns the time, characters and slices.
fn measure(
    binary: &Path,
    dir: &Path,
    page_through: bool,
) -> anyhow::Result<(std::time::Duration, u64, usize)> {
    let mut child = Command::new(binary)
        .arg("docparse")
        .env("FF_ROOTS", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().context("stdin")?;
    let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
    let mut id = 0u64;
    let mut call = |method: &str, params: Value| -> anyhow::Result<Value> {
        id += 1;
        let mut line = serde_json::to_vec(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )?;
        line.push(b'\n');
        stdin.write_all(&line)?;
        stdin.flush()?;
        loop {
            let mut text = String::new();
            if stdout.read_line(&mut text)? == 0 {
                bail!("server closed stdout");
            }
            let value: Value = serde_json::from_str(&text)?;
            if value["id"] == json!(id) {
                return Ok(value);
            }
        }
    };
    call(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}),
    )?;
    let parse = |call: &mut dyn FnMut(&str, Value) -> anyhow::Result<Value>,
                 args: Value|
     -> anyhow::Result<Value> {
        let reply = call("tools/call", json!({"name": "parse", "arguments": args}))?;
        let result = &reply["result"];
        if result["isError"] == json!(true) {
            bail!("parse failed: {}", result["content"][0]["text"]);
        }
        Ok(result["structuredContent"].clone())
    };
    parse(&mut call, json!({"path": "warm.pdf", "max_chars": 1000}))?;
    let started = Instant::now();
    let mut offset = 0u64;
    let mut slices = 0;
    let chars = loop {
        let args = if page_through {
            json!({"path": "book.pdf", "offset": offset})
        } else {
            json!({"path": "book.pdf", "max_chars": 1000})
        };
        let slice = parse(&mut call, args)?;
        slices += 1;
        match slice["next_offset"].as_u64() {
            Some(next) if page_through => offset = next,
            _ => break slice["total_chars"].as_u64().unwrap_or(0),
        }
    };
    let elapsed = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    Ok((elapsed, chars, slices))
}

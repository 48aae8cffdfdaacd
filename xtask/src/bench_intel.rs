//! `cargo xtask bench intel`: competitive-intel feed parsing against Python
//! feedparser on the same files (a venv under target/), and the wall time
//! to check 500 watches served on loopback. The Rust side runs the
//! `intel_bench` example of ffmcp-competitive-intel in release mode.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, ensure};
use serde_json::Value;

/// The feedparser measured against.
const PEER_REQUIREMENT: &str = "feedparser>=6.0,<7";
const RUST_ITERATIONS: usize = 300;
const PYTHON_ITERATIONS: usize = 10;

pub fn run(watches: usize) -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask lives in the workspace root")?
        .to_path_buf();
    let corpus = write_corpus(&root)?;
    eprintln!("parsing {} with ffmcp (release) ...", corpus.display());
    let rust = example(
        &root,
        &["parse", path_str(&corpus)?, &RUST_ITERATIONS.to_string()],
    )?;
    eprintln!("parsing the same files with Python feedparser ...");
    let python = feedparser(&root, &corpus)?;
    eprintln!("checking {watches} watches on loopback ...");
    let checks = example(&root, &["watches", &watches.to_string()])?;

    let rate = |v: &Value| -> anyhow::Result<(f64, f64)> {
        let bytes = v["bytes"].as_f64().context("bytes")?;
        let files = v["files"].as_f64().context("files")?;
        let seconds = v["seconds"].as_f64().context("seconds")?.max(1e-9);
        Ok((bytes / seconds / 1e6, files / seconds))
    };
    let (rust_mb, rust_files) = rate(&rust)?;
    println!(
        "feed parsing, {} files ({} bytes per pass)",
        corpus_files(&corpus)?,
        bytes_per_pass(&rust, RUST_ITERATIONS)
    );
    println!(
        "  {:<28} {:>10.1} MB/s {:>10.0} files/s",
        "ffmcp (feed-rs)", rust_mb, rust_files
    );
    match python {
        Ok(python) => {
            let (py_mb, py_files) = rate(&python)?;
            let version = python["version"].as_str().unwrap_or("?");
            println!(
                "  {:<28} {:>10.1} MB/s {:>10.0} files/s",
                format!("feedparser {version}"),
                py_mb,
                py_files
            );
            println!(
                "  ratio: {:.1}x feedparser (target >= 20x)",
                rust_mb / py_mb.max(1e-9)
            );
        }
        Err(err) => println!("  feedparser unavailable, ffmcp only: {err:#}"),
    }
    println!(
        "checking {} watches on 127.0.0.1 (20-item RSS each, concurrency 32):",
        checks["watches"]
    );
    for check in checks["checks"].as_array().context("checks")? {
        println!(
            "  {:<20} {:>7.3} s  failed {}  new changes {}",
            check["check"].as_str().unwrap_or("?"),
            check["seconds"].as_f64().unwrap_or(f64::NAN),
            check["failed"],
            check["new_changes"]
        );
    }
    println!("  target: < 5 s for 500 watches");
    Ok(())
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str().context("non-UTF-8 path")
}

fn corpus_files(dir: &Path) -> anyhow::Result<usize> {
    Ok(std::fs::read_dir(dir)?.count())
}

fn bytes_per_pass(v: &Value, iterations: usize) -> u64 {
    v["bytes"].as_u64().unwrap_or(0) / iterations as u64
}

/// The feedparser samples of the test suite plus generated RSS 2.0, RSS 1.0,
/// Atom and JSON feeds of 50 items, under target/bench-intel/corpus.
fn write_corpus(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = root.join("target/bench-intel/corpus");
    std::fs::create_dir_all(&dir)?;
    let samples = root.join("crates/competitive-intel/tests/fixtures/feedparser");
    for entry in std::fs::read_dir(&samples).with_context(|| samples.display().to_string())? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "xml") {
            let name = path.file_name().context("file name")?;
            std::fs::copy(&path, dir.join(name))?;
        }
    }
    let items = 0..50;
    let mut rss2 = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Blog</title><link>https://b.example/</link><description>d</description>",
    );
    let mut rss1 = String::from(
        "<?xml version=\"1.0\"?><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\"><channel rdf:about=\"https://b.example/\"><title>Blog</title><link>https://b.example/</link><description>d</description></channel>",
    );
    let mut atom = String::from(
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Blog</title><id>urn:b</id><updated>2026-11-23T10:00:00Z</updated>",
    );
    let mut json_items = Vec::new();
    for n in items {
        let text = format!(
            "Paragraph {n}: a release note with a few sentences of text about features, prices and plans."
        );
        rss2.push_str(&format!("<item><guid>g{n}</guid><title>Post {n}</title><link>https://b.example/p/{n}</link><description>&lt;p&gt;{text}&lt;/p&gt;</description><pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>"));
        rss1.push_str(&format!("<item rdf:about=\"https://b.example/p/{n}\"><title>Post {n}</title><link>https://b.example/p/{n}</link><description>{text}</description></item>"));
        atom.push_str(&format!("<entry><id>urn:b:{n}</id><title>Post {n}</title><link href=\"https://b.example/p/{n}\"/><updated>2026-11-23T10:00:00Z</updated><content type=\"html\">&lt;p&gt;{text}&lt;/p&gt;</content></entry>"));
        json_items.push(serde_json::json!({"id": format!("j{n}"), "url": format!("https://b.example/p/{n}"), "title": format!("Post {n}"), "content_html": format!("<p>{text}</p>"), "date_published": "2026-11-23T10:00:00Z"}));
    }
    std::fs::write(dir.join("gen_rss2.xml"), rss2 + "</channel></rss>")?;
    std::fs::write(dir.join("gen_rss1.xml"), rss1 + "</rdf:RDF>")?;
    std::fs::write(dir.join("gen_atom.xml"), atom + "</feed>")?;
    let json = serde_json::json!({"version": "https://jsonfeed.org/version/1.1", "title": "Blog", "items": json_items});
    std::fs::write(dir.join("gen_feed.json"), serde_json::to_vec(&json)?)?;
    Ok(dir)
}

/// Runs the release-mode example; returns its JSON line.
fn example(root: &Path, args: &[&str]) -> anyhow::Result<Value> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "ffmcp-competitive-intel",
            "--example",
            "intel_bench",
            "--",
        ])
        .args(args)
        .output()
        .context("running cargo")?;
    ensure!(
        output.status.success(),
        "intel_bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    last_json(&output.stdout)
}

fn last_json(stdout: &[u8]) -> anyhow::Result<Value> {
    let text = String::from_utf8_lossy(stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("no JSON line in the output")?;
    Ok(serde_json::from_str(line)?)
}

/// feedparser in a venv under target/ on the same corpus.
fn feedparser(root: &Path, corpus: &Path) -> anyhow::Result<anyhow::Result<Value>> {
    let venv = root.join("target/bench-intel/venv");
    let python = venv.join("bin/python");
    let setup = || -> anyhow::Result<()> {
        if !python.exists() {
            let ok = Command::new("python3")
                .arg("-m")
                .arg("venv")
                .arg(&venv)
                .status()?
                .success();
            ensure!(ok, "python3 -m venv failed");
        }
        let ok = Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                PEER_REQUIREMENT,
            ])
            .status()?
            .success();
        ensure!(ok, "pip install {PEER_REQUIREMENT} failed");
        Ok(())
    };
    if let Err(err) = setup() {
        return Ok(Err(err));
    }
    let script = root.join("xtask/peers/feedparser_bench.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(corpus)
        .arg(PYTHON_ITERATIONS.to_string())
        .output()?;
    ensure!(
        output.status.success(),
        "feedparser_bench.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(last_json(&output.stdout))
}

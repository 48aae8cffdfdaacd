//! `cargo xtask bench docparse DIR`: PDF text extraction throughput (pages
//! per second) and peak memory of docparse, poppler's `pdftotext` and
//! Microsoft's `markitdown`, side by side on the same files in one run.
//!
//! docparse is timed in-process (the server parses in-process too);
//! `pdftotext` runs once per file, as it is used; markitdown runs all files
//! in one Python process with its import excluded. Peak RSS: docparse on the
//! largest file in a fresh process (`fidelity rss`), the peers as reported
//! by `getrusage`. markitdown is installed into `target/bench-venv`.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{Context, bail};
use ffmcp_docparse::ParseOptions;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn venv_python(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join("target/bench-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()?
            .success();
        if !ok {
            bail!("creating {}", venv.display());
        }
    }
    let ok = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "markitdown[pdf]",
        ])
        .status()?
        .success();
    if !ok {
        bail!("pip install markitdown[pdf] failed");
    }
    Ok(python)
}

fn peer(python: &Path, script: &Path, which: &str, files: &[PathBuf]) -> anyhow::Result<Value> {
    let out = Command::new(python)
        .arg(script)
        .arg(which)
        .args(files)
        .output()?;
    if !out.status.success() {
        bail!("{which}: {}", String::from_utf8_lossy(&out.stderr));
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("{which}: unreadable output"))
}

/// Runs the benchmark on the PDFs in `dir`.
pub fn run(dir: &Path) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no PDF files in {}", dir.display());
    }
    let root = root();
    let mut pages = 0u64;
    let mut ours = 0.0;
    let mut failures = 0;
    for file in &files {
        let bytes = std::fs::read(file)?;
        let started = Instant::now();
        match ffmcp_docparse::formats::pdf::parse(&bytes, &ParseOptions::default()) {
            Ok(doc) => {
                let _ = ffmcp_docparse::render::render(
                    &doc,
                    ffmcp_docparse::render::OutputFormat::Text,
                );
                pages += u64::from(doc.metadata.pages.unwrap_or(0));
            }
            Err(_) => failures += 1,
        }
        ours += started.elapsed().as_secs_f64();
    }
    let biggest = files
        .iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .context("no files")?;
    let rss = Command::new(std::env::current_exe()?)
        .args(["fidelity", "rss"])
        .arg(biggest)
        .output()?;
    let script = root.join("xtask/bench/docparse_peers.py");
    let pdftotext = peer(Path::new("python3"), &script, "pdftotext", &files)?;
    let python = venv_python(&root)?;
    let markitdown = peer(&python, &script, "markitdown", &files)?;
    let total = |v: &Value| -> f64 {
        v["seconds"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).sum())
            .unwrap_or(f64::NAN)
    };
    let rate = |secs: f64| pages as f64 / secs.max(1e-9);
    let (t_pdftotext, t_markitdown) = (total(&pdftotext), total(&markitdown));
    println!(
        "{} PDFs, {pages} pages (docparse failures: {failures})\n",
        files.len()
    );
    println!("| tool | pages/s | docparse is | peak RSS |");
    println!("|---|---:|---:|---:|");
    println!(
        "| ffmcp docparse | {:.0} | 1.0× | {} |",
        rate(ours),
        String::from_utf8_lossy(&rss.stdout)
            .trim()
            .rsplit(": ")
            .next()
            .unwrap_or("?")
    );
    println!(
        "| pdftotext | {:.0} | {:.1}× faster | {:.0} MiB (largest child) |",
        rate(t_pdftotext),
        t_pdftotext / ours,
        pdftotext["peak_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0
    );
    println!(
        "| markitdown | {:.0} | {:.1}× faster | {:.0} MiB (errors: {}) |",
        rate(t_markitdown),
        t_markitdown / ours,
        markitdown["peak_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0,
        markitdown["errors"]
    );
    println!(
        "\ndocparse peak RSS measured on the largest file: {}",
        biggest.display()
    );
    Ok(())
}

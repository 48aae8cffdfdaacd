//! cargo xtask: project automation.
//!
//! `cargo xtask bench protocol [--iterations N] [--warmup N]`: round-trip
//! latency of a trivial tools/call over stdio and HTTP, cold start and idle
//! memory, for ffmcp and for the Python SDK's FastMCP server side by side.
//!
//! `cargo xtask bench leadgen`: lead extraction throughput and batch-job
//! overhead over raw model calls (see `bench_leadgen.rs`).
//!
//! `cargo xtask bench model [--calls N]`: the model router's overhead over a
//! direct provider call and its fallback time, against the provider imitation.
//!
//! `cargo xtask dist [--skip-build] [--pack]`: release build and the npm
//! packages for `npx ffmcp` (see `dist.rs`). `cargo xtask bench startup`:
//! binary size, cold start and idle memory, direct and through npx, beside
//! Node reference servers (after `dist --pack`).
//!
//! `cargo xtask bench seo [--pages N] [--concurrency N] [--runs N]`:
//! `audit_site` throughput on a generated local site and peak RSS.
//!
//! xtask is, with `ffmcp_core::exec`, the only code that starts processes
//! (cargo, python, the servers under test); it prints to stdout by design.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

mod bench;
mod bench_docparse;
mod bench_intel;
mod bench_leadgen;
mod bench_load;
mod bench_model;
mod bench_paging;
mod bench_seo;
mod bench_startup;
mod dist;
mod fidelity;
mod peer;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["bench", "protocol", rest @ ..] => bench::protocol(parse_options(rest)?),
        ["bench", "leadgen", rest @ ..] => bench_leadgen::run(rest),
        ["bench", "model", rest @ ..] => bench_model::run(rest),
        ["bench", "intel", rest @ ..] => bench_intel::run(rest),
        ["bench", "seo", rest @ ..] => bench_seo::run(rest),
        ["bench", "docparse", rest @ ..] => bench_docparse::run(rest),
        ["bench", "startup", rest @ ..] => bench_startup::run(rest),
        ["bench", "load", rest @ ..] => bench_load::run(rest),
        ["bench", "paging", rest @ ..] => bench_paging::run(rest),
        ["dist", rest @ ..] => dist::run(rest),
        ["fidelity", "pdf", dir] => fidelity::pdf(std::path::Path::new(dir)),
        ["fidelity", "rss", file] => fidelity::rss(std::path::Path::new(file)),
        ["fidelity", "text", file] => fidelity::text(std::path::Path::new(file)),
        _ => bail!(
            "usage: cargo xtask bench protocol [--iterations N] [--warmup N]\n\
                    cargo xtask bench model [--calls N]   (model router overhead and fallback time)\n\
                    cargo xtask bench leadgen   (lead extraction throughput, batch job overhead)\n\
                    cargo xtask bench intel [--watches N]   (feed parsing vs feedparser, checking N watches)\n\
                    cargo xtask fidelity pdf DIR   (docparse PDF text vs pdftotext)\n\
                    cargo xtask bench seo [--pages N] [--concurrency N] [--runs N]   (audit_site throughput, peak RSS)\n\
                    cargo xtask bench docparse DIR   (PDF pages/s and peak RSS vs pdftotext and markitdown)\n\
                    cargo xtask dist [--skip-build] [--pack]   (release binary + npm packages)\n\
                    cargo xtask bench startup   (size, cold start, idle RSS vs Node servers; after dist --pack)\n\
                    cargo xtask bench load [--heavy N] [--pings N] [--skip-build]   (ping latency while heavy calls run; trivial-call throughput)\n\
                    cargo xtask bench paging [--pages N] [--skip-build]   (docparse: paging a long PDF vs one parse)\n\
                    cargo xtask fidelity text FILE (docparse PDF text of one file)\n\
             measures tools/call round-trips of ffmcp vs Python FastMCP over stdio and HTTP"
        ),
    }
}

fn parse_options(rest: &[&str]) -> anyhow::Result<bench::Options> {
    let mut options = bench::Options::default();
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let number: usize = value
            .parse()
            .with_context(|| format!("{flag} takes a number, got {value}"))?;
        match *flag {
            "--iterations" => options.iterations = number.max(10),
            "--warmup" => options.warmup = number,
            other => bail!("unknown option {other}"),
        }
    }
    Ok(options)
}

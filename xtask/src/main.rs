//! cargo xtask: project automation. `cargo xtask --help` lists the commands,
//! `cargo xtask <command> --help` their options.
//!
//! - `cargo xtask ci [--skip-tests]`: the fast local subset of `.ci/run`
//!   (see `ci.rs`).
//! - `cargo xtask msrv`: no dependency needs a newer Rust than the
//!   workspace's `rust-version` (see `msrv.rs`).
//! - `cargo xtask bench protocol [--iterations N] [--warmup N]`: round-trip
//!   latency of a trivial tools/call over stdio and HTTP, cold start and idle
//!   memory, for ffmcp and for the Python SDK's FastMCP server side by side.
//! - `cargo xtask bench leadgen`: lead extraction throughput and batch-job
//!   overhead over raw model calls (see `bench_leadgen.rs`).
//! - `cargo xtask bench model [--calls N]`: the model router's overhead over a
//!   direct provider call and its fallback time, against the provider imitation.
//! - `cargo xtask bench intel [--watches N]`, `bench seo`, `bench docparse DIR`,
//!   `bench load`, `bench paging`: see their modules.
//! - `cargo xtask bench scale [--leads N] [--watches N]`: leadgen job and
//!   watch-check throughput with 1, 2 and 3 replicas on one PostgreSQL, and
//!   one process on SQLite; claim time per item (see `bench_scale.rs`).
//! - `cargo xtask dist [--skip-build] [--pack] [--dev]`: release build and the
//!   npm packages for `npx ffmcp` (see `dist.rs`). `cargo xtask bench startup`:
//!   binary size, cold start and idle memory, direct and through npx, beside
//!   Node reference servers (after `dist --pack`).
//! - `cargo xtask server-json [--check]`: the MCP registry's server.json,
//!   generated from the server table (see `server_json.rs`).
//! - `cargo xtask fidelity pdf DIR | text FILE | rss FILE`: docparse's PDF
//!   text against pdftotext.
//! - `cargo xtask fidelity corpus [DIR]`, `fidelity docs [DIR]`: word recall
//!   and precision of every format on real files from packages (see
//!   `fidelity_docs.rs`).
//!
//! xtask is, with `ffmcp_core::exec`, the only code that starts processes
//! (cargo, python, the servers under test); it prints to stdout by design.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

mod bench;

/// The ffmcp binary's allocator, so benches run in process (coderag) measure
/// what production runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench_coderag;
mod bench_docparse;
mod bench_intel;
mod bench_leadgen;
mod bench_load;
mod bench_model;
mod bench_paging;
mod bench_scale;
mod bench_seo;
mod bench_sessions;
mod bench_startup;
mod ci;
mod dist;
mod fidelity;
mod fidelity_docs;
mod msrv;
mod peer;
mod server_json;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// ffmcp project automation.
#[derive(Parser)]
#[command(name = "xtask", bin_name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The fast local subset of CI: fmt --check, clippy -D warnings, the
    /// workspace tests, core's rustdoc with warnings as errors.
    Ci(ci::Options),
    /// Check that no dependency's rust-version exceeds the workspace's.
    Msrv,
    /// Benchmarks; each prints a Markdown table.
    Bench {
        #[command(subcommand)]
        area: Bench,
    },
    /// The release binary and the npm packages for `npx ffmcp`.
    Dist(dist::Options),
    /// Write server.json (the MCP registry entry) from the server table;
    /// --check fails when the checked-in one differs.
    ServerJson(server_json::Options),
    /// docparse's PDF text against poppler's pdftotext.
    Fidelity {
        #[command(subcommand)]
        what: Fidelity,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// tools/call round-trips of ffmcp vs Python FastMCP over stdio and HTTP,
    /// cold start, idle memory.
    Protocol(bench::Options),
    /// Model router overhead over a direct provider call, and fallback time.
    Model {
        /// Calls timed (at least 100).
        #[arg(long, default_value_t = 3000)]
        calls: usize,
    },
    /// Lead extraction throughput and batch job overhead.
    Leadgen,
    /// Feed parsing vs feedparser, and checking N watches.
    Intel {
        /// Watches checked.
        #[arg(long, default_value_t = 500)]
        watches: usize,
    },
    /// audit_site throughput on a generated local site, and peak RSS.
    Seo(bench_seo::Options),
    /// coderag: MRR@10/recall@10 vs a ripgrep baseline on real code, index
    /// throughput, query p50/p99, update time.
    Coderag(bench_coderag::Options),
    /// PDF pages/s and peak RSS vs pdftotext and markitdown.
    Docparse {
        /// A directory of PDF files.
        dir: PathBuf,
    },
    /// Binary size, cold start and idle RSS vs Node servers (after `dist --pack`).
    Startup,
    /// Ping latency while heavy calls run; trivial-call throughput.
    Load(bench_load::Options),
    /// Memory of the HTTP server while sessions open and after they end.
    Sessions(bench_sessions::Options),
    /// Leadgen jobs and watch checks with 1, 2, 3 replicas on one
    /// PostgreSQL vs one process on SQLite; claim time per item.
    Scale(bench_scale::Options),
    /// docparse: paging a long PDF vs one parse.
    Paging {
        /// Pages of the generated PDF.
        #[arg(long, default_value_t = 1151)]
        pages: usize,
        /// Use the existing target/release/ffmcp.
        #[arg(long)]
        skip_build: bool,
    },
}

#[derive(Subcommand)]
enum Fidelity {
    /// Text similarity and speed vs pdftotext for every PDF in DIR.
    Pdf { dir: PathBuf },
    /// docparse's PDF text of one file.
    Text { file: PathBuf },
    /// Peak RSS of parsing one file (used by `bench docparse`).
    Rss { file: PathBuf },
    /// Fetch the real-document corpus (Debian docs, sdists' test files).
    Corpus {
        /// Where to put it (default target/fidelity-corpus).
        dir: Option<PathBuf>,
    },
    /// Word recall/precision of every format vs independent reference texts.
    Docs {
        /// The corpus (default target/fidelity-corpus).
        dir: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ci(options) => ci::run(&options),
        Command::Msrv => msrv::run(),
        Command::Bench { area } => match area {
            Bench::Protocol(options) => bench::protocol(options),
            Bench::Model { calls } => bench_model::run(calls),
            Bench::Leadgen => bench_leadgen::run(),
            Bench::Intel { watches } => bench_intel::run(watches),
            Bench::Seo(options) => bench_seo::run(options),
            Bench::Coderag(options) => bench_coderag::run(&options),
            Bench::Docparse { dir } => bench_docparse::run(&dir),
            Bench::Startup => bench_startup::run(),
            Bench::Load(options) => bench_load::run(&options),
            Bench::Sessions(options) => bench_sessions::run(&options),
            Bench::Scale(options) => bench_scale::run(&options),
            Bench::Paging { pages, skip_build } => bench_paging::run(pages, skip_build),
        },
        Command::Dist(options) => dist::run(&options),
        Command::ServerJson(options) => server_json::run(&options),
        Command::Fidelity { what } => match what {
            Fidelity::Pdf { dir } => fidelity::pdf(&dir),
            Fidelity::Text { file } => fidelity::text(&file),
            Fidelity::Rss { file } => fidelity::rss(&file),
            Fidelity::Corpus { dir } => {
                fidelity_docs::corpus(&dir.unwrap_or_else(fidelity_docs::default_dir))
            }
            Fidelity::Docs { dir } => {
                fidelity_docs::docs(&dir.unwrap_or_else(fidelity_docs::default_dir))
            }
        },
    }
}

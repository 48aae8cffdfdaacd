//! `cargo xtask bench seo [--pages N] [--concurrency N] [--runs N] [--skip-build]`: audit
//! throughput of `ffmcp seo` (release build) crawling a generated local
//! site through `audit_site`, and the server's peak RSS (VmHWM).
//!
//! The site is served from this process on 127.0.0.1 (a thread per
//! connection, responses prebuilt), so the server under test pays for
//! fetching, parsing, checking and the site-level analysis, not for page
//! generation. Target (issue 6): ≥ 200 pages/s at concurrency 8 on 2 cores,
//! peak RSS < 150 MB.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    thread,
    time::Instant,
};

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// `cargo xtask bench seo` options; out-of-range numbers are clamped.
#[derive(clap::Args)]
pub struct Options {
    /// Pages in the generated site (10..=5000).
    #[arg(long, default_value_t = 1000)]
    pages: usize,
    /// The audit's fetch concurrency (1..=8).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Audits timed; the median is reported (1..=20).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Paragraphs of text per page, i.e. page size (1..=500).
    #[arg(long, default_value_t = 12)]
    paragraphs: usize,
    /// Use the existing target/release/ffmcp.
    #[arg(long)]
    skip_build: bool,
}

pub fn run(options: Options) -> anyhow::Result<()> {
    let options = Options {
        pages: options.pages.clamp(10, 5000),
        concurrency: options.concurrency.clamp(1, 8),
        runs: options.runs.clamp(1, 20),
        paragraphs: options.paragraphs.clamp(1, 500),
        skip_build: options.skip_build,
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask has no parent")?
        .to_path_buf();
    let ffmcp = if options.skip_build {
        root.join("target/release/ffmcp")
    } else {
        build_release(&root)?
    };
    let (port, page_bytes) = serve_site(options.pages, options.paragraphs)?;
    let start = format!("http://127.0.0.1:{port}/p/0");
    eprintln!(
        "site: {} pages of {} KiB on average on 127.0.0.1:{port}; auditing with concurrency {} ({} runs) ...",
        options.pages,
        page_bytes / 1024,
        options.concurrency,
        options.runs
    );
    let mut rows = Vec::new();
    for run in 1..=options.runs {
        let row = audit_once(&ffmcp, &start, &options)?;
        eprintln!(
            "run {run}: {} pages in {:.2} s = {:.0} pages/s, peak RSS {:.1} MiB",
            row.pages, row.seconds, row.pages_per_second, row.peak_rss_mib
        );
        rows.push(row);
    }
    rows.sort_by(|a, b| a.pages_per_second.total_cmp(&b.pages_per_second));
    let median = &rows[rows.len() / 2];
    let worst_rss = rows.iter().map(|r| r.peak_rss_mib).fold(0.0, f64::max);
    println!("| measure | value | target |");
    println!("|---|---|---|");
    println!(
        "| pages audited per run | {} of {} | all |",
        median.pages, options.pages
    );
    println!(
        "| throughput (median of {}) | {:.0} pages/s | ≥ 200 pages/s |",
        rows.len(),
        median.pages_per_second
    );
    println!(
        "| wall time, tools/call round trip | {:.2} s | |",
        median.seconds
    );
    println!("| peak RSS (worst run) | {worst_rss:.1} MiB | < 150 MB |");
    println!("| average page size | {} KiB | |", page_bytes / 1024);
    println!("| average page score | {} | |", median.average_score);
    println!(
        "| site-level findings | {} | 0 (the generated site is clean) |",
        median.site_findings
    );
    println!(
        "\nconcurrency {} on {} CPUs",
        options.concurrency,
        thread::available_parallelism().map_or(0, usize::from)
    );
    Ok(())
}

struct Row {
    pages: u64,
    seconds: f64,
    pages_per_second: f64,
    peak_rss_mib: f64,
    average_score: u64,
    site_findings: usize,
}

/// One fresh server process, one `audit_site` call.
fn audit_once(ffmcp: &Path, start: &str, options: &Options) -> anyhow::Result<Row> {
    let mut child = Command::new(ffmcp)
        .arg("seo")
        .env("FF_ALLOW_HOSTS", "127.0.0.1")
        .env("FF_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting ffmcp seo")?;
    let result = (|| {
        let mut stdin = child.stdin.take().context("stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let mut send = |v: Value| -> anyhow::Result<()> {
            let mut line = serde_json::to_vec(&v)?;
            line.push(b'\n');
            stdin.write_all(&line)?;
            stdin.flush()?;
            Ok(())
        };
        send(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "ffmcp-bench-seo", "version": "0"}}}),
        )?;
        read_response(&mut stdout, 1)?;
        send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        let started = Instant::now();
        send(
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "audit_site", "arguments": {
                "start_url": start, "max_pages": options.pages, "max_depth": 10,
                "concurrency": options.concurrency, "time_limit_secs": 600}}}),
        )?;
        let response = read_response(&mut stdout, 2)?;
        let seconds = started.elapsed().as_secs_f64();
        let report = &response["result"]["structuredContent"];
        if report.is_null() {
            bail!("audit_site failed: {response}");
        }
        let pages = report["pages_audited"].as_u64().unwrap_or(0);
        Ok(Row {
            pages,
            seconds,
            pages_per_second: report["pages_per_second"].as_f64().unwrap_or(0.0),
            peak_rss_mib: peak_rss_mib(&child)?,
            average_score: report["average_score"].as_u64().unwrap_or(0),
            site_findings: report["site_findings"].as_array().map_or(0, Vec::len),
        })
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn read_response(stdout: &mut impl BufRead, id: u64) -> anyhow::Result<Value> {
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line)? == 0 {
            bail!("ffmcp closed stdout");
        }
        let value: Value = serde_json::from_str(&line)?;
        if value["id"] == id {
            return Ok(value);
        }
    }
}

/// VmHWM: the process's peak resident set.
fn peak_rss_mib(child: &Child) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc status")?;
    Ok(kb / 1024.0)
}

fn build_release(root: &Path) -> anyhow::Result<PathBuf> {
    eprintln!("building target/release/ffmcp ...");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--locked", "--bin", "ffmcp"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    Ok(root.join("target/release/ffmcp"))
}

const WORDS: &[&str] = &[
    "garden", "balcony", "tomato", "water", "light", "soil", "seed", "plant", "harvest", "leaf",
    "root", "pot", "compost", "sun", "shade", "grow", "care", "season", "spring", "summer", "herb",
    "basil", "mint", "flower", "bee", "rain", "wind", "morning", "evening", "city",
];

/// A page of `paragraphs` × 40 words with a full head, 20 internal links
/// and an image every fourth paragraph.
fn page(base: &str, i: usize, pages: usize, paragraphs: usize) -> String {
    let mut rng = i as u64 * 2_654_435_761 + 1;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut body = String::new();
    for p in 0..paragraphs {
        body.push_str("<p>");
        for s in 0..4 {
            let _ = s;
            let words: Vec<&str> = (0..10)
                .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
                .collect();
            body.push_str(&words.join(" "));
            body.push_str(". ");
        }
        body.push_str("</p>");
        if p % 4 == 0 {
            body.push_str(&format!(
                "<h2>Section {p}</h2><img src=\"/img/{p}.png\" alt=\"figure {p}\" width=\"600\" height=\"400\">"
            ));
        }
    }
    let mut links = String::new();
    for k in 1..=20 {
        let target = (i * 7 + k * 13) % pages;
        links.push_str(&format!(
            "<li><a href=\"/p/{target}\">garden article {target}</a></li>"
        ));
    }
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Balcony garden article number {i}</title>
<meta name="description" content="Article {i} of the balcony garden series: practical steps for growing herbs and vegetables in small spaces.">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="canonical" href="{base}/p/{i}">
<meta property="og:title" content="Article {i}"><meta property="og:description" content="Balcony gardens">
<meta property="og:image" content="{base}/img/cover.png"><meta name="twitter:card" content="summary">
<link rel="stylesheet" href="/site.css"><script src="/app.js" defer></script>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Article","headline":"Article {i}","image":"{base}/img/cover.png","datePublished":"2026-01-01","author":{{"@type":"Person","name":"Ada"}}}}</script>
</head><body><nav><ul>{links}</ul></nav><main><h1>Balcony garden article {i}</h1>{body}</main></body></html>"#
    )
}

/// Serves the generated site; returns the port and the average page size.
fn serve_site(pages: usize, paragraphs: usize) -> anyhow::Result<(u16, usize)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let base = format!("http://127.0.0.1:{port}");
    let response = |content_type: &str, body: &[u8]| -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\ncache-control: max-age=60\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    };
    let mut site: Vec<Vec<u8>> = (0..pages)
        .map(|i| {
            response(
                "text/html; charset=utf-8",
                page(&base, i, pages, paragraphs).as_bytes(),
            )
        })
        .collect();
    let mut sitemap =
        String::from("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">");
    for i in 0..pages {
        sitemap.push_str(&format!("<url><loc>{base}/p/{i}</loc></url>"));
    }
    sitemap.push_str("</urlset>");
    site.push(response("application/xml", sitemap.as_bytes()));
    site.push(response(
        "text/plain",
        format!("User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n").as_bytes(),
    ));
    let not_found = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".to_vec();
    site.push(not_found);
    let page_bytes = site.iter().map(Vec::len).sum::<usize>() / pages.max(1);
    let site = Arc::new(site);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let site = Arc::clone(&site);
            thread::spawn(move || {
                let _ = serve_connection(stream, &site, pages);
            });
        }
    });
    Ok((port, page_bytes))
}

/// Keep-alive HTTP/1.1: one prebuilt response per request.
fn serve_connection(mut stream: TcpStream, site: &[Vec<u8>], pages: usize) -> std::io::Result<()> {
    let mut buf = vec![0u8; 8192];
    let mut head = Vec::new();
    loop {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            head.extend_from_slice(&buf[..n]);
        }
        let end = head
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(head.len(), |p| p + 4);
        let request = String::from_utf8_lossy(&head[..end]).into_owned();
        head.drain(..end);
        let path = request.split_whitespace().nth(1).unwrap_or("/");
        let index = match path {
            "/sitemap.xml" => pages,
            "/robots.txt" => pages + 1,
            p => p
                .strip_prefix("/p/")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n < pages)
                .unwrap_or(pages + 2),
        };
        stream.write_all(&site[index])?;
    }
}

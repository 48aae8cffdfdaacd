//! Measurements behind `cargo xtask bench intel` (which also runs Python
//! feedparser on the same files):
//!
//! ```sh
//! cargo run --release -p ffmcp-competitive-intel --example intel_bench -- parse DIR ITERATIONS
//! cargo run --release -p ffmcp-competitive-intel --example intel_bench -- watches N
//! ```
//!
//! * `parse`: every file in DIR parsed ITERATIONS times; prints JSON with
//!   files, bytes, items and seconds.
//! * `watches`: N feeds served on 127.0.0.1 by the shared test fixture
//!   server (20 items each), N watches on a
//!   fresh database; times the baseline check of all, a check where nothing
//!   changed, and a check where every feed gained one item. Host spacing 0
//!   and 32 requests per host: every watch is on the same loopback host, so
//!   per-host politeness would otherwise be what is measured.
//! * `scale N REPLICAS sqlite|postgres`: N feeds that answer after 200 ms,
//!   all due at once, drained by REPLICAS schedulers (engines with their own
//!   store handle and pool on one database, 16 checks in flight each) that
//!   claim and check as `run_due` does; prints JSON with the seconds, checks
//!   per second, how many fetches the fixture saw (N when nothing was
//!   doubled), the mean time of one claim statement and the claim time per
//!   watch (all claim statements over N). `postgres` makes a
//!   fresh database on `FFMCP_TEST_PG_URL`.
#![allow(clippy::print_stdout)]

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use ffmcp_competitive_intel::{Engine, Settings, db, feed};
use ffmcp_core::{
    fetch::{FetchPolicy, Fetcher},
    store::Store,
};
use ffmcp_test_support::http::{FixtureServer, Reply};

type Error = Box<dyn std::error::Error>;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["parse", dir, iterations] => parse(PathBuf::from(dir), iterations.parse()?),
        ["watches", n] => watches(n.parse()?).await,
        ["scale", n, replicas, backend] => scale(n.parse()?, replicas.parse()?, backend).await,
        _ => Err(
            "usage: intel_bench parse DIR ITERATIONS | intel_bench watches N | \
                  intel_bench scale N REPLICAS sqlite|postgres"
                .into(),
        ),
    }
}

fn parse(dir: PathBuf, iterations: usize) -> Result<(), Error> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.is_file() {
            files.push(std::fs::read(&path)?);
        }
    }
    files.sort();
    let bytes: usize = files.iter().map(Vec::len).sum();
    let mut items = 0;
    let started = Instant::now();
    for _ in 0..iterations {
        for file in &files {
            items += feed::parse(file, None).map_or(0, |f| f.items.len());
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "files": files.len() * iterations,
            "bytes": bytes * iterations,
            "items": items,
            "seconds": seconds,
        })
    );
    Ok(())
}

fn rss(i: usize, items: usize) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Site {i}</title>\
         <link>https://site{i}.example/</link><description>d</description>"
    );
    for n in (0..items).rev() {
        xml.push_str(&format!(
            "<item><guid>s{i}-{n}</guid><title>Post {n} of site {i}</title>\
             <link>https://site{i}.example/p/{n}</link>\
             <description>&lt;p&gt;Paragraph about post {n}, with some words.&lt;/p&gt;</description>\
             <pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>"
        ));
    }
    xml + "</channel></rss>"
}

async fn watches(n: usize) -> Result<(), Error> {
    let extra = Arc::new(AtomicUsize::new(0));
    let site = FixtureServer::start().await;
    for i in 0..n {
        let served = Arc::clone(&extra);
        site.route_fn(&format!("/f{i}.xml"), move |_| {
            Reply::ok(
                "application/rss+xml",
                rss(i, 20 + served.load(Ordering::SeqCst)),
            )
        });
    }
    let port = site.port();
    let dir = tempfile::tempdir()?;
    let settings = Settings {
        concurrency: 32,
        per_host: 32,
        host_spacing: Duration::ZERO,
        ..Settings::default()
    };
    let fetcher = Fetcher::builder()
        .policy(FetchPolicy::public_only().allow("127.0.0.1")?)
        .limits(settings.fetch_limits())
        .build()?;
    let engine = Engine::open(Store::open(dir.path().join("bench.db"))?, fetcher, settings).await?;
    let now = ffmcp_competitive_intel::engine::now_rfc3339();
    let watches = engine
        .db(move |c| {
            let mut out = Vec::new();
            for i in 0..n {
                let new = db::NewWatch {
                    url: format!("http://127.0.0.1:{port}/f{i}.xml"),
                    kind: "feed".into(),
                    feed_url: None,
                    selector: None,
                    ignore: Vec::new(),
                    interval_secs: 600,
                    tags: Vec::new(),
                    competitor: None,
                };
                if let db::Inserted::Added(w) = db::insert_watch(c, &new, &now, 0, i64::MAX)? {
                    out.push(*w);
                }
            }
            Ok(out)
        })
        .await?;
    let mut timings = Vec::new();
    for (label, bump) in [
        ("baseline", false),
        ("unchanged", false),
        ("one_new_item_each", true),
    ] {
        if bump {
            extra.fetch_add(1, Ordering::SeqCst);
        }
        let current = engine.db(|c| db::watches(c, None, None)).await?;
        let started = Instant::now();
        let reports = engine.check_many(current).await;
        let seconds = started.elapsed().as_secs_f64();
        let failed = reports.iter().filter(|r| r.outcome == "failed").count();
        let changes: usize = reports.iter().map(|r| r.new_changes.len()).sum();
        timings.push(serde_json::json!({
            "check": label, "seconds": seconds, "failed": failed, "new_changes": changes
        }));
    }
    println!(
        "{}",
        serde_json::json!({ "watches": watches.len(), "checks": timings })
    );
    Ok(())
}

async fn scale(n: usize, replicas: usize, backend: &str) -> Result<(), Error> {
    let site = FixtureServer::start().await;
    for i in 0..n {
        site.route(
            &format!("/f{i}.xml"),
            Reply::ok("application/rss+xml", rss(i, 5)).delayed(Duration::from_millis(200)),
        );
    }
    let port = site.port();
    let dir = tempfile::tempdir()?;
    let open: Box<dyn Fn() -> Result<Store, Error>> = match backend {
        "sqlite" => {
            let path = dir.path().join("bench.db");
            Box::new(move || Ok(Store::open(&path)?))
        }
        "postgres" => {
            let url = ffmcp_test_support::postgres::fresh_database("intel_bench scale")
                .await
                .ok_or("set FFMCP_TEST_PG_URL to a PostgreSQL server")?;
            Box::new(move || Ok(Store::connect(&url, &ffmcp_core::Config::default())?))
        }
        other => return Err(format!("unknown backend {other}").into()),
    };
    let settings = Settings {
        concurrency: 16,
        per_host: 64,
        host_spacing: Duration::ZERO,
        robots: false,
        ..Settings::default()
    };
    let mut engines = Vec::new();
    for _ in 0..replicas {
        let fetcher = Fetcher::builder()
            .policy(FetchPolicy::public_only().allow("127.0.0.1")?)
            .limits(settings.fetch_limits())
            .build()?;
        engines.push(Engine::open(open()?, fetcher, settings.clone()).await?);
    }
    let now = ffmcp_competitive_intel::engine::now_rfc3339();
    engines[0]
        .db(move |c| {
            for i in 0..n {
                let new = db::NewWatch {
                    url: format!("http://127.0.0.1:{port}/f{i}.xml"),
                    kind: "feed".into(),
                    feed_url: None,
                    selector: None,
                    ignore: Vec::new(),
                    interval_secs: 3600,
                    tags: Vec::new(),
                    competitor: None,
                };
                db::insert_watch(c, &new, &now, 0, i64::MAX)?;
            }
            Ok(())
        })
        .await?;
    let claim_nanos = Arc::new(AtomicUsize::new(0));
    let claims = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = engines
        .into_iter()
        .enumerate()
        .map(|(r, engine)| {
            let (claim_nanos, claims) = (Arc::clone(&claim_nanos), Arc::clone(&claims));
            tokio::spawn(async move {
                let owner = format!("replica{r}");
                loop {
                    let owner = owner.clone();
                    let now = chrono_now();
                    let t = Instant::now();
                    let due = engine
                        .db(move |c| db::claim_due(c, &owner, now, now + 300, 16))
                        .await?;
                    claim_nanos.fetch_add(
                        usize::try_from(t.elapsed().as_nanos()).unwrap_or(usize::MAX),
                        Ordering::SeqCst,
                    );
                    claims.fetch_add(1, Ordering::SeqCst);
                    if due.is_empty() {
                        return Ok::<_, ffmcp_competitive_intel::engine::IntelError>(());
                    }
                    engine.check_many(due).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let fetched = site.requests().len();
    #[allow(clippy::cast_precision_loss)]
    let per_second = n as f64 / seconds;
    #[allow(clippy::cast_precision_loss)]
    let claim_ms = claim_nanos.load(Ordering::SeqCst) as f64
        / claims.load(Ordering::SeqCst).max(1) as f64
        / 1e6;
    #[allow(clippy::cast_precision_loss)]
    let claim_ms_per_watch = claim_nanos.load(Ordering::SeqCst) as f64 / n.max(1) as f64 / 1e6;
    println!(
        "{}",
        serde_json::json!({
            "backend": backend, "replicas": replicas, "watches": n, "seconds": seconds,
            "checks_per_second": per_second, "fetches": fetched, "claim_ms": claim_ms,
            "claim_ms_per_watch": claim_ms_per_watch,
        })
    );
    Ok(())
}

fn chrono_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
    .unwrap_or(0)
}

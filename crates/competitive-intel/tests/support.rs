//! An engine wired to a temporary database, for checks against the
//! shared fixture server (`ffmcp_test_support::http`), whose responses
//! tests change between checks.

use std::time::Duration;

use ffmcp_competitive_intel::{Engine, Settings};
use ffmcp_core::{
    fetch::{FetchPolicy, Fetcher},
    store::Store,
};

pub use ffmcp_test_support::http::{FixtureServer as Fixture, Reply};

/// Settings for tests: 1-second intervals allowed, no host spacing.
pub fn settings() -> Settings {
    Settings {
        min_interval: 1,
        host_spacing: Duration::ZERO,
        per_host: 8,
        max_body_bytes: 2 * 1024 * 1024,
        ..Settings::default()
    }
}

/// An engine on a fresh database in `dir`, allowed to reach 127.0.0.1.
pub async fn engine(dir: &std::path::Path) -> Engine {
    engine_with(dir, settings()).await
}

/// [`engine`] with `s` as its settings.
pub async fn engine_with(dir: &std::path::Path, s: Settings) -> Engine {
    let fetcher = Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow("127.0.0.1")
                .expect("allow"),
        )
        .limits(s.fetch_limits())
        .build()
        .expect("fetcher");
    let store = Store::open(dir.join("intel.db")).expect("store");
    Engine::open(store, fetcher, s).await.expect("engine")
}

/// An engine on `store` with the test settings, allowed to reach 127.0.0.1.
pub async fn engine_on(store: Store) -> Engine {
    let s = settings();
    let fetcher = Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow("127.0.0.1")
                .expect("allow"),
        )
        .limits(s.fetch_limits())
        .build()
        .expect("fetcher");
    Engine::open(store, fetcher, s).await.expect("engine")
}

/// Where a test's database lives: a SQLite file in a temporary directory,
/// or a fresh PostgreSQL database; `open` gives another handle on the
/// same one (as a second process would have).
pub enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Db {
    pub fn open(&self) -> Store {
        match self {
            Db::Sqlite(dir) => Store::open(dir.path().join("intel.db")).expect("sqlite"),
            Db::Postgres(url) => {
                Store::connect(url, &ffmcp_core::Config::default()).expect("postgres")
            }
        }
    }
}

/// SQLite, and PostgreSQL when `FFMCP_TEST_PG_URL` names a server (else a
/// SKIPPED notice).
pub async fn databases(test: &str) -> Vec<Db> {
    let mut all = vec![Db::Sqlite(tempfile::tempdir().expect("tempdir"))];
    if let Some(url) = ffmcp_test_support::postgres::fresh_database(test).await {
        all.push(Db::Postgres(url));
    }
    all
}

/// An RSS 2.0 document with `items` as (guid, title, description).
pub fn rss(build_date: &str, items: &[(&str, &str, &str)]) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Acme blog</title>\
         <link>https://acme.example/</link><description>d</description>\
         <lastBuildDate>{build_date}</lastBuildDate>"
    );
    for (guid, title, desc) in items {
        xml.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title>\
             <link>https://acme.example/p/{guid}</link><description>{desc}</description>\
             <pubDate>{build_date}</pubDate></item>"
        ));
    }
    xml.push_str("</channel></rss>");
    xml
}

/// Adds a watch the way `watch_add` does (probe, insert) without the
/// baseline check; returns it.
pub async fn add(
    engine: &Engine,
    url: &str,
    want: ffmcp_competitive_intel::engine::Want,
    selector: Option<&str>,
    ignore: &[&str],
    interval: i64,
) -> ffmcp_competitive_intel::db::Watch {
    use ffmcp_competitive_intel::{db, engine::now_rfc3339};
    let probe = engine.probe(url, want).await.expect("probe");
    let new = db::NewWatch {
        url: url.to_owned(),
        kind: probe.kind.to_owned(),
        feed_url: probe.feed_url,
        selector: selector.map(str::to_owned),
        ignore: ignore.iter().map(|s| (*s).to_owned()).collect(),
        interval_secs: interval,
        tags: vec!["blog".into()],
        competitor: Some("Acme".into()),
    };
    let now = now_rfc3339();
    let max = engine.settings.max_watches;
    match engine
        .db(move |c| db::insert_watch(c, &new, &now, 0, max))
        .await
        .expect("insert")
    {
        db::Inserted::Added(watch) => *watch,
        other => panic!("not added: {other:?}"),
    }
}

/// The watch as stored now.
pub async fn reload(engine: &Engine, id: i64) -> ffmcp_competitive_intel::db::Watch {
    engine
        .db(move |c| ffmcp_competitive_intel::db::watch(c, id))
        .await
        .expect("db")
        .expect("exists")
}

/// Every change of a watch.
pub async fn changes_of(engine: &Engine, id: i64) -> Vec<ffmcp_competitive_intel::db::Change> {
    engine
        .db(move |c| {
            ffmcp_competitive_intel::db::changes(
                c,
                &ffmcp_competitive_intel::db::ChangeFilter {
                    watch_id: Some(id),
                    limit: 1000,
                    ..Default::default()
                },
            )
        })
        .await
        .expect("db")
}

//! Crawls kept in the store (`core::store`, table `seo_crawls`), so a crawl
//! stopped by a limit, a cancellation or a server restart can be resumed
//! and its report read again, without the server holding every crawl in
//! memory. Only a crawl that is running lives in memory, for that call.
//!
//! Each crawl is one row: a few columns to list and prune by, and the whole
//! state (frontier, pages with their findings, link graph) as
//! zlib-compressed JSON. Bounded by count (`FF_SEO_MAX_CRAWLS`, default
//! 20) and age since the last run (`FF_SEO_CRAWL_MAX_AGE_DAYS`, default 7):
//! every save prunes the oldest beyond either limit. A single crawl is
//! bounded by [`MAX_CRAWL_URLS`] fetched URLs across all its runs.
//!
//! Statements run on both store backends (SQLite or PostgreSQL, one
//! migration list each), so replicas on one PostgreSQL database read the
//! same kept crawls (`seo://crawls`).

use std::{
    collections::{HashMap, HashSet, VecDeque},
    io::{Read, Write},
    time::Duration,
};

use ffmcp_core::store::{Db, StoreError, params};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    audit::{PageReport, SiteFacts},
    crawl::{Crawl, Failure, Options, Redirect, Stop},
};

/// The schema in the store, on both backends.
pub static SCHEMA: ffmcp_core::store::Schema = ffmcp_core::store::Schema {
    namespace: "seo",
    sqlite: MIGRATIONS,
    postgres: Some(PG_MIGRATIONS),
};

/// Schema migrations of the `seo` namespace; append, never edit.
pub const MIGRATIONS: &[&str] = &["CREATE TABLE seo_crawls (
    id TEXT PRIMARY KEY,
    start_url TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    stop TEXT NOT NULL,
    pages INTEGER NOT NULL,
    state BLOB NOT NULL
);
CREATE INDEX seo_crawls_updated ON seo_crawls (updated_at);"];

/// The same schema on PostgreSQL, version for version.
pub const PG_MIGRATIONS: &[&str] = &["CREATE TABLE seo_crawls (
    id TEXT PRIMARY KEY,
    start_url TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    stop TEXT NOT NULL,
    pages BIGINT NOT NULL,
    state BYTEA NOT NULL
);
CREATE INDEX seo_crawls_updated ON seo_crawls (updated_at);"];

/// Environment variable: most crawls kept.
pub const MAX_CRAWLS_ENV: &str = "FF_SEO_MAX_CRAWLS";
/// Environment variable: days a crawl is kept after its last run.
pub const MAX_AGE_ENV: &str = "FF_SEO_CRAWL_MAX_AGE_DAYS";
/// Most URLs one crawl fetches across all its runs.
pub const MAX_CRAWL_URLS: usize = 20_000;
/// Largest decompressed state read back (a corrupt or hostile row cannot
/// make a load allocate without bound).
const MAX_STATE_BYTES: u64 = 1 << 30;

/// How many crawls are kept, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_crawls: i64,
    pub max_age: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_crawls: 20,
            max_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl Retention {
    /// Defaults with `FF_SEO_MAX_CRAWLS` (1..=1000) and
    /// `FF_SEO_CRAWL_MAX_AGE_DAYS` (1..=365); out-of-range values are clamped.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Self {
        let num = |k: &str| get(k).and_then(|v| v.trim().parse::<i64>().ok());
        let mut r = Self::default();
        if let Some(n) = num(MAX_CRAWLS_ENV) {
            r.max_crawls = n.clamp(1, 1000);
        }
        if let Some(n) = num(MAX_AGE_ENV) {
            r.max_age = Duration::from_secs(n.clamp(1, 365).unsigned_abs() * 24 * 3600);
        }
        r
    }
}

/// Why a crawl could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CrawlStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored crawl '{id}' cannot be read: {reason}")]
    Corrupt { id: String, reason: String },
}

/// Saves `crawl` (replacing its previous state), then prunes by `retention`.
pub fn save(
    db: &mut Db<'_>,
    crawl: &Crawl,
    now: i64,
    retention: Retention,
) -> Result<(), CrawlStoreError> {
    let state = encode(crawl).map_err(|reason| CrawlStoreError::Corrupt {
        id: crawl.id.clone(),
        reason,
    })?;
    let stop = serde_json::to_value(crawl.stop)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    db.transaction(|db| {
        db.execute(
            "INSERT INTO seo_crawls (id, start_url, created_at, updated_at, stop, pages, state) \
             VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET updated_at = ?3, stop = ?4, pages = ?5, state = ?6",
            params![
                crawl.id.as_str(),
                crawl.options.start.as_str(),
                now,
                stop,
                crawl.pages.len(),
                state
            ],
        )?;
        prune(db, &crawl.id, now, retention)
    })?;
    Ok(())
}

/// The crawl `id`, unless it is unknown or older than `retention` allows.
pub fn load(
    db: &mut Db<'_>,
    id: &str,
    now: i64,
    retention: Retention,
) -> Result<Option<Crawl>, CrawlStoreError> {
    let row: Option<Vec<u8>> = db
        .query_opt(
            "SELECT state FROM seo_crawls WHERE id = ?1 AND updated_at >= ?2",
            params![id, oldest_kept(now, retention)],
        )?
        .map(|r| r.get(0))
        .transpose()?;
    row.map(|state| {
        decode(&state).map_err(|reason| CrawlStoreError::Corrupt {
            id: id.to_owned(),
            reason,
        })
    })
    .transpose()
}

/// Ids of the kept crawls, most recently run first.
pub fn ids(db: &mut Db<'_>) -> Result<Vec<String>, StoreError> {
    db.query(
        "SELECT id FROM seo_crawls ORDER BY updated_at DESC, id",
        params![],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

fn oldest_kept(now: i64, retention: Retention) -> i64 {
    now.saturating_sub(i64::try_from(retention.max_age.as_secs()).unwrap_or(i64::MAX))
}

/// Drops crawls older than `retention` allows, then the least recently run
/// beyond its count; `saved` (just written) is kept among crawls run in the
/// same second.
fn prune(db: &mut Db<'_>, saved: &str, now: i64, retention: Retention) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM seo_crawls WHERE updated_at < ?1",
        params![oldest_kept(now, retention)],
    )?;
    db.execute(
        "DELETE FROM seo_crawls WHERE id NOT IN \
         (SELECT id FROM seo_crawls ORDER BY updated_at DESC, \
          CASE WHEN id = ?2 THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT ?1)",
        params![retention.max_crawls, saved],
    )?;
    Ok(())
}

/// The stored form of a [`Crawl`]: URLs as strings, no derived indexes.
#[derive(Serialize, Deserialize)]
struct Stored {
    id: String,
    start: String,
    sitemap: Option<String>,
    max_pages: usize,
    max_depth: usize,
    time_limit_ms: u64,
    concurrency: usize,
    delay_ms: u64,
    user_agent: String,
    respect_robots: bool,
    robots_txt: Option<String>,
    sitemap_urls: Vec<String>,
    sitemap_errors: Vec<String>,
    frontier: Vec<(String, usize)>,
    seen: Vec<String>,
    pages: Vec<(PageReport, StoredFacts)>,
    failures: Vec<(String, String, bool)>,
    blocked: Vec<String>,
    redirects: Vec<(String, Vec<String>)>,
    linked_from: Vec<(String, Vec<(String, String)>)>,
    seeded: bool,
    stop: Stop,
    visited: usize,
}

#[derive(Serialize, Deserialize)]
struct StoredFacts {
    internal_links: Vec<(String, String)>,
    canonical: Option<String>,
    hreflangs: Vec<(String, String)>,
    sketch: Vec<u64>,
    images: Vec<(String, String)>,
}

fn encode(crawl: &Crawl) -> Result<Vec<u8>, String> {
    let o = &crawl.options;
    let pairs = |v: &[(Url, String)]| -> Vec<(String, String)> {
        v.iter().map(|(u, s)| (u.to_string(), s.clone())).collect()
    };
    let stored = Stored {
        id: crawl.id.clone(),
        start: o.start.to_string(),
        sitemap: o.sitemap.as_ref().map(Url::to_string),
        max_pages: o.max_pages,
        max_depth: o.max_depth,
        time_limit_ms: u64::try_from(o.time_limit.as_millis()).unwrap_or(u64::MAX),
        concurrency: o.concurrency,
        delay_ms: u64::try_from(o.delay.as_millis()).unwrap_or(u64::MAX),
        user_agent: o.user_agent.clone(),
        respect_robots: o.respect_robots,
        robots_txt: crawl.robots_txt.clone(),
        sitemap_urls: crawl.sitemap_urls.iter().map(Url::to_string).collect(),
        sitemap_errors: crawl.sitemap_errors.clone(),
        frontier: crawl
            .frontier
            .iter()
            .map(|(u, d)| (u.to_string(), *d))
            .collect(),
        seen: crawl.seen.iter().cloned().collect(),
        pages: crawl
            .pages
            .iter()
            .map(|p| {
                let f = &p.site;
                let facts = StoredFacts {
                    internal_links: pairs(&f.internal_links),
                    canonical: f.canonical.as_ref().map(Url::to_string),
                    hreflangs: f
                        .hreflangs
                        .iter()
                        .map(|(l, u)| (l.clone(), u.to_string()))
                        .collect(),
                    sketch: f.sketch.clone(),
                    images: pairs(&f.images),
                };
                (p.clone(), facts)
            })
            .collect(),
        failures: crawl
            .failures
            .iter()
            .map(|f| (f.url.to_string(), f.reason.clone(), f.redirect_loop))
            .collect(),
        blocked: crawl.blocked.iter().map(Url::to_string).collect(),
        redirects: crawl
            .redirects
            .iter()
            .map(|r| {
                (
                    r.from.to_string(),
                    r.hops.iter().map(Url::to_string).collect(),
                )
            })
            .collect(),
        linked_from: crawl
            .linked_from
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        seeded: crawl.seeded,
        stop: crawl.stop,
        visited: crawl.visited,
    };
    let json = serde_json::to_vec(&stored).map_err(|e| e.to_string())?;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&json).map_err(|e| e.to_string())?;
    z.finish().map_err(|e| e.to_string())
}

fn decode(state: &[u8]) -> Result<Crawl, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(state)
        .take(MAX_STATE_BYTES)
        .read_to_end(&mut json)
        .map_err(|e| e.to_string())?;
    let s: Stored = serde_json::from_slice(&json).map_err(|e| e.to_string())?;
    let url = |v: &str| Url::parse(v).map_err(|e| format!("'{v}': {e}"));
    let urls = |v: &[String]| v.iter().map(|u| url(u)).collect::<Result<Vec<_>, _>>();
    let pairs = |v: &[(String, String)]| {
        v.iter()
            .map(|(u, s)| Ok((url(u)?, s.clone())))
            .collect::<Result<Vec<_>, String>>()
    };
    let options = Options {
        start: url(&s.start)?,
        sitemap: s.sitemap.as_deref().map(url).transpose()?,
        max_pages: s.max_pages,
        max_depth: s.max_depth,
        time_limit: Duration::from_millis(s.time_limit_ms),
        concurrency: s.concurrency,
        delay: Duration::from_millis(s.delay_ms),
        user_agent: s.user_agent,
        respect_robots: s.respect_robots,
    };
    let mut pages = Vec::with_capacity(s.pages.len());
    for (mut page, facts) in s.pages {
        page.site = SiteFacts {
            internal_links: pairs(&facts.internal_links)?,
            canonical: facts.canonical.as_deref().map(url).transpose()?,
            hreflangs: facts
                .hreflangs
                .iter()
                .map(|(l, u)| Ok((l.clone(), url(u)?)))
                .collect::<Result<Vec<_>, String>>()?,
            sketch: facts.sketch,
            images: pairs(&facts.images)?,
        };
        pages.push(page);
    }
    let mut crawl = Crawl::new(s.id, options);
    crawl.robots_txt = s.robots_txt;
    crawl.sitemap_urls = urls(&s.sitemap_urls)?;
    crawl.sitemap_errors = s.sitemap_errors;
    crawl.frontier = s
        .frontier
        .iter()
        .map(|(u, d)| Ok((url(u)?, *d)))
        .collect::<Result<VecDeque<_>, String>>()?;
    crawl.seen = s.seen.into_iter().collect::<HashSet<_>>();
    crawl.pages = pages;
    crawl.failures = s
        .failures
        .into_iter()
        .map(|(u, reason, redirect_loop)| {
            Ok(Failure {
                url: url(&u)?,
                reason,
                redirect_loop,
            })
        })
        .collect::<Result<_, String>>()?;
    crawl.blocked = urls(&s.blocked)?;
    crawl.redirects = s
        .redirects
        .iter()
        .map(|(from, hops)| {
            Ok(Redirect {
                from: url(from)?,
                hops: urls(hops)?,
            })
        })
        .collect::<Result<_, String>>()?;
    crawl.linked_from = s.linked_from.into_iter().collect::<HashMap<_, _>>();
    crawl.seeded = s.seeded;
    crawl.stop = s.stop;
    crawl.visited = s.visited;
    Ok(crawl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_settings_are_clamped() {
        let r = Retention::from_lookup(&|k| match k {
            MAX_CRAWLS_ENV => Some("0".into()),
            MAX_AGE_ENV => Some("9999".into()),
            _ => None,
        });
        assert_eq!(r.max_crawls, 1);
        assert_eq!(r.max_age, Duration::from_secs(365 * 24 * 3600));
        assert_eq!(Retention::from_lookup(&|_| None), Retention::default());
    }
}

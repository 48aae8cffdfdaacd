//! The competitive-intel tables (prefix `ci_`) and every statement on them.
//!
//! Each check is applied in one transaction (items, snapshot, changes and
//! the watch's schedule together), so a process killed at any instant
//! leaves either the whole check or none of it: restarted, it re-checks
//! and finds the same new items exactly once.

use ffmcp_core::store::rusqlite::{self, Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::feed::FeedItem;

mod record;

pub use record::{record_failure, record_success};

/// Schema migrations, in order; never edit a released entry, append.
pub const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE ci_watches (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('feed', 'page')),
    feed_url TEXT,
    selector TEXT NOT NULL DEFAULT '',
    ignore_json TEXT NOT NULL DEFAULT '[]',
    interval_secs INTEGER NOT NULL,
    tags_json TEXT NOT NULL DEFAULT '[]',
    competitor TEXT,
    created_at TEXT NOT NULL,
    next_due INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_checked TEXT,
    last_outcome TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (url, selector)
);
CREATE INDEX ci_watches_due ON ci_watches (next_due);
CREATE TABLE ci_items (
    watch_id INTEGER NOT NULL REFERENCES ci_watches (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT,
    link TEXT,
    published TEXT,
    content_hash TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (watch_id, key)
);
CREATE TABLE ci_snapshots (
    id INTEGER PRIMARY KEY,
    watch_id INTEGER NOT NULL REFERENCES ci_watches (id) ON DELETE CASCADE,
    taken_at TEXT NOT NULL,
    hash TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX ci_snapshots_watch ON ci_snapshots (watch_id, id);
CREATE TABLE ci_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    watch_id INTEGER NOT NULL REFERENCES ci_watches (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    item_key TEXT,
    title TEXT,
    link TEXT,
    summary TEXT,
    snapshot_id INTEGER,
    previous_snapshot_id INTEGER,
    detected_at TEXT NOT NULL
);
CREATE INDEX ci_changes_watch ON ci_changes (watch_id, id);
CREATE INDEX ci_changes_detected ON ci_changes (detected_at);
CREATE TABLE ci_checks (
    id INTEGER PRIMARY KEY,
    watch_id INTEGER NOT NULL REFERENCES ci_watches (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    elapsed_ms INTEGER
);
CREATE INDEX ci_checks_watch ON ci_checks (watch_id, id);
"#];

/// A watched feed or page.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Watch {
    pub id: i64,
    pub url: String,
    /// `feed` or `page`.
    pub kind: String,
    /// The feed actually fetched, when discovered from an HTML page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_selectors: Vec<String>,
    pub interval_secs: i64,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub competitor: Option<String>,
    pub created_at: String,
    /// Unix seconds of the next scheduled check.
    pub next_due: i64,
    #[serde(skip)]
    pub etag: Option<String>,
    #[serde(skip)]
    pub last_modified: Option<String>,
    pub last_checked: Option<String>,
    /// `baseline`, `changed`, `unchanged`, `not_modified` or `failed`.
    pub last_outcome: Option<String>,
    /// Consecutive failed checks (the back-off grows with it).
    pub failures: i64,
    pub last_error: Option<String>,
}

impl Watch {
    /// The URL fetched on each check.
    pub fn target(&self) -> &str {
        self.feed_url.as_deref().unwrap_or(&self.url)
    }

    pub fn is_feed(&self) -> bool {
        self.kind == "feed"
    }
}

/// A detected change.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Change {
    /// Also the cursor: changes are numbered in detection order.
    pub id: i64,
    pub watch_id: i64,
    pub watch_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub competitor: Option<String>,
    pub tags: Vec<String>,
    /// `new_item`, `edited_item` or `page_changed`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_snapshot_id: Option<i64>,
    pub detected_at: String,
}

/// A stored snapshot.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Snapshot {
    pub id: i64,
    pub watch_id: i64,
    pub taken_at: String,
    pub hash: String,
    pub text: String,
}

/// A new watch, validated.
#[derive(Debug, Clone)]
pub struct NewWatch {
    pub url: String,
    pub kind: String,
    pub feed_url: Option<String>,
    pub selector: Option<String>,
    pub ignore: Vec<String>,
    pub interval_secs: i64,
    pub tags: Vec<String>,
    pub competitor: Option<String>,
}

/// Which changes to list.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    /// Changes with an id above this.
    pub after_id: i64,
    /// RFC 3339; changes detected at or after.
    pub since: Option<String>,
    pub watch_id: Option<i64>,
    pub tag: Option<String>,
    pub competitor: Option<String>,
    pub limit: i64,
}

/// What a successful fetch showed.
#[derive(Debug, Clone)]
pub enum Observation {
    /// 304, or a body identical to the last one.
    NotModified,
    Feed(Vec<FeedItem>),
    Page {
        text: String,
        hash: String,
    },
}

/// HTTP validators to remember for the next conditional GET.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// How many of each to keep.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub snapshots_per_watch: i64,
    pub checks_per_watch: i64,
    /// Newest detected changes kept per watch (older ones are dropped).
    pub changes_per_watch: i64,
    pub change_days: i64,
}

const WATCH_COLUMNS: &str = "id, url, kind, feed_url, selector, ignore_json, interval_secs, \
     tags_json, competitor, created_at, next_due, etag, last_modified, last_checked, \
     last_outcome, failures, last_error";

fn watch_row(row: &Row<'_>) -> rusqlite::Result<Watch> {
    let selector: String = row.get(4)?;
    let ignore: String = row.get(5)?;
    let tags: String = row.get(7)?;
    Ok(Watch {
        id: row.get(0)?,
        url: row.get(1)?,
        kind: row.get(2)?,
        feed_url: row.get(3)?,
        selector: (!selector.is_empty()).then_some(selector),
        ignore_selectors: serde_json::from_str(&ignore).unwrap_or_default(),
        interval_secs: row.get(6)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        competitor: row.get(8)?,
        created_at: row.get(9)?,
        next_due: row.get(10)?,
        etag: row.get(11)?,
        last_modified: row.get(12)?,
        last_checked: row.get(13)?,
        last_outcome: row.get(14)?,
        failures: row.get(15)?,
        last_error: row.get(16)?,
    })
}

/// What [`insert_watch`] did.
#[derive(Debug)]
pub enum Inserted {
    Added(Box<Watch>),
    /// The same URL and selector are already watched.
    Duplicate,
    /// `max_watches` watches exist already.
    Full(i64),
}

/// The number of watches.
pub fn watch_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM ci_watches", [], |r| r.get(0))
}

/// Inserts a watch unless it is a duplicate or `max_watches` exist (counted
/// and inserted in one transaction).
pub fn insert_watch(
    conn: &mut Connection,
    new: &NewWatch,
    now: &str,
    due: i64,
    max_watches: i64,
) -> rusqlite::Result<Inserted> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let count = watch_count(&tx)?;
    if count >= max_watches {
        return Ok(Inserted::Full(count));
    }
    let conn = &tx;
    let inserted = conn.execute(
        "INSERT INTO ci_watches (url, kind, feed_url, selector, ignore_json, interval_secs, \
         tags_json, competitor, created_at, next_due) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) \
         ON CONFLICT (url, selector) DO NOTHING",
        params![
            new.url,
            new.kind,
            new.feed_url,
            new.selector.as_deref().unwrap_or_default(),
            json(&new.ignore),
            new.interval_secs,
            json(&new.tags),
            new.competitor,
            now,
            due
        ],
    )?;
    if inserted == 0 {
        return Ok(Inserted::Duplicate);
    }
    let added = watch(conn, conn.last_insert_rowid())?;
    tx.commit()?;
    Ok(added.map_or(Inserted::Duplicate, |w| Inserted::Added(Box::new(w))))
}

/// One watch by id.
pub fn watch(conn: &Connection, id: i64) -> rusqlite::Result<Option<Watch>> {
    conn.query_row(
        &format!("SELECT {WATCH_COLUMNS} FROM ci_watches WHERE id = ?1"),
        params![id],
        watch_row,
    )
    .optional()
}

/// Every watch, optionally only those with `tag` or `competitor`.
pub fn watches(
    conn: &Connection,
    tag: Option<&str>,
    competitor: Option<&str>,
) -> rusqlite::Result<Vec<Watch>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {WATCH_COLUMNS} FROM ci_watches w WHERE \
         (?1 IS NULL OR EXISTS (SELECT 1 FROM json_each(w.tags_json) WHERE value = ?1)) \
         AND (?2 IS NULL OR competitor = ?2) ORDER BY id"
    ))?;
    stmt.query_map(params![tag, competitor], watch_row)?
        .collect()
}

/// Watches due at `now` (unix seconds), soonest first.
pub fn due(conn: &Connection, now: i64, limit: i64) -> rusqlite::Result<Vec<Watch>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {WATCH_COLUMNS} FROM ci_watches WHERE next_due <= ?1 ORDER BY next_due LIMIT ?2"
    ))?;
    stmt.query_map(params![now, limit], watch_row)?.collect()
}

/// The earliest `next_due`, if any watch exists.
pub fn next_due(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT MIN(next_due) FROM ci_watches", [], |r| r.get(0))
}

/// Writes the editable fields of `watch` back.
pub fn update_watch(conn: &Connection, watch: &Watch) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE ci_watches SET selector = ?2, ignore_json = ?3, interval_secs = ?4, \
         tags_json = ?5, competitor = ?6, next_due = ?7 WHERE id = ?1",
        params![
            watch.id,
            watch.selector.as_deref().unwrap_or_default(),
            json(&watch.ignore_selectors),
            watch.interval_secs,
            json(&watch.tags),
            watch.competitor,
            watch.next_due
        ],
    )?;
    Ok(n == 1)
}

impl Observation {
    /// Bytes the snapshot of this observation takes in the store.
    pub fn snapshot_bytes(&self) -> usize {
        match self {
            Observation::NotModified => 0,
            Observation::Feed(items) => record::feed_snapshot(items).len(),
            Observation::Page { text, .. } => text.len(),
        }
    }
}

/// Removes a watch with its items, snapshots, changes and check log.
pub fn remove_watch(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM ci_watches WHERE id = ?1", params![id])? == 1)
}

/// Deletes changes older than `before` (RFC 3339); returns how many.
pub fn prune_changes(conn: &Connection, before: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM ci_changes WHERE detected_at < ?1",
        params![before],
    )
}

const CHANGE_SELECT: &str = "SELECT c.id, c.watch_id, w.url, w.competitor, w.tags_json, c.kind, \
     c.title, c.link, c.summary, c.snapshot_id, c.previous_snapshot_id, c.detected_at \
     FROM ci_changes c JOIN ci_watches w ON w.id = c.watch_id";

fn change_row(row: &Row<'_>) -> rusqlite::Result<Change> {
    let tags: String = row.get(4)?;
    Ok(Change {
        id: row.get(0)?,
        watch_id: row.get(1)?,
        watch_url: row.get(2)?,
        competitor: row.get(3)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        kind: row.get(5)?,
        title: row.get(6)?,
        link: row.get(7)?,
        summary: row.get(8)?,
        snapshot_id: row.get(9)?,
        previous_snapshot_id: row.get(10)?,
        detected_at: row.get(11)?,
    })
}

pub(crate) fn changes_by_id(conn: &Connection, ids: &[i64]) -> rusqlite::Result<Vec<Change>> {
    let mut stmt = conn.prepare_cached(&format!("{CHANGE_SELECT} WHERE c.id = ?1"))?;
    ids.iter()
        .map(|id| stmt.query_row(params![id], change_row))
        .collect()
}

/// Changes matching `filter`, oldest first.
pub fn changes(conn: &Connection, filter: &ChangeFilter) -> rusqlite::Result<Vec<Change>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{CHANGE_SELECT} WHERE c.id > ?1 AND (?2 IS NULL OR c.detected_at >= ?2) \
         AND (?3 IS NULL OR c.watch_id = ?3) \
         AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(w.tags_json) WHERE value = ?4)) \
         AND (?5 IS NULL OR w.competitor = ?5) ORDER BY c.id LIMIT ?6"
    ))?;
    stmt.query_map(
        params![
            filter.after_id,
            filter.since,
            filter.watch_id,
            filter.tag,
            filter.competitor,
            filter.limit
        ],
        change_row,
    )?
    .collect()
}

/// Snapshots of a watch, newest first, text included when `with_text`.
pub fn snapshots(
    conn: &Connection,
    watch_id: i64,
    limit: i64,
    with_text: bool,
) -> rusqlite::Result<Vec<Snapshot>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, watch_id, taken_at, hash, CASE WHEN ?3 THEN text ELSE '' END \
         FROM ci_snapshots WHERE watch_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    stmt.query_map(params![watch_id, limit, with_text], |r| {
        Ok(Snapshot {
            id: r.get(0)?,
            watch_id: r.get(1)?,
            taken_at: r.get(2)?,
            hash: r.get(3)?,
            text: r.get(4)?,
        })
    })?
    .collect()
}

/// One snapshot by id.
pub fn snapshot(conn: &Connection, id: i64) -> rusqlite::Result<Option<Snapshot>> {
    conn.query_row(
        "SELECT id, watch_id, taken_at, hash, text FROM ci_snapshots WHERE id = ?1",
        params![id],
        |r| {
            Ok(Snapshot {
                id: r.get(0)?,
                watch_id: r.get(1)?,
                taken_at: r.get(2)?,
                hash: r.get(3)?,
                text: r.get(4)?,
            })
        },
    )
    .optional()
}

fn json(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

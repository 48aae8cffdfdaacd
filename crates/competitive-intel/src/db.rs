//! The competitive-intel tables (prefix `ci_`) and every statement on them.
//!
//! Each check is applied in one transaction (items, snapshot, changes and
//! the watch's schedule together), so a process killed at any instant
//! leaves either the whole check or none of it: restarted, it re-checks
//! and finds the same new items exactly once.
//!
//! Scheduled checks are *claimed* ([`claim_due`]): one statement marks the
//! due watches it takes with this process's lease (`lease_owner`,
//! `lease_until`), `FOR UPDATE SKIP LOCKED` on PostgreSQL and inside a
//! write transaction on SQLite, so any number of schedulers on one database
//! (replicas, a `--daemon` beside a served session) never take the same
//! watch; recording the check moves `next_due` on and ends the lease, and a
//! process killed mid-check leaves a lease that runs out.
//!
//! Statements run on both store backends; the schema has one migration
//! list per backend.

use ffmcp_core::store::{Backend, Db, Row, StoreError, params};
use serde::Serialize;

use crate::feed::FeedItem;

mod record;

pub use record::{record_failure, record_success};

/// The schema in the store, on both backends.
pub static SCHEMA: ffmcp_core::store::Schema = ffmcp_core::store::Schema {
    namespace: "competitive-intel",
    sqlite: MIGRATIONS,
    postgres: Some(PG_MIGRATIONS),
};

/// Schema migrations, in order; never edit a released entry, append.
pub const MIGRATIONS: &[&str] = &[
    r#"
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
"#,
    // v2: scheduled checks are claimed with a lease.
    "ALTER TABLE ci_watches ADD COLUMN lease_owner TEXT;
     ALTER TABLE ci_watches ADD COLUMN lease_until INTEGER;",
];

/// The same schema on PostgreSQL, version for version.
pub const PG_MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE ci_watches (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('feed', 'page')),
    feed_url TEXT,
    selector TEXT NOT NULL DEFAULT '',
    ignore_json TEXT NOT NULL DEFAULT '[]',
    interval_secs BIGINT NOT NULL,
    tags_json TEXT NOT NULL DEFAULT '[]',
    competitor TEXT,
    created_at TEXT NOT NULL,
    next_due BIGINT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_checked TEXT,
    last_outcome TEXT,
    failures BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (url, selector)
);
CREATE INDEX ci_watches_due ON ci_watches (next_due);
CREATE TABLE ci_items (
    watch_id BIGINT NOT NULL REFERENCES ci_watches (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT,
    link TEXT,
    published TEXT,
    content_hash TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (watch_id, key)
);
CREATE TABLE ci_snapshots (
    id BIGSERIAL PRIMARY KEY,
    watch_id BIGINT NOT NULL REFERENCES ci_watches (id) ON DELETE CASCADE,
    taken_at TEXT NOT NULL,
    hash TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX ci_snapshots_watch ON ci_snapshots (watch_id, id);
CREATE TABLE ci_changes (
    id BIGSERIAL PRIMARY KEY,
    watch_id BIGINT NOT NULL REFERENCES ci_watches (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    item_key TEXT,
    title TEXT,
    link TEXT,
    summary TEXT,
    snapshot_id BIGINT,
    previous_snapshot_id BIGINT,
    detected_at TEXT NOT NULL
);
CREATE INDEX ci_changes_watch ON ci_changes (watch_id, id);
CREATE INDEX ci_changes_detected ON ci_changes (detected_at);
CREATE TABLE ci_checks (
    id BIGSERIAL PRIMARY KEY,
    watch_id BIGINT NOT NULL REFERENCES ci_watches (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status BIGINT,
    error TEXT,
    elapsed_ms BIGINT
);
CREATE INDEX ci_checks_watch ON ci_checks (watch_id, id);
"#,
    "ALTER TABLE ci_watches ADD COLUMN lease_owner TEXT;
     ALTER TABLE ci_watches ADD COLUMN lease_until BIGINT;",
];

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

fn watch_row(row: &Row) -> Result<Watch, StoreError> {
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

fn watch_rows(rows: &[Row]) -> Result<Vec<Watch>, StoreError> {
    rows.iter().map(watch_row).collect()
}

/// "`tags_json` (a JSON array of strings, column `column`) holds parameter
/// `param`", in each backend's JSON functions.
fn has_tag(db: &Db<'_>, column: &str, param: &str) -> String {
    match db.backend() {
        Backend::Sqlite => {
            format!("EXISTS (SELECT 1 FROM json_each({column}) WHERE value = {param})")
        }
        Backend::Postgres => format!(
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST({column} AS jsonb)) AS t(value) \
             WHERE t.value = {param})"
        ),
    }
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
pub fn watch_count(db: &mut Db<'_>) -> Result<i64, StoreError> {
    db.query_one("SELECT COUNT(*) FROM ci_watches", params![])?
        .get(0)
}

/// Serialises watch inserts of every replica on PostgreSQL (count, then
/// insert); SQLite's write transaction does it there.
const INSERT_LOCK: i64 = 0x6369_7761_7463;

/// Inserts a watch unless it is a duplicate or `max_watches` exist (counted
/// and inserted in one transaction).
pub fn insert_watch(
    db: &mut Db<'_>,
    new: &NewWatch,
    now: &str,
    due: i64,
    max_watches: i64,
) -> Result<Inserted, StoreError> {
    db.transaction(|db| {
        if db.backend() == Backend::Postgres {
            db.execute("SELECT pg_advisory_xact_lock(?1)", params![INSERT_LOCK])?;
        }
        let count = watch_count(db)?;
        if count >= max_watches {
            return Ok(Inserted::Full(count));
        }
        let inserted = db.query_opt(
            "INSERT INTO ci_watches (url, kind, feed_url, selector, ignore_json, interval_secs, \
             tags_json, competitor, created_at, next_due) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) \
             ON CONFLICT (url, selector) DO NOTHING RETURNING id",
            params![
                new.url.as_str(),
                new.kind.as_str(),
                new.feed_url.clone(),
                new.selector.clone().unwrap_or_default(),
                json(&new.ignore),
                new.interval_secs,
                json(&new.tags),
                new.competitor.clone(),
                now,
                due
            ],
        )?;
        let Some(row) = inserted else {
            return Ok(Inserted::Duplicate);
        };
        let added = watch(db, row.get(0)?)?;
        Ok(added.map_or(Inserted::Duplicate, |w| Inserted::Added(Box::new(w))))
    })
}

/// One watch by id.
pub fn watch(db: &mut Db<'_>, id: i64) -> Result<Option<Watch>, StoreError> {
    db.query_opt(
        &format!("SELECT {WATCH_COLUMNS} FROM ci_watches WHERE id = ?1"),
        params![id],
    )?
    .as_ref()
    .map(watch_row)
    .transpose()
}

/// Every watch, optionally only those with `tag` or `competitor`.
pub fn watches(
    db: &mut Db<'_>,
    tag: Option<&str>,
    competitor: Option<&str>,
) -> Result<Vec<Watch>, StoreError> {
    let sql = format!(
        "SELECT {WATCH_COLUMNS} FROM ci_watches w WHERE \
         (CAST(?1 AS TEXT) IS NULL OR {}) \
         AND (CAST(?2 AS TEXT) IS NULL OR competitor = ?2) ORDER BY id",
        has_tag(db, "w.tags_json", "?1")
    );
    watch_rows(&db.query(&sql, params![tag, competitor])?)
}

/// Watches due at `now` (unix seconds), soonest first, leased or not.
pub fn due(db: &mut Db<'_>, now: i64, limit: i64) -> Result<Vec<Watch>, StoreError> {
    watch_rows(&db.query(
        &format!(
            "SELECT {WATCH_COLUMNS} FROM ci_watches WHERE next_due <= ?1 ORDER BY next_due LIMIT ?2"
        ),
        params![now, limit],
    )?)
}

/// Claims up to `limit` watches due at `now` (unix seconds) that no live
/// lease holds, for `owner` until `lease_until`: no other claimer gets them
/// before the check is recorded (which ends the lease) or the lease runs
/// out (its process died).
pub fn claim_due(
    db: &mut Db<'_>,
    owner: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Watch>, StoreError> {
    db.transaction(|db| {
        // The choice is a materialized CTE, made once: as a plain
        // `IN (subquery)`, PostgreSQL may re-run the subquery for every row
        // it updates (a nested loop), each run skipping the rows just
        // updated, and so claim every due watch whatever `limit` says.
        let sql = format!(
            "WITH picked AS MATERIALIZED \
             (SELECT id FROM ci_watches WHERE next_due <= ?3 \
              AND (lease_until IS NULL OR lease_until <= ?3) \
              ORDER BY next_due LIMIT ?4{}) \
             UPDATE ci_watches SET lease_owner = ?1, lease_until = ?2 \
             WHERE id IN (SELECT id FROM picked) RETURNING {WATCH_COLUMNS}",
            db.skip_locked()
        );
        watch_rows(&db.query(&sql, params![owner, lease_until, now, limit])?)
    })
}

/// The earliest `next_due`, if any watch exists.
pub fn next_due(db: &mut Db<'_>) -> Result<Option<i64>, StoreError> {
    db.query_one("SELECT MIN(next_due) FROM ci_watches", params![])?
        .get(0)
}

/// Writes the editable fields of `watch` back.
pub fn update_watch(db: &mut Db<'_>, watch: &Watch) -> Result<bool, StoreError> {
    let n = db.execute(
        "UPDATE ci_watches SET selector = ?2, ignore_json = ?3, interval_secs = ?4, \
         tags_json = ?5, competitor = ?6, next_due = ?7 WHERE id = ?1",
        params![
            watch.id,
            watch.selector.clone().unwrap_or_default(),
            json(&watch.ignore_selectors),
            watch.interval_secs,
            json(&watch.tags),
            watch.competitor.clone(),
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
pub fn remove_watch(db: &mut Db<'_>, id: i64) -> Result<bool, StoreError> {
    Ok(db.execute("DELETE FROM ci_watches WHERE id = ?1", params![id])? == 1)
}

/// Deletes changes older than `before` (RFC 3339); returns how many.
pub fn prune_changes(db: &mut Db<'_>, before: &str) -> Result<usize, StoreError> {
    let n = db.execute(
        "DELETE FROM ci_changes WHERE detected_at < ?1",
        params![before],
    )?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The newest change id (0 when none).
pub fn last_change_id(db: &mut Db<'_>) -> Result<i64, StoreError> {
    db.query_one("SELECT COALESCE(MAX(id), 0) FROM ci_changes", params![])?
        .get(0)
}

const CHANGE_SELECT: &str = "SELECT c.id, c.watch_id, w.url, w.competitor, w.tags_json, c.kind, \
     c.title, c.link, c.summary, c.snapshot_id, c.previous_snapshot_id, c.detected_at \
     FROM ci_changes c JOIN ci_watches w ON w.id = c.watch_id";

fn change_row(row: &Row) -> Result<Change, StoreError> {
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

pub(crate) fn changes_by_id(db: &mut Db<'_>, ids: &[i64]) -> Result<Vec<Change>, StoreError> {
    let sql = format!("{CHANGE_SELECT} WHERE c.id = ?1");
    ids.iter()
        .map(|id| change_row(&db.query_one(&sql, params![*id])?))
        .collect()
}

/// Changes matching `filter`, oldest first.
pub fn changes(db: &mut Db<'_>, filter: &ChangeFilter) -> Result<Vec<Change>, StoreError> {
    let sql = format!(
        "{CHANGE_SELECT} WHERE c.id > ?1 AND (CAST(?2 AS TEXT) IS NULL OR c.detected_at >= ?2) \
         AND (CAST(?3 AS BIGINT) IS NULL OR c.watch_id = ?3) \
         AND (CAST(?4 AS TEXT) IS NULL OR {}) \
         AND (CAST(?5 AS TEXT) IS NULL OR w.competitor = ?5) ORDER BY c.id LIMIT ?6",
        has_tag(db, "w.tags_json", "?4")
    );
    db.query(
        &sql,
        params![
            filter.after_id,
            filter.since.clone(),
            filter.watch_id,
            filter.tag.clone(),
            filter.competitor.clone(),
            filter.limit
        ],
    )?
    .iter()
    .map(change_row)
    .collect()
}

fn snapshot_row(r: &Row) -> Result<Snapshot, StoreError> {
    Ok(Snapshot {
        id: r.get(0)?,
        watch_id: r.get(1)?,
        taken_at: r.get(2)?,
        hash: r.get(3)?,
        text: r.get(4)?,
    })
}

/// Snapshots of a watch, newest first, text included when `with_text`.
pub fn snapshots(
    db: &mut Db<'_>,
    watch_id: i64,
    limit: i64,
    with_text: bool,
) -> Result<Vec<Snapshot>, StoreError> {
    db.query(
        "SELECT id, watch_id, taken_at, hash, CASE WHEN ?3 = 1 THEN text ELSE '' END \
         FROM ci_snapshots WHERE watch_id = ?1 ORDER BY id DESC LIMIT ?2",
        params![watch_id, limit, with_text],
    )?
    .iter()
    .map(snapshot_row)
    .collect()
}

/// One snapshot by id.
pub fn snapshot(db: &mut Db<'_>, id: i64) -> Result<Option<Snapshot>, StoreError> {
    db.query_opt(
        "SELECT id, watch_id, taken_at, hash, text FROM ci_snapshots WHERE id = ?1",
        params![id],
    )?
    .as_ref()
    .map(snapshot_row)
    .transpose()
}

fn json(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

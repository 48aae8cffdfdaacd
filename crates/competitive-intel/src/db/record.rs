//! Recording a check: items, snapshot, changes and the watch's schedule in
//! one write transaction (the watch's row locked on PostgreSQL), then
//! pruning to the retention limits. Recording ends the watch's lease.

use ffmcp_core::store::{Backend, Db, StoreError, params};

use super::{Change, Observation, Retention, Validators, Watch, changes_by_id};
use crate::feed::FeedItem;

/// Applies a successful check in one transaction; returns the new changes.
/// `baseline`: the first look at a watch records what is there without
/// calling it new.
#[allow(clippy::too_many_arguments)]
pub fn record_success(
    db: &mut Db<'_>,
    watch: &Watch,
    observation: &Observation,
    validators: &Validators,
    status: u16,
    elapsed_ms: i64,
    now: &str,
    next_due: i64,
    retention: Retention,
) -> Result<Vec<Change>, StoreError> {
    // The write lock (SQLite) or the watch's row lock (PostgreSQL) before
    // reading which items are known: a second process cannot interleave.
    db.transaction(|tx| {
        lock_watch(tx, watch.id)?;
        record_success_locked(
            tx,
            watch,
            observation,
            validators,
            status,
            elapsed_ms,
            now,
            next_due,
            retention,
        )
    })
}

#[allow(clippy::too_many_arguments)]
fn record_success_locked(
    tx: &mut Db<'_>,
    watch: &Watch,
    observation: &Observation,
    validators: &Validators,
    status: u16,
    elapsed_ms: i64,
    now: &str,
    next_due: i64,
    retention: Retention,
) -> Result<Vec<Change>, StoreError> {
    let baseline = latest_snapshot(tx, watch.id)?.is_none();
    let mut change_ids = Vec::new();
    let outcome = match observation {
        Observation::NotModified => "not_modified",
        Observation::Feed(items) => {
            let snapshot_text = feed_snapshot(items);
            let (snapshot, previous) = snapshot_if_new(tx, watch.id, &snapshot_text, now)?;
            for item in items {
                let known: Option<String> = tx
                    .query_opt(
                        "SELECT content_hash FROM ci_items WHERE watch_id = ?1 AND key = ?2",
                        params![watch.id, item.key.as_str()],
                    )?
                    .map(|r| r.get(0))
                    .transpose()?;
                let kind = match known {
                    None => {
                        tx.execute(
                            "INSERT INTO ci_items (watch_id, key, title, link, published, \
                             content_hash, first_seen) VALUES (?1,?2,?3,?4,?5,?6,?7)",
                            params![
                                watch.id,
                                item.key.as_str(),
                                item.title.clone(),
                                item.link.clone(),
                                item.published.clone(),
                                item.content_hash.as_str(),
                                now
                            ],
                        )?;
                        "new_item"
                    }
                    Some(hash) if hash != item.content_hash => {
                        tx.execute(
                            "UPDATE ci_items SET title = ?3, link = ?4, content_hash = ?5 \
                             WHERE watch_id = ?1 AND key = ?2",
                            params![
                                watch.id,
                                item.key.as_str(),
                                item.title.clone(),
                                item.link.clone(),
                                item.content_hash.as_str()
                            ],
                        )?;
                        "edited_item"
                    }
                    Some(_) => continue,
                };
                if !baseline {
                    let id: i64 = tx
                        .query_one(
                            "INSERT INTO ci_changes (watch_id, kind, item_key, title, link, \
                             summary, snapshot_id, previous_snapshot_id, detected_at) \
                             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) RETURNING id",
                            params![
                                watch.id,
                                kind,
                                item.key.as_str(),
                                item.title.clone(),
                                item.link.clone(),
                                item.summary.clone(),
                                snapshot,
                                previous,
                                now
                            ],
                        )?
                        .get(0)?;
                    change_ids.push(id);
                }
            }
            if baseline {
                "baseline"
            } else if change_ids.is_empty() {
                "unchanged"
            } else {
                "changed"
            }
        }
        Observation::Page { text, hash } => {
            let last: Option<(i64, String)> = latest_snapshot(tx, watch.id)?;
            match last {
                Some((_, last_hash)) if &last_hash == hash => "unchanged",
                last => {
                    let snapshot: i64 = tx
                        .query_one(
                            "INSERT INTO ci_snapshots (watch_id, taken_at, hash, text) \
                             VALUES (?1,?2,?3,?4) RETURNING id",
                            params![watch.id, now, hash.as_str(), text.as_str()],
                        )?
                        .get(0)?;
                    match last {
                        Some((previous, _)) => {
                            let summary: String = text.chars().take(300).collect();
                            let id: i64 = tx
                                .query_one(
                                    "INSERT INTO ci_changes (watch_id, kind, link, summary, \
                                     snapshot_id, previous_snapshot_id, detected_at) \
                                     VALUES (?1,'page_changed',?2,?3,?4,?5,?6) RETURNING id",
                                    params![
                                        watch.id,
                                        watch.url.as_str(),
                                        summary,
                                        snapshot,
                                        previous,
                                        now
                                    ],
                                )?
                                .get(0)?;
                            change_ids.push(id);
                            "changed"
                        }
                        None => "baseline",
                    }
                }
            }
        }
    };
    tx.execute(
        "UPDATE ci_watches SET etag = COALESCE(?2, etag), \
         last_modified = COALESCE(?3, last_modified), last_checked = ?4, last_outcome = ?5, \
         failures = 0, last_error = NULL, next_due = ?6, lease_owner = NULL, \
         lease_until = NULL WHERE id = ?1",
        params![
            watch.id,
            validators.etag.clone(),
            validators.last_modified.clone(),
            now,
            outcome,
            next_due
        ],
    )?;
    log_check(tx, watch.id, now, outcome, Some(status), None, elapsed_ms)?;
    prune_watch(tx, watch.id, retention)?;
    changes_by_id(tx, &change_ids)
}

/// Locks the watch's row for the transaction on PostgreSQL (SQLite's write
/// transaction already excludes every other writer).
fn lock_watch(tx: &mut Db<'_>, watch_id: i64) -> Result<(), StoreError> {
    if tx.backend() == Backend::Postgres {
        tx.query(
            "SELECT id FROM ci_watches WHERE id = ?1 FOR UPDATE",
            params![watch_id],
        )?;
    }
    Ok(())
}

/// Records a failed check and when to try again.
pub fn record_failure(
    db: &mut Db<'_>,
    watch_id: i64,
    error: &str,
    status: Option<u16>,
    now: &str,
    next_due: i64,
) -> Result<(), StoreError> {
    db.transaction(|tx| {
        lock_watch(tx, watch_id)?;
        tx.execute(
            "UPDATE ci_watches SET failures = failures + 1, last_error = ?2, last_checked = ?3, \
             last_outcome = 'failed', next_due = ?4, lease_owner = NULL, lease_until = NULL \
             WHERE id = ?1",
            params![watch_id, error, now, next_due],
        )?;
        log_check(tx, watch_id, now, "failed", status, Some(error), 0)
    })
}

fn log_check(
    conn: &mut Db<'_>,
    watch_id: i64,
    now: &str,
    outcome: &str,
    status: Option<u16>,
    error: Option<&str>,
    elapsed_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO ci_checks (watch_id, at, outcome, status, error, elapsed_ms) \
         VALUES (?1,?2,?3,?4,?5,?6)",
        params![watch_id, now, outcome, status, error, elapsed_ms],
    )?;
    Ok(())
}

fn latest_snapshot(db: &mut Db<'_>, watch_id: i64) -> Result<Option<(i64, String)>, StoreError> {
    db.query_opt(
        "SELECT id, hash FROM ci_snapshots WHERE watch_id = ?1 ORDER BY id DESC LIMIT 1",
        params![watch_id],
    )?
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .transpose()
}

/// A feed's snapshot: one line per item, in identity order (so a reordered
/// feed is the same snapshot).
pub(super) fn feed_snapshot(items: &[FeedItem]) -> String {
    let mut lines: Vec<String> = items
        .iter()
        .map(|i| {
            format!(
                "{} | {} | {}",
                i.title.as_deref().unwrap_or("(untitled)"),
                i.link.as_deref().unwrap_or_default(),
                i.summary.as_deref().unwrap_or_default()
            )
        })
        .collect();
    lines.sort();
    lines.dedup();
    lines.join("\n")
}

/// Stores `text` as a snapshot unless the latest one is the same; returns
/// (current, previous) ids.
fn snapshot_if_new(
    conn: &mut Db<'_>,
    watch_id: i64,
    text: &str,
    now: &str,
) -> Result<(Option<i64>, Option<i64>), StoreError> {
    use sha2::{Digest, Sha256};
    let hash = crate::feed::hex(&Sha256::digest(text.as_bytes()));
    let last = latest_snapshot(conn, watch_id)?;
    if let Some((id, last_hash)) = &last
        && *last_hash == hash
    {
        return Ok((Some(*id), None));
    }
    let id: i64 = conn
        .query_one(
            "INSERT INTO ci_snapshots (watch_id, taken_at, hash, text) VALUES (?1,?2,?3,?4) \
             RETURNING id",
            params![watch_id, now, hash, text],
        )?
        .get(0)?;
    Ok((Some(id), last.map(|(id, _)| id)))
}

/// Keeps the newest snapshots and check-log rows of one watch.
fn prune_watch(conn: &mut Db<'_>, watch_id: i64, retention: Retention) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM ci_snapshots WHERE watch_id = ?1 AND id NOT IN \
         (SELECT id FROM ci_snapshots WHERE watch_id = ?1 ORDER BY id DESC LIMIT ?2)",
        params![watch_id, retention.snapshots_per_watch],
    )?;
    conn.execute(
        "DELETE FROM ci_checks WHERE watch_id = ?1 AND id NOT IN \
         (SELECT id FROM ci_checks WHERE watch_id = ?1 ORDER BY id DESC LIMIT ?2)",
        params![watch_id, retention.checks_per_watch],
    )?;
    conn.execute(
        "DELETE FROM ci_changes WHERE watch_id = ?1 AND id NOT IN \
         (SELECT id FROM ci_changes WHERE watch_id = ?1 ORDER BY id DESC LIMIT ?2)",
        params![watch_id, retention.changes_per_watch],
    )?;
    Ok(())
}

//! Recording a check: items, snapshot, changes and the watch's schedule in
//! one IMMEDIATE transaction, then pruning to the retention limits.

use ffmcp_core::store::rusqlite::{
    self, Connection, OptionalExtension, TransactionBehavior, params,
};

use super::{Change, Observation, Retention, Validators, Watch, changes_by_id};
use crate::feed::FeedItem;

/// Applies a successful check in one transaction; returns the new changes.
/// `baseline`: the first look at a watch records what is there without
/// calling it new.
#[allow(clippy::too_many_arguments)]
pub fn record_success(
    conn: &mut Connection,
    watch: &Watch,
    observation: &Observation,
    validators: &Validators,
    status: u16,
    elapsed_ms: i64,
    now: &str,
    next_due: i64,
    retention: Retention,
) -> rusqlite::Result<Vec<Change>> {
    // IMMEDIATE: take the write lock before reading which items are known,
    // so a second process on the same file cannot interleave.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let baseline = latest_snapshot(&tx, watch.id)?.is_none();
    let mut change_ids = Vec::new();
    let outcome = match observation {
        Observation::NotModified => "not_modified",
        Observation::Feed(items) => {
            let snapshot_text = feed_snapshot(items);
            let (snapshot, previous) = snapshot_if_new(&tx, watch.id, &snapshot_text, now)?;
            for item in items {
                let known: Option<String> = tx
                    .query_row(
                        "SELECT content_hash FROM ci_items WHERE watch_id = ?1 AND key = ?2",
                        params![watch.id, item.key],
                        |r| r.get(0),
                    )
                    .optional()?;
                let kind = match known {
                    None => {
                        tx.execute(
                            "INSERT INTO ci_items (watch_id, key, title, link, published, \
                             content_hash, first_seen) VALUES (?1,?2,?3,?4,?5,?6,?7)",
                            params![
                                watch.id,
                                item.key,
                                item.title,
                                item.link,
                                item.published,
                                item.content_hash,
                                now
                            ],
                        )?;
                        "new_item"
                    }
                    Some(hash) if hash != item.content_hash => {
                        tx.execute(
                            "UPDATE ci_items SET title = ?3, link = ?4, content_hash = ?5 \
                             WHERE watch_id = ?1 AND key = ?2",
                            params![watch.id, item.key, item.title, item.link, item.content_hash],
                        )?;
                        "edited_item"
                    }
                    Some(_) => continue,
                };
                if !baseline {
                    tx.execute(
                        "INSERT INTO ci_changes (watch_id, kind, item_key, title, link, summary, \
                         snapshot_id, previous_snapshot_id, detected_at) \
                         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                        params![
                            watch.id,
                            kind,
                            item.key,
                            item.title,
                            item.link,
                            item.summary,
                            snapshot,
                            previous,
                            now
                        ],
                    )?;
                    change_ids.push(tx.last_insert_rowid());
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
            let last: Option<(i64, String)> = latest_snapshot(&tx, watch.id)?;
            match last {
                Some((_, last_hash)) if &last_hash == hash => "unchanged",
                last => {
                    tx.execute(
                        "INSERT INTO ci_snapshots (watch_id, taken_at, hash, text) \
                         VALUES (?1,?2,?3,?4)",
                        params![watch.id, now, hash, text],
                    )?;
                    let snapshot = tx.last_insert_rowid();
                    match last {
                        Some((previous, _)) => {
                            let summary: String = text.chars().take(300).collect();
                            tx.execute(
                                "INSERT INTO ci_changes (watch_id, kind, link, summary, \
                                 snapshot_id, previous_snapshot_id, detected_at) \
                                 VALUES (?1,'page_changed',?2,?3,?4,?5,?6)",
                                params![watch.id, watch.url, summary, snapshot, previous, now],
                            )?;
                            change_ids.push(tx.last_insert_rowid());
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
         failures = 0, last_error = NULL, next_due = ?6 WHERE id = ?1",
        params![
            watch.id,
            validators.etag,
            validators.last_modified,
            now,
            outcome,
            next_due
        ],
    )?;
    log_check(&tx, watch.id, now, outcome, Some(status), None, elapsed_ms)?;
    prune_watch(&tx, watch.id, retention)?;
    let changes = changes_by_id(&tx, &change_ids)?;
    tx.commit()?;
    Ok(changes)
}

/// Records a failed check and when to try again.
pub fn record_failure(
    conn: &mut Connection,
    watch_id: i64,
    error: &str,
    status: Option<u16>,
    now: &str,
    next_due: i64,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "UPDATE ci_watches SET failures = failures + 1, last_error = ?2, last_checked = ?3, \
         last_outcome = 'failed', next_due = ?4 WHERE id = ?1",
        params![watch_id, error, now, next_due],
    )?;
    log_check(&tx, watch_id, now, "failed", status, Some(error), 0)?;
    tx.commit()
}

fn log_check(
    conn: &Connection,
    watch_id: i64,
    now: &str,
    outcome: &str,
    status: Option<u16>,
    error: Option<&str>,
    elapsed_ms: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO ci_checks (watch_id, at, outcome, status, error, elapsed_ms) \
         VALUES (?1,?2,?3,?4,?5,?6)",
        params![watch_id, now, outcome, status, error, elapsed_ms],
    )?;
    Ok(())
}

fn latest_snapshot(conn: &Connection, watch_id: i64) -> rusqlite::Result<Option<(i64, String)>> {
    conn.query_row(
        "SELECT id, hash FROM ci_snapshots WHERE watch_id = ?1 ORDER BY id DESC LIMIT 1",
        params![watch_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
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
    conn: &Connection,
    watch_id: i64,
    text: &str,
    now: &str,
) -> rusqlite::Result<(Option<i64>, Option<i64>)> {
    use sha2::{Digest, Sha256};
    let hash = crate::feed::hex(&Sha256::digest(text.as_bytes()));
    let last = latest_snapshot(conn, watch_id)?;
    if let Some((id, last_hash)) = &last
        && *last_hash == hash
    {
        return Ok((Some(*id), None));
    }
    conn.execute(
        "INSERT INTO ci_snapshots (watch_id, taken_at, hash, text) VALUES (?1,?2,?3,?4)",
        params![watch_id, now, hash, text],
    )?;
    Ok((Some(conn.last_insert_rowid()), last.map(|(id, _)| id)))
}

/// Keeps the newest snapshots and check-log rows of one watch.
fn prune_watch(conn: &Connection, watch_id: i64, retention: Retention) -> rusqlite::Result<()> {
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

//! The `lg_` tables and every statement the job engine runs. Functions are
//! synchronous and take the connection; the engine calls them through
//! `Store::call`.

use ffmcp_core::store::rusqlite::{self, Connection, OptionalExtension, params};

use super::{Category, ItemResult, JobState, JobStatus, JobUsage};
use crate::lead::Lead;

/// The schema in the store: SQLite only so far.
pub static SCHEMA: ffmcp_core::store::Schema = ffmcp_core::store::Schema {
    namespace: "leadgen",
    sqlite: MIGRATIONS,
    postgres: None,
};

/// Migrations of the `leadgen` namespace.
pub const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE lg_jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    categories TEXT NOT NULL,
    instructions TEXT,
    model TEXT,
    total INTEGER NOT NULL,
    last_error TEXT,
    pauses INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE lg_items (
    job_id TEXT NOT NULL REFERENCES lg_jobs(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    lead TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    label TEXT,
    confidence REAL,
    rationale TEXT,
    route TEXT,
    error TEXT,
    completed_at TEXT,
    PRIMARY KEY (job_id, idx)
);
CREATE INDEX lg_items_pending ON lg_items (job_id, status);
",
    "
ALTER TABLE lg_items ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lg_items ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lg_items ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
ALTER TABLE lg_items ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lg_items ADD COLUMN fallbacks INTEGER NOT NULL DEFAULT 0;
",
];

/// The job's definition, as the runner needs it.
#[derive(Debug, Clone)]
pub struct JobDef {
    pub categories: Vec<Category>,
    pub instructions: Option<String>,
    pub model: Option<String>,
}

pub fn insert_job(
    conn: &mut Connection,
    id: &str,
    def: &JobDef,
    leads: &[Lead],
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let categories = serde_json::to_string(&def.categories).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO lg_jobs (id, state, categories, instructions, model, total) VALUES (?1, 'running', ?2, ?3, ?4, ?5)",
        params![id, categories, def.instructions, def.model, leads.len() as i64],
    )?;
    {
        let mut stmt =
            tx.prepare("INSERT INTO lg_items (job_id, idx, lead) VALUES (?1, ?2, ?3)")?;
        for (i, lead) in leads.iter().enumerate() {
            let json = serde_json::to_string(lead).unwrap_or_else(|_| "{}".into());
            stmt.execute(params![id, i as i64, json])?;
        }
    }
    tx.commit()
}

pub fn job_def(conn: &Connection, id: &str) -> rusqlite::Result<Option<JobDef>> {
    conn.query_row(
        "SELECT categories, instructions, model FROM lg_jobs WHERE id = ?1",
        params![id],
        |r| {
            let categories: String = r.get(0)?;
            Ok(JobDef {
                categories: serde_json::from_str(&categories).unwrap_or_default(),
                instructions: r.get(1)?,
                model: r.get(2)?,
            })
        },
    )
    .optional()
}

/// `(idx, lead)` of every item still to do.
pub fn pending(conn: &Connection, id: &str) -> rusqlite::Result<Vec<(u32, Lead)>> {
    let mut stmt = conn.prepare(
        "SELECT idx, lead FROM lg_items WHERE job_id = ?1 AND status = 'pending' ORDER BY idx",
    )?;
    let rows = stmt.query_map(params![id], |r| {
        let idx: i64 = r.get(0)?;
        let lead: String = r.get(1)?;
        Ok((
            u32::try_from(idx).unwrap_or(0),
            serde_json::from_str(&lead).unwrap_or_default(),
        ))
    })?;
    rows.collect()
}

/// Commits one item's outcome; false when it was already committed (the
/// guard that keeps a lead from being recorded twice).
pub fn complete_item(
    conn: &Connection,
    id: &str,
    idx: u32,
    outcome: &Result<ItemResult, String>,
    usage: &JobUsage,
) -> rusqlite::Result<bool> {
    let changed = match outcome {
        Ok(r) => conn.execute(
            "UPDATE lg_items SET status = 'done', label = ?3, confidence = ?4, rationale = ?5, route = ?6,
                 input_tokens = ?7, output_tokens = ?8, cost_usd = ?9, attempts = ?10, fallbacks = ?11,
                 completed_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE job_id = ?1 AND idx = ?2 AND status = 'pending'",
            params![
                id,
                idx,
                r.label,
                r.confidence,
                r.rationale,
                r.route,
                usage.input_tokens as i64,
                usage.output_tokens as i64,
                usage.cost_usd,
                usage.attempts as i64,
                usage.fallbacks as i64
            ],
        )?,
        Err(e) => conn.execute(
            "UPDATE lg_items SET status = 'failed', error = ?3,
                 completed_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE job_id = ?1 AND idx = ?2 AND status = 'pending'",
            params![id, idx, e],
        )?,
    };
    Ok(changed == 1)
}

/// Sets the state when the job is in one of `from` (all states when empty).
pub fn set_state(
    conn: &Connection,
    id: &str,
    state: JobState,
    from: &[JobState],
    error: Option<&str>,
) -> rusqlite::Result<bool> {
    let allowed = if from.is_empty() {
        "1".to_owned()
    } else {
        let names: Vec<String> = from.iter().map(|s| format!("'{}'", s.name())).collect();
        format!("state IN ({})", names.join(","))
    };
    let pause = i64::from(state == JobState::Waiting);
    let sql = format!(
        "UPDATE lg_jobs SET state = ?2,
             last_error = CASE WHEN ?2 = 'done' THEN NULL ELSE COALESCE(?3, last_error) END,
             pauses = pauses + ?4,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
         WHERE id = ?1 AND {allowed}"
    );
    Ok(conn.execute(&sql, params![id, state.name(), error, pause])? == 1)
}

pub fn status(conn: &Connection, id: &str) -> rusqlite::Result<Option<JobStatus>> {
    let Some(mut status) = conn
        .query_row(
            "SELECT id, state, total, last_error, pauses, created_at, updated_at, categories FROM lg_jobs WHERE id = ?1",
            params![id],
            |r| {
                let state: String = r.get(1)?;
                let categories: String = r.get(7)?;
                Ok(JobStatus {
                    id: r.get(0)?,
                    state: JobState::parse(&state),
                    total: r.get::<_, i64>(2)?.max(0) as u64,
                    done: 0,
                    failed: 0,
                    pending: 0,
                    last_error: r.get(3)?,
                    pauses: r.get::<_, i64>(4)?.max(0) as u64,
                    usage: JobUsage::default(),
                    created_at: r.get(5)?,
                    updated_at: r.get(6)?,
                    categories: serde_json::from_str::<Vec<Category>>(&categories)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|c| c.name)
                        .collect(),
                })
            },
        )
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt =
        conn.prepare("SELECT status, COUNT(*) FROM lg_items WHERE job_id = ?1 GROUP BY status")?;
    let counts = stmt.query_map(params![id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    for count in counts {
        let (s, n) = count?;
        let n = n.max(0) as u64;
        match s.as_str() {
            "done" => status.done = n,
            "failed" => status.failed = n,
            _ => status.pending = n,
        }
    }
    status.usage = conn.query_row(
        "SELECT COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
                COALESCE(SUM(cost_usd), 0.0), COALESCE(SUM(attempts), 0), COALESCE(SUM(fallbacks), 0)
         FROM lg_items WHERE job_id = ?1",
        params![id],
        |r| {
            Ok(JobUsage {
                input_tokens: r.get::<_, i64>(0)?.max(0) as u64,
                output_tokens: r.get::<_, i64>(1)?.max(0) as u64,
                cost_usd: r.get(2)?,
                attempts: r.get::<_, i64>(3)?.max(0) as u64,
                fallbacks: r.get::<_, i64>(4)?.max(0) as u64,
            })
        },
    )?;
    Ok(Some(status))
}

/// Ids of jobs a restarted process should pick up again.
pub fn unfinished(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM lg_jobs WHERE state IN ('running', 'waiting') ORDER BY created_at",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// Ids of jobs starting with `prefix`, newest first, at most `limit`
/// (`LIKE` wildcards in `prefix` are taken literally).
pub fn ids_with_prefix(
    conn: &Connection,
    prefix: &str,
    limit: u64,
) -> rusqlite::Result<Vec<String>> {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let mut stmt = conn.prepare(
        "SELECT id FROM lg_jobs WHERE id LIKE ?1 ESCAPE '\\' ORDER BY created_at DESC, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        params![
            format!("{escaped}%"),
            i64::try_from(limit).unwrap_or(i64::MAX)
        ],
        |r| r.get(0),
    )?;
    rows.collect()
}

/// One page of results, in lead order: `(idx, lead, status, result, error)`.
pub type Row = (u32, Lead, String, Option<ItemResult>, Option<String>);

pub fn results(conn: &Connection, id: &str, offset: u64, limit: u64) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare(
        "SELECT idx, lead, status, label, confidence, rationale, route, error FROM lg_items
         WHERE job_id = ?1 AND status != 'pending' ORDER BY idx LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt.query_map(
        params![
            id,
            i64::try_from(limit).unwrap_or(i64::MAX),
            i64::try_from(offset).unwrap_or(i64::MAX)
        ],
        |r| {
            let lead: String = r.get(1)?;
            let label: Option<String> = r.get(3)?;
            let result = match label {
                Some(label) => Some(ItemResult {
                    label,
                    confidence: r.get::<_, Option<f64>>(4)?.unwrap_or(0.0),
                    rationale: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                    route: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                }),
                None => None,
            };
            Ok((
                u32::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                serde_json::from_str(&lead).unwrap_or_default(),
                r.get(2)?,
                result,
                r.get(7)?,
            ))
        },
    )?;
    rows.collect()
}

/// Removes the job and every lead of it, overwriting the freed pages.
pub fn delete(conn: &mut Connection, id: &str) -> rusqlite::Result<bool> {
    let previous: i64 = conn.query_row("PRAGMA secure_delete", [], |r| r.get(0))?;
    let _: i64 = conn.query_row("PRAGMA secure_delete = ON", [], |r| r.get(0))?;
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM lg_items WHERE job_id = ?1", params![id])?;
    let removed = tx.execute("DELETE FROM lg_jobs WHERE id = ?1", params![id])? == 1;
    tx.commit()?;
    // Old page images live on in the WAL until a checkpoint truncates it.
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    let _: i64 = conn.query_row(&format!("PRAGMA secure_delete = {previous}"), [], |r| {
        r.get(0)
    })?;
    Ok(removed)
}

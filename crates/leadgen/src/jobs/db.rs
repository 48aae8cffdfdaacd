//! The `lg_` tables and every statement the job engine runs, on both store
//! backends (`core::store`'s `Db`; one migration list per backend).
//!
//! Items are *claimed* ([`claim`]): one statement marks the pending items
//! it takes with the claimer's lease (`lease_owner`, `lease_until`, unix
//! milliseconds), `FOR UPDATE SKIP LOCKED` on PostgreSQL and inside a write
//! transaction on SQLite, so any number of replicas running one job never
//! take the same item while its lease lives. A live claimer renews its
//! leases ([`renew`]); a killed one leaves leases that run out, and another
//! claimer takes the items then. Recording an item ([`complete_item`]) is
//! guarded (`status = 'pending'`), so a lead has one result whoever
//! finished it, and in the same transaction marks the job `done` when no
//! item is left: the job's state follows its items, whichever replica
//! recorded the last one.

use ffmcp_core::store::{Backend, Db, Row as DbRow, StoreError, Value, params};

use super::{Category, ItemResult, JobState, JobStatus, JobUsage};
use crate::lead::Lead;

/// The schema in the store, on both backends.
pub static SCHEMA: ffmcp_core::store::Schema = ffmcp_core::store::Schema {
    namespace: "leadgen",
    sqlite: MIGRATIONS,
    postgres: Some(PG_MIGRATIONS),
};

/// Migrations of the `leadgen` namespace on SQLite; append, never edit.
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
    // v3: items are claimed with a lease; who recorded each is kept.
    "
ALTER TABLE lg_items ADD COLUMN lease_owner TEXT;
ALTER TABLE lg_items ADD COLUMN lease_until INTEGER;
ALTER TABLE lg_items ADD COLUMN completed_by TEXT;
",
];

/// The same schema on PostgreSQL, version for version.
pub const PG_MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE lg_jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    categories TEXT NOT NULL,
    instructions TEXT,
    model TEXT,
    total BIGINT NOT NULL,
    last_error TEXT,
    pauses BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
        DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    updated_at TEXT NOT NULL
        DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
);
CREATE TABLE lg_items (
    job_id TEXT NOT NULL REFERENCES lg_jobs(id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    lead TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    label TEXT,
    confidence DOUBLE PRECISION,
    rationale TEXT,
    route TEXT,
    error TEXT,
    completed_at TEXT,
    PRIMARY KEY (job_id, idx)
);
CREATE INDEX lg_items_pending ON lg_items (job_id, status);
"#,
    "
ALTER TABLE lg_items ADD COLUMN input_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE lg_items ADD COLUMN output_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE lg_items ADD COLUMN cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE lg_items ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE lg_items ADD COLUMN fallbacks BIGINT NOT NULL DEFAULT 0;
",
    "
ALTER TABLE lg_items ADD COLUMN lease_owner TEXT;
ALTER TABLE lg_items ADD COLUMN lease_until BIGINT;
ALTER TABLE lg_items ADD COLUMN completed_by TEXT;
",
];

/// Rows per `INSERT` when storing a job's leads (parameters stay far below
/// either engine's limit).
const INSERT_CHUNK: usize = 200;

/// The job's definition, as the runner needs it.
#[derive(Debug, Clone)]
pub struct JobDef {
    pub categories: Vec<Category>,
    pub instructions: Option<String>,
    pub model: Option<String>,
}

/// The current time as the stored timestamps spell it (RFC 3339, UTC,
/// milliseconds), in the backend's SQL.
fn now_sql(db: &Db<'_>) -> &'static str {
    match db.backend() {
        Backend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ','now')",
        Backend::Postgres => {
            "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        }
    }
}

/// Locks the job's row for the transaction on PostgreSQL, so statements on
/// one job's items that read and then write (recording, deleting) run one
/// at a time across replicas; SQLite's write transaction already does.
fn lock_job(db: &mut Db<'_>, id: &str) -> Result<(), StoreError> {
    if db.backend() == Backend::Postgres {
        db.query(
            "SELECT id FROM lg_jobs WHERE id = ?1 FOR UPDATE",
            params![id],
        )?;
    }
    Ok(())
}

/// Stores a new job, `running`, with its leads as pending items.
pub fn insert_job(
    db: &mut Db<'_>,
    id: &str,
    def: &JobDef,
    leads: &[Lead],
) -> Result<(), StoreError> {
    let categories = serde_json::to_string(&def.categories).unwrap_or_else(|_| "[]".into());
    db.transaction(|db| {
        db.execute(
            "INSERT INTO lg_jobs (id, state, categories, instructions, model, total) \
             VALUES (?1, 'running', ?2, ?3, ?4, ?5)",
            params![
                id,
                categories.as_str(),
                def.instructions.clone(),
                def.model.clone(),
                leads.len()
            ],
        )?;
        for (chunk_no, chunk) in leads.chunks(INSERT_CHUNK).enumerate() {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("(?1, ?{}, ?{})", 2 + 2 * i, 3 + 2 * i))
                .collect();
            let sql = format!(
                "INSERT INTO lg_items (job_id, idx, lead) VALUES {}",
                rows.join(", ")
            );
            let mut values: Vec<Value> = Vec::with_capacity(1 + 2 * chunk.len());
            values.push(id.into());
            for (i, lead) in chunk.iter().enumerate() {
                values.push((chunk_no * INSERT_CHUNK + i).into());
                values.push(
                    serde_json::to_string(lead)
                        .unwrap_or_else(|_| "{}".into())
                        .into(),
                );
            }
            db.execute(&sql, &values)?;
        }
        Ok(())
    })
}

pub fn job_def(db: &mut Db<'_>, id: &str) -> Result<Option<JobDef>, StoreError> {
    db.query_opt(
        "SELECT categories, instructions, model FROM lg_jobs WHERE id = ?1",
        params![id],
    )?
    .map(|r| {
        let categories: String = r.get(0)?;
        Ok(JobDef {
            categories: serde_json::from_str(&categories).unwrap_or_default(),
            instructions: r.get(1)?,
            model: r.get(2)?,
        })
    })
    .transpose()
}

/// Claims up to `limit` pending items of job `id` that no live lease holds
/// (at `now`, unix ms), for `owner` until `lease_until`; nothing while the
/// job is not `running` or `waiting`. Returns `(idx, lead)` in lead order.
pub fn claim(
    db: &mut Db<'_>,
    id: &str,
    owner: &str,
    now: i64,
    lease_until: i64,
    limit: usize,
) -> Result<Vec<(u32, Lead)>, StoreError> {
    let mut claimed = db.transaction(|db| {
        // The choice is a materialized CTE: as a plain `IN (subquery)`,
        // PostgreSQL may re-run the subquery for every row it updates, each
        // run skipping the rows just locked, and so claim far beyond `limit`.
        let sql = format!(
            "WITH picked AS MATERIALIZED \
             (SELECT idx FROM lg_items WHERE job_id = ?1 AND status = 'pending' \
              AND (lease_until IS NULL OR lease_until <= ?4) \
              AND EXISTS (SELECT 1 FROM lg_jobs WHERE id = ?1 AND state IN ('running', 'waiting')) \
              ORDER BY idx LIMIT ?5{}) \
             UPDATE lg_items SET lease_owner = ?2, lease_until = ?3 \
             WHERE job_id = ?1 AND idx IN (SELECT idx FROM picked) \
             RETURNING idx, lead",
            db.skip_locked()
        );
        db.query(&sql, params![id, owner, lease_until, now, limit])?
            .iter()
            .map(|r| {
                let lead: String = r.get(1)?;
                Ok((
                    u32::try_from(r.get::<i64>(0)?).unwrap_or(0),
                    serde_json::from_str(&lead).unwrap_or_default(),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()
    })?;
    claimed.sort_by_key(|(idx, _)| *idx);
    Ok(claimed)
}

/// Where a job stands for a runner: its state and how many items are still
/// pending (leased or not); `None` once the job is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub state: JobState,
    pub total: u64,
    pub pending: u64,
}

impl Standing {
    /// Items with a result (done or failed).
    pub fn finished(&self) -> u64 {
        self.total.saturating_sub(self.pending)
    }
}

/// The job's [`Standing`].
pub fn standing(db: &mut Db<'_>, id: &str) -> Result<Option<Standing>, StoreError> {
    db.query_opt(
        "SELECT state, total, \
         (SELECT COUNT(*) FROM lg_items WHERE job_id = ?1 AND status = 'pending') \
         FROM lg_jobs WHERE id = ?1",
        params![id],
    )?
    .map(|r| {
        let state: String = r.get(0)?;
        Ok(Standing {
            state: JobState::parse(&state),
            total: count(r.get(1)?),
            pending: count(r.get(2)?),
        })
    })
    .transpose()
}

/// Extends `owner`'s leases on job `id`'s pending items to `lease_until`,
/// then reports the job's [`Standing`].
pub fn renew(
    db: &mut Db<'_>,
    id: &str,
    owner: &str,
    lease_until: i64,
) -> Result<Option<Standing>, StoreError> {
    db.execute(
        "UPDATE lg_items SET lease_until = ?3 \
         WHERE job_id = ?1 AND status = 'pending' AND lease_owner = ?2",
        params![id, owner, lease_until],
    )?;
    standing(db, id)
}

/// Gives up `owner`'s leases on job `id`: other claimers may take the
/// items at once.
pub fn release(db: &mut Db<'_>, id: &str, owner: &str) -> Result<u64, StoreError> {
    db.execute(
        "UPDATE lg_items SET lease_owner = NULL, lease_until = NULL \
         WHERE job_id = ?1 AND status = 'pending' AND lease_owner = ?2",
        params![id, owner],
    )
}

/// Records one item's outcome for `owner`; `None` when it was already
/// recorded (the guard that keeps a lead from being recorded twice), else
/// how many of the job's items have a result now. When none is left
/// pending, the job turns `done` in the same transaction.
pub fn complete_item(
    db: &mut Db<'_>,
    id: &str,
    idx: u32,
    owner: &str,
    outcome: &Result<ItemResult, String>,
    usage: &JobUsage,
) -> Result<Option<u64>, StoreError> {
    db.transaction(|db| {
        lock_job(db, id)?;
        let now = now_sql(db);
        let changed = match outcome {
            Ok(r) => db.execute(
                &format!(
                    "UPDATE lg_items SET status = 'done', label = ?4, confidence = ?5, \
                     rationale = ?6, route = ?7, input_tokens = ?8, output_tokens = ?9, \
                     cost_usd = ?10, attempts = ?11, fallbacks = ?12, completed_by = ?3, \
                     lease_owner = NULL, lease_until = NULL, completed_at = {now} \
                     WHERE job_id = ?1 AND idx = ?2 AND status = 'pending'"
                ),
                params![
                    id,
                    idx,
                    owner,
                    r.label.as_str(),
                    r.confidence,
                    r.rationale.as_str(),
                    r.route.as_str(),
                    saturating_i64(usage.input_tokens),
                    saturating_i64(usage.output_tokens),
                    usage.cost_usd,
                    saturating_i64(usage.attempts),
                    saturating_i64(usage.fallbacks)
                ],
            )?,
            Err(e) => db.execute(
                &format!(
                    "UPDATE lg_items SET status = 'failed', error = ?4, completed_by = ?3, \
                     lease_owner = NULL, lease_until = NULL, completed_at = {now} \
                     WHERE job_id = ?1 AND idx = ?2 AND status = 'pending'"
                ),
                params![id, idx, owner, e.as_str()],
            )?,
        };
        if changed != 1 {
            return Ok(None);
        }
        let Some(standing) = standing(db, id)? else {
            return Ok(None);
        };
        if standing.pending == 0 {
            set_state(
                db,
                id,
                JobState::Done,
                &[JobState::Running, JobState::Waiting],
                None,
            )?;
        }
        Ok(Some(standing.finished()))
    })
}

/// Sets the state when the job is in one of `from` (all states when empty).
pub fn set_state(
    db: &mut Db<'_>,
    id: &str,
    state: JobState,
    from: &[JobState],
    error: Option<&str>,
) -> Result<bool, StoreError> {
    let allowed = if from.is_empty() {
        "1 = 1".to_owned()
    } else {
        let names: Vec<String> = from.iter().map(|s| format!("'{}'", s.name())).collect();
        format!("state IN ({})", names.join(","))
    };
    let pause = i64::from(state == JobState::Waiting);
    let sql = format!(
        "UPDATE lg_jobs SET state = ?2, \
             last_error = CASE WHEN ?2 = 'done' THEN NULL ELSE COALESCE(?3, last_error) END, \
             pauses = pauses + ?4, \
             updated_at = {} \
         WHERE id = ?1 AND {allowed}",
        now_sql(db)
    );
    Ok(db.execute(&sql, params![id, state.name(), error, pause])? == 1)
}

pub fn status(db: &mut Db<'_>, id: &str) -> Result<Option<JobStatus>, StoreError> {
    let Some(row) = db.query_opt(
        "SELECT id, state, total, last_error, pauses, created_at, updated_at, categories \
         FROM lg_jobs WHERE id = ?1",
        params![id],
    )?
    else {
        return Ok(None);
    };
    let state: String = row.get(1)?;
    let categories: String = row.get(7)?;
    let mut status = JobStatus {
        id: row.get(0)?,
        state: JobState::parse(&state),
        total: count(row.get(2)?),
        done: 0,
        failed: 0,
        pending: 0,
        last_error: row.get(3)?,
        pauses: count(row.get(4)?),
        usage: JobUsage::default(),
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        categories: serde_json::from_str::<Vec<Category>>(&categories)
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.name)
            .collect(),
    };
    for r in db.query(
        "SELECT status, COUNT(*) FROM lg_items WHERE job_id = ?1 GROUP BY status",
        params![id],
    )? {
        let n = count(r.get(1)?);
        match r.get::<String>(0)?.as_str() {
            "done" => status.done = n,
            "failed" => status.failed = n,
            _ => status.pending = n,
        }
    }
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back.
    let usage = db.query_one(
        "SELECT CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT), \
                CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT), \
                COALESCE(SUM(cost_usd), 0.0), \
                CAST(COALESCE(SUM(attempts), 0) AS BIGINT), \
                CAST(COALESCE(SUM(fallbacks), 0) AS BIGINT) \
         FROM lg_items WHERE job_id = ?1",
        params![id],
    )?;
    status.usage = JobUsage {
        input_tokens: count(usage.get(0)?),
        output_tokens: count(usage.get(1)?),
        cost_usd: usage.get(2)?,
        attempts: count(usage.get(3)?),
        fallbacks: count(usage.get(4)?),
    };
    Ok(Some(status))
}

/// Ids of jobs a process should run (again): `running` or `waiting`.
pub fn unfinished(db: &mut Db<'_>) -> Result<Vec<String>, StoreError> {
    db.query(
        "SELECT id FROM lg_jobs WHERE state IN ('running', 'waiting') ORDER BY created_at, id",
        params![],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Ids of jobs starting with `prefix`, newest first, at most `limit`
/// (`LIKE` wildcards in `prefix` are taken literally).
pub fn ids_with_prefix(
    db: &mut Db<'_>,
    prefix: &str,
    limit: u64,
) -> Result<Vec<String>, StoreError> {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    db.query(
        "SELECT id FROM lg_jobs WHERE id LIKE ?1 ESCAPE '\\' \
         ORDER BY created_at DESC, id LIMIT ?2",
        params![format!("{escaped}%"), saturating_i64(limit)],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// One page of results, in lead order: `(idx, lead, status, result, error)`.
pub type Row = (u32, Lead, String, Option<ItemResult>, Option<String>);

pub fn results(db: &mut Db<'_>, id: &str, offset: u64, limit: u64) -> Result<Vec<Row>, StoreError> {
    db.query(
        "SELECT idx, lead, status, label, confidence, rationale, route, error FROM lg_items \
         WHERE job_id = ?1 AND status != 'pending' ORDER BY idx LIMIT ?2 OFFSET ?3",
        params![id, saturating_i64(limit), saturating_i64(offset)],
    )?
    .iter()
    .map(result_row)
    .collect()
}

fn result_row(r: &DbRow) -> Result<Row, StoreError> {
    let lead: String = r.get(1)?;
    let result = match r.get::<Option<String>>(3)? {
        Some(label) => Some(ItemResult {
            label,
            confidence: r.get::<Option<f64>>(4)?.unwrap_or(0.0),
            rationale: r.get::<Option<String>>(5)?.unwrap_or_default(),
            route: r.get::<Option<String>>(6)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok((
        u32::try_from(r.get::<i64>(0)?).unwrap_or(0),
        serde_json::from_str(&lead).unwrap_or_default(),
        r.get(2)?,
        result,
        r.get(7)?,
    ))
}

/// Removes the job and every lead of it. On SQLite the freed pages are
/// overwritten (`secure_delete`) and the WAL truncated; on PostgreSQL the
/// rows go as deleted rows do there (their space is reused after VACUUM).
pub fn delete(db: &mut Db<'_>, id: &str) -> Result<bool, StoreError> {
    match db.backend() {
        Backend::Sqlite => {
            let previous: i64 = db.query_one("PRAGMA secure_delete", params![])?.get(0)?;
            db.query("PRAGMA secure_delete = ON", params![])?;
            let removed = delete_rows(db, id);
            // Old page images live on in the WAL until a checkpoint truncates it.
            let _ = db.query("PRAGMA wal_checkpoint(TRUNCATE)", params![]);
            db.query(
                &format!("PRAGMA secure_delete = {}", i64::from(previous != 0)),
                params![],
            )?;
            removed
        }
        Backend::Postgres => delete_rows(db, id),
    }
}

fn delete_rows(db: &mut Db<'_>, id: &str) -> Result<bool, StoreError> {
    db.transaction(|db| {
        lock_job(db, id)?;
        db.execute("DELETE FROM lg_items WHERE job_id = ?1", params![id])?;
        Ok(db.execute("DELETE FROM lg_jobs WHERE id = ?1", params![id])? == 1)
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

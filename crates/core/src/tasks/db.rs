//! The task table: every state change of a task is one statement, and
//! ownership is a lease (`owner`, `heartbeat_ms`) taken and kept with
//! conditional updates, so two processes on one database never both run a
//! task and a process that died leaves a task any other can take over.
//! The statements run on both store backends.

use crate::store::{Backend, Db, StoreError, params};

/// The schema in the store, on both backends.
pub static SCHEMA: crate::store::Schema = crate::store::Schema {
    namespace: "core_tasks",
    sqlite: MIGRATIONS,
    postgres: Some(PG_MIGRATIONS),
};

/// The same schema on PostgreSQL, version for version.
const PG_MIGRATIONS: &[&str] = &["CREATE TABLE core_tasks (
        id TEXT PRIMARY KEY,
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        request TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT,
        result TEXT,
        error TEXT,
        owner TEXT,
        heartbeat_ms BIGINT NOT NULL,
        cancel_requested BIGINT NOT NULL DEFAULT 0,
        attempts BIGINT NOT NULL DEFAULT 1,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        ttl_ms BIGINT NOT NULL
    );
    CREATE INDEX core_tasks_expiry ON core_tasks (created_ms);"];

/// The schema, in the store's `core_tasks` namespace.
pub(super) const MIGRATIONS: &[&str] = &["CREATE TABLE core_tasks (
        id TEXT PRIMARY KEY,
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        request TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT,
        result TEXT,
        error TEXT,
        owner TEXT,
        heartbeat_ms INTEGER NOT NULL,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 1,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        ttl_ms INTEGER NOT NULL
    );
    CREATE INDEX core_tasks_expiry ON core_tasks (created_ms);"];

/// One row, as `tasks/get` needs it.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub id: String,
    pub request: String,
    pub status: String,
    pub message: Option<String>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub heartbeat_ms: i64,
    pub cancel_requested: bool,
    pub attempts: i64,
    pub created: String,
    pub updated: String,
    pub ttl_ms: i64,
}

pub(super) struct NewTask<'a> {
    pub id: &'a str,
    pub server: &'a str,
    pub tool: &'a str,
    pub request: &'a str,
    pub owner: &'a str,
    pub now_ms: i64,
    pub ttl_ms: i64,
}

/// ISO 8601 from Unix milliseconds, in SQL so no date crate is needed.
fn iso(db: &Db<'_>, column: &str) -> String {
    match db.backend() {
        Backend::Sqlite => {
            format!("strftime('%Y-%m-%dT%H:%M:%fZ', {column} / 1000.0, 'unixepoch')")
        }
        Backend::Postgres => format!(
            "to_char(to_timestamp({column} / 1000.0) AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        ),
    }
}

pub(super) fn insert(conn: &mut Db<'_>, task: &NewTask<'_>) -> Result<(), StoreError> {
    // Expired tasks go first: the table holds at most a TTL's worth.
    conn.execute(
        "DELETE FROM core_tasks WHERE created_ms + ttl_ms < ?1",
        params![task.now_ms],
    )?;
    conn.execute(
        "INSERT INTO core_tasks (id, server, tool, request, status, owner, heartbeat_ms,
                                 created_ms, updated_ms, ttl_ms)
         VALUES (?1, ?2, ?3, ?4, 'working', ?5, ?6, ?6, ?6, ?7)",
        params![
            task.id,
            task.server,
            task.tool,
            task.request,
            task.owner,
            task.now_ms,
            task.ttl_ms
        ],
    )?;
    Ok(())
}

/// The task `id` of `server`, unless it has expired.
pub(super) fn get(
    conn: &mut Db<'_>,
    server: &str,
    id: &str,
    now_ms: i64,
) -> Result<Option<Row>, StoreError> {
    let sql = format!(
        "SELECT id, request, status, message, result, error, heartbeat_ms,
                cancel_requested, attempts, {}, {}, ttl_ms
         FROM core_tasks WHERE id = ?1 AND server = ?2 AND created_ms + ttl_ms >= ?3",
        iso(conn, "created_ms"),
        iso(conn, "updated_ms")
    );
    let Some(r) = conn.query_opt(&sql, params![id, server, now_ms])? else {
        return Ok(None);
    };
    Ok(Some(Row {
        id: r.get(0)?,
        request: r.get(1)?,
        status: r.get(2)?,
        message: r.get(3)?,
        result: r.get(4)?,
        error: r.get(5)?,
        heartbeat_ms: r.get(6)?,
        cancel_requested: r.get::<i64>(7)? != 0,
        attempts: r.get(8)?,
        created: r.get(9)?,
        updated: r.get(10)?,
        ttl_ms: r.get(11)?,
    }))
}

/// The owner's heartbeat: `Some(cancel_requested)` while `owner` still
/// holds the task, `None` when it lost it (another process took it over,
/// or it ended).
pub(super) fn heartbeat(
    conn: &mut Db<'_>,
    id: &str,
    owner: &str,
    now_ms: i64,
) -> Result<Option<bool>, StoreError> {
    conn.query_opt(
        "UPDATE core_tasks SET heartbeat_ms = ?3
         WHERE id = ?1 AND owner = ?2 AND status = 'working'
         RETURNING cancel_requested",
        params![id, owner, now_ms],
    )?
    .map(|r| Ok(r.get::<i64>(0)? != 0))
    .transpose()
}

/// A progress line for the task's status message.
pub(super) fn set_message(
    conn: &mut Db<'_>,
    id: &str,
    owner: &str,
    message: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE core_tasks SET message = ?3, updated_ms = ?4
         WHERE id = ?1 AND owner = ?2 AND status = 'working'",
        params![id, owner, message, now_ms],
    )?;
    Ok(())
}

/// The end of a task, written only by its owner; `false` when it no longer
/// owned it.
pub(super) fn finish(
    conn: &mut Db<'_>,
    id: &str,
    owner: &str,
    status: &str,
    result: Option<&str>,
    error: Option<&str>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE core_tasks SET status = ?3, result = ?4, error = ?5, updated_ms = ?6, message = NULL
         WHERE id = ?1 AND owner = ?2 AND status = 'working'",
        params![id, owner, status, result, error, now_ms],
    )?;
    Ok(changed == 1)
}

/// Takes over a working task whose owner stopped beating before `stale_ms`;
/// `true` when this call took it (exactly one caller can).
pub(super) fn take_over(
    conn: &mut Db<'_>,
    id: &str,
    owner: &str,
    stale_ms: i64,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE core_tasks SET owner = ?2, heartbeat_ms = ?4, updated_ms = ?4,
                attempts = attempts + 1
         WHERE id = ?1 AND status = 'working' AND heartbeat_ms < ?3",
        params![id, owner, stale_ms, now_ms],
    )?;
    Ok(changed == 1)
}

/// Asks for cancellation; the owner sees it at its next heartbeat.
pub(super) fn request_cancel(conn: &mut Db<'_>, id: &str, now_ms: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE core_tasks SET cancel_requested = 1, updated_ms = ?2
         WHERE id = ?1 AND status = 'working'",
        params![id, now_ms],
    )?;
    Ok(())
}

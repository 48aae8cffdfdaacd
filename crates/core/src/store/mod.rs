//! `core::store`: the database servers keep durable state in, on one of two
//! backends chosen by `FF_DB`.
//!
//! * **SQLite** (the default: a path, `$XDG_DATA_HOME/ffmcp/ffmcp.db` unless
//!   `FF_DB` names another): one file shared by every server of the
//!   process. WAL journal, `synchronous=NORMAL` (a killed process loses
//!   nothing that was committed; only a power cut can lose the last
//!   transactions), foreign keys on, a busy timeout for a second process on
//!   the same file. Bundled: no system library needed. The file is created
//!   0600 in a directory created 0700 (it holds leads and watched pages); a
//!   file found readable by others is narrowed to 0600.
//! * **PostgreSQL** (`FF_DB=postgres://user@host/db`): a pool of
//!   connections (`FF_DB_POOL_SIZE`, `FF_DB_POOL_WAIT_MS`,
//!   `FF_DB_CONNECT_TIMEOUT_MS`; the password in the URL or
//!   `FF_DB_PASSWORD`), for several replicas sharing one database
//!   (`postgres.rs`).
//!
//! Every server owns tables under its own prefix and a [`Schema`]: one
//! migration list per backend, applied in order, each once, each in its own
//! transaction (on PostgreSQL under an advisory lock, so replicas starting
//! together migrate once). `ffmcp db migrate` and `ffmcp db status` apply and
//! list them.
//!
//! Access goes through [`Store::run`], which runs a closure with a [`Db`] on
//! the blocking pool: the SQLite connection locked (one writer at a time by
//! construction), or one pooled PostgreSQL connection. Statements are
//! written once, with `?1` placeholders and SQL both engines speak (64-bit
//! integers, text, `RETURNING`, `ON CONFLICT`, explicit `CAST`s where
//! PostgreSQL cannot infer a parameter's type); [`Db::backend`] picks a
//! backend's own statement where they differ (`FOR UPDATE SKIP LOCKED`).
//! [`Store::call`] hands out the raw SQLite connection to code not yet
//! written against [`Db`]; it refuses on PostgreSQL.

pub mod bus;
mod postgres;
mod tls;
mod value;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

pub use rusqlite;
use rusqlite::Connection;

pub use value::{FromValue, Row, Value, params};

use crate::config::Config;

/// Environment variable: the database file or PostgreSQL URL.
pub const DB_ENV: &str = "FF_DB";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("opening the database {path}: {reason}")]
    Open {
        /// The database file or URL (password masked).
        path: String,
        /// The engine's or the file system's error.
        reason: String,
    },
    /// A schema migration failed; the database is left at the version before.
    #[error("database migration {namespace} v{version} failed: {reason}")]
    Migration {
        /// Whose schema (one namespace per server).
        namespace: String,
        /// The migration that failed.
        version: usize,
        /// The engine's error.
        reason: String,
    },
    /// A statement failed (SQLite).
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A statement failed (PostgreSQL).
    #[error("database error: {0}")]
    Postgres(String),
    /// No PostgreSQL connection could be had.
    #[error("database unavailable: {0}")]
    Pool(String),
    /// A value read back was not of the type asked for.
    #[error("database value: {0}")]
    Value(String),
    /// The backend cannot do what was asked.
    #[error("{0}")]
    Unsupported(String),
    /// The blocking task running the statement panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Postgres(match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => e.to_string(),
        })
    }
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The embedded file database.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A namespace's migrations, one list per backend (the same versions: entry
/// `i` of each is version `i + 1`). Never edit a released entry; append.
#[derive(Debug)]
pub struct Schema {
    /// The owner (a server's name, or `core_tasks`).
    pub namespace: &'static str,
    /// SQLite's statements.
    pub sqlite: &'static [&'static str],
    /// PostgreSQL's statements; `None` while the owner keeps its tables on
    /// SQLite only.
    pub postgres: Option<&'static [&'static str]>,
}

impl Schema {
    fn for_backend(&self, backend: Backend) -> Option<&'static [&'static str]> {
        match backend {
            Backend::Sqlite => Some(self.sqlite),
            Backend::Postgres => self.postgres,
        }
    }
}

/// One namespace's state, for `ffmcp db status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SchemaStatus {
    /// The namespace.
    pub namespace: &'static str,
    /// The newest migration applied.
    pub applied: usize,
    /// The newest migration this build knows; `None` when the namespace has
    /// no schema for this backend.
    pub latest: Option<usize>,
}

/// Where `FF_DB` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Location {
    /// From the configuration: a `postgres://` or `postgresql://` URL, else
    /// a path ([`default_path`]).
    pub fn from_config(config: &Config) -> Self {
        match config.get(DB_ENV).map(str::trim) {
            Some(url) if is_postgres_url(url) => Self::Postgres(url.to_owned()),
            _ => Self::Sqlite(default_path(config)),
        }
    }

    /// Whether the store may already hold data (a SQLite file that exists;
    /// a PostgreSQL server always may).
    pub fn may_hold_data(&self) -> bool {
        match self {
            Self::Sqlite(path) => path.exists(),
            Self::Postgres(_) => true,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => f.write_str(&mask_password(url)),
        }
    }
}

fn is_postgres_url(text: &str) -> bool {
    let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// Milliseconds since the Unix epoch, as the store's timestamps keep them.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `scheme://user:secret@host/…` → `scheme://user:***@host/…`; other text
/// as it is.
pub fn mask_password(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => text.to_owned(),
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

enum Inner {
    Sqlite {
        path: PathBuf,
        conn: Mutex<Connection>,
    },
    Postgres(postgres::Pg),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.describe())
            .finish()
    }
}

/// The default database path: `FF_DB`, else `$XDG_DATA_HOME/ffmcp/ffmcp.db`,
/// else `~/.local/share/ffmcp/ffmcp.db` (`%APPDATA%\ffmcp\ffmcp.db` on
/// Windows, `~/Library/Application Support/ffmcp/ffmcp.db` on macOS).
pub fn default_path(config: &Config) -> PathBuf {
    if let Some(path) = config.get(DB_ENV).filter(|p| !is_postgres_url(p.trim())) {
        return PathBuf::from(path);
    }
    let home = config.get("HOME").map(PathBuf::from);
    let base = if cfg!(target_os = "windows") {
        config.get("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        home.map(|h| h.join("Library/Application Support"))
    } else {
        config
            .get("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".local/share")))
    };
    base.unwrap_or_else(std::env::temp_dir)
        .join("ffmcp")
        .join("ffmcp.db")
}

/// Pool settings from the configuration; a bad value is an error naming it.
fn pool_options(config: &Config) -> Result<postgres::PoolOptions, StoreError> {
    let number = |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| match config
        .get(name)
        .map(str::trim)
    {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| StoreError::Open {
                path: Location::from_config(config).to_string(),
                reason: format!(
                    "{name}='{text}' is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            }),
    };
    Ok(postgres::PoolOptions {
        size: usize::try_from(number("FF_DB_POOL_SIZE", 8, 1..=1000)?).unwrap_or(8),
        wait: Duration::from_millis(number("FF_DB_POOL_WAIT_MS", 10_000, 1..=600_000)?),
        connect: Duration::from_millis(number("FF_DB_CONNECT_TIMEOUT_MS", 5_000, 1..=600_000)?),
        password: config.get("FF_DB_PASSWORD").map(str::to_owned),
        ca_file: config
            .get("FF_DB_CA_FILE")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
    })
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let fail = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| fail(e.to_string()))?;
        }
        create_private_file(&path).map_err(|e| fail(e.to_string()))?;
        let conn = Connection::open(&path).map_err(|e| fail(e.to_string()))?;
        Self::configure(&conn).map_err(|e| fail(e.to_string()))?;
        Ok(Self::sqlite(path, conn))
    }

    /// A PostgreSQL store at `url` with pool settings from `config`
    /// (`FF_DB_POOL_SIZE`, …). Connects lazily: an unreachable server shows
    /// at the first statement ([`Store::ping`] asks at once).
    pub fn connect(url: &str, config: &Config) -> Result<Self, StoreError> {
        let pg = postgres::Pg::new(url, &pool_options(config)?)?;
        Ok(Self {
            inner: Arc::new(Inner::Postgres(pg)),
        })
    }

    /// Opens what `FF_DB` names: a PostgreSQL URL, or a SQLite path
    /// ([`default_path`]).
    pub fn open_default(config: &Config) -> Result<Self, StoreError> {
        match Location::from_config(config) {
            Location::Postgres(url) => Self::connect(&url, config),
            Location::Sqlite(path) => Self::open(path),
        }
    }

    /// A private in-memory SQLite database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        Self::configure(&conn)?;
        Ok(Self::sqlite(PathBuf::from(":memory:"), conn))
    }

    fn sqlite(path: PathBuf, conn: Connection) -> Self {
        Self {
            inner: Arc::new(Inner::Sqlite {
                path,
                conn: Mutex::new(conn),
            }),
        }
    }

    fn configure(conn: &Connection) -> rusqlite::Result<()> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // `journal_mode` answers with a row; in-memory databases stay "memory".
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             CREATE TABLE IF NOT EXISTS ffmcp_migrations (
                 namespace TEXT NOT NULL,
                 version INTEGER NOT NULL,
                 applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
                 PRIMARY KEY (namespace, version)
             );",
        )
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Inner::Sqlite { .. } => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite file (`:memory:` for tests); the masked URL's text as a
    /// path on PostgreSQL.
    pub fn path(&self) -> &Path {
        match &*self.inner {
            Inner::Sqlite { path, .. } => path,
            Inner::Postgres(pg) => Path::new(pg.target()),
        }
    }

    /// Where the store is: the file, or the URL with its password masked.
    pub fn describe(&self) -> String {
        match &*self.inner {
            Inner::Sqlite { path, .. } => path.display().to_string(),
            Inner::Postgres(pg) => pg.target().to_owned(),
        }
    }

    /// PostgreSQL pool occupancy: (open, idle, maximum); `None` on SQLite.
    pub fn pool_status(&self) -> Option<(usize, usize, usize)> {
        match &*self.inner {
            Inner::Sqlite { .. } => None,
            Inner::Postgres(pg) => Some(pg.status()),
        }
    }

    /// One round trip (`SELECT 1`): whether the store answers now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|db| db.query_one("SELECT 1", params![]).map(drop))
            .await?
    }

    /// Applies `schema`'s migrations for this backend in order, each once,
    /// each in its own transaction. Returns how many ran. A schema without
    /// migrations for this backend is an error naming it.
    pub async fn migrate(&self, schema: &'static Schema) -> Result<usize, StoreError> {
        let backend = self.backend();
        let Some(migrations) = schema.for_backend(backend) else {
            return Err(StoreError::Unsupported(format!(
                "{} keeps its tables on SQLite only so far; FF_DB names a PostgreSQL \
                 database ({})",
                schema.namespace,
                self.describe()
            )));
        };
        self.run(move |db| migrate(db, schema.namespace, migrations))
            .await?
    }

    /// How far each of `schemas` is migrated here.
    pub async fn status(
        &self,
        schemas: Vec<&'static Schema>,
    ) -> Result<Vec<SchemaStatus>, StoreError> {
        let backend = self.backend();
        self.run(move |db| {
            if backend == Backend::Postgres {
                create_migrations_table(db)?;
            }
            schemas
                .iter()
                .map(|schema| {
                    Ok(SchemaStatus {
                        namespace: schema.namespace,
                        applied: applied_version(db, schema.namespace)?,
                        latest: schema.for_backend(backend).map(<[_]>::len),
                    })
                })
                .collect()
        })
        .await?
    }

    /// Runs `work` with a [`Db`] on the blocking pool: the SQLite connection
    /// (locked), or one PostgreSQL connection from the pool for the
    /// closure's length.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db<'_>) -> T + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || match &*inner {
            Inner::Sqlite { conn, .. } => {
                let mut guard = lock(conn);
                Ok(work(&mut Db {
                    conn: Conn::Sqlite(&mut guard),
                }))
            }
            Inner::Postgres(pg) => {
                let rt = tokio::runtime::Handle::current();
                let mut session = pg.session(&rt)?;
                Ok(work(&mut Db {
                    conn: Conn::Postgres(&mut session),
                }))
            }
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `work` with the raw SQLite connection on the blocking pool, for
    /// code not yet written against [`Db`]; refused on PostgreSQL.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> T + Send + 'static,
    {
        self.sqlite_only()?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || match &*inner {
            Inner::Sqlite { conn, .. } => Ok(work(&mut lock(conn))),
            Inner::Postgres(_) => Err(StoreError::Unsupported("SQLite only".to_owned())),
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `work` with the raw SQLite connection on the current thread (for
    /// code already on a blocking thread); refused on PostgreSQL.
    pub fn call_blocking<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> T,
    ) -> Result<T, StoreError> {
        match &*self.inner {
            Inner::Sqlite { conn, .. } => Ok(work(&mut lock(conn))),
            Inner::Postgres(_) => Err(self.sqlite_only().expect_err("postgres")),
        }
    }

    fn sqlite_only(&self) -> Result<(), StoreError> {
        match &*self.inner {
            Inner::Sqlite { .. } => Ok(()),
            Inner::Postgres(pg) => Err(StoreError::Unsupported(format!(
                "this part of ffmcp keeps its state on SQLite only so far; FF_DB names a \
                 PostgreSQL database ({})",
                pg.target()
            ))),
        }
    }
}

/// Locks the SQLite connection; a transaction left open by a closure that
/// panicked is rolled back first.
fn lock(conn: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    let guard = conn.lock().unwrap_or_else(|p| p.into_inner());
    if !guard.is_autocommit() {
        let _ = guard.execute_batch("ROLLBACK");
    }
    guard
}

/// A connection for the length of one [`Store::run`] closure, with the
/// statements both backends share.
pub struct Db<'a> {
    conn: Conn<'a>,
}

enum Conn<'a> {
    Sqlite(&'a mut Connection),
    Postgres(&'a mut postgres::Session),
}

impl std::fmt::Debug for Db<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend())
            .finish()
    }
}

impl Db<'_> {
    /// Which engine this connection talks to.
    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// What ends the subquery choosing rows to claim: ` FOR UPDATE SKIP
    /// LOCKED` on PostgreSQL (concurrent claimers pass over each other's
    /// rows), nothing on SQLite (the write transaction already excludes
    /// every other writer). Use inside [`Db::transaction`].
    pub fn skip_locked(&self) -> &'static str {
        match self.conn {
            Conn::Sqlite(_) => "",
            Conn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                let n = stmt.execute(rusqlite::params_from_iter(params.iter()))?;
                Ok(u64::try_from(n).unwrap_or(u64::MAX))
            }
            Conn::Postgres(session) => session.execute(sql, params),
        }
    }

    /// Runs one query; returns every row.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                let columns = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let mut values = Vec::with_capacity(columns);
                    for i in 0..columns {
                        values.push(sqlite_value(row.get_ref(i)?));
                    }
                    out.push(Row::new(values));
                }
                Ok(out)
            }
            Conn::Postgres(session) => session.query(sql, params),
        }
    }

    /// The first row, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row; none is an error.
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Value("the query returned no row".to_owned()))
    }

    /// Several statements without parameters (schema changes).
    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        match &mut self.conn {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Conn::Postgres(session) => session.batch(sql),
        }
    }

    /// Runs `work` in a write transaction: committed when it returns `Ok`,
    /// rolled back when it returns `Err` (or panics). On SQLite the
    /// transaction takes the write lock at once (`BEGIN IMMEDIATE`), so a
    /// read-then-update inside it is one step for every process on the
    /// file; on PostgreSQL use row locks (`FOR UPDATE`) for that.
    pub fn transaction<T, E>(
        &mut self,
        work: impl FnOnce(&mut Db<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        match &mut self.conn {
            Conn::Sqlite(conn) => conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(|e| E::from(e.into()))?,
            Conn::Postgres(session) => session.begin()?,
        }
        let result = work(self);
        let end = match (&mut self.conn, result.is_ok()) {
            (Conn::Sqlite(conn), ok) => conn
                .execute_batch(if ok { "COMMIT" } else { "ROLLBACK" })
                .map_err(StoreError::from),
            (Conn::Postgres(session), ok) => session.end(ok),
        };
        match (result, end) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(e.into()),
            (Err(e), _) => Err(e),
        }
    }
}

fn sqlite_value(value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::Int(v),
        ValueRef::Real(v) => Value::Real(v),
        ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
        ValueRef::Blob(v) => Value::Blob(v.to_vec()),
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Real(v) => ValueRef::Real(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

/// Creates `dir` and any missing parents with mode 0700 (the database holds
/// personal data: leads, watched pages). Existing directories are left as
/// they are: `FF_DB=/tmp/x.db` must not chmod `/tmp`.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the database file 0600 before SQLite opens it (SQLite would
/// create it 0644 under the usual umask; its `-wal` and `-shm` files copy
/// the database file's mode). An existing file readable by others is
/// narrowed to 0600 as well.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Serialises migrations of every replica on one PostgreSQL database
/// (`pg_advisory_xact_lock`; an arbitrary constant of ours).
const MIGRATION_LOCK: i64 = 0x6666_6d63_7000;

fn create_migrations_table(db: &mut Db<'_>) -> Result<(), StoreError> {
    if db.backend() == Backend::Postgres {
        // Under the lock: two replicas creating the table at once collide.
        db.transaction(|db| {
            db.execute("SELECT pg_advisory_xact_lock(?1)", params![MIGRATION_LOCK])?;
            db.batch(
                "CREATE TABLE IF NOT EXISTS ffmcp_migrations (
                     namespace TEXT NOT NULL,
                     version BIGINT NOT NULL,
                     applied_at TEXT NOT NULL DEFAULT
                         to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
                     PRIMARY KEY (namespace, version)
                 )",
            )
        })?;
    }
    Ok(())
}

fn applied_version(db: &mut Db<'_>, namespace: &str) -> Result<usize, StoreError> {
    let row = db.query_one(
        "SELECT MAX(version) FROM ffmcp_migrations WHERE namespace = ?1",
        params![namespace],
    )?;
    Ok(row
        .get::<Option<i64>>(0)?
        .map_or(0, |v| usize::try_from(v).unwrap_or(0)))
}

fn migrate(db: &mut Db<'_>, namespace: &str, migrations: &[&str]) -> Result<usize, StoreError> {
    create_migrations_table(db)?;
    let mut ran = 0;
    for (index, sql) in migrations.iter().enumerate() {
        let version = index + 1;
        let fail = |e: StoreError| StoreError::Migration {
            namespace: namespace.to_owned(),
            version,
            reason: e.to_string(),
        };
        let applied = db
            .transaction(|db| {
                if db.backend() == Backend::Postgres {
                    db.execute("SELECT pg_advisory_xact_lock(?1)", params![MIGRATION_LOCK])?;
                }
                // Read under the lock: another replica may have just applied it.
                if applied_version(db, namespace)? >= version {
                    return Ok(false);
                }
                db.batch(sql)?;
                db.execute(
                    "INSERT INTO ffmcp_migrations (namespace, version) VALUES (?1, ?2)",
                    params![namespace, version],
                )?;
                Ok(true)
            })
            .map_err(fail)?;
        ran += usize::from(applied);
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATIONS: &[&str] = &[
        "CREATE TABLE t_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);",
        "ALTER TABLE t_items ADD COLUMN seen INTEGER NOT NULL DEFAULT 0;",
    ];
    static SCHEMA: Schema = Schema {
        namespace: "test",
        sqlite: MIGRATIONS,
        postgres: None,
    };

    #[tokio::test]
    async fn migrations_run_once_in_order_and_data_survives_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/ffmcp.db");
        let store = Store::open(&path).expect("open");
        assert_eq!(store.migrate(&SCHEMA).await.expect("migrate"), 2);
        assert_eq!(store.migrate(&SCHEMA).await.expect("again"), 0);
        store
            .call(|c| c.execute("INSERT INTO t_items (name, seen) VALUES ('a', 1)", []))
            .await
            .expect("task")
            .expect("insert");
        let mode: String = store
            .call(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .await
            .expect("task")
            .expect("pragma");
        assert_eq!(mode, "wal");
        drop(store);
        let reopened = Store::open(&path).expect("reopen");
        assert_eq!(reopened.migrate(&SCHEMA).await.expect("none"), 0);
        let seen: i64 = reopened
            .call(|c| {
                c.query_row("SELECT seen FROM t_items WHERE name = 'a'", [], |r| {
                    r.get(0)
                })
            })
            .await
            .expect("task")
            .expect("select");
        assert_eq!(seen, 1);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_database_is_0600_in_a_0700_directory() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data/ffmcp/ffmcp.db");
        let store = Store::open(&path).expect("open");
        store.migrate(&SCHEMA).await.expect("migrate");
        assert_eq!(mode(&path), 0o600, "database file");
        assert_eq!(mode(&dir.path().join("data/ffmcp")), 0o700, "its directory");
        assert_eq!(mode(&dir.path().join("data")), 0o700, "created parents");
        let wal = path.with_file_name("ffmcp.db-wal");
        if wal.exists() {
            assert_eq!(mode(&wal) & 0o077, 0, "the WAL file is private too");
        }
        drop(store);
        // A database left world-readable by an older version is narrowed.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        Store::open(&path).expect("reopen");
        assert_eq!(mode(&path), 0o600, "narrowed on open");
    }
}

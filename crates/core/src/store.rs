//! `core::store`: the embedded SQLite database servers keep state in.
//!
//! One file (default `$XDG_DATA_HOME/ffmcp/ffmcp.db`, or `FF_DB`), shared by
//! every server of the process, each owning tables under its own prefix and
//! its own migration list. WAL journal, `synchronous=NORMAL` (a killed
//! process loses nothing that was committed; only a power cut can lose the
//! last transactions), foreign keys on, a busy timeout for the rare second
//! process on the same file. SQLite is bundled: no system library needed.
//! The file is created 0600 in a directory created 0700 (it holds leads and
//! watched pages); a file found readable by others is narrowed to 0600.
//!
//! Access goes through [`Store::call`], which runs a closure on the blocking
//! pool with the connection locked: one writer at a time by construction,
//! and async callers never block the runtime.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

pub use rusqlite;
use rusqlite::{Connection, OptionalExtension, params};

/// Environment variable: the database file.
pub const DB_ENV: &str = "FF_DB";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("opening the database {path}: {reason}")]
    Open {
        /// The database file.
        path: String,
        /// SQLite's or the file system's error.
        reason: String,
    },
    /// A schema migration failed; the database is left at the version before.
    #[error("database migration {namespace} v{version} failed: {reason}")]
    Migration {
        /// Whose schema (one namespace per server).
        namespace: String,
        /// The migration that failed.
        version: usize,
        /// SQLite's error.
        reason: String,
    },
    /// A statement failed.
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The blocking task running the statement panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    path: Arc<PathBuf>,
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// The default database path: `FF_DB`, else `$XDG_DATA_HOME/ffmcp/ffmcp.db`,
/// else `~/.local/share/ffmcp/ffmcp.db` (`%APPDATA%\ffmcp\ffmcp.db` on
/// Windows, `~/Library/Application Support/ffmcp/ffmcp.db` on macOS).
pub fn default_path(config: &crate::config::Config) -> PathBuf {
    if let Some(path) = config.get(DB_ENV) {
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

impl Store {
    /// Opens (creating if needed) the database at `path`.
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
        Ok(Self {
            path: Arc::new(path),
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Opens [`default_path`].
    pub fn open_default(config: &crate::config::Config) -> Result<Self, StoreError> {
        Self::open(default_path(config))
    }

    /// A private in-memory database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        Self::configure(&conn)?;
        Ok(Self {
            path: Arc::new(PathBuf::from(":memory:")),
            conn: Arc::new(Mutex::new(conn)),
        })
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

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies `migrations[i]` (SQL batches) for `namespace` in order, each
    /// once, each in its own transaction. Returns how many ran.
    pub async fn migrate(
        &self,
        namespace: &'static str,
        migrations: &'static [&'static str],
    ) -> Result<usize, StoreError> {
        self.call(move |conn| migrate(conn, namespace, migrations))
            .await?
    }

    /// Runs `work` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> T + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))
    }

    /// Runs `work` with the connection on the current thread (for code that
    /// is already on a blocking thread).
    pub fn call_blocking<T>(&self, work: impl FnOnce(&mut Connection) -> T) -> T {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        work(&mut guard)
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

fn migrate(
    conn: &mut Connection,
    namespace: &str,
    migrations: &[&str],
) -> Result<usize, StoreError> {
    let current: usize = conn
        .query_row(
            "SELECT MAX(version) FROM ffmcp_migrations WHERE namespace = ?1",
            params![namespace],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten()
        .map_or(0, |v| usize::try_from(v).unwrap_or(0));
    let mut ran = 0;
    for (index, sql) in migrations.iter().enumerate().skip(current) {
        let version = index + 1;
        let fail = |e: rusqlite::Error| StoreError::Migration {
            namespace: namespace.to_owned(),
            version,
            reason: e.to_string(),
        };
        let tx = conn.transaction().map_err(fail)?;
        tx.execute_batch(sql).map_err(fail)?;
        tx.execute(
            "INSERT INTO ffmcp_migrations (namespace, version) VALUES (?1, ?2)",
            params![namespace, i64::try_from(version).unwrap_or(i64::MAX)],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        ran += 1;
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

    #[tokio::test]
    async fn migrations_run_once_in_order_and_data_survives_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/ffmcp.db");
        let store = Store::open(&path).expect("open");
        assert_eq!(store.migrate("test", MIGRATIONS).await.expect("migrate"), 2);
        assert_eq!(store.migrate("test", MIGRATIONS).await.expect("again"), 0);
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
        assert_eq!(reopened.migrate("test", MIGRATIONS).await.expect("none"), 0);
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
        store.migrate("test", MIGRATIONS).await.expect("migrate");
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

    #[tokio::test]
    async fn a_failing_migration_changes_nothing_and_names_itself() {
        let store = Store::in_memory().expect("memory");
        let bad: &'static [&'static str] =
            &["CREATE TABLE ok_t (x INTEGER);", "CREATE TABLE broken ("];
        let err = store.migrate("bad", bad).await.expect_err("broken");
        assert!(err.to_string().contains("bad v2"), "{err}");
        // v1 committed, v2 not: a fixed v2 runs next time.
        let fixed: &'static [&'static str] = &[
            "CREATE TABLE ok_t (x INTEGER);",
            "CREATE TABLE fixed (y INTEGER);",
        ];
        assert_eq!(store.migrate("bad", fixed).await.expect("fixed"), 1);
    }
}

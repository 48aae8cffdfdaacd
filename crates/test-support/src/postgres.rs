//! A fresh PostgreSQL database per test, on the server `FFMCP_TEST_PG_URL`
//! names (`.ci/run` starts a throwaway cluster and sets it).
//!
//! Without the variable a test skips with a SKIPPED notice on stderr,
//! unless `FFMCP_REQUIRE_OPTIONAL` is set (CI sets it), which makes it a
//! failure. Each call creates its own database (`ffmcp_test_<random>`), so
//! tests run in parallel without seeing each other's rows; use a throwaway
//! cluster, as the databases are left behind for the cluster to go with.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use ffmcp_core::{Config, store::Store};

/// The variable naming the PostgreSQL server tests may use.
pub const PG_URL_ENV: &str = "FFMCP_TEST_PG_URL";

/// The URL of a new, empty database for `test`, or `None` (after a SKIPPED
/// notice) when no server is configured.
pub async fn fresh_database(test: &str) -> Option<String> {
    let Some(admin) = std::env::var(PG_URL_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        assert!(
            std::env::var_os("FFMCP_REQUIRE_OPTIONAL").is_none(),
            "{test}: {PG_URL_ENV} is not set (PostgreSQL tests need a server); \
             FFMCP_REQUIRE_OPTIONAL is set, so this is a failure"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test} on PostgreSQL: {PG_URL_ENV} is not set (e.g. \
             postgres://user@127.0.0.1:5432/postgres of a throwaway cluster; set \
             FFMCP_REQUIRE_OPTIONAL=1 to make this a failure)"
        );
        return None;
    };
    let name = format!("ffmcp_test_{:016x}", fastrand_u64());
    let store = Store::connect(&admin, &Config::default()).expect("the admin URL is valid");
    let create = format!("CREATE DATABASE {name}");
    store
        .run(move |db| db.batch(&create))
        .await
        .expect("task")
        .unwrap_or_else(|e| panic!("{test}: creating a database on {PG_URL_ENV}: {e}"));
    let mut url = url::Url::parse(&admin).expect("FFMCP_TEST_PG_URL is a postgres:// URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// Where a test's database lives: a SQLite file, or a fresh PostgreSQL
/// database; [`TestDb::open`] gives a new handle on the same one each time
/// (as another process, or another replica, would have).
#[derive(Debug, Clone)]
pub enum TestDb {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl TestDb {
    /// A new store handle on this database (its own connection or pool).
    pub fn open(&self) -> Store {
        match self {
            Self::Sqlite(path) => Store::open(path).expect("sqlite store"),
            Self::Postgres(url) => Store::connect(url, &Config::default()).expect("postgres store"),
        }
    }
}

/// A SQLite file named `test.db` in `dir`, and a fresh PostgreSQL
/// database when [`PG_URL_ENV`] names a server (else a SKIPPED notice, as
/// [`fresh_database`]): run a test's assertions on each.
pub async fn databases(test: &str, dir: &Path) -> Vec<TestDb> {
    let mut all = vec![TestDb::Sqlite(dir.join("test.db"))];
    if let Some(url) = fresh_database(test).await {
        all.push(TestDb::Postgres(url));
    }
    all
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    RandomState::new().hash_one((nanos, std::process::id()))
}

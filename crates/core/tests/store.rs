//! `core::store` on both backends: every test runs the same statements on a
//! SQLite file and, when `FFMCP_TEST_PG_URL` names a server, on a fresh
//! PostgreSQL database (skipped with a notice otherwise; a failure under
//! `FFMCP_REQUIRE_OPTIONAL`).

use std::collections::HashMap;

use ffmcp_core::{
    Config,
    store::{Backend, Schema, Store, StoreError, params},
};
use ffmcp_test_support::postgres::fresh_database;

static ITEMS: Schema = Schema {
    namespace: "t",
    sqlite: &[
        "CREATE TABLE t_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
             n INTEGER NOT NULL DEFAULT 0, score REAL, data BLOB,
             owner TEXT, lease_until INTEGER);",
        "ALTER TABLE t_items ADD COLUMN note TEXT;",
    ],
    postgres: Some(&[
        "CREATE TABLE t_items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE,
             n BIGINT NOT NULL DEFAULT 0, score DOUBLE PRECISION, data BYTEA,
             owner TEXT, lease_until BIGINT);",
        "ALTER TABLE t_items ADD COLUMN note TEXT;",
    ]),
};

/// A SQLite file store, and a PostgreSQL one when a server is configured;
/// the temporary directory lives as long as the stores.
async fn backends(test: &str) -> (Vec<Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut stores = vec![Store::open(dir.path().join("store.db")).expect("sqlite")];
    if let Some(url) = fresh_database(test).await {
        stores.push(Store::connect(&url, &Config::default()).expect("postgres"));
    }
    (stores, dir)
}

/// A second handle on the same database (another process, in effect).
fn reopen(store: &Store, dir: &tempfile::TempDir) -> Store {
    match store.backend() {
        Backend::Sqlite => Store::open(dir.path().join("store.db")).expect("sqlite"),
        Backend::Postgres => {
            // The masked URL has no password: the test cluster trusts local users.
            Store::connect(&store.describe(), &Config::default()).expect("postgres")
        }
    }
}

#[tokio::test]
async fn migrations_run_once_in_order_and_status_reports_them() {
    let (stores, dir) = backends("migrations_run_once_in_order_and_status_reports_them").await;
    for store in stores {
        let on = store.backend();
        assert_eq!(store.migrate(&ITEMS).await.expect("migrate"), 2, "{on:?}");
        assert_eq!(store.migrate(&ITEMS).await.expect("again"), 0, "{on:?}");
        let other = reopen(&store, &dir);
        assert_eq!(other.migrate(&ITEMS).await.expect("reopened"), 0, "{on:?}");
        let status = other.status(vec![&ITEMS]).await.expect("status");
        assert_eq!(status.len(), 1);
        assert_eq!(
            (status[0].applied, status[0].latest),
            (2, Some(2)),
            "{on:?}"
        );
        // The second migration's column exists.
        other
            .run(|db| db.execute("UPDATE t_items SET note = ?1", params!["x"]))
            .await
            .expect("task")
            .expect("the migrated column is there");
    }
}

#[tokio::test]
async fn concurrent_migrations_apply_each_version_once() {
    let (stores, dir) = backends("concurrent_migrations_apply_each_version_once").await;
    for store in stores {
        let handles: Vec<Store> = (0..6).map(|_| reopen(&store, &dir)).collect();
        let runs = futures::future::join_all(handles.iter().map(|s| s.migrate(&ITEMS))).await;
        let ran: usize = runs.into_iter().map(|r| r.expect("migrate")).sum();
        assert_eq!(
            ran,
            2,
            "{:?}: six replicas migrating at once",
            store.backend()
        );
    }
}

#[tokio::test]
async fn statements_mean_the_same_on_both_backends() {
    let (stores, _dir) = backends("statements_mean_the_same_on_both_backends").await;
    for store in stores {
        let on = store.backend();
        store.migrate(&ITEMS).await.expect("migrate");
        let (first, again, rows, filtered) = store
            .run(|db| -> Result<_, StoreError> {
                let insert = "INSERT INTO t_items (name, n, score, data) VALUES (?1, ?2, ?3, ?4)
                              ON CONFLICT (name) DO NOTHING RETURNING id";
                let first = db.query_one(insert, params!["a", 5_i64, 0.5, vec![0_u8, 255]])?;
                let again = db.query(insert, params!["a", 6_i64, None::<f64>, None::<Vec<u8>>])?;
                db.execute(
                    "INSERT INTO t_items (name, n) VALUES (?1, ?2)",
                    params!["b", i64::MAX],
                )?;
                let rows = db.query(
                    "SELECT id, name, n, score, data, note FROM t_items ORDER BY name",
                    params![],
                )?;
                // A nullable filter: PostgreSQL needs the parameter's type spelt out.
                let filtered = db.query(
                    "SELECT name FROM t_items WHERE (CAST(?1 AS TEXT) IS NULL OR name = ?1) \
                     ORDER BY name",
                    params![None::<String>],
                )?;
                Ok((first.get::<i64>(0)?, again.len(), rows, filtered.len()))
            })
            .await
            .expect("task")
            .expect("statements");
        assert!(first > 0, "{on:?}: RETURNING id");
        assert_eq!(again, 0, "{on:?}: ON CONFLICT DO NOTHING returns nothing");
        assert_eq!(filtered, 2, "{on:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get::<String>(1).expect("name"), "a");
        assert_eq!(rows[0].get::<i64>(2).expect("n"), 5);
        assert_eq!(rows[0].get::<Option<f64>>(3).expect("score"), Some(0.5));
        assert_eq!(rows[0].get::<Vec<u8>>(4).expect("data"), vec![0, 255]);
        assert_eq!(rows[0].get::<Option<String>>(5).expect("note"), None);
        assert_eq!(
            rows[1].get::<i64>(2).expect("n"),
            i64::MAX,
            "{on:?}: 64-bit"
        );
        let err = rows[0].get::<i64>(1).expect_err("text is not a number");
        assert!(err.to_string().contains("column 1"), "{on:?}: {err}");
    }
}

#[tokio::test]
async fn a_failed_or_panicking_transaction_leaves_nothing() {
    let (stores, _dir) = backends("a_failed_or_panicking_transaction_leaves_nothing").await;
    for store in stores {
        let on = store.backend();
        store.migrate(&ITEMS).await.expect("migrate");
        let failed = store
            .run(|db| {
                db.transaction(|db| {
                    db.execute("INSERT INTO t_items (name) VALUES ('x')", params![])?;
                    db.execute("INSERT INTO t_items (name) VALUES ('x')", params![])
                })
            })
            .await
            .expect("task");
        assert!(failed.is_err(), "{on:?}: the duplicate fails");
        let panicked = store
            .run(|db| {
                let _ = db.transaction(|db| -> Result<(), StoreError> {
                    db.execute("INSERT INTO t_items (name) VALUES ('y')", params![])?;
                    panic!("a closure that panics mid-transaction");
                });
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::Task(_))), "{on:?}");
        let committed = store
            .run(|db| {
                db.transaction(|db| {
                    db.execute("INSERT INTO t_items (name) VALUES ('z')", params![])
                })
            })
            .await
            .expect("task")
            .expect("a good transaction commits");
        assert_eq!(committed, 1);
        let names: Vec<String> = store
            .run(|db| db.query("SELECT name FROM t_items ORDER BY name", params![]))
            .await
            .expect("task")
            .expect("select")
            .iter()
            .map(|r| r.get(0).expect("name"))
            .collect();
        assert_eq!(names, ["z"], "{on:?}: neither x nor y survived");
    }
}

#[tokio::test]
async fn a_failing_migration_changes_nothing_and_names_itself() {
    static BAD: Schema = Schema {
        namespace: "bad",
        sqlite: &["CREATE TABLE ok_t (x INTEGER);", "CREATE TABLE broken ("],
        postgres: Some(&["CREATE TABLE ok_t (x BIGINT);", "CREATE TABLE broken ("]),
    };
    static FIXED: Schema = Schema {
        namespace: "bad",
        sqlite: &[
            "CREATE TABLE ok_t (x INTEGER);",
            "CREATE TABLE fixed (y INTEGER);",
        ],
        postgres: Some(&[
            "CREATE TABLE ok_t (x BIGINT);",
            "CREATE TABLE fixed (y BIGINT);",
        ]),
    };
    let (stores, _dir) = backends("a_failing_migration_changes_nothing_and_names_itself").await;
    for store in stores {
        let err = store.migrate(&BAD).await.expect_err("broken");
        assert!(err.to_string().contains("bad v2"), "{err}");
        // v1 committed, v2 not: a fixed v2 runs next time.
        assert_eq!(store.migrate(&FIXED).await.expect("fixed"), 1);
    }
}

/// The claim pattern servers use for shared work: one statement marks due
/// rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a write
/// transaction on SQLite); eight workers on separate handles claim every
/// row exactly once.
#[tokio::test]
async fn leases_hand_each_row_to_exactly_one_worker() {
    let (stores, dir) = backends("leases_hand_each_row_to_exactly_one_worker").await;
    for store in stores {
        let on = store.backend();
        store.migrate(&ITEMS).await.expect("migrate");
        store
            .run(|db| {
                db.transaction(|db| {
                    for i in 0..300 {
                        db.execute(
                            "INSERT INTO t_items (name) VALUES (?1)",
                            params![format!("item{i}")],
                        )?;
                    }
                    Ok::<_, StoreError>(())
                })
            })
            .await
            .expect("task")
            .expect("insert");
        let workers = (0..8).map(|w| {
            let handle = reopen(&store, &dir);
            tokio::spawn(async move {
                let owner = format!("worker{w}");
                let mut mine = Vec::new();
                loop {
                    let owner = owner.clone();
                    let claimed = handle
                        .run(move |db| {
                            db.transaction(|db| {
                                let sql = format!(
                                    "UPDATE t_items SET owner = ?1, lease_until = ?2 \
                                     WHERE id IN (SELECT id FROM t_items \
                                     WHERE lease_until IS NULL OR lease_until < ?3 \
                                     ORDER BY id LIMIT 7{}) RETURNING id",
                                    db.skip_locked()
                                );
                                db.query(&sql, params![owner, 2_000_i64, 1_000_i64])
                            })
                        })
                        .await
                        .expect("task")
                        .expect("claim");
                    if claimed.is_empty() {
                        return mine;
                    }
                    mine.extend(claimed.iter().map(|r| r.get::<i64>(0).expect("id")));
                }
            })
        });
        let mut seen: HashMap<i64, usize> = HashMap::new();
        for worker in workers {
            for id in worker.await.expect("worker") {
                *seen.entry(id).or_default() += 1;
            }
        }
        assert_eq!(seen.len(), 300, "{on:?}: every row claimed");
        assert!(seen.values().all(|&n| n == 1), "{on:?}: none twice");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_named_without_its_password() {
    let config = Config::from_pairs([("FF_DB_CONNECT_TIMEOUT_MS", "2000")]);
    let store = Store::connect("postgres://ffmcp:s3cret@127.0.0.1:1/ffmcp", &config).expect("lazy");
    let err = store.ping().await.expect_err("nothing listens on port 1");
    let text = err.to_string();
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    let bad = Config::from_pairs([("FF_DB_POOL_SIZE", "lots")]);
    let err = Store::connect("postgres://u@127.0.0.1/x", &bad).expect_err("bad size");
    assert!(err.to_string().contains("FF_DB_POOL_SIZE='lots'"), "{err}");
}

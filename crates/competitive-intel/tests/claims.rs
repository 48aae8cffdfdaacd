//! Claiming due watches from several processes at once, on both store
//! backends: each claim takes at most its limit and no watch is taken
//! twice while its lease lives. On PostgreSQL a plain `IN (subquery …
//! SKIP LOCKED)` let one claimer take far more than its limit (the
//! subquery can be re-run per updated row); the claim must choose its rows
//! once. The PostgreSQL claimers run with planner settings that force
//! that plan (a nested loop re-scanning the subquery per row), so the test
//! does not depend on the planner's mood.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::Barrier;

use ffmcp_competitive_intel::db::{self, Inserted, NewWatch};
use ffmcp_core::store::Store;

use super::support::{Db, databases};

const WATCHES: usize = 400;
const LIMIT: i64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_each_take_at_most_their_limit() {
    for database in databases("concurrent_claimers_each_take_at_most_their_limit").await {
        let setup = database.open();
        let on = setup.backend();
        setup.migrate(&db::SCHEMA).await.expect("migrate");
        setup
            .run(|c| {
                for i in 0..WATCHES {
                    let new = NewWatch {
                        url: format!("https://acme.example/{i}"),
                        kind: "page".into(),
                        feed_url: None,
                        selector: None,
                        ignore: Vec::new(),
                        interval_secs: 3600,
                        tags: Vec::new(),
                        competitor: None,
                    };
                    let added = db::insert_watch(c, &new, "2026-01-01T00:00:00Z", 0, i64::MAX)?;
                    assert!(matches!(added, Inserted::Added(_)), "{added:?}");
                }
                Ok::<(), ffmcp_core::store::StoreError>(())
            })
            .await
            .expect("task")
            .expect("insert");

        // Both claimers make their first claim before either goes on, so
        // the run is concurrent however the scheduler orders them (a fast
        // claimer could otherwise drain all 400 watches alone).
        let started = Arc::new(Barrier::new(2));
        let (a, b) = tokio::join!(
            claim_until_none(claimer_store(&database), "claimer-a", started.clone()),
            claim_until_none(claimer_store(&database), "claimer-b", started),
        );
        for (who, claims) in [("a", &a), ("b", &b)] {
            let most = claims.iter().map(Vec::len).max().unwrap_or(0);
            assert!(
                most <= LIMIT as usize,
                "{on:?}: claimer {who} took {most} watches in one claim (limit {LIMIT})"
            );
        }
        let mut seen = HashSet::new();
        for id in a.iter().chain(&b).flatten() {
            assert!(seen.insert(*id), "{on:?}: watch {id} claimed twice");
        }
        assert_eq!(seen.len(), WATCHES, "{on:?}: every due watch was claimed");
        assert!(
            !a.is_empty() && !b.is_empty(),
            "{on:?}: both claimers took watches ({} and {} claims)",
            a.len(),
            b.len()
        );
    }
}

/// A new handle on `database`; on PostgreSQL, with hash joins, hash
/// aggregation, materialization, sorts and merge joins off, which leaves the
/// planner a nested loop that re-runs an `IN` subquery for every row.
fn claimer_store(database: &Db) -> Store {
    match database {
        Db::Sqlite(_) => database.open(),
        Db::Postgres(url) => {
            let options = [
                "enable_hashjoin",
                "enable_hashagg",
                "enable_material",
                "enable_sort",
                "enable_mergejoin",
            ]
            .map(|setting| format!("-c%20{setting}%3Doff"))
            .join("%20");
            let joiner = if url.contains('?') { '&' } else { '?' };
            Store::connect(
                &format!("{url}{joiner}options={options}"),
                &ffmcp_core::Config::default(),
            )
            .expect("postgres with planner settings")
        }
    }
}

/// Claims with `owner` on `store` until nothing is left; returns the ids of
/// each claim. Waits at `started` after the first claim.
async fn claim_until_none(
    store: Store,
    owner: &'static str,
    started: Arc<Barrier>,
) -> Vec<Vec<i64>> {
    let mut claims = Vec::new();
    let mut first = true;
    loop {
        let now = chrono::Utc::now().timestamp();
        let claimed = store
            .run(move |c| db::claim_due(c, owner, now, now + 300, LIMIT))
            .await
            .expect("task")
            .expect("claim");
        if std::mem::take(&mut first) {
            started.wait().await;
        }
        if claimed.is_empty() {
            return claims;
        }
        claims.push(claimed.iter().map(|w| w.id).collect());
        tokio::task::yield_now().await;
    }
}

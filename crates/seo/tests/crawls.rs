//! Kept crawls (`seo_crawls`) on both store backends: saved and read back
//! through another store handle (another replica), bounded by count and
//! age, and a corrupt row named. Each test runs on a SQLite file and, when
//! `FFMCP_TEST_PG_URL` names a server, on a fresh PostgreSQL database.

use std::time::Duration;

use ffmcp_core::store::{Store, params};
use ffmcp_seo::{
    crawl::{Crawl, Failure, Options, Stop},
    crawls::{self, Retention},
};
use ffmcp_test_support::postgres::databases;
use url::Url;

fn crawl(id: &str) -> Crawl {
    let options = Options {
        start: Url::parse("https://a.test/").expect("url"),
        sitemap: None,
        max_pages: 10,
        max_depth: 3,
        time_limit: Duration::from_secs(5),
        concurrency: 2,
        delay: Duration::ZERO,
        user_agent: "ffmcp".into(),
        respect_robots: true,
    };
    let mut c = Crawl::new(id.into(), options);
    c.frontier
        .push_back((Url::parse("https://a.test/next").expect("url"), 2));
    c.seen.insert("https://a.test/next".into());
    c.failures.push(Failure {
        url: Url::parse("https://a.test/gone").expect("url"),
        reason: "HTTP 404".into(),
        redirect_loop: false,
    });
    c.linked_from.insert(
        "https://a.test/gone".into(),
        vec![("https://a.test/".into(), "<a href=/gone>".into())],
    );
    c.seeded = true;
    c.stop = Stop::PageLimit;
    c.visited = 7;
    c
}

async fn migrated(store: Store) -> Store {
    store.migrate(&crawls::SCHEMA).await.expect("migrate");
    store
}

async fn save(store: &Store, crawl: Crawl, now: i64, retention: Retention) {
    store
        .run(move |db| crawls::save(db, &crawl, now, retention))
        .await
        .expect("task")
        .expect("save");
}

async fn load(store: &Store, id: &str, now: i64, retention: Retention) -> Option<Crawl> {
    let id = id.to_owned();
    store
        .run(move |db| crawls::load(db, &id, now, retention))
        .await
        .expect("task")
        .expect("load")
}

async fn ids(store: &Store) -> Vec<String> {
    store.run(crawls::ids).await.expect("task").expect("ids")
}

#[tokio::test]
async fn a_saved_crawl_loads_back_the_same_through_another_handle() {
    let dir = tempfile::tempdir().expect("tempdir");
    for db in databases("seo_crawl_round_trip", dir.path()).await {
        let writer = migrated(db.open()).await;
        let on = writer.backend();
        let original = crawl("c1");
        save(&writer, crawl("c1"), 1000, Retention::default()).await;
        // A second replica reads what the first saved.
        let reader = migrated(db.open()).await;
        let loaded = load(&reader, "c1", 1001, Retention::default())
            .await
            .expect("kept");
        assert_eq!(loaded.id, "c1", "{on:?}");
        assert_eq!(loaded.options.start, original.options.start, "{on:?}");
        assert_eq!(loaded.frontier, original.frontier, "{on:?}");
        assert_eq!(loaded.seen, original.seen, "{on:?}");
        assert_eq!(loaded.failures.len(), 1, "{on:?}");
        assert_eq!(loaded.linked_from, original.linked_from, "{on:?}");
        assert_eq!(
            (loaded.stop, loaded.visited, loaded.seeded),
            (Stop::PageLimit, 7, true),
            "{on:?}"
        );
        assert!(
            load(&reader, "nope", 1001, Retention::default())
                .await
                .is_none()
        );

        // Saving again replaces the state and keeps one row.
        let mut resumed = loaded;
        resumed.stop = Stop::Complete;
        resumed.visited = 9;
        save(&reader, resumed, 1002, Retention::default()).await;
        let again = load(&writer, "c1", 1003, Retention::default())
            .await
            .expect("kept");
        assert_eq!((again.stop, again.visited), (Stop::Complete, 9), "{on:?}");
        assert_eq!(ids(&writer).await, ["c1"], "{on:?}");
    }
}

#[tokio::test]
async fn crawls_are_bounded_by_count_and_age() {
    let dir = tempfile::tempdir().expect("tempdir");
    for db in databases("seo_crawls_bounded", dir.path()).await {
        let store = migrated(db.open()).await;
        let on = store.backend();
        let retention = Retention {
            max_crawls: 3,
            max_age: Duration::from_secs(100),
        };
        for (i, at) in [(1, 10), (2, 20), (3, 30), (4, 40), (5, 50)] {
            save(&store, crawl(&format!("c{i}")), at, retention).await;
        }
        assert_eq!(ids(&store).await, ["c5", "c4", "c3"], "{on:?}");
        // Older than max_age at load time: gone for callers, pruned at the next save.
        assert!(load(&store, "c3", 131, retention).await.is_none(), "{on:?}");
        assert!(load(&store, "c4", 131, retention).await.is_some(), "{on:?}");
        save(&store, crawl("c6"), 145, retention).await;
        assert_eq!(ids(&store).await, ["c6", "c5"], "{on:?}");
        // Saved in the same second as the kept ones: the crawl just saved
        // is never the one pruned.
        let one = Retention {
            max_crawls: 1,
            ..retention
        };
        save(&store, crawl("a0"), 145, one).await;
        assert_eq!(ids(&store).await, ["a0"], "{on:?}");
    }
}

#[tokio::test]
async fn a_corrupt_row_is_an_error_naming_the_crawl() {
    let dir = tempfile::tempdir().expect("tempdir");
    for db in databases("seo_corrupt_crawl", dir.path()).await {
        let store = migrated(db.open()).await;
        let on = store.backend();
        store
            .run(|db| {
                db.execute(
                    "INSERT INTO seo_crawls (id, start_url, created_at, updated_at, stop, pages, \
                     state) VALUES ('bad', 'https://a.test/', 1, 1, 'complete', 0, ?1)",
                    params![vec![0x00_u8, 0xff]],
                )
            })
            .await
            .expect("task")
            .expect("insert");
        let err = store
            .run(|db| crawls::load(db, "bad", 1, Retention::default()))
            .await
            .expect("task")
            .expect_err("corrupt");
        assert!(err.to_string().contains("'bad'"), "{on:?}: {err}");
    }
}

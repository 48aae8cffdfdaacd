//! `core::store::bus` between two handles on one database (as two
//! processes have): what one publishes the other hears, nobody hears
//! their own, a bus hears nothing (and holds no listening connection)
//! until asked to, and on PostgreSQL a listening connection killed by the
//! server is reopened, with a resync, and keeps delivering.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use ffmcp_core::{
    Config,
    store::{Backend, Store, bus::Bus},
};
use ffmcp_test_support::postgres::fresh_database;

/// What a bus heard, and how many resyncs it was told of.
#[derive(Clone, Default)]
struct Ear {
    heard: Arc<Mutex<Vec<String>>>,
    resyncs: Arc<Mutex<usize>>,
}

impl Ear {
    fn join(&self, store: &Store) -> Bus {
        let (heard, resyncs) = (self.heard.clone(), self.resyncs.clone());
        Bus::start(
            store,
            move |m| heard.lock().expect("lock").push(m.to_owned()),
            move || *resyncs.lock().expect("lock") += 1,
            || true,
        )
    }

    fn heard(&self) -> Vec<String> {
        self.heard.lock().expect("lock").clone()
    }

    /// Waits (up to 20 s) until `pred` holds.
    async fn until(&self, what: &str, pred: impl Fn(&Self) -> bool) {
        for _ in 0..200 {
            if pred(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: heard {:?}", self.heard());
    }
}

async fn pairs(test: &str, dir: &std::path::Path) -> Vec<(Store, Store)> {
    let path = dir.join("bus.db");
    let mut all = vec![(
        Store::open(&path).expect("sqlite"),
        Store::open(&path).expect("sqlite"),
    )];
    if let Some(url) = fresh_database(test).await {
        all.push((
            Store::connect(&url, &Config::default()).expect("postgres"),
            Store::connect(&url, &Config::default()).expect("postgres"),
        ));
    }
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn what_one_process_publishes_the_other_hears_and_nobody_hears_their_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (one, two) in pairs("bus_delivers_between_processes", dir.path()).await {
        let on = one.backend();
        let (ear_one, ear_two) = (Ear::default(), Ear::default());
        let bus_one = ear_one.join(&one);
        let bus_two = ear_two.join(&two);
        // Both hear the other before anything is sent (the SQLite poller
        // starts from the newest row; LISTEN from its first round trip).
        assert!(bus_one.hear(Duration::from_secs(20)).await, "{on:?}");
        assert!(bus_two.hear(Duration::from_secs(20)).await, "{on:?}");

        bus_one.publish("intel://changes");
        bus_one.publish("intel://changes");
        bus_one.publish("leadgen://jobs/lg_1");
        ear_two
            .until(&format!("{on:?}: two hears one"), |e| e.heard().len() >= 2)
            .await;
        bus_two.publish("seo://crawls/c1");
        ear_one
            .until(&format!("{on:?}: one hears two"), |e| !e.heard().is_empty())
            .await;
        tokio::time::sleep(Duration::from_millis(1000)).await;

        // A repeat may be folded into one (within a batch), never lost.
        let mut two_heard = ear_two.heard();
        two_heard.dedup();
        assert_eq!(
            two_heard,
            ["intel://changes", "leadgen://jobs/lg_1"],
            "{on:?}: every message, in order, never its own"
        );
        assert_eq!(
            ear_one.heard(),
            ["seo://crawls/c1"],
            "{on:?}: never its own"
        );
        assert_eq!(*ear_one.resyncs.lock().expect("lock"), 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_listening_connection_is_reopened_with_a_resync() {
    let Some(url) = fresh_database("a_killed_listening_connection_is_reopened_with_a_resync").await
    else {
        return;
    };
    let (one, two) = (
        Store::connect(&url, &Config::default()).expect("postgres"),
        Store::connect(&url, &Config::default()).expect("postgres"),
    );
    assert_eq!(one.backend(), Backend::Postgres);
    let ear = Ear::default();
    let listening = ear.join(&one);
    assert!(listening.hear(Duration::from_secs(20)).await);
    let sender = Ear::default().join(&two);

    // The server ends every LISTEN connection on this database (both
    // buses'), as a failover or an administrator would.
    let killed = two
        .run(|db| {
            db.query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query LIKE 'LISTEN%'",
                &[],
            )?
            .get::<i64>(0)
        })
        .await
        .expect("task")
        .expect("terminate");
    assert!(killed >= 1, "a LISTEN connection was there to end");
    ear.until("told to resync", |e| *e.resyncs.lock().expect("lock") >= 1)
        .await;

    sender.publish("intel://watches");
    ear.until("still hears after reopening", |e| {
        e.heard().contains(&"intel://watches".to_owned())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bus_hears_nothing_and_holds_no_listening_connection_until_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (one, two) in pairs("a_bus_hears_nothing_until_asked", dir.path()).await {
        let on = one.backend();
        let (ear, other) = (Ear::default(), Ear::default());
        let quiet = ear.join(&one);
        let sender = other.join(&two);
        assert!(sender.hear(Duration::from_secs(20)).await, "{on:?}");
        sender.publish("intel://watches");
        // Long enough for a poller (every 250 ms) to have read it.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(ear.heard().is_empty(), "{on:?}: heard before asked");
        if on == Backend::Postgres {
            assert_eq!(listening_connections(&two).await, 1, "only the sender's");
        }

        assert!(quiet.hear(Duration::from_secs(20)).await, "{on:?}");
        if on == Backend::Postgres {
            assert_eq!(listening_connections(&two).await, 2);
        }
        sender.publish("intel://changes");
        ear.until(&format!("{on:?}: hears once asked"), |e| {
            !e.heard().is_empty()
        })
        .await;
        assert_eq!(
            ear.heard(),
            ["intel://changes"],
            "{on:?}: only what came after"
        );
        assert!(other.heard().is_empty(), "{on:?}: never its own");
    }
}

/// The LISTEN connections on `store`'s database.
async fn listening_connections(store: &Store) -> i64 {
    store
        .run(|db| {
            db.query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query LIKE 'LISTEN%'",
                &[],
            )?
            .get::<i64>(0)
        })
        .await
        .expect("task")
        .expect("count")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bus_that_cannot_listen_says_so_at_once_instead_of_waiting() {
    // A table in the bus's way: its migration fails (and is warned about).
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("bus.db")).expect("sqlite");
    store
        .call(|conn| conn.execute_batch("CREATE TABLE core_bus (unrelated INTEGER);"))
        .await
        .expect("task")
        .expect("create");
    let bus = Ear::default().join(&store);
    let started = std::time::Instant::now();
    assert!(!bus.hear(Duration::from_secs(20)).await, "not hearing");
    // Asked again (the next subscriber), it answers at once too.
    assert!(!bus.hear(Duration::from_secs(20)).await);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered in {:?}, not after the whole wait",
        started.elapsed()
    );
}

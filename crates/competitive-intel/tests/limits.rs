//! Stored state is bounded: watches, snapshot size, history per watch.

use ffmcp_competitive_intel::{Settings, db, engine::Want};

use super::support::{Fixture, Reply, add, changes_of, engine_with, reload, settings};

fn new_watch(i: usize) -> db::NewWatch {
    db::NewWatch {
        url: format!("https://acme.example/feed{i}.xml"),
        kind: "feed".into(),
        feed_url: None,
        selector: None,
        ignore: Vec::new(),
        interval_secs: 600,
        tags: Vec::new(),
        competitor: None,
    }
}

async fn snapshot_count(engine: &ffmcp_competitive_intel::Engine, watch_id: i64) -> usize {
    engine
        .db(move |c| db::snapshots(c, watch_id, 1_000_000, false))
        .await
        .expect("snapshots")
        .len()
}

#[test]
fn limits_come_from_the_environment_and_are_clamped() {
    let defaults = Settings::default();
    assert_eq!(defaults.max_watches, 1000);
    assert_eq!(defaults.max_snapshot_bytes, 1 << 20);
    assert_eq!(defaults.retention.snapshots_per_watch, 50);
    assert_eq!(defaults.retention.changes_per_watch, 1000);
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        Settings::from_lookup(&move |k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        })
    };
    let s = env(&[
        ("FF_INTEL_MAX_WATCHES", "5"),
        ("FF_INTEL_MAX_SNAPSHOT_BYTES", "4096"),
        ("FF_INTEL_KEEP_SNAPSHOTS", "7"),
        ("FF_INTEL_KEEP_CHANGES", "20"),
    ]);
    assert_eq!(
        (
            s.max_watches,
            s.max_snapshot_bytes,
            s.retention.snapshots_per_watch,
            s.retention.changes_per_watch
        ),
        (5, 4096, 7, 20)
    );
    let s = env(&[
        ("FF_INTEL_MAX_WATCHES", "0"),
        ("FF_INTEL_MAX_SNAPSHOT_BYTES", "99999999999"),
        ("FF_INTEL_KEEP_SNAPSHOTS", "1000000"),
        ("FF_INTEL_KEEP_CHANGES", "1"),
    ]);
    assert_eq!(
        (
            s.max_watches,
            s.max_snapshot_bytes,
            s.retention.snapshots_per_watch,
            s.retention.changes_per_watch
        ),
        (1, 64 << 20, 1000, 10)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn watches_beyond_the_cap_are_refused_and_not_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_with(
        dir.path(),
        Settings {
            max_watches: 3,
            ..settings()
        },
    )
    .await;
    let now = ffmcp_competitive_intel::engine::now_rfc3339();
    let outcomes = engine
        .db(move |c| {
            (0..5)
                .map(|i| db::insert_watch(c, &new_watch(i), &now, 0, 3))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .expect("insert");
    let added = outcomes
        .iter()
        .filter(|o| matches!(o, db::Inserted::Added(_)))
        .count();
    assert_eq!(added, 3);
    assert!(
        matches!(outcomes[3], db::Inserted::Full(3)),
        "{:?}",
        outcomes[3]
    );
    let count = engine.db(db::watch_count).await.expect("count");
    assert_eq!(count, 3, "nothing beyond the cap reached the database");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_over_the_limit_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_with(
        dir.path(),
        Settings {
            max_snapshot_bytes: 4096,
            ..settings()
        },
    )
    .await;
    let fx = Fixture::start().await;
    let big = format!(
        "<html><body><main id=\"m\"><p>{}</p></main></body></html>",
        "word ".repeat(20_000)
    );
    fx.route("/big", Reply::ok("text/html", big));
    let watch = add(&engine, &fx.url("/big"), Want::Page, Some("#m"), &[], 600).await;
    let report = engine.check(&watch).await;
    assert_eq!(report.outcome, "failed", "{report:?}");
    let error = report.error.unwrap_or_default();
    assert!(
        error.contains("FF_INTEL_MAX_SNAPSHOT_BYTES") && error.contains("4096"),
        "{error}"
    );
    assert_eq!(snapshot_count(&engine, watch.id).await, 0, "nothing stored");
    let stored = reload(&engine, watch.id).await;
    assert!(
        stored
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("snapshot limit")),
        "{stored:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn history_per_watch_keeps_only_the_newest_snapshots_and_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = settings();
    s.retention.snapshots_per_watch = 3;
    s.retention.changes_per_watch = 2;
    let engine = engine_with(dir.path(), s).await;
    let fx = Fixture::start().await;
    let page =
        |n: usize| format!("<html><body><main id=\"m\"><p>Price {n}</p></main></body></html>");
    fx.route("/p", Reply::ok("text/html", page(0)));
    let watch = add(&engine, &fx.url("/p"), Want::Page, Some("#m"), &[], 600).await;
    for n in 0..8 {
        fx.route("/p", Reply::ok("text/html", page(n)));
        let report = engine.check(&reload(&engine, watch.id).await).await;
        assert_ne!(report.outcome, "failed", "{report:?}");
    }
    assert_eq!(snapshot_count(&engine, watch.id).await, 3);
    let changes = changes_of(&engine, watch.id).await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(
        changes.iter().all(|c| c
            .summary
            .as_deref()
            .is_some_and(|s| s.contains("Price 6") || s.contains("Price 7"))),
        "the newest are kept: {changes:?}"
    );
}

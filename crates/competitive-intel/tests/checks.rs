//! Checks against a fixture that changes between them.

use std::time::Duration;

use ffmcp_competitive_intel::{db, diff, engine::Want};

use super::support::{Fixture, Reply, add, changes_of, databases, engine, engine_on, reload, rss};

const RSS: &str = "application/rss+xml";
const D1: &str = "Mon, 23 Nov 2026 10:00:00 GMT";
const D2: &str = "Tue, 24 Nov 2026 11:30:00 GMT";

#[tokio::test(flavor = "multi_thread")]
async fn feed_items_new_edited_reordered_and_timestamp_noise() {
    for database in databases("feed_items_new_edited_reordered_and_timestamp_noise").await {
        feed_items_on(engine_on(database.open()).await).await;
    }
}

async fn feed_items_on(engine: ffmcp_competitive_intel::Engine) {
    let fx = Fixture::start().await;
    let a = ("a", "Alpha launch", "First post");
    let b = ("b", "Beta pricing", "Second post");
    fx.route("/feed.xml", Reply::ok(RSS, rss(D1, &[a, b])));
    let watch = add(&engine, &fx.url("/feed.xml"), Want::Auto, None, &[], 600).await;
    assert_eq!(watch.kind, "feed");

    let first = engine.check(&watch).await;
    assert_eq!(first.outcome, "baseline", "{first:?}");
    assert!(first.new_changes.is_empty(), "the baseline flags nothing");

    // Only dates moved (lastBuildDate, pubDate): not a change.
    fx.route("/feed.xml", Reply::ok(RSS, rss(D2, &[a, b])));
    let noise = engine.check(&reload(&engine, watch.id).await).await;
    assert_eq!(noise.outcome, "unchanged", "{noise:?}");

    // Reordered: not a change either.
    fx.route("/feed.xml", Reply::ok(RSS, rss(D2, &[b, a])));
    let reordered = engine.check(&reload(&engine, watch.id).await).await;
    assert_eq!(reordered.outcome, "unchanged", "{reordered:?}");

    // A new item, flagged once.
    let c = ("c", "Gamma careers", "We are hiring");
    fx.route("/feed.xml", Reply::ok(RSS, rss(D2, &[c, b, a])));
    let new = engine.check(&reload(&engine, watch.id).await).await;
    assert_eq!(new.outcome, "changed");
    assert_eq!(new.new_changes.len(), 1);
    assert_eq!(new.new_changes[0].kind, "new_item");
    assert_eq!(new.new_changes[0].title.as_deref(), Some("Gamma careers"));
    let again = engine.check(&reload(&engine, watch.id).await).await;
    assert!(again.new_changes.is_empty(), "not flagged twice: {again:?}");

    // An edited item.
    let b2 = ("b", "Beta pricing", "Second post, now with a 20% discount");
    fx.route("/feed.xml", Reply::ok(RSS, rss(D2, &[c, b2, a])));
    let edited = engine.check(&reload(&engine, watch.id).await).await;
    assert_eq!(edited.new_changes.len(), 1, "{edited:?}");
    assert_eq!(edited.new_changes[0].kind, "edited_item");

    let all = changes_of(&engine, watch.id).await;
    let kinds: Vec<&str> = all.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(kinds, ["new_item", "edited_item"]);
    assert_eq!(all[0].competitor.as_deref(), Some("Acme"));
}

#[tokio::test(flavor = "multi_thread")]
async fn conditional_get_sends_validators_and_records_304() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path()).await;
    let fx = Fixture::start().await;
    let body = rss(D1, &[("a", "A", "x")]);
    fx.route("/etag.xml", Reply::ok(RSS, body).with_etag("\"v1\""));
    let watch = add(&engine, &fx.url("/etag.xml"), Want::Feed, None, &[], 600).await;
    assert_eq!(engine.check(&watch).await.outcome, "baseline");
    let second = engine.check(&reload(&engine, watch.id).await).await;
    assert_eq!(second.status, Some(304));
    assert_eq!(second.outcome, "not_modified");
    let seen = fx.requests_to("/etag.xml");
    assert!(
        seen.last().expect("requests").header("if-none-match") == Some("\"v1\""),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_recorded_with_backoff_and_recover() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path()).await;
    let fx = Fixture::start().await;
    fx.route("/f.xml", Reply::ok(RSS, rss(D1, &[("a", "A", "x")])));
    let watch = add(&engine, &fx.url("/f.xml"), Want::Feed, None, &[], 60).await;
    assert_eq!(engine.check(&watch).await.outcome, "baseline");

    let cases: [(Reply, &str); 3] = [
        (Reply::status(500), "HTTP 500"),
        (
            Reply::ok(
                RSS,
                "<rss version=\"2.0\"><channel><title>x</title><item><title>broken",
            ),
            "not a valid",
        ),
        (Reply::endless(RSS, 50 * 1024 * 1024), "larger than"),
    ];
    let now = chrono::Utc::now().timestamp();
    for (n, (reply, needle)) in cases.into_iter().enumerate() {
        fx.route("/f.xml", reply);
        let report = engine.check(&reload(&engine, watch.id).await).await;
        assert_eq!(report.outcome, "failed");
        let error = report.error.expect("an error");
        assert!(error.contains(needle), "{needle}: {error}");
        let stored = reload(&engine, watch.id).await;
        assert_eq!(stored.failures, i64::try_from(n).expect("small") + 1);
        assert!(stored.last_error.expect("recorded").contains(needle));
        // Back-off: 60 s doubled per failure, minus at most 10% jitter.
        let min = 60 * (1 << (n + 1)) * 9 / 10;
        assert!(
            stored.next_due >= now + min,
            "failure {n}: {}",
            stored.next_due - now
        );
    }
    fx.route("/f.xml", Reply::ok(RSS, rss(D1, &[("a", "A", "x")])));
    let ok = engine.check(&reload(&engine, watch.id).await).await;
    assert_eq!(ok.outcome, "unchanged", "{ok:?}");
    let stored = reload(&engine, watch.id).await;
    assert_eq!((stored.failures, stored.last_error), (0, None));
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_followed_and_feeds_autodiscovered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path()).await;
    let fx = Fixture::start().await;
    fx.route("/feed.xml", Reply::ok(RSS, rss(D1, &[("a", "A", "x")])));
    fx.route("/old-feed", Reply::redirect("/feed.xml"));
    fx.route(
        "/blog",
        Reply::ok(
            "text/html",
            "<!doctype html><html><head><title>Blog</title>\
             <link rel=\"alternate\" type=\"application/rss+xml\" title=\"Acme\" href=\"/old-feed\">\
             </head><body>posts</body></html>",
        ),
    );
    let watch = add(&engine, &fx.url("/blog"), Want::Auto, None, &[], 600).await;
    assert_eq!(watch.kind, "feed");
    assert_eq!(
        watch.feed_url.as_deref(),
        Some(fx.url("/old-feed").as_str())
    );
    let report = engine.check(&watch).await;
    assert_eq!(report.outcome, "baseline", "{report:?}");
    assert_eq!(
        fx.requests_to("/feed.xml").len(),
        1,
        "followed the redirect"
    );
    let as_page = engine
        .probe(&fx.url("/blog"), Want::Page)
        .await
        .expect("probe");
    assert_eq!(as_page.kind, "page");
}

#[tokio::test(flavor = "multi_thread")]
async fn page_changes_ignore_noise_and_diff() {
    for database in databases("page_changes_ignore_noise_and_diff").await {
        page_changes_on(engine_on(database.open()).await).await;
    }
}

async fn page_changes_on(engine: ffmcp_competitive_intel::Engine) {
    let fx = Fixture::start().await;
    let page = |price: &str, time: &str| {
        format!(
            "<!doctype html><html><body><nav>Home</nav><main id=\"plans\"><h1>Pricing</h1>\
             <p>Pro: {price} per month</p><p class=\"stamp\">Rendered at {time}</p></main></body></html>"
        )
    };
    fx.route("/pricing", Reply::ok("text/html", page("$20", "10:00:01")));
    let watch = add(
        &engine,
        &fx.url("/pricing"),
        Want::Page,
        Some("#plans"),
        &[".stamp"],
        600,
    )
    .await;
    assert_eq!(engine.check(&watch).await.outcome, "baseline");
    fx.route("/pricing", Reply::ok("text/html", page("$20", "10:10:59")));
    let noise = engine.check(&reload(&engine, watch.id).await).await;
    assert_eq!(noise.outcome, "unchanged", "the timestamp is ignored");
    fx.route("/pricing", Reply::ok("text/html", page("$25", "10:20:00")));
    let changed = engine.check(&reload(&engine, watch.id).await).await;
    assert_eq!(changed.new_changes.len(), 1);
    let change = &changed.new_changes[0];
    assert_eq!(change.kind, "page_changed");
    let (old, new) = engine
        .db({
            let (a, b) = (change.previous_snapshot_id, change.snapshot_id);
            move |c| {
                Ok((
                    db::snapshot(c, a.unwrap_or(0))?,
                    db::snapshot(c, b.unwrap_or(0))?,
                ))
            }
        })
        .await
        .expect("db");
    let (old, new) = (old.expect("old"), new.expect("new"));
    let d = diff::diff(&old.text, &new.text, "old", "new");
    assert!(
        d.unified
            .contains("-Pro: $20 per month\n+Pro: $25 per month"),
        "{}",
        d.unified
    );
    assert_eq!(
        diff::inline(&d.words),
        "Pricing\nPro: [-$20-]{+$25+} per month"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scheduler_flags_a_new_item_on_the_next_due_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path()).await;
    let fx = Fixture::start().await;
    fx.route("/feed.xml", Reply::ok(RSS, rss(D1, &[("a", "A", "x")])));
    let watch = add(&engine, &fx.url("/feed.xml"), Want::Feed, None, &[], 1).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let scheduler = {
        let (engine, stop) = (engine.clone(), stop.clone());
        tokio::spawn(async move { engine.run_scheduler(stop).await })
    };
    let mut updates = engine.subscribe();
    // The baseline happens on the first due check.
    wait_for(|| async { reload(&engine, watch.id).await.last_outcome.is_some() }).await;
    fx.route(
        "/feed.xml",
        Reply::ok(RSS, rss(D1, &[("b", "Breaking", "y"), ("a", "A", "x")])),
    );
    wait_for(|| async { !changes_of(&engine, watch.id).await.is_empty() }).await;
    let topic = tokio::time::timeout(Duration::from_secs(30), updates.recv())
        .await
        .expect("an update in time")
        .expect("open");
    assert_eq!(topic.uri(), "intel://changes");
    // A few more due checks find nothing new.
    let checks_before = fx.requests_to("/feed.xml").len();
    wait_for(|| async { fx.requests_to("/feed.xml").len() >= checks_before + 2 }).await;
    stop.cancel();
    scheduler.await.expect("scheduler stops");
    let all = changes_of(&engine, watch.id).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].title.as_deref(), Some("Breaking"));
}

#[tokio::test(flavor = "multi_thread")]
async fn many_watches_are_checked_with_bounded_concurrency() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(dir.path()).await;
    let fx = Fixture::start().await;
    let mut watches = Vec::new();
    for i in 0..40 {
        let path = format!("/f{i}.xml");
        fx.route(
            &path,
            Reply::ok(RSS, rss(D1, &[("a", &format!("Item {i}"), "x")])),
        );
        watches.push(add(&engine, &fx.url(&path), Want::Feed, None, &[], 600).await);
    }
    let reports = engine.check_many(watches).await;
    assert_eq!(reports.len(), 40);
    assert!(
        reports.iter().all(|r| r.outcome == "baseline"),
        "{reports:?}"
    );
}

/// Two schedulers on one database (two replicas, or a `--daemon` beside a
/// served session) claim due watches: every watch is fetched once, never
/// by both, on SQLite and on PostgreSQL. The fixture answers slowly so
/// that, without claims, both would take the same due watches.
#[tokio::test(flavor = "multi_thread")]
async fn two_schedulers_on_one_database_fetch_each_due_watch_once() {
    for database in databases("two_schedulers_on_one_database_fetch_each_due_watch_once").await {
        let first = engine_on(database.open()).await;
        let second = engine_on(database.open()).await;
        let fx = Fixture::start().await;
        let mut ids = Vec::new();
        for i in 0..30 {
            let path = format!("/f{i}.xml");
            fx.route(
                &path,
                Reply::ok(RSS, rss(D1, &[("a", &format!("Item {i}"), "x")]))
                    .delayed(Duration::from_millis(200)),
            );
            // Due at once (next_due 0), then every hour.
            ids.push(
                add(&first, &fx.url(&path), Want::Feed, None, &[], 3600)
                    .await
                    .id,
            );
        }
        let before: Vec<usize> = (0..30)
            .map(|i| fx.requests_to(&format!("/f{i}.xml")).len())
            .collect();
        let stop = tokio_util::sync::CancellationToken::new();
        let schedulers: Vec<_> = [first.clone(), second.clone()]
            .into_iter()
            .map(|engine| {
                let stop = stop.clone();
                tokio::spawn(async move { engine.run_scheduler(stop).await })
            })
            .collect();
        for id in &ids {
            let id = *id;
            wait_for(|| async { reload(&first, id).await.last_outcome.is_some() }).await;
        }
        // Both schedulers wake every second: give them a few more rounds.
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop.cancel();
        for s in schedulers {
            s.await.expect("scheduler stops");
        }
        for (i, earlier) in before.iter().enumerate() {
            let fetched = fx.requests_to(&format!("/f{i}.xml")).len() - earlier;
            assert_eq!(fetched, 1, "watch {i} fetched {fetched} times");
        }
        for id in ids {
            let w = reload(&second, id).await;
            assert_eq!(w.last_outcome.as_deref(), Some("baseline"), "{w:?}");
        }
    }
}

/// Polls `done` until true; generous bound for a loaded machine.
async fn wait_for<F, Fut>(mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(
            std::time::Instant::now() < deadline,
            "condition not met in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

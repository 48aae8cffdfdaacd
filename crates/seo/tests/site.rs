//! Site crawls of the fixture: site-level findings with their evidence,
//! limits, resumption and cancellation.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use ffmcp_seo::{
    crawl::{Crawl, Options, Stop},
    site,
};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::fixture;

fn options(base: &str) -> Options {
    Options {
        start: Url::parse(&format!("{base}/")).expect("url"),
        sitemap: None,
        max_pages: 100,
        max_depth: 5,
        time_limit: Duration::from_secs(30),
        concurrency: 4,
        delay: Duration::ZERO,
        user_agent: "ffmcp".into(),
        respect_robots: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_finds_every_site_level_defect() {
    let base = fixture::start().await;
    let mut crawl = Crawl::new("t1".into(), options(&base));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let progress = move |done: usize, total: usize, url: &str| {
        sink.lock()
            .expect("lock")
            .push((done, total, url.to_owned()));
    };
    crawl
        .run(&crate::fetcher(), 100, &CancellationToken::new(), &progress)
        .await;
    assert_eq!(crawl.stop, Stop::Complete);
    let findings = site::findings(&crawl);
    let u = |p: &str| format!("{base}{p}");
    // (id, page url, evidence substring)
    let expected: Vec<(&str, String, String)> = vec![
        ("broken-link", u("/bad"), "<a href=\"/missing\">".into()),
        (
            "blocked-by-robots",
            u("/bad"),
            "<a href=\"/private/secret\">".into(),
        ),
        ("broken-link", u("/"), "<a href=\"/loop\">".into()),
        ("redirect-loop", u("/loop"), "redirects".into()),
        (
            "redirect-chain",
            u("/redirect1"),
            format!("{} → {} → {}", u("/redirect1"), u("/redirect2"), u("/")),
        ),
        (
            "duplicate-title",
            u("/dup-a"),
            "Tomato notes for balcony gardens".into(),
        ),
        (
            "duplicate-title",
            u("/dup-b"),
            "Tomato notes for balcony gardens".into(),
        ),
        (
            "duplicate-description",
            u("/dup-a"),
            "The same description".into(),
        ),
        ("duplicate-content", u("/dup-a"), u("/dup-b")),
        ("orphan-page", u("/orphan"), "sitemap".into()),
        (
            "sitemap-blocked",
            u("/private/secret"),
            "Disallow: /private (robots.txt line 2)".into(),
        ),
        ("sitemap-error", u("/redirect2"), "<loc>".into()),
        ("sitemap-error", String::new(), "/relative-loc".into()),
        (
            "canonical-chain",
            u("/canon-a"),
            format!("{} → {} → {}", u("/canon-a"), u("/canon-b"), u("/canon-c")),
        ),
        (
            "hreflang-not-reciprocal",
            u("/en"),
            format!("href=\"{}\"", u("/de")),
        ),
    ];
    for (id, url, needle) in &expected {
        let hit = findings.iter().any(|f| {
            f.id == *id
                && (url.is_empty() || f.url.as_deref() == Some(url))
                && f.evidence
                    .as_deref()
                    .is_some_and(|e| e.contains(needle.as_str()))
        });
        assert!(hit, "missing {id} at {url} with {needle:?}: {findings:#?}");
    }
    let mut expected_ids: Vec<&str> = expected.iter().map(|e| e.0).collect();
    expected_ids.sort_unstable();
    expected_ids.dedup();
    let mut found_ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    found_ids.sort_unstable();
    found_ids.dedup();
    assert_eq!(found_ids, expected_ids, "{findings:#?}");
    // robots.txt obeyed: the disallowed URL was never fetched.
    assert!(crawl.pages.iter().all(|p| !p.url.contains("/private")));
    assert_eq!(crawl.blocked.len(), 1, "the disallowed URL is queued once");
    // The final page of the redirect chain is audited once.
    assert_eq!(crawl.pages.iter().filter(|p| p.url == u("/")).count(), 1);
    let progress = seen.lock().expect("lock");
    assert_eq!(progress.len(), crawl.done());
    assert!(progress.windows(2).all(|w| w[0].0 < w[1].0));
    // The clean home page stays clean within the crawl.
    let home = crawl.pages.iter().find(|p| p.url == u("/")).expect("home");
    assert!(home.findings.is_empty(), "{:#?}", home.findings);
}

#[tokio::test]
async fn page_limit_then_resume_then_agent_rules() {
    let base = fixture::start().await;
    let fetcher = crate::fetcher();
    let none = |_: usize, _: usize, _: &str| {};
    let mut crawl = Crawl::new("t2".into(), options(&base));
    crawl
        .run(&fetcher, 3, &CancellationToken::new(), &none)
        .await;
    assert_eq!(crawl.stop, Stop::PageLimit);
    assert_eq!(crawl.done(), 3);
    assert!(!crawl.frontier.is_empty());
    crawl
        .run(&fetcher, 100, &CancellationToken::new(), &none)
        .await;
    assert_eq!(crawl.stop, Stop::Complete);
    assert!(crawl.done() > 10, "{}", crawl.done());

    // A user agent with its own `Disallow: /` group fetches nothing.
    let mut strict = options(&base);
    strict.user_agent = "StrictBot/1.0".into();
    let mut crawl = Crawl::new("t3".into(), strict);
    crawl
        .run(&fetcher, 100, &CancellationToken::new(), &none)
        .await;
    assert!(crawl.pages.is_empty());
    assert!(!crawl.blocked.is_empty());

    // Depth 0: the start page only (sitemap URLs are depth 1).
    let mut shallow = options(&base);
    shallow.max_depth = 0;
    let mut crawl = Crawl::new("t4".into(), shallow);
    crawl
        .run(&fetcher, 100, &CancellationToken::new(), &none)
        .await;
    assert_eq!(crawl.pages.len(), 1);
}

#[tokio::test]
async fn cancellation_stops_and_keeps_the_frontier() {
    let base = fixture::start().await;
    let fetcher = crate::fetcher();
    let cancel = CancellationToken::new();
    let stop_after_two = {
        let cancel = cancel.clone();
        move |done: usize, _: usize, _: &str| {
            if done >= 2 {
                cancel.cancel();
            }
        }
    };
    let mut crawl = Crawl::new("t5".into(), options(&base));
    crawl.run(&fetcher, 100, &cancel, &stop_after_two).await;
    assert_eq!(crawl.stop, Stop::Cancelled);
    let done = crawl.done();
    assert!((2..10).contains(&done), "{done}");
    assert!(!crawl.frontier.is_empty());
    crawl
        .run(&fetcher, 100, &CancellationToken::new(), &|_, _, _| {})
        .await;
    assert_eq!(crawl.stop, Stop::Complete);
    let mut fresh = Crawl::new("t6".into(), options(&base));
    fresh
        .run(&fetcher, 100, &CancellationToken::new(), &|_, _, _| {})
        .await;
    assert_eq!(
        crawl.done(),
        fresh.done(),
        "a resumed crawl reaches every page"
    );
}

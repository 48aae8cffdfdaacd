//! Worst-case inputs for the parsers a watch runs on fetched bytes and tool
//! arguments (issue 14, item 4), at the fetch cap (10 MiB by default):
//! feeds (RSS, Atom, RDF via feed-rs; JSON Feed), feed autodiscovery,
//! page regions (HTML + CSS selectors). Each finishes within a generous
//! wall-time budget in a debug build or is refused naming the limit.
//! Measured (debug, 2 cores, 10 MiB): nested RSS/RDF elements 0.12 s,
//! 180k RSS items 6.6 s, 1.4M Atom attributes 2 s, 2M entities 2.5 s, a
//! JSON Feed of `[` < 1 ms (serde_json's depth limit), 200k discovery
//! links 3.4 s, 1.3M paragraphs in a page region 12 s (linear), 2M nested
//! `<div>` refused by the depth pre-scan in 0.9 s (before: minutes, in
//! both feed discovery and page regions).

use std::time::Duration;

use ffmcp_competitive_intel::{
    feed,
    page::{self, Region},
};
use ffmcp_test_support::worst_case::{fill, timed_within};
use url::Url;

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    timed_within(BUDGET, what, f)
}

const CAP: usize = 10 * 1024 * 1024;
/// A guard against super-linear blowups (a quadratic pass over 1.3M
/// paragraphs runs for hours), not a speed target: linear work on 10 MiB
/// takes ~25 s in a debug build on an idle 2-core machine and over 30 s on
/// a busy one, so the budget leaves room for load.
const BUDGET: Duration = Duration::from_secs(120);

#[test]
fn hostile_feeds() {
    let nested = fill("<rss version=\"2.0\"><channel>", "<x>", "", CAP);
    let _ = timed("rss 3M nested elements", || {
        feed::parse(nested.as_bytes(), None)
    });
    let items = fill(
        "<rss version=\"2.0\"><channel><title>t</title>",
        "<item><title>a</title><link>https://a.test/x</link></item>",
        "</channel></rss>",
        CAP,
    );
    let parsed = timed("rss 180k items", || feed::parse(items.as_bytes(), None));
    assert!(parsed.is_ok());
    let attrs = fill(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry ",
        "a1=\"x\" ",
        "/></feed>",
        CAP,
    );
    let _ = timed("atom 1.4M attributes", || {
        feed::parse(attrs.as_bytes(), None)
    });
    let entities = fill(
        "<rss version=\"2.0\"><channel><title>",
        "&amp;",
        "</title></channel></rss>",
        CAP,
    );
    let _ = timed("rss 2M entities", || feed::parse(entities.as_bytes(), None));
    let rdf = fill(
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\">",
        "<rdf:Seq>",
        "",
        CAP,
    );
    let _ = timed("rdf 1M nested", || feed::parse(rdf.as_bytes(), None));
    let json = fill(
        "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":",
        "[",
        "",
        CAP,
    );
    let _ = timed("json feed [ x 10 MiB", || {
        feed::parse(json.as_bytes(), None)
    });
}

#[test]
fn hostile_discovery_html() {
    let base = Url::parse("https://a.test/").expect("url");
    let links = fill(
        "<html><head>",
        "<link rel=alternate type=application/rss+xml href=/f>",
        "",
        CAP,
    );
    timed("discovery 200k links", || feed::discover(&links, &base));
    let deep = fill("", "<div>", "", CAP);
    timed("discovery 2M nested divs", || feed::discover(&deep, &base));
}

#[test]
fn hostile_regions() {
    let deep = fill("<body>", "<div>", "", CAP);
    let err = timed("page 2M nested divs", || {
        page::extract(&deep, &Region::default())
    })
    .expect_err("too deep");
    assert!(err.to_string().contains("the limit is"), "{err}");
    let flat = fill("<body>", "<p>x</p>", "</body>", CAP);
    timed("page 1.3M paragraphs", || {
        page::extract(&flat, &Region::default())
    })
    .expect("ok");
    let nots = format!("{}p{}", ":not(".repeat(10_000), ")".repeat(10_000));
    let region = Region {
        selector: Some(nots),
        ignore: Vec::new(),
    };
    let result = timed("selector :not x 10k", || region.validate());
    assert!(result.is_err());
    let list = vec!["p"; 100_000].join(", ");
    let region = Region {
        selector: Some(list),
        ignore: Vec::new(),
    };
    let small = fill("<body>", "<p>x</p>", "</body>", 64 * 1024);
    let _ = timed("100k-selector list", || page::extract(&small, &region));
}

//! Worst-case inputs at the 2 MiB argument limit for leadgen's extractors
//! and normalisers (issue 14, item 4): JSON-LD, microdata and hCard in
//! HTML, regex-heavy plain-text extraction on `@` and digit runs, and email
//! / phone normalisation of long strings. Each finishes within a generous
//! wall-time budget in a debug build or is refused naming the limit.
//! Measured (debug, 2 cores): nested `<div>` refused in 0.3 s; deep
//! `@graph` 30 ms (serde_json's depth limit); 55k JSON-LD people 1.5 s; 60k
//! microdata properties 1.2 s; 40k hCards 3.4 s; text of 2 MiB `@` 1.2 s,
//! digits 0.4 s, signature lines 1.4 s; a 2 MiB phone 2 s; a 2 MiB email
//! < 1 ms. All linear; nothing needed fixing here.

use std::time::Duration;

use ffmcp_core::limits::DEFAULT_MAX_INPUT_BYTES as LIMIT;
use ffmcp_leadgen::{
    extract::{extract_html, extract_text},
    normalize::{self, Region},
};
use ffmcp_test_support::worst_case::timed_within;

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    timed_within(BUDGET, what, f)
}

/// Repeats `unit` until just under the input limit, wrapped in `head`/`tail`.
fn fill(head: &str, unit: &str, tail: &str) -> String {
    ffmcp_test_support::worst_case::fill(head, unit, tail, LIMIT)
}

const BUDGET: Duration = Duration::from_secs(30);

#[test]
fn hostile_html() {
    let deep = fill("", "<div>", "");
    let err = timed("html 400k nested divs", || extract_html(&deep, None)).expect_err("deep");
    assert!(err.to_string().contains("the limit is"), "{err}");
    let graph = fill(
        "<script type=\"application/ld+json\">",
        "{\"@graph\":",
        "</script>",
    );
    timed("json-ld deep @graph", || extract_html(&graph, None)).expect("parsed");
    let wide = fill(
        "<script type=\"application/ld+json\">{\"@graph\":[",
        "{\"@type\":\"Person\",\"name\":\"A B\"},",
        "{}]}</script>",
    );
    timed("json-ld 55k people", || extract_html(&wide, None)).expect("parsed");
    let microdata = fill(
        "<div itemscope itemtype=\"https://schema.org/Person\">",
        "<span itemprop=\"name\">A B</span>",
        "</div>",
    );
    timed("microdata 60k properties", || {
        extract_html(&microdata, None)
    })
    .expect("parsed");
    let hcards = fill(
        "",
        "<div class=\"vcard\"><span class=\"fn\">A B</span></div>",
        "",
    );
    timed("40k hCards", || extract_html(&hcards, None)).expect("parsed");
}

#[test]
fn hostile_text() {
    let ats = "@".repeat(LIMIT);
    timed("text 2 MiB of @", || extract_text(&ats, None));
    let digits = "1".repeat(LIMIT);
    timed("text 2 MiB of digits", || extract_text(&digits, None));
    let mixed = fill("", "a@", "");
    timed("text a@ x 1M", || extract_text(&mixed, None));
    let spaced = fill("", "1 ", "");
    timed("text '1 ' x 1M", || extract_text(&spaced, None));
    let dots = fill("", "a [at] b [dot] ", "");
    timed("text obfuscated emails", || extract_text(&dots, None));
    let lines = fill("", "Jane Doe, Head of Sales at Acme\n", "");
    timed("text 65k signature lines", || extract_text(&lines, None));
    let long = fill("", "a", "@b.com");
    timed("email normalisation 2 MiB", || normalize::email(&long)).expect_err("too long");
    let phone = "1".repeat(LIMIT);
    timed("phone normalisation 2 MiB", || {
        normalize::phone(&phone, Region::default())
    })
    .expect_err("too long");
}

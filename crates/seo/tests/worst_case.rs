//! Worst-case inputs for seo's parsers of untrusted bytes (issue 14,
//! item 4): sitemaps (XML, gzip) at their 50 MiB protocol cap and JSON-LD /
//! microdata at the 2 MiB argument limit. robots.txt is covered by
//! `robots::tests::hostile_wildcards_are_decided_quickly`. Measured (debug,
//! 2 cores): 1.3M `<url>` in 50 MiB ~7 s, at most 50,000 kept; 17M nested
//! elements refused at depth 64 at once (before: 22 s and ~1 GB of names); a gzip bomb stops at the cap; JSON-LD of `[` or `{"@graph":`
//! refused by serde_json's 128-level limit in < 10 ms.

use std::{io::Write, time::Duration};

use ffmcp_seo::{sitemap, structured};
use ffmcp_test_support::worst_case::{fill, timed_within};

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    timed_within(BUDGET, what, f)
}

const BUDGET: Duration = Duration::from_secs(30);

#[test]
fn hostile_sitemaps() {
    let cap = usize::try_from(sitemap::MAX_BYTES).expect("fits");
    let urls = fill(
        "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">",
        "<url><loc>https://a.test/p</loc></url>",
        "</urlset>",
        cap,
    );
    let parsed = timed("sitemap 1.3M urls", || {
        sitemap::parse(urls.as_bytes(), None)
    });
    let parsed = parsed.expect("valid");
    assert!(
        parsed.entries.len() == sitemap::MAX_URLS,
        "{}",
        parsed.entries.len()
    );
    let nested = fill("<urlset>", "<x>", "", cap);
    let result = timed("sitemap 17M nested elements", || {
        sitemap::parse(nested.as_bytes(), None)
    });
    let message = result.expect_err("too deep").to_string();
    assert!(message.contains("more than 64 levels"), "{message}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"<urlset>").expect("gzip");
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..80 {
        gz.write_all(&zeros).expect("gzip");
    }
    let bomb = gz.finish().expect("gzip");
    let result = timed("sitemap gzip bomb 80 MiB", || sitemap::parse(&bomb, None));
    let message = result.expect_err("over the cap").to_string();
    assert!(message.contains("larger than"), "{message}");
}

#[test]
fn hostile_structured_data() {
    let limit = ffmcp_core::limits::DEFAULT_MAX_INPUT_BYTES;
    let arrays = "[".repeat(limit);
    let graph = fill("", "{\"@graph\":", "", limit);
    let (items, findings) = timed("json-ld deep nesting", || {
        structured::analyse(&[arrays, graph], &[])
    });
    assert!(items.is_empty());
    assert_eq!(findings.len(), 2, "{findings:?}");
    let mut deep_ok = "{\"@graph\":[".repeat(60);
    deep_ok.push_str(&"]}".repeat(60));
    let wide = fill("{\"@graph\":[", "{\"@type\":\"Product\"},", "{}]}", limit);
    let (items, _) = timed("json-ld 100k graph items", || {
        structured::analyse(&[deep_ok, wide], &[])
    });
    assert!(items.len() > 50_000, "{}", items.len());
    let props: Vec<String> = (0..100_000).map(|i| format!("p{i}")).collect();
    let microdata: Vec<(String, Vec<String>)> = (0..20)
        .map(|_| ("https://schema.org/Product".to_owned(), props.clone()))
        .collect();
    timed("microdata 2M properties", || {
        structured::analyse(&[], &microdata)
    });
}

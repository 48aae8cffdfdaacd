//! Page-level checks: the clean fixture page has no findings; each defect
//! page yields exactly the expected check ids, with the offending element
//! as evidence.

use std::collections::BTreeSet;

use ffmcp_seo::{
    audit::{self, PageReport, Response},
    crawl,
};
use url::Url;

use crate::fixture;

async fn audit_path(base: &str, path: &str) -> PageReport {
    let url = Url::parse(&format!("{base}{path}")).expect("url");
    let (html, response, final_url) = crawl::fetch_page(&crate::fetcher(), &url)
        .await
        .expect("fixture answers");
    crawl::audit_fetched(html, final_url, response)
        .await
        .expect("audits")
}

fn ids(report: &PageReport) -> BTreeSet<&str> {
    report.findings.iter().map(|f| f.id.as_str()).collect()
}

/// The evidence of the first finding with `id`.
fn evidence<'a>(report: &'a PageReport, id: &str) -> &'a str {
    report
        .findings
        .iter()
        .find(|f| f.id == id)
        .and_then(|f| f.evidence.as_deref())
        .unwrap_or_else(|| panic!("no {id} with evidence in {:#?}", report.findings))
}

#[tokio::test]
async fn clean_page_has_no_findings() {
    let base = fixture::start().await;
    let report = audit_path(&base, "/").await;
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.score, 100);
    assert_eq!(report.status, Some(200));
    assert!(report.indexable);
    assert!(report.words > 300, "{}", report.words);
    assert_eq!(report.structured_data[0].types, ["Organization"]);
    assert_eq!(report.links.external, 1);
}

#[tokio::test]
async fn defect_pages_yield_exactly_their_findings() {
    let base = fixture::start().await;
    // (path, every check id expected, [(id, evidence substring)])
    type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        (
            "/bad",
            &[
                "title-too-long",
                "description-missing",
                "h1-multiple",
                "heading-skip",
                "lang-missing",
                "viewport-missing",
                "canonical-relative",
                "canonical-other",
                "hreflang-invalid",
                "hreflang-relative",
                "hreflang-no-self",
                "hreflang-no-x-default",
                "og-missing",
                "twitter-card-missing",
                "structured-data-invalid",
                "structured-data-incomplete",
                "img-alt-missing",
                "img-no-dimensions",
                "link-text-empty",
                "link-text-generic",
                "link-not-crawlable",
                "link-internal-nofollow",
                "render-blocking-script",
                "thin-content",
                "no-cache-headers",
            ],
            &[
                ("title-too-long", "<title>This title is far too long"),
                ("h1-multiple", "<h1>Second heading</h1>"),
                ("heading-skip", "<h4>Deep section</h4>"),
                ("lang-missing", "<html>"),
                ("canonical-relative", "href=\"/bad-canonical\""),
                ("hreflang-invalid", "hreflang=\"en-UK\""),
                ("og-missing", "og:title, og:description, og:image"),
                ("structured-data-invalid", "{ not json"),
                ("structured-data-incomplete", "\"Widget\""),
                ("img-alt-missing", "<img src=\"/big.jpg\">"),
                ("link-text-empty", "<a href=\"/missing\">"),
                ("link-text-generic", "click here"),
                ("link-not-crawlable", "javascript:void(0)"),
                ("link-internal-nofollow", "rel=\"nofollow\""),
                ("render-blocking-script", "/blocking.js"),
                ("thin-content", "words"),
            ],
        ),
        (
            "/short",
            &[
                "title-too-short",
                "title-multiple",
                "description-too-short",
                "description-multiple",
                "lang-invalid",
                "viewport-missing",
                "canonical-multiple",
                "nofollow-page",
                "og-missing",
                "twitter-card-missing",
            ],
            &[
                ("title-too-short", "<title>Hi</title>"),
                ("title-multiple", "Hi | Second"),
                ("description-too-short", "Too short."),
                ("lang-invalid", "lang=\"english\""),
                ("viewport-missing", "initial-scale=1"),
                ("canonical-multiple", "/other"),
                ("nofollow-page", "content=\"nofollow\""),
            ],
        ),
        (
            "/noindex",
            &[
                "noindex",
                "canonical-conflict",
                "description-missing",
                "viewport-missing",
                "og-missing",
                "twitter-card-missing",
            ],
            &[
                ("noindex", "content=\"noindex\""),
                ("canonical-conflict", "rel=\"canonical\""),
            ],
        ),
        (
            "/header-noindex",
            &["noindex"],
            &[("noindex", "X-Robots-Tag: noindex, nofollow")],
        ),
        (
            "/slow",
            &["slow-response", "canonical-other"],
            &[("slow-response", " ms")],
        ),
        (
            "/redirect1",
            &["redirect-chain"],
            &[("redirect-chain", "/redirect1 → ")],
        ),
        (
            "/structured",
            &[
                "structured-data-incomplete",
                "description-missing",
                "viewport-missing",
                "og-missing",
                "twitter-card-missing",
            ],
            &[("structured-data-incomplete", "FAQPage")],
        ),
    ];
    for (path, expected, evidences) in cases {
        let report = audit_path(&base, path).await;
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(ids(&report), expected, "{path}: {:#?}", report.findings);
        for (id, needle) in *evidences {
            let found = report
                .findings
                .iter()
                .filter(|f| f.id == *id)
                .any(|f| f.evidence.as_deref().is_some_and(|e| e.contains(needle)));
            assert!(
                found,
                "{path}: no {id} with evidence containing {needle:?}: {:#?}",
                report.findings
            );
        }
        assert!(report.findings.iter().all(|f| !f.fix.is_empty()));
        assert!(report.score < 100, "{path}");
    }
}

#[tokio::test]
async fn structured_data_missing_properties_by_type() {
    let base = fixture::start().await;
    let report = audit_path(&base, "/structured").await;
    let missing = |t: &str| {
        report
            .structured_data
            .iter()
            .find(|i| i.types[0] == t)
            .map(|i| i.missing.clone())
            .unwrap_or_else(|| panic!("no {t} item"))
    };
    assert_eq!(missing("FAQPage"), ["mainEntity[0].acceptedAnswer.text"]);
    assert_eq!(missing("Article"), ["image", "datePublished", "author"]);
}

#[tokio::test]
async fn heavy_hard_and_non_html_pages() {
    let base = fixture::start().await;
    let heavy = audit_path(&base, "/heavy").await;
    assert!(evidence(&heavy, "page-heavy").contains("bytes"));
    assert!(
        ids(&heavy).contains("hard-to-read"),
        "{:#?}",
        heavy.findings
    );
    let json = audit_path(&base, "/data.json").await;
    assert_eq!(
        evidence(&json, "not-html"),
        "content-type: application/json"
    );
    // Not a page: no HTML checks (no title-missing and the like).
    assert_eq!(ids(&json), BTreeSet::from(["not-html", "no-cache-headers"]));
}

#[test]
fn https_page_checks_from_raw_html() {
    let url = Url::parse("https://shop.test/p").expect("url");
    let html = r#"<html lang="en"><head><title>A product page title of fine length</title>
<link rel="stylesheet" href="/a.css"><link rel="stylesheet" href="/b.css"><link rel="stylesheet" href="/c.css">
</head><body><img src="http://cdn.test/a.png" alt="a" width="1" height="1"></body></html>"#;
    let response = Response {
        requested: Some(url.clone()),
        status: Some(200),
        headers: vec![("cache-control".into(), "max-age=60".into())],
        ..Response::default()
    };
    let report = audit::audit(html, &url, &response);
    assert!(evidence(&report, "mixed-content").contains("http://cdn.test/a.png"));
    assert!(evidence(&report, "render-blocking-css").contains("/c.css"));
    assert!(ids(&report).contains("hsts-missing"));
    // No response facts for raw HTML: no HTTP checks.
    let raw = audit::audit(html, &url, &Response::default());
    assert!(!ids(&raw).contains("hsts-missing"));
}

/// The compression check reads the `Content-Encoding` the server sent
/// (core::fetch decodes the body itself and keeps the header): the same
/// page served gzip, brotli, deflate and plain by the fixture server is
/// audited identically except for `no-compression` on the plain one, and
/// a page too small to be worth compressing passes plain.
#[tokio::test]
async fn compression_check_reports_what_the_server_sent() {
    let base = fixture::serve_built(|base| {
        let html = fixture::clean_page(base);
        let mut site = fixture::Site::new();
        for coding in ["gzip", "br", "deflate"] {
            site.insert(
                format!("/{coding}"),
                fixture::Resp::encoded("text/html; charset=utf-8", html.as_bytes(), coding)
                    .header("cache-control", "max-age=300"),
            );
        }
        site.insert("/plain".into(), fixture::Resp::html(html));
        site.insert(
            "/tiny".into(),
            fixture::Resp::html("<html lang=en><head><title>Tiny page</title></head></html>"),
        );
        site
    })
    .await;
    for coding in ["gzip", "br", "deflate"] {
        let report = audit_path(&base, &format!("/{coding}")).await;
        assert_eq!(report.headers.content_encoding.as_deref(), Some(coding));
        assert!(
            !ids(&report).contains("no-compression"),
            "{coding}: {:#?}",
            report.findings
        );
        assert!(report.bytes > 1400, "the decoded HTML is audited");
    }
    let plain = audit_path(&base, "/plain").await;
    assert_eq!(plain.headers.content_encoding, None);
    assert!(
        evidence(&plain, "no-compression")
            .starts_with("no Content-Encoding in answer to Accept-Encoding: gzip, br, deflate"),
    );
    let gzip = audit_path(&base, "/gzip").await;
    let mut without = ids(&plain);
    without.remove("no-compression");
    assert_eq!(without, ids(&gzip), "nothing else differs");
    let tiny = audit_path(&base, "/tiny").await;
    assert!(
        !ids(&tiny).contains("no-compression"),
        "{:#?}",
        tiny.findings
    );
}

//! One page's audit: the response facts plus the HTML facts, run through
//! every page-level check. Pure: takes the response as plain values.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

mod content;
mod links;

use crate::{
    finding::{Finding, score},
    page::{self, Facts},
    structured::{self, Item},
    text,
};

/// How the page was obtained (all optional for raw HTML).
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// The URL asked for.
    pub requested: Option<Url>,
    /// Redirect hops taken, in order.
    pub redirects: Vec<Url>,
    pub status: Option<u16>,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub elapsed_ms: Option<u64>,
    pub media_type: Option<String>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Headers that matter for SEO, as received.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeoHeaders {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_robots_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_transport_security: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// As the server sent it (`gzip`, `br`, …); absent when uncompressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
}

/// Link counts of a page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LinkCounts {
    pub internal: usize,
    pub external: usize,
    pub nofollow: usize,
    pub not_crawlable: usize,
}

/// The audit of one page.
/// `Deserialize` is for crawls kept in the store (`crate::crawls`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageReport {
    /// The URL audited (after redirects).
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_ms: Option<u64>,
    /// HTML size in bytes (decompressed).
    pub bytes: usize,
    pub headers: SeoHeaders,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_pixels: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub h1: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    pub indexable: bool,
    pub words: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flesch_reading_ease: Option<f64>,
    pub links: LinkCounts,
    pub images: usize,
    pub structured_data: Vec<Item>,
    /// 0–100; see docs/seo-lighthouse.md for the weights.
    pub score: u32,
    pub findings: Vec<Finding>,
    /// For site audits; not part of the result.
    #[serde(skip)]
    #[schemars(skip)]
    pub site: SiteFacts,
}

/// What the site audit needs from each page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteFacts {
    /// Crawlable internal link targets with their anchor tags.
    pub internal_links: Vec<(Url, String)>,
    pub canonical: Option<Url>,
    pub hreflangs: Vec<(String, Url)>,
    pub sketch: Vec<u64>,
    /// Image URLs (for the oversized-image check).
    pub images: Vec<(Url, String)>,
}

/// HTML at least this large is worth compressing (Lighthouse's
/// `uses-text-compression` ignores savings under 1,400 bytes).
const COMPRESSION_WORTH_BYTES: usize = 1400;

/// Link texts that say nothing about the target (Lighthouse's list, English).
const GENERIC_LINK_TEXT: &[&str] = &[
    "click here",
    "click this",
    "go",
    "here",
    "this",
    "start",
    "right here",
    "more",
    "learn more",
    "read more",
    "link",
    "continue",
    "details",
    "click",
    "this page",
];

/// Audits `html` served as `response` at `url`.
pub fn audit(html: &str, url: &Url, response: &Response) -> PageReport {
    // A PDF or JSON body is not a page: only the response checks apply.
    let is_html = response
        .media_type
        .as_deref()
        .is_none_or(|m| m.contains("html"));
    let facts = if is_html {
        page::extract(html, url)
    } else {
        Facts::default()
    };
    let (items, mut findings) = structured::analyse(&facts.json_ld, &facts.microdata);
    let mut a = Auditor {
        url,
        facts: &facts,
        response,
        findings: Vec::new(),
    };
    a.response_checks(html.len());
    let (mut noindex, mut canonical, mut hreflangs) = (false, None, Vec::new());
    let (mut counts, mut internal_links) = (LinkCounts::default(), Vec::new());
    if is_html {
        noindex = a.indexing_checks();
        a.title_checks();
        a.structure_checks();
        canonical = a.canonical_checks(noindex);
        hreflangs = a.hreflang_checks();
        a.social_checks();
        a.image_checks();
        (counts, internal_links) = a.link_checks();
        a.resource_checks();
    }
    let mut all = a.findings;
    all.append(&mut findings);
    for f in &mut all {
        f.url.get_or_insert_with(|| url.to_string());
    }
    let site = SiteFacts {
        internal_links,
        canonical,
        hreflangs,
        sketch: text::sketch(&facts.text),
        images: facts
            .images
            .iter()
            .filter_map(|i| i.target.clone().map(|t| (t, i.tag.clone())))
            .collect(),
    };
    let title = facts.titles.first().cloned();
    PageReport {
        url: url.to_string(),
        requested: response
            .requested
            .as_ref()
            .filter(|r| *r != url)
            .map(Url::to_string),
        redirects: response.redirects.iter().map(Url::to_string).collect(),
        status: response.status,
        response_ms: response.elapsed_ms,
        bytes: html.len(),
        headers: SeoHeaders {
            x_robots_tag: response.header("x-robots-tag").map(str::to_owned),
            cache_control: response.header("cache-control").map(str::to_owned),
            etag: response.header("etag").map(str::to_owned),
            last_modified: response.header("last-modified").map(str::to_owned),
            strict_transport_security: response
                .header("strict-transport-security")
                .map(str::to_owned),
            content_type: response.header("content-type").map(str::to_owned),
            content_encoding: response.header("content-encoding").map(str::to_owned),
        },
        title_pixels: title.as_deref().map(text::title_pixels),
        title,
        description: facts.descriptions.first().cloned(),
        h1: facts
            .headings
            .iter()
            .filter(|(l, _)| *l == 1)
            .map(|(_, t)| t.clone())
            .collect(),
        canonical: site.canonical.as_ref().map(Url::to_string),
        lang: facts.lang.clone(),
        indexable: !noindex && response.status.is_none_or(|s| s < 300),
        words: facts.words,
        flesch_reading_ease: facts.flesch.map(|f| (f * 10.0).round() / 10.0),
        links: counts,
        images: facts.images.len(),
        structured_data: items,
        score: score(&all),
        findings: all,
        site,
    }
}

struct Auditor<'a> {
    url: &'a Url,
    facts: &'a Facts,
    response: &'a Response,
    findings: Vec<Finding>,
}

impl Auditor<'_> {
    fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }

    fn response_checks(&mut self, bytes: usize) {
        let r = self.response;
        if let Some(status) = r.status.filter(|s| *s >= 400) {
            self.push(
                Finding::new(
                    "http-status",
                    format!("the page answers with HTTP {status}"),
                    "Serve the page with 200, or remove links to it and redirect it (301) to its replacement.",
                )
                .evidence(format!("HTTP {status}")),
            );
        }
        if let Some(media) = r.media_type.as_deref()
            && !media.contains("html")
        {
            self.push(
                Finding::new(
                    "not-html",
                    format!("the response is {media}, not HTML"),
                    "Audit an HTML page, or serve this one with Content-Type: text/html.",
                )
                .evidence(format!("content-type: {media}")),
            );
        }
        if r.redirects.len() >= 2 {
            let chain: Vec<String> = r
                .requested
                .iter()
                .chain(&r.redirects)
                .map(Url::to_string)
                .collect();
            self.push(
                Finding::new(
                    "redirect-chain",
                    format!("{} redirect hops before the page", r.redirects.len()),
                    "Link to and redirect straight to the final URL (one hop at most).",
                )
                .evidence(chain.join(" → ")),
            );
        }
        if let Some(ms) = r.elapsed_ms.filter(|ms| *ms > 1500) {
            self.push(
                Finding::new(
                    "slow-response",
                    format!("the HTML took {ms} ms"),
                    "Cache the page (CDN or server cache) and reduce server work per request; aim for under 600 ms.",
                )
                .evidence(format!("{ms} ms")),
            );
        }
        if r.status.is_some_and(|s| s < 300)
            && ["cache-control", "etag", "last-modified"]
                .iter()
                .all(|h| r.header(h).is_none())
        {
            self.push(Finding::new(
                "no-cache-headers",
                "no Cache-Control, ETag or Last-Modified header",
                "Send Cache-Control (e.g. max-age=300) and an ETag or Last-Modified so crawlers can revalidate cheaply.",
            ));
        }
        if self.url.scheme() == "https"
            && r.status.is_some()
            && r.header("strict-transport-security").is_none()
        {
            self.push(Finding::new(
                "hsts-missing",
                "https page without Strict-Transport-Security",
                "Send Strict-Transport-Security: max-age=31536000; includeSubDomains.",
            ));
        }
        // `content-encoding` as the server sent it: core::fetch decodes
        // bodies itself and keeps the header (reqwest would drop it).
        let encoding = r
            .header("content-encoding")
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty() && e != "identity");
        if r.status.is_some_and(|s| (200..300).contains(&s))
            && r.media_type.as_deref().is_none_or(|m| m.contains("html"))
            && bytes >= COMPRESSION_WORTH_BYTES
            && encoding.is_none()
        {
            self.push(
                Finding::new(
                    "no-compression",
                    format!("{} KiB of HTML sent uncompressed", bytes.div_ceil(1024)),
                    "Serve HTML with gzip or brotli (Content-Encoding) to clients that accept it.",
                )
                .evidence(format!(
                    "no Content-Encoding in answer to Accept-Encoding: gzip, br, deflate; {bytes} bytes"
                )),
            );
        }
        if bytes > 512 * 1024 {
            self.push(
                Finding::new(
                    "page-heavy",
                    format!("the HTML is {} KiB", bytes / 1024),
                    "Move inline data, SVG and scripts to cached files; paginate long lists.",
                )
                .evidence(format!("{bytes} bytes")),
            );
        }
    }

    /// Returns whether the page is noindex.
    fn indexing_checks(&mut self) -> bool {
        let mut noindex = false;
        let header = self.response.header("x-robots-tag").map(str::to_owned);
        let directives = |v: &str| -> Vec<String> {
            v.split(',')
                .map(|d| {
                    let d = d.trim().to_ascii_lowercase();
                    // `googlebot: noindex` in headers
                    d.rsplit(':').next().unwrap_or("").trim().to_owned()
                })
                .collect()
        };
        if let Some(h) = header.as_deref()
            && directives(h).iter().any(|d| d == "noindex" || d == "none")
        {
            noindex = true;
            self.push(
                Finding::new(
                    "noindex",
                    "the X-Robots-Tag header keeps the page out of search results",
                    "Remove noindex from the X-Robots-Tag header if the page should rank.",
                )
                .evidence(format!("X-Robots-Tag: {h}")),
            );
        }
        for content in &self.facts.robots_meta.clone() {
            let d = directives(content);
            if d.iter().any(|d| d == "noindex" || d == "none") {
                noindex = true;
                self.push(
                    Finding::new(
                        "noindex",
                        "the robots meta tag keeps the page out of search results",
                        "Remove noindex from <meta name=\"robots\"> if the page should rank.",
                    )
                    .evidence(format!("<meta name=\"robots\" content=\"{content}\">")),
                );
            }
            if d.iter().any(|d| d == "nofollow" || d == "none") {
                self.push(
                    Finding::new(
                        "nofollow-page",
                        "the robots meta tag tells crawlers not to follow any link",
                        "Drop nofollow from the robots meta tag; mark single links rel=nofollow instead.",
                    )
                    .evidence(format!("<meta name=\"robots\" content=\"{content}\">")),
                );
            }
        }
        noindex
    }
}

/// Same URL ignoring the fragment and a trailing slash difference.
pub fn same_page(a: &Url, b: &Url) -> bool {
    let norm = |u: &Url| {
        let mut u = u.clone();
        u.set_fragment(None);
        u.as_str().trim_end_matches('/').to_owned()
    };
    norm(a) == norm(b)
}

/// BCP 47 shape: a 2–3 letter language, then 1–8 character subtags.
pub fn valid_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let lang = parts.next().unwrap_or("");
    (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// hreflang: ISO 639-1 language, optional script, optional region
/// (2 letters or 3 digits). `en-UK` is the classic mistake (the code is GB).
pub fn valid_hreflang(tag: &str) -> bool {
    let parts: Vec<&str> = tag.split('-').collect();
    let lang_ok = |l: &str| l.len() == 2 && l.chars().all(|c| c.is_ascii_alphabetic());
    let region_ok = |r: &str| {
        ((r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic()))
            && !r.eq_ignore_ascii_case("uk"))
            || (r.len() == 3 && r.chars().all(|c| c.is_ascii_digit()))
    };
    let script_ok = |s: &str| s.len() == 4 && s.chars().all(|c| c.is_ascii_alphabetic());
    match parts.as_slice() {
        [l] => lang_ok(l),
        [l, r] => lang_ok(l) && (region_ok(r) || script_ok(r)),
        [l, s, r] => lang_ok(l) && script_ok(s) && region_ok(r),
        _ => false,
    }
}

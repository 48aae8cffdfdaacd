//! Findings and the score: every check id the crate can report, with its
//! severity and score weight, in one table ([`CHECKS`]) that the docs and
//! the Lighthouse mapping are written from.
//!
//! Score: `100 − Σ weight` over the distinct check ids found on a page,
//! floored at 0. A check id costs its weight once, however many elements
//! trigger it (ten images without alt cost as much as one), so the score
//! ranks kinds of problems, and the findings list carries every instance.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How much a finding matters.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Keeps the page out of the index or breaks it for users.
    Error,
    /// Costs ranking or click-through.
    Warning,
    /// Worth fixing when convenient.
    Notice,
}

/// One problem found, with what to change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Stable check id (see docs/seo-lighthouse.md).
    pub id: String,
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The offending element, header or value, as found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// A concrete fix.
    pub fix: String,
    /// The page it was found on (site audits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A check: id, severity, score weight and a one-line description.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub id: &'static str,
    pub severity: Severity,
    pub weight: u32,
    pub about: &'static str,
}

const fn c(id: &'static str, severity: Severity, weight: u32, about: &'static str) -> Check {
    Check {
        id,
        severity,
        weight,
        about,
    }
}

use Severity::{Error as E, Notice as N, Warning as W};

/// Every check, with its score weight.
pub const CHECKS: &[Check] = &[
    // Indexability and response
    c("http-status", E, 30, "page answers with a 4xx/5xx status"),
    c("not-html", E, 30, "the response is not HTML"),
    c(
        "noindex",
        E,
        30,
        "robots meta tag or X-Robots-Tag says noindex",
    ),
    c("blocked-by-robots", E, 30, "robots.txt disallows the page"),
    c(
        "nofollow-page",
        N,
        2,
        "robots meta says nofollow for all links",
    ),
    c(
        "redirect-chain",
        W,
        4,
        "two or more redirect hops before the page",
    ),
    c("slow-response", W, 4, "the HTML took over 1.5 s to arrive"),
    c(
        "no-cache-headers",
        N,
        1,
        "no Cache-Control, ETag or Last-Modified",
    ),
    c(
        "hsts-missing",
        N,
        1,
        "https page without Strict-Transport-Security",
    ),
    c("page-heavy", W, 3, "HTML over 512 KiB"),
    c(
        "no-compression",
        W,
        2,
        "HTML of 1,400 bytes or more sent without gzip, brotli or deflate",
    ),
    // Title and description
    c("title-missing", E, 15, "no <title> or an empty one"),
    c("title-multiple", W, 3, "more than one <title>"),
    c(
        "title-too-long",
        W,
        3,
        "title over 60 characters or ~580 px",
    ),
    c("title-too-short", N, 2, "title under 10 characters"),
    c(
        "description-missing",
        W,
        8,
        "no meta description or an empty one",
    ),
    c(
        "description-multiple",
        W,
        2,
        "more than one meta description",
    ),
    c(
        "description-too-long",
        N,
        2,
        "meta description over 160 characters",
    ),
    c(
        "description-too-short",
        N,
        2,
        "meta description under 50 characters",
    ),
    // Structure
    c("h1-missing", W, 5, "no <h1>"),
    c("h1-multiple", N, 2, "more than one <h1>"),
    c(
        "heading-skip",
        N,
        1,
        "a heading level is skipped (h2 to h4)",
    ),
    c("lang-missing", W, 3, "<html> has no lang attribute"),
    c("lang-invalid", W, 3, "lang is not a valid BCP 47 tag"),
    c(
        "viewport-missing",
        W,
        5,
        "no meta viewport with width=device-width",
    ),
    c("thin-content", W, 4, "under 200 words of body text"),
    c("hard-to-read", N, 1, "Flesch reading ease under 30"),
    // Canonical
    c("canonical-multiple", E, 8, "more than one canonical link"),
    c(
        "canonical-invalid",
        E,
        8,
        "canonical href is not a valid absolute URL",
    ),
    c("canonical-relative", W, 3, "canonical href is relative"),
    c("canonical-other", N, 1, "canonical points to another URL"),
    c(
        "canonical-conflict",
        E,
        8,
        "canonical conflicts with noindex or a redirect",
    ),
    // International
    c(
        "hreflang-invalid",
        W,
        4,
        "hreflang value is not a language code",
    ),
    c("hreflang-relative", W, 3, "hreflang href is relative"),
    c(
        "hreflang-no-self",
        W,
        3,
        "hreflang set does not reference the page itself",
    ),
    c(
        "hreflang-no-x-default",
        N,
        1,
        "hreflang set without x-default",
    ),
    // Social
    c(
        "og-missing",
        N,
        2,
        "Open Graph title/description/image missing",
    ),
    c("twitter-card-missing", N, 1, "no twitter:card"),
    // Structured data
    c(
        "structured-data-invalid",
        E,
        6,
        "a JSON-LD block does not parse",
    ),
    c(
        "structured-data-incomplete",
        W,
        4,
        "schema.org item lacks a required property",
    ),
    // Images
    c("img-alt-missing", W, 5, "<img> without an alt attribute"),
    c("img-oversized", W, 3, "image file over 200 KiB"),
    c(
        "img-no-dimensions",
        N,
        1,
        "<img> without width and height (layout shift)",
    ),
    // Links
    c(
        "link-text-empty",
        W,
        3,
        "link without any text or accessible name",
    ),
    c(
        "link-text-generic",
        W,
        3,
        "link text like 'click here' or 'read more'",
    ),
    c(
        "link-not-crawlable",
        W,
        4,
        "anchor without a resolvable http(s) href",
    ),
    c(
        "link-internal-nofollow",
        N,
        1,
        "internal link with rel=nofollow",
    ),
    // Performance-related
    c("mixed-content", E, 6, "https page loads http:// resources"),
    c(
        "render-blocking-script",
        W,
        3,
        "<script src> in <head> without async/defer",
    ),
    c(
        "render-blocking-css",
        N,
        1,
        "three or more blocking stylesheets in <head>",
    ),
    // Site level (audit_site)
    c(
        "broken-link",
        E,
        8,
        "internal link to a 4xx/5xx page or an unreachable URL",
    ),
    c("redirect-loop", E, 8, "redirects loop or never end"),
    c("duplicate-title", W, 4, "same title as other pages"),
    c(
        "duplicate-description",
        W,
        3,
        "same meta description as other pages",
    ),
    c(
        "duplicate-content",
        W,
        4,
        "body text near-identical to another page",
    ),
    c(
        "orphan-page",
        W,
        3,
        "in the sitemap but linked from no crawled page",
    ),
    c(
        "sitemap-blocked",
        E,
        6,
        "in the sitemap but disallowed by robots.txt",
    ),
    c(
        "sitemap-error",
        W,
        3,
        "sitemap unreadable, malformed, or lists bad URLs",
    ),
    c(
        "canonical-chain",
        W,
        4,
        "canonical target canonicalises elsewhere",
    ),
    c(
        "hreflang-not-reciprocal",
        W,
        3,
        "hreflang alternate does not link back",
    ),
];

/// The check with `id`.
pub fn check(id: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.id == id)
}

impl Finding {
    /// A finding of check `id` (severity from [`CHECKS`]).
    pub fn new(id: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        let severity = check(id).map_or(Severity::Notice, |c| c.severity);
        Self {
            id: id.to_owned(),
            severity,
            message: message.into(),
            evidence: None,
            fix: fix.into(),
            url: None,
        }
    }

    /// Attaches the offending element or value (shortened to 300 chars).
    pub fn evidence(mut self, evidence: impl AsRef<str>) -> Self {
        self.evidence = Some(shorten(evidence.as_ref(), 300));
        self
    }

    /// Attaches the page URL.
    pub fn at(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }
}

/// 0–100: 100 minus the weights of the distinct check ids in `findings`.
pub fn score(findings: &[Finding]) -> u32 {
    let mut seen: Vec<&str> = Vec::new();
    let mut penalty = 0u32;
    for f in findings {
        if !seen.contains(&f.id.as_str()) {
            seen.push(&f.id);
            penalty += check(&f.id).map_or(1, |c| c.weight);
        }
    }
    100u32.saturating_sub(penalty)
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_scored() {
        for (i, a) in CHECKS.iter().enumerate() {
            assert!(a.weight > 0, "{}", a.id);
            assert!(
                CHECKS[i + 1..].iter().all(|b| b.id != a.id),
                "duplicate {}",
                a.id
            );
        }
        let twice = vec![
            Finding::new("img-alt-missing", "a", "b"),
            Finding::new("img-alt-missing", "a", "b"),
            Finding::new("title-missing", "a", "b"),
        ];
        assert_eq!(score(&twice), 100 - 5 - 15);
        assert_eq!(score(&[]), 100);
    }
}

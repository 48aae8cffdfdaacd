//! Argument and result types of the seo tools (their doc comments are the
//! schemas an agent reads).

use super::*;
use crate::audit::LinkCounts;

/// Arguments of `audit_site`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteArgs {
    /// Where to start (the home page, usually). Required unless `resume`.
    #[serde(default)]
    pub start_url: Option<String>,
    /// A sitemap to seed the crawl (default: robots.txt `Sitemap:` lines, else /sitemap.xml).
    #[serde(default)]
    pub sitemap_url: Option<String>,
    /// Continue a crawl that stopped early, or read a finished crawl's report again, by its
    /// `crawl_id`. Crawls are kept in the database (FF_DB), also across restarts: the last
    /// FF_SEO_MAX_CRAWLS (default 20) run within FF_SEO_CRAWL_MAX_AGE_DAYS (default 7).
    #[serde(default)]
    pub resume: Option<String>,
    /// Pages to audit in this call (default 100, 1..=5000).
    #[serde(default)]
    pub max_pages: Option<usize>,
    /// Link depth from the start URL (default 5, at most 50).
    #[serde(default)]
    pub max_depth: Option<usize>,
    /// Stop after this many seconds (default 120, 1..=1800).
    #[serde(default)]
    pub time_limit_secs: Option<u64>,
    /// Fetches in flight to the site (default 4; at most FF_SEO_MAX_CONCURRENCY, default 8).
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Minimum milliseconds between request starts (default 0, at most 60000).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// robots.txt user agent to obey (default `ffmcp`).
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Obey robots.txt (default true).
    #[serde(default)]
    pub respect_robots: Option<bool>,
    /// Return every page-level finding too (default false: counts only).
    #[serde(default)]
    pub include_page_findings: Option<bool>,
    /// Also write the full report to this file, under the allowed roots (FF_ROOTS or the client's roots).
    /// It must end in `.csv` or `.json` to match the format; dotfiles are refused; the file is created 0600.
    #[serde(default)]
    pub report_path: Option<String>,
    /// Replace `report_path` if it already exists (default false: an existing file is an error).
    /// Even then a symlink or a file with several hard links is never written.
    #[serde(default)]
    pub overwrite: bool,
    /// `csv` or `json` (default from the report_path extension, else json).
    #[serde(default)]
    pub report_format: Option<String>,
}

/// One page of a site audit.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PageSummary {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub score: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub findings: usize,
    pub errors: usize,
}

/// Result of `audit_site`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SiteReport {
    /// Pass as `resume` to continue this crawl.
    pub crawl_id: String,
    pub stop: Stop,
    /// URLs are still queued: call again with `resume`.
    pub resumable: bool,
    pub pages_audited: usize,
    pub urls_failed: usize,
    pub urls_blocked_by_robots: usize,
    pub urls_queued: usize,
    pub elapsed_ms: u64,
    /// Pages audited per second in this call.
    pub pages_per_second: f64,
    pub average_score: u32,
    /// Findings across pages (broken links, duplicates, orphans, sitemap, canonical and hreflang problems).
    pub site_findings: Vec<Finding>,
    /// Every check id found, site and page level, with counts.
    pub finding_counts: Vec<IdCount>,
    /// Pages, lowest score first (at most 1000).
    pub pages: Vec<PageSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_findings: Option<Vec<Finding>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_file: Option<String>,
}

impl Render for SiteReport {
    fn render(&self) -> String {
        let mut out = format!(
            "## Site audit {} ({:?})\n\n{} pages audited, {} failed, {} blocked by robots, {} queued · average score {}/100 · {:.1} pages/s\n",
            self.crawl_id,
            self.stop,
            self.pages_audited,
            self.urls_failed,
            self.urls_blocked_by_robots,
            self.urls_queued,
            self.average_score,
            self.pages_per_second
        );
        if !self.finding_counts.is_empty() {
            out.push_str("\n| check | severity | count |\n|---|---|---|\n");
            for c in self.finding_counts.iter().take(30) {
                out.push_str(&format!("| {} | {:?} | {} |\n", c.id, c.severity, c.count));
            }
        }
        out.push_str(&report::findings_markdown(&self.site_findings, 30));
        if let Some(f) = &self.report_file {
            out.push_str(&format!("\nReport written to {f}\n"));
        }
        out
    }
}

/// Arguments of `check_robots`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RobotsArgs {
    /// The URL to check.
    pub url: String,
    /// The crawler's user agent or product token (default `ffmcp`; e.g. `Googlebot`).
    #[serde(default)]
    pub user_agent: Option<String>,
}

/// Result of `check_robots`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RobotsAnswer {
    pub url: String,
    pub robots_url: String,
    /// HTTP status of robots.txt (none when it could not be fetched).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robots_status: Option<u16>,
    pub user_agent: String,
    #[serde(flatten)]
    pub verdict: robots::Verdict,
    /// Why, in words.
    pub reason: String,
    pub sitemaps: Vec<String>,
}

impl Render for RobotsAnswer {
    fn render(&self) -> String {
        format!(
            "{} is {} for {}: {}",
            self.url,
            if self.verdict.allowed {
                "allowed"
            } else {
                "disallowed"
            },
            self.user_agent,
            self.reason
        )
    }
}

/// Arguments of `parse_sitemap`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SitemapArgs {
    /// The sitemap or sitemap index URL (`.xml` or `.xml.gz`).
    pub url: String,
    /// Read the sitemaps an index lists (default true; at most 50 files).
    #[serde(default)]
    pub follow_index: Option<bool>,
    /// URLs returned at most (default 1000, 1..=50000).
    #[serde(default)]
    pub max_urls: Option<usize>,
}

/// One sitemap file read.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SitemapFile {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<sitemap::Kind>,
    pub entries: usize,
    pub errors: Vec<String>,
}

/// Result of `parse_sitemap`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SitemapReport {
    pub files: Vec<SitemapFile>,
    pub urls: Vec<sitemap::Entry>,
    pub total_urls: usize,
    pub truncated: bool,
}

impl Render for SitemapReport {
    fn render(&self) -> String {
        let errors: usize = self.files.iter().map(|f| f.errors.len()).sum();
        let mut out = format!(
            "{} sitemap file(s), {} URLs, {errors} errors",
            self.files.len(),
            self.total_urls
        );
        for f in &self.files {
            for e in f.errors.iter().take(10) {
                out.push_str(&format!("\n- {}: {e}", f.url));
            }
        }
        out
    }
}

/// Result of `extract_structured_data`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StructuredData {
    pub url: String,
    pub items: Vec<Item>,
    /// Invalid JSON-LD and missing required properties.
    pub findings: Vec<Finding>,
}

impl Render for StructuredData {
    fn render(&self) -> String {
        super::structured_render(&self.items, &self.findings)
    }
}

/// Arguments of `compare_pages`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareArgs {
    /// The first page (`url`, or `html` with `base_url`).
    pub a: PageSource,
    /// The second page.
    pub b: PageSource,
}

/// One page of a comparison.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Side {
    pub url: String,
    pub score: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub h1: Vec<String>,
    pub words: usize,
    pub indexable: bool,
    pub links: LinkCounts,
    pub structured_data_types: Vec<String>,
}

/// A check that fired on either page.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckDiff {
    pub id: String,
    pub severity: Severity,
    /// Findings of this check on page a.
    pub a: usize,
    pub b: usize,
}

/// Result of `compare_pages`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Comparison {
    pub a: Side,
    pub b: Side,
    pub checks: Vec<CheckDiff>,
    /// `a`, `b` or `tie` by score.
    pub better: String,
}

impl Render for Comparison {
    fn render(&self) -> String {
        let mut out = format!(
            "| | A | B |\n|---|---|---|\n| url | {} | {} |\n| score | {} | {} |\n| words | {} | {} |\n| title | {} | {} |\n",
            self.a.url,
            self.b.url,
            self.a.score,
            self.b.score,
            self.a.words,
            self.b.words,
            self.a.title.as_deref().unwrap_or("—"),
            self.b.title.as_deref().unwrap_or("—"),
        );
        for c in &self.checks {
            out.push_str(&format!("| {} | {} | {} |\n", c.id, c.a, c.b));
        }
        out
    }
}

/// Arguments of `suggest`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestArgs {
    /// The page's URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The page's HTML instead of `url`.
    #[serde(default)]
    pub html: Option<String>,
    /// The URL `html` is served at.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Search terms the page should rank for (optional).
    #[serde(default)]
    pub keywords: Option<Vec<String>>,
    /// Candidates of each kind (default 3, 1..=10).
    #[serde(default)]
    pub count: Option<usize>,
    /// Routes for this call, `provider:model[,provider:model…]` (default FF_LLM_PRIMARY and fallbacks, or the client's model via sampling).
    #[serde(default)]
    pub model: Option<String>,
}

/// One suggested text with its measurements.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Candidate {
    pub text: String,
    pub chars: usize,
    /// Estimated pixel width (titles).
    pub pixels: u32,
    /// Within 30–60 chars and 580 px (titles) or 70–160 chars (descriptions).
    pub within_limits: bool,
}

/// Result of `suggest`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Suggestions {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_description: Option<String>,
    pub titles: Vec<Candidate>,
    pub descriptions: Vec<Candidate>,
    /// The route that answered (`provider:model`).
    pub route: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

impl Render for Suggestions {
    fn render(&self) -> String {
        let mut out = String::from("Titles:");
        for t in &self.titles {
            out.push_str(&format!("\n- {} ({} chars)", t.text, t.chars));
        }
        out.push_str("\nDescriptions:");
        for d in &self.descriptions {
            out.push_str(&format!("\n- {} ({} chars)", d.text, d.chars));
        }
        out
    }
}

//! The site crawler: breadth-first from a start URL (and the sitemap),
//! bounded by pages, depth and time, a fixed number of fetches in flight,
//! robots.txt obeyed for a chosen user agent, every fetch through
//! `core::fetch`. State lives in [`Crawl`], so a crawl stopped by a limit
//! or a cancellation can be resumed with a new budget.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use ffmcp_core::{
    fetch::{FetchError, FetchRequest, Fetcher},
    limits::{MAX_HTML_DEPTH, html_depth},
};
use futures::{StreamExt, stream::FuturesUnordered};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::{
    audit::{self, PageReport, Response},
    robots, sitemap,
};

/// What to crawl and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub start: Url,
    /// A sitemap to seed from (default: robots.txt `Sitemap:` lines, else /sitemap.xml).
    pub sitemap: Option<Url>,
    pub max_pages: usize,
    pub max_depth: usize,
    pub time_limit: Duration,
    /// Fetches in flight (one host, so this is the per-host concurrency).
    pub concurrency: usize,
    /// Minimum spacing between request starts.
    pub delay: Duration,
    /// robots.txt product token obeyed.
    pub user_agent: String,
    pub respect_robots: bool,
}

/// One URL that produced no page.
#[derive(Debug, Clone)]
pub struct Failure {
    pub url: Url,
    pub reason: String,
    pub redirect_loop: bool,
}

/// A crawled URL that redirected to a page audited under its final URL.
#[derive(Debug, Clone)]
pub struct Redirect {
    pub from: Url,
    /// Each hop, the final URL last.
    pub hops: Vec<Url>,
}

/// Why a crawl stopped.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Every reachable page within the depth was audited.
    Complete,
    PageLimit,
    TimeLimit,
    Cancelled,
}

/// A crawl in progress or finished; resumable while `frontier` is not empty.
#[derive(Debug)]
pub struct Crawl {
    pub id: String,
    pub options: Options,
    pub robots_txt: Option<String>,
    pub sitemap_urls: Vec<Url>,
    pub sitemap_errors: Vec<String>,
    pub frontier: VecDeque<(Url, usize)>,
    pub seen: HashSet<String>,
    pub pages: Vec<PageReport>,
    pub failures: Vec<Failure>,
    /// URLs robots.txt disallowed (never fetched).
    pub blocked: Vec<Url>,
    /// URLs that redirected to a page already known.
    pub redirects: Vec<Redirect>,
    /// Target URL → (linking page, anchor tag), for broken links and orphans.
    pub linked_from: HashMap<String, Vec<(String, String)>>,
    pub seeded: bool,
    pub stop: Stop,
    /// URLs fetched (pages, failures, redirects to known pages).
    pub visited: usize,
}

/// Progress sink: (pages done, page budget, url just audited).
pub type Progress<'a> = &'a (dyn Fn(usize, usize, &str) + Send + Sync);

impl Crawl {
    pub fn new(id: String, options: Options) -> Self {
        Self {
            id,
            options,
            robots_txt: None,
            sitemap_urls: Vec::new(),
            sitemap_errors: Vec::new(),
            frontier: VecDeque::new(),
            seen: HashSet::new(),
            pages: Vec::new(),
            failures: Vec::new(),
            blocked: Vec::new(),
            redirects: Vec::new(),
            linked_from: HashMap::new(),
            seeded: false,
            stop: Stop::Complete,
            visited: 0,
        }
    }

    /// URLs fetched so far.
    pub fn done(&self) -> usize {
        self.visited
    }

    /// Crawls until done, out of pages (`more_pages` this run), out of
    /// time, or cancelled.
    pub async fn run(
        &mut self,
        fetcher: &Fetcher,
        more_pages: usize,
        cancel: &CancellationToken,
        progress: Progress<'_>,
    ) {
        let started = Instant::now();
        if !self.seeded {
            self.seed(fetcher).await;
            self.seeded = true;
        }
        let budget_end = self.done() + more_pages;
        let concurrency = self.options.concurrency.max(1);
        let mut in_flight = FuturesUnordered::new();
        let mut last_start: Option<Instant> = None;
        // URLs being fetched, put back in the frontier when the run stops early.
        let mut pending: HashMap<String, (Url, usize)> = HashMap::new();
        self.stop = Stop::Complete;
        loop {
            let out_of_time = started.elapsed() >= self.options.time_limit;
            while !out_of_time
                && !cancel.is_cancelled()
                && in_flight.len() < concurrency
                && self.done() + in_flight.len() < budget_end
            {
                let Some((url, depth)) = self.frontier.pop_front() else {
                    break;
                };
                if !self.allowed(&url) {
                    self.blocked.push(url);
                    continue;
                }
                if let Some(at) = last_start
                    && !self.options.delay.is_zero()
                {
                    let wait = self.options.delay.saturating_sub(at.elapsed());
                    tokio::time::sleep(wait).await;
                }
                last_start = Some(Instant::now());
                pending.insert(url.to_string(), (url.clone(), depth));
                in_flight.push(visit(fetcher.clone(), url, depth));
            }
            if in_flight.is_empty() {
                self.stop = if cancel.is_cancelled() {
                    Stop::Cancelled
                } else if self.frontier.is_empty() {
                    Stop::Complete
                } else if out_of_time {
                    Stop::TimeLimit
                } else {
                    Stop::PageLimit
                };
                return;
            }
            let next = tokio::select! {
                next = in_flight.next() => next,
                () = cancel.cancelled() => {
                    // Put unfinished URLs back so a resume fetches them.
                    for (_, entry) in pending.drain() {
                        self.frontier.push_front(entry);
                    }
                    self.stop = Stop::Cancelled;
                    return;
                }
            };
            let Some((url, depth, outcome)) = next else {
                continue;
            };
            pending.remove(url.as_str());
            let last = url.to_string();
            self.record(url, depth, outcome);
            let total = budget_end.min(self.done() + self.frontier.len() + in_flight.len());
            progress(self.done(), total.max(self.done()), &last);
        }
    }

    /// robots.txt, the sitemap(s), and the start URL into the frontier.
    async fn seed(&mut self, fetcher: &Fetcher) {
        let start = self.options.start.clone();
        let origin = start.origin().ascii_serialization();
        let robots = fetcher
            .fetch(
                FetchRequest::get(format!("{origin}/robots.txt"))
                    .accept("text/plain")
                    .max_body_bytes(512 * 1024),
            )
            .await;
        if let Ok(r) = &robots
            && r.is_success()
        {
            self.robots_txt = Some(String::from_utf8_lossy(&r.body).into_owned());
        }
        let mut maps: Vec<Url> = match &self.options.sitemap {
            Some(u) => vec![u.clone()],
            None => self
                .robots_txt
                .as_deref()
                .map(robots::sitemaps)
                .unwrap_or_default()
                .iter()
                .filter_map(|s| Url::parse(s).ok())
                .collect(),
        };
        let guessed = maps.is_empty();
        if guessed && let Ok(u) = start.join("/sitemap.xml") {
            maps.push(u);
        }
        self.enqueue(start, 0);
        let mut fetched_maps = 0;
        while let Some(map_url) = maps.pop() {
            fetched_maps += 1;
            if fetched_maps > 20 {
                self.sitemap_errors
                    .push("more than 20 sitemap files; the rest were not read".into());
                break;
            }
            let got = fetcher
                .fetch(
                    FetchRequest::get(map_url.as_str())
                        .accept("application/xml,text/xml,*/*")
                        .max_body_bytes(sitemap::MAX_BYTES),
                )
                .await;
            let body = match got {
                Ok(r) if r.is_success() => r.body,
                Ok(r) => {
                    if !(guessed && r.status == 404) {
                        self.sitemap_errors
                            .push(format!("{map_url} answered HTTP {}", r.status));
                    }
                    continue;
                }
                Err(e) => {
                    self.sitemap_errors.push(format!("{map_url}: {e}"));
                    continue;
                }
            };
            match sitemap::parse(&body, Some(&map_url)) {
                Ok(map) => {
                    self.sitemap_errors
                        .extend(map.errors.iter().map(|e| format!("{map_url}: {e}")));
                    for entry in map.entries {
                        let Ok(u) = Url::parse(&entry.loc) else {
                            continue;
                        };
                        match map.kind {
                            sitemap::Kind::Index => maps.push(u),
                            sitemap::Kind::Urlset => {
                                if u.host_str() == self.options.start.host_str() {
                                    self.sitemap_urls.push(u.clone());
                                    self.enqueue(u, 1);
                                }
                            }
                        }
                    }
                }
                Err(e) => self.sitemap_errors.push(format!("{map_url}: {e}")),
            }
        }
    }

    fn allowed(&self, url: &Url) -> bool {
        match (&self.robots_txt, self.options.respect_robots) {
            (Some(txt), true) => {
                robots::decide(txt, &self.options.user_agent, url.as_str()).allowed
            }
            _ => true,
        }
    }

    fn enqueue(&mut self, mut url: Url, depth: usize) {
        url.set_fragment(None);
        if depth <= self.options.max_depth
            && url.host_str() == self.options.start.host_str()
            && self.seen.insert(url.to_string())
        {
            self.frontier.push_back((url, depth));
        }
    }

    fn record(&mut self, url: Url, depth: usize, outcome: Outcome) {
        self.visited += 1;
        match outcome {
            Outcome::Page(report) => {
                let report = *report;
                if report.url != url.as_str() {
                    let hops = report
                        .redirects
                        .iter()
                        .filter_map(|h| Url::parse(h).ok())
                        .collect();
                    self.redirects.push(Redirect { from: url, hops });
                    // The final page is audited under its own URL, once.
                    if !self.seen.insert(report.url.clone()) {
                        return;
                    }
                }
                for (target, tag) in &report.site.internal_links {
                    self.linked_from
                        .entry(target.to_string())
                        .or_default()
                        .push((report.url.clone(), tag.clone()));
                    self.enqueue(target.clone(), depth + 1);
                }
                self.pages.push(report);
            }
            Outcome::Failed {
                reason,
                redirect_loop,
            } => self.failures.push(Failure {
                url,
                reason,
                redirect_loop,
            }),
        }
    }
}

enum Outcome {
    Page(Box<PageReport>),
    Failed { reason: String, redirect_loop: bool },
}

/// Fetches and audits one URL.
async fn visit(fetcher: Fetcher, url: Url, depth: usize) -> (Url, usize, Outcome) {
    let outcome = match fetch_page(&fetcher, &url).await {
        Ok((html, response, final_url)) => {
            let report = audit_fetched(html, final_url, response).await;
            match report {
                Ok(r) => Outcome::Page(Box::new(r)),
                Err(reason) => Outcome::Failed {
                    reason,
                    redirect_loop: false,
                },
            }
        }
        Err(e) => Outcome::Failed {
            redirect_loop: matches!(e, FetchError::TooManyRedirects { .. }),
            reason: e.to_string(),
        },
    };
    (url, depth, outcome)
}

/// GETs `url` as a page: the body as text, the response facts, the final URL.
pub async fn fetch_page(
    fetcher: &Fetcher,
    url: &Url,
) -> Result<(String, Response, Url), FetchError> {
    let fetched = fetcher
        .fetch(
            FetchRequest::get(url.as_str())
                .accept("text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"),
        )
        .await?;
    let headers = fetched
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned())))
        .collect();
    let response = Response {
        requested: Some(fetched.requested.clone()),
        redirects: fetched.redirects.clone(),
        status: Some(fetched.status),
        headers,
        elapsed_ms: Some(fetched.elapsed.as_millis() as u64),
        media_type: fetched.media_type(),
    };
    let html = String::from_utf8_lossy(&fetched.body).into_owned();
    Ok((html, response, fetched.url))
}

/// Audits fetched HTML off the async workers when large; refuses HTML that
/// nests deeper than [`MAX_HTML_DEPTH`].
pub async fn audit_fetched(
    html: String,
    url: Url,
    response: Response,
) -> Result<PageReport, String> {
    let depth = html_depth(&html);
    if depth > MAX_HTML_DEPTH {
        return Err(format!(
            "{url}: the HTML nests about {depth} levels deep (limit {MAX_HTML_DEPTH}); not parsed"
        ));
    }
    let len = html.len();
    let html = Arc::new(html);
    ffmcp_core::tool::cpu_work(len, move || audit::audit(&html, &url, &response))
        .await
        .map_err(|e| e.to_string())
}

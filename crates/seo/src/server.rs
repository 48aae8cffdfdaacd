//! The MCP edge of seo: argument and result types (their doc comments are
//! the schemas an agent reads), the tools, progress and cancellation.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use ffmcp_core::{
    Json, Render, ToolError,
    fetch::{FetchError, FetchLimits, FetchPolicy, FetchRequest, Fetcher},
    limits::{DEFAULT_MAX_INPUT_BYTES, check_size},
    model::Router,
    output,
    roots::Roots,
    store::Store,
    subscriptions::{self, Subscriptions, Updates},
};
use rmcp::{
    RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{ServerCapabilities, ServerConfig},
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    audit::{PageReport, Response},
    crawl::{self, Crawl, Stop},
    crawls,
    finding::{Finding, Severity},
    report, robots, site, sitemap,
    structured::Item,
};

mod prompts;
mod resources;
mod site_audit;
mod tools;
mod types;

pub use types::SiteReport;

/// Environment variable: fetches in flight per host (default 8).
pub const CONCURRENCY_ENV: &str = "FF_SEO_MAX_CONCURRENCY";
/// What every session shares (built once per process by [`crate::spec`]).
pub(crate) struct Shared {
    fetcher: Result<Fetcher, String>,
    roots: Result<Roots, String>,
    router: Arc<Router>,
    config: Arc<ffmcp_core::Config>,
    /// The database crawls are kept in, opened at the first `audit_site`.
    store: tokio::sync::OnceCell<Result<Store, String>>,
    retention: crawls::Retention,
    /// Ids of the crawls running now (a crawl runs in one call at a time).
    running: std::sync::Mutex<std::collections::HashSet<String>>,
    max_concurrency: usize,
    /// `seo://crawls/{id}` updates: published when a crawl is saved.
    updates: Updates,
}

impl Shared {
    pub(crate) fn new(config: Arc<ffmcp_core::Config>, router: Arc<Router>) -> Arc<Self> {
        let max_concurrency = config
            .get(CONCURRENCY_ENV)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| (1..=64).contains(n))
            .unwrap_or(8);
        let fetcher = FetchPolicy::from_config(&config).and_then(|policy| {
            Fetcher::builder()
                .policy(policy)
                .limits(FetchLimits {
                    per_host_concurrency: max_concurrency,
                    ..FetchLimits::default()
                })
                .build()
                .map_err(|e| e.to_string())
        });
        Arc::new(Shared {
            fetcher,
            roots: Roots::from_config(&config).map_err(|e| e.to_string()),
            router,
            store: tokio::sync::OnceCell::new(),
            retention: crawls::Retention::from_lookup(&|k| config.lookup(k)),
            running: std::sync::Mutex::new(std::collections::HashSet::new()),
            max_concurrency,
            config,
            updates: Updates::new(),
        })
    }
}

fn fetcher(shared: &Shared) -> Result<&Fetcher, ToolError> {
    shared
        .fetcher
        .as_ref()
        .map_err(|e| ToolError::invalid(format!("the fetch policy is invalid: {e}")))
}

/// A page given by URL, or as HTML with the URL it belongs to.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageSource {
    /// The page's http(s) URL. Private and loopback addresses are refused
    /// unless allowed by FF_ALLOW_HOSTS / FF_ALLOW_PRIVATE_NETWORK.
    #[serde(default)]
    pub url: Option<String>,
    /// The page's HTML, instead of fetching `url` (no HTTP checks then).
    #[serde(default)]
    pub html: Option<String>,
    /// The URL `html` is served at, to resolve links (default https://example.invalid/).
    #[serde(default)]
    pub base_url: Option<String>,
}

/// A loaded page.
struct Loaded {
    html: String,
    url: Url,
    response: Response,
}

fn parse_url(arg: &str, value: &str) -> Result<Url, ToolError> {
    let url = Url::parse(value.trim()).map_err(|e| {
        ToolError::invalid(format!(
            "'{arg}' must be an absolute http(s) URL such as https://example.com/; got '{value}' ({e})"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ToolError::invalid(format!(
            "'{arg}' must be http or https; got '{value}'"
        )));
    }
    Ok(url)
}

fn fetch_error(e: FetchError) -> ToolError {
    if e.is_refusal() {
        ToolError::invalid(e.to_string())
    } else {
        ToolError::upstream(e.to_string())
    }
}

impl PageSource {
    async fn load(&self, shared: &Shared) -> Result<Loaded, ToolError> {
        match (&self.url, &self.html) {
            (Some(_), Some(_)) => Err(ToolError::invalid(
                "give either 'url' or 'html' (with 'base_url'), not both",
            )),
            (None, None) => Err(ToolError::invalid(
                "give 'url' (to fetch the page) or 'html' (with 'base_url')",
            )),
            (Some(url), None) => {
                let url = parse_url("url", url)?;
                let (html, response, final_url) = crawl::fetch_page(fetcher(shared)?, &url)
                    .await
                    .map_err(fetch_error)?;
                Ok(Loaded {
                    html,
                    url: final_url,
                    response,
                })
            }
            (None, Some(html)) => {
                check_size("html", html, DEFAULT_MAX_INPUT_BYTES)?;
                let base = self
                    .base_url
                    .as_deref()
                    .unwrap_or("https://example.invalid/");
                Ok(Loaded {
                    html: html.clone(),
                    url: parse_url("base_url", base)?,
                    response: Response::default(),
                })
            }
        }
    }

    async fn audit(&self, shared: &Shared) -> Result<(PageReport, Loaded), ToolError> {
        let loaded = self.load(shared).await?;
        let report = crawl::audit_fetched(
            loaded.html.clone(),
            loaded.url.clone(),
            loaded.response.clone(),
        )
        .await
        .map_err(ToolError::invalid)?;
        Ok((report, loaded))
    }
}

/// Images at most this large pass `img-oversized`.
const MAX_IMAGE_BYTES: u64 = 200 * 1024;
/// Images fetched per page for the size check.
const MAX_IMAGES_CHECKED: usize = 20;

/// Fetches up to 20 same-host images with a 200 KiB cap: over the cap is
/// `img-oversized`.
async fn oversized_images(shared: &Shared, report: &PageReport) -> Vec<Finding> {
    let Ok(fetcher) = fetcher(shared) else {
        return Vec::new();
    };
    let host = Url::parse(&report.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    let checks = report
        .site
        .images
        .iter()
        .filter(|(u, _)| u.host_str().map(str::to_owned) == host)
        .take(MAX_IMAGES_CHECKED)
        .map(|(url, tag)| async move {
            let got = fetcher
                .fetch(
                    FetchRequest::get(url.as_str())
                        .accept("image/*")
                        .max_body_bytes(MAX_IMAGE_BYTES),
                )
                .await;
            matches!(got, Err(FetchError::TooLarge { .. })).then(|| {
                Finding::new(
                    "img-oversized",
                    format!("image {url} is over {} KiB", MAX_IMAGE_BYTES / 1024),
                    "Compress the image (WebP/AVIF), size it to its display size, and use srcset.",
                )
                .evidence(tag)
                .at(report.url.clone())
            })
        });
    futures::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// `blocked-by-robots` when the site's robots.txt disallows `url` for
/// Googlebot (the crawler that matters for search; ffmcp's own fetch of the
/// page does not consult robots.txt, so blocked pages can still be audited).
async fn robots_block(shared: &Shared, url: &str) -> Option<Finding> {
    let url = Url::parse(url).ok()?;
    let robots_url = format!("{}/robots.txt", url.origin().ascii_serialization());
    let got = fetcher(shared)
        .ok()?
        .fetch(
            FetchRequest::get(&robots_url)
                .accept("text/plain")
                .max_body_bytes(512 * 1024),
        )
        .await
        .ok()
        .filter(|r| r.is_success())?;
    let txt = String::from_utf8_lossy(&got.body);
    let verdict = robots::decide(&txt, "Googlebot", url.as_str());
    if verdict.allowed {
        return None;
    }
    Some(
        Finding::new(
            "blocked-by-robots",
            "robots.txt disallows this page for Googlebot, so it cannot be crawled",
            "Remove or narrow the Disallow rule if the page should appear in search results.",
        )
        .evidence(format!(
            "{} (robots.txt line {}, group {})",
            verdict.rule.unwrap_or_default(),
            verdict.line.unwrap_or(0),
            verdict.group.unwrap_or_default()
        ))
        .at(url.to_string()),
    )
}

/// The seo server.
#[derive(Clone)]
pub struct Seo {
    /// Shared by every session: cloning it per session (or per stateless
    /// request) would copy every tool definition.
    tool_router: Arc<ToolRouter<Self>>,
    /// This session's `resources/subscribe` subscriptions (see
    /// [`Seo::for_session`]).
    subscriptions: Subscriptions,
    shared: Arc<Shared>,
}

impl Default for Seo {
    fn default() -> Self {
        Self::new()
    }
}

impl Render for PageReport {
    fn render(&self) -> String {
        report::page_markdown(self)
    }
}

/// Sends progress notifications when the client asked for them.
/// A progress callback for the crawler.
type ProgressSink = Box<dyn Fn(usize, usize, &str) + Send + Sync>;

/// Each message names the crawl, so a client that cancels can still `resume` it.
fn progress_sink(ctx: &RequestContext<RoleServer>, crawl_id: &str) -> ProgressSink {
    match ffmcp_core::progress::Progress::of(ctx) {
        None => Box::new(|_, _, _| {}),
        Some(progress) => {
            let crawl_id = crawl_id.to_owned();
            Box::new(move |done, total, url| {
                progress.report(
                    done as u64,
                    Some(total as u64),
                    Some(format!("{crawl_id}: audited {url}")),
                );
            })
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Seo {
    async fn list_prompts(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListPromptsResult, rmcp::ErrorData> {
        Ok(prompts::CATALOG.list())
    }

    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, rmcp::ErrorData> {
        prompts::get(&request)
    }

    async fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, rmcp::ErrorData> {
        prompts::complete(&request)
    }

    async fn list_resources(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
        resources::list(&self.shared).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, rmcp::ErrorData> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
        resources::read(&self.shared, &request.uri)
            .await
            .map(Into::into)
    }

    #[allow(deprecated)] // resources/subscribe: the 2025-11-25 way, kept for those clients.
    async fn subscribe(
        &self,
        request: rmcp::model::SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), rmcp::ErrorData> {
        resources::read(&self.shared, &request.uri).await?;
        self.subscriptions
            .subscribe(&request.uri, &context.peer)
            .await;
        Ok(())
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: rmcp::model::UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), rmcp::ErrorData> {
        self.subscriptions.unsubscribe(&request.uri);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &rmcp::model::SubscriptionFilter,
    ) -> Option<rmcp::model::SubscriptionFilter> {
        Some(subscriptions::accepted(requested, resources::watchable))
    }

    async fn listen(
        &self,
        context: rmcp::service::SubscriptionContext,
    ) -> Result<(), rmcp::ErrorData> {
        // Open the store: crawls saved by other processes reach the hub
        // from then on.
        store(&self.shared)
            .await
            .map_err(|e| rmcp::ErrorData::internal_error(e.to_string(), None))?;
        self.shared.updates.listen(context).await
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder()
                .enable_completions()
                .enable_prompts()
                .enable_resources()
                .enable_resources_subscribe()
                .enable_tools()
                .build())
            .with_server_info(ffmcp_core::server::server_info(
            "ffmcp-seo",
            env!("CARGO_PKG_VERSION"),
            crate::TITLE,
        ))
            .with_instructions(
                "SEO audits. `audit_page` (one URL or raw HTML: findings with evidence and fixes, \
                 0-100 score), `audit_site` (bounded crawl with site-level findings; resumable by \
                 crawl_id; optional CSV/JSON report under the allowed roots), `check_robots`, \
                 `parse_sitemap`, `extract_structured_data`, `compare_pages`, `suggest` (title and \
                 description rewrites; needs a model). URLs must be public unless FF_ALLOW_HOSTS allows them.",
            )
    }
}

impl ffmcp_core::Tools for Seo {
    fn tools(&self) -> &ToolRouter<Self> {
        &self.tool_router
    }

    /// Long calls run as MCP tasks: site crawls; a re-run is a new crawl of the same site.
    fn task_tools(&self) -> &'static [&'static str] {
        &["audit_site"]
    }
}

/// The store, opened (`FF_DB`) and migrated once.
async fn store(shared: &Shared) -> Result<&Store, ToolError> {
    shared
        .store
        .get_or_init(|| async {
            let store = Store::open_default(&shared.config).map_err(|e| e.to_string())?;
            store
                .migrate(&crawls::SCHEMA)
                .await
                .map_err(|e| e.to_string())?;
            // Crawls saved by any process on the database reach this one's
            // subscribers.
            shared.updates.share(&store);
            Ok(store)
        })
        .await
        .as_ref()
        .map_err(|e| ToolError::internal(format!("the crawl store could not be opened: {e}")))
}

/// Marks a crawl as running for as long as it lives.
struct Running(Arc<Shared>, String);

impl Running {
    fn claim(shared: &Arc<Shared>, id: &str) -> Option<Self> {
        let mut running = shared.running.lock().unwrap_or_else(|p| p.into_inner());
        running
            .insert(id.to_owned())
            .then(|| Running(shared.clone(), id.to_owned()))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(|p| p.into_inner());
        running.remove(&self.1);
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn new_crawl_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "crawl-{:x}-{:x}-{}",
        nanos & 0xffff_ffff,
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Counts of one check id across a site.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IdCount {
    pub id: String,
    pub severity: Severity,
    pub count: usize,
}

/// Per-id counts, most severe and most frequent first.
fn count_ids<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<IdCount> {
    let mut map: HashMap<&str, (Severity, usize)> = HashMap::new();
    for f in findings {
        map.entry(&f.id).or_insert((f.severity, 0)).1 += 1;
    }
    let mut out: Vec<IdCount> = map
        .into_iter()
        .map(|(id, (severity, count))| IdCount {
            id: id.to_owned(),
            severity,
            count,
        })
        .collect();
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(b.count.cmp(&a.count))
            .then(a.id.cmp(&b.id))
    });
    out
}

fn structured_render(items: &[Item], findings: &[Finding]) -> String {
    let mut out = format!("{} structured data items", items.len());
    for i in items {
        out.push_str(&format!("\n- {} ({})", i.types.join("/"), i.syntax));
        if !i.missing.is_empty() {
            out.push_str(&format!(": missing {}", i.missing.join(", ")));
        }
    }
    for f in findings
        .iter()
        .filter(|f| f.id == "structured-data-invalid")
    {
        out.push_str(&format!("\n- invalid: {}", f.message));
    }
    out
}

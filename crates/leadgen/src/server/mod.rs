//! The MCP edge of leadgen: argument and result types (their doc comments
//! are the schemas an agent reads) and the lead tools; the batch-job tools
//! are in [`jobs`].

mod jobs;
mod prompts;
mod resources;
mod types;

use std::sync::Arc;

use ffmcp_core::{
    Json, ToolError,
    fetch::{FetchRequest, Fetcher},
    limits::{DEFAULT_MAX_INPUT_BYTES, check_size},
    model::Router,
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
use tokio::sync::OnceCell;

use crate::{
    dedupe::{self, DedupeOptions},
    dns,
    enrich::{self, SiteCheck},
    extract::{self, Extraction},
    jobs::{Engine, JobSettings},
    lead::Lead,
    normalize::{self, Region},
    score,
};
pub use types::*;

/// Most leads one call takes.
pub const MAX_LEADS: usize = 10_000;

/// How often the engine looks for jobs other processes on the same
/// database started, to share their leads.
const JOIN_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// What every session shares (built once per process by [`crate::spec`]).
pub(crate) struct Shared {
    fetcher: Result<Fetcher, String>,
    roots: Result<Roots, String>,
    config: Arc<ffmcp_core::Config>,
    router: Arc<Router>,
    engine: OnceCell<Result<Engine, String>>,
    /// `leadgen://jobs/{id}` updates, published by the job engine.
    updates: Updates,
}

impl Shared {
    /// The shared state; when a runtime is running, unfinished jobs of a
    /// process that was killed mid-job are picked up at once.
    pub(crate) fn new(config: Arc<ffmcp_core::Config>, router: Arc<Router>) -> Arc<Self> {
        let shared = Arc::new(Self {
            fetcher: Fetcher::from_config(&config).map_err(|e| e.to_string()),
            roots: Roots::from_config(&config).map_err(|e| e.to_string()),
            config,
            router,
            engine: OnceCell::new(),
            updates: Updates::new(),
        });
        if tokio::runtime::Handle::try_current().is_ok() {
            let resume = shared.clone();
            tokio::spawn(async move {
                let _ = resume.engine().await;
            });
        }
        shared
    }

    /// The job engine on `FF_DB`, opened (and unfinished jobs resumed) once.
    async fn engine(&self) -> Result<&Engine, ToolError> {
        let engine = self
            .engine
            .get_or_init(|| async {
                let store = Store::open_default(&self.config).map_err(|e| e.to_string())?;
                // Job updates from every process on the database reach
                // this one's subscribers, and this one's reach theirs.
                self.updates.share(&store);
                let settings = JobSettings::from_lookup(&|k| self.config.lookup(k));
                let engine = Engine::open(store, self.router.clone(), settings)
                    .await
                    .map_err(|e| e.to_string())?;
                let updates = self.updates.clone();
                engine.on_change(Arc::new(move |id| updates.publish(&resources::uri(id))));
                if let Err(e) = engine.resume_unfinished().await {
                    tracing::error!(error = %e, "leadgen: could not resume unfinished jobs");
                }
                // Jobs started later by other processes on the database.
                engine.keep_joining(JOIN_EVERY);
                Ok(engine)
            })
            .await;
        engine.as_ref().map_err(|e| {
            ToolError::internal(format!("the leadgen job database is unavailable: {e}"))
        })
    }
}

/// The leadgen server.
#[derive(Clone)]
pub struct Leadgen {
    /// Shared by every session: cloning it per session (or per stateless
    /// request) would copy every tool definition.
    tool_router: Arc<ToolRouter<Self>>,
    /// This session's `resources/subscribe` subscriptions (see
    /// [`Leadgen::for_session`]).
    subscriptions: Subscriptions,
    shared: Arc<Shared>,
}

impl Default for Leadgen {
    fn default() -> Self {
        Self::new()
    }
}

fn check_leads(leads: &[Lead]) -> Result<(), ToolError> {
    if leads.len() > MAX_LEADS {
        return Err(ToolError::invalid(format!(
            "'leads' has {} entries; the limit is {MAX_LEADS} per call",
            leads.len()
        )));
    }
    Ok(())
}

fn region(code: Option<&str>) -> Result<Region, ToolError> {
    code.map_or(Ok(Region::default()), |c| {
        Region::parse(c).map_err(|e| ToolError::invalid(format!("argument 'region': {e}")))
    })
}

#[tool_router]
impl Leadgen {
    /// A server configured from the process environment (tests, tools).
    pub fn new() -> Self {
        let config = Arc::new(ffmcp_core::Config::from_env());
        let router = Arc::new(Router::from_config(&config));
        Self::with_shared(Shared::new(config, router))
    }

    /// A session's server on the process's shared state.
    pub(crate) fn with_shared(shared: Arc<Shared>) -> Self {
        Self {
            tool_router: Arc::new(ffmcp_core::schema::standard_schemas(
                Self::tool_router() + Self::job_router(),
            )),
            subscriptions: shared.updates.session(),
            shared,
        }
    }

    /// A new session's value from a built template: the tool router is
    /// cloned, the subscriptions are the session's own (a clone would
    /// share the template's, and send one session's updates to another).
    pub(crate) fn for_session(&self) -> Self {
        Self {
            tool_router: self.tool_router.clone(),
            subscriptions: self.shared.updates.session(),
            shared: self.shared.clone(),
        }
    }

    /// Find people and organisations in a page (URL or HTML) or plain text:
    /// schema.org JSON-LD and microdata, hCard, team/about page cards,
    /// mailto/tel links and text patterns. Each lead has its source URL,
    /// the method that found it and an evidence snippet; by default the
    /// leads come back normalised.
    #[tool(
        title = "Extract leads from a page or text",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn extract_leads(
        &self,
        Parameters(args): Parameters<ExtractArgs>,
    ) -> Result<Json<Extracted>, ToolError> {
        let given = [args.url.is_some(), args.html.is_some(), args.text.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(ToolError::invalid(
                "give exactly one of 'url', 'html' or 'text'",
            ));
        }
        let region = region(args.region.as_deref())?;
        let base = match &args.base_url {
            Some(b) => Some(url::Url::parse(b).map_err(|e| {
                ToolError::invalid(format!("argument 'base_url': '{b}' is not a URL ({e})"))
            })?),
            None => None,
        };
        let (source, body, base, is_html) = if let Some(url) = &args.url {
            let fetcher = self
                .shared
                .fetcher
                .as_ref()
                .map_err(|e| ToolError::invalid(format!("the fetch policy is invalid: {e}")))?;
            let page = fetcher
                .fetch(
                    FetchRequest::get(url)
                        .accept("text/html,application/xhtml+xml,text/plain;q=0.8"),
                )
                .await
                .map_err(|e| ToolError::upstream(e.to_string()))?;
            if !page.is_success() {
                return Err(ToolError::upstream(format!(
                    "{url} answered HTTP {}",
                    page.status
                )));
            }
            let is_html = page
                .media_type()
                .is_none_or(|m| m.contains("html") || m.contains("xml"));
            let body = String::from_utf8_lossy(&page.body).into_owned();
            (page.url.to_string(), body, Some(page.url), is_html)
        } else if let Some(html) = args.html {
            check_size("html", &html, DEFAULT_MAX_INPUT_BYTES)?;
            let label = base
                .as_ref()
                .map_or_else(|| "the given HTML".to_owned(), ToString::to_string);
            (label, html, base, true)
        } else {
            let text = args.text.unwrap_or_default();
            check_size("text", &text, DEFAULT_MAX_INPUT_BYTES)?;
            let label = base
                .as_ref()
                .map_or_else(|| "the given text".to_owned(), ToString::to_string);
            (label, text, base, false)
        };
        let normalise = args.normalize.unwrap_or(true);
        let work = move || -> Result<Extraction, String> {
            let mut found = if is_html {
                extract::extract_html(&body, base.as_ref()).map_err(|e| e.to_string())?
            } else {
                extract::extract_text(&body, base.as_ref())
            };
            if normalise {
                for lead in &mut found.leads {
                    normalize::normalize(lead, region);
                }
            }
            Ok(found)
        };
        let size = source.len();
        let found = ffmcp_core::tool::cpu_work(size.max(64 * 1024), work)
            .await?
            .map_err(|e| ToolError::invalid(format!("argument 'html': {e}")))?;
        Ok(Json(Extracted {
            source,
            leads: found.leads,
            warnings: found.warnings,
        }))
    }

    /// Clean leads: names split and cased, emails checked (invalid ones
    /// dropped and reported), phones to E.164 for a default region, company
    /// domain from the website or a work email, title to seniority and
    /// function.
    #[tool(
        title = "Normalize leads",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn normalize_leads(
        &self,
        Parameters(args): Parameters<NormalizeArgs>,
    ) -> Result<Json<Normalized>, ToolError> {
        check_leads(&args.leads)?;
        let region = region(args.region.as_deref())?;
        let mut leads = args.leads;
        let mut rejected = Vec::new();
        for (index, lead) in leads.iter_mut().enumerate() {
            let fixes = normalize::normalize(lead, region);
            if !fixes.rejected.is_empty() {
                rejected.push(Rejection {
                    index,
                    problems: fixes.rejected,
                });
            }
        }
        Ok(Json(Normalized { leads, rejected }))
    }

    /// Merge duplicate leads: the same email, the same name at the same
    /// company or domain, and (fuzzy) similar names at the same company.
    /// Returns the merged list and a report of what merged and why.
    #[tool(
        title = "Merge duplicate leads",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn dedupe_leads(
        &self,
        Parameters(args): Parameters<DedupeArgs>,
    ) -> Result<Json<Deduped>, ToolError> {
        check_leads(&args.leads)?;
        let threshold = args.threshold.unwrap_or(0.92);
        if !(0.8..=1.0).contains(&threshold) {
            return Err(ToolError::invalid("'threshold' must be between 0.8 and 1"));
        }
        let input_count = args.leads.len();
        let options = DedupeOptions {
            fuzzy: args.fuzzy.unwrap_or(true),
            threshold,
        };
        let out = dedupe::dedupe(args.leads, options);
        Ok(Json(Deduped {
            leads: out.leads,
            merges: out.merges,
            input_count,
        }))
    }

    /// Check leads' emails and websites: MX records of each email domain,
    /// disposable domains, role addresses (info@, sales@), free-mail versus
    /// company domains, and (opt-in) whether the website answers. No SMTP
    /// probing.
    #[tool(
        title = "Check leads' emails and websites",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn enrich_leads(
        &self,
        Parameters(args): Parameters<EnrichArgs>,
    ) -> Result<Json<Enriched>, ToolError> {
        check_leads(&args.leads)?;
        let cache = if args.check_mx.unwrap_or(true) {
            enrich::lookup_domains(
                &args.leads,
                dns::server_from_env(),
                std::time::Duration::from_secs(3),
            )
            .await
        } else {
            enrich::MxCache::new()
        };
        let mut sites: std::collections::HashMap<String, SiteCheck> =
            std::collections::HashMap::new();
        if args.check_website.unwrap_or(false) {
            let fetcher = self
                .shared
                .fetcher
                .as_ref()
                .map_err(|e| ToolError::invalid(format!("the fetch policy is invalid: {e}")))?;
            let mut urls: Vec<String> = args.leads.iter().filter_map(site_url).collect();
            urls.sort();
            urls.dedup();
            let checks = check_sites(fetcher, urls).await;
            sites.extend(checks.into_iter().map(|c| (c.url.clone(), c)));
        }
        let leads = args
            .leads
            .into_iter()
            .map(|lead| EnrichedLead {
                emails: lead
                    .emails
                    .iter()
                    .map(|e| enrich::check_email(e, &cache))
                    .collect(),
                website: site_url(&lead).and_then(|u| sites.get(&u).cloned()),
                lead,
            })
            .collect();
        Ok(Json(Enriched { leads }))
    }

    /// Score leads against an ideal customer profile (titles, seniorities,
    /// functions, industries, geographies, company size, must-have and
    /// must-not rules), with the reasons for every score; best first.
    #[tool(
        title = "Score leads against a profile",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn score_leads(
        &self,
        Parameters(args): Parameters<ScoreArgs>,
    ) -> Result<Json<Scored>, ToolError> {
        check_leads(&args.leads)?;
        let mut leads: Vec<ScoredLead> = args
            .leads
            .into_iter()
            .map(|lead| ScoredLead {
                score: score::score(&lead, &args.profile),
                lead,
            })
            .collect();
        leads.sort_by_key(|l| std::cmp::Reverse(l.score.score));
        Ok(Json(Scored { leads }))
    }
}

/// The website to check for a lead: its website, else its company domain.
fn site_url(lead: &Lead) -> Option<String> {
    lead.website.clone().or_else(|| {
        lead.company_domain
            .as_ref()
            .map(|d| format!("https://{d}/"))
    })
}

/// Fetches each URL (a few at a time) and reports whether it answered.
async fn check_sites(fetcher: &Fetcher, urls: Vec<String>) -> Vec<SiteCheck> {
    let mut set = tokio::task::JoinSet::new();
    let mut out = Vec::new();
    let mut pending = urls.into_iter();
    loop {
        while set.len() < 8 {
            let Some(url) = pending.next() else { break };
            let fetcher = fetcher.clone();
            set.spawn(async move {
                match fetcher
                    .fetch(FetchRequest::get(&url).max_body_bytes(256 * 1024))
                    .await
                {
                    Ok(page) => SiteCheck {
                        reachable: page.status < 500,
                        status: Some(page.status),
                        error: None,
                        url,
                    },
                    Err(e) => SiteCheck {
                        reachable: false,
                        status: None,
                        error: Some(e.to_string()),
                        url,
                    },
                }
            });
        }
        match set.join_next().await {
            Some(Ok(check)) => out.push(check),
            Some(Err(_)) => {}
            None => return out,
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Leadgen {
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
        prompts::complete(&self.shared, &request).await
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
        resources::exists(&self.shared, &request.uri).await?;
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
        // Open the engine: its changes reach the hub from then on.
        self.shared
            .engine()
            .await
            .map_err(|e| rmcp::ErrorData::internal_error(e.to_string(), None))?;
        self.shared.updates.listen(context).await
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_completions()
                .enable_prompts()
                .enable_resources()
                .enable_resources_subscribe()
                .enable_tools()
                .build(),
        )
        .with_server_info(ffmcp_core::server::server_info(
            "ffmcp-leadgen",
            env!("CARGO_PKG_VERSION"),
            crate::TITLE,
        ))
        .with_instructions(
            "Leads from pages and lists. Pipeline: `extract_leads` (url, html or text) → \
                 `normalize_leads` → `dedupe_leads` → `enrich_leads` → `score_leads`; \
                 `job_start` classifies many leads with a model in a durable batch \
                 (`job_status`, `job_results`, `job_cancel`, `job_resume`, `job_delete`); \
                 `export_leads` writes CSV or JSON. Lead data is personal data: \
                 delete jobs you no longer need.",
        )
    }
}

impl ffmcp_core::Tools for Leadgen {
    fn tools(&self) -> &ToolRouter<Self> {
        &self.tool_router
    }

    /// Long calls run as MCP tasks: page fetching and model enrichment over many URLs; re-runnable.
    fn task_tools(&self) -> &'static [&'static str] {
        &["extract_leads", "enrich_leads"]
    }
}

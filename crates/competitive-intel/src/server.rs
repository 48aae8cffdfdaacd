//! The MCP edge of competitive-intel: tools, resources, subscriptions.
//! Argument and result types live in [`args`]; their doc comments are the
//! schemas an agent reads.

mod args;
mod prompts;

use std::sync::Arc;

use ffmcp_core::{
    Json, ToolError, freshness,
    model::{Call, Request, Router},
    output,
    roots::Roots,
    subscriptions::{self, Subscriptions, Updates},
};
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{
        ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams,
        ReadResourceResponse, ServerCapabilities, ServerConfig, SubscribeRequestParams,
        SubscriptionFilter, UnsubscribeRequestParams,
    },
    service::{RequestContext, SubscriptionContext},
    tool, tool_handler, tool_router,
};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

pub use args::*;

use crate::{
    db::{self, NewWatch},
    diff, engine,
    engine::{Engine, IntelError, Want},
    export, feed, page,
    resources::{self, Topic},
};

/// Changes sent to a model by `summarize_changes`.
const MAX_SUMMARY_CHANGES: i64 = 200;
const SUMMARY_SYSTEM: &str = "You write short competitive-intelligence digests. Use only the \
changes given; do not invent products, prices, dates or intentions. Group by competitor, lead with \
what matters most (launches, pricing, hiring), and cite each item's link.";

/// What every session and the scheduler share (built once per process by
/// [`crate::spec`]).
pub(crate) struct Shared {
    config: Arc<ffmcp_core::Config>,
    router: Arc<Router>,
    engine: OnceCell<Result<Engine, String>>,
    /// Resource updates (the engine's topics, bridged once it opens).
    updates: Updates,
    /// The tool router with its schemas, generated once and cloned into
    /// each session (a stateless request included).
    tools: std::sync::OnceLock<Arc<ToolRouter<CompetitiveIntel>>>,
}

impl Shared {
    pub(crate) fn new(config: Arc<ffmcp_core::Config>, router: Arc<Router>) -> Arc<Self> {
        Arc::new(Self {
            config,
            router,
            engine: OnceCell::new(),
            updates: Updates::new(),
            tools: std::sync::OnceLock::new(),
        })
    }

    /// The engine, opened on first use.
    pub(crate) async fn engine(&self) -> Result<&Engine, ToolError> {
        self.engine
            .get_or_init(|| async {
                let engine = Engine::from_config(&self.config)
                    .await
                    .map_err(|e| e.to_string())?;
                resources::bridge(&engine, self.updates.clone());
                // Changes found by any process on the database (another
                // replica, a --daemon) reach this one's subscribers.
                self.updates.share(&engine.store);
                Ok(engine)
            })
            .await
            .as_ref()
            .map_err(|e| ToolError::internal(format!("competitive-intel could not start: {e}")))
    }

    /// The scheduler: runs for as long as the process serves (or `--daemon`).
    pub(crate) async fn run_background(&self) -> Result<(), String> {
        // Nothing is due before a watch exists, so before the database does:
        // serving (or `ffmcp serve` for other servers) never creates one.
        let location = ffmcp_core::store::Location::from_config(&self.config);
        while !location.may_hold_data() {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
        let engine = self.engine().await.map_err(|e| e.to_string())?;
        tracing::info!(db = %engine.store.describe(), "competitive-intel scheduler started");
        engine.run_scheduler(CancellationToken::new()).await;
        Ok(())
    }
}

fn tool_error(e: IntelError) -> ToolError {
    match e {
        IntelError::Invalid(m) => ToolError::invalid(m),
        IntelError::Upstream(m) => ToolError::upstream(m),
        IntelError::Store(e) => ToolError::internal(e.to_string()),
    }
}

/// The competitive-intel server (one per session; the engine is shared).
#[derive(Clone)]
pub struct CompetitiveIntel {
    /// Shared by every session: cloning it per session (or per stateless
    /// request) would copy every tool definition.
    tool_router: Arc<ToolRouter<Self>>,
    subscriptions: Subscriptions,
    shared: Arc<Shared>,
}

impl Default for CompetitiveIntel {
    fn default() -> Self {
        Self::new()
    }
}

impl CompetitiveIntel {
    async fn watch_by_id(engine: &Engine, id: i64) -> Result<db::Watch, ToolError> {
        engine
            .db(move |c| db::watch(c, id))
            .await
            .map_err(tool_error)?
            .ok_or_else(|| {
                ToolError::invalid(format!(
                    "no watch with id {id}; call watch_list for the ids"
                ))
            })
    }
}

#[tool_router]
impl CompetitiveIntel {
    /// A server configured from the process environment (tests, tools).
    pub fn new() -> Self {
        let config = Arc::new(ffmcp_core::Config::from_env());
        let router = Arc::new(Router::from_config(&config));
        Self::with_shared(Shared::new(config, router))
    }

    /// A session's server on the process's shared state.
    pub(crate) fn with_shared(shared: Arc<Shared>) -> Self {
        Self {
            tool_router: shared
                .tools
                .get_or_init(|| Arc::new(ffmcp_core::schema::standard_schemas(Self::tool_router())))
                .clone(),
            subscriptions: shared.updates.session(),
            shared,
        }
    }

    /// Watch a competitor's feed (RSS, Atom, JSON Feed; an HTML page's
    /// announced feed is found automatically) or a page region (CSS
    /// selector, minus ignore-selectors for timestamps and ads). Checks it
    /// once now (the baseline) and then every `interval_secs`.
    #[tool(
        title = "Watch a feed or page",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn watch_add(
        &self,
        Parameters(args): Parameters<WatchAddArgs>,
    ) -> Result<Json<WatchAdded>, ToolError> {
        let engine = self.shared.engine().await?;
        let url = args::check_url(&args.url)?;
        let interval = args::interval(args.interval_secs, &engine.settings)?;
        let region = page::Region {
            selector: args.selector.clone().filter(|s| !s.trim().is_empty()),
            ignore: args.ignore_selectors.clone(),
        };
        region
            .validate()
            .map_err(|e| ToolError::invalid(e.to_string()))?;
        let want = match args.kind.unwrap_or_default() {
            WatchKind::Auto if region.selector.is_some() || !region.ignore.is_empty() => Want::Page,
            WatchKind::Auto => Want::Auto,
            WatchKind::Feed => Want::Feed,
            WatchKind::Page => Want::Page,
        };
        let max_watches = engine.settings.max_watches;
        let count = engine.db(db::watch_count).await.map_err(tool_error)?;
        if count >= max_watches {
            return Err(too_many_watches(count, max_watches));
        }
        let probe = engine.probe(&url, want).await.map_err(tool_error)?;
        let new = NewWatch {
            url: url.clone(),
            kind: probe.kind.to_owned(),
            feed_url: probe.feed_url.clone(),
            selector: region.selector,
            ignore: region.ignore,
            interval_secs: interval,
            tags: args::tags(Some(args.tags))?,
            competitor: args.competitor.filter(|c| !c.trim().is_empty()),
        };
        let now = engine::now_rfc3339();
        let due = chrono::Utc::now().timestamp() + interval;
        let inserted = engine
            .db(move |c| db::insert_watch(c, &new, &now, due, max_watches))
            .await
            .map_err(tool_error)?;
        let watch = match inserted {
            db::Inserted::Added(watch) => *watch,
            db::Inserted::Duplicate => {
                return Err(ToolError::invalid(format!(
                    "{url} is already watched with this selector; use watch_update to change it"
                )));
            }
            db::Inserted::Full(count) => return Err(too_many_watches(count, max_watches)),
        };
        let first_check = engine.check(&watch).await;
        engine.announce(Topic::Watches);
        let watch = Self::watch_by_id(engine, watch.id).await?;
        Ok(Json(WatchAdded {
            watch,
            feed_title: probe.title,
            first_check,
        }))
    }

    /// List watches with their schedule, last outcome and last error;
    /// optionally only those with a tag or competitor.
    #[tool(
        title = "List watches",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn watch_list(
        &self,
        Parameters(args): Parameters<WatchListArgs>,
    ) -> Result<Json<WatchList>, ToolError> {
        let engine = self.shared.engine().await?;
        let watches = engine
            .db(move |c| db::watches(c, args.tag.as_deref(), args.competitor.as_deref()))
            .await
            .map_err(tool_error)?;
        Ok(Json(WatchList { watches }))
    }

    /// Change a watch's selector, ignore-selectors, interval, tags or
    /// competitor. Omitted fields stay as they are.
    #[tool(
        title = "Change a watch",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn watch_update(
        &self,
        Parameters(args): Parameters<WatchUpdateArgs>,
    ) -> Result<Json<db::Watch>, ToolError> {
        let engine = self.shared.engine().await?;
        let mut watch = Self::watch_by_id(engine, args.id).await?;
        if let Some(selector) = args.selector {
            if watch.is_feed() && !selector.trim().is_empty() {
                return Err(ToolError::invalid(
                    "'selector' applies to page watches; this watch is a feed",
                ));
            }
            watch.selector = Some(selector).filter(|s| !s.trim().is_empty());
        }
        if let Some(ignore) = args.ignore_selectors {
            watch.ignore_selectors = ignore;
        }
        page::Region {
            selector: watch.selector.clone(),
            ignore: watch.ignore_selectors.clone(),
        }
        .validate()
        .map_err(|e| ToolError::invalid(e.to_string()))?;
        if let Some(secs) = args.interval_secs {
            watch.interval_secs = args::interval(Some(secs), &engine.settings)?;
            watch.next_due = engine::next_due(watch.interval_secs, 0);
        }
        if let Some(tags) = args.tags {
            watch.tags = args::tags(Some(tags))?;
        }
        if let Some(competitor) = args.competitor {
            watch.competitor = Some(competitor).filter(|c| !c.trim().is_empty());
        }
        let updated = watch.clone();
        engine
            .db(move |c| db::update_watch(c, &updated))
            .await
            .map_err(tool_error)?;
        engine.announce(Topic::Watches);
        Ok(Json(Self::watch_by_id(engine, watch.id).await?))
    }

    /// Stop watching; deletes the watch's snapshots and changes too.
    #[tool(
        title = "Remove a watch",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn watch_remove(
        &self,
        Parameters(args): Parameters<WatchIdArgs>,
    ) -> Result<Json<Removed>, ToolError> {
        let engine = self.shared.engine().await?;
        let id = args.id;
        let removed = engine
            .db(move |c| db::remove_watch(c, id))
            .await
            .map_err(tool_error)?;
        if !removed {
            return Err(ToolError::invalid(format!("no watch with id {id}")));
        }
        engine.announce(Topic::Watches);
        Ok(Json(Removed { id, removed }))
    }

    /// Check one watch (`id`) or every watch now, whatever their schedule,
    /// and report what each check found.
    #[tool(
        title = "Check watches now",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn check_now(
        &self,
        Parameters(args): Parameters<CheckNowArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Checked>, ToolError> {
        let engine = self.shared.engine().await?;
        let watches = match args.id {
            Some(id) => vec![Self::watch_by_id(engine, id).await?],
            None => engine
                .db(|c| db::watches(c, None, None))
                .await
                .map_err(tool_error)?,
        };
        let reports = tokio::select! {
            reports = engine.check_many(watches) => reports,
            () = ctx.ct.cancelled() => return Err(ToolError::invalid("cancelled by the client")),
        };
        let new_changes = reports.iter().map(|r| r.new_changes.len()).sum();
        Ok(Json(Checked {
            reports,
            new_changes,
        }))
    }

    /// New feed items, edited items and page changes, oldest first. Pass
    /// `cursor` = the previous `next_cursor` to get only what is new since.
    #[tool(
        title = "List detected changes",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn changes(
        &self,
        Parameters(args): Parameters<ChangesArgs>,
    ) -> Result<Json<ChangeList>, ToolError> {
        let engine = self.shared.engine().await?;
        let filter = args.filter(500)?;
        let after = filter.after_id;
        let changes = engine
            .db(move |c| db::changes(c, &filter))
            .await
            .map_err(tool_error)?;
        let next_cursor = changes.last().map_or(after, |c| c.id);
        Ok(Json(ChangeList {
            changes,
            next_cursor,
        }))
    }

    /// Diff two snapshots of a watch (default: the latest against the one
    /// before): a unified line diff and word-level segments.
    #[tool(
        title = "Diff two snapshots",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn diff(
        &self,
        Parameters(args): Parameters<DiffArgs>,
    ) -> Result<Json<DiffResult>, ToolError> {
        let engine = self.shared.engine().await?;
        let watch = Self::watch_by_id(engine, args.watch_id).await?;
        let id = watch.id;
        let (from, to) = engine
            .db(move |c| {
                let mut pick = |sid: Option<i64>, nth: usize| -> Result<Option<db::Snapshot>, _> {
                    match sid {
                        Some(sid) => db::snapshot(c, sid),
                        None => Ok(db::snapshots(c, id, 2, true)?.into_iter().nth(nth)),
                    }
                };
                Ok((pick(args.from, 1)?, pick(args.to, 0)?))
            })
            .await
            .map_err(tool_error)?;
        let (Some(from), Some(to)) = (from, to) else {
            return Err(ToolError::invalid(format!(
                "watch {id} has fewer than two snapshots (or the ids given were pruned); see history"
            )));
        };
        if from.watch_id != id || to.watch_id != id {
            return Err(ToolError::invalid(format!(
                "snapshots {} and {} must both belong to watch {id}",
                from.id, to.id
            )));
        }
        let labels = (
            format!("snapshot {} ({})", from.id, from.taken_at),
            format!("snapshot {} ({})", to.id, to.taken_at),
        );
        let d = tokio::task::spawn_blocking(move || {
            diff::diff(&from.text, &to.text, &labels.0, &labels.1)
        })
        .await
        .map_err(|e| ToolError::internal(e.to_string()))?;
        Ok(Json(DiffResult {
            watch_id: id,
            inline: diff::inline(&d.words),
            diff: d,
        }))
    }

    /// Snapshots of a watch, newest first (text included on request).
    #[tool(
        title = "List a watch's snapshots",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn history(
        &self,
        Parameters(args): Parameters<HistoryArgs>,
    ) -> Result<Json<History>, ToolError> {
        let engine = self.shared.engine().await?;
        let watch = Self::watch_by_id(engine, args.watch_id).await?;
        let limit = args.limit.unwrap_or(20).clamp(1, 500);
        let (id, text) = (watch.id, args.include_text.unwrap_or(false));
        let snapshots = engine
            .db(move |c| db::snapshots(c, id, limit, text))
            .await
            .map_err(tool_error)?;
        Ok(Json(History { watch, snapshots }))
    }

    /// A digest of recent changes written by the configured model
    /// (FF_LLM_PRIMARY and fallbacks, or the client's model via sampling).
    /// Fails with a clear message when no model is configured; never
    /// invents a summary.
    #[tool(
        title = "Summarize recent changes",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn summarize_changes(
        &self,
        Parameters(args): Parameters<SummarizeArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Summary>, ToolError> {
        let engine = self.shared.engine().await?;
        let call = Call::new("summarize_changes")
            .with_sampler(ffmcp_core::sampling::client(ctx.peer.clone()))
            .with_model_arg(args.model.as_deref())
            .map_err(|e| ToolError::invalid(e.to_string()))?;
        let filter = args.changes.filter(MAX_SUMMARY_CHANGES)?;
        let changes = engine
            .db(move |c| db::changes(c, &filter))
            .await
            .map_err(tool_error)?;
        if changes.is_empty() {
            return Err(ToolError::invalid(
                "no changes match; nothing to summarise (see `changes`)",
            ));
        }
        let listing = export::render(&changes, export::Format::Json);
        let mut prompt = args
            .instructions
            .as_deref()
            .filter(|i| !i.trim().is_empty())
            .map(|i| format!("{}\n\n", i.trim()))
            .unwrap_or_default();
        prompt.push_str("<changes>\n");
        prompt.push_str(&listing);
        prompt.push_str("\n</changes>");
        let mut request = Request::new(prompt).with_system(SUMMARY_SYSTEM);
        request.max_tokens = 2048;
        request.temperature = Some(0.2);
        let reply = self.shared.router.complete(&request, &call).await?;
        Ok(Json(Summary {
            summary: reply.text,
            changes: changes.len(),
            first_id: changes.first().map_or(0, |c| c.id),
            last_id: changes.last().map_or(0, |c| c.id),
            route: reply.route.to_string(),
        }))
    }

    /// Parse a feed once, without watching it: from `url` (an HTML page's
    /// announced feed is followed) or from the feed text in `content`.
    #[tool(
        title = "Parse a feed",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn parse_feed(
        &self,
        Parameters(args): Parameters<ParseFeedArgs>,
    ) -> Result<Json<ParsedFeedResult>, ToolError> {
        let (body, base, source) = match (args.url, args.content) {
            (Some(url), None) => {
                let engine = self.shared.engine().await?;
                let url = args::check_url(&url)?;
                let probe = engine.probe(&url, Want::Feed).await.map_err(tool_error)?;
                let target = probe.feed_url.unwrap_or(url);
                let fetched = engine
                    .fetcher
                    .get(&target)
                    .await
                    .map_err(|e| ToolError::upstream(e.to_string()))?;
                (fetched.body, Some(fetched.url.to_string()), target)
            }
            (None, Some(content)) => (content.into_bytes(), None, "content".to_owned()),
            _ => {
                return Err(ToolError::invalid("give exactly one of 'url' or 'content'"));
            }
        };
        let max = args.max_items.unwrap_or(100).clamp(1, 10_000);
        let parsed = tokio::task::spawn_blocking(move || feed::parse(&body, base.as_deref()))
            .await
            .map_err(|e| ToolError::internal(e.to_string()))?
            .map_err(|e| ToolError::invalid(format!("{source}: {e}")))?;
        let total_items = parsed.items.len();
        let mut feed = parsed;
        feed.items.truncate(max);
        Ok(Json(ParsedFeedResult {
            source,
            total_items,
            feed,
        }))
    }

    /// Write detected changes to a file under the allowed roots as JSON,
    /// CSV or an Atom feed (subscribe to it in any feed reader).
    #[tool(
        title = "Export changes to a file",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn export_changes(
        &self,
        Parameters(args): Parameters<ExportArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Exported>, ToolError> {
        let engine = self.shared.engine().await?;
        let roots = Roots::from_config(&self.shared.config)
            .map_err(|e| ToolError::invalid(format!("FF_ROOTS is invalid: {e}")))?
            .for_client(&ctx.peer)
            .await;
        let filter = args.changes.filter(100_000)?;
        let changes = engine
            .db(move |c| db::changes(c, &filter))
            .await
            .map_err(tool_error)?;
        let text = export::render(&changes, args.format);
        let written = output::write_for_call(
            &ctx,
            roots,
            args.path,
            args.format.output_kind(),
            text.into_bytes(),
            args.overwrite,
        )
        .await?;
        Ok(Json(Exported {
            path: written.path.display().to_string(),
            changes: changes.len(),
            bytes: written.bytes,
        }))
    }
}

fn too_many_watches(count: i64, max: i64) -> ToolError {
    ToolError::invalid(format!(
        "there are already {count} watches and at most {max} are kept (FF_INTEL_MAX_WATCHES); \
         remove one with watch_remove or raise the limit"
    ))
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for CompetitiveIntel {
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
            "ffmcp-competitive-intel",
            env!("CARGO_PKG_VERSION"),
            crate::TITLE,
        ))
        .with_instructions(
            "Watch competitors' feeds and pages: `watch_add` (a feed, a blog page whose feed is \
             found automatically, or a page region by CSS selector), then `changes` with \
             `cursor` for what is new, `diff`/`history` for page edits, `summarize_changes` \
             for a digest. Checks run on a schedule while the server runs; `check_now` forces \
             one. Subscribe to intel://changes for updates.",
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        // The two resources are fixed; their contents change (and say so).
        Ok(ListResourcesResult::with_all_items(resources::list())
            .with_ttl_ms(freshness::PROCESS_MS)
            .with_cache_scope(freshness::SHARED))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let engine = self
            .shared
            .engine()
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(resources::read(engine, &request.uri).await?.into())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if !resources::watchable(&request.uri) {
            return Err(ErrorData::resource_not_found(
                format!(
                    "no resource '{}' to subscribe to; this server offers {} and {}",
                    request.uri,
                    resources::WATCHES_URI,
                    resources::CHANGES_URI
                ),
                None,
            ));
        }
        // Open the engine now: its changes reach the hub from then on.
        self.shared
            .engine()
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        self.subscriptions
            .subscribe(&request.uri, &context.peer)
            .await;
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(subscriptions::accepted(requested, resources::watchable))
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        self.shared
            .engine()
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        self.shared.updates.listen(context).await
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions.unsubscribe(&request.uri);
        Ok(())
    }
}

impl ffmcp_core::Tools for CompetitiveIntel {
    fn tools(&self) -> &ToolRouter<Self> {
        &self.tool_router
    }

    /// Long calls run as MCP tasks: re-checks of many watches and model summaries.
    fn task_tools(&self) -> &'static [&'static str] {
        &["check_now", "summarize_changes"]
    }
}

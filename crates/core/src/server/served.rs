//! [`Served`]: the wrapper core puts around every server value.
//!
//! `tools/call` goes through [`crate::tool::call_tool`] (admission, time
//! budget, cancellation, panic containment) with the server's own tool
//! router; every other request is the server's, except that a server with
//! model tools also serves `ffmcp://stats` (the process's model accounting
//! and route health) next to its own resources. Since [`super::ServerSpec`]
//! only serves wrapped values, no server can forget the enforcement — it
//! does not write a `call_tool` of its own. Every server also has the
//! `logging` capability: `logging/setLevel` is answered here, per session,
//! and events of the session's tool calls reach it (see [`crate::logging`]).
//! Tool, prompt and resource-template lists are fixed for the process, so
//! they carry that cache hint (see [`crate::freshness`]) unless the server
//! set one.

#![allow(deprecated)] // The wrapper forwards every method, the legacy ones (logging, resources/subscribe) included.

use std::{borrow::Cow, future::Future, sync::Arc};

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    handler::server::router::tool::ToolRouter,
    model::*,
    service::{MaybeSendFuture, NotificationContext, RequestContext, SubscriptionContext},
};

use crate::{
    confirm, freshness,
    logging::SessionLog,
    model::Router,
    tasks::{Runner, Tasks},
    work::Governor,
};

/// The URI of the model statistics resource.
pub const STATS_URI: &str = "ffmcp://stats";

/// A server whose tools core runs: it hands over its tool router.
pub trait Tools: ServerHandler {
    /// The server's tools (what `#[tool_router]` built).
    fn tools(&self) -> &ToolRouter<Self>;

    /// The tools whose calls run as MCP tasks for clients that declared the
    /// tasks extension (see [`crate::tasks`]): long work that is safe to run
    /// again from its arguments if the process stops (a take-over re-runs
    /// it). None by default.
    fn task_tools(&self) -> &'static [&'static str] {
        &[]
    }
}

/// A server value as core serves it; see the module docs.
pub(crate) struct Served<S> {
    /// Shared with the task runs the value starts, which outlive a request.
    pub(crate) inner: Arc<S>,
    pub(crate) name: &'static str,
    pub(crate) governor: Arc<Governor>,
    pub(crate) tasks: Arc<Tasks>,
    pub(crate) confirmations: Option<Arc<crate::confirm::Confirmations>>,
    /// The router whose accounting `ffmcp://stats` shows (servers with
    /// model tools only).
    pub(crate) models: Option<Arc<Router>>,
    /// This session's MCP logging: its level and queue (see
    /// [`crate::logging`]); one per server value, hence per session.
    pub(crate) log: Arc<SessionLog>,
    /// Served over stateless HTTP (see [`Served::add_capabilities`]).
    pub(crate) stateless: bool,
}

impl<S: Tools> Served<S> {
    /// What the wrapper serves on top of the server: resources (for
    /// `ffmcp://stats`) and logging. Applied to `get_info` and to what the
    /// server's own `initialize`/`discover` answer, which rmcp builds from
    /// the inner server's `get_info`, not from this one's.
    fn add_capabilities(&self, capabilities: &mut ServerCapabilities) {
        if self.models.is_some() && capabilities.resources.is_none() {
            capabilities.resources = Some(ResourcesCapability::default());
        }
        if capabilities.logging.is_none() {
            capabilities.logging = Some(JsonObject::default());
        }
        if !self.inner.task_tools().is_empty() {
            capabilities
                .extensions
                .get_or_insert_with(ExtensionCapabilities::new)
                .insert(TASKS_EXTENSION_ID.to_owned(), JsonObject::new());
        }
        // Stateless HTTP: every request stands alone, so a subscription or
        // a list-changed notification could never be delivered; do not
        // offer them.
        if self.stateless
            && let Some(resources) = capabilities.resources.as_mut()
        {
            resources.subscribe = None;
            resources.list_changed = None;
        }
        if self.stateless {
            if let Some(tools) = capabilities.tools.as_mut() {
                tools.list_changed = None;
            }
            if let Some(prompts) = capabilities.prompts.as_mut() {
                prompts.list_changed = None;
            }
        }
    }

    async fn resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let own = if self.inner.get_info().capabilities.resources.is_some() {
            self.inner.list_resources(request, context).await?
        } else {
            ListResourcesResult::with_all_items(Vec::new())
        };
        let mut result = own;
        if self.models.is_some() && result.next_cursor.is_none() {
            result.resources.push(stats_resource());
        }
        Ok(result)
    }

    async fn read(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        match &self.models {
            Some(router) if request.uri == STATS_URI => Ok(read_stats(router)?.into()),
            _ if self.inner.get_info().capabilities.resources.is_none() => {
                Err(McpError::resource_not_found(
                    format!(
                        "unknown resource '{}'; this server offers {STATS_URI}",
                        request.uri
                    ),
                    None,
                ))
            }
            _ => self.inner.read_resource(request, context).await,
        }
    }
}

impl<S: Tools + Send + Sync + 'static> Served<S> {
    /// Runs a task's call the way every call runs (admission, panics,
    /// cancellation by the task's token), with the longest budget a call
    /// may have: tasks are the long work.
    fn runner(&self, context: RequestContext<RoleServer>) -> Runner {
        let (inner, governor, log, name, tasks) = (
            self.inner.clone(),
            self.governor.clone(),
            self.log.clone(),
            self.name,
            self.tasks.clone(),
        );
        Arc::new(move |request, token, id| {
            let (inner, governor, log) = (inner.clone(), governor.clone(), log.clone());
            let mut context = context.clone();
            context.ct = token;
            // Progress reports become the task's status message.
            context.extensions.insert(crate::progress::TaskNote {
                tasks: tasks.clone(),
                id,
            });
            Box::pin(async move {
                let budget = governor.limits().call_timeout_max;
                let scope = crate::tool::Scope {
                    governor: &governor,
                    server: name,
                    log: &log,
                    budget: Some(budget),
                };
                crate::tool::call_tool(scope, inner.tools(), &*inner, request, context).await
            })
        })
    }

    async fn call(
        &self,
        mut request: CallToolRequestParams,
        mut context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // Questions to the user (crate::confirm): a retried call brings the
        // answer and the sealed state; the tool may ask a new question.
        let binding = confirm::CallBinding::of(self.name, &request);
        let granted = match &self.confirmations {
            Some(confirmations) => confirm::receive(confirmations, &binding, &mut request)?,
            None if request.request_state.is_some() => {
                return Err(McpError::invalid_params(
                    "requestState was not issued by this server; call the tool again without it",
                    None,
                ));
            }
            None => confirm::Granted::default(),
        };
        let pending = confirm::Pending::default();
        context.extensions.insert(granted);
        context.extensions.insert(pending.clone());
        context.extensions.insert(binding);
        if let Some(confirmations) = &self.confirmations {
            context.extensions.insert(confirmations.clone());
        }
        // Tasks are a 2026-07-28 extension: an older session never gets one,
        // whatever it declared.
        let as_task = self.inner.task_tools().contains(&request.name.as_ref())
            && context
                .protocol_version()
                .is_some_and(|version| !version.has_initialize())
            && context
                .client_capabilities()
                .is_some_and(|caps| caps.supports_tasks());
        if as_task {
            let runner = self.runner(context);
            let created = self.tasks.start(self.name, request, runner).await?;
            return Ok(CallToolResponse::Task(created));
        }
        let scope = crate::tool::Scope {
            governor: &self.governor,
            server: self.name,
            log: &self.log,
            budget: None,
        };
        let response =
            crate::tool::call_tool(scope, self.inner.tools(), &*self.inner, request, context)
                .await?;
        Ok(match pending.take() {
            Some(question) => CallToolResponse::InputRequired(question),
            None => response,
        })
    }

    async fn task(
        &self,
        request: GetTaskParams,
        mut context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        // A take-over runs the stored call for whoever polls: without the
        // poller's progress token, which belongs to another request.
        context.meta = Default::default();
        let runner = self.runner(context);
        self.tasks.get(self.name, &request.task_id, runner).await
    }
}

fn stats_resource() -> Resource {
    Resource::new(STATS_URI, "stats")
        .with_title("Model call statistics")
        .with_description(
            "Model calls since the process started, for every server in it: per tool and per \
             route, calls, failures, attempts, fallbacks, tokens, cost (USD) and p50/p95/p99 \
             latency (failed attempts included); plus each route's health. No prompt or \
             completion text.",
        )
        .with_mime_type("application/json")
}

fn read_stats(router: &Router) -> Result<ReadResourceResult, McpError> {
    let body = serde_json::json!({
        "stats": router.stats(),
        "routes": router.status(),
    });
    let text = serde_json::to_string_pretty(&body).map_err(|e| {
        McpError::internal_error(format!("could not serialise the stats: {e}"), None)
    })?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, STATS_URI).with_mime_type("application/json"),
    ]))
}

impl<S: Tools + Send + Sync + 'static> ServerHandler for Served<S> {
    fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, McpError>> + MaybeSendFuture + '_ {
        self.call(request, context)
    }

    fn ping(
        &self,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.ping(context)
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        let mut result = self.inner.initialize(request, context).await?;
        self.add_capabilities(&mut result.capabilities);
        Ok(result)
    }

    fn negotiate_initialize(
        &self,
        request: &InitializeRequestParams,
    ) -> Result<InitializeResult, McpError> {
        let mut result = self.inner.negotiate_initialize(request)?;
        self.add_capabilities(&mut result.capabilities);
        Ok(result)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        self.inner.supported_protocol_versions()
    }

    async fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, McpError> {
        let mut result = self.inner.discover(context).await?;
        self.add_capabilities(&mut result.capabilities);
        Ok(result)
    }

    fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CompleteResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.complete(request, context)
    }

    fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.log.set_level(request.level, &context.peer);
        std::future::ready(Ok(()))
    }

    fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<GetPromptResponse, McpError>> + MaybeSendFuture + '_ {
        self.inner.get_prompt(request, context)
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let mut result = self.inner.list_prompts(request, context).await?;
        result.ttl_ms.get_or_insert(freshness::PROCESS_MS);
        result.cache_scope.get_or_insert(freshness::SHARED);
        Ok(result)
    }

    fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListResourcesResult, McpError>> + MaybeSendFuture + '_ {
        self.resources(request, context)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let mut result = self.inner.list_resource_templates(request, context).await?;
        result.ttl_ms.get_or_insert(freshness::PROCESS_MS);
        result.cache_scope.get_or_insert(freshness::SHARED);
        Ok(result)
    }

    fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ReadResourceResponse, McpError>> + MaybeSendFuture + '_ {
        self.read(request, context)
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        self.inner.accepted_subscription_filter(requested)
    }

    fn listen(
        &self,
        context: SubscriptionContext,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.listen(context)
    }

    fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.subscribe(request, context)
    }

    fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.unsubscribe(request, context)
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let mut result = self.inner.list_tools(request, context).await?;
        result.ttl_ms.get_or_insert(freshness::PROCESS_MS);
        result.cache_scope.get_or_insert(freshness::SHARED);
        Ok(result)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.get_tool(name)
    }

    fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CustomResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.on_custom_request(request, context)
    }

    fn on_cancelled(
        &self,
        notification: CancelledNotificationParam,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_cancelled(notification, context)
    }

    fn on_progress(
        &self,
        notification: ProgressNotificationParam,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_progress(notification, context)
    }

    fn on_initialized(
        &self,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_initialized(context)
    }

    fn on_roots_list_changed(
        &self,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_roots_list_changed(context)
    }

    fn on_custom_notification(
        &self,
        notification: CustomNotification,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
        self.inner.on_custom_notification(notification, context)
    }

    fn get_info(&self) -> ServerConfig {
        let mut info = self.inner.get_info();
        self.add_capabilities(&mut info.capabilities);
        info
    }

    fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<GetTaskResult, McpError>> + MaybeSendFuture + '_ {
        self.task(request, context)
    }

    fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        let _ = context;
        async move { self.tasks.update(self.name, &request.task_id).await }
    }

    fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        let _ = context;
        async move { self.tasks.cancel(self.name, &request.task_id).await }
    }

    fn list_skills(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListSkillsResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.list_skills(request, context)
    }

    fn get_skill(
        &self,
        request: GetSkillRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<GetSkillResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.get_skill(request, context)
    }

    fn read_resource_directory(
        &self,
        request: ReadResourceDirectoryRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ReadResourceDirectoryResult, McpError>> + MaybeSendFuture + '_
    {
        self.inner.read_resource_directory(request, context)
    }
}

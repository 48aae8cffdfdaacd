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

#![allow(deprecated)] // The wrapper forwards every method, the legacy ones (logging, resources/subscribe) included.

use std::{borrow::Cow, future::Future, sync::Arc};

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    handler::server::router::tool::ToolRouter,
    model::*,
    service::{MaybeSendFuture, NotificationContext, RequestContext, SubscriptionContext},
};

use crate::{logging::SessionLog, model::Router, work::Governor};

/// The URI of the model statistics resource.
pub const STATS_URI: &str = "ffmcp://stats";

/// A server whose tools core runs: it hands over its tool router.
pub trait Tools: ServerHandler {
    /// The server's tools (what `#[tool_router]` built).
    fn tools(&self) -> &ToolRouter<Self>;
}

/// A server value as core serves it; see the module docs.
pub(crate) struct Served<S> {
    pub(crate) inner: S,
    pub(crate) name: &'static str,
    pub(crate) governor: Arc<Governor>,
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

impl<S: Tools> ServerHandler for Served<S> {
    fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, McpError>> + MaybeSendFuture + '_ {
        crate::tool::call_tool(
            &self.governor,
            self.name,
            self.inner.tools(),
            &self.inner,
            &self.log,
            request,
            context,
        )
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

    fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListPromptsResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.list_prompts(request, context)
    }

    fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListResourcesResult, McpError>> + MaybeSendFuture + '_ {
        self.resources(request, context)
    }

    fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListResourceTemplatesResult, McpError>> + MaybeSendFuture + '_
    {
        self.inner.list_resource_templates(request, context)
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

    fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListToolsResult, McpError>> + MaybeSendFuture + '_ {
        self.inner.list_tools(request, context)
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
        self.inner.get_task(request, context)
    }

    fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.update_task(request, context)
    }

    fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), McpError>> + MaybeSendFuture + '_ {
        self.inner.cancel_task(request, context)
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

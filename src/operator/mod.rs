//! The operator page of `ffmcp serve`: `GET /`, one server-rendered HTML
//! page for the people who run ffmcp, read-only.
//!
//! It is behind the same Host/Origin/token guards as the MCP endpoints
//! (core's HTTP transport mounts it like one), and it reads through the
//! same door as any client: each request opens an in-process MCP session
//! to every server and reads `tools/list`, resources (`ffmcp://stats`,
//! `intel://watches`, `intel://changes`, `leadgen://jobs/{id}`,
//! `seo://crawls/{id}`) and one read-only tool (`diff`). It never calls a
//! tool that changes anything. No script, no external asset: one
//! stylesheet embedded in the binary, under a Content-Security-Policy that
//! allows nothing else.

mod render;

use std::sync::Arc;

use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use ffmcp_core::Server;
use rmcp::{
    RoleClient,
    model::{CallToolRequestParams, ReadResourceRequestParams, ResourceContents},
    service::RunningService,
};
use serde_json::{Value, json};

/// The page's stylesheet, embedded.
const STYLE: &str = include_str!("operator.css");
/// Where the stylesheet is served.
pub const STYLE_PATH: &str = "/assets/operator.css";
/// Nothing but this page's own stylesheet may load; no script at all.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// Jobs and crawls read per page at most.
const LISTED: usize = 20;

/// The servers the page shows: name, summary, built server.
pub type Shown = Arc<Vec<(&'static str, &'static str, Server)>>;

/// The page's routes; mounted at `/` by `ffmcp serve`.
pub fn router(servers: Shown) -> Router {
    Router::new()
        .route(
            "/",
            get(move || {
                let servers = servers.clone();
                async move { page(&servers).await }
            }),
        )
        .route(
            STYLE_PATH,
            get(|| async { answer("text/css; charset=utf-8", STYLE.to_owned()) }),
        )
        .fallback(|| async {
            let mut response = answer("text/plain; charset=utf-8", "not found\n".to_owned());
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        })
}

fn answer(content_type: &'static str, body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn page(servers: &Shown) -> Response {
    let view = gather(servers).await;
    answer("text/html; charset=utf-8", render::page(&view))
}

/// Everything the page shows, read through MCP.
#[derive(Debug, Default)]
pub struct View {
    pub servers: Vec<ServerView>,
    /// `ffmcp://stats`: `{stats: {tools, routes}, routes: [status]}`.
    pub stats: Option<Value>,
    pub watches: Vec<Value>,
    /// Newest first.
    pub changes: Vec<Value>,
    /// The newest page change and its `diff` result.
    pub diff: Option<(Value, Value)>,
    pub jobs: Vec<Value>,
    pub crawls: Vec<Value>,
    /// What could not be read (a server that failed to answer).
    pub problems: Vec<String>,
}

#[derive(Debug)]
pub struct ServerView {
    pub name: &'static str,
    pub summary: &'static str,
    /// (name, title, first line of the description).
    pub tools: Vec<(String, String, String)>,
}

type Session = RunningService<RoleClient, ()>;

async fn gather(servers: &Shown) -> View {
    let mut view = View::default();
    for (name, summary, server) in servers.iter() {
        match crate::in_process::open(server, ()).await {
            Ok(session) => {
                if let Err(e) = read_server(&session.client, name, summary, &mut view).await {
                    view.problems.push(format!("{name}: {e}"));
                }
                session.close().await;
            }
            Err(e) => view.problems.push(format!("{name}: {e}")),
        }
    }
    view
}

async fn read_server(
    session: &Session,
    name: &'static str,
    summary: &'static str,
    view: &mut View,
) -> anyhow::Result<()> {
    let peer = session.peer();
    let tools = peer.list_all_tools().await?;
    view.servers.push(ServerView {
        name,
        summary,
        tools: tools
            .iter()
            .map(|t| {
                let description = t.description.as_deref().unwrap_or("");
                let first = description.split(". ").next().unwrap_or("").trim();
                (
                    t.name.to_string(),
                    t.title.clone().unwrap_or_default(),
                    first.to_owned(),
                )
            })
            .collect(),
    });
    let has_resources = peer
        .peer_info()
        .is_some_and(|info| info.capabilities.resources.is_some());
    if !has_resources {
        return Ok(());
    }
    let resources = peer.list_all_resources().await?;
    let (mut jobs, mut crawls) = (0, 0);
    for resource in &resources {
        let uri = resource.uri.as_str();
        let wanted = match uri {
            "ffmcp://stats" => view.stats.is_none(),
            "intel://watches" | "intel://changes" => true,
            _ if uri.starts_with("leadgen://jobs/") => {
                jobs += 1;
                jobs <= LISTED
            }
            _ if uri.starts_with("seo://crawls/") => {
                crawls += 1;
                crawls <= LISTED
            }
            _ => false,
        };
        if !wanted {
            continue;
        }
        let value = read_json(session, uri).await?;
        match uri {
            "ffmcp://stats" => view.stats = Some(value),
            "intel://watches" => view.watches = as_list(value),
            "intel://changes" => {
                let mut changes = as_list(value);
                changes.reverse();
                changes.truncate(LISTED);
                view.diff = latest_diff(session, &changes).await;
                view.changes = changes;
            }
            _ if uri.starts_with("leadgen://jobs/") => view.jobs.push(value),
            _ => view.crawls.push(value),
        }
    }
    Ok(())
}

async fn read_json(session: &Session, uri: &str) -> anyhow::Result<Value> {
    let read = session
        .peer()
        .read_resource(ReadResourceRequestParams::new(uri))
        .await?;
    let text = read
        .contents
        .iter()
        .find_map(|c| match c {
            ResourceContents::TextResourceContents { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .unwrap_or("null");
    Ok(serde_json::from_str(text)?)
}

fn as_list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// The newest page change, diffed by competitive-intel's own `diff` tool.
async fn latest_diff(session: &Session, changes: &[Value]) -> Option<(Value, Value)> {
    let change = changes.iter().find(|c| {
        c["kind"] == "page_changed"
            && c["snapshot_id"].is_i64()
            && c["previous_snapshot_id"].is_i64()
    })?;
    let Value::Object(arguments) = json!({
        "watch_id": change["watch_id"],
        "from": change["previous_snapshot_id"],
        "to": change["snapshot_id"],
    }) else {
        return None;
    };
    let result = session
        .peer()
        .call_tool(CallToolRequestParams::new("diff").with_arguments(arguments))
        .await
        .ok()?;
    if result.is_error == Some(true) {
        return None;
    }
    Some((change.clone(), result.structured_content?))
}

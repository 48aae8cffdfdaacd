//! seo's resources: each kept crawl as `seo://crawls/{id}` (where it
//! started, why it stopped, site-level findings and the audited pages,
//! worst first), the 50 most recent listed, any other read by id. A
//! crawl's resource can be watched (`resources/subscribe`,
//! `subscriptions/listen`): `audit_site` publishes it to the server's
//! `core::subscriptions` hub each time it saves the crawl.

use ffmcp_core::freshness;
use rmcp::{
    ErrorData,
    model::{
        ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
        ResourceContents, ResourceTemplate,
    },
};
use serde_json::json;

use super::{Shared, site_audit::page_summaries, store, unix_now};
use crate::{crawls, site};

const PREFIX: &str = "seo://crawls/";
/// Crawls `resources/list` shows (most recently run first).
const LISTED: usize = 50;

/// The resource of crawl `id`.
pub(super) fn uri(id: &str) -> String {
    format!("{PREFIX}{id}")
}

/// Whether `uri` names a crawl (any id: a `subscriptions/listen` filter
/// is accepted without a database lookup, so a crawl can be watched
/// before its first save).
pub(super) fn watchable(uri: &str) -> bool {
    uri.strip_prefix(PREFIX).is_some_and(|id| !id.is_empty())
}

pub(super) async fn list(shared: &Shared) -> Result<ListResourcesResult, ErrorData> {
    let store = store(shared).await.map_err(internal)?;
    let ids = store
        .run(crawls::ids)
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| internal(e.to_string()))?;
    let resources = ids
        .into_iter()
        .take(LISTED)
        .map(|id| {
            Resource::new(format!("{PREFIX}{id}"), format!("crawl {id}"))
                .with_title(format!("Site crawl {id}"))
                .with_description("A kept site audit: start, stop reason, site findings, pages")
                .with_mime_type("application/json")
        })
        .collect();
    Ok(ListResourcesResult::with_all_items(resources))
}

pub(super) fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(format!("{PREFIX}{{id}}"), "crawl")
            .with_title("Site crawl")
            .with_description(
                "A crawl kept for resume (audit_site's crawl_id): where it started, why it \
                 stopped, site-level findings and the audited pages, worst score first.",
            )
            .with_mime_type("application/json"),
    ])
}

pub(super) async fn read(shared: &Shared, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let Some(id) = uri.strip_prefix(PREFIX).filter(|id| !id.is_empty()) else {
        return Err(ErrorData::resource_not_found(
            format!("unknown resource '{uri}'; seo offers {PREFIX}{{id}} and ffmcp://stats"),
            None,
        ));
    };
    let store = store(shared).await.map_err(internal)?;
    let (wanted, retention) = (id.to_owned(), shared.retention);
    let crawl = store
        .run(move |c| crawls::load(c, &wanted, unix_now(), retention))
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| internal(e.to_string()))?
        .ok_or_else(|| {
            ErrorData::resource_not_found(
                format!("no kept crawl '{id}'; resources/list shows the kept ones"),
                None,
            )
        })?;
    let body = json!({
        "crawl_id": crawl.id,
        "start": crawl.options.start.as_str(),
        "stop": crawl.stop,
        "resumable": !crawl.frontier.is_empty(),
        "pages_audited": crawl.pages.len(),
        "urls_failed": crawl.failures.len(),
        "urls_blocked_by_robots": crawl.blocked.len(),
        "urls_queued": crawl.frontier.len(),
        "site_findings": site::findings(&crawl),
        "pages": page_summaries(&crawl),
    });
    let text = serde_json::to_string_pretty(&body)
        .map_err(|e| internal(format!("could not serialise the crawl: {e}")))?;
    let read = ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("application/json"),
    ])
    .with_cache_scope(freshness::PRIVATE);
    // A crawl being resumed is saved again when it stops: stale at once.
    let running = shared
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&crawl.id);
    Ok(if running {
        read.with_ttl_ms(0)
    } else {
        read.with_ttl_ms(freshness::RESUMABLE_MS)
    })
}

fn internal(e: impl std::fmt::Display) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}

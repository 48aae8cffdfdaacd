//! leadgen's resources: each classification job as `leadgen://jobs/{id}`
//! (its state, counts and model use, as `job_status` reports it), the 50
//! most recent listed, any other read by its id through the template.
//! A job's resource can be watched (`resources/subscribe`,
//! `subscriptions/listen`): the engine reports every progress and state
//! change to the server's `core::subscriptions` hub.

use ffmcp_core::freshness;
use rmcp::{
    ErrorData,
    model::{
        ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
        ResourceContents, ResourceTemplate,
    },
};

use super::Shared;
use crate::jobs::{JobError, JobState};

const PREFIX: &str = "leadgen://jobs/";
/// Jobs `resources/list` shows (newest first); older ones stay readable.
const LISTED: u64 = 50;

/// The resource of job `id`.
pub(super) fn uri(id: &str) -> String {
    format!("{PREFIX}{id}")
}

/// Whether `uri` names a job (any id: a `subscriptions/listen` filter is
/// accepted without a database lookup; an unknown job just never changes).
pub(super) fn watchable(uri: &str) -> bool {
    uri.strip_prefix(PREFIX).is_some_and(|id| !id.is_empty())
}

/// `resources/subscribe` checks that the job exists, so a typo is an error.
pub(super) async fn exists(shared: &Shared, uri: &str) -> Result<(), ErrorData> {
    read(shared, uri).await.map(|_| ())
}

pub(super) async fn list(shared: &Shared) -> Result<ListResourcesResult, ErrorData> {
    let engine = shared.engine().await.map_err(internal)?;
    let ids = engine.ids_with_prefix("", LISTED).await.map_err(job)?;
    let mut resources = Vec::with_capacity(ids.len());
    for id in ids {
        let Ok(status) = engine.status(&id).await else {
            continue;
        };
        resources.push(
            Resource::new(format!("{PREFIX}{id}"), format!("job {id}"))
                .with_title(format!("Lead classification job {id}"))
                .with_description(format!(
                    "{}: {} of {} classified, {} failed",
                    status.state.name(),
                    status.done,
                    status.total,
                    status.failed
                ))
                .with_mime_type("application/json"),
        );
    }
    Ok(ListResourcesResult::with_all_items(resources))
}

pub(super) fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(format!("{PREFIX}{{id}}"), "job")
            .with_title("Lead classification job")
            .with_description(
                "A job's state, counts and model use (tokens, cost, attempts), as job_status \
                 reports it.",
            )
            .with_mime_type("application/json"),
    ])
}

pub(super) async fn read(shared: &Shared, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let Some(id) = uri.strip_prefix(PREFIX).filter(|id| !id.is_empty()) else {
        return Err(ErrorData::resource_not_found(
            format!("unknown resource '{uri}'; leadgen offers {PREFIX}{{id}} and ffmcp://stats"),
            None,
        ));
    };
    let engine = shared.engine().await.map_err(internal)?;
    let status = engine.status(id).await.map_err(|e| match e {
        JobError::Unknown(_) => ErrorData::resource_not_found(
            format!("no job '{id}'; resources/list shows the recent ones"),
            None,
        ),
        other => job(other),
    })?;
    let text = serde_json::to_string_pretty(&status).map_err(|e| {
        ErrorData::internal_error(format!("could not serialise the job: {e}"), None)
    })?;
    let read = ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("application/json"),
    ]);
    // A running or waiting job changes any moment: stale at once.
    Ok(match status.state {
        JobState::Done => read.with_ttl_ms(freshness::SETTLED_MS),
        JobState::Paused | JobState::Cancelled => read.with_ttl_ms(freshness::RESUMABLE_MS),
        JobState::Running | JobState::Waiting => read.with_ttl_ms(0),
    }
    .with_cache_scope(freshness::PRIVATE))
}

fn internal(e: ffmcp_core::ToolError) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}

fn job(e: JobError) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}

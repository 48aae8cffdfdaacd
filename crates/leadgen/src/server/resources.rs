//! leadgen's resources: each classification job as `leadgen://jobs/{id}`
//! (its state, counts and model use, as `job_status` reports it), the 50
//! most recent listed, any other read by its id through the template.

use rmcp::{
    ErrorData,
    model::{
        ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
        ResourceContents, ResourceTemplate,
    },
};

use super::Shared;
use crate::jobs::JobError;

const PREFIX: &str = "leadgen://jobs/";
/// Jobs `resources/list` shows (newest first); older ones stay readable.
const LISTED: u64 = 50;

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
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("application/json"),
    ]))
}

fn internal(e: ffmcp_core::ToolError) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}

fn job(e: JobError) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}

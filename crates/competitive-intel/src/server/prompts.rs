//! competitive-intel's prompt: "weekly-competitor-digest", with its
//! `competitor` and `watch_id` arguments completed from the watch list in
//! the store.

use chrono::{SecondsFormat, Utc};
use ffmcp_core::prompts::{self, ArgSpec, Catalog, PromptSpec};
use rmcp::{
    ErrorData as McpError,
    model::{CompleteRequestParams, CompleteResult, GetPromptRequestParams, GetPromptResponse},
};
use serde_json::json;

use super::Shared;
use crate::db;

/// Days a digest covers when the prompt does not say.
const DEFAULT_DAYS: i64 = 7;

pub(super) static CATALOG: Catalog = Catalog(&[PromptSpec {
    name: "weekly-competitor-digest",
    title: "Weekly competitor digest",
    description: "What the watched competitors changed recently (launches, pricing, hiring, \
                  page edits), grouped by competitor with links.",
    args: &[
        ArgSpec {
            name: "competitor",
            description: "Only this competitor's watches (optional; all by default)",
            required: false,
        },
        ArgSpec {
            name: "watch_id",
            description: "Only this watch (optional)",
            required: false,
        },
        ArgSpec {
            name: "days",
            description: "How many days back (optional; 7 by default)",
            required: false,
        },
    ],
}]);

/// `prompts/get`.
pub(super) fn get(request: &GetPromptRequestParams) -> Result<GetPromptResponse, McpError> {
    let args = CATALOG.arguments(request)?;
    let days = match args.get("days") {
        None => DEFAULT_DAYS,
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=366).contains(d))
            .ok_or_else(|| {
                McpError::invalid_params(
                    format!("argument 'days' must be a whole number from 1 to 366; got '{d}'"),
                    None,
                )
            })?,
    };
    let since =
        (Utc::now() - chrono::Duration::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut filter = json!({ "since": since });
    let mut scope = String::from("every watched competitor");
    if let Some(competitor) = args.get("competitor") {
        filter["competitor"] = json!(competitor);
        scope = format!("the competitor {competitor:?}");
    }
    if let Some(watch) = args.get("watch_id") {
        let id = watch.parse::<i64>().map_err(|_| {
            McpError::invalid_params(
                format!("argument 'watch_id' must be a watch id (a whole number); got '{watch}'"),
                None,
            )
        })?;
        filter["watch_id"] = json!(id);
        scope = format!("watch {id}");
    }
    let list = match args.get("competitor") {
        Some(c) => json!({ "competitor": c }),
        None => json!({}),
    };
    let text = format!(
        "Write the competitor digest of the last {days} days for {scope}.\n\n\
         1. Call the competitive-intel tool `watch_list` with {list} to see what is watched and \
         whether any watch is failing (report failing watches at the end).\n\
         2. Call `summarize_changes` with {filter} for a model-written digest; if it is \
         unavailable (no model configured), call `changes` with {filter} instead (follow \
         `next_cursor` until done) and write the digest yourself.\n\
         3. For page watches with edits, call `diff` with {{\"watch_id\": <id>}} where the \
         change matters.\n\
         4. Output: grouped by competitor, most important first (launches, pricing, hiring, \
         positioning), one line each with its date and link; then \"Quiet\" for competitors with \
         no change. Use only what the changes show; do not guess intentions.",
    );
    Ok(prompts::rendered(args.prompt, text))
}

/// `completion/complete`: competitors and watch ids from the store.
pub(super) async fn complete(
    shared: &Shared,
    request: &CompleteRequestParams,
) -> Result<CompleteResult, McpError> {
    let (_, argument) = CATALOG.completion_target(request)?;
    let prefix = &request.argument.value;
    if argument == "days" {
        return Ok(prompts::complete(["7", "14", "30"], prefix));
    }
    // No database yet means no watches; completing must not create one.
    if !ffmcp_core::store::Location::from_config(&shared.config).may_hold_data() {
        return Ok(prompts::nothing());
    }
    let engine = shared
        .engine()
        .await
        .map_err(|e| McpError::internal_error(e.to_string(), None))?;
    let watches = engine
        .db(|c| db::watches(c, None, None))
        .await
        .map_err(|e| McpError::internal_error(format!("could not read the watches: {e}"), None))?;
    Ok(match argument {
        "competitor" => {
            let mut names: Vec<String> = watches.into_iter().filter_map(|w| w.competitor).collect();
            names.sort();
            names.dedup();
            prompts::complete(names, prefix)
        }
        _ => prompts::complete(watches.into_iter().map(|w| w.id.to_string()), prefix),
    })
}

//! The MCP resources (`intel://watches`, `intel://changes`). Both can be
//! watched: the engine's topics are bridged to the server's
//! `core::subscriptions` hub, which tells subscribed sessions
//! `notifications/resources/updated` when a check finds something new or
//! the watch list changes.

use ffmcp_core::subscriptions::Updates;
use rmcp::{
    ErrorData,
    model::{ReadResourceResult, Resource, ResourceContents},
};
use tokio::sync::broadcast;

use crate::{
    db::{self, ChangeFilter},
    engine::Engine,
};

pub const WATCHES_URI: &str = "intel://watches";
pub const CHANGES_URI: &str = "intel://changes";
/// Changes shown by the change-feed resource.
const RECENT_CHANGES: i64 = 100;

/// What changed, for subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Watches,
    Changes,
}

impl Topic {
    pub fn uri(self) -> &'static str {
        match self {
            Self::Watches => WATCHES_URI,
            Self::Changes => CHANGES_URI,
        }
    }
}

/// Whether `uri` is one of the two resources that change (both can be
/// watched, with `resources/subscribe` or `subscriptions/listen`).
pub fn watchable(uri: &str) -> bool {
    [WATCHES_URI, CHANGES_URI].contains(&uri)
}

/// Forwards the engine's topics to the server's update hub for as long
/// as the engine lives (the process): one task per process, not per
/// session.
pub fn bridge(engine: &Engine, updates: Updates) {
    let mut topics = engine.subscribe();
    tokio::spawn(async move {
        loop {
            match topics.recv().await {
                Ok(topic) => updates.publish(topic.uri()),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    updates.publish(WATCHES_URI);
                    updates.publish(CHANGES_URI);
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// The resources this server offers.
pub fn list() -> Vec<Resource> {
    vec![
        Resource::new(WATCHES_URI, "watches")
            .with_title("Watched feeds and pages")
            .with_description("Every watch with its schedule, last outcome and last error (JSON).")
            .with_mime_type("application/json"),
        Resource::new(CHANGES_URI, "changes")
            .with_title("Detected changes")
            .with_description(
                "The latest 100 detected changes, newest last (JSON); updated after each check that finds something.",
            )
            .with_mime_type("application/json"),
    ]
}

/// Reads one resource.
pub async fn read(engine: &Engine, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let text = match uri {
        WATCHES_URI => {
            let watches = engine
                .db(|c| db::watches(c, None, None))
                .await
                .map_err(internal)?;
            serde_json::to_string_pretty(&watches).map_err(internal)?
        }
        CHANGES_URI => {
            let mut changes = engine
                .db(|c| {
                    let total = db::last_change_id(c)?;
                    db::changes(
                        c,
                        &ChangeFilter {
                            after_id: (total - RECENT_CHANGES).max(0),
                            limit: RECENT_CHANGES,
                            ..ChangeFilter::default()
                        },
                    )
                })
                .await
                .map_err(internal)?;
            changes.truncate(usize::try_from(RECENT_CHANGES).unwrap_or(100));
            serde_json::to_string_pretty(&changes).map_err(internal)?
        }
        other => return Err(not_found(other)),
    };
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("application/json"),
    ]))
}

fn not_found(uri: &str) -> ErrorData {
    ErrorData::resource_not_found(
        format!("no resource '{uri}'; this server offers {WATCHES_URI} and {CHANGES_URI}"),
        None,
    )
}

fn internal(e: impl std::fmt::Display) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}

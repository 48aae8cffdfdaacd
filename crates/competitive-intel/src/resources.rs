//! The MCP resources (`intel://watches`, `intel://changes`) and the
//! clients subscribed to them, told `notifications/resources/updated` when
//! a check finds something new or the watch list changes.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::sync::broadcast;

use rmcp::{
    ErrorData, Peer, RoleServer,
    model::{
        ReadResourceResult, Resource, ResourceContents, ResourceUpdatedNotificationParam,
        SubscriptionFilter,
    },
    service::SubscriptionContext,
};

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

/// One session's resource subscriptions; a task per session forwards the
/// engine's updates to its client while the session lives.
#[derive(Clone, Default)]
pub struct Subscriptions {
    uris: Arc<Mutex<HashSet<&'static str>>>,
    forwarding: Arc<AtomicBool>,
}

impl Subscriptions {
    pub fn subscribe(
        &self,
        uri: &str,
        engine: &Engine,
        peer: Peer<RoleServer>,
    ) -> Result<(), ErrorData> {
        let topic = [Topic::Watches, Topic::Changes]
            .into_iter()
            .find(|t| t.uri() == uri)
            .ok_or_else(|| not_found(uri))?;
        self.lock().insert(topic.uri());
        if !self.forwarding.swap(true, Ordering::SeqCst) {
            let mut updates = engine.subscribe();
            let me = self.clone();
            tokio::spawn(async move {
                loop {
                    let topic = match updates.recv().await {
                        Ok(topic) => topic,
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => break,
                    };
                    if peer.is_transport_closed() {
                        break;
                    }
                    let wanted = me.lock().contains(topic.uri());
                    if wanted
                        && peer
                            .notify_resource_updated(ResourceUpdatedNotificationParam::new(
                                topic.uri(),
                            ))
                            .await
                            .is_err()
                    {
                        break;
                    }
                }
                me.forwarding.store(false, Ordering::SeqCst);
            });
        }
        Ok(())
    }

    pub fn unsubscribe(&self, uri: &str) {
        self.lock().retain(|u| *u != uri);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<&'static str>> {
        self.uris.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The part of a `subscriptions/listen` filter this server serves: its
/// two resources' updates.
pub fn accepted(requested: &SubscriptionFilter) -> SubscriptionFilter {
    let uris = requested
        .resource_subscriptions
        .iter()
        .flatten()
        .filter(|u| [WATCHES_URI, CHANGES_URI].contains(&u.as_str()))
        .cloned();
    SubscriptionFilter::builder()
        .resource_subscriptions(uris)
        .build()
}

/// Serves one `subscriptions/listen` stream (protocol 2026-07-28) until
/// the client cancels it.
pub async fn listen(engine: &Engine, context: SubscriptionContext) -> Result<(), ErrorData> {
    let mut updates = engine.subscribe();
    let wanted = context
        .accepted()
        .resource_subscriptions
        .clone()
        .unwrap_or_default();
    loop {
        let topic = tokio::select! {
            () = context.cancelled() => return Ok(()),
            update = updates.recv() => match update {
                Ok(topic) => topic,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
        };
        if wanted.iter().any(|u| u == topic.uri())
            && context
                .sink()
                .notify_resource_updated(topic.uri())
                .await
                .is_err()
        {
            return Ok(());
        }
    }
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
                    let total: i64 =
                        c.query_row("SELECT COALESCE(MAX(id), 0) FROM ci_changes", [], |r| {
                            r.get(0)
                        })?;
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

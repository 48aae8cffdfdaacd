//! Resource change notifications: one [`Updates`] hub per server that
//! domain code tells "this URI changed", and the two ways a client hears it.
//!
//! * Clients of 2024-11-05 … 2025-11-25 call `resources/subscribe` and
//!   `resources/unsubscribe`; a session's subscriptions are a
//!   [`Subscriptions`] value kept in the session's server value, with one
//!   forwarding task that ends when the session does (dropping the server
//!   value cancels it), so an ended session keeps nothing alive.
//! * 2026-07-28 clients open `subscriptions/listen`; [`Updates::listen`]
//!   serves the stream until the client cancels it or the session ends.
//!
//! The hub is a bounded broadcast of URIs: publishing never waits for a
//! slow client. A subscriber that falls behind by more than [`BACKLOG`]
//! updates is told that every URI it watches changed (re-reading is always
//! correct; a missed update is not). Servers decide which URIs may be
//! watched ([`Watchable`]); this module only delivers.
//!
//! [`Updates::share`] joins the hub to the store's bus
//! ([`crate::store::bus`]): an update published by any process on the same
//! database (another replica, a `--daemon`) reaches this process's
//! subscribers, and this process's updates reach theirs. The process starts
//! hearing the others with its first subscriber (which waits until it
//! does, at most [`HEAR_WITHIN`]), so one nobody subscribes to keeps no
//! listening connection and runs no polls.
//!
//! Stateless HTTP advertises no subscriptions (see `server::served`), so
//! neither path is reachable there.

use std::{
    collections::HashSet,
    fmt,
    sync::{Arc, Mutex, MutexGuard, OnceLock},
};

use rmcp::{
    ErrorData, Peer, RoleServer,
    model::{ResourceUpdatedNotificationParam, SubscriptionFilter},
    service::SubscriptionContext,
};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::store::{Store, bus::Bus};

/// Updates a subscriber may fall behind by before it is told everything it
/// watches changed.
pub const BACKLOG: usize = 256;

/// How long a first subscriber waits for the process to hear the others on
/// the store's bus before it is served anyway.
pub const HEAR_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Which URIs of a server can be watched (a syntactic check: `listen`
/// filters are accepted synchronously).
pub type Watchable = fn(&str) -> bool;

/// A server's hub of resource updates; cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Updates {
    tx: broadcast::Sender<Arc<str>>,
    /// The store's bus, once [`Updates::share`] joined it.
    bus: Arc<OnceLock<Bus>>,
}

/// Not a URI: "every URI may have changed" (updates were missed).
const EVERYTHING: &str = "\0*";

impl fmt::Debug for Updates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Updates")
            .field("listeners", &self.listeners())
            .finish()
    }
}

impl Default for Updates {
    fn default() -> Self {
        Self::new()
    }
}

impl Updates {
    /// A hub nobody listens to yet.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(BACKLOG);
        Self {
            tx,
            bus: Arc::new(OnceLock::new()),
        }
    }

    /// Tells every session watching `uri` that it changed, in this process
    /// and (once shared) in every process on the store. Never waits.
    pub fn publish(&self, uri: &str) {
        // No receiver is the common case (nobody subscribed): not an error.
        let _ = self.tx.send(Arc::from(uri));
        if let Some(bus) = self.bus.get() {
            bus.publish(uri);
        }
    }

    /// Joins `store`'s bus (once; later calls do nothing): updates published
    /// by other processes on the same database reach this hub's
    /// subscribers. Call it where the server opens its store. Subscribers
    /// already there (the store opened after they subscribed) start the
    /// hearing at once.
    pub fn share(&self, store: &Store) {
        let mut joined = false;
        let bus = self.bus.get_or_init(|| {
            joined = true;
            let (deliver, resync, alive) = (
                self.tx.downgrade(),
                self.tx.downgrade(),
                self.tx.downgrade(),
            );
            Bus::start(
                store,
                move |uri| {
                    if let Some(tx) = deliver.upgrade() {
                        let _ = tx.send(Arc::from(uri));
                    }
                },
                move || {
                    if let Some(tx) = resync.upgrade() {
                        let _ = tx.send(Arc::from(EVERYTHING));
                    }
                },
                move || alive.upgrade().is_some(),
            )
        });
        if joined && self.tx.receiver_count() > 0 {
            let bus = bus.clone();
            tokio::spawn(async move { bus.hear(HEAR_WITHIN).await });
        }
    }

    /// Hears the other processes on the shared store from now on (the
    /// first call starts it and waits until it hears them, at most
    /// [`HEAR_WITHIN`]); nothing without [`Updates::share`].
    async fn hear_others(&self) {
        if let Some(bus) = self.bus.get()
            && !bus.hear(HEAR_WITHIN).await
        {
            tracing::warn!(
                "not hearing other processes on the store yet; updates they publish may arrive late"
            );
        }
    }

    /// Forwarders and listen streams alive now: each legacy session with a
    /// subscription holds one, each open `subscriptions/listen` one. It
    /// drops back when they end, which is what tests check after closing
    /// sessions.
    pub fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }

    /// A session's `resources/subscribe` state; keep it in the server
    /// value of the session.
    pub fn session(&self) -> Subscriptions {
        Subscriptions(Arc::new(Session {
            updates: self.clone(),
            uris: Arc::new(Mutex::new(HashSet::new())),
            forwarder: Mutex::new(None),
        }))
    }

    /// Serves one `subscriptions/listen` stream (2026-07-28): the accepted
    /// filter's resource URIs, until the client cancels or the session
    /// ends.
    pub async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let wanted: HashSet<String> = context
            .accepted()
            .resource_subscriptions
            .iter()
            .flatten()
            .cloned()
            .collect();
        if wanted.is_empty() {
            context.cancelled().await;
            return Ok(());
        }
        let mut updates = self.tx.subscribe();
        self.hear_others().await;
        loop {
            let changed: Vec<String> = tokio::select! {
                () = context.cancelled() => return Ok(()),
                update = updates.recv() => match update {
                    Ok(uri) if wanted.contains(&*uri) => vec![uri.to_string()],
                    Ok(uri) if &*uri == EVERYTHING => wanted.iter().cloned().collect(),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => wanted.iter().cloned().collect(),
                    Err(RecvError::Closed) => return Ok(()),
                },
            };
            for uri in changed {
                if context.sink().notify_resource_updated(uri).await.is_err() {
                    // The stream is closed or the client is gone.
                    return Ok(());
                }
            }
        }
    }
}

/// The part of a `subscriptions/listen` filter a server serves: the
/// requested resource URIs that `watchable` accepts.
pub fn accepted(requested: &SubscriptionFilter, watchable: Watchable) -> SubscriptionFilter {
    let uris = requested
        .resource_subscriptions
        .iter()
        .flatten()
        .filter(|uri| watchable(uri))
        .cloned();
    SubscriptionFilter::builder()
        .resource_subscriptions(uris)
        .build()
}

/// One session's `resources/subscribe` subscriptions. Clones share them;
/// when the last clone is dropped (the session ended) the forwarding task
/// stops and releases the session's peer.
#[derive(Clone)]
pub struct Subscriptions(Arc<Session>);

struct Session {
    updates: Updates,
    uris: Arc<Mutex<HashSet<String>>>,
    /// Cancels the forwarding task when the session's value is dropped.
    forwarder: Mutex<Option<DropGuard>>,
}

impl fmt::Debug for Subscriptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriptions")
            .field("uris", &lock(&self.0.uris).len())
            .finish()
    }
}

impl Subscriptions {
    /// Sends `notifications/resources/updated` to `peer` whenever `uri`
    /// changes, until unsubscribed or the session ends. The caller has
    /// checked that `uri` names something that can change. Returns once
    /// updates from other processes on the store are heard too (see
    /// [`HEAR_WITHIN`]).
    pub async fn subscribe(&self, uri: &str, peer: &Peer<RoleServer>) {
        self.start_forwarding(uri, peer);
        self.0.updates.hear_others().await;
    }

    fn start_forwarding(&self, uri: &str, peer: &Peer<RoleServer>) {
        lock(&self.0.uris).insert(uri.to_owned());
        let mut forwarder = lock(&self.0.forwarder);
        if forwarder.is_some() {
            return;
        }
        let stop = CancellationToken::new();
        let mut updates = self.0.updates.tx.subscribe();
        let (uris, peer, stopped) = (Arc::clone(&self.0.uris), peer.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let changed: Vec<String> = tokio::select! {
                    () = stopped.cancelled() => return,
                    update = updates.recv() => match update {
                        Ok(uri) if lock(&uris).contains(&*uri) => vec![uri.to_string()],
                        Ok(uri) if &*uri == EVERYTHING => lock(&uris).iter().cloned().collect(),
                        Ok(_) => continue,
                        Err(RecvError::Lagged(_)) => lock(&uris).iter().cloned().collect(),
                        Err(RecvError::Closed) => return,
                    },
                };
                for uri in changed {
                    let note = ResourceUpdatedNotificationParam::new(uri);
                    if peer.notify_resource_updated(note).await.is_err() {
                        return;
                    }
                }
            }
        });
        *forwarder = Some(stop.drop_guard());
    }

    /// Stops updates of `uri` (unknown URIs are ignored, as the spec allows).
    pub fn unsubscribe(&self, uri: &str) {
        lock(&self.0.uris).remove(uri);
    }

    /// The URIs subscribed to now.
    pub fn uris(&self) -> Vec<String> {
        lock(&self.0.uris).iter().cloned().collect()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watchable(uri: &str) -> bool {
        uri.strip_prefix("demo://jobs/")
            .is_some_and(|id| !id.is_empty())
    }

    #[test]
    fn listen_filters_keep_only_watchable_uris() {
        let requested = SubscriptionFilter::builder()
            .resource_subscriptions(["demo://jobs/1", "demo://jobs/", "other://x"])
            .tools_list_changed()
            .build();
        let accepted = accepted(&requested, watchable);
        assert_eq!(
            accepted.resource_subscriptions,
            Some(vec!["demo://jobs/1".to_owned()])
        );
        assert_eq!(accepted.tools_list_changed, None);
    }

    #[tokio::test]
    async fn publishing_without_listeners_neither_fails_nor_keeps_anything() {
        let updates = Updates::new();
        for n in 0..10_000 {
            updates.publish(&format!("demo://jobs/{n}"));
        }
        assert_eq!(updates.listeners(), 0);
        let session = updates.session();
        session.unsubscribe("demo://jobs/1");
        assert!(session.uris().is_empty());
        assert_eq!(updates.listeners(), 0, "no forwarder before a subscribe");
    }
}

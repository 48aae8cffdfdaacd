//! `core::subscriptions` through real rmcp clients on an in-process
//! socket: `resources/subscribe` (2025-11-25 lifecycle) and
//! `subscriptions/listen` (2026-07-28) receive the updates a server
//! publishes, and a session that ends leaves no forwarder or stream behind.
#![allow(deprecated)] // resources/subscribe is the legacy path under test.

use std::{os::unix::net::UnixStream, time::Duration};

use ffmcp_core::{
    subscriptions::{self, Subscriptions, Updates},
    transport::stdio::{ProtocolOut, StdioOptions, StdioTransport},
};
use rmcp::{
    ClientHandler, ErrorData, RoleClient, RoleServer, ServerHandler, ServiceExt,
    model::{
        ProtocolVersion, ResourceUpdatedNotificationParam, ServerCapabilities, ServerConfig,
        ServerNotification, SubscribeRequestParams, SubscriptionFilter, UnsubscribeRequestParams,
    },
    service::{
        ClientLifecycleMode, ClientServiceExt, NotificationContext, RequestContext,
        SubscriptionContext,
    },
};

const JOB: &str = "demo://jobs/7";

fn watchable(uri: &str) -> bool {
    uri.strip_prefix("demo://jobs/")
        .is_some_and(|id| !id.is_empty())
}

/// A server with one kind of watchable resource; one value per session.
struct Jobs {
    updates: Updates,
    subscriptions: Subscriptions,
}

impl ServerHandler for Jobs {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_resources()
                .enable_resources_subscribe()
                .build(),
        )
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if !watchable(&request.uri) {
            return Err(ErrorData::resource_not_found("no such job", None));
        }
        self.subscriptions
            .subscribe(&request.uri, &context.peer)
            .await;
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions.unsubscribe(&request.uri);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(subscriptions::accepted(requested, watchable))
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        self.updates.listen(context).await
    }
}

/// Reports resource-updated notifications.
struct Heard(tokio::sync::mpsc::UnboundedSender<String>);

impl ClientHandler for Heard {
    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.0.send(params.uri);
    }
}

/// Serves one session of `Jobs` on a socket; returns the client's end.
fn session(updates: &Updates) -> (tokio::net::UnixStream, tokio::task::JoinHandle<()>) {
    let (server_end, client_end) = UnixStream::pair().expect("socket pair");
    let server_write = server_end.try_clone().expect("clone");
    let transport = StdioTransport::new(
        server_end,
        ProtocolOut::new(server_write),
        StdioOptions::default(),
    );
    let server = Jobs {
        updates: updates.clone(),
        subscriptions: updates.session(),
    };
    let running = tokio::spawn(async move {
        let running = server.serve(transport).await.expect("server handshake");
        let _ = running.waiting().await;
    });
    client_end.set_nonblocking(true).expect("nonblocking");
    (
        tokio::net::UnixStream::from_std(client_end).expect("tokio socket"),
        running,
    )
}

/// Publishes `uri` until `heard` yields it (a subscription is live only
/// once its request is answered; publishing again is harmless).
async fn publish_until_heard(
    updates: &Updates,
    uri: &str,
    heard: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
) -> String {
    for _ in 0..200 {
        updates.publish(uri);
        if let Ok(Some(got)) = tokio::time::timeout(Duration::from_millis(100), heard.recv()).await
        {
            return got;
        }
    }
    panic!("no notifications/resources/updated for {uri}");
}

async fn wait_for_no_listeners(updates: &Updates) {
    for _ in 0..500 {
        if updates.listeners() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "{} forwarder(s) outlived their session",
        updates.listeners()
    );
}

/// A client of a fresh session subscribed to [`JOB`] with
/// `resources/subscribe`: the client, the server's task, and what it hears.
async fn subscribed(
    updates: &Updates,
) -> (
    rmcp::service::RunningService<RoleClient, Heard>,
    tokio::task::JoinHandle<()>,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let (socket, server) = session(updates);
    let (tx, heard) = tokio::sync::mpsc::unbounded_channel();
    let client = Heard(tx).serve(socket).await.expect("client handshake");
    client
        .subscribe(SubscribeRequestParams::new(JOB))
        .await
        .expect("subscribe");
    (client, server, heard)
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_subscribe_hears_updates_and_an_ended_session_keeps_no_forwarder() {
    let updates = Updates::new();
    let (client, server, mut heard) = subscribed(&updates).await;
    assert_eq!(updates.listeners(), 1);
    updates.publish("demo://jobs/other");
    assert_eq!(publish_until_heard(&updates, JOB, &mut heard).await, JOB);
    client
        .unsubscribe(UnsubscribeRequestParams::new(JOB))
        .await
        .expect("unsubscribe");

    client.cancel().await.expect("close");
    server.await.expect("server task");
    wait_for_no_listeners(&updates).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_2026_hears_updates_and_ends_with_the_session() {
    let updates = Updates::new();
    let (socket, server) = session(&updates);
    let client = ()
        .serve_with_lifecycle(
            socket,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("discover");
    let filter = SubscriptionFilter::builder()
        .resource_subscriptions([JOB, "elsewhere://x"])
        .build();
    let mut subscription = client.peer().listen(filter).await.expect("listen");
    assert_eq!(
        subscription.acknowledged().resource_subscriptions,
        Some(vec![JOB.to_owned()]),
        "only the watchable URI is accepted"
    );
    let mut got = None;
    for _ in 0..200 {
        updates.publish(JOB);
        if let Ok(next) =
            tokio::time::timeout(Duration::from_millis(100), subscription.next()).await
        {
            got = next.expect("stream");
            break;
        }
    }
    match got {
        Some(ServerNotification::ResourceUpdatedNotification(n)) => assert_eq!(n.params.uri, JOB),
        other => panic!("expected resources/updated, got {other:?}"),
    }
    drop(subscription);
    client.cancel().await.expect("close");
    server.await.expect("server task");
    wait_for_no_listeners(&updates).await;
}

/// A store shared after a client subscribed (a server that opens its store
/// late): the hub starts hearing the other processes at once, so what one
/// publishes reaches the subscriber.
#[tokio::test(flavor = "multi_thread")]
async fn a_store_shared_after_a_subscription_still_brings_other_processes_updates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hub.db");
    let updates = Updates::new();
    let (client, server, mut heard) = subscribed(&updates).await;

    updates.share(&ffmcp_core::store::Store::open(&path).expect("store"));
    // Another process on the same file: publishes until the subscriber
    // hears it (this hub polls every 250 ms once it hears the others).
    let other = ffmcp_core::store::bus::Bus::start(
        &ffmcp_core::store::Store::open(&path).expect("store"),
        |_| {},
        || {},
        || true,
    );
    let mut got = None;
    for _ in 0..100 {
        other.publish(JOB);
        if let Ok(Some(uri)) = tokio::time::timeout(Duration::from_millis(200), heard.recv()).await
        {
            got = Some(uri);
            break;
        }
    }
    assert_eq!(
        got.as_deref(),
        Some(JOB),
        "the other process's update arrived"
    );

    client.cancel().await.expect("close");
    server.await.expect("server task");
}

//! Logging: `tracing` to stderr, and to the client that asked for it.
//!
//! stdout is the protocol channel in stdio mode, so no log line may ever go
//! there; this is the only place a subscriber is installed. It has two
//! layers:
//!
//! - stderr, plain text, level from `FF_LOG` (default `warn`);
//! - the MCP `logging` bridge: an event emitted inside a tool call (the
//!   `tool_call` span of `core::tool::call_tool`) becomes a
//!   `notifications/message` to *that call's session*, if the session asked
//!   for that level with `logging/setLevel`. The span carries the session's
//!   [`SessionLog`] as an extension (see `attach`), so an event can only
//!   reach the session whose call emitted it. Only ffmcp's own targets are
//!   bridged (not rmcp's, hyper's or reqwest's internals), and nothing is
//!   added to an event: it goes out as it is logged on stderr.
//!
//! A session that never sent `logging/setLevel` gets no messages. The spec
//! lets the server choose; unsolicited traffic would reach clients that
//! never show it, and a client that wants logs asks for them.
//!
//! The bridge never blocks a tool and never grows without bound: each
//! session has a bounded queue drained by one task that sends to the peer;
//! when the queue is full the event is dropped and counted, and the next
//! message that gets through is preceded by a warning saying how many were
//! lost. Messages go out through rmcp's peer, i.e. as protocol frames, so
//! stdout in stdio mode stays protocol only.
//!
//! Logging is deprecated by SEP-2577 (protocol 2026-07-28), and rmcp marks
//! its types deprecated, but it still routes `logging/setLevel` for every
//! protocol version and initialize-era clients use it, so it stays. A
//! 2026 request can carry its own level in `_meta`
//! (`io.modelcontextprotocol/logLevel`); a call with that key is bridged at
//! that level, which overrides the session's for that call. rmcp refuses
//! `notifications/message` on `subscriptions/listen` streams; the messages
//! go out through the call's peer. The tests cover initialize-era sessions
//! (stdio, stateful HTTP), where that peer is the session. In stateless
//! HTTP every request has its own server value, so a `logging/setLevel`
//! does not outlive its request there; the `_meta` level is the way.
//!
//! An event in a task a tool spawns without carrying the span (e.g. a bare
//! `tokio::spawn`) is outside the call's span and is not bridged.

#![allow(deprecated)] // rmcp marks the logging types deprecated (SEP-2577); see the module docs.

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering},
};

use rmcp::{
    Peer, RoleServer,
    model::{LoggingLevel, LoggingMessageNotificationParam},
};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tracing::{Subscriber, field::Field};
use tracing_subscriber::{
    EnvFilter, Layer,
    filter::{FilterExt, LevelFilter, Targets, dynamic_filter_fn},
    layer::{Context, SubscriberExt},
    registry::LookupSpan,
    util::SubscriberInitExt,
};

/// Environment variable holding the log filter (e.g. `info`, `ffmcp=debug`).
pub const LOG_ENV: &str = "FF_LOG";

/// How many messages a session's queue holds before new ones are dropped.
pub const QUEUE: usize = 256;

/// Sessions whose queue is running (they asked for messages at some point).
static LISTENING: AtomicUsize = AtomicUsize::new(0);

/// Installs the global subscriber: stderr (no ANSI colours, default level
/// `warn`) and the MCP logging bridge. Safe to call more than once; later
/// calls do nothing.
pub fn init() {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("warn"));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_filter(filter);
    // ffmcp's own targets; events only while some session listens (checked
    // per event, never cached per callsite), so with no listener a debug
    // event costs an atomic load more than before the bridge. Spans always
    // pass: the `tool_call` span must be visible to the bridge whenever a
    // session starts listening.
    let bridge = Bridge.with_filter(Targets::new().with_target("ffmcp", LevelFilter::DEBUG).and(
        dynamic_filter_fn(|metadata, _| {
            !metadata.is_event() || LISTENING.load(Ordering::Relaxed) > 0
        }),
    ));
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(bridge)
        .try_init();
}

/// One session's side of the bridge: the level it asked for and the queue
/// to its peer. Core keeps one per server value, i.e. per session.
#[derive(Debug, Default)]
pub struct SessionLog {
    /// 0: nothing asked for; otherwise [`rank`] of the level asked for.
    level: AtomicU8,
    queue: OnceLock<mpsc::Sender<LoggingMessageNotificationParam>>,
    dropped: AtomicU64,
}

impl SessionLog {
    /// A session that has asked for nothing yet; its queue (of [`QUEUE`]
    /// messages) and the task draining it start with the first level set.
    pub fn new() -> Self {
        Self::default()
    }

    /// `logging/setLevel`: from now on, events at `level` or above inside
    /// this session's tool calls go to `peer`.
    pub fn set_level(&self, level: LoggingLevel, peer: &Peer<RoleServer>) {
        self.start(peer, QUEUE);
        self.level.store(rank(level), Ordering::Relaxed);
    }

    /// Starts the task draining the queue to `peer`, once.
    fn start(&self, peer: &Peer<RoleServer>, capacity: usize) {
        self.queue.get_or_init(|| {
            LISTENING.fetch_add(1, Ordering::Relaxed);
            let (tx, mut rx) = mpsc::channel::<LoggingMessageNotificationParam>(capacity);
            let peer = peer.clone();
            // Ends when the session's server value (the only long-lived
            // sender) is dropped, or when the peer is gone.
            tokio::spawn(async move {
                while let Some(message) = rx.recv().await {
                    if peer.notify_logging_message(message).await.is_err() {
                        break;
                    }
                }
            });
            tx
        });
    }

    /// Messages dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Queues `message` without waiting; drops and counts it when the queue
    /// is full. Before the first message after a loss, a warning with the
    /// number lost is queued (when there is room for both).
    fn offer(&self, message: LoggingMessageNotificationParam) {
        let Some(queue) = self.queue.get() else {
            return;
        };
        let lost = self.dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            // Room for the notice and the message, or neither.
            if queue.capacity() < 2 {
                self.dropped.fetch_add(lost + 1, Ordering::Relaxed);
                return;
            }
            let notice = LoggingMessageNotificationParam::new(
                LoggingLevel::Warning,
                serde_json::json!({
                    "message": format!(
                        "{lost} log message(s) dropped: the client read them too slowly"
                    )
                }),
            )
            .with_logger("ffmcp");
            if queue.try_send(notice).is_err() {
                self.dropped.fetch_add(lost + 1, Ordering::Relaxed);
                return;
            }
        }
        if queue.try_send(message).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[cfg(test)]
    fn with_queue(
        capacity: usize,
        level: LoggingLevel,
    ) -> (Self, mpsc::Receiver<LoggingMessageNotificationParam>) {
        let (tx, rx) = mpsc::channel(capacity);
        let log = Self::default();
        let _ = log.queue.set(tx);
        LISTENING.fetch_add(1, Ordering::Relaxed);
        log.level.store(rank(level), Ordering::Relaxed);
        (log, rx)
    }
}

impl Drop for SessionLog {
    fn drop(&mut self) {
        if self.queue.get().is_some() {
            LISTENING.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// What a `tool_call` span carries: whose call it is and at which level
/// its events are bridged.
struct CallLog {
    session: Arc<SessionLog>,
    /// The call's own level (`_meta`), overriding the session's.
    level: Option<u8>,
}

/// Marks `span` (a `tool_call` span) as a call of `session`'s: events in
/// it go to that session. `requested` is the call's own `_meta` level
/// (2026 clients), which starts the queue to `peer` if need be.
pub(crate) fn attach(
    span: &tracing::Span,
    session: &Arc<SessionLog>,
    requested: Option<LoggingLevel>,
    peer: &Peer<RoleServer>,
) {
    if requested.is_some() {
        session.start(peer, QUEUE);
    }
    let call = CallLog {
        session: session.clone(),
        level: requested.map(rank),
    };
    span.with_subscriber(|(id, dispatch)| {
        if let Some(registry) = dispatch.downcast_ref::<tracing_subscriber::Registry>()
            && let Some(span) = registry.span(id)
        {
            span.extensions_mut().insert(call);
        }
    });
}

/// The layer turning events inside a tool call into messages to its
/// session; see the module docs.
struct Bridge;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Bridge {
    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let level = level_of(*event.metadata().level());
        for span in scope {
            let extensions = span.extensions();
            let Some(call) = extensions.get::<CallLog>() else {
                continue;
            };
            let wanted = call
                .level
                .unwrap_or_else(|| call.session.level.load(Ordering::Relaxed));
            if wanted == 0 || rank(level) < wanted {
                return;
            }
            let mut fields = Fields(Map::new());
            event.record(&mut fields);
            let message = LoggingMessageNotificationParam::new(level, Value::Object(fields.0))
                .with_logger(event.metadata().target());
            call.session.offer(message);
            return;
        }
    }
}

/// An event's fields as a JSON object (`message` is the formatted text).
struct Fields(Map<String, Value>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
}

/// tracing's levels in MCP's (syslog) terms; TRACE is below MCP's lowest.
fn level_of(level: tracing::Level) -> LoggingLevel {
    match level {
        tracing::Level::ERROR => LoggingLevel::Error,
        tracing::Level::WARN => LoggingLevel::Warning,
        tracing::Level::INFO => LoggingLevel::Info,
        _ => LoggingLevel::Debug,
    }
}

/// A level's severity, 1 (debug) to 8 (emergency); 0 means "off".
fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 1,
        LoggingLevel::Info => 2,
        LoggingLevel::Notice => 3,
        LoggingLevel::Warning => 4,
        LoggingLevel::Error => 5,
        LoggingLevel::Critical => 6,
        LoggingLevel::Alert => 7,
        LoggingLevel::Emergency => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(n: u64) -> LoggingMessageNotificationParam {
        LoggingMessageNotificationParam::new(LoggingLevel::Warning, serde_json::json!({"n": n}))
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let (log, mut rx) = SessionLog::with_queue(4, LoggingLevel::Debug);
        // Nobody reads: 1000 offers must return at once, the queue stays at 4.
        let started = std::time::Instant::now();
        for n in 0..1000 {
            log.offer(message(n));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(log.dropped(), 996);
        let mut kept = Vec::new();
        while let Ok(m) = rx.try_recv() {
            kept.push(m.data["n"].as_u64().expect("n"));
        }
        assert_eq!(
            kept,
            vec![0, 1, 2, 3],
            "the first four kept, the rest dropped"
        );
        // Once there is room again, the loss is reported before the next message.
        log.offer(message(2000));
        let notice = rx.try_recv().expect("notice");
        assert_eq!(notice.level, LoggingLevel::Warning);
        assert!(
            notice.data["message"]
                .as_str()
                .expect("text")
                .starts_with("996 log message(s) dropped"),
            "{notice:?}"
        );
        assert_eq!(rx.try_recv().expect("message").data["n"], 2000);
        assert_eq!(log.dropped(), 0);
    }

    #[test]
    fn levels_order_like_syslog() {
        assert!(rank(LoggingLevel::Debug) < rank(LoggingLevel::Info));
        assert!(rank(level_of(tracing::Level::WARN)) >= rank(LoggingLevel::Warning));
        assert!(rank(level_of(tracing::Level::WARN)) < rank(LoggingLevel::Error));
        assert_eq!(level_of(tracing::Level::TRACE), LoggingLevel::Debug);
    }
}

//! A broadcast among the processes sharing one store: what one process
//! publishes, every other process on the same database hears, so a change
//! found by one replica (or a `--daemon`) reaches subscribers connected to
//! any other.
//!
//! * **PostgreSQL**: `NOTIFY ffmcp_bus` (through `pg_notify`, on a pooled
//!   connection) and one dedicated `LISTEN` connection per bus. The server
//!   delivers each notification to every listener once, in commit order.
//!   A listening connection that breaks is reopened with backoff, and the
//!   process is then told to resync ([`Bus::start`]'s `resync`), as
//!   notifications sent while it was away are gone.
//! * **SQLite** (several processes on one file: a daemon beside a served
//!   session): a small table (`core_bus`) written in the publisher's
//!   transaction and read by each process every [`POLL`] from the last row it
//!   saw. SQLite commits one writer at a time, so row ids grow in commit
//!   order and nothing is skipped. Rows older than five minutes are pruned.
//!
//! A process hears others only once something asks it to ([`Bus::hear`]:
//! the first subscriber), so a process nobody subscribes to (a `--daemon`,
//! a stateless replica) holds no listening connection and runs no polls;
//! publishing works from the start.
//!
//! Messages are short text (resource URIs); each carries its origin, a
//! random id per bus, so a process does not hear its own messages twice.
//! Publishing never waits: messages go through a bounded queue to one
//! writer task that sends them in batches; a full queue drops the message
//! (with a warning) rather than stall the caller — resource updates are
//! hints, and a subscriber re-reads the resource.

use std::{
    fmt,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{mpsc, watch};

use super::{Backend, Schema, Store, StoreError, now_ms, params};

/// The PostgreSQL channel.
const CHANNEL: &str = "ffmcp_bus";
/// How often a SQLite process looks for new rows.
pub const POLL: Duration = Duration::from_millis(250);
/// How long SQLite rows are kept for processes to read.
const KEEP: Duration = Duration::from_secs(300);
/// Messages waiting for the writer before new ones are dropped.
const QUEUE: usize = 4096;
/// Messages sent in one round trip at most.
const BATCH: usize = 256;
/// Longest message (PostgreSQL's NOTIFY payload limit is 8000 bytes).
const MAX_MESSAGE: usize = 4000;

/// The SQLite table (PostgreSQL needs none).
pub static SCHEMA: Schema = Schema {
    namespace: "core_bus",
    sqlite: &["CREATE TABLE core_bus (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        origin TEXT NOT NULL,
        message TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    );"],
    postgres: Some(&[]),
};

/// This process's end of a store's bus: [`Bus::publish`] sends to every
/// other process, [`Bus::hear`] starts hearing them. Cheap to clone; the
/// tasks stop when the last clone is dropped.
#[derive(Clone)]
pub struct Bus {
    outbox: mpsc::Sender<String>,
    hearing: Arc<Hearing>,
}

/// The listening side, started by the first [`Bus::hear`].
struct Hearing {
    /// What the listening task needs, until it is started.
    pending: Mutex<Option<(Store, Listener)>>,
    /// The table exists (set by the start task; the listener waits for it).
    migrated: watch::Receiver<bool>,
    /// `None` until the listening task hears others (`Some(true)`) or gives
    /// up or ends (`Some(false)`: a later [`Bus::hear`] answers at once).
    listening: watch::Sender<Option<bool>>,
}

impl fmt::Debug for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bus")
            .field("listening", &*self.hearing.listening.borrow())
            .finish_non_exhaustive()
    }
}

impl Bus {
    /// Joins `store`'s bus, to publish at once and to hear others once
    /// [`Bus::hear`] is called: `deliver` hears each message another
    /// process publishes (from then on), `resync` is called when messages
    /// may have been missed (a PostgreSQL listening connection was lost
    /// and reopened). Both run on the runtime; keep them short. `alive` is
    /// asked between messages: once it says no, the bus stops listening.
    pub fn start(
        store: &Store,
        deliver: impl Fn(&str) + Send + Sync + 'static,
        resync: impl Fn() + Send + Sync + 'static,
        alive: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Self {
        let origin = format!("{:016x}", fastrand::u64(..));
        let (outbox, inbox) = mpsc::channel(QUEUE);
        let listener = Listener {
            origin: origin.clone(),
            deliver: Box::new(deliver),
            resync: Box::new(resync),
            alive: Box::new(alive),
        };
        let (migrated_tx, migrated) = watch::channel(false);
        let writer_store = store.clone();
        tokio::spawn(async move {
            // The table (SQLite), once, before either side uses it.
            if let Err(e) = writer_store.migrate(&SCHEMA).await {
                tracing::warn!(store = %writer_store.describe(), "bus: cannot start: {e}");
                return;
            }
            let _ = migrated_tx.send(true);
            write(writer_store, origin, inbox).await;
        });
        Self {
            outbox,
            hearing: Arc::new(Hearing {
                pending: Mutex::new(Some((store.clone(), listener))),
                migrated,
                listening: watch::channel(None).0,
            }),
        }
    }

    /// Starts hearing the other processes, if this bus does not yet, and
    /// waits until it does: true once it hears them, false if that took
    /// longer than `within` (the store is unreachable; it keeps trying).
    pub async fn hear(&self, within: Duration) -> bool {
        let started = self
            .hearing
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some((store, listener)) = started {
            let hearing = Arc::clone(&self.hearing);
            tokio::spawn(async move {
                let mut migrated = hearing.migrated.clone();
                // Err: the table could not be made (warned).
                if migrated.wait_for(|done| *done).await.is_ok() {
                    listen(store, listener, &hearing.listening).await;
                }
                hearing.listening.send_replace(Some(false));
            });
        }
        let mut listening = self.hearing.listening.subscribe();
        match tokio::time::timeout(within, listening.wait_for(Option::is_some)).await {
            Ok(Ok(state)) => *state == Some(true),
            _ => false,
        }
    }

    /// Sends `message` to every other process on the store. Never waits.
    pub fn publish(&self, message: &str) {
        if message.len() > MAX_MESSAGE {
            tracing::warn!(len = message.len(), "bus: message too long, not sent");
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(_)) = self.outbox.try_send(message.to_owned()) {
            tracing::warn!("bus: {QUEUE} messages waiting; dropping one");
        }
    }
}

struct Listener {
    origin: String,
    deliver: Box<dyn Fn(&str) + Send + Sync>,
    resync: Box<dyn Fn() + Send + Sync>,
    alive: Box<dyn Fn() -> bool + Send + Sync>,
}

impl Listener {
    /// Hands on a message from another process.
    fn heard(&self, origin: &str, message: &str) {
        if origin != self.origin {
            (self.deliver)(message);
        }
    }
}

/// The writer task: sends what [`Bus::publish`] queued, in batches, until
/// every `Bus` is dropped.
async fn write(store: Store, origin: String, mut inbox: mpsc::Receiver<String>) {
    let mut batch = Vec::with_capacity(BATCH);
    while inbox.recv_many(&mut batch, BATCH).await > 0 {
        // The same message twice in one batch says nothing more.
        let mut seen = std::collections::HashSet::new();
        let messages: Vec<String> = batch.drain(..).filter(|m| seen.insert(m.clone())).collect();
        let origin = origin.clone();
        let sent = store
            .run(move |db| {
                let now = now_ms();
                db.transaction(|db| match db.backend() {
                    Backend::Postgres => {
                        for message in &messages {
                            let payload = format!("{origin} {message}");
                            db.execute(
                                "SELECT pg_notify(?1, ?2)",
                                params![CHANNEL, payload.as_str()],
                            )?;
                        }
                        Ok::<_, StoreError>(())
                    }
                    Backend::Sqlite => {
                        for message in &messages {
                            db.execute(
                                "INSERT INTO core_bus (origin, message, at_ms) VALUES (?1, ?2, ?3)",
                                params![origin.as_str(), message.as_str(), now],
                            )?;
                        }
                        let keep_ms = i64::try_from(KEEP.as_millis()).unwrap_or(i64::MAX);
                        db.execute(
                            "DELETE FROM core_bus WHERE at_ms < ?1",
                            params![now.saturating_sub(keep_ms)],
                        )?;
                        Ok(())
                    }
                })
            })
            .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) | Err(e) => tracing::warn!("bus: publishing: {e}"),
        }
    }
}

/// The listening task, for the store's backend; `listening` is set once it
/// hears others.
async fn listen(store: Store, listener: Listener, listening: &watch::Sender<Option<bool>>) {
    match store.backend() {
        Backend::Sqlite => poll_sqlite(store, listener, listening).await,
        Backend::Postgres => listen_postgres(store, listener, listening).await,
    }
}

async fn poll_sqlite(store: Store, listener: Listener, listening: &watch::Sender<Option<bool>>) {
    let mut seen = match store
        .run(|db| {
            db.query_one("SELECT COALESCE(MAX(seq), 0) FROM core_bus", params![])?
                .get::<i64>(0)
        })
        .await
    {
        Ok(Ok(seq)) => seq,
        Ok(Err(e)) | Err(e) => {
            tracing::warn!("bus: cannot listen: {e}");
            return;
        }
    };
    listening.send_replace(Some(true));
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while (listener.alive)() {
        tick.tick().await;
        let after = seen;
        let rows = store
            .run(move |db| {
                db.query(
                    "SELECT seq, origin, message FROM core_bus WHERE seq > ?1 ORDER BY seq LIMIT 1000",
                    params![after],
                )?
                .into_iter()
                .map(|row| Ok((row.get::<i64>(0)?, row.get::<String>(1)?, row.get::<String>(2)?)))
                .collect::<Result<Vec<_>, StoreError>>()
            })
            .await;
        match rows {
            Ok(Ok(rows)) => {
                for (seq, origin, message) in rows {
                    seen = seq;
                    listener.heard(&origin, &message);
                }
            }
            Ok(Err(e)) | Err(e) => tracing::warn!("bus: reading: {e}"),
        }
    }
}

async fn listen_postgres(
    store: Store,
    listener: Listener,
    listening: &watch::Sender<Option<bool>>,
) {
    let mut backoff = Duration::from_millis(250);
    let mut reconnecting = false;
    while (listener.alive)() {
        let opened = match store.listen_connection(CHANNEL).await {
            Ok(notifications) => notifications,
            Err(e) => {
                tracing::warn!(store = %store.describe(), "bus: cannot listen: {e}; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        let mut notifications = opened;
        listening.send_replace(Some(true));
        if reconnecting {
            (listener.resync)();
        }
        backoff = Duration::from_millis(250);
        reconnecting = true;
        loop {
            // Wake now and then to notice that nobody needs the bus.
            let next = tokio::time::timeout(Duration::from_secs(5), notifications.recv()).await;
            if !(listener.alive)() {
                return;
            }
            match next {
                Ok(Some(payload)) => {
                    if let Some((origin, message)) = payload.split_once(' ') {
                        listener.heard(origin, message);
                    }
                }
                Ok(None) => {
                    tracing::warn!("bus: the listening connection closed; reopening");
                    break;
                }
                Err(_elapsed) => {}
            }
        }
    }
}

impl Store {
    /// A dedicated PostgreSQL connection listening on `channel`: the
    /// payloads of its notifications, until the connection ends (the
    /// receiver then yields `None`). Refused on SQLite.
    pub(crate) async fn listen_connection(
        &self,
        channel: &'static str,
    ) -> Result<mpsc::Receiver<String>, StoreError> {
        match &*self.inner {
            super::Inner::Postgres(pg) => pg.listen(channel).await,
            super::Inner::Sqlite { .. } => {
                Err(StoreError::Unsupported("LISTEN is PostgreSQL's".to_owned()))
            }
        }
    }
}

//! The accept loop: how many TCP connections the HTTP server holds and for
//! how long.
//!
//! Hand-written instead of `axum::serve`, because axum gives hyper no timer:
//! hyper's header-read timeout never fires under it, so a client that
//! connects and sends nothing (or half a request line) holds its socket and
//! task forever, and there is no cap on connections at all. Here:
//!
//! * each connection is served by hyper's HTTP/1 server with a timer and
//!   `header_read_timeout`: a request head must be complete within that time
//!   of the connection opening *or of the previous response ending*, so the
//!   same setting is the keep-alive idle timeout (hyper starts the timer
//!   whenever it waits for a new request head);
//! * at most `max_connections` are open. When one more arrives at the cap,
//!   the connection that has waited longest without a request in flight is
//!   closed to make room (first those that never sent a complete request,
//!   i.e. half-open or slow-loris ones, then idle keep-alive ones), so held
//!   sockets cannot lock real clients out. A keep-alive connection is spared
//!   for a second after its response (its client may be sending the next
//!   request). Only when no connection can be closed is the newcomer
//!   refused, with a 503;
//! * a request head may be 32 KiB at most (431 beyond; hyper's default is
//!   its ~400 KiB buffer limit), so a full cap of half-sent heads holds tens
//!   of MiB, not hundreds;
//! * the soft `RLIMIT_NOFILE` is raised towards the cap (and the cap lowered,
//!   with a warning, when the hard limit is below it), so the cap rather
//!   than `EMFILE` is what bounds connections;
//! * each accepted connection is served on one of a few single-threaded
//!   runtimes, one per core ([`Workers`]), round robin: its socket is
//!   registered with that runtime's reactor, and what rmcp spawns for its
//!   requests (the session worker, the handler tasks) runs on that thread
//!   too. On a multi-threaded runtime every request hopped between threads
//!   four times, each hop a futex/eventfd wake-up, which cost more than the
//!   request's own work (measured by `cargo xtask bench protocol`).

use std::{
    collections::HashMap,
    convert::Infallible,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{Router, body::Body};
use hyper::{
    body::{Body as HttpBody, Bytes, Frame, Incoming, SizeHint},
    server::conn::http1,
    service::Service,
};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{Semaphore, watch},
};
use tokio_util::sync::CancellationToken;

/// Default cap on open HTTP connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default time a connection has to deliver a complete request head (also
/// the keep-alive idle timeout).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest request head (start line and headers); 431 beyond. hyper's
/// default is its buffer limit, ~400 KiB, which would let a cap's worth of
/// slow, half-sent heads hold ~400 MiB; MCP heads are a few hundred bytes.
const MAX_HEAD_BYTES: usize = 32 * 1024;
/// A connection's read and write buffer target (hyper's default ~400 KiB).
const MAX_BUFFER_BYTES: usize = 64 * 1024;
/// File descriptors kept free for everything but client connections.
const FD_RESERVE: u64 = 256;
/// A connection idle after a response is not closed to make room until it
/// has been idle this long: its client may be sending the next request.
const REUSE_GRACE: Duration = Duration::from_secs(1);
/// Refused connections being told "503" at the same time, at most.
const MAX_REFUSING: usize = 64;

/// The answer to a connection over the cap.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
Retry-After: 1\r\nConnection: close\r\nContent-Length: 137\r\n\r\n\
{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32000,\"message\":\"server busy: every connection slot has a request in flight; retry shortly\"}}";

/// Serves `app` on `listener` until `stop` is cancelled, then lets open
/// connections finish their current request (the caller bounds that wait).
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    max_connections: usize,
    header_timeout: Duration,
    stop: CancellationToken,
) {
    let registry = Arc::new(Registry::new(
        usable_connections(max_connections),
        REUSE_GRACE,
    ));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_header_size(MAX_HEAD_BYTES)
        .max_buf_size(MAX_BUFFER_BYTES)
        .keep_alive(true);
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let workers_stop = CancellationToken::new();
    // The workers end with this function, however it ends.
    let _workers_guard = workers_stop.clone().drop_guard();
    let workers = match Workers::start(&workers_stop) {
        Ok(workers) => workers,
        Err(err) => {
            tracing::error!(%err, "could not start the HTTP worker threads");
            return;
        }
    };
    // Every connection task holds a receiver; `closed()` resolves when all are gone.
    let (all_done, done_rx) = watch::channel(());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // EMFILE and friends: wait instead of spinning.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        // Responses are small JSON/SSE writes: without TCP_NODELAY, Nagle plus
        // delayed ACKs add ~40 ms to every round-trip.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%err, "could not set TCP_NODELAY");
        }
        let Some(ticket) = registry.admit() else {
            tracing::warn!(%peer, max = registry.max, "connection limit reached and every connection is busy; refusing");
            refuse(stream, &refusing);
            continue;
        };
        let conn = ticket.conn.clone();
        let app = TowerToHyperService::new(app.clone());
        let epoch = registry.epoch;
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = InFlight::begin(conn.clone(), epoch);
            let response = app.call(request);
            async move {
                let response = response.await?;
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(Tracked {
                        inner: body,
                        _in_flight: in_flight,
                    })
                }))
            }
        });
        // Out of this runtime's reactor, into the worker's.
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(err) => {
                tracing::debug!(%peer, %err, "could not hand the connection over");
                continue;
            }
        };
        let builder = builder.clone();
        let stop = stop.clone();
        let done = done_rx.clone();
        workers.next().spawn(async move {
            let stream = match TcpStream::from_std(stream) {
                Ok(stream) => stream,
                Err(err) => {
                    tracing::debug!(%peer, %err, "could not register the connection");
                    return;
                }
            };
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let evicted = ticket.conn.evict.clone();
            let mut draining = false;
            loop {
                tokio::select! {
                    served = connection.as_mut() => {
                        if let Err(err) = served {
                            tracing::debug!(%peer, %err, "connection ended");
                        }
                        break;
                    }
                    () = evicted.cancelled() => {
                        tracing::debug!(%peer, "connection closed to make room for a new one");
                        break;
                    }
                    () = stop.cancelled(), if !draining => {
                        connection.as_mut().graceful_shutdown();
                        draining = true;
                    }
                }
            }
            drop(ticket);
            drop(done);
        });
    }
    drop(listener);
    drop(done_rx);
    all_done.closed().await;
}

/// Single-threaded runtimes, one per core, that serve the connections; see
/// the module docs. They run until `stop` is cancelled (once every
/// connection is done); what is still spawned on them then is dropped.
struct Workers {
    handles: Vec<tokio::runtime::Handle>,
    next: AtomicUsize,
}

impl Workers {
    fn start(stop: &CancellationToken) -> std::io::Result<Self> {
        let count = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let mut handles = Vec::with_capacity(count);
        for n in 0..count {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(runtime.handle().clone());
            let stop = stop.clone();
            std::thread::Builder::new()
                .name(format!("ffmcp-http-{n}"))
                .spawn(move || runtime.block_on(stop.cancelled_owned()))?;
        }
        Ok(Self {
            handles,
            next: AtomicUsize::new(0),
        })
    }

    /// The runtime for the next connection, round robin.
    fn next(&self) -> &tokio::runtime::Handle {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        &self.handles[n % self.handles.len()]
    }
}

/// Tells a connection over the cap "503" and closes it. Reading what the
/// client already sent before closing avoids a TCP reset that would destroy
/// the answer; that linger is short and bounded in number.
fn refuse(stream: TcpStream, refusing: &Arc<Semaphore>) {
    let _ = stream.try_write(BUSY);
    let Ok(permit) = refusing.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let mut stream = stream;
        let mut sink = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            let _ = stream.shutdown().await;
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        })
        .await;
        drop(permit);
    });
}

/// The open connections, for the cap and for choosing whom to close.
#[derive(Debug)]
struct Registry {
    max: usize,
    reuse_grace_ms: u64,
    epoch: Instant,
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, Arc<Conn>>,
}

/// One open connection's state, shared with its request tracking.
#[derive(Debug)]
struct Conn {
    id: u64,
    /// Requests whose head arrived.
    requests: AtomicU64,
    /// Requests whose response has not finished.
    in_flight: AtomicUsize,
    /// When the connection last became idle (ms since the registry's epoch).
    idle_since_ms: AtomicU64,
    /// Cancelled to close the connection at once.
    evict: CancellationToken,
}

/// A place in the registry, released on drop.
struct Ticket {
    registry: Arc<Registry>,
    conn: Arc<Conn>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.registry.lock().open.remove(&self.conn.id);
    }
}

impl Registry {
    fn new(max: usize, reuse_grace: Duration) -> Self {
        Self {
            max,
            reuse_grace_ms: u64::try_from(reuse_grace.as_millis()).unwrap_or(u64::MAX),
            epoch: Instant::now(),
            table: Mutex::new(Table::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding this lock leaves the table consistent.
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for a new connection, closing the longest-idle one at the
    /// cap; `None` when every open connection has a request in flight (or
    /// has just finished one, see [`REUSE_GRACE`]).
    fn admit(self: &Arc<Self>) -> Option<Ticket> {
        let mut table = self.lock();
        if table.open.len() >= self.max {
            let now = millis_since(self.epoch);
            let victim = table
                .open
                .values()
                .filter(|c| {
                    c.in_flight.load(Ordering::Acquire) == 0
                        && (c.requests.load(Ordering::Acquire) == 0
                            || now.saturating_sub(c.idle_since_ms.load(Ordering::Acquire))
                                >= self.reuse_grace_ms)
                })
                .min_by_key(|c| {
                    (
                        c.requests.load(Ordering::Acquire) > 0,
                        c.idle_since_ms.load(Ordering::Acquire),
                    )
                })
                .map(|c| c.id)?;
            if let Some(victim) = table.open.remove(&victim) {
                victim.evict.cancel();
            }
        }
        let id = table.next_id;
        table.next_id += 1;
        let conn = Arc::new(Conn {
            id,
            requests: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(millis_since(self.epoch)),
            evict: CancellationToken::new(),
        });
        table.open.insert(id, conn.clone());
        Some(Ticket {
            registry: self.clone(),
            conn,
        })
    }
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One request in flight on a connection, from its head to the end of its response.
struct InFlight {
    conn: Arc<Conn>,
    epoch: Instant,
}

impl InFlight {
    fn begin(conn: Arc<Conn>, epoch: Instant) -> Self {
        conn.requests.fetch_add(1, Ordering::AcqRel);
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        Self { conn, epoch }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.conn
            .idle_since_ms
            .store(millis_since(self.epoch), Ordering::Release);
        self.conn.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that ends its request's [`InFlight`] when hyper is done with it.
struct Tracked {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The connection cap this process can honour: raises the soft descriptor
/// limit towards `max` plus a reserve, and lowers `max` if it cannot.
fn usable_connections(max: usize) -> usize {
    let max = max.max(1);
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let want = u64::try_from(max)
            .unwrap_or(u64::MAX)
            .saturating_add(FD_RESERVE);
        let limit = getrlimit(Resource::Nofile);
        let Some(current) = limit.current else {
            return max;
        };
        let mut usable = current;
        if current < want {
            let target = limit.maximum.map_or(want, |hard| hard.min(want));
            if target > current
                && setrlimit(
                    Resource::Nofile,
                    Rlimit {
                        current: Some(target),
                        maximum: limit.maximum,
                    },
                )
                .is_ok()
            {
                usable = target;
            }
        }
        let fit = usize::try_from(usable.saturating_sub(FD_RESERVE).max(16)).unwrap_or(max);
        if fit < max {
            tracing::warn!(
                requested = max,
                usable = fit,
                fd_limit = usable,
                "the file-descriptor limit is too low for --max-connections; capping connections lower"
            );
            return fit;
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room() {
        let registry = Arc::new(Registry::new(3, Duration::ZERO));
        let fresh = registry.admit().expect("1");
        let used = registry.admit().expect("2");
        let busy = registry.admit().expect("3");
        // `used` served a request and is idle again; `busy` has one in flight.
        drop(InFlight::begin(used.conn.clone(), registry.epoch));
        let _held = InFlight::begin(busy.conn.clone(), registry.epoch);

        // Never-used connections go first...
        let fourth = registry.admit().expect("room made");
        assert!(fresh.conn.evict.is_cancelled());
        assert!(!used.conn.evict.is_cancelled());
        // ...then the newcomer that never sent a request, then idle keep-alive ones.
        let _fifth = registry.admit().expect("room made");
        assert!(fourth.conn.evict.is_cancelled());
        let sixth = registry.admit().expect("room made");
        assert!(
            !busy.conn.evict.is_cancelled(),
            "a request in flight is never cut"
        );
        drop(sixth);
        assert_eq!(registry.lock().open.len(), 2);
    }

    #[test]
    fn refuses_when_every_connection_is_busy() {
        let registry = Arc::new(Registry::new(2, Duration::ZERO));
        let a = registry.admit().expect("1");
        let b = registry.admit().expect("2");
        let _ia = InFlight::begin(a.conn.clone(), registry.epoch);
        let _ib = InFlight::begin(b.conn.clone(), registry.epoch);
        assert!(registry.admit().is_none());
        assert!(!a.conn.evict.is_cancelled() && !b.conn.evict.is_cancelled());
    }

    #[test]
    fn busy_answer_declares_its_length() {
        let text = std::str::from_utf8(BUSY).expect("ascii");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{head}"
        );
        serde_json::from_str::<serde_json::Value>(body).expect("JSON body");
    }

    #[test]
    fn a_connection_that_just_answered_is_spared_for_the_reuse_grace() {
        let registry = Arc::new(Registry::new(1, Duration::from_secs(60)));
        let used = registry.admit().expect("1");
        drop(InFlight::begin(used.conn.clone(), registry.epoch));
        assert!(registry.admit().is_none(), "its client may be reusing it");
        assert!(!used.conn.evict.is_cancelled());
    }
}

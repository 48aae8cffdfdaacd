//! The one fixture HTTP server (axum, 127.0.0.1, port 0) that every test
//! crate serves its sites from: routes by path, each a canned [`Reply`] or
//! a closure over the request; a log of every request it saw; a count of
//! the TCP connections it accepted (a refused fetch must leave it at zero);
//! and the hostile answers tests need — slow, stalling mid-body, endless,
//! redirects, a gzip bomb. Where the point of a test is a malformed answer
//! that no HTTP server would send, use [`crate::raw`] instead.

use std::{
    collections::HashMap,
    convert::Infallible,
    io::Write,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderName, HeaderValue, StatusCode},
    response::Response,
    serve::ListenerExt,
};
use futures::StreamExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    /// In order; names as given.
    pub headers: Vec<(String, String)>,
    pub payload: Payload,
    /// Wait this long before answering (the head included).
    pub delay: Duration,
    /// Answer 304 with no body when the request's `If-None-Match` is this.
    pub etag: Option<String>,
}

/// What the body of a [`Reply`] is.
#[derive(Clone, Debug)]
pub enum Payload {
    /// These bytes, with a `content-length`.
    Bytes(Vec<u8>),
    /// This many bytes of `x`, chunked, with no `content-length`.
    Endless(usize),
    /// `sent`, then nothing more until the client gives up, under a
    /// `content-length` that promises `promised` bytes.
    Stall { sent: Vec<u8>, promised: usize },
}

impl Reply {
    /// 200 with `content_type` and `body`.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            payload: Payload::Bytes(body.into()),
            delay: Duration::ZERO,
            etag: None,
        }
    }

    /// 200 `text/html; charset=utf-8`, cacheable for five minutes.
    pub fn html(body: impl Into<String>) -> Self {
        Self::ok("text/html; charset=utf-8", body.into()).header("cache-control", "max-age=300")
    }

    /// 200 `text/plain; charset=utf-8`.
    pub fn text(body: impl Into<String>) -> Self {
        Self::ok("text/plain; charset=utf-8", body.into())
    }

    /// `status` with a short text body naming it.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            payload: Payload::Bytes(format!("status {status}").into_bytes()),
            delay: Duration::ZERO,
            etag: None,
        }
    }

    /// 301 to `to`, no body.
    pub fn redirect(to: &str) -> Self {
        Self::redirect_with(301, to)
    }

    /// `status` (301, 302, 307, 308) to `to`, no body.
    pub fn redirect_with(status: u16, to: &str) -> Self {
        Self {
            status,
            headers: vec![("location".into(), to.into())],
            payload: Payload::Bytes(Vec::new()),
            delay: Duration::ZERO,
            etag: None,
        }
    }

    /// 200 whose body never ends before `total` bytes (no `content-length`).
    pub fn endless(content_type: &str, total: usize) -> Self {
        Self {
            payload: Payload::Endless(total),
            ..Self::ok(content_type, Vec::new())
        }
    }

    /// 200 that sends `sent`, promises `promised` bytes and then stalls.
    pub fn stall(sent: impl Into<Vec<u8>>, promised: usize) -> Self {
        Self {
            payload: Payload::Stall {
                sent: sent.into(),
                promised,
            },
            ..Self::ok("text/plain", Vec::new())
        }
    }

    /// 200 with `content-encoding: gzip` whose body inflates to `inflated`
    /// zero bytes (64 MiB compresses to about 64 KiB).
    pub fn gzip_bomb(inflated: usize) -> Self {
        Self::ok("text/plain", gzip_zeros(inflated)).header("content-encoding", "gzip")
    }

    /// 200 with `body` compressed as `coding` (`gzip`, `br` or
    /// `deflate`; anything else is sent as is) under that
    /// `content-encoding`, as a compressing server answers.
    pub fn encoded(content_type: &str, body: &[u8], coding: &str) -> Self {
        let wire = match coding {
            "gzip" => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(body).expect("gzip into memory");
                e.finish().expect("gzip into memory")
            }
            "deflate" => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(body).expect("deflate into memory");
                e.finish().expect("deflate into memory")
            }
            "br" => {
                let mut out = Vec::new();
                {
                    let mut e = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                    e.write_all(body).expect("brotli into memory");
                }
                out
            }
            _ => body.to_vec(),
        };
        Self::ok(content_type, wire).header("content-encoding", coding)
    }

    /// The same reply with `status`.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same reply with header `name` set to `value` (replacing it).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same reply without header `name`.
    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// The same reply, answered only after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The same reply with an `etag`; a request sending it back in
    /// `If-None-Match` gets 304.
    pub fn with_etag(mut self, etag: &str) -> Self {
        self.etag = Some(etag.to_owned());
        self.header("etag", etag)
    }
}

/// One request as the fixture received it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// Lower-case names, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// The first value of header `name` (any case) among `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

#[derive(Default)]
struct Shared {
    routes: Mutex<HashMap<String, Handler>>,
    log: Mutex<Vec<Seen>>,
    connections: AtomicUsize,
}

/// A running fixture server; stops when dropped.
pub struct FixtureServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl FixtureServer {
    /// Binds 127.0.0.1 on a free port and serves on the current runtime.
    /// Unrouted paths answer 404 with a small HTML page.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        let shared = Arc::new(Shared::default());
        let stop = CancellationToken::new();
        let counted = Arc::clone(&shared);
        let listener = listener.tap_io(move |_| {
            counted.connections.fetch_add(1, Ordering::SeqCst);
        });
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared));
        let until = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { until.cancelled().await })
                .await;
        });
        Self { addr, shared, stop }
    }

    /// Starts a server whose routes depend on its own base URL
    /// (`http://127.0.0.1:PORT`), e.g. pages that link to themselves.
    pub async fn start_with(routes: impl FnOnce(&str) -> Vec<(String, Reply)>) -> Self {
        let server = Self::start().await;
        for (path, reply) in routes(&server.base()) {
            server.route(&path, reply);
        }
        server
    }

    /// Keeps serving until the runtime shuts down (as a spawned task
    /// would) instead of stopping on drop; returns the base URL.
    pub fn detach(self) -> String {
        let base = self.base();
        let _serving = std::mem::ManuallyDrop::new(self);
        base
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answers `path` (with its query, if any, matched exactly; else the
    /// path alone) with `reply`, replacing an earlier route.
    pub fn route(&self, path: &str, reply: Reply) -> &Self {
        self.route_fn(path, move |_| reply.clone())
    }

    /// Answers `path` with whatever `handler` makes of the request.
    pub fn route_fn(
        &self,
        path: &str,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> &Self {
        lock(&self.shared.routes).insert(path.to_owned(), Arc::new(handler));
        self
    }

    /// Every request seen so far, in order.
    pub fn requests(&self) -> Vec<Seen> {
        lock(&self.shared.log).clone()
    }

    /// The requests seen for `path` (path and query as sent).
    pub fn requests_to(&self, path: &str) -> Vec<Seen> {
        lock(&self.shared.log)
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }

    /// How many TCP connections it accepted.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned()),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    lock(&shared.log).push(seen.clone());
    let handler = {
        let routes = lock(&shared.routes);
        routes
            .get(&seen.path)
            .or_else(|| routes.get(parts.uri.path()))
            .cloned()
    };
    let reply = handler.map_or_else(
        || Reply::html("<html><body>not found</body></html>").with_status(404),
        |h| h(&seen),
    );
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    respond(reply, &seen)
}

fn respond(reply: Reply, seen: &Seen) -> Response {
    let not_modified = reply
        .etag
        .as_deref()
        .is_some_and(|etag| seen.header("if-none-match") == Some(etag));
    let (status, payload) = if not_modified {
        (304, Payload::Bytes(Vec::new()))
    } else {
        (reply.status, reply.payload)
    };
    let mut headers = reply.headers;
    let body = match payload {
        Payload::Bytes(bytes) => Body::from(bytes),
        Payload::Endless(total) => {
            let blocks = total.div_ceil(BLOCK.len());
            Body::from_stream(
                futures::stream::iter(0..blocks)
                    .map(|_| Ok::<_, Infallible>(Bytes::from_static(BLOCK))),
            )
        }
        Payload::Stall { sent, promised } => {
            headers.push(("content-length".into(), promised.to_string()));
            let first =
                futures::stream::once(async move { Ok::<_, Infallible>(Bytes::from(sent)) });
            Body::from_stream(first.chain(futures::stream::pending()))
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).expect("fixture replies use a valid status code");
    for (name, value) in headers {
        response.headers_mut().append(
            HeaderName::try_from(name.as_str()).expect("fixture header name"),
            HeaderValue::try_from(value.as_str()).expect("fixture header value"),
        );
    }
    response
}

static BLOCK: &[u8] = &[b'x'; 64 * 1024];

/// `len` zero bytes, gzip-compressed.
pub fn gzip_zeros(len: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len());
        encoder.write_all(&block[..n]).expect("gzip into memory");
        left -= n;
    }
    encoder.finish().expect("gzip into memory")
}

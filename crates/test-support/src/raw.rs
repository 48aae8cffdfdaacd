//! A raw TCP listener on 127.0.0.1 for the tests whose point is below
//! HTTP: it counts connections (an SSRF test asserts there were none),
//! keeps the bytes each connection sent (proxy requests, leaked
//! credentials) and writes back exactly the bytes a closure makes of them,
//! malformed or not. Everything that is ordinary HTTP belongs on
//! [`crate::http::FixtureServer`].

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use tokio_util::sync::CancellationToken;

/// A running raw listener; stops accepting when dropped.
pub struct RawListener {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<String>>>,
    stop: CancellationToken,
}

impl Drop for RawListener {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl RawListener {
    /// Binds a free port; each connection's first read (up to 64 KiB, 5 s)
    /// is recorded and answered with `reply(head)`, then the connection is
    /// shut down.
    pub async fn start(reply: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        let socket = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = socket.local_addr().expect("bound address");
        let connections = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let (count, seen, until) = (connections.clone(), received.clone(), stop.clone());
        let reply = Arc::new(reply);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = until.cancelled() => return,
                    accepted = socket.accept() => accepted,
                };
                let Ok((mut stream, _)) = accepted else {
                    continue;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let (seen, reply) = (seen.clone(), reply.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let response = reply(&head);
                    seen.lock().unwrap_or_else(|p| p.into_inner()).push(head);
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self {
            addr,
            connections,
            received,
            stop,
        }
    }

    /// How many connections it accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// What each connection sent first, in order.
    pub fn received(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

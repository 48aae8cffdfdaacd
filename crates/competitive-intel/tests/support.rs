//! An HTTP fixture whose responses tests change between checks, and an
//! engine wired to it with a temporary database.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use ffmcp_competitive_intel::{Engine, Settings};
use ffmcp_core::{
    fetch::{FetchPolicy, Fetcher},
    store::Store,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// One canned response.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Answer 304 when the request's If-None-Match equals this.
    pub etag: Option<String>,
    /// Stream this many bytes with no Content-Length instead of `body`.
    pub endless: Option<usize>,
}

impl Reply {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            etag: None,
            endless: None,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: format!("status {status}").into_bytes(),
            etag: None,
            endless: None,
        }
    }

    pub fn redirect(to: &str) -> Self {
        let mut r = Self::status(301);
        r.headers.push(("location".into(), to.into()));
        r
    }

    pub fn with_etag(mut self, etag: &str) -> Self {
        self.etag = Some(etag.to_owned());
        self.headers.push(("etag".into(), etag.into()));
        self
    }
}

/// A request the fixture saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub head: String,
}

#[derive(Clone, Default)]
pub struct Fixture {
    pub port: u16,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fixture {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let fixture = Self {
            port: listener.local_addr().expect("addr").port(),
            ..Self::default()
        };
        let me = fixture.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let me = me.clone();
                tokio::spawn(async move { me.answer(socket).await });
            }
        });
        fixture
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.routes
            .lock()
            .expect("lock")
            .insert(path.to_owned(), reply);
    }

    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }

    async fn answer(&self, mut socket: tokio::net::TcpStream) {
        let mut head = Vec::new();
        let mut buf = [0u8; 2048];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        self.seen.lock().expect("lock").push(Seen {
            path: path.clone(),
            head: head.clone(),
        });
        let reply = self
            .routes
            .lock()
            .expect("lock")
            .get(&path)
            .cloned()
            .unwrap_or_else(|| Reply::status(404));
        let not_modified = reply.etag.as_ref().is_some_and(|etag| {
            head.lines()
                .any(|l| l.trim_end() == format!("if-none-match: {}", etag.to_ascii_lowercase()))
        });
        let status = if not_modified { 304 } else { reply.status };
        let mut out = format!("HTTP/1.1 {status} X\r\nconnection: close\r\n");
        for (k, v) in &reply.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if let (Some(total), false) = (reply.endless, not_modified) {
            out.push_str("\r\n");
            if socket.write_all(out.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while sent < total {
                if socket.write_all(&block).await.is_err() {
                    return;
                }
                sent += block.len();
            }
            return;
        }
        let body: &[u8] = if not_modified { &[] } else { &reply.body };
        out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        let _ = socket.write_all(out.as_bytes()).await;
        let _ = socket.write_all(body).await;
        let _ = socket.shutdown().await;
    }
}

/// Settings for tests: 1-second intervals allowed, no host spacing.
pub fn settings() -> Settings {
    Settings {
        min_interval: 1,
        host_spacing: Duration::ZERO,
        per_host: 8,
        max_body_bytes: 2 * 1024 * 1024,
        ..Settings::default()
    }
}

/// An engine on a fresh database in `dir`, allowed to reach 127.0.0.1.
pub async fn engine(dir: &std::path::Path) -> Engine {
    engine_with(dir, settings()).await
}

/// [`engine`] with `s` as its settings.
pub async fn engine_with(dir: &std::path::Path, s: Settings) -> Engine {
    let fetcher = Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow("127.0.0.1")
                .expect("allow"),
        )
        .limits(s.fetch_limits())
        .build()
        .expect("fetcher");
    let store = Store::open(dir.join("intel.db")).expect("store");
    Engine::open(store, fetcher, s).await.expect("engine")
}

/// An RSS 2.0 document with `items` as (guid, title, description).
pub fn rss(build_date: &str, items: &[(&str, &str, &str)]) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Acme blog</title>\
         <link>https://acme.example/</link><description>d</description>\
         <lastBuildDate>{build_date}</lastBuildDate>"
    );
    for (guid, title, desc) in items {
        xml.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title>\
             <link>https://acme.example/p/{guid}</link><description>{desc}</description>\
             <pubDate>{build_date}</pubDate></item>"
        ));
    }
    xml.push_str("</channel></rss>");
    xml
}

/// Adds a watch the way `watch_add` does (probe, insert) without the
/// baseline check; returns it.
pub async fn add(
    engine: &Engine,
    url: &str,
    want: ffmcp_competitive_intel::engine::Want,
    selector: Option<&str>,
    ignore: &[&str],
    interval: i64,
) -> ffmcp_competitive_intel::db::Watch {
    use ffmcp_competitive_intel::{db, engine::now_rfc3339};
    let probe = engine.probe(url, want).await.expect("probe");
    let new = db::NewWatch {
        url: url.to_owned(),
        kind: probe.kind.to_owned(),
        feed_url: probe.feed_url,
        selector: selector.map(str::to_owned),
        ignore: ignore.iter().map(|s| (*s).to_owned()).collect(),
        interval_secs: interval,
        tags: vec!["blog".into()],
        competitor: Some("Acme".into()),
    };
    let now = now_rfc3339();
    let max = engine.settings.max_watches;
    match engine
        .db(move |c| db::insert_watch(c, &new, &now, 0, max))
        .await
        .expect("insert")
    {
        db::Inserted::Added(watch) => *watch,
        other => panic!("not added: {other:?}"),
    }
}

/// The watch as stored now.
pub async fn reload(engine: &Engine, id: i64) -> ffmcp_competitive_intel::db::Watch {
    engine
        .db(move |c| ffmcp_competitive_intel::db::watch(c, id))
        .await
        .expect("db")
        .expect("exists")
}

/// Every change of a watch.
pub async fn changes_of(engine: &Engine, id: i64) -> Vec<ffmcp_competitive_intel::db::Change> {
    engine
        .db(move |c| {
            ffmcp_competitive_intel::db::changes(
                c,
                &ffmcp_competitive_intel::db::ChangeFilter {
                    watch_id: Some(id),
                    limit: 1000,
                    ..Default::default()
                },
            )
        })
        .await
        .expect("db")
}

//! core::fetch against an in-process HTTP fixture on 127.0.0.1. Every
//! refusal asserts the error AND that the fixture saw no connection.

use std::{collections::HashMap, net::IpAddr, sync::Arc, time::Duration};

use ffmcp_core::fetch::{FetchError, FetchLimits, FetchPolicy, FetchRequest, Fetcher, Lookup};
use ffmcp_test_support::http::{FixtureServer, Reply};
use futures::future::BoxFuture;

/// The paths the fixture was asked for, in order.
fn paths(fx: &FixtureServer) -> Vec<String> {
    fx.requests().into_iter().map(|seen| seen.path).collect()
}

/// The shared fixture server with the paths these tests fetch.
/// `redirect_to`: where `/redirect` points.
async fn fixture(redirect_to: Option<String>) -> FixtureServer {
    let fx = FixtureServer::start().await;
    fx.route("/ok", Reply::text("hello"))
        .route_fn("/ua", |seen| {
            Reply::ok("text/plain", seen.header("user-agent").unwrap_or_default())
        })
        .route("/etag", Reply::text("fresh").with_etag("\"v1\""))
        .route("/big", Reply::ok("text/plain", vec![b'x'; 3 * 1024 * 1024]))
        .route("/bomb", Reply::gzip_bomb(64 * 1024 * 1024))
        .route("/loop", Reply::redirect_with(302, "/loop"))
        .route("/hop", Reply::redirect("/ok"))
        .route(
            "/redirect",
            Reply::redirect_with(302, &redirect_to.unwrap_or_default()),
        )
        .route(
            "/robots.txt",
            Reply::text("User-agent: *\nDisallow: /private\n"),
        )
        .route("/slow", Reply::stall("abc", 10));
    fx
}

/// Resolves names from a fixed table; anything else fails.
struct TableLookup(HashMap<String, Vec<IpAddr>>);

impl Lookup for TableLookup {
    fn lookup(&self, host: &str) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        let answer = self.0.get(host).cloned().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such host in the table")
        });
        Box::pin(async move { answer })
    }
}

fn table(entries: &[(&str, &str)]) -> Arc<dyn Lookup> {
    Arc::new(TableLookup(
        entries
            .iter()
            .map(|(h, ip)| ((*h).to_owned(), vec![ip.parse().expect("ip")]))
            .collect(),
    ))
}

fn loopback_allowed() -> Fetcher {
    Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow("127.0.0.1")
                .expect("allow"),
        )
        .build()
        .expect("fetcher")
}

fn public_only() -> Fetcher {
    Fetcher::builder().build().expect("fetcher")
}

#[tokio::test]
async fn fetches_an_opted_in_fixture_with_a_clear_user_agent() {
    let fx = fixture(None).await;
    let fetcher = loopback_allowed();
    let got = fetcher.get(&fx.url("/ok")).await.expect("fetch");
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"hello");
    assert_eq!(got.media_type().as_deref(), Some("text/plain"));
    let ua = fetcher.get(&fx.url("/ua")).await.expect("fetch");
    let ua = String::from_utf8(ua.body).expect("utf8");
    assert!(ua.starts_with("ffmcp/"), "user agent: {ua}");
    let hop = fetcher.get(&fx.url("/hop")).await.expect("redirected");
    assert_eq!(hop.url.path(), "/ok");
    assert_eq!(hop.redirects.len(), 1);
}

#[tokio::test]
async fn sends_extra_headers_for_conditional_gets() {
    let fx = fixture(None).await;
    let fetcher = loopback_allowed();
    let first = fetcher.get(&fx.url("/etag")).await.expect("fetch");
    assert_eq!(first.status, 200);
    let etag = first
        .headers
        .get("etag")
        .expect("etag")
        .to_str()
        .expect("ascii");
    let again = fetcher
        .fetch(FetchRequest::get(fx.url("/etag")).header("If-None-Match", etag))
        .await
        .expect("conditional fetch");
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let bad = fetcher
        .fetch(FetchRequest::get(fx.url("/ok")).header("bad header", "x"))
        .await
        .expect_err("invalid header name");
    assert!(matches!(bad, FetchError::Transport { .. }), "{bad}");
}

#[tokio::test]
async fn refuses_loopback_literals_in_every_spelling_without_connecting() {
    let fx = fixture(None).await;
    let fetcher = public_only();
    let port = fx.port();
    let urls = [
        format!("http://127.0.0.1:{port}/ok"),
        format!("http://[::1]:{port}/ok"),
        format!("http://[::ffff:127.0.0.1]:{port}/ok"),
        format!("http://0.0.0.0:{port}/ok"),
        format!("http://2130706433:{port}/ok"),
        format!("http://0177.0.0.1:{port}/ok"),
        format!("http://0x7f.0.0.1:{port}/ok"),
        format!("http://0x7f000001:{port}/ok"),
        format!("http://127.1:{port}/ok"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://192.168.1.1/".to_owned(),
        "http://[fd00:ec2::254]/".to_owned(),
    ];
    for url in &urls {
        let err = fetcher.get(url).await.expect_err(url);
        assert!(
            matches!(err, FetchError::Blocked { .. }),
            "{url}: expected Blocked, got {err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("FF_ALLOW_HOSTS"), "{url}: {msg}");
    }
    assert_eq!(fx.connections(), 0, "a refused URL reached the fixture");
}

#[tokio::test]
async fn refuses_names_that_resolve_to_private_addresses() {
    let fx = fixture(None).await;
    let fetcher = Fetcher::builder()
        .lookup(table(&[("public.example", "127.0.0.1")]))
        .build()
        .expect("fetcher");
    let err = fetcher
        .get(&format!("http://public.example:{}/ok", fx.port()))
        .await
        .expect_err("rebinding to loopback");
    match &err {
        FetchError::Blocked { host, addr, .. } => {
            assert_eq!(host, "public.example");
            assert_eq!(addr.to_string(), "127.0.0.1");
        }
        other => panic!("expected Blocked, got {other:?}"),
    }
    assert!(err.to_string().contains("loopback"), "{err}");
    // The real resolver's localhost too.
    let err = public_only()
        .get(&format!("http://localhost:{}/ok", fx.port()))
        .await
        .expect_err("localhost");
    assert!(matches!(err, FetchError::Blocked { .. }), "{err:?}");
    assert_eq!(fx.connections(), 0);
}

#[tokio::test]
async fn allowing_a_name_does_not_allow_where_it_redirects() {
    let target = fixture(None).await;
    let fx = fixture(Some(target.url("/ok"))).await;
    let fetcher = Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow("fixture.test")
                .expect("allow"),
        )
        .lookup(table(&[("fixture.test", "127.0.0.1")]))
        .build()
        .expect("fetcher");
    let ok = fetcher
        .get(&format!("http://fixture.test:{}/ok", fx.port()))
        .await
        .expect("the allowed name is reachable");
    assert_eq!(ok.body, b"hello");
    let err = fetcher
        .get(&format!("http://fixture.test:{}/redirect", fx.port()))
        .await
        .expect_err("redirect to loopback");
    assert!(matches!(err, FetchError::Blocked { .. }), "{err:?}");
    assert_eq!(paths(&fx), vec!["/ok", "/redirect"]);
    assert_eq!(target.connections(), 0, "the redirect target was contacted");
}

#[tokio::test]
async fn refuses_other_schemes_and_credentials() {
    let fetcher = loopback_allowed();
    for (url, scheme) in [
        ("file:///etc/passwd", "file"),
        ("gopher://127.0.0.1:70/_x", "gopher"),
        ("ftp://example.com/x", "ftp"),
        ("data:text/plain,hi", "data"),
    ] {
        match fetcher.get(url).await {
            Err(FetchError::Scheme { scheme: got }) => assert_eq!(got, scheme),
            other => panic!("{url}: expected Scheme, got {other:?}"),
        }
    }
    let err = fetcher
        .get("http://user:hunter2@127.0.0.1:1/")
        .await
        .expect_err("credentials");
    assert!(matches!(err, FetchError::Credentials { .. }), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let err = fetcher.get("not a url").await.expect_err("garbage");
    assert!(matches!(err, FetchError::InvalidUrl { .. }), "{err:?}");
}

/// Bodies come back decoded and `content_encoding` says what the server
/// sent (the `Content-Encoding` header stays as sent); `Accept-Encoding`
/// offers gzip, br and deflate unless the caller sets its own.
#[tokio::test]
async fn content_encoding_is_kept_and_bodies_decoded() {
    let fx = FixtureServer::start().await;
    let page = "<html><body>".to_owned() + &"compressible text ".repeat(500) + "</body></html>";
    for coding in ["gzip", "br", "deflate", "identity"] {
        fx.route(
            &format!("/{coding}"),
            Reply::encoded("text/html", page.as_bytes(), coding),
        );
    }
    fx.route("/plain", Reply::html(page.clone()));
    fx.route(
        "/corrupt",
        Reply::ok("text/html", b"not gzip at all".to_vec()).header("content-encoding", "gzip"),
    );
    let fetcher = Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow("127.0.0.1")
                .expect("allow"),
        )
        .build()
        .expect("fetcher");
    for (path, expected) in [
        ("/gzip", Some("gzip")),
        ("/br", Some("br")),
        ("/deflate", Some("deflate")),
        ("/identity", None),
        ("/plain", None),
    ] {
        let got = fetcher.get(&fx.url(path)).await.expect(path);
        assert_eq!(got.content_encoding.as_deref(), expected, "{path}");
        assert_eq!(got.body, page.as_bytes(), "{path} decoded");
        if let Some(coding) = expected {
            assert_eq!(
                got.headers
                    .get("content-encoding")
                    .and_then(|v| v.to_str().ok()),
                Some(coding)
            );
        }
    }
    assert!(
        fx.requests()
            .iter()
            .all(|seen| seen.header("accept-encoding") == Some("gzip, br, deflate"))
    );
    let own = fetcher
        .fetch(FetchRequest::get(fx.url("/plain")).header("Accept-Encoding", "identity"))
        .await
        .expect("own accept-encoding");
    assert!(own.content_encoding.is_none());
    assert_eq!(
        fx.requests()
            .last()
            .and_then(|s| s.header("accept-encoding").map(str::to_owned))
            .as_deref(),
        Some("identity")
    );
    let err = fetcher.get(&fx.url("/corrupt")).await.expect_err("corrupt");
    assert!(
        err.to_string().contains("gzip-encoded body is corrupt"),
        "{err}"
    );
}

#[tokio::test]
async fn caps_bodies_and_decompression_bombs() {
    let fx = fixture(None).await;
    let fetcher = Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow("127.0.0.1")
                .expect("allow"),
        )
        .limits(FetchLimits {
            max_body_bytes: 1024 * 1024,
            ..FetchLimits::default()
        })
        .build()
        .expect("fetcher");
    let err = fetcher.get(&fx.url("/big")).await.expect_err("too big");
    assert!(
        matches!(err, FetchError::TooLarge { limit: 1048576, .. }),
        "{err:?}"
    );
    // 64 MiB of zeros in ~64 KiB of gzip: stopped by the decoded count.
    let err = fetcher.get(&fx.url("/bomb")).await.expect_err("bomb");
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("after decompression"), "{err}");
    // A per-request cap below the fetcher's.
    let err = fetcher
        .fetch(FetchRequest::get(fx.url("/ok")).max_body_bytes(3))
        .await
        .expect_err("per-request cap");
    assert!(
        matches!(err, FetchError::TooLarge { limit: 3, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn stops_redirect_loops_and_stalled_reads() {
    let fx = fixture(None).await;
    let fetcher = Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow("127.0.0.1")
                .expect("allow"),
        )
        .limits(FetchLimits {
            max_redirects: 3,
            read_timeout: Duration::from_millis(300),
            ..FetchLimits::default()
        })
        .build()
        .expect("fetcher");
    let err = fetcher.get(&fx.url("/loop")).await.expect_err("loop");
    assert!(
        matches!(err, FetchError::TooManyRedirects { limit: 3, .. }),
        "{err:?}"
    );
    assert_eq!(paths(&fx).len(), 4, "first request plus three hops");
    let started = std::time::Instant::now();
    let err = fetcher.get(&fx.url("/slow")).await.expect_err("stalled");
    assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn obeys_robots_txt_when_asked() {
    let fx = fixture(None).await;
    let fetcher = loopback_allowed();
    let err = fetcher
        .fetch(FetchRequest::get(fx.url("/private/page")).respect_robots(true))
        .await
        .expect_err("disallowed");
    assert!(
        matches!(err, FetchError::RobotsDisallowed { .. }),
        "{err:?}"
    );
    fetcher
        .fetch(FetchRequest::get(fx.url("/ok")).respect_robots(true))
        .await
        .expect("allowed");
    // Without the flag robots.txt is not consulted; with it, it was read once.
    fetcher
        .get(&fx.url("/private/page"))
        .await
        .expect("404 is a response, not an error");
    let robots_reads = paths(&fx).iter().filter(|p| *p == "/robots.txt").count();
    assert_eq!(robots_reads, 1, "paths: {:?}", paths(&fx));
}

#[tokio::test]
async fn spaces_requests_to_one_host() {
    let fx = fixture(None).await;
    let fetcher = Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow("127.0.0.1")
                .expect("allow"),
        )
        .limits(FetchLimits {
            per_host_concurrency: 1,
            per_host_interval: Duration::from_millis(150),
            ..FetchLimits::default()
        })
        .build()
        .expect("fetcher");
    let started = std::time::Instant::now();
    let url = fx.url("/ok");
    let (a, b, c) = tokio::join!(fetcher.get(&url), fetcher.get(&url), fetcher.get(&url));
    for r in [a, b, c] {
        r.expect("fetch");
    }
    // Three starts 150 ms apart take at least 300 ms (a lower bound only).
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn private_network_opt_in_leaves_cloud_metadata_closed() {
    let fetcher = Fetcher::builder()
        .policy(
            FetchPolicy::public_only()
                .allow_private_network()
                .allow("169.254.0.0/16")
                .expect("allow"),
        )
        .lookup(table(&[
            ("metadata.google.internal", "169.254.169.254"),
            ("alibaba.metadata.test", "100.100.100.200"),
        ]))
        .build()
        .expect("fetcher");
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials/x",
        "http://[fd00:ec2::254]/latest/api/token",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://alibaba.metadata.test/latest/meta-data/",
    ] {
        let err = fetcher.get(url).await.expect_err(url);
        assert!(
            matches!(err, FetchError::Blocked { .. }),
            "{url}: expected Blocked, got {err:?}"
        );
        assert!(err.to_string().contains("metadata"), "{url}: {err}");
    }
}

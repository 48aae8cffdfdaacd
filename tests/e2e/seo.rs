//! seo end to end: the real binary over stdio and HTTP, auditing a fixture
//! site on 127.0.0.1 (allowed with FF_ALLOW_HOSTS), progress, cancellation
//! and resumption of crawls, report files under roots, errors.

#[path = "../../crates/seo/tests/fixture/http.rs"]
mod fixture;

use std::{sync::Arc, time::Duration};

use fixture::{Resp, Site, page};
use serde_json::{Value, json};

use super::support::{
    HttpProc, bin, call, error_text, http_client, stdio_client_env, structured, text_of,
};

/// A small site: the clean home page, a defective page, a 300 KiB image,
/// a page robots.txt disallows, a sitemap, and twelve slow article pages.
fn site(base: &str) -> Site {
    let mut s = Site::new();
    s.insert("/".into(), page(fixture::clean_page(base)));
    s.insert(
        "/robots.txt".into(),
        Resp::ok(
            "text/plain",
            b"User-agent: *\nDisallow: /private\n".to_vec(),
        ),
    );
    s.insert(
        "/sitemap.xml".into(),
        Resp::ok(
            "application/xml",
            format!(
                "<urlset><url><loc>{base}/</loc></url><url><loc>{base}/lonely</loc></url></urlset>"
            )
            .into_bytes(),
        ),
    );
    s.insert(
        "/empty.xml".into(),
        Resp::ok("application/xml", b"<urlset></urlset>".to_vec()),
    );
    s.insert(
        "/bad".into(),
        page(
            r#"<html><head><title>x</title></head><body><img src="/big.jpg"><a href="/missing">click here</a></body></html>"#,
        ),
    );
    s.insert(
        "/big.jpg".into(),
        Resp::ok("image/jpeg", vec![1; 300 * 1024]),
    );
    s.insert("/private/page".into(), page(fixture::clean_page(base)));
    s.insert(
        "/lonely".into(),
        page(format!(
            "<html lang=\"en\"><head><title>A lonely page nobody links to</title></head><body><h1>Lonely</h1>{}</body></html>",
            fixture::prose("lonely")
        )),
    );
    let mut links = String::new();
    for i in 0..12 {
        links.push_str(&format!("<a href=\"/article/{i}\">article number {i}</a> "));
        let mut page = page(format!(
            "<html lang=\"en\"><head><title>Article number {i} about gardens</title></head><body><h1>Article {i}</h1>{}</body></html>",
            fixture::prose(&format!("article{i}x"))
        ));
        page.delay = Duration::from_millis(150);
        s.insert(format!("/article/{i}"), page);
    }
    s.insert(
        "/articles".into(),
        page(format!("<html><body>{links}</body></html>")),
    );
    s
}

fn ids(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn page_tools_over_stdio() {
    let base = fixture::serve_built(site).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let db = root.join("db/ffmcp.db");
    let client = stdio_client_env(
        "seo",
        &[
            ("FF_ALLOW_HOSTS", "127.0.0.1"),
            ("FF_ROOTS", root.to_str().expect("utf8")),
            ("FF_DB", db.to_str().expect("utf8")),
        ],
    )
    .await;

    let tools = client.list_all_tools().await.expect("tools");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "audit_page",
            "audit_site",
            "check_robots",
            "compare_pages",
            "extract_structured_data",
            "parse_sitemap",
            "suggest"
        ]
    );
    assert!(
        tools.iter().all(|t| t.output_schema.is_some()),
        "every tool has an outputSchema"
    );

    let clean =
        structured(&call(&client, "audit_page", json!({ "url": format!("{base}/") })).await);
    assert_eq!(clean["findings"], json!([]), "{clean:#}");
    assert_eq!(clean["score"], 100);
    assert_eq!(clean["status"], 200);

    let bad = call(
        &client,
        "audit_page",
        json!({ "url": format!("{base}/bad") }),
    )
    .await;
    let text = text_of(&bad);
    let bad = structured(&bad);
    let found = ids(&bad["findings"]);
    for id in [
        "img-oversized",
        "img-alt-missing",
        "title-too-short",
        "link-text-generic",
        "lang-missing",
    ] {
        assert!(found.iter().any(|f| f == id), "{id} missing: {found:?}");
    }
    let oversized = bad["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == "img-oversized")
        .expect("oversized");
    assert_eq!(oversized["evidence"], "<img src=\"/big.jpg\">");
    assert!(
        text.contains("## SEO audit") && text.contains("img-oversized"),
        "{text}"
    );

    let blocked = structured(
        &call(
            &client,
            "audit_page",
            json!({ "url": format!("{base}/private/page") }),
        )
        .await,
    );
    let found = ids(&blocked["findings"]);
    assert!(found.contains(&"blocked-by-robots".to_owned()), "{found:?}");

    let raw = structured(
        &call(
            &client,
            "audit_page",
            json!({ "html": "<html><body><h1>x</h1></body></html>", "base_url": "https://shop.test/" }),
        )
        .await,
    );
    assert!(ids(&raw["findings"]).contains(&"title-missing".to_owned()));

    let robots = structured(
        &call(
            &client,
            "check_robots",
            json!({ "url": format!("{base}/private/page"), "user_agent": "Googlebot/2.1" }),
        )
        .await,
    );
    assert_eq!(robots["allowed"], false);
    assert_eq!(robots["rule"], "Disallow: /private");
    assert_eq!(robots["line"], 2);

    let map = structured(
        &call(
            &client,
            "parse_sitemap",
            json!({ "url": format!("{base}/sitemap.xml") }),
        )
        .await,
    );
    assert_eq!(map["total_urls"], 2);
    assert_eq!(map["urls"][1]["loc"], format!("{base}/lonely"));

    let data = structured(
        &call(
            &client,
            "extract_structured_data",
            json!({ "url": format!("{base}/") }),
        )
        .await,
    );
    assert_eq!(data["items"][0]["types"], json!(["Organization"]));

    let cmp = structured(
        &call(
            &client,
            "compare_pages",
            json!({ "a": { "url": format!("{base}/") }, "b": { "url": format!("{base}/bad") } }),
        )
        .await,
    );
    assert_eq!(cmp["better"], "a");
    assert!(
        cmp["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["id"] == "img-oversized" && c["a"] == 0 && c["b"] == 1)
    );

    // No model configured and this client cannot sample: a clear error, nothing invented.
    let suggest = call(&client, "suggest", json!({ "url": format!("{base}/") })).await;
    let message = error_text(&suggest);
    assert!(
        message.contains("no model is configured") && message.contains("FF_LLM_PRIMARY"),
        "{message}"
    );

    // Errors name the argument.
    let message = error_text(&call(&client, "audit_page", json!({})).await);
    assert!(message.contains("'url'"), "{message}");
    let message = error_text(
        &call(
            &client,
            "audit_site",
            json!({ "start_url": format!("{base}/"), "max_pages": 0 }),
        )
        .await,
    );
    assert!(message.contains("'max_pages'"), "{message}");
    let message =
        error_text(&call(&client, "audit_page", json!({ "url": "http://10.1.2.3/" })).await);
    assert!(message.contains("FF_ALLOW_HOSTS"), "{message}");

    // A site audit writing a CSV report under the root; outside the root is refused.
    let site = structured(
        &call(
            &client,
            "audit_site",
            json!({ "start_url": format!("{base}/"), "max_pages": 30, "report_path": "report.csv" }),
        )
        .await,
    );
    let findings = ids(&site["site_findings"]);
    assert!(findings.contains(&"orphan-page".to_owned()), "{site:#}");
    let csv = std::fs::read_to_string(root.join("report.csv")).expect("report written");
    assert!(
        csv.starts_with("url,id,severity,message,evidence,fix\n"),
        "{csv}"
    );
    assert!(csv.contains("orphan-page"), "{csv}");
    let outside = call(
        &client,
        "audit_site",
        json!({ "start_url": format!("{base}/"), "max_pages": 1, "report_path": "/tmp/ffmcp-seo-outside.json" }),
    )
    .await;
    assert!(error_text(&outside).contains("outside the allowed roots"));
    client.cancel().await.expect("close");
}

/// `call` for a client with its own handler.
async fn call_peer(
    peer: &rmcp::Peer<rmcp::RoleClient>,
    tool: &str,
    args: Value,
) -> rmcp::model::CallToolResult {
    let Value::Object(args) = args else {
        panic!("tool arguments must be an object");
    };
    let params = rmcp::model::CallToolRequestParams::new(tool.to_owned()).with_arguments(args);
    tokio::time::timeout(super::support::TIMEOUT, peer.call_tool(params))
        .await
        .expect("tool call in time")
        .expect("tool call answered")
}

/// (progress, total, message) of one notification.
type Progress = (f64, Option<f64>, Option<String>);

/// A client that records the progress notifications it receives.
#[derive(Clone, Default)]
struct ProgressLog(Arc<std::sync::Mutex<Vec<Progress>>>);

impl rmcp::ClientHandler for ProgressLog {
    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        self.0
            .lock()
            .expect("lock")
            .push((params.progress, params.total, params.message));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn site_crawl_progress_cancel_and_resume_over_stdio() {
    use rmcp::{
        model::{CallToolRequestParams, ClientRequest, Request},
        service::PeerRequestOptions,
    };
    let base = fixture::serve_built(site).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = tokio::process::Command::new(super::support::bin());
    cmd.arg("seo")
        .env("FF_LOG", "warn")
        .env("FF_DB", dir.path().join("ffmcp.db"))
        .env("FF_ALLOW_HOSTS", "127.0.0.1");
    let log = ProgressLog::default();
    let client = ffmcp_test_support::client::connect_stdio_with(log.clone(), cmd).await;
    let request = |args: Value| {
        let Value::Object(args) = args else {
            unreachable!()
        };
        ClientRequest::CallToolRequest(Request::new(
            CallToolRequestParams::new("audit_site").with_arguments(args),
        ))
    };
    let args = json!({
        "start_url": format!("{base}/articles"),
        "sitemap_url": format!("{base}/empty.xml"),
        "concurrency": 1,
        "max_pages": 50
    });

    // Cancel in the middle of twelve slow pages.
    let handle = client
        .peer()
        .send_cancellable_request(request(args.clone()), PeerRequestOptions::no_options())
        .await
        .expect("sent");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while log.0.lock().expect("lock").len() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        log.0.lock().expect("lock").len() >= 3,
        "no progress before cancelling"
    );
    handle
        .cancel(Some("test".into()))
        .await
        .expect("cancel sent");
    let after_cancel = log.0.lock().expect("lock").len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = log.0.lock().expect("lock").len();
    assert!(
        later <= after_cancel + 1,
        "the crawl went on after cancellation: {after_cancel} → {later}"
    );
    // The messages name the crawl, so the cancelled crawl can be resumed.
    let message = log.0.lock().expect("lock")[0].2.clone().expect("message");
    let cancelled_id = message.split(':').next().expect("id").to_owned();
    assert!(cancelled_id.starts_with("crawl-"), "{message}");
    let resumed = structured(
        &call_peer(
            client.peer(),
            "audit_site",
            json!({ "resume": cancelled_id, "max_pages": 50 }),
        )
        .await,
    );
    assert_eq!(resumed["stop"], "complete", "{resumed:#}");
    assert_eq!(resumed["pages_audited"], 13, "{resumed:#}");

    // A fresh crawl over the same site with a small page budget is resumable by id.
    let mut first_args = args.clone();
    first_args["max_pages"] = json!(4);
    let first = structured(&call_peer(client.peer(), "audit_site", first_args).await);
    assert_eq!(first["stop"], "page_limit");
    assert_eq!(first["resumable"], true);
    assert_eq!(first["pages_audited"], 4);
    let id = first["crawl_id"].as_str().expect("id").to_owned();
    let rest = structured(
        &call_peer(
            client.peer(),
            "audit_site",
            json!({ "resume": id, "max_pages": 50 }),
        )
        .await,
    );
    assert_eq!(rest["crawl_id"], id.as_str());
    assert_eq!(rest["stop"], "complete");
    assert_eq!(rest["resumable"], false);
    assert_eq!(rest["pages_audited"], 13, "{rest:#}");
    let unknown = call_peer(
        client.peer(),
        "audit_site",
        json!({ "resume": "crawl-nope" }),
    )
    .await;
    assert!(error_text(&unknown).contains("no crawl 'crawl-nope'"));
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_over_http() {
    let base = fixture::serve_built(site).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let server = HttpProc::spawn(
        bin(),
        &["seo", "--http", "127.0.0.1:0"],
        &[
            ("FF_ALLOW_HOSTS", "127.0.0.1"),
            ("FF_DB", db.to_str().expect("utf8")),
        ],
    );
    let client = http_client(&format!("{}/mcp", server.base), None).await;
    let clean =
        structured(&call(&client, "audit_page", json!({ "url": format!("{base}/") })).await);
    assert_eq!(clean["findings"], json!([]));
    let site = structured(
        &call(&client, "audit_site", json!({ "start_url": format!("{base}/"), "max_pages": 20, "include_page_findings": true }))
            .await,
    );
    assert!(
        site["pages_audited"].as_u64().expect("count") >= 2,
        "{site:#}"
    );
    assert!(site["page_findings"].is_array());
    assert!(
        text_of(
            &call(
                &client,
                "check_robots",
                json!({ "url": format!("{base}/") })
            )
            .await
        )
        .contains("allowed")
    );
    client.cancel().await.expect("close");
}

/// Crawls live in the database: a crawl started by one server process is
/// resumed by a second and its report read again by a third, all with the
/// same FF_DB; the database is private (0600 in a 0700 directory). The
/// report file follows `core::output`: an existing report is kept unless
/// `overwrite`, and a dotfile is never written.
#[tokio::test(flavor = "multi_thread")]
async fn a_crawl_survives_restarts_and_its_report_file_is_safe() {
    use std::os::unix::fs::PermissionsExt;
    let base = fixture::serve_built(site).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    std::fs::create_dir(&root).expect("root");
    let db = dir.path().join("state/ffmcp.db");
    let env = [
        ("FF_ALLOW_HOSTS", "127.0.0.1"),
        ("FF_ROOTS", root.to_str().expect("utf8")),
        ("FF_DB", db.to_str().expect("utf8")),
    ];
    let args = json!({
        "start_url": format!("{base}/articles"),
        "sitemap_url": format!("{base}/empty.xml"),
        "concurrency": 2,
        "max_pages": 4
    });

    let first = stdio_client_env("seo", &env).await;
    let started = structured(&call(&first, "audit_site", args).await);
    assert_eq!(started["stop"], "page_limit", "{started:#}");
    let id = started["crawl_id"].as_str().expect("id").to_owned();
    first.cancel().await.expect("close");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600, "the database file is private");
    assert_eq!(mode(db.parent().expect("dir")), 0o700, "its directory too");

    let second = stdio_client_env("seo", &env).await;
    let resumed = structured(
        &call(
            &second,
            "audit_site",
            json!({ "resume": id, "max_pages": 50 }),
        )
        .await,
    );
    assert_eq!(resumed["crawl_id"], id.as_str());
    assert_eq!(resumed["stop"], "complete", "{resumed:#}");
    assert_eq!(resumed["pages_audited"], 13, "{resumed:#}");
    second.cancel().await.expect("close");

    // A third process reads the finished crawl's report without fetching.
    let third = stdio_client_env("seo", &env).await;
    let report_args = json!({ "resume": id, "report_path": "crawl.json" });
    let again = structured(&call(&third, "audit_site", report_args.clone()).await);
    assert_eq!(again["pages_audited"], 13, "{again:#}");
    assert_eq!(again["site_findings"], resumed["site_findings"]);
    assert_eq!(again["finding_counts"], resumed["finding_counts"]);
    // The kept crawl is also a resource, with the same findings.
    let uri = format!("seo://crawls/{id}");
    let listed = third.list_all_resources().await.expect("resources/list");
    assert!(listed.iter().any(|r| r.uri == uri), "{listed:?}");
    let read = third
        .read_resource(rmcp::model::ReadResourceRequestParams::new(uri.clone()))
        .await
        .expect("resources/read");
    let Some(rmcp::model::ResourceContents::TextResourceContents { text, .. }) =
        read.contents.first()
    else {
        panic!("text contents expected: {read:?}");
    };
    let crawl: Value = serde_json::from_str(text).expect("JSON");
    assert_eq!(crawl["pages_audited"], 13, "{crawl:#}");
    assert_eq!(crawl["stop"], "complete", "{crawl:#}");
    assert_eq!(crawl["site_findings"], resumed["site_findings"]);
    assert_eq!(crawl["pages"], resumed["pages"], "{crawl:#}");
    let unknown = third
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            "seo://crawls/nope",
        ))
        .await
        .expect_err("unknown crawl refused");
    assert!(
        unknown.to_string().contains("no kept crawl 'nope'"),
        "{unknown}"
    );
    let report_file = root.join("crawl.json");
    let written = std::fs::read(&report_file).expect("report written");
    assert_eq!(mode(&report_file), 0o600);
    let refused = error_text(&call(&third, "audit_site", report_args).await);
    assert!(refused.contains("overwrite"), "{refused}");
    assert_eq!(std::fs::read(&report_file).expect("read"), written, "kept");
    let bashrc = root.join(".bashrc");
    std::fs::write(&bashrc, "alias ls='ls -F'\n").expect("seed");
    let dotfile = error_text(
        &call(
            &third,
            "audit_site",
            json!({ "resume": id, "report_path": ".bashrc", "report_format": "csv", "overwrite": true }),
        )
        .await,
    );
    assert!(dotfile.contains("'.bashrc'"), "{dotfile}");
    assert_eq!(std::fs::read(&bashrc).expect("read"), b"alias ls='ls -F'\n");
    let unknown = error_text(&call(&third, "audit_site", json!({ "resume": "crawl-nope" })).await);
    assert!(unknown.contains("no crawl 'crawl-nope'"), "{unknown}");
    third.cancel().await.expect("close");
}

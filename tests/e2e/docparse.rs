//! docparse end to end: real MCP clients over stdio and HTTP, local files
//! under roots, URLs through the SSRF-safe fetcher, base64, slicing, errors.

use std::sync::Arc;

use ffmcp_test_support::http::{FixtureServer, Reply};
use serde_json::{Value, json};

use super::support::{HttpProc, bin, call, error_text, http_client, stdio_client_env, structured};

mod limits;

const PAGE: &str = r#"<!doctype html><html lang="en"><head><title>Fixture page</title>
<meta name="author" content="Ada"></head><body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<main><h1>Quarterly report</h1><p>Revenue grew <strong>12%</strong> in Q3.</p>
<table><tr><th>Quarter</th><th>Revenue</th></tr><tr><td>Q2</td><td>100</td></tr><tr><td>Q3</td><td>112</td></tr></table>
</main><footer>Copyright 2026</footer></body></html>"#;

/// Serves PAGE at `/reports/q3.html`; counts connections.
async fn fixture() -> FixtureServer {
    let server = FixtureServer::start().await;
    server.route("/reports/q3.html", Reply::html(PAGE));
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn local_files_under_roots_over_stdio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(root.join("report.html"), PAGE).expect("write");
    std::fs::write(
        root.join("notes.md"),
        "# Guide\n\nIntro text.\n\n## Install\n\nRun the installer.\n\n## Use\n\nOpen the app.\n",
    )
    .expect("write");
    std::fs::write(root.join("data.csv"), "name;score\nada;3\nbob;4\n").expect("write");
    // A Markdown file with a misleading extension is still read as text.
    std::fs::write(root.join("misnamed.pdf"), "just some words").expect("write");
    std::fs::write(outside.path().join("secret.md"), "# secret").expect("write");
    let client = stdio_client_env("docparse", &[("FF_ROOTS", root.to_str().expect("utf8"))]).await;

    let parsed = structured(&call(&client, "parse", json!({ "path": "report.html" })).await);
    assert_eq!(parsed["format"], "html");
    assert_eq!(parsed["metadata"]["title"], "Fixture page");
    assert_eq!(parsed["metadata"]["author"], "Ada");
    let content = parsed["content"].as_str().expect("content");
    assert!(
        content.starts_with("# Quarterly report\n\nRevenue grew **12%** in Q3."),
        "{content}"
    );
    assert!(content.contains("| Q3 | 112 |"), "{content}");
    assert!(
        !content.contains("Home") && !content.contains("Copyright"),
        "chrome kept: {content}"
    );

    let text = structured(
        &call(
            &client,
            "parse",
            json!({ "path": "report.html", "output": "text" }),
        )
        .await,
    );
    assert!(
        text["content"]
            .as_str()
            .expect("text")
            .starts_with("Quarterly report\n\nRevenue grew 12% in Q3.")
    );

    let tables = structured(&call(&client, "extract_tables", json!({ "path": "data.csv" })).await);
    assert_eq!(
        tables["tables"][0]["rows"],
        json!([["name", "score"], ["ada", "3"], ["bob", "4"]])
    );
    assert_eq!(tables["tables"][0]["header"], true);

    let chunks = structured(
        &call(
            &client,
            "chunk",
            json!({ "path": "notes.md", "max_tokens": 64, "overlap_tokens": 8 }),
        )
        .await,
    );
    let chunks = chunks["chunks"].as_array().expect("chunks");
    assert_eq!(chunks.len(), 3, "{chunks:?}");
    assert_eq!(chunks[1]["headings"], json!(["Guide", "Install"]));

    let misnamed = structured(&call(&client, "parse", json!({ "path": "misnamed.pdf" })).await);
    assert_eq!(misnamed["format"], "text");

    let secret = outside.path().join("secret.md");
    let refused = call(
        &client,
        "parse",
        json!({ "path": secret.to_str().expect("utf8") }),
    )
    .await;
    let message = error_text(&refused);
    assert!(message.contains("outside"), "{message}");
    assert!(!message.contains("# secret"));

    let formats = structured(&call(&client, "formats", json!({})).await);
    let names: Vec<&str> = formats["formats"]
        .as_array()
        .expect("formats")
        .iter()
        .filter_map(|f| f["format"].as_str())
        .collect();
    for expected in ["html", "markdown", "csv", "text"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn urls_are_fetched_only_when_allowed_over_http() {
    let site = fixture().await;
    let url = site.url("/reports/q3.html");

    let closed = HttpProc::spawn(bin(), &["docparse", "--http", "127.0.0.1:0"], &[]);
    let client = http_client(&format!("{}/mcp", closed.base), None).await;
    let refused = call(&client, "parse", json!({ "url": url })).await;
    let message = error_text(&refused);
    assert!(
        message.contains("loopback") && message.contains("FF_ALLOW_HOSTS"),
        "{message}"
    );
    assert_eq!(site.connections(), 0, "the fixture was contacted");
    for bad in [
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
    ] {
        let result = call(&client, "parse", json!({ "url": bad })).await;
        assert_eq!(result.is_error, Some(true), "{bad}");
    }
    client.cancel().await.expect("close");

    let open = HttpProc::spawn(
        bin(),
        &["docparse", "--http", "127.0.0.1:0"],
        &[("FF_ALLOW_HOSTS", "127.0.0.1")],
    );
    let client = http_client(&format!("{}/mcp", open.base), None).await;
    let parsed = structured(&call(&client, "parse", json!({ "url": url })).await);
    assert_eq!(parsed["format"], "html");
    assert_eq!(parsed["source"], url);
    assert!(
        parsed["content"]
            .as_str()
            .expect("content")
            .contains("Revenue grew")
    );
    assert_eq!(site.requests_to("/reports/q3.html").len(), 1);
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn base64_input_long_results_slice_and_bad_arguments_are_named() {
    use base64::Engine;
    let client = stdio_client_env("docparse", &[]).await;
    let body: String = (0..400)
        .map(|i| format!("Paragraph number {i} of the long document.\n\n"))
        .collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());

    let first = structured(
        &call(
            &client,
            "parse",
            json!({ "content_base64": encoded, "filename": "long.md", "max_chars": 5000 }),
        )
        .await,
    );
    assert_eq!(first["format"], "markdown");
    assert_eq!(first["truncated"], true);
    let total = first["total_chars"].as_u64().expect("total") as usize;
    let mut content = first["content"].as_str().expect("content").to_owned();
    let mut next = first["next_offset"].as_u64();
    while let Some(offset) = next {
        let page = structured(
            &call(&client, "parse", json!({ "content_base64": encoded, "filename": "long.md", "max_chars": 5000, "offset": offset })).await,
        );
        content.push_str(page["content"].as_str().expect("content"));
        next = page["next_offset"].as_u64();
    }
    assert_eq!(content.chars().count(), total);
    assert!(content.ends_with("Paragraph number 399 of the long document.\n"));

    let cases = [
        (json!({}), "exactly one of 'path'"),
        (
            json!({ "path": "a", "url": "http://example.com/" }),
            "exactly one of 'path'",
        ),
        (
            json!({ "content_base64": "!!!not base64", "filename": "x.txt" }),
            "not valid base64",
        ),
        (json!({ "content_base64": "aGk=", "pages": "0" }), "'pages'"),
        (
            json!({ "content_base64": "aGk=", "max_chars": 0 }),
            "'max_chars'",
        ),
        (
            json!({ "content_base64": "aGk=", "colour": "red" }),
            "colour",
        ),
        (json!({ "path": "notes.md" }), "FF_ROOTS"),
    ];
    for (args, expected) in cases {
        let result = call(&client, "parse", args.clone()).await;
        let message = error_text(&result);
        assert!(message.contains(expected), "{args}: {message}");
    }
    let binary = base64::engine::general_purpose::STANDARD.encode([0u8, 1, 2, 3, 0, 0, 7, 8]);
    let unknown = call(&client, "parse", json!({ "content_base64": binary })).await;
    assert!(error_text(&unknown).contains("cannot tell what kind of document"));
    client.cancel().await.expect("close");
}

/// `ffmcp docparse` over stdio with the model variables of this process
/// removed and `env` set.
async fn model_client(env: &[(&str, String)]) -> super::support::Client {
    let mut cmd = tokio::process::Command::new(super::support::bin());
    cmd.arg("docparse").env("FF_LOG", "warn");
    for (key, _) in std::env::vars() {
        if key.starts_with("FF_LLM_")
            || key.ends_with("_API_KEY")
            || key.ends_with("_BASE_URL")
            || key.starts_with("AWS_")
        {
            cmd.env_remove(key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    ffmcp_test_support::client::connect_stdio(cmd).await
}

#[tokio::test(flavor = "multi_thread")]
async fn extract_fills_a_schema_through_the_model_layer_and_never_invents_without_one() {
    use base64::Engine;
    use ffmcp_test_support::imitation::{Fault, Imitation};
    let html = base64::engine::general_purpose::STANDARD.encode(PAGE.as_bytes());
    let schema = json!({
        "type": "object",
        "properties": { "q3_revenue": { "type": "number" }, "author": { "type": "string" } },
        "required": ["q3_revenue", "author"]
    });

    // No model: a clear error naming the variables, no data.
    let client = model_client(&[]).await;
    let result = call(
        &client,
        "extract",
        json!({ "content_base64": html, "filename": "r.html", "schema": schema }),
    )
    .await;
    let message = error_text(&result);
    assert!(message.contains("FF_LLM_PRIMARY"), "{message}");
    assert!(result.structured_content.is_none());
    client.cancel().await.expect("close");

    // The primary fails with 529; the fallback answers; the document reached it.
    let imitation = Imitation::start().await.expect("imitation");
    imitation.fault_times("claude-sonnet-4-5", Fault::Status(529), 100);
    imitation.respond("gpt-4o", |prompt| {
        assert!(prompt.last_user().contains("Revenue grew **12%** in Q3"));
        r#"{"q3_revenue": 112, "author": "Ada"}"#.to_owned()
    });
    let mut env = imitation.env();
    env.extend([
        ("FF_LLM_PRIMARY", "anthropic:claude-sonnet-4-5".to_owned()),
        ("FF_LLM_FALLBACKS", "openai:gpt-4o".to_owned()),
        ("FF_LLM_BACKOFF_MS", "5".to_owned()),
        ("FF_LLM_BACKOFF_MAX_MS", "20".to_owned()),
    ]);
    let client = model_client(&env).await;
    let out = structured(
        &call(
            &client,
            "extract",
            json!({ "content_base64": html, "filename": "r.html", "schema": schema,
                    "instructions": "Take Q3 revenue from the table." }),
        )
        .await,
    );
    assert_eq!(out["data"], json!({ "q3_revenue": 112, "author": "Ada" }));
    assert_eq!(out["route"], "openai:gpt-4o");
    assert_eq!(out["format"], "html");
    let bad = call(
        &client,
        "extract",
        json!({ "content_base64": html, "schema": "not a schema" }),
    )
    .await;
    assert!(error_text(&bad).contains("'schema'"));
    client.cancel().await.expect("close");
}

/// Copies the PDF fixtures into a fresh root.
fn pdf_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docparse");
    for name in ["scanned.pdf", "text.pdf"] {
        std::fs::copy(fixtures.join(name), dir.path().join(name)).expect("copy fixture");
    }
    dir
}

/// The optional programs the PDF engine and OCR tests need.
const PDF_PROGRAMS: &[&str] = &[
    "/usr/bin/pdftotext",
    "/usr/bin/pdftoppm",
    "/usr/bin/tesseract",
];

/// How to get the programs the PDF backends need.
const PDF_HINT: &str = "apt-get install poppler-utils tesseract-ocr";

fn optional_programs(test: &str, programs: &[&str]) -> bool {
    super::support::optional_programs(test, programs, PDF_HINT)
}

#[test]
fn missing_optional_programs_skip_unless_required() {
    let missing = ["/nonexistent/ffmcp-optional-program"];
    let outcome = std::panic::catch_unwind(|| optional_programs("probe", &missing));
    if std::env::var_os("FFMCP_REQUIRE_OPTIONAL").is_some() {
        assert!(outcome.is_err(), "required but missing must fail");
    } else {
        assert_eq!(outcome.ok(), Some(false), "missing must skip");
    }
    assert!(optional_programs("probe", &[]));
}

#[tokio::test(flavor = "multi_thread")]
async fn sandboxed_pdftotext_and_ocr_backends() {
    if !optional_programs("sandboxed_pdftotext_and_ocr_backends", PDF_PROGRAMS) {
        return;
    }
    let dir = pdf_root();
    let root = dir.path().canonicalize().expect("canonical");
    let client = stdio_client_env("docparse", &[("FF_ROOTS", root.to_str().expect("utf8"))]).await;

    let formats = structured(&call(&client, "formats", json!({})).await);
    let available: Vec<&str> = formats["backends"]
        .as_array()
        .expect("backends")
        .iter()
        .filter(|b| b["available"] == true)
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert_eq!(available, ["pdftoppm", "pdftotext", "tesseract"]);

    // The same text from the built-in engine and from pdftotext.
    let builtin = structured(
        &call(
            &client,
            "parse",
            json!({ "path": "text.pdf", "output": "text" }),
        )
        .await,
    );
    let poppler = structured(
        &call(
            &client,
            "parse",
            json!({ "path": "text.pdf", "output": "text", "engine": "pdftotext" }),
        )
        .await,
    );
    for parsed in [&builtin, &poppler] {
        let text = parsed["content"].as_str().expect("text");
        assert!(
            text.contains("Scanned Invoice") && text.contains("Total amount due: 1234 EUR"),
            "{text}"
        );
    }

    // A scan: no text without OCR; the text with it.
    let plain = structured(&call(&client, "parse", json!({ "path": "scanned.pdf" })).await);
    assert!(!plain["content"].as_str().expect("content").contains("1234"));
    let ocr = structured(
        &call(
            &client,
            "parse",
            json!({ "path": "scanned.pdf", "ocr": true }),
        )
        .await,
    );
    let text = ocr["content"].as_str().expect("content");
    assert!(text.contains("Total amount due: 1234 EUR"), "{text}");
    let warnings = ocr["warnings"].to_string();
    assert!(warnings.contains("OCR"), "{warnings}");

    let bad = call(
        &client,
        "parse",
        json!({ "path": "scanned.pdf", "ocr": true, "ocr_language": "-l eng" }),
    )
    .await;
    assert!(error_text(&bad).contains("'ocr_language'"));
    client.cancel().await.expect("close");
}

/// (progress, total) of one notification.
type Progress = (f64, Option<f64>);

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
            .push((params.progress, params.total));
    }
}

/// OCR processes (tesseract, pdftoppm) started by a docparse server whose
/// FF_ROOTS is `root`; other tests' processes do not count.
fn live_ocr(root: &std::path::Path) -> usize {
    let marker = format!("FF_ROOTS={}", root.display());
    let parent_is_ours = |pid: &str| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let ppid = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        let environ = std::fs::read(format!("/proc/{ppid}/environ")).unwrap_or_default();
        environ
            .split(|b| *b == 0)
            .any(|var| var == marker.as_bytes())
    };
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    let comm = std::fs::read(e.path().join("comm")).unwrap_or_default();
                    comm.starts_with(b"tesseract") || comm.starts_with(b"pdftoppm")
                })
                // A killed child waiting to be reaped (state Z) runs nothing.
                .filter(|e| {
                    let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
                    let state = stat
                        .rsplit_once(") ")
                        .and_then(|(_, rest)| rest.chars().next());
                    !matches!(state, Some('Z' | 'X'))
                })
                .filter(|e| parent_is_ours(&e.file_name().to_string_lossy()))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn long_parses_report_progress_and_stop_when_cancelled() {
    use rmcp::{
        model::{CallToolRequestParams, ClientRequest, Request},
        service::PeerRequestOptions,
    };
    let dir = pdf_root();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docparse");
    std::fs::copy(
        fixtures.join("scanned10.pdf"),
        dir.path().join("scanned10.pdf"),
    )
    .expect("copy");
    let root = dir.path().canonicalize().expect("canonical");
    let mut cmd = tokio::process::Command::new(super::support::bin());
    cmd.arg("docparse")
        .env("FF_LOG", "warn")
        .env("FF_ROOTS", root.to_str().expect("utf8"));
    let log = ProgressLog::default();
    let client = ffmcp_test_support::client::connect_stdio_with(log.clone(), cmd).await;
    let request = |args: Value| {
        let Value::Object(args) = args else {
            unreachable!()
        };
        ClientRequest::CallToolRequest(Request::new(
            CallToolRequestParams::new("parse").with_arguments(args),
        ))
    };

    // Ten pages: a notification per page, ending at 10 of 10.
    let handle = client
        .peer()
        .send_cancellable_request(
            request(json!({ "path": "scanned10.pdf" })),
            PeerRequestOptions::no_options(),
        )
        .await
        .expect("sent");
    handle.await_response().await.expect("parsed");
    // Notifications are handled concurrently with the response: wait for them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let seen = loop {
        let seen = log.0.lock().expect("lock").clone();
        if seen.len() >= 11 || std::time::Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(seen.len() >= 10, "progress: {seen:?}");
    assert!(seen.contains(&(10.0, Some(10.0))), "{seen:?}");
    assert!(
        seen.iter().all(|(_, total)| *total == Some(10.0)),
        "{seen:?}"
    );

    if !optional_programs(
        "long_parses_report_progress_and_stop_when_cancelled (OCR part)",
        PDF_PROGRAMS,
    ) {
        client.cancel().await.expect("close");
        return;
    }
    // OCR of ten pages takes seconds; cancel it in the middle.
    let handle = client
        .peer()
        .send_cancellable_request(
            request(json!({ "path": "scanned10.pdf", "ocr": true })),
            PeerRequestOptions::no_options(),
        )
        .await
        .expect("sent");
    // Wait until the OCR is really running.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while live_ocr(&root) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(live_ocr(&root) > 0, "OCR never started");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    handle
        .cancel(Some("test".into()))
        .await
        .expect("cancel sent");
    // The server stops: the next call is answered promptly, and no OCR
    // process of the cancelled call is left running.
    let formats = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        client.call_tool(CallToolRequestParams::new("formats")),
    )
    .await
    .expect("answered in time")
    .expect("answered");
    assert_ne!(formats.is_error, Some(true));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Uncancelled, the OCR would go on for seconds, page after page.
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(
            live_ocr(&root),
            0,
            "OCR went on after the call was cancelled"
        );
    }
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn supported_formats_are_a_resource_next_to_the_stats() {
    let client = stdio_client_env("docparse", &[]).await;
    let resources = client.list_all_resources().await.expect("resources/list");
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert!(
        uris.contains(&"docparse://formats") && uris.contains(&"ffmcp://stats"),
        "{uris:?}"
    );
    let read = client
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            "docparse://formats",
        ))
        .await
        .expect("resources/read");
    let Some(rmcp::model::ResourceContents::TextResourceContents { text, .. }) =
        read.contents.first()
    else {
        panic!("text contents expected: {read:?}");
    };
    let formats: Value = serde_json::from_str(text).expect("JSON");
    let tool = structured(&call(&client, "formats", json!({})).await);
    assert_eq!(formats, tool, "the resource and the tool report the same");
    assert!(
        formats["formats"]
            .as_array()
            .expect("formats")
            .iter()
            .any(|f| f["format"] == "pdf"),
        "{formats}"
    );
    let unknown = client
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            "docparse://nope",
        ))
        .await
        .expect_err("unknown resource refused");
    assert!(
        unknown.to_string().contains("docparse://formats"),
        "{unknown}"
    );
    client.cancel().await.expect("close");
}

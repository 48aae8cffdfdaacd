//! docparse resource governance end to end: hostile documents sent as
//! base64 over stdio to the real binary through the rmcp client; the
//! server's peak RSS (VmHWM, read from /proc before it exits) stays under
//! 512 MiB and each call ends in bounded time with a clear error or a
//! bounded result. Paging a long document parses it once.

use std::time::{Duration, Instant};

use base64::Engine as _;
use ffmcp_docparse::testdocs;
use rmcp::{
    model::{CallToolRequestParams, CallToolResult},
    transport::TokioChildProcess,
};
use serde_json::{Value, json};

use crate::e2e::support::{Client, bin, error_text, structured};

/// Peak RSS every hostile call must stay under.
const MAX_RSS_MIB: u64 = 512;
/// Wall-clock bound per hostile call (debug builds included).
const MAX_CALL: Duration = Duration::from_secs(90);

/// A docparse server over stdio and its process id.
async fn server(env: &[(&str, &str)]) -> (Client, u32) {
    use rmcp::ServiceExt;
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("docparse").env("FF_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let transport = TokioChildProcess::new(cmd).expect("spawn ffmcp");
    let pid = transport.id().expect("child pid");
    let client = ().serve(transport).await.expect("handshake");
    (client, pid)
}

/// The process's peak resident set (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib / 1024
}

/// Sends `bytes` as base64 to `parse`; returns the result, the time the
/// call took and the server's peak RSS (printed for the record).
#[allow(clippy::print_stderr)]
async fn hostile(
    name: &str,
    filename: &str,
    bytes: &[u8],
    env: &[(&str, &str)],
) -> (CallToolResult, Duration, u64) {
    let (client, pid) = server(env).await;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let args = json!({ "content_base64": encoded, "filename": filename, "max_chars": 2000 });
    let Value::Object(args) = args else {
        unreachable!()
    };
    let started = Instant::now();
    let result = tokio::time::timeout(
        MAX_CALL,
        client.call_tool(CallToolRequestParams::new("parse").with_arguments(args)),
    )
    .await
    .unwrap_or_else(|_| panic!("{name}: no answer within {MAX_CALL:?}"))
    .expect("call answered");
    let took = started.elapsed();
    // The server still answers after the hostile call.
    let formats = tokio::time::timeout(
        Duration::from_secs(20),
        client.call_tool(CallToolRequestParams::new("formats")),
    )
    .await
    .expect("formats in time")
    .expect("formats answered");
    assert_ne!(
        formats.is_error,
        Some(true),
        "{name}: server broken afterwards"
    );
    let peak = peak_rss_mib(pid);
    eprintln!(
        "{name}: {} input bytes, answered in {took:.2?}, peak RSS {peak} MiB",
        bytes.len()
    );
    client.cancel().await.expect("close");
    assert!(
        peak < MAX_RSS_MIB,
        "{name}: peak RSS {peak} MiB, the bound is {MAX_RSS_MIB} MiB"
    );
    (result, took, peak)
}

fn assert_budget_error(name: &str, result: &CallToolResult) {
    let text = error_text(result);
    assert!(
        text.contains("memory budget") && text.contains("FF_DOCPARSE_MAX_EXPANDED_BYTES"),
        "{name}: {text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn epub_of_thirty_four_mib_chapters_stays_within_the_memory_bound() {
    let epub = testdocs::epub_bomb(30, 4 << 20);
    assert!(epub.len() < 400_000, "{} bytes", epub.len());
    let (result, _, _) = hostile("EPUB 30 x 4 MiB chapters", "bomb.epub", &epub, &[]).await;
    assert_budget_error("EPUB", &result);
}

#[tokio::test(flavor = "multi_thread")]
async fn flate_bomb_pdf_stops_at_the_budget() {
    // One content stream of 2.7 GB of zeros: a 2.6 MB file.
    let pdf = testdocs::pdf_flate_bomb(2_700_000_000);
    assert!((2_000_000..3_000_000).contains(&pdf.len()), "{}", pdf.len());
    let (result, _, _) = hostile("PDF Flate bomb", "bomb.pdf", &pdf, &[]).await;
    assert_budget_error("PDF", &result);
}

#[tokio::test(flavor = "multi_thread")]
async fn xlsx_shared_strings_bomb_stops_at_the_budget() {
    // One 1 MiB shared string referenced by 20,000 cells: 20 GB of copies.
    let xlsx = testdocs::xlsx_shared_strings_bomb(1 << 20, 200, 100);
    let (result, _, _) = hostile("XLSX shared-strings bomb", "bomb.xlsx", &xlsx, &[]).await;
    assert_budget_error("XLSX", &result);
}

#[tokio::test(flavor = "multi_thread")]
async fn pptx_of_ten_thousand_slides_is_bounded() {
    let pptx = testdocs::pptx_slides(10_000);
    // 10,000 ZIP members take more than the default 4 MiB stdio frame as
    // base64; the frame limit is raised so the document reaches the parser.
    let (result, _, _) = hostile(
        "PPTX 10,000 slides",
        "deck.pptx",
        &pptx,
        &[("FF_MAX_FRAME_BYTES", "16777216")],
    )
    .await;
    // Within the limits: a bounded result (the first 5000 slides, a slice).
    let parsed = structured(&result);
    assert_eq!(parsed["format"], "pptx");
    assert!(parsed["content"].as_str().expect("content").chars().count() <= 2000);
    let warnings = parsed["warnings"].to_string();
    assert!(warnings.contains("only 5000 of 10000 slides"), "{warnings}");
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_parses_the_document_once() {
    let pdf = testdocs::pdf_pages(40, 30);
    let (client, _) = server(&[]).await;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&pdf);
    let mut offset = 0u64;
    let mut slices = 0;
    let mut text = String::new();
    loop {
        let page = structured(
            &crate::e2e::support::call(
                &client,
                "parse",
                json!({ "content_base64": encoded, "filename": "long.pdf",
                        "max_chars": 10_000, "offset": offset }),
            )
            .await,
        );
        // Only the first call parses; every following slice is cut from it.
        assert_eq!(page["reused"], slices > 0, "slice {slices}");
        text.push_str(page["content"].as_str().expect("content"));
        slices += 1;
        match page["next_offset"].as_u64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    assert!(slices >= 5, "{slices} slices");
    assert!(text.contains("Page 40 line 29"), "the last line arrived");
    // Other options are another rendering: parsed again.
    let other = structured(
        &crate::e2e::support::call(
            &client,
            "parse",
            json!({ "content_base64": encoded, "filename": "long.pdf", "output": "text" }),
        )
        .await,
    );
    assert_eq!(other["reused"], false);
    client.cancel().await.expect("close");
}

//! Fixture → Markdown for each format, pinned by insta snapshots
//! (tests/snapshots/): one real document per format where the repository
//! has one (PDF, DOCX, PPTX, XLS, HTML, Markdown, CSV, TSV, text), the
//! office builders' samples for XLSX and ODS. A change in what any parser
//! or the renderer produces shows up as a snapshot diff to review
//! (crates/test-support/README.md says how).

#![allow(clippy::unwrap_used)]

mod office_support;

use std::path::Path;

use ffmcp_docparse::{
    Format, ParseOptions, formats,
    render::{OutputFormat, render},
};

fn markdown(format: Format, bytes: &[u8]) -> String {
    let doc = formats::parse(format, bytes, &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{format:?} fixture parses: {e}"));
    render(&doc, OutputFormat::Markdown)
}

fn fixture(path: &str) -> Vec<u8> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[test]
fn each_format_to_markdown() {
    let cases: [(&str, Format, Vec<u8>); 11] = [
        ("pdf", Format::Pdf, fixture("pdf/libreoffice-3-columns.pdf")),
        ("docx", Format::Docx, fixture("office/python-docx.docx")),
        ("pptx", Format::Pptx, fixture("office/python-pptx.pptx")),
        ("xls", Format::Xls, fixture("office/sample.xls")),
        ("xlsx", Format::Xlsx, office_support::sample_xlsx()),
        ("ods", Format::Ods, office_support::sample_ods("")),
        ("html", Format::Html, fixture("text/quarterly.html")),
        (
            "markdown",
            Format::Markdown,
            fixture("text/release-notes.md"),
        ),
        ("csv", Format::Csv, fixture("text/people.csv")),
        ("tsv", Format::Tsv, fixture("text/prices.tsv")),
        ("text", Format::Text, fixture("text/notes.txt")),
    ];
    for (name, format, bytes) in cases {
        insta::assert_snapshot!(name, markdown(format, &bytes));
    }
}

//! Chunking real documents (fixtures from Debian/PyPI packages): for every
//! `max_tokens` an agent is likely to ask for, every chunk's reported
//! token count stays within it (overlap included) and equals the count of
//! its text, table rows are never cut, continuation chunks of a table repeat
//! its header, and headings stay on lines of their own.
//!
//! Fixtures besides the ones `markdown.rs` pins: `text/libxslt-transform.html`
//! (Debian libxslt1-dev 1.1.35-1+deb12u3, MIT: 35 API tables) and
//! `text/python-policy.html` (Debian python3 3.11.2-1, the Debian Python
//! policy: nested ordered and bulleted lists).

#![allow(clippy::unwrap_used)]
// The measured counts are reported.
#![allow(clippy::print_stderr)]

use std::path::Path;

use ffmcp_docparse::{
    Document, Format, ParseOptions,
    chunk::{ChunkOptions, chunk, estimate_tokens},
    formats,
    render::{OutputFormat, render},
};

fn fixture(path: &str) -> Vec<u8> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Every real document of the fixtures, parsed.
fn corpus() -> Vec<(&'static str, Document)> {
    let files: [(&str, Format); 13] = [
        ("pdf/libreoffice-3-columns.pdf", Format::Pdf),
        ("pdf/groff-ghostscript-man.pdf", Format::Pdf),
        ("pdf/pdftex-bzip2-manual.pdf", Format::Pdf),
        ("pdf/libreoffice-cjk.pdf", Format::Pdf),
        ("pdf/live-manual-de.pdf", Format::Pdf),
        ("office/python-docx.docx", Format::Docx),
        ("office/python-pptx.pptx", Format::Pptx),
        ("office/sample.xls", Format::Xls),
        ("text/quarterly.html", Format::Html),
        ("text/libxslt-transform.html", Format::Html),
        ("text/python-policy.html", Format::Html),
        ("text/release-notes.md", Format::Markdown),
        ("text/people.csv", Format::Csv),
    ];
    files
        .into_iter()
        .map(|(path, format)| {
            let doc = formats::parse(format, &fixture(path), &ParseOptions::default())
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            (path, doc)
        })
        .collect()
}

/// Whether `line` is a row of a pipe table.
fn table_row(line: &str) -> bool {
    let line = line.trim();
    line.starts_with('|') && line.ends_with('|') && line.len() > 1
}

#[test]
fn chunks_never_exceed_max_tokens_on_real_documents() {
    let corpus = corpus();
    let mut failures = Vec::new();
    for max_tokens in [64, 128, 256, 512] {
        let (mut total, mut over) = (0, 0);
        for (path, doc) in &corpus {
            let options = ChunkOptions {
                max_tokens,
                overlap_tokens: (max_tokens / 4).min(64),
                split_level: 2,
            };
            for c in chunk(doc, options) {
                total += 1;
                assert_eq!(c.tokens, estimate_tokens(&c.text), "{path}: reported count");
                if c.tokens > max_tokens {
                    over += 1;
                    eprintln!(
                        "{path} at {max_tokens}: chunk {} has {} tokens",
                        c.index, c.tokens
                    );
                }
            }
        }
        eprintln!("max_tokens {max_tokens}: {over} of {total} chunks over");
        if over > 0 {
            failures.push(format!(
                "max_tokens {max_tokens}: {over} of {total} chunks over"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

/// Table rows are never cut, a chunk that continues a table starts with its
/// header (header row and separator), and every heading line of a chunk is
/// a whole heading line of the document (overlap never glues a heading to
/// the text after it).
#[test]
fn chunks_keep_rows_whole_repeat_headers_and_keep_headings_on_their_lines() {
    let mut continued = 0;
    for (path, doc) in corpus() {
        let full = render(&doc, OutputFormat::Markdown);
        let lines: std::collections::HashSet<&str> = full.lines().collect();
        let headings: Vec<&str> = full
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(|l| l.trim_start_matches('#').trim())
            .filter(|h| h.len() > 3)
            .collect();
        // The header line above each separator, by the rows under it.
        let mut header_of = std::collections::HashMap::new();
        let all: Vec<&str> = full.lines().collect();
        let mut header: Option<&str> = None;
        for (i, line) in all.iter().enumerate() {
            if line.starts_with("| ---") && i > 0 {
                header = Some(all[i - 1]);
            } else if table_row(line) {
                if let Some(h) = header {
                    header_of.entry(*line).or_insert(h);
                }
            } else {
                header = None;
            }
        }
        for max_tokens in [64, 128, 256, 512] {
            let options = ChunkOptions {
                max_tokens,
                overlap_tokens: (max_tokens / 4).min(64),
                split_level: 2,
            };
            let chunks = chunk(&doc, options);
            for c in &chunks {
                let chunk_lines: Vec<&str> = c.text.lines().collect();
                for (i, line) in chunk_lines.iter().enumerate() {
                    if table_row(line) {
                        assert!(
                            lines.contains(line),
                            "{path} at {max_tokens}: chunk {} cuts a row: {line}",
                            c.index
                        );
                    }
                    // A table continued from the previous chunk starts with
                    // its header.
                    if i == 0
                        && table_row(line)
                        && !line.starts_with("| ---")
                        && let Some(h) = header_of.get(line).filter(|h| *h != line)
                    {
                        panic!(
                            "{path} at {max_tokens}: chunk {} starts inside a table without its header {h}",
                            c.index
                        );
                    }
                    if line.starts_with('#') {
                        assert!(
                            lines.contains(line),
                            "{path} at {max_tokens}: chunk {} has a heading line not in the document: {line}",
                            c.index
                        );
                    }
                    for h in &headings {
                        if let Some(at) = line.find(h)
                            && line[..at].ends_with("# ")
                        {
                            let marker = &line[..at - 1];
                            assert!(
                                !marker.is_empty() && marker.chars().all(|c| c == '#'),
                                "{path} at {max_tokens}: chunk {} glues a heading: {line}",
                                c.index
                            );
                        }
                    }
                }
                if let Some(first) = chunk_lines.first()
                    && first.starts_with("| ")
                    && chunk_lines.get(1).is_some_and(|l| l.starts_with("| ---"))
                {
                    continued += 1;
                }
            }
        }
    }
    assert!(continued > 0, "the corpus splits at least one table");
}

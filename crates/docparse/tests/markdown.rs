//! Fixture → Markdown for each format, pinned by insta snapshots
//! (tests/snapshots/): one real document per format where the repository
//! has one (PDF, DOCX, PPTX, XLS, HTML, Markdown, CSV, TSV, text), the
//! office builders' samples for XLSX and ODS. A change in what any parser
//! or the renderer produces shows up as a snapshot diff to review
//! (crates/test-support/README.md says how).

#![allow(clippy::unwrap_used)]

mod html_pages;
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

/// Lists nested under ordered items (markers of width 3 and 4), items with
/// several lines and code spans holding backticks: what the renderer writes,
/// a CommonMark parser (pulldown-cmark) reads back as the same document.
#[test]
fn nested_lists_and_code_spans_survive_a_commonmark_parser() {
    use ffmcp_docparse::model::{Block, Document, ListItem, Span};
    let item = |text: &str, children: Vec<Block>| ListItem {
        content: vec![Span::plain(text)],
        children,
    };
    let code = |text: &str| Span {
        text: text.into(),
        code: true,
        ..Span::default()
    };
    let nested = |ordered| Block::List {
        ordered,
        items: vec![item("inner one", vec![]), item("inner two", vec![])],
    };
    let mut items: Vec<ListItem> = (1..=11)
        .map(|i| item(&format!("step {i}"), vec![nested(i % 2 == 0)]))
        .collect();
    items[10].children.push(Block::text("a second paragraph"));
    let doc = Document {
        blocks: vec![
            Block::List {
                ordered: true,
                items,
            },
            Block::Paragraph(vec![
                Span::plain("run "),
                code("apt install "),
                code("package"),
                Span::plain(", then "),
                code("`quoted` and ``double``"),
            ]),
        ],
        ..Document::default()
    };
    let md = render(&doc, OutputFormat::Markdown);
    assert!(md.contains("11. step 11\n    - inner one"), "{md}");
    assert!(md.contains("1. step 1\n   - inner one"), "{md}");
    assert!(md.contains("`apt install package`"), "{md}");
    assert!(md.contains("``` `quoted` and ``double`` ```"), "{md}");
    let back = formats::parse(Format::Markdown, md.as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(render(&back, OutputFormat::Markdown), md);
    // The structure, read by pulldown-cmark itself: every inner item sits
    // in a list two levels deep.
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut depth = 0;
    let mut inner = 0;
    for event in Parser::new(&md) {
        match event {
            Event::Start(Tag::List(_)) => depth += 1,
            Event::End(TagEnd::List(_)) => depth -= 1,
            Event::Text(t) if t.starts_with("inner") => {
                assert_eq!(depth, 2, "{t} in\n{md}");
                inner += 1;
            }
            Event::Code(c) => assert!(
                ["apt install package", "`quoted` and ``double``"].contains(&c.as_ref()),
                "{c}"
            ),
            _ => {}
        }
    }
    assert_eq!(inner, 22);
}

/// Real documents keep their structure through Markdown: the blocks read
/// back from the rendered Markdown by a CommonMark parser are the blocks
/// rendered (kinds, list nesting, text up to whitespace): nested lists of
/// the Debian Python policy, API tables of libxslt's reference, the DOCX
/// and PPTX samples.
#[test]
fn real_documents_render_to_markdown_that_reads_back_the_same() {
    use ffmcp_docparse::model::{Block, inline_text};
    fn norm(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
    fn sig(blocks: &[Block], depth: usize, out: &mut Vec<String>) {
        let pad = "  ".repeat(depth);
        for block in blocks {
            match block {
                Block::Heading { level, content } => {
                    out.push(format!("{pad}H{level} {}", norm(&inline_text(content))));
                }
                Block::Paragraph(content) => {
                    out.push(format!("{pad}P {}", norm(&inline_text(content))));
                }
                Block::List { ordered, items } => {
                    out.push(format!("{pad}List ordered={ordered}"));
                    for item in items {
                        out.push(format!("{pad}- {}", norm(&inline_text(&item.content))));
                        sig(&item.children, depth + 1, out);
                    }
                }
                Block::Table(t) => out.push(format!("{pad}Table {}", t.rows.len())),
                Block::Code { text, .. } => out.push(format!("{pad}Code {}", norm(text))),
                Block::Quote(inner) => {
                    out.push(format!("{pad}Quote"));
                    sig(inner, depth + 1, out);
                }
                // `<!-- page N -->` is a comment to a Markdown reader.
                Block::PageBreak { .. } => {}
                other => out.push(format!("{pad}{other:?}")),
            }
        }
    }
    let cases = [
        (Format::Html, "text/python-policy.html"),
        (Format::Html, "text/libxslt-transform.html"),
        (Format::Html, "text/quarterly.html"),
        (Format::Docx, "office/python-docx.docx"),
        (Format::Pptx, "office/python-pptx.pptx"),
        (Format::Markdown, "text/release-notes.md"),
    ];
    let mut nested = 0;
    for (format, path) in cases {
        let doc = formats::parse(format, &fixture(path), &ParseOptions::default()).unwrap();
        let md = render(&doc, OutputFormat::Markdown);
        let back =
            formats::parse(Format::Markdown, md.as_bytes(), &ParseOptions::default()).unwrap();
        let (mut want, mut got) = (Vec::new(), Vec::new());
        sig(&doc.blocks, 0, &mut want);
        sig(&back.blocks, 0, &mut got);
        nested += want.iter().filter(|l| l.starts_with("  List")).count();
        if let Some(at) = want.iter().zip(&got).position(|(a, b)| a != b) {
            panic!(
                "{path}: block {at} differs:\n{}\n{}\nin:\n{md}",
                want[at], got[at]
            );
        }
        assert_eq!(want.len(), got.len(), "{path}");
    }
    assert!(nested > 0, "the corpus has nested lists");
}

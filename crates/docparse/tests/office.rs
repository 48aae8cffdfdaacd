//! Office and OpenDocument formats: DOCX, XLSX/XLS/ODS, PPTX built here
//! from hand-written XML, rendered to Markdown and compared; hostile
//! containers; a bounded mutation smoke.

#![allow(clippy::unwrap_used)]

mod office_support;

use ffmcp_docparse::{
    Format, PageRange, ParseOptions, formats,
    render::{OutputFormat, render},
};
use office_support::*;

fn markdown(format: Format, bytes: &[u8]) -> String {
    let doc = formats::parse(format, bytes, &ParseOptions::default()).unwrap();
    render(&doc, OutputFormat::Markdown)
}

#[test]
fn docx_headings_lists_tables_links_footnotes() {
    let bytes = sample_docx();
    let doc = formats::parse(Format::Docx, &bytes, &ParseOptions::default()).unwrap();
    let md = render(&doc, OutputFormat::Markdown);
    let expected = "\
# Report Title

## Introduction

Plain text with **bold**, *italic* and `code()` runs, a [link](https://example.com/page) and a note.[^1]

### Custom chapter style

#### Outline level heading

- bullet one
  - nested bullet
- bullet two

1. first step
2. second step

| Name | Value |
| --- | --- |
| merged across |  |
| a | nested x \\| nested y |
| b<br>second line | tall |
|  | below |

Line one
Line two

<!-- page 2 -->

After the page break, see endnote.[^2]

```
let x = 1;
let y = 2;
```

[^1]: The footnote text.

[^2]: An endnote.
";
    assert_eq!(md, expected);
    let m = &doc.metadata;
    assert_eq!(m.title.as_deref(), Some("Sample Document"));
    assert_eq!(m.author.as_deref(), Some("Ada Lovelace"));
    assert_eq!(m.subject.as_deref(), Some("Testing"));
    assert_eq!(m.keywords.as_deref(), Some("docx, test"));
    assert_eq!(m.created.as_deref(), Some("2024-01-02T03:04:05Z"));
    assert_eq!(m.modified.as_deref(), Some("2024-02-03T04:05:06Z"));
    assert_eq!(
        m.extra.get("lastModifiedBy").map(String::as_str),
        Some("Charles Babbage")
    );
    assert_eq!(m.pages, Some(2));
    assert_eq!(m.producer.as_deref(), Some("Microsoft Office Word 16.0000"));
    let outline: Vec<_> = doc
        .outline
        .iter()
        .map(|o| (o.level, o.title.as_str()))
        .collect();
    assert_eq!(
        outline,
        [
            (1, "Report Title"),
            (2, "Introduction"),
            (3, "Custom chapter style"),
            (4, "Outline level heading")
        ]
    );
}

#[test]
fn docx_tracked_changes_fields_and_hidden_text() {
    let body = r#"
<w:p><w:r><w:t xml:space="preserve">kept </w:t></w:r><w:del><w:r><w:delText>deleted</w:delText></w:r></w:del><w:ins><w:r><w:t>inserted</w:t></w:r></w:ins></w:p>
<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> HYPERLINK "https://field.example/" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>field link</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>
<w:p><w:r><w:rPr><w:vanish/></w:rPr><w:t>hidden</w:t></w:r><w:r><w:t>visible</w:t></w:r></w:p>
<w:p><w:r><w:t>text &lt;with&gt; &amp; entities &#233;</w:t></w:r></w:p>
<w:p><w:r><w:t>before box</w:t></w:r><w:r><w:drawing><wp:inline><wp:docPr id="1" name="Pic" descr="A chart of sales"/></wp:inline></w:drawing></w:r></w:p>"#;
    let md = markdown(Format::Docx, &docx_with_body(body));
    assert_eq!(
        md,
        "kept inserted\n\n[field link](https://field.example/)\n\nvisible\n\ntext \\<with> & entities é\n\nbefore box\n\n![A chart of sales]()\n"
    );
}

#[test]
fn docx_without_optional_parts_and_detected_by_magic() {
    let bytes = docx_with_body("<w:p><w:r><w:t>only text</w:t></w:r></w:p>");
    let doc = ffmcp_docparse::parse(&bytes, Some("upload.bin"), &ParseOptions::default()).unwrap();
    assert_eq!(render(&doc, OutputFormat::Markdown), "only text\n");
}

#[test]
fn xlsx_sheets_to_tables() {
    let bytes = sample_xlsx();
    let doc = formats::parse(Format::Xlsx, &bytes, &ParseOptions::default()).unwrap();
    let md = render(&doc, OutputFormat::Markdown);
    assert_eq!(
        md,
        "## Data\n\n**Data**\n\n| Name | Amount | Date |\n| --- | --- | --- |\n| Widget | 3.5 | 2024-01-15 |\n| Gadget | 0.3 | 2024-01-15T12:00:00 |\n| Total | 3.8 |  |\n| merged |  |  |\n\n## Numbers\n\n**Numbers**\n\n|  |  |\n| --- | --- |\n| 1 | 2 |\n| TRUE | #DIV/0! |\n"
    );
    assert_eq!(doc.metadata.pages, Some(2));
    assert_eq!(doc.metadata.title.as_deref(), Some("Sample Document"));
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
}

#[test]
fn ods_sheets_to_tables() {
    let bytes = sample_ods("");
    let doc = ffmcp_docparse::parse(&bytes, Some("stock.ods"), &ParseOptions::default()).unwrap();
    let md = render(&doc, OutputFormat::Markdown);
    assert_eq!(
        md,
        "## Inventory\n\n**Inventory**\n\n| Item | Count |\n| --- | --- |\n| Apples | 12.25 |\n| 2024-03-01 |  |\n"
    );
    assert_eq!(doc.metadata.pages, Some(1));
    assert_eq!(doc.metadata.title.as_deref(), Some("Stock"));
    assert_eq!(doc.metadata.author.as_deref(), Some("Grace Hopper"));
    assert_eq!(doc.metadata.producer.as_deref(), Some("LibreOffice/7.4"));
}

#[test]
fn pptx_slides_notes_tables() {
    let bytes = sample_pptx();
    let doc = formats::parse(Format::Pptx, &bytes, &ParseOptions::default()).unwrap();
    let md = render(&doc, OutputFormat::Markdown);
    let slide2 = "<!-- page 2 -->\n\n# Results\n\n- Revenue up\n  - mostly services\n- Costs flat\n- **Bold** and [a link](https://example.org/q3)\n\nA free text box\n\n1. Plan\n2. Do\n\n![Revenue chart]()\n\nNotes:\n\n> Mention the pilot.\n>\n> Then take questions.\n";
    let expected = format!(
        "<!-- page 1 -->\n\n# Quarterly Review\n\nTeam Rocket\n\n{slide2}\n<!-- page 3 -->\n\n# Details\n\n| Region | Sales |\n| --- | --- |\n| North |  |\n"
    );
    assert_eq!(md, expected);
    assert_eq!(doc.metadata.pages, Some(3));
    assert_eq!(doc.metadata.author.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        doc.metadata.producer.as_deref(),
        Some("Microsoft Office PowerPoint")
    );
    let outline: Vec<_> = doc
        .outline
        .iter()
        .map(|o| (o.title.as_str(), o.page))
        .collect();
    assert_eq!(
        outline,
        [
            ("Quarterly Review", Some(1)),
            ("Results", Some(2)),
            ("Details", Some(3))
        ]
    );

    let only_two = ParseOptions {
        pages: Some(PageRange { first: 2, last: 2 }),
        ..ParseOptions::default()
    };
    let doc = formats::parse(Format::Pptx, &bytes, &only_two).unwrap();
    assert_eq!(render(&doc, OutputFormat::Markdown), slide2);
}

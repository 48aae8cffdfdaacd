//! Office and OpenDocument formats: DOCX, XLSX/XLS/ODS, PPTX built here
//! from hand-written XML, rendered to Markdown and compared; hostile
//! containers; a bounded mutation smoke.

#![allow(clippy::unwrap_used)]

mod office_charts;
mod office_packages;
mod office_support;

use ffmcp_docparse::{
    DocError, Format, Limits, PageRange, ParseOptions, formats,
    render::{OutputFormat, render},
};
use office_support::*;
use std::time::{Duration, Instant};

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
  - styled nested bullet

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

> Quoted words.

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
        "## Data\n\n| Name | Amount | Date |\n| --- | --- | --- |\n| Widget | 3.5 | 2024-01-15 |\n| Gadget | 0.3 | 2024-01-15T12:00:00 |\n| Total | 3.8 |  |\n| merged |  |  |\n\n## Numbers\n\n|  |  |\n| --- | --- |\n| 1 | 2 |\n| TRUE | #DIV/0! |\n"
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
        "## Inventory\n\n| Item | Count |\n| --- | --- |\n| Apples | 12.25 |\n| 2024-03-01 |  |\n"
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
        "<!-- page 1 -->\n\n# Quarterly Review\n\nTeam Rocket\n\n{slide2}\n<!-- page 3 -->\n\n# Details\n\n| Region | Sales |\n| --- | --- |\n| North |  |\n\n**Chart: Sales by quarter (axes: Units)**\n\n|  | North | South |\n| --- | --- | --- |\n| Q1 | 10 |  |\n| Q2 | 12.3 | 7 |\n"
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

fn limited(limits: Limits) -> ParseOptions {
    ParseOptions {
        limits,
        ..ParseOptions::default()
    }
}

/// Parses within a time bound; returns the error message, if any.
fn parse_timed(format: Format, bytes: &[u8], options: &ParseOptions) -> Result<String, DocError> {
    let started = Instant::now();
    let result = formats::parse(format, bytes, options);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(10),
        "{format:?} took {elapsed:?}"
    );
    result.map(|doc| render(&doc, OutputFormat::Markdown))
}

#[test]
fn xlsx_cell_budget_truncates_with_a_warning() {
    let bytes = big_xlsx(100, 5);
    let options = limited(Limits {
        max_cells: 120,
        ..Limits::default()
    });
    let doc = formats::parse(Format::Xlsx, &bytes, &options).unwrap();
    assert_eq!(
        doc.warnings,
        [
            "sheet 'Big' truncated at 120 cells",
            "sheet 'After' and later ones skipped: the workbook reached 120 cells"
        ]
    );
    let Some(ffmcp_docparse::model::Block::Table(table)) = doc.blocks.get(1) else {
        panic!("expected a table: {:?}", doc.blocks);
    };
    assert_eq!(table.rows.len(), 24);
    assert_eq!(table.rows[0], ["10", "11", "12", "13", "14"]);
    assert!(!table.header);
}

#[test]
fn ods_repeat_bomb_is_refused() {
    let bomb = r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="16384"><text:p>1</text:p></table:table-cell></table:table-row>"#;
    let err = parse_timed(Format::Ods, &sample_ods(bomb), &ParseOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DocError::Limit(m) if m.contains("cells; the limit is 2000000")),
        "{err}"
    );
}

#[test]
fn zip_bombs_are_refused() {
    // A member that inflates past the total budget.
    let zeros = vec![b' '; 3 << 20];
    let mut members = unzip(&docx_with_body("<w:p/>"));
    members.push(("word/media/blob.bin".into(), zeros.clone()));
    let bytes = rezip(&members);
    let options = limited(Limits {
        max_expanded_bytes: 1 << 20,
        ..Limits::default()
    });
    // DOCX reads only the parts it needs; a workbook is verified whole
    // because calamine opens the container itself.
    assert!(parse_timed(Format::Docx, &bytes, &options).is_ok());
    let err = parse_timed(Format::Xlsx, &bytes, &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "limit exceeded: the document expands past the memory budget of 1048576 bytes \
         (inflating ZIP member 'word/media/blob.bin'); set FF_DOCPARSE_MAX_EXPANDED_BYTES to change it"
    );

    // The main part itself: declared as 100 bytes, really 3 MiB.
    let mut members = unzip(&docx_with_body("<w:p/>"));
    for (name, data) in &mut members {
        if name == "word/document.xml" {
            data.extend_from_slice(&zeros);
        }
    }
    let mut bytes = rezip(&members);
    lie_about_sizes(&mut bytes, 100);
    let err = parse_timed(Format::Docx, &bytes, &ParseOptions::default()).unwrap_err();
    // The zip crate notices the lie too; whichever speaks first, the member
    // stops right after its declared size.
    assert!(err.to_string().contains("declared"), "{err}");

    // A ratio bomb: 8 MiB of one byte, refused from its header alone.
    let mut members = unzip(&docx_with_body("<w:p/>"));
    members.push(("word/bomb.xml".into(), vec![b'a'; 8 << 20]));
    let err = parse_timed(Format::Docx, &rezip(&members), &ParseOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DocError::Limit(m) if m.contains("likely zip bomb")),
        "{err}"
    );
}

#[test]
fn hostile_containers_fail_clearly() {
    let docx = sample_docx();
    let few = limited(Limits {
        max_zip_entries: 5,
        ..Limits::default()
    });
    let err = parse_timed(Format::Docx, &docx, &few).unwrap_err();
    assert_eq!(
        err.to_string(),
        "limit exceeded: the ZIP container has 10 entries; the limit is 5"
    );

    let err = parse_timed(
        Format::Docx,
        &docx[..docx.len() / 2],
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unreadable ZIP container"),
        "{err}"
    );

    let mut encrypted = docx.clone();
    mark_encrypted(&mut encrypted);
    let err = parse_timed(Format::Docx, &encrypted, &ParseOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DocError::Encrypted(m) if m.contains("is encrypted")),
        "{err}"
    );

    let mut rng = Rng(0x5eed);
    let garbage: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    for format in [
        Format::Docx,
        Format::Xlsx,
        Format::Xls,
        Format::Ods,
        Format::Pptx,
    ] {
        assert!(parse_timed(format, &garbage, &ParseOptions::default()).is_err());
        assert!(parse_timed(format, b"", &ParseOptions::default()).is_err());
        let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        ole.extend_from_slice(&garbage);
        assert!(parse_timed(format, &ole, &ParseOptions::default()).is_err());
    }

    // An OLE file handed to the ZIP formats, and a compound file that is
    // no workbook.
    let ole = include_bytes!("fixtures/office/sample.xls");
    let err = parse_timed(Format::Docx, ole, &ParseOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("an OLE compound file, not a ZIP"),
        "{err}"
    );
    let mut doc_like = ole.to_vec();
    // Rename the "Workbook" stream in the directory (UTF-16LE).
    let name: Vec<u8> = "Workbook"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let at = doc_like
        .windows(name.len())
        .position(|w| w == name.as_slice())
        .unwrap();
    doc_like[at] = b'X';
    let err = parse_timed(Format::Xls, &doc_like, &ParseOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no Workbook stream"), "{err}");

    // A ZIP without the expected main part.
    let err = parse_timed(Format::Docx, &sample_pptx(), &ParseOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed docx: main part 'ppt/presentation.xml' is a <presentation>, not a <document>"
    );
    let err = parse_timed(Format::Pptx, &docx, &ParseOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("is a <document>, not a <presentation>"),
        "{err}"
    );
    let err = parse_timed(Format::Docx, &sample_xlsx(), &ParseOptions::default()).unwrap_err();
    assert!(err.to_string().contains("not a <document>"), "{err}");
}

#[test]
fn hostile_xml_fails_clearly() {
    let mut laughs =
        String::from(r#"<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY lol "lol">"#);
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        laughs += &format!("<!ENTITY lol{i} \"{}\">", format!("&{prev};").repeat(10));
    }
    laughs += &format!(
        "]><w:document {W_NS}><w:body><w:p><w:r><w:t>a &lol9; b</w:t></w:r></w:p></w:body></w:document>"
    );
    let mut members = unzip(&docx_with_body(""));
    for (name, data) in &mut members {
        if name == "word/document.xml" {
            *data = laughs.clone().into_bytes();
        }
    }
    let doc = formats::parse(Format::Docx, &rezip(&members), &ParseOptions::default()).unwrap();
    assert_eq!(render(&doc, OutputFormat::Markdown), "a  b\n");
    assert_eq!(
        doc.warnings,
        ["1 references to DTD-declared entities were not expanded"]
    );

    let deep = format!(
        "<w:p>{}{}</w:p>",
        "<w:r>".repeat(100_000),
        "</w:r>".repeat(100_000)
    );
    let err = parse_timed(
        Format::Docx,
        &docx_with_body(&deep),
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "limit exceeded: XML part 'word/document.xml' nests elements deeper than 512"
    );

    let err = parse_timed(
        Format::Docx,
        &docx_with_body("<w:p><w:r></w:p>"),
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("malformed docx: XML part 'word/document.xml'"),
        "{err}"
    );
}

/// Deterministic mutation smoke: byte-level damage to each generated file
/// and XML-level damage to its members; every parse ends in Ok or Err
/// within the time bound, never a panic.
#[test]
fn mutation_smoke() {
    let samples = [
        (Format::Docx, sample_docx()),
        (Format::Xlsx, sample_xlsx()),
        (Format::Pptx, sample_pptx()),
        (Format::Ods, sample_ods("")),
        (
            Format::Docx,
            include_bytes!("fixtures/office/python-docx.docx").to_vec(),
        ),
        (
            Format::Pptx,
            include_bytes!("fixtures/office/python-pptx.pptx").to_vec(),
        ),
        (
            Format::Xls,
            include_bytes!("fixtures/office/sample.xls").to_vec(),
        ),
    ];
    let rounds: usize = std::env::var("FFMCP_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let seed = std::env::var("FFMCP_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x0ff1_ce5e_ed00_0001);
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut outcomes = [0usize; 2];
    // With FFMCP_FUZZ_LAST=<file>, each input is written there first, so
    // a run killed by the OOM killer leaves its culprit behind.
    let last = std::env::var("FFMCP_FUZZ_LAST").ok();
    let mut run = |format: Format, bytes: &[u8]| {
        if let Some(path) = &last {
            std::fs::write(path, bytes).unwrap();
            std::fs::write(format!("{path}.format"), format!("{format:?}")).unwrap();
        }
        let ok = parse_timed(format, bytes, &ParseOptions::default()).is_ok();
        outcomes[usize::from(ok)] += 1;
    };
    for (format, bytes) in &samples {
        let members = if *format == Format::Xls {
            Vec::new()
        } else {
            unzip(bytes)
        };
        for _ in 0..rounds {
            run(*format, &mutate(bytes, &mut rng));
            if members.is_empty() {
                // Not a ZIP: damage it twice instead.
                let once = mutate(bytes, &mut rng);
                run(*format, &mutate(&once, &mut rng));
                continue;
            }
            let mut members = members.clone();
            let pick = rng.below(members.len());
            members[pick].1 = mutate(&members[pick].1, &mut rng);
            run(*format, &rezip_stored(&members));
        }
    }
    assert_eq!(outcomes.iter().sum::<usize>(), rounds * 2 * samples.len());
    assert!(
        started.elapsed() < Duration::from_secs(120 * rounds.div_ceil(100) as u64),
        "{:?}",
        started.elapsed()
    );
}

/// With `FFMCP_OFFICE_SAMPLES=<dir>`, writes the generated samples there
/// and renders every office file in it (and in its subfolders) to
/// `<file>.ours.md`, for comparing with other converters by hand; without
/// it, does nothing.
#[test]
fn write_samples_when_asked() {
    let Ok(dir) = std::env::var("FFMCP_OFFICE_SAMPLES") else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in [
        ("sample.docx", sample_docx()),
        ("sample.xlsx", sample_xlsx()),
        ("sample.pptx", sample_pptx()),
        ("sample.ods", sample_ods("")),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let name = path.to_string_lossy().into_owned();
            if !["docx", "xlsx", "xls", "ods", "pptx"]
                .iter()
                .any(|e| name.ends_with(&format!(".{e}")))
            {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let out = match ffmcp_docparse::parse(&bytes, Some(&name), &ParseOptions::default()) {
                Ok(doc) => render(&doc, OutputFormat::Markdown),
                Err(e) => format!("ERROR: {e}\n"),
            };
            std::fs::write(format!("{name}.ours.md"), out).unwrap();
        }
    }
}

#[test]
fn real_template_fixtures() {
    let docx = include_bytes!("fixtures/office/python-docx.docx");
    let doc =
        ffmcp_docparse::parse(docx, Some("python-docx.docx"), &ParseOptions::default()).unwrap();
    assert_eq!(
        render(&doc, OutputFormat::Markdown),
        "# Generated Report\n\n# Summary\n\nThis paragraph has **bold** and *italic* text.\n\n## Details\n\n- First bullet\n- Second bullet\n  - Nested bullet\n\n1. Step one\n2. Step two\n\n| Region | Q1 | Q2 |\n| --- | --- | --- |\n| North | 10 | 12 |\n| South | 7<br>9 |  |\n\n> Quote style text\n\n<!-- page 2 -->\n\n# Appendix\n\nClosing words.\n"
    );
    assert_eq!(doc.metadata.title.as_deref(), Some("Generated Report"));
    assert_eq!(doc.metadata.author.as_deref(), Some("Generator"));

    let pptx = include_bytes!("fixtures/office/python-pptx.pptx");
    let doc =
        ffmcp_docparse::parse(pptx, Some("python-pptx.pptx"), &ParseOptions::default()).unwrap();
    assert_eq!(
        render(&doc, OutputFormat::Markdown),
        "<!-- page 1 -->\n\n# Deck Title\n\nA subtitle\n\n<!-- page 2 -->\n\n# Agenda\n\n- Intro\n  - Background\n- Plan\n\nNotes:\n\n> Speak slowly.\n\n<!-- page 3 -->\n\n# Numbers\n\n| Metric | Value |\n| --- | --- |\n| Users | 1200 |\n| Churn | 2.5% |\n\nSource: internal\n"
    );
    assert_eq!(doc.metadata.pages, Some(3));
}

#[test]
fn xls_through_calamine() {
    let xls = include_bytes!("fixtures/office/sample.xls");
    let doc = ffmcp_docparse::parse(xls, Some("sample.xls"), &ParseOptions::default()).unwrap();
    let xlsx = formats::parse(Format::Xlsx, &sample_xlsx(), &ParseOptions::default()).unwrap();
    // The BIFF8 export of the XLSX sample reads back the same.
    assert_eq!(
        render(&doc, OutputFormat::Markdown),
        render(&xlsx, OutputFormat::Markdown)
    );
    assert_eq!(doc.metadata.pages, Some(2));
    let mut damaged = xls.to_vec();
    damaged.truncate(3000);
    assert!(formats::parse(Format::Xls, &damaged, &ParseOptions::default()).is_err());
}

#[test]
fn xls_grid_bombs_are_refused_before_calamine() {
    // Found by the mutation smoke: a damaged allocation table made calamine
    // follow a looping sector chain until an allocation of gigabytes failed
    // (an abort, not a panic).
    let bytes = include_bytes!("fixtures/office/mutated-oom.xls");
    let err = parse_timed(Format::Xls, bytes, &ParseOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed xls: damaged container: the directory chain is broken"
    );
    // The undamaged file passes the same scan.
    let xls = include_bytes!("fixtures/office/sample.xls");
    assert!(parse_timed(Format::Xls, xls, &ParseOptions::default()).is_ok());
    let tight = limited(Limits {
        max_cells: 5,
        ..Limits::default()
    });
    let err = parse_timed(Format::Xls, xls, &tight).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("limit exceeded: XLS sheet 1 spans"),
        "{err}"
    );
}

/// PowerPoint fills a picture's description with its file name on insert:
/// that is no alt text. Notes that carry their own "Notes:" label are not
/// labelled a second time.
#[test]
fn pptx_file_names_are_not_alt_text_and_notes_are_labelled_once() {
    let members: Vec<(String, Vec<u8>)> = unzip(&sample_pptx())
        .into_iter()
        .map(|(name, data)| {
            let text = String::from_utf8(data).unwrap();
            let text = text
                .replace(
                    r#"descr="Revenue chart""#,
                    r#"descr="C:\Users\ada\Pictures\image1.PNG""#,
                )
                .replace("Mention the pilot.", "Notes: mention the pilot.");
            (name, text.into_bytes())
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let md = markdown(Format::Pptx, &zip_of(&refs));
    assert!(!md.contains("image1"), "{md}");
    assert!(!md.contains("!["), "{md}");
    assert_eq!(md.matches("Notes:").count(), 1, "{md}");
    assert!(md.contains("> Notes: mention the pilot."), "{md}");
}

/// Word equations (OMML) as LaTeX: inline `m:oMath` between `$`, an
/// `m:oMathPara` as display math, with the XML Word writes around them
/// (control properties, run properties).
#[test]
fn docx_equations_become_latex() {
    const M: &str = r#"xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math""#;
    let r = |t: &str| {
        format!("<m:r><w:rPr><w:rFonts w:ascii=\"Cambria Math\"/></w:rPr><m:t>{t}</m:t></m:r>")
    };
    let inline = format!(
        "<m:oMath>{}<m:sSup><m:sSupPr><m:ctrlPr><w:rPr><w:i/></w:rPr></m:ctrlPr></m:sSupPr><m:e>{}</m:e><m:sup>{}</m:sup></m:sSup></m:oMath>",
        r("π"),
        r("r"),
        r("2")
    );
    let display = format!(
        "<m:oMathPara><m:oMath>{}<m:f><m:fPr><m:ctrlPr/></m:fPr><m:num>{}<m:rad><m:radPr><m:degHide m:val=\"1\"/></m:radPr><m:deg/><m:e><m:sSup><m:e>{}</m:e><m:sup>{}</m:sup></m:sSup>{}</m:e></m:rad></m:num><m:den>{}</m:den></m:f></m:oMath></m:oMathPara>",
        r("x="),
        r("-b±"),
        r("b"),
        r("2"),
        r("-4ac"),
        r("2a")
    );
    let body = format!(
        "<w:p {M}><w:r><w:t xml:space=\"preserve\">The area is </w:t></w:r>{inline}<w:r><w:t xml:space=\"preserve\"> square units.</w:t></w:r></w:p><w:p {M}>{display}</w:p>"
    );
    let md = markdown(Format::Docx, &docx_with_body(&body));
    assert_eq!(
        md,
        "The area is $\\pi r^{2}$ square units.\n\n$$x= \\frac{-b\\pm \\sqrt{b^{2} -4ac}}{2a}$$\n"
    );
    // What the Markdown says, a CommonMark reader with math reads back.
    assert_eq!(markdown(Format::Markdown, md.as_bytes()), md);
}

/// A one-slide deck whose graphic frames show `charts` (part bytes).
fn deck_of_charts(charts: &[&[u8]]) -> Vec<u8> {
    let frames: String = (0..charts.len())
        .map(|i| {
            format!(
                r#"<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="{id}" name="Chart {i}"/><p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr><p:xfrm/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="rId{i}"/></a:graphicData></a:graphic></p:graphicFrame>"#,
                id = i + 2
            )
        })
        .collect();
    let s1 = slide(&format!(
        "{}{frames}",
        shape(r#"<p:ph type="title"/>"#, &a_p("", "Charts"))
    ));
    let rels: String = (0..charts.len())
        .map(|i| format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart" Target="../charts/chart{i}.xml"/>"#))
        .collect();
    let s1_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>"#
    );
    let presentation = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><p:presentation {P_NS}><p:sldIdLst><p:sldId id="256" r:id="rId1"/></p:sldIdLst></p:presentation>"#
    );
    let pres_rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide1.xml"/></Relationships>"#;
    let names: Vec<String> = (0..charts.len())
        .map(|i| format!("ppt/charts/chart{i}.xml"))
        .collect();
    let root = root_rels("ppt/presentation.xml");
    let mut members: Vec<(&str, &[u8])> = vec![
        ("_rels/.rels", root.as_bytes()),
        ("ppt/presentation.xml", presentation.as_bytes()),
        ("ppt/_rels/presentation.xml.rels", pres_rels.as_bytes()),
        ("ppt/slides/slide1.xml", s1.as_bytes()),
        ("ppt/slides/_rels/slide1.xml.rels", s1_rels.as_bytes()),
    ];
    for (name, chart) in names.iter().zip(charts) {
        members.push((name, chart));
    }
    package(&members)
}

/// Charts PowerPoint wrote (python-pptx's test files): multi-level
/// categories, an axis title, a titled bubble chart; every word of their
/// cached text is in the text rendering, in place on the slide.
#[test]
fn pptx_real_charts_keep_titles_axes_levels_and_bubble_sizes() {
    let charts: [&[u8]; 3] = [
        include_bytes!("fixtures/office/python-pptx-chart-multilevel.xml"),
        include_bytes!("fixtures/office/python-pptx-chart-axis-title.xml"),
        include_bytes!("fixtures/office/python-pptx-chart-bubble.xml"),
    ];
    let bytes = deck_of_charts(&charts);
    let doc = formats::parse(Format::Pptx, &bytes, &ParseOptions::default()).unwrap();
    let text = render(&doc, OutputFormat::Text);
    assert!(
        text.starts_with(
            "Charts\n\nChart (bar)\n\tSeries 1\tSeries 2\tSeries 3\nUS / CA / SF\t4.3\t2.4\t2\nUS / CA / LA\t2.5\t4.4\t2\nUS / NY / NY\t3.5\t1.8\t3\nUS / NY / Albany\t4.5\t2.8\t5\nUK / GB / London\t4.3\t2.4\t2\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("Chart (bar) (axes: Foobar)\n\tSeries 1\tSeries 2\tSeries 3\nCategory 1\t4.3\t2.4\t2\nCategory 2\t2.5\t4.4\t2\n"),
        "{text}"
    );
    assert!(
        text.contains("Chart: value_axis.crosses == XL_AXIS_CROSSES.MINIMUM\n\tY-Value 1\tY-Value 1 (size)\n0.7\t2.7\t10\n1.8\t3.2\t4\n2.6\t-3.8\t8"),
        "{text}"
    );
    let words = |s: &str| -> std::collections::BTreeSet<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let ours = words(&text);
    for chart in charts {
        let xml = String::from_utf8_lossy(chart);
        for piece in xml.split("<c:v>").skip(1).chain(xml.split("<a:t>").skip(1)) {
            let value = piece.split('<').next().unwrap();
            let shown = value
                .parse::<f64>()
                .map_or(value.to_owned(), |v| format!("{}", (v * 1e9).round() / 1e9));
            for w in words(&shown) {
                assert!(ours.contains(&w), "'{w}' of '{value}' missing from {text}");
            }
        }
    }
}

/// A chart in a Word paragraph follows the paragraph as its table.
#[test]
fn docx_chart_follows_its_paragraph() {
    let chart: &[u8] = include_bytes!("fixtures/office/python-pptx-chart-axis-title.xml");
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document {W_NS}><w:body><w:p><w:r><w:t>Before</w:t></w:r><w:r><w:drawing><wp:inline><wp:docPr id="1" name="Chart 1"/><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="rId9"/></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p><w:p><w:r><w:t>After</w:t></w:r></w:p><w:sectPr/></w:body></w:document>"#
    );
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart" Target="charts/chart1.xml"/></Relationships>"#;
    let root = root_rels("word/document.xml");
    let bytes = package(&[
        ("_rels/.rels", root.as_bytes()),
        ("word/document.xml", document.as_bytes()),
        ("word/_rels/document.xml.rels", rels.as_bytes()),
        ("word/charts/chart1.xml", chart),
    ]);
    assert_eq!(
        markdown(Format::Docx, &bytes),
        "Before\n\n**Chart (bar) (axes: Foobar)**\n\n|  | Series 1 | Series 2 | Series 3 |\n| --- | --- | --- | --- |\n| Category 1 | 4.3 | 2.4 | 2 |\n| Category 2 | 2.5 | 4.4 | 2 |\n| Category 3 | 3.5 | 1.8 | 3 |\n| Category 4 | 4.5 | 2.8 | 5 |\n\nAfter\n"
    );
}

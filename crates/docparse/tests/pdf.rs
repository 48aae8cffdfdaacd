//! PDF engine behaviour through the public API: text decoding (encodings,
//! ToUnicode, CID fonts, TJ spacing), reading order, page ranges, metadata,
//! outline, encryption, warnings, cancellation, limits, and a bounded
//! mutation smoke test over hostile variants of every fixture.

use std::{
    fmt::Write as _,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

mod pdf_world;

use ffmcp_docparse::{
    DocError, Format, Limits, PageRange, ParseOptions,
    formats::pdf,
    model::{Block, OutlineEntry},
    render::{OutputFormat, render},
};

/// One object of a hand-built PDF: its dictionary (or whole body) and an
/// optional stream.
struct Obj {
    body: String,
    stream: Option<Vec<u8>>,
}

fn obj(body: &str) -> Obj {
    Obj {
        body: body.to_owned(),
        stream: None,
    }
}

fn stream(dict: &str, data: &[u8]) -> Obj {
    Obj {
        body: dict.to_owned(),
        stream: Some(data.to_vec()),
    }
}

/// Serialises objects 1..=n with a correct xref table; object 1 is the catalog.
fn build(objects: &[Obj], trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        match &o.stream {
            Some(data) => {
                let dict = o.body.trim_end_matches(">>");
                out.extend_from_slice(
                    format!(
                        "{} 0 obj\n{dict} /Length {} >>\nstream\n",
                        i + 1,
                        data.len()
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(data);
                out.extend_from_slice(b"\nendstream\nendobj\n");
            }
            None => {
                out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, o.body).as_bytes())
            }
        }
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        let _ = writeln!(table, "{off:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

/// A document whose pages show the given content streams with font /F1
/// (Helvetica, WinAnsi), /F2 (`font2`) and /F3 (object 5, the first extra
/// object when it is a font), plus extra objects from 5 on.
fn document(pages: &[&[u8]], font2: &str, extra: Vec<Obj>) -> Vec<u8> {
    // 1 catalog, 2 pages, 3 F1, 4 F2, 5..: page + content pairs after extras.
    let n_extra = extra.len();
    let first_page = 5 + n_extra;
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", first_page + 2 * i))
        .collect();
    let mut objects = vec![
        obj("<< /Type /Catalog /Pages 2 0 R >>"),
        obj(&format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )),
        obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
        obj(if font2.is_empty() {
            "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"
        } else {
            font2
        }),
    ];
    objects.extend(extra);
    for (i, content) in pages.iter().enumerate() {
        objects.push(obj(&format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R \
             /Resources << /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >> >> >>",
            first_page + 2 * i + 1
        )));
        objects.push(stream("<< >>", content));
    }
    build(&objects, "")
}

fn simple(content: &[u8]) -> Vec<u8> {
    document(&[content], "", Vec::new())
}

fn text(bytes: &[u8]) -> String {
    let doc = pdf::parse(bytes, &ParseOptions::default()).expect("parse");
    render(&doc, OutputFormat::Text)
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn shows_text_with_tj_kerning_and_spacing() {
    let bytes = simple(
        b"BT /F1 12 Tf 72 700 Td (Hello) Tj [( W) 20 (orld)] TJ ET
          BT /F1 12 Tf 72 680 Td [(Kerned) -600 (gap)] TJ ( and) Tj ET
          BT /F1 12 Tf 14 TL 72 660 Td (line one) Tj T* (line two) Tj (three) ' ET",
    );
    assert_eq!(
        words(&text(&bytes)),
        "Hello World Kerned gap and line one line two three"
    );
}

#[test]
fn decodes_winansi_and_differences() {
    let font2 = "<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding \
                 << /Type /Encoding /BaseEncoding /WinAnsiEncoding \
                 /Differences [ 1 /fi /uni20AC /quotedblleft /quotedblright /eacute.sc ] >> >>";
    let bytes = document(
        &[b"BT /F1 12 Tf 72 700 Td (caf\\351 na\\357ve \\200) Tj ET
            BT /F2 12 Tf 72 680 Td (\\001nd \\002 \\003q\\004 \\005) Tj ET"],
        font2,
        Vec::new(),
    );
    assert_eq!(
        words(&text(&bytes)),
        "café naïve € find € \u{201C}q\u{201D} é"
    );
}

#[test]
fn decodes_type0_identity_h_with_tounicode() {
    let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
1 begincodespacerange <0000> <FFFF> endcodespacerange
3 beginbfchar <0001> <65E5> <0002> <672C> <0003> <0020> endbfchar
1 beginbfrange <0010> <0012> [<0066006C> <0041> <00E9>] endbfrange
endcmap end end";
    // Extra objects start at 5: the ToUnicode CMap, then the CID font.
    let font2 = "<< /Type /Font /Subtype /Type0 /BaseFont /Noto /Encoding /Identity-H \
                 /DescendantFonts [6 0 R] /ToUnicode 5 0 R >>";
    let extra = vec![
        stream("<< >>", cmap),
        obj(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Noto /DW 1000 \
             /W [16 [500 600 500]] /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>",
        ),
    ];
    let bytes = document(
        &[b"BT /F2 20 Tf 72 700 Td <000100020003001000110012> Tj ET"],
        font2,
        extra,
    );
    assert_eq!(words(&text(&bytes)), "日本 flAé");
}

#[test]
fn overprinted_text_is_kept_once() {
    let bytes = simple(
        b"BT /F1 12 Tf 72 700 Td (Bold words) Tj ET BT /F1 12 Tf 72.4 700 Td (Bold words) Tj ET
          BT /F1 12 Tf 72 680 Td (plain) Tj ET",
    );
    assert_eq!(words(&text(&bytes)), "Bold words plain");
}

#[test]
fn type3_and_builtin_type1_encodings() {
    let font2 = "<< /Type /Font /Subtype /Type3 /FontMatrix [0.01 0 0 0.01 0 0] /FontBBox [0 0 100 100] \
                 /FirstChar 65 /LastChar 66 /Widths [60 60] /CharProcs << >> /Resources << >> \
                 /Encoding << /Type /Encoding /Differences [65 /T /h] >> >>";
    let type1_program: &[u8] =
        b"%!PS-AdobeFont-1.0: Test\n/Encoding 256 array\n0 1 255 {1 index exch /.notdef put} for\n\
dup 97 /eacute put\ndup 98 /germandbls put\nreadonly def\ncurrentfile eexec\n";
    let extra = vec![
        obj(
            "<< /Type /Font /Subtype /Type1 /BaseFont /ABCDEF+Custom /FirstChar 97 /LastChar 98 /Widths [500 500] /FontDescriptor 6 0 R >>",
        ),
        obj("<< /Type /FontDescriptor /FontName /ABCDEF+Custom /Flags 4 /FontFile 7 0 R >>"),
        stream(
            &format!(
                "<< /Length1 {} /Length2 0 /Length3 0 >>",
                type1_program.len()
            ),
            type1_program,
        ),
    ];
    let bytes = document(
        &[b"BT /F2 10 Tf 72 700 Td (AB) Tj ET BT /F3 10 Tf 72 680 Td (ab) Tj ET"],
        font2,
        extra,
    );
    assert_eq!(words(&text(&bytes)), "Th éß");
}

#[test]
fn separate_accents_compose_and_rotated_text_reads() {
    // TeX style: an acute accent glyph kerned back over the following e.
    let bytes = simple(
        b"BT /F1 12 Tf 72 700 Td [(M) 50 (\\264) 380 (etro)] TJ ET
          BT /F1 12 Tf 0 1 -1 0 300 300 Tm (Sideways) Tj ET",
    );
    assert_eq!(words(&text(&bytes)), "M\u{e9}tro Sideways");
}

#[test]
fn two_columns_are_read_column_by_column() {
    let mut content = String::from("BT /F1 10 Tf ");
    for i in 0..8 {
        let y = 700 - i * 12;
        let _ = write!(
            content,
            "1 0 0 1 72 {y} Tm (left line {i}) Tj 1 0 0 1 320 {y} Tm (right line {i}) Tj "
        );
    }
    content.push_str("ET");
    let got = words(&text(&simple(content.as_bytes())));
    let left: Vec<String> = (0..8).map(|i| format!("left line {i}")).collect();
    let right: Vec<String> = (0..8).map(|i| format!("right line {i}")).collect();
    assert_eq!(got, format!("{} {}", left.join(" "), right.join(" ")));
}

#[test]
fn lines_are_ordered_top_to_bottom_and_paragraphs_split_on_gaps() {
    let bytes = simple(
        b"BT /F1 12 Tf 72 600 Td (third para) Tj ET
          BT /F1 12 Tf 72 700 Td (first line) Tj 0 -14 Td (second line) Tj ET",
    );
    let doc = pdf::parse(&bytes, &ParseOptions::default()).expect("parse");
    assert_eq!(
        doc.blocks,
        vec![
            Block::PageBreak { number: 1 },
            Block::text("first line\nsecond line"),
            Block::text("third para"),
        ]
    );
}

#[test]
fn page_ranges_keep_real_page_numbers() {
    let bytes = document(
        &[
            b"BT /F1 12 Tf 72 700 Td (one) Tj ET",
            b"BT /F1 12 Tf 72 700 Td (two) Tj ET",
            b"BT /F1 12 Tf 72 700 Td (three) Tj ET",
        ],
        "",
        Vec::new(),
    );
    let options = ParseOptions {
        pages: Some(PageRange { first: 2, last: 9 }),
        ..ParseOptions::default()
    };
    let doc = pdf::parse(&bytes, &options).expect("parse");
    assert_eq!(doc.metadata.pages, Some(3));
    assert_eq!(
        doc.blocks,
        vec![
            Block::PageBreak { number: 2 },
            Block::text("two"),
            Block::PageBreak { number: 3 },
            Block::text("three"),
        ]
    );
    let outside = ParseOptions {
        pages: Some(PageRange { first: 4, last: 5 }),
        ..ParseOptions::default()
    };
    let err = pdf::parse(&bytes, &outside).expect_err("outside");
    assert!(err.to_string().contains("has 3 pages"), "{err}");
}

#[test]
fn metadata_from_info_and_xmp() {
    let xmp = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description pdf:Producer="XMP Producer">
<dc:creator><rdf:Seq><rdf:li>Ada Lovelace</rdf:li></rdf:Seq></dc:creator>
<pdfaid:part>2</pdfaid:part></rdf:Description></rdf:RDF></x:xmpmeta>"#;
    let objects = vec![
        obj("<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R /Lang (en-GB) >>"),
        obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"),
        stream("<< >>", b""),
        obj(
            "<< /Title (A \\(test\\) title) /Subject <FEFF00530075006206A5> /Keywords (pdf, test) \
             /CreationDate (D:20240131094500+01'00') /ModDate (D:20250102) /Producer (Hand) /Creator (Vim) >>",
        ),
        stream("<< /Type /Metadata /Subtype /XML >>", xmp),
    ];
    let bytes = build(&objects, "/Info 5 0 R");
    let doc = pdf::parse(&bytes, &ParseOptions::default()).expect("parse");
    let m = &doc.metadata;
    assert_eq!(m.title.as_deref(), Some("A (test) title"));
    assert_eq!(m.subject.as_deref(), Some("Sub\u{6A5}"));
    assert_eq!(m.author.as_deref(), Some("Ada Lovelace"));
    assert_eq!(m.keywords.as_deref(), Some("pdf, test"));
    assert_eq!(m.created.as_deref(), Some("2024-01-31T09:45:00+01:00"));
    assert_eq!(m.modified.as_deref(), Some("2025-01-02"));
    assert_eq!(m.producer.as_deref(), Some("Hand"));
    assert_eq!(m.language.as_deref(), Some("en-GB"));
    assert_eq!(m.pages, Some(1));
    assert_eq!(m.extra.get("pdf_version").map(String::as_str), Some("1.7"));
    assert_eq!(m.extra.get("creator").map(String::as_str), Some("Vim"));
    assert_eq!(
        m.extra.get("xmp:pdfaid:part").map(String::as_str),
        Some("2")
    );
    assert_eq!(
        m.extra.get("xmp:pdf:Producer").map(String::as_str),
        Some("XMP Producer")
    );
}

#[test]
fn outline_entries_and_headings() {
    let objects = vec![
        obj("<< /Type /Catalog /Pages 2 0 R /Outlines 7 0 R /Names << /Dests 11 0 R >> >>"),
        obj("<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>"),
        obj(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 10 0 R >> >> >>",
        ),
        stream(
            "<< >>",
            b"BT /F1 12 Tf 72 700 Td (Introduction) Tj 0 -30 Td (Body text here.) Tj ET",
        ),
        obj(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 6 0 R /Resources << /Font << /F1 10 0 R >> >> >>",
        ),
        stream(
            "<< >>",
            b"BT /F1 12 Tf 72 700 Td (2.1 Details) Tj 0 -30 Td (More text.) Tj ET",
        ),
        obj("<< /Type /Outlines /First 8 0 R /Last 9 0 R /Count 2 >>"),
        obj(
            "<< /Title (Introduction) /Parent 7 0 R /Next 9 0 R /Dest [3 0 R /XYZ 0 792 0] /First 12 0 R >>",
        ),
        obj("<< /Title (Details) /Parent 7 0 R /Prev 8 0 R /A << /S /GoTo /D (sec2) >> >>"),
        obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
        obj("<< /Names [(sec2) [5 0 R /Fit]] >>"),
        obj(
            "<< /Title <FEFF00C9006C00E800760065> /Parent 8 0 R /Dest [5 0 R /Fit] /Next 12 0 R >>",
        ),
    ];
    let bytes = build(&objects, "");
    let doc = pdf::parse(&bytes, &ParseOptions::default()).expect("parse");
    assert_eq!(
        doc.outline,
        vec![
            OutlineEntry {
                level: 1,
                title: "Introduction".into(),
                page: Some(1)
            },
            OutlineEntry {
                level: 2,
                title: "Élève".into(),
                page: Some(2)
            },
            OutlineEntry {
                level: 1,
                title: "Details".into(),
                page: Some(2)
            },
        ]
    );
    assert_eq!(doc.blocks[1], Block::heading(1, "Introduction"));
    // The outline leaves out the section number the page shows.
    assert_eq!(doc.blocks[4], Block::heading(1, "2.1 Details"));
}

#[test]
fn font_size_cues_make_headings() {
    let bytes = simple(
        b"BT /F1 24 Tf 72 700 Td (Big Title) Tj ET
          BT /F1 10 Tf 72 650 Td (Body text that is long enough to be the body of the page.) Tj ET
          BT /F1 10 Tf 72 638 Td (More body text on a second line of the same paragraph.) Tj ET",
    );
    let doc = pdf::parse(&bytes, &ParseOptions::default()).expect("parse");
    assert_eq!(doc.blocks[1], Block::heading(1, "Big Title"));
    assert!(matches!(doc.blocks[2], Block::Paragraph(_)));
}

#[test]
fn empty_user_password_opens_and_real_password_is_refused() {
    let open = std::fs::read(fixture("empty-user-password.pdf")).expect("fixture");
    let doc = pdf::parse(&open, &ParseOptions::default()).expect("empty password opens");
    assert_eq!(
        words(&render(&doc, OutputFormat::Text)),
        "Encrypted hello world"
    );
    assert!(doc.metadata.extra.contains_key("encrypted"));
    let locked = std::fs::read(fixture("user-password.pdf")).expect("fixture");
    match pdf::parse(&locked, &ParseOptions::default()) {
        Err(DocError::Encrypted(msg)) => {
            assert!(msg.contains("is encrypted with a password"), "{msg}")
        }
        other => panic!("expected Encrypted, got {other:?}"),
    }
}

#[test]
fn scanned_page_warns_and_suggests_ocr() {
    let objects = vec![
        obj("<< /Type /Catalog /Pages 2 0 R >>"),
        obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        obj(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /Im0 5 0 R >> >> >>",
        ),
        stream("<< >>", b"q 612 0 0 792 0 0 cm /Im0 Do Q"),
        stream(
            "<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 >>",
            b"\x80",
        ),
    ];
    let doc = pdf::parse(&build(&objects, ""), &ParseOptions::default()).expect("parse");
    assert_eq!(
        doc.warnings,
        vec![
            "page 1 has images but no text layer: it is probably scanned; enable OCR (tesseract)"
                .to_owned()
        ]
    );
}

#[test]
fn cancellation_and_progress() {
    let pages: Vec<&[u8]> = vec![b"BT /F1 12 Tf 72 700 Td (x) Tj ET"; 5];
    let bytes = document(&pages, "", Vec::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let cancel = Arc::new(AtomicBool::new(false));
    let (seen2, cancel2) = (seen.clone(), cancel.clone());
    let options = ParseOptions {
        cancel: cancel.clone(),
        progress: Some(Arc::new(move |done, total| {
            seen2.lock().expect("lock").push((done, total));
            if done == 2 {
                cancel2.store(true, Ordering::Relaxed);
            }
        })),
        ..ParseOptions::default()
    };
    assert!(matches!(
        pdf::parse(&bytes, &options),
        Err(DocError::Cancelled)
    ));
    assert_eq!(*seen.lock().expect("lock"), vec![(0, 5), (1, 5), (2, 5)]);
    cancel.store(false, Ordering::Relaxed);
    seen.lock().expect("lock").clear();
    let quiet = ParseOptions {
        progress: options.progress.clone(),
        ..ParseOptions::default()
    };
    pdf::parse(&bytes, &quiet).expect("parse");
    assert_eq!(seen.lock().expect("lock").last(), Some(&(5, 5)));
}

#[test]
fn limits_end_in_clear_errors() {
    let pages: Vec<&[u8]> = vec![b"BT /F1 12 Tf 72 700 Td (some text here) Tj ET"; 4];
    let bytes = document(&pages, "", Vec::new());
    let with = |limits: Limits| ParseOptions {
        limits,
        ..ParseOptions::default()
    };
    let err = pdf::parse(
        &bytes,
        &with(Limits {
            max_pages: 3,
            ..Limits::default()
        }),
    )
    .expect_err("pages");
    assert!(
        matches!(err, DocError::Limit(_)) && err.to_string().contains("limit is 3"),
        "{err}"
    );
    let err = pdf::parse(
        &bytes,
        &with(Limits {
            max_output_chars: 20,
            ..Limits::default()
        }),
    )
    .expect_err("chars");
    assert!(err.to_string().contains("more than 20 characters"), "{err}");
    // A flate bomb: 8 MiB of zeros behind a small stream.
    let zeros = vec![b' '; 8 << 20];
    let bomb = deflate(&zeros);
    let objects = vec![
        obj("<< /Type /Catalog /Pages 2 0 R >>"),
        obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"),
        stream("<< /Filter /FlateDecode >>", &bomb),
    ];
    let err = pdf::parse(
        &build(&objects, ""),
        &with(Limits {
            max_expanded_bytes: 1 << 20,
            ..Limits::default()
        }),
    )
    .expect_err("bomb");
    assert!(matches!(err, DocError::Limit(_)), "{err}");
}

fn deflate(data: &[u8]) -> Vec<u8> {
    // Stored (uncompressed) deflate blocks would not be a bomb; use lopdf's
    // own compressor through a stream.
    let mut s = lopdf::Stream::new(lopdf::Dictionary::new(), data.to_vec());
    s.compress().expect("compress");
    s.content
}

#[test]
fn hostile_structures_fail_cleanly() {
    // Reference loop in the page tree and in resources, self-drawing form.
    let looped = build(
        &[
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj("<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>"),
            obj("<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources 6 0 R >>"),
            stream(
                "<< >>",
                b"/Fm0 Do BT /F1 12 Tf 72 700 Td (still here) Tj ET",
            ),
            obj("5 0 R"),
            obj("<< /XObject << /Fm0 7 0 R >> /Font << /F1 5 0 R >> >>"),
            stream(
                "<< /Type /XObject /Subtype /Form /Resources 6 0 R >>",
                b"/Fm0 Do",
            ),
        ],
        "",
    );
    let start = Instant::now();
    let _ = pdf::parse(&looped, &ParseOptions::default());
    assert!(start.elapsed() < Duration::from_secs(5));
    // Deep nesting in a content stream and in an object.
    let deep = "[".repeat(100_000);
    let nested = build(
        &[
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            obj(
                "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            ),
            stream(
                "<< >>",
                format!("BT /F1 9 Tf {deep} TJ (ok) Tj ET").as_bytes(),
            ),
            obj(&format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /X {deep} >>"
            )),
        ],
        "",
    );
    let _ = pdf::parse(&nested, &ParseOptions::default());
    // Not a PDF at all, and a truncated one.
    assert!(matches!(
        pdf::parse(b"hello", &ParseOptions::default()),
        Err(DocError::Malformed { .. })
    ));
    let good = simple(b"BT /F1 12 Tf 72 700 Td (Hello) Tj ET");
    let _ = pdf::parse(&good[..good.len() / 2], &ParseOptions::default());
}

#[test]
fn real_fixtures_read_like_pdftotext() {
    for (file, expect) in [
        ("live-manual-de.pdf", "http://www.gnu.org/licenses/"),
        (
            "pdftex-bzip2-manual.pdf",
            "This chapter contains a copy of the bzip2 man page, and nothing else. 2.1. NAME • bzip2, bunzip2 - a block-sorting file compressor, v1.0.8",
        ),
        (
            "groff-ghostscript-man.pdf",
            "gs \u{2212} Ghostscript (PostScript and PDF language interpreter and previewer) SYNOPSIS gs [ options ] [ files ]",
        ),
        ("libreoffice-cjk.pdf", "日本語のテキスト抽出のテストです。"),
        ("libreoffice-cjk.pdf", "中文文本提取测试。"),
        (
            "libreoffice-3-columns.pdf",
            "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
        ),
    ] {
        let bytes = std::fs::read(fixture(file)).expect("fixture");
        let got = words(&text(&bytes));
        assert!(got.contains(expect), "{file}: {expect:?} not in {got:.600}");
    }
    assert!(ffmcp_docparse::formats::supported().contains(&Format::Pdf));
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pdf")
        .join(name)
}

/// Deterministic mutations (byte flips, truncations, spliced garbage) of
/// every fixture: each parse returns within the bound, without panicking.
#[test]
fn mutation_fuzz_smoke() {
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(fixture(""))
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "pdf"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect();
    inputs.push(simple(
        b"BT /F1 12 Tf 72 700 Td (Hello) Tj [(W) -300 (orld)] TJ ET",
    ));
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let options = ParseOptions {
        limits: Limits {
            max_expanded_bytes: 64 << 20,
            ..Limits::default()
        },
        ..ParseOptions::default()
    };
    // Longer opt-in runs: FFMCP_PDF_FUZZ_ROUNDS=5000 cargo test --release --test pdf mutation
    let rounds: usize = std::env::var("FFMCP_PDF_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(150);
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for input in &inputs {
        for _ in 0..rounds {
            let mut data = input.clone();
            match next() % 4 {
                0 => data.truncate((next() as usize) % data.len().max(1)),
                1 => {
                    for _ in 0..1 + next() % 16 {
                        let i = (next() as usize) % data.len().max(1);
                        if let Some(b) = data.get_mut(i) {
                            *b ^= 1 << (next() % 8);
                        }
                    }
                }
                2 => {
                    let i = (next() as usize) % data.len().max(1);
                    let junk: &[u8] = match next() % 4 {
                        0 => b"[[[[[[[[[[<<<<<<<<",
                        1 => b" 0 R 1 0 R 2 0 R ",
                        2 => b"(((((\\\\\\",
                        _ => b"\xff\x00\xfe endobj stream",
                    };
                    data.splice(i..i, junk.iter().copied());
                }
                _ => {
                    let i = (next() as usize) % data.len().max(1);
                    let n = ((next() as usize) % 64).min(data.len() - i);
                    data.drain(i..i + n);
                }
            }
            let t = Instant::now();
            let _ = ffmcp_docparse::formats::parse(Format::Pdf, &data, &options);
            slowest = slowest.max(t.elapsed());
        }
    }
    assert!(
        slowest < Duration::from_secs(10),
        "slowest parse took {slowest:?}"
    );
    assert!(
        rounds > 150 || started.elapsed() < Duration::from_secs(240),
        "fuzz smoke took {:?}",
        started.elapsed()
    );
}

//! PDFs beyond TeX (issue 17.7): positions that are not numbers, CJK fonts
//! without a ToUnicode map (CID collections, legacy CMaps, vertical
//! writing), right-to-left lines, letter-spaced OCR layers, AcroForm
//! values and image-only pages.
//!
//! Real fixtures, from the test resources of the `pypdf` 7.1.1 sdist on
//! PyPI (BSD-3-Clause): `pypdf-hello-world.pdf` (Arabic, Russian, Chinese,
//! Thai, Japanese), `pypdf-libreoffice-form.pdf` (a LibreOffice form with
//! filled-in fields), `pypdf-SF424_page2.pdf` (page 2 of the US SF-424
//! grant form, fields without an AcroForm), `pypdf-imagemagick-images.pdf`
//! (ImageMagick, six image-only pages with an off-page label) and
//! `pypdf-indirect-rotation.pdf` (a scanned filing with a letter-spaced
//! OCR text layer), `pypdf-encrypted-no-id.pdf` (RC4 with an empty user
//! password and no /ID in the trailer, written by the European Patent
//! Office's tools).

use ffmcp_docparse::{PageRange, ParseOptions, formats::pdf, model::Block};

use super::{build, document, fixture, obj, simple, stream, text, words};

fn parse(bytes: &[u8]) -> ffmcp_docparse::Document {
    pdf::parse(bytes, &ParseOptions::default()).expect("parse")
}

fn real(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

/// A Type0 font (object 4) over a CID font (object 5) with the given
/// encoding and CIDSystemInfo ordering, and no ToUnicode map.
fn cjk_font(encoding: &str, ordering: &str) -> (String, Vec<super::Obj>) {
    (
        format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /KozMinPro-Regular /Encoding /{encoding} \
             /DescendantFonts [5 0 R] >>"
        ),
        vec![obj(&format!(
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /KozMinPro-Regular /DW 1000 \
             /CIDSystemInfo << /Registry (Adobe) /Ordering ({ordering}) /Supplement 6 >> >>"
        ))],
    )
}

/// Glyphs at coordinates that overflow to infinity and NaN (40-digit
/// numbers, a matrix whose product overflows) beside scattered readable
/// text: the page reads, nothing panics (the reading-order sorts use a
/// total order), and the readable text is all there.
#[test]
fn non_finite_coordinates_keep_the_readable_text() {
    let mut content = b"BT /F1 12 Tf 72 700 Td (Readable start) Tj ET\n".to_vec();
    content.extend_from_slice(
        b"BT /F1 12 Tf 9999999999999999999999999999999999999999 0 0 1 0 0 Tm (inf) Tj ET
          q 300000000000000000000000000000000000000 0 0 300000000000000000000000000000000000000 0 0 cm
          BT /F1 12 Tf 0 0 Td (overflow) Tj 1 0 0 1 -1 0 Tm (nan) Tj ET Q
          BT /F1 12 Tf 72 650 Td [(a) -99999999999999999999999999999999999999999 (b)] TJ ET\n",
    );
    // Scattered glyphs at nearly equal baselines, the shape that made a
    // tolerance comparator panic.
    for i in 0..300u32 {
        let x = 50 + (i * 37) % 500;
        let y = 400.0 + f64::from((i * 13) % 7) * 0.05 + f64::from(i % 3) * 9.0;
        content.extend_from_slice(format!("BT /F1 9 Tf {x} {y:.2} Td (w{i}) Tj ET\n").as_bytes());
    }
    content.extend_from_slice(b"BT /F1 12 Tf 72 100 Td (Readable end) Tj ET\n");
    let doc = parse(&simple(&content));
    let got = words(&ffmcp_docparse::render::render(
        &doc,
        ffmcp_docparse::render::OutputFormat::Text,
    ));
    assert!(got.starts_with("Readable start"), "{got:.200}");
    // The zeroed matrix of the overflowing `Tm` leaves "inf" drawn at the
    // page origin, after the last line.
    assert!(got.contains("Readable end"), "{got}");
    for i in [0, 150, 299] {
        assert!(got.contains(&format!("w{i}")), "w{i} missing");
    }
}

#[test]
fn cjk_fonts_without_tounicode_read_through_their_collection() {
    // Identity-H codes are Adobe-Japan1 CIDs: 日 3284, 本 3722, 語 1952.
    let (font, extra) = cjk_font("Identity-H", "Japan1");
    let bytes = document(
        &[b"BT /F2 20 Tf 72 700 Td <0CD40E8A07A0> Tj ET"],
        &font,
        extra,
    );
    let doc = parse(&bytes);
    assert_eq!(
        words(&ffmcp_docparse::render::render(
            &doc,
            ffmcp_docparse::render::OutputFormat::Text
        )),
        "日本語"
    );
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);

    // Legacy predefined CMaps decode through their encoding: Shift-JIS,
    // GBK, Big5 and UHC.
    for (encoding, ordering, content, expected) in [
        (
            "90ms-RKSJ-H",
            "Japan1",
            &b"BT /F2 20 Tf 72 700 Td <93fa967b> Tj ET"[..],
            "日本",
        ),
        (
            "GBK-EUC-H",
            "GB1",
            b"BT /F2 20 Tf 72 700 Td <d6d0cec4> Tj ET",
            "中文",
        ),
        (
            "ETen-B5-H",
            "CNS1",
            b"BT /F2 20 Tf 72 700 Td <a4a4a4e5> Tj ET",
            "中文",
        ),
        (
            "KSCms-UHC-H",
            "Korea1",
            b"BT /F2 20 Tf 72 700 Td <c7d1b1b9> Tj ET",
            "한국",
        ),
    ] {
        let (font, extra) = cjk_font(encoding, ordering);
        assert_eq!(
            words(&text(&document(&[content], &font, extra))),
            expected,
            "{encoding}"
        );
    }
}

#[test]
fn text_a_font_cannot_map_is_reported() {
    // A TrueType CID font with Identity ordering and no ToUnicode: its
    // CIDs are glyph numbers, which name no character.
    let font = "<< /Type /Font /Subtype /Type0 /BaseFont /Embedded /Encoding /Identity-H \
                /DescendantFonts [5 0 R] >>";
    let extra = vec![obj(
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Embedded \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>",
    )];
    let bytes = document(
        &[
            b"BT /F1 12 Tf 72 720 Td (Readable words on the page, and more of them here) Tj ET
            BT /F2 20 Tf 72 700 Td <0011001200130014> Tj ET",
        ],
        font,
        extra,
    );
    let doc = parse(&bytes);
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.contains("4 glyphs have no Unicode mapping")),
        "{:?}",
        doc.warnings
    );
}

#[test]
fn vertical_writing_reads_columns_right_to_left() {
    // Two columns of Adobe-Japan1 CIDs in Identity-V, the left one drawn
    // first: 日本 (right, x = 500) then 語縦書 (left, x = 470).
    let (font, extra) = cjk_font("Identity-V", "Japan1");
    let bytes = document(
        &[b"BT /F2 20 Tf 470 700 Td <07A0094E097B> Tj ET
            BT /F2 20 Tf 500 700 Td <0CD40E8A> Tj ET"],
        &font,
        extra,
    );
    let got = text(&bytes);
    let lines: Vec<&str> = got.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines, ["日本", "語縦書"], "{got}");
}

#[test]
fn right_to_left_lines_come_out_in_logical_order() {
    // Hebrew drawn left to right in visual order (the last letter first),
    // with a Latin word to its left: the logical text is "שלום abc".
    let font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding \
                << /Type /Encoding /Differences [1 /uni05E9 /uni05DC /uni05D5 /uni05DD] >> >>";
    let bytes = document(
        &[b"BT /F2 12 Tf 72 700 Td (abc \\004\\003\\002\\001) Tj ET"],
        font,
        Vec::new(),
    );
    assert_eq!(words(&text(&bytes)), "שלום abc");

    // A real file: pdftotext reads "مرحبا بالعالم" (Hello World).
    let got = words(&text(&real("pypdf-hello-world.pdf")));
    assert!(got.contains("Arabic: مرحبا بالعالم"), "{got}");
    assert!(got.contains("Japanese: こんにちは世界"), "{got}");
}

#[test]
fn letter_spaced_and_glyph_by_glyph_ocr_text_keeps_its_words() {
    // Each glyph placed on its own (as OCR engines do) where the scanned
    // letter is, the scan's letters 30 % wider than the font's glyphs: most
    // gaps between letters are wider than a tenth of the font size, the
    // word gaps wider still. Helvetica widths in thousandths.
    let width = |c: char| match c {
        'i' | 'f' | ',' => 278.0,
        'r' => 333.0,
        'S' | 'V' => 667.0,
        'c' | 'k' | 's' => 500.0,
        _ => 556.0,
    };
    let mut content = b"BT 3 Tr /F1 10 Tf\n".to_vec();
    let mut x = 72.0f32;
    for word in ["Siege", "of", "Vicksburg,", "1863"] {
        for c in word.chars() {
            content.extend_from_slice(format!("1 0 0 1 {x:.2} 700 Tm ({c}) Tj\n").as_bytes());
            x += width(c) / 1000.0 * 10.0 * 1.3;
        }
        x += 4.0;
    }
    content.extend_from_slice(b"ET");
    assert_eq!(words(&text(&simple(&content))), "Siege of Vicksburg, 1863");

    // Character spacing stretching each word, space glyphs between words
    // (a real OCR layer; pdftotext reads "A m e r i c a n President").
    let got = words(&text(&real("pypdf-indirect-rotation.pdf")));
    for expected in [
        "9 North Buona Vista Drive",
        "American President Lines, Ltd",
        "COSCO Container Lines Co., Ltd.",
    ] {
        assert!(got.contains(expected), "{expected:?} not in {got:.1500}");
    }
}

#[test]
fn widely_tracked_titles_keep_their_words() {
    // Character spacing of an em (10 pt at 10 pt): space glyphs mark the
    // words. Then letters placed one by one 8 pt apart, words 20 pt apart,
    // no space glyphs. Then numbers in columns, evenly 8 pt apart: words.
    let mut content = b"BT /F1 10 Tf 72 700 Td 10 Tc (SPACED TITLE) Tj ET\nBT /F1 10 Tf\n".to_vec();
    let mut x = 72.0f32;
    for word in ["POSTER", "HEAD"] {
        for c in word.chars() {
            content.extend_from_slice(format!("1 0 0 1 {x:.2} 680 Tm ({c}) Tj\n").as_bytes());
            x += 6.67 + 8.0;
        }
        x += 12.0;
    }
    content.extend_from_slice(b"ET\nBT /F1 10 Tf 72 660 Td 8 Tc (1234) Tj ET");
    assert_eq!(
        words(&text(&simple(&content))),
        "SPACED TITLE POSTER HEAD 1 2 3 4"
    );
}

#[test]
fn actual_text_replaces_the_glyphs_it_marks() {
    // A ligature glyph whose code maps to nothing, replaced by "fi"; a
    // word drawn as three other glyphs, replaced (UTF-16) by its text; a
    // span whose replacement has no glyphs draws nothing, as in pdftotext.
    let bytes = simple(
        b"BT /F1 12 Tf 72 700 Td (The ) Tj /Span <</ActualText (fi)>> BDC <01> Tj EMC (rst line) Tj ET
          BT /F1 12 Tf 72 680 Td (Word: ) Tj /Span <</Lang (de) /ActualText <FEFF005300740072006100DF0065>>> BDC (xyz) Tj EMC ( end) Tj ET
          BT /F1 12 Tf 72 660 Td /Span <</ActualText (ghost)>> BDC EMC (only this) Tj ET
          BT /F1 12 Tf 72 640 Td /Artifact BMC (kept ) Tj EMC /Span <</ActualText (outer)>> BDC /Span <</ActualText (inner)>> BDC (a) Tj EMC (b) Tj EMC ET",
    );
    assert_eq!(
        words(&text(&bytes)),
        "The first line Word: Straße end only this kept outer"
    );
}

#[test]
fn actual_text_in_a_named_property_list_replaces_the_glyphs() {
    // `/Span /MC0 BDC`: the property list lives in the page's resources
    // (/Properties), written inline or as a reference, as InDesign and
    // Acrobat write it. A name with no entry draws its glyphs as they are.
    let objects = vec![
        obj("<< /Type /Catalog /Pages 2 0 R >>"),
        obj("<< /Type /Pages /Kids [5 0 R] /Count 1 >>"),
        obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
        obj("<< /ActualText <FEFF005300740072006100DF0065> >>"),
        obj(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 6 0 R \
             /Resources << /Font << /F1 3 0 R >> \
             /Properties << /MC0 << /ActualText (fi) >> /MC1 4 0 R >> >> >>",
        ),
        stream(
            "<< >>",
            b"BT /F1 12 Tf 72 700 Td (The ) Tj /Span /MC0 BDC <01> Tj EMC (rst line) Tj ET
              BT /F1 12 Tf 72 680 Td (Word: ) Tj /Span /MC1 BDC (xyz) Tj EMC ( end) Tj ET
              BT /F1 12 Tf 72 660 Td /Span /Missing BDC (kept) Tj EMC ET",
        ),
    ];
    assert_eq!(
        words(&text(&build(&objects, ""))),
        "The first line Word: Stra\u{df}e end kept"
    );
}

#[test]
fn an_encrypted_file_without_an_id_opens_with_the_empty_password() {
    // poppler opens it (an absent /ID is an empty one in the key
    // derivation); it was refused as "encrypted with a password".
    let doc = parse(&real("pypdf-encrypted-no-id.pdf"));
    assert_eq!(doc.metadata.pages, Some(3));
    assert_eq!(
        doc.metadata.extra.get("encrypted").map(String::as_str),
        Some("yes (empty user password)")
    );
    // The strings were decrypted: the producer reads as text.
    assert_eq!(
        doc.metadata.producer.as_deref(),
        Some("European Patent Office"),
        "{:?}",
        doc.metadata
    );
}

#[test]
fn a_dot_leader_does_not_glue_the_entry_words_together() {
    // A TeX table of contents line (pdftex-bzip2-manual.pdf): words a
    // quarter em apart, then a leader whose dots sit a sixth of an em
    // apart. The dots' gaps are not letter spacing.
    let mut leader = String::from("[");
    for _ in 0..40 {
        leader.push_str("(.)-167");
    }
    leader.push_str("(.)]TJ");
    let content = format!(
        "BT /F1 10 Tf 72 700 Td [(2.5.)-310(MEMOR)65(Y)-250(MAN)35(A)40(GEMENT)]TJ 150 0 Td {leader} 200 0 Td (5) Tj ET"
    );
    let got = words(&text(&simple(content.as_bytes())));
    assert!(got.starts_with("2.5. MEMORY MANAGEMENT . . ."), "{got}");
    assert!(got.ends_with(". 5"), "{got}");
}

#[test]
fn superscripts_stay_in_their_word() {
    // A smaller raised mark right after a word (a 137-page report in the
    // corpus writes "Network®" this way) and a lowered subscript.
    let bytes = simple(
        b"BT /F1 10 Tf 72 700 Td (Network) Tj /F1 6 Tf 4 Ts (\\256) Tj /F1 10 Tf 0 Ts ( guidelines) Tj ET
          BT /F1 10 Tf 72 680 Td (H) Tj /F1 6 Tf -2 Ts (2) Tj /F1 10 Tf 0 Ts (O and x) Tj /F1 6 Tf 4 Ts (2) Tj ET",
    );
    assert_eq!(words(&text(&bytes)), "Network® guidelines H2O and x2");
}

#[test]
fn acroform_values_are_listed_after_the_pages() {
    // Text, list (several values) and combo fields, a choice whose export
    // value has a label, an empty field and a button (both left out).
    let extra = vec![
        obj("<< /FT /Tx /T (Name) /V (Ada Lovelace) /Subtype /Widget /Rect [72 600 300 620] >>"),
        obj(
            "<< /FT /Ch /Ff 2097152 /T (Languages) /V [(en) (fr)] /Opt [[(en) (English)] [(fr) (French)]] \
             /Subtype /Widget /Rect [72 560 300 580] >>",
        ),
        obj(
            "<< /FT /Ch /Ff 131072 /T (Country) /V (Portugal) /Subtype /Widget /Rect [72 520 300 540] >>",
        ),
        obj("<< /FT /Tx /T (Empty) /Subtype /Widget /Rect [72 480 300 500] >>"),
        obj("<< /FT /Btn /T (Agree) /V /Yes /Subtype /Widget /Rect [72 440 90 460] >>"),
        // A parent field whose kid carries the value under a dotted name.
        obj("<< /T (address) /Kids [11 0 R] >>"),
    ];
    let mut objects = vec![
        obj(
            "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R 6 0 R 7 0 R 8 0 R 9 0 R 10 0 R] >> >>",
        ),
        obj("<< /Type /Pages /Kids [12 0 R] /Count 1 >>"),
        obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
        obj("<< >>"),
    ];
    objects.extend(extra);
    objects.push(obj(
        "<< /FT /Tx /T (city) /Parent 10 0 R /V (Lisbon) /Subtype /Widget /Rect [72 400 300 420] >>",
    ));
    objects.push(obj(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 13 0 R \
         /Annots [5 0 R 6 0 R 7 0 R 8 0 R 9 0 R 11 0 R] /Resources << /Font << /F1 3 0 R >> >> >>",
    ));
    objects.push(stream(
        "<< >>",
        b"BT /F1 12 Tf 72 700 Td (Application) Tj ET",
    ));
    let doc = parse(&build(&objects, ""));
    let table = doc
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Table(t) if t.name.as_deref() == Some("Form fields") => Some(t),
            _ => None,
        })
        .expect("a Form fields table");
    assert_eq!(
        table.rows,
        [
            ["Field", "Value"],
            ["Name", "Ada Lovelace"],
            ["Languages", "English, French"],
            ["Country", "Portugal"],
            ["city", "Lisbon"],
        ]
    );
    let markdown =
        ffmcp_docparse::render::render(&doc, ffmcp_docparse::render::OutputFormat::Markdown);
    assert!(markdown.contains("## Form fields"), "{markdown}");
    // The widgets have no appearance streams: their values are also drawn
    // in place on the page, as viewers and pdftotext generate them.
    let page = markdown.split("## Form fields").next().unwrap_or_default();
    assert!(page.contains("Ada Lovelace"), "{page}");
    assert!(page.contains("Lisbon"), "{page}");

    // Real forms: a LibreOffice form, and a page of the SF-424 grant form
    // whose fields are reachable only through the page's widgets (their
    // appearance streams draw the values on the page too).
    let got = words(&text(&real("pypdf-libreoffice-form.pdf")));
    assert!(got.contains("First Name Alice"), "{got}");
    assert!(got.contains("Bob"), "{got}");
    let got = words(&text(&real("pypdf-SF424_page2.pdf")));
    assert!(
        got.contains("FederalAgencyName U.S. Department of Interior, Fish and Wildlife Service"),
        "{got}"
    );
}

#[test]
fn form_fields_follow_the_page_range() {
    let form = real("pypdf-libreoffice-form.pdf");
    let options = ParseOptions {
        pages: Some(PageRange { first: 1, last: 1 }),
        ..ParseOptions::default()
    };
    let doc = pdf::parse(&form, &options).expect("parse");
    assert!(
        doc.blocks
            .iter()
            .any(|b| matches!(b, Block::Table(t) if t.name.as_deref() == Some("Form fields")))
    );
}

#[test]
fn image_only_pages_are_always_flagged() {
    // An image page whose only text is drawn outside the page box (as
    // ImageMagick labels its pages): nothing visible, so flagged.
    let objects = vec![
        obj("<< /Type /Catalog /Pages 2 0 R >>"),
        obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        obj(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R \
             /Resources << /XObject << /Im0 5 0 R >> /Font << /F1 6 0 R >> >> >>",
        ),
        stream(
            "<< >>",
            b"q BT /F1 12 Tf 0 216 Td (Background) Tj ET 200 0 0 200 0 0 cm /Im0 Do Q",
        ),
        stream(
            "<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 >>",
            b"\x80",
        ),
        obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
    ];
    let doc = parse(&build(&objects, ""));
    assert_eq!(
        doc.warnings,
        ["page 1 has images but no text layer: it is probably scanned; enable OCR (tesseract)"]
    );

    // The real file: six such pages, each flagged.
    let doc = parse(&real("pypdf-imagemagick-images.pdf"));
    let flagged: Vec<&String> = doc
        .warnings
        .iter()
        .filter(|w| w.contains("has images but no text layer"))
        .collect();
    assert_eq!(flagged.len(), 6, "{:?}", doc.warnings);
}

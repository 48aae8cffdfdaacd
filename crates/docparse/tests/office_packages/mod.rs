//! Real packages from other projects, rebuilt with the zip crate into the
//! shapes other writers produce: detection by the package's own manifest
//! (issue 17.2) and workbooks with cells that do not match their declared
//! type (issue 17.3).
//!
//! Sources (see `fixtures/office/README.md`): `python-pptx-cht-charts.pptx`
//! is `features/steps/test_files/cht-charts.pptx` of the python-pptx 1.0.2
//! sdist (MIT), a PowerPoint file whose chart workbook is stored
//! uncompressed; `odfpy-chinese-spreadsheet.ods` is
//! `tests/examples/chinese_spreadsheet.ods` of the odfpy 1.4.1 sdist
//! (Apache-2.0), written by LibreOffice; `odfpy-pythagoras-kspread.ods` is
//! `tests/examples/pythagoras-kspread.ods` of the same sdist, written by
//! KSpread with whitespace between the cells of each row.

use ffmcp_docparse::{
    Format, ParseOptions, detect, formats,
    render::{OutputFormat, render},
};

use super::office_support::{rezip, unzip};

const CHART_PPTX: &[u8] = include_bytes!("../fixtures/office/python-pptx-cht-charts.pptx");
const CHINESE_ODS: &[u8] = include_bytes!("../fixtures/office/odfpy-chinese-spreadsheet.ods");
const KSPREAD_ODS: &[u8] = include_bytes!("../fixtures/office/odfpy-pythagoras-kspread.ods");

/// The real PPTX as shipped: the embedded workbook is stored, so its part
/// names (`xl/workbook.xml`) are in the raw bytes, which made it an XLSX.
#[test]
fn pptx_with_an_uncompressed_chart_workbook_is_pptx() {
    assert!(
        CHART_PPTX
            .windows(b"xl/workbook.xml".len())
            .any(|w| w == b"xl/workbook.xml"),
        "the fixture must carry the embedded workbook's part names in its raw bytes"
    );
    for name in [None, Some("deck.pptx"), Some("deck.xlsx"), Some("deck.bin")] {
        assert_eq!(detect::detect(CHART_PPTX, name), Format::Pptx, "{name:?}");
    }
    let doc = ffmcp_docparse::parse(CHART_PPTX, None, &ParseOptions::default()).unwrap();
    assert_eq!(doc.metadata.pages, Some(1), "one slide");
}

/// ODF by the `mimetype` member wherever it is, else the manifest's root
/// entry; the real LibreOffice file rebuilt with `mimetype` last and
/// deflated, and without it at all.
#[test]
fn ods_is_ods_wherever_mimetype_is() {
    let members = unzip(CHINESE_ODS);
    assert_eq!(members[0].0, "mimetype");
    assert_eq!(detect::detect(CHINESE_ODS, None), Format::Ods);
    let original = ffmcp_docparse::parse(CHINESE_ODS, None, &ParseOptions::default()).unwrap();
    let expected = render(&original, OutputFormat::Markdown);
    assert!(expected.contains("| "), "{expected}");

    let mut last = members.clone();
    last.rotate_left(1);
    assert_eq!(last.last().unwrap().0, "mimetype");
    let mimetype_last = rezip(&last);
    let no_mimetype = rezip(&members[1..]);
    for (what, bytes) in [
        ("mimetype last", &mimetype_last),
        ("no mimetype", &no_mimetype),
    ] {
        for name in [None, Some("sheet.ods"), Some("sheet.zip")] {
            assert_eq!(detect::detect(bytes, name), Format::Ods, "{what} {name:?}");
        }
        if what == "mimetype last" {
            let doc = ffmcp_docparse::parse(bytes, None, &ParseOptions::default()).unwrap();
            assert_eq!(render(&doc, OutputFormat::Markdown), expected, "{what}");
        }
    }
}

/// Without any manifest, the parts present decide and the file name breaks
/// a tie between two of them.
#[test]
fn the_name_breaks_ties_between_packages_without_manifests() {
    let members: Vec<(String, Vec<u8>)> = vec![
        ("word/document.xml".into(), b"<w:document/>".to_vec()),
        ("xl/workbook.xml".into(), b"<workbook/>".to_vec()),
    ];
    let bytes = rezip(&members);
    assert_eq!(detect::detect(&bytes, Some("a.xlsx")), Format::Xlsx);
    assert_eq!(detect::detect(&bytes, Some("a.docx")), Format::Docx);
    assert_eq!(detect::detect(&bytes, None), Format::Docx);
    // A manifest beats the name.
    let odt = rezip(&[(
        "mimetype".to_owned(),
        b"application/vnd.oasis.opendocument.text".to_vec(),
    )]);
    assert_eq!(detect::detect(&odt, Some("a.ods")), Format::Unknown);
}

/// The chart workbook embedded in the real PPTX (an Excel file), with
/// cells rewritten the way other writers produce them.
fn chart_workbook_with(cells: &[(&str, &str)]) -> Vec<u8> {
    let outer = unzip(CHART_PPTX);
    let (_, workbook) = outer
        .iter()
        .find(|(n, _)| n.ends_with(".xlsx"))
        .expect("the embedded workbook");
    let mut members = unzip(workbook);
    let (_, sheet) = members
        .iter_mut()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .unwrap();
    let mut xml = String::from_utf8(sheet.clone()).unwrap();
    for (from, to) in cells {
        assert!(xml.contains(from), "{from}");
        xml = xml.replace(from, to);
    }
    *sheet = xml.into_bytes();
    rezip(&members)
}

#[test]
fn numbers_with_whitespace_are_numbers_and_a_bad_cell_keeps_its_text() {
    let clean = chart_workbook_with(&[]);
    let doc = formats::parse(Format::Xlsx, &clean, &ParseOptions::default()).unwrap();
    let expected = render(&doc, OutputFormat::Markdown);
    assert!(expected.contains("| 4.3 | 2.4 | 2 |"), "{expected}");
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);

    // Typed and untyped numbers padded with whitespace read as the numbers.
    let padded = chart_workbook_with(&[
        (r#"<c r="B2"><v>4.3</v>"#, r#"<c r="B2" t="n"><v> 4.3 </v>"#),
        (r#"<c r="C2"><v>2.4</v>"#, r#"<c r="C2"><v> 2.4</v>"#),
    ]);
    let doc = formats::parse(Format::Xlsx, &padded, &ParseOptions::default()).unwrap();
    assert_eq!(render(&doc, OutputFormat::Markdown), expected);
    assert!(
        doc.warnings.iter().any(|w| w.contains("whitespace")),
        "{:?}",
        doc.warnings
    );

    // A numeric cell that is not a number, an unknown error code and a bad
    // boolean: the workbook is read, those cells keep their raw text.
    let bad = chart_workbook_with(&[
        (r#"<c r="B3"><v>2.5</v>"#, r#"<c r="B3" t="n"><v>n/a</v>"#),
        (
            r#"<c r="C3"><v>4.4000000000000004</v>"#,
            r#"<c r="C3" t="e"><v>#OOPS</v>"#,
        ),
        (r#"<c r="D3"><v>2</v>"#, r#"<c r="D3" t="b"><v>yes</v>"#),
    ]);
    let doc = formats::parse(Format::Xlsx, &bad, &ParseOptions::default()).unwrap();
    let md = render(&doc, OutputFormat::Markdown);
    assert!(md.contains("| n/a | #OOPS | yes |"), "{md}");
    assert!(
        md.contains("| 4.3 | 2.4 | 2 |"),
        "the other rows stay: {md}"
    );
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.contains("3 cell(s) did not match their declared type")),
        "{:?}",
        doc.warnings
    );
    // Through detection as well (the path a client's file takes).
    let doc = ffmcp_docparse::parse(&bad, Some("book.xlsx"), &ParseOptions::default()).unwrap();
    assert!(render(&doc, OutputFormat::Markdown).contains("n/a"));
}

/// A real KSpread workbook whose rows hold whitespace between cells: the
/// spreadsheet reader refused it whole ("Expecting 'table-cell', found
/// Text"); it is read, with a warning saying what was ignored.
#[test]
fn ods_with_whitespace_between_cells_is_read() {
    let doc = ffmcp_docparse::parse(KSPREAD_ODS, None, &ParseOptions::default()).unwrap();
    let md = render(&doc, OutputFormat::Markdown);
    assert!(md.starts_with("## Sheet1\n\n"), "{md}");
    for value in ["3", "4", "5", "7"] {
        assert!(md.contains(&format!(" {value} ")), "{value} in {md}");
    }
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.contains("whitespace between cells")),
        "{:?}",
        doc.warnings
    );
}

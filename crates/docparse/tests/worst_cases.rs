//! Each parser's worst case at the size of the largest document a stdio
//! frame carries (4 MiB; larger documents come by path or URL and scale
//! the same way): every one finishes within its stated time budget or is
//! refused with a clear error, never a hang. Super-linear behaviours found
//! here were fixed by refusing the shape in one linear pass before the
//! third-party parser sees it (Markdown container nesting, HTML and XML
//! attribute counts) or by caps inside our own code.

// The measured times are printed for the record.
#![allow(clippy::print_stderr)]

use std::time::{Duration, Instant};

use ffmcp_docparse::{DocError, Format, ParseOptions, formats, testdocs};

/// Input size of every case.
const SIZE: usize = 4 << 20;

const W_NS: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

fn repeat(unit: &str, prefix: &str, suffix: &str) -> String {
    let mut out = String::with_capacity(SIZE + prefix.len() + suffix.len());
    out.push_str(prefix);
    while out.len() + unit.len() + suffix.len() <= SIZE {
        out.push_str(unit);
    }
    out.push_str(suffix);
    out
}

/// How a case must end.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// A result (maybe with warnings).
    Parsed,
    /// A clear limit error.
    Refused,
    /// Either.
    Bounded,
}

struct Case {
    name: &'static str,
    format: Format,
    bytes: Vec<u8>,
    budget: Duration,
    outcome: Outcome,
}

fn case(name: &'static str, format: Format, bytes: Vec<u8>, secs: u64, outcome: Outcome) -> Case {
    Case {
        name,
        format,
        bytes,
        budget: Duration::from_secs(secs),
        outcome,
    }
}

fn pdf_case(name: &'static str, content: String, secs: u64, outcome: Outcome) -> Case {
    let content = format!("BT /F1 10 Tf 72 700 Td {content} ET");
    let pdf = testdocs::pdf_page(
        content.as_bytes(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        &[],
    );
    case(name, Format::Pdf, pdf, secs, outcome)
}

fn cases() -> Vec<Case> {
    use Outcome::*;
    let mut scattered = String::new();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    while scattered.len() < SIZE - 64 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let (x, y) = (seed % 600, (seed >> 20) % 780);
        scattered += &format!("1 0 0 1 {x} {y} Tm (w) Tj ");
    }
    let cmap_entries = repeat("<0000> <FFFF> <0041>\n", "", "");
    let cmap = format!(
        "/CIDInit /ProcSet findresource begin begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange\n100000 beginbfrange\n{cmap_entries}endbfrange endcmap"
    );
    let widths = repeat("0 [500 500 500] ", "[", "]");
    let composite = format!(
        "<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /ToUnicode 6 0 R /DescendantFonts [<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /W {widths} >>] >>"
    );
    let font_pdf = testdocs::pdf_page(
        b"BT /F1 10 Tf 72 700 Td <00410042> Tj ET",
        &composite,
        &[(format!("<< /Length {} >>", cmap.len()), cmap.into_bytes())],
    );
    let mut attrs = String::new();
    let mut i = 0;
    while attrs.len() < SIZE - 300 {
        attrs += &format!(" a{i}=\"x\"");
        i += 1;
    }
    vec![
        pdf_case("PDF nested arrays", repeat("[", "", ""), 30, Bounded),
        pdf_case("PDF unbalanced strings", repeat("(", "", ""), 30, Bounded),
        pdf_case("PDF many glyphs", repeat("(a) Tj ", "", ""), 60, Bounded),
        pdf_case("PDF scattered glyphs", scattered, 60, Bounded),
        pdf_case("PDF save depth", repeat("q ", "", ""), 30, Bounded),
        pdf_case("PDF numbers", repeat("1 ", "", ""), 30, Bounded),
        case(
            "PDF font: huge CMap and widths",
            Format::Pdf,
            font_pdf,
            60,
            Bounded,
        ),
        case(
            "XML deep nesting",
            Format::Docx,
            testdocs::docx(&repeat(
                "<w:p>",
                &format!("<w:document {W_NS}><w:body>"),
                "",
            )),
            30,
            Refused,
        ),
        case(
            "XML many attributes",
            Format::Docx,
            testdocs::docx(&format!(
                "<w:document {W_NS}><w:body><w:p{}/></w:body></w:document>",
                attrs
            )),
            30,
            Bounded,
        ),
        case(
            "HTML deep nesting",
            Format::Html,
            repeat("<div>", "<html><body>", "").into_bytes(),
            30,
            Refused,
        ),
        case(
            "HTML many attributes",
            Format::Html,
            format!("<html><body><p{}>a</p></body></html>", attrs).into_bytes(),
            30,
            Bounded,
        ),
        case(
            "CSV one huge field",
            Format::Csv,
            repeat("a", "\"", "\"\n").into_bytes(),
            30,
            Parsed,
        ),
        case(
            "CSV many columns",
            Format::Csv,
            repeat("a,", "", "\n").into_bytes(),
            30,
            Bounded,
        ),
        case(
            "Markdown nested quotes",
            Format::Markdown,
            repeat(">", "", " a\n").into_bytes(),
            30,
            Refused,
        ),
        case(
            "Markdown nested lists",
            Format::Markdown,
            repeat("- ", "", "a\n").into_bytes(),
            30,
            Refused,
        ),
        case(
            "Markdown emphasis runs",
            Format::Markdown,
            repeat("*a", "", "\n").into_bytes(),
            30,
            Bounded,
        ),
        case(
            "Markdown open links",
            Format::Markdown,
            repeat("[a", "", "\n").into_bytes(),
            30,
            Bounded,
        ),
        case(
            "Markdown backtick runs",
            Format::Markdown,
            repeat("`a``", "", "\n").into_bytes(),
            30,
            Bounded,
        ),
    ]
}

#[test]
fn every_parser_bounds_its_worst_case() {
    let only = std::env::var("FFMCP_WORST_CASE").ok();
    let mut failures = Vec::new();
    for case in cases() {
        if only.as_deref().is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        let started = Instant::now();
        let result = formats::parse(case.format, &case.bytes, &ParseOptions::default());
        let took = started.elapsed();
        let outcome = match &result {
            Ok(_) => "parsed".to_owned(),
            Err(e) => e.to_string(),
        };
        eprintln!(
            "{}: {} bytes in {took:.2?} -> {:.160}",
            case.name,
            case.bytes.len(),
            outcome
        );
        let ok = matches!(
            (case.outcome, &result),
            (Outcome::Parsed | Outcome::Bounded, Ok(_))
                | (Outcome::Refused | Outcome::Bounded, Err(DocError::Limit(_)))
        );
        if !ok {
            failures.push(format!(
                "{}: expected {:?}, got {outcome}",
                case.name, case.outcome
            ));
        }
        if took > case.budget {
            failures.push(format!(
                "{}: {took:.2?}, over its budget of {:?}",
                case.name, case.budget
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

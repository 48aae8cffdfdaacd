//! Tolerant cell values for XLSX: one bad cell must not cost the workbook.
//!
//! calamine refuses a whole sheet when one `<v>` does not match its
//! declared type (`<c t="n"><v> 99</v></c>` is "invalid float literal";
//! an unknown error code or boolean likewise). Writers other than Excel
//! produce such cells, and the rest of the workbook is fine. When a sheet
//! fails, [`repair`] rewrites the worksheet parts once, in one streaming
//! pass: a number with surrounding whitespace loses the whitespace (it is
//! a number), any other value that is not what its type says becomes a
//! string cell holding the raw text (`t="str"`), and each change is
//! reported as a warning. The rewritten package is what calamine then
//! reads; the original bytes are never changed in place.
//!
//! ODS likewise ([`repair_ods`]): calamine refuses a whole workbook whose
//! `content.xml` has whitespace between the cells of a row (pretty-printed
//! by KSpread and other writers); that whitespace is dropped.

use std::io::{Cursor, Write};

use quick_xml::events::{BytesStart, Event};
use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

use super::{
    xml::{attr, local},
    zipsafe::ZipSafe,
};
use crate::{DocError, ParseOptions};

/// Error codes calamine accepts in `t="e"` cells.
const ERROR_CODES: &[&str] = &[
    "#DIV/0!",
    "#N/A",
    "#NAME?",
    "#NULL!",
    "#NUM!",
    "#REF!",
    "#VALUE!",
    "#GETTING_DATA",
];

/// What [`repair`] changed.
#[derive(Debug, Default)]
pub struct Repaired {
    /// The rewritten package.
    pub bytes: Vec<u8>,
    /// One line per changed worksheet part.
    pub warnings: Vec<String>,
}

/// Rewrites the worksheet parts of an XLSX so every cell value matches its
/// type; `None` when nothing needed a change.
pub fn repair(bytes: &[u8], options: &ParseOptions) -> Result<Option<Repaired>, DocError> {
    rewrite(bytes, options, "xlsx", |name, data| {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("xl/worksheets/") && lower.ends_with(".xml") {
            let (fixed, report) = repair_sheet(data);
            report.map(|r| (fixed, r))
        } else {
            None
        }
    })
}

/// Rewrites an ODS `content.xml` whose table rows hold text between the
/// cells (pretty-printed by KSpread and others), which calamine refuses as
/// a whole: the whitespace between cells carries nothing.
pub fn repair_ods(bytes: &[u8], options: &ParseOptions) -> Result<Option<Repaired>, DocError> {
    rewrite(bytes, options, "ods", |name, data| {
        (name == "content.xml").then(|| ods_rows(data))?
    })
}

/// Drops whitespace-only text directly inside `table:table-row`.
fn ods_rows(xml: &[u8]) -> Option<(Vec<u8>, String)> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out: Vec<u8> = Vec::with_capacity(xml.len());
    let mut stack: Vec<bool> = Vec::new();
    let mut dropped = 0usize;
    loop {
        let start = usize::try_from(reader.buffer_position()).ok()?;
        let event = reader.read_event().ok()?;
        let end = usize::try_from(reader.buffer_position()).ok()?;
        let raw = xml.get(start..end)?;
        match &event {
            Event::Eof => break,
            Event::Start(e) => stack.push(local(e) == b"table-row"),
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) if stack.last() == Some(&true) && t.as_ref().trim().is_empty() => {
                dropped += 1;
                continue;
            }
            _ => {}
        }
        out.extend_from_slice(raw);
    }
    (dropped > 0).then(|| {
        (
            out,
            format!("{dropped} runs of whitespace between cells ignored"),
        )
    })
}

/// Copies the package, replacing the members `fix` rewrites (it returns
/// the new bytes and a line for the warning).
fn rewrite(
    bytes: &[u8],
    options: &ParseOptions,
    format: &'static str,
    fix: impl Fn(&str, &[u8]) -> Option<(Vec<u8>, String)>,
) -> Result<Option<Repaired>, DocError> {
    let mut zip = ZipSafe::new(bytes, options)?;
    let names = zip.names().to_vec();
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut warnings = Vec::new();
    let mut written = 0u64;
    for name in &names {
        let Some(mut data) = zip.read(name)? else {
            continue;
        };
        if let Some((fixed, report)) = fix(name, &data) {
            warnings.push(format!("{name}: {report}"));
            data = fixed;
        }
        written += data.len() as u64;
        options.charge(data.len() as u64, || {
            format!("rewriting member '{name}' of the workbook")
        })?;
        let write = |w: &mut ZipWriter<Cursor<Vec<u8>>>| -> std::io::Result<()> {
            w.start_file(name.as_str(), stored)?;
            w.write_all(&data)
        };
        write(&mut writer)
            .map_err(|e| DocError::malformed(format, format!("rewriting member '{name}': {e}")))?;
    }
    if warnings.is_empty() {
        return Ok(None);
    }
    let bytes = writer
        .finish()
        .map_err(|e| DocError::malformed(format, format!("rewriting the workbook: {e}")))?
        .into_inner();
    tracing::debug!(bytes = written, format, "workbook parts repaired");
    Ok(Some(Repaired { bytes, warnings }))
}

/// How one cell's value was changed.
enum Fix {
    /// Surrounding whitespace dropped from a number.
    Trimmed(String),
    /// Declared type did not fit: kept as the raw text.
    AsText(String),
}

/// Rewrites one worksheet part; the report says what changed (`None`:
/// nothing did, and the returned bytes are not used).
fn repair_sheet(xml: &[u8]) -> (Vec<u8>, Option<String>) {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out: Vec<u8> = Vec::with_capacity(xml.len());
    // The open `<c>`: its start tag's span in `out` and its type.
    let mut cell: Option<(std::ops::Range<usize>, Option<String>, BytesStart<'static>)> = None;
    let mut in_value = false;
    let (mut trimmed, mut as_text) = (0usize, 0usize);
    let mut first: Option<String> = None;
    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let Ok(event) = reader.read_event() else {
            // Malformed XML: leave the part as it was.
            return (Vec::new(), None);
        };
        let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let raw = xml.get(start..end).unwrap_or_default();
        match &event {
            Event::Eof => break,
            Event::Start(e) if local(e) == b"c" => {
                let at = out.len();
                out.extend_from_slice(raw);
                cell = Some((at..out.len(), attr(e, "t"), e.clone().into_owned()));
                continue;
            }
            Event::End(e) if e.local_name().as_ref() == "c" => cell = None,
            Event::Start(e) if local(e) == b"v" => in_value = true,
            Event::End(e) if e.local_name().as_ref() == "v" => in_value = false,
            Event::Text(text) if in_value => {
                if let Some((span, kind, tag)) = &cell {
                    let value = String::from(text.as_ref());
                    if let Some(fix) = check(kind.as_deref(), &value) {
                        first.get_or_insert_with(|| {
                            format!("{} '{}'", attr(tag, "r").unwrap_or_default(), value.trim())
                        });
                        match fix {
                            Fix::Trimmed(number) => {
                                trimmed += 1;
                                out.extend_from_slice(number.as_bytes());
                            }
                            Fix::AsText(text) => {
                                as_text += 1;
                                let retagged = as_string_cell(tag);
                                let span = span.clone();
                                let shift = retagged.len() as isize - span.len() as isize;
                                out.splice(span.clone(), retagged);
                                if let Some((s, _, _)) = cell.as_mut() {
                                    *s = span.start..(span.end as isize + shift) as usize;
                                }
                                out.extend_from_slice(text.as_bytes());
                            }
                        }
                        continue;
                    }
                }
            }
            _ => {}
        }
        out.extend_from_slice(raw);
    }
    if trimmed + as_text == 0 {
        return (Vec::new(), None);
    }
    let mut parts = Vec::new();
    if trimmed > 0 {
        parts.push(format!(
            "{trimmed} numeric cell(s) had whitespace around the number (read as numbers)"
        ));
    }
    if as_text > 0 {
        parts.push(format!(
            "{as_text} cell(s) did not match their declared type (kept as text)"
        ));
    }
    let report = format!("{}; first: {}", parts.join(", "), first.unwrap_or_default());
    (out, Some(report))
}

/// Whether a `<v>` of cell type `kind` needs a fix, and which.
fn check(kind: Option<&str>, value: &str) -> Option<Fix> {
    let trimmed = value.trim();
    let number = |s: &str| !s.is_empty() && s.parse::<f64>().is_ok();
    match kind {
        None | Some("n") => {
            if number(value) || value.is_empty() {
                None
            } else if number(trimmed) {
                Some(Fix::Trimmed(trimmed.to_owned()))
            } else if kind.is_none() {
                // calamine reads an untyped non-number as a string already.
                None
            } else {
                Some(Fix::AsText(value.to_owned()))
            }
        }
        Some("e") if !ERROR_CODES.contains(&value) => {
            if ERROR_CODES.contains(&trimmed) {
                Some(Fix::Trimmed(trimmed.to_owned()))
            } else {
                Some(Fix::AsText(value.to_owned()))
            }
        }
        Some("b") if !matches!(value, "0" | "1" | "true" | "false") => {
            if matches!(trimmed, "0" | "1" | "true" | "false") {
                Some(Fix::Trimmed(trimmed.to_owned()))
            } else {
                Some(Fix::AsText(value.to_owned()))
            }
        }
        _ => None,
    }
}

/// The `<c>` start tag with `t="str"`.
fn as_string_cell(tag: &BytesStart<'_>) -> Vec<u8> {
    let mut out = b"<".to_vec();
    out.extend_from_slice(tag.name().as_ref().as_bytes());
    for a in tag.attributes().with_checks(false).flatten() {
        if a.key.as_ref() == "t" {
            continue;
        }
        out.push(b' ');
        out.extend_from_slice(a.key.as_ref().as_bytes());
        out.extend_from_slice(b"=\"");
        for b in a.value.as_ref().bytes() {
            if b == b'"' {
                out.extend_from_slice(b"&quot;");
            } else {
                out.push(b);
            }
        }
        out.push(b'"');
    }
    out.extend_from_slice(b" t=\"str\">");
    out
}

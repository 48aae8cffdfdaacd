//! Which kind of ZIP package a file is, from the package's own manifest.
//!
//! OOXML: `_rels/.rels` names the main part (the `officeDocument`
//! relationship) and `[Content_Types].xml` gives its content type
//! (`…wordprocessingml.document.main+xml`, `…spreadsheetml.sheet.main+xml`,
//! `…presentationml.presentation.main+xml` and their macro-enabled and
//! template forms). ODF and EPUB: the `mimetype` member, wherever it is
//! stored (the specification wants it first and uncompressed; real writers
//! do not always comply), else the root entry (`full-path="/"`) of
//! `META-INF/manifest.xml`. Only when the manifests say nothing do member
//! names decide, and the file name breaks a tie between candidates.
//! The container is opened through [`ZipSafe`] under a small budget: only
//! the few manifest parts are inflated, each capped.

use quick_xml::events::Event;

use super::Format;
use crate::{
    Limits, ParseOptions,
    formats::{
        xml::{attr, local},
        zipsafe::ZipSafe,
    },
};

/// Bytes detection may inflate in total (manifests are a few KiB).
const BUDGET: u64 = 4 << 20;

/// The kind of the ZIP package `bytes`; `by_name` is the format the file
/// name suggests, used as the tie-breaker.
pub(super) fn kind(bytes: &[u8], by_name: Option<Format>) -> Format {
    let options = ParseOptions {
        limits: Limits {
            max_expanded_bytes: BUDGET,
            ..Limits::default()
        },
        ..ParseOptions::default()
    };
    let Ok(mut zip) = ZipSafe::new(bytes, &options) else {
        // Unreadable as a container (truncated, hostile): the parser for
        // the named format, if any, reports what is wrong; else the names
        // stored in the local headers decide.
        return by_name
            .filter(|f| is_package(*f))
            .unwrap_or_else(|| by_member_names_in_bytes(bytes));
    };
    if let Some(format) = odf_or_epub(&mut zip) {
        return format;
    }
    if let Some(format) = ooxml_main_part(&mut zip) {
        return format;
    }
    // No manifest: the parts present, the name breaking ties.
    let candidates: Vec<Format> = [
        ("word/document.xml", Format::Docx),
        ("xl/workbook.xml", Format::Xlsx),
        ("ppt/presentation.xml", Format::Pptx),
        ("META-INF/container.xml", Format::Epub),
    ]
    .into_iter()
    .filter(|(part, _)| zip.contains(part))
    .map(|(_, format)| format)
    .collect();
    if let Some(named) = by_name.filter(|f| candidates.contains(f)) {
        return named;
    }
    if zip.contains("content.xml") && by_name == Some(Format::Ods) {
        return Format::Ods;
    }
    candidates.first().copied().unwrap_or(Format::Unknown)
}

fn is_package(format: Format) -> bool {
    matches!(
        format,
        Format::Docx | Format::Xlsx | Format::Pptx | Format::Ods | Format::Epub
    )
}

/// ODF and EPUB by `mimetype`, else by the manifest's root entry.
fn odf_or_epub(zip: &mut ZipSafe<'_>) -> Option<Format> {
    let media = match read_small(zip, "mimetype") {
        Some(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        None => {
            let manifest = read_small(zip, "META-INF/manifest.xml")?;
            root_media_type(&manifest)?
        }
    };
    Some(match media.as_str() {
        "application/epub+zip" => Format::Epub,
        "application/vnd.oasis.opendocument.spreadsheet"
        | "application/vnd.oasis.opendocument.spreadsheet-template" => Format::Ods,
        // Text, presentations, drawings: ODF, but not a kind docparse reads.
        m if m.starts_with("application/vnd.oasis.opendocument.") => Format::Unknown,
        _ => return None,
    })
}

/// The media type of the `full-path="/"` entry of an ODF manifest.
fn root_media_type(manifest: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(manifest);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e)
                if local(&e) == b"file-entry" && attr(&e, "full-path").as_deref() == Some("/") =>
            {
                return attr(&e, "media-type");
            }
            Event::Eof => return None,
            _ => {}
        }
        buf.clear();
    }
}

/// DOCX, XLSX or PPTX from the content type of the package's main part.
fn ooxml_main_part(zip: &mut ZipSafe<'_>) -> Option<Format> {
    let types = read_small(zip, "[Content_Types].xml")?;
    let main = read_small(zip, "_rels/.rels").and_then(|rels| office_document(&rels));
    let mut reader = quick_xml::Reader::from_reader(types.as_slice());
    let mut buf = Vec::new();
    let mut any_main: Option<Format> = None;
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) if local(&e) == b"Override" => {
                let part = attr(&e, "PartName").unwrap_or_default();
                let format = attr(&e, "ContentType").and_then(|t| main_part_kind(&t));
                if let (Some(main), Some(format)) = (&main, format)
                    && same_part(main, &part)
                {
                    return Some(format);
                }
                any_main = any_main.or(format);
            }
            Event::Eof => return any_main,
            _ => {}
        }
        buf.clear();
    }
}

/// The target of the `officeDocument` relationship in `_rels/.rels`.
fn office_document(rels: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(rels);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) if local(&e) == b"Relationship" => {
                let kind = attr(&e, "Type").unwrap_or_default();
                if kind.ends_with("/officeDocument") {
                    return attr(&e, "Target");
                }
            }
            Event::Eof => return None,
            _ => {}
        }
        buf.clear();
    }
}

/// Part names compare without the leading `/` and case-insensitively.
fn same_part(a: &str, b: &str) -> bool {
    a.trim_start_matches('/')
        .eq_ignore_ascii_case(b.trim_start_matches('/'))
}

/// The format whose main part has content type `content_type`.
fn main_part_kind(content_type: &str) -> Option<Format> {
    let t = content_type.trim().to_ascii_lowercase();
    if !t.ends_with(".main+xml") {
        return None;
    }
    if t.contains("wordprocessingml") || t.contains("ms-word") {
        Some(Format::Docx)
    } else if t.contains("spreadsheetml") || t.contains("ms-excel") {
        Some(Format::Xlsx)
    } else if t.contains("presentationml") || t.contains("ms-powerpoint") {
        Some(Format::Pptx)
    } else {
        None
    }
}

/// A member's bytes, at most 1 MiB of them; `None` when absent or broken.
fn read_small(zip: &mut ZipSafe<'_>, name: &str) -> Option<Vec<u8>> {
    let bytes = zip.read(name).ok()??;
    (bytes.len() <= 1 << 20).then_some(bytes)
}

/// For a container the ZIP reader refuses: names in the local headers.
fn by_member_names_in_bytes(bytes: &[u8]) -> Format {
    let has = |needle: &[u8]| super::find(bytes, needle).is_some();
    if has(b"application/vnd.oasis.opendocument.spreadsheet") {
        Format::Ods
    } else if has(b"application/epub+zip") {
        Format::Epub
    } else if has(b"word/document.xml") {
        Format::Docx
    } else if has(b"ppt/presentation.xml") {
        Format::Pptx
    } else if has(b"xl/workbook.xml") {
        Format::Xlsx
    } else if has(b"META-INF/container.xml") {
        Format::Epub
    } else {
        Format::Unknown
    }
}

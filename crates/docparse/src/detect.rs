//! Format detection: magic bytes first, the file name second, a text sniff
//! last. A file named `.pdf` that is really HTML is parsed as HTML.
//!
//! ZIP packages are told apart by their own manifest, not by searching the
//! raw bytes for part names (a PPTX whose embedded chart workbook is stored
//! uncompressed contains `xl/workbook.xml` too): OOXML by the content type
//! of the main part (`_rels/.rels` names it, `[Content_Types].xml` types
//! it), ODF and EPUB by the `mimetype` member wherever it is stored, else
//! `META-INF/manifest.xml`'s root entry. The file name only breaks ties.

use serde::Serialize;

mod package;

/// A supported input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Docx,
    Xlsx,
    Xls,
    Ods,
    Pptx,
    Epub,
    Html,
    Markdown,
    Csv,
    Tsv,
    Text,
    /// Recognised but not supported (e.g. legacy `.doc`, images).
    Unknown,
}

impl Format {
    /// Every format, for `formats`.
    pub const ALL: [Format; 12] = [
        Format::Pdf,
        Format::Docx,
        Format::Xlsx,
        Format::Xls,
        Format::Ods,
        Format::Pptx,
        Format::Epub,
        Format::Html,
        Format::Markdown,
        Format::Csv,
        Format::Tsv,
        Format::Text,
    ];

    /// Lower-case name, as used in the tools' schemas.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Ods => "ods",
            Format::Pptx => "pptx",
            Format::Epub => "epub",
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Text => "text",
            Format::Unknown => "unknown",
        }
    }

    /// File extensions that name this format.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::Pdf => &["pdf"],
            Format::Docx => &["docx", "docm"],
            Format::Xlsx => &["xlsx", "xlsm"],
            Format::Xls => &["xls"],
            Format::Ods => &["ods"],
            Format::Pptx => &["pptx", "pptm"],
            Format::Epub => &["epub"],
            Format::Html => &["html", "htm", "xhtml"],
            Format::Markdown => &["md", "markdown", "mdown", "mkd"],
            Format::Csv => &["csv"],
            Format::Tsv => &["tsv", "tab"],
            Format::Text => &["txt", "text", "log", "rst", "org"],
            Format::Unknown => &[],
        }
    }

    /// The format a media type names (`text/html; charset=utf-8`).
    pub fn from_media_type(media: &str) -> Option<Format> {
        let media = media.split(';').next()?.trim().to_ascii_lowercase();
        Some(match media.as_str() {
            "application/pdf" => Format::Pdf,
            "text/html" | "application/xhtml+xml" => Format::Html,
            "text/markdown" | "text/x-markdown" => Format::Markdown,
            "text/csv" => Format::Csv,
            "text/tab-separated-values" => Format::Tsv,
            "text/plain" => Format::Text,
            "application/epub+zip" => Format::Epub,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                Format::Docx
            }
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Format::Xlsx,
            "application/vnd.openxmlformats-officedocument.presentationml.presentation" => {
                Format::Pptx
            }
            "application/vnd.ms-excel" => Format::Xls,
            "application/vnd.oasis.opendocument.spreadsheet" => Format::Ods,
            _ => return None,
        })
    }
}

/// The format of `bytes`, optionally named `name`.
pub fn detect(bytes: &[u8], name: Option<&str>) -> Format {
    let by_name = name.and_then(from_name);
    if bytes.starts_with(b"PK\x03\x04") {
        return package::kind(bytes, by_name);
    }
    if let Some(format) = sniff_magic(bytes) {
        return format;
    }
    // Zip containers and OLE files were handled above; a name can still
    // tell text formats apart.
    if let Some(f @ (Format::Markdown | Format::Csv | Format::Tsv | Format::Text | Format::Html)) =
        by_name
    {
        return f;
    }
    if looks_like_html(bytes) {
        return Format::Html;
    }
    if looks_like_text(bytes) {
        return Format::Text;
    }
    Format::Unknown
}

fn from_name(name: &str) -> Option<Format> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Format::ALL
        .into_iter()
        .find(|f| f.extensions().contains(&ext.as_str()))
}

fn sniff_magic(bytes: &[u8]) -> Option<Format> {
    let head = &bytes[..bytes.len().min(1024)];
    if find(head, b"%PDF-").is_some() {
        return Some(Format::Pdf);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // OLE compound file: Excel 97-2003 has a "Workbook"/"Book" stream
        // (names are UTF-16LE in the directory).
        let workbook = utf16(b"Workbook");
        let book = utf16(b"Book");
        if find(bytes, &workbook).is_some() || find(bytes, &book).is_some() {
            return Some(Format::Xls);
        }
        // A password-protected DOCX/XLSX/PPTX is an OLE file holding an
        // "EncryptedPackage": hand it to the container reader, which says so.
        if find(bytes, &utf16(b"EncryptedPackage")).is_some() {
            return Some(Format::Docx);
        }
        return Some(Format::Unknown);
    }
    None
}

fn utf16(ascii: &[u8]) -> Vec<u8> {
    ascii.iter().flat_map(|b| [*b, 0]).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(2048)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    text.starts_with("<!doctype html")
        || text.starts_with("<html")
        || (text.starts_with("<?xml") && text.contains("<html"))
        || (text.starts_with('<') && (text.contains("<body") || text.contains("<head")))
}

/// No NUL bytes and mostly printable in the first 8 KiB.
fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.is_empty() {
        return true;
    }
    // UTF-16 with a BOM is text even though it has NULs.
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    if head.contains(&0) {
        return false;
    }
    let control = head
        .iter()
        .filter(|b| **b < 0x20 && !matches!(**b, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    control * 100 < head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_beats_the_name() {
        assert_eq!(detect(b"%PDF-1.7\n...", Some("x.txt")), Format::Pdf);
        assert_eq!(detect(b"<!DOCTYPE html><p>hi", Some("x.pdf")), Format::Html);
        assert_eq!(
            detect(b"# Title\n\ntext", Some("notes.md")),
            Format::Markdown
        );
        assert_eq!(detect(b"a,b\n1,2\n", Some("t.csv")), Format::Csv);
        assert_eq!(detect(b"just words", None), Format::Text);
        assert_eq!(detect(&[0, 1, 2, 3, 0, 0], None), Format::Unknown);
        let mut docx = b"PK\x03\x04".to_vec();
        docx.extend_from_slice(&[0; 26]);
        docx.extend_from_slice(b"[Content_Types].xml....word/document.xml");
        assert_eq!(detect(&docx, Some("a.zip")), Format::Docx);
        let mut epub = b"PK\x03\x04".to_vec();
        epub.extend_from_slice(&[0; 26]);
        epub.extend_from_slice(b"mimetypeapplication/epub+zip");
        assert_eq!(detect(&epub, None), Format::Epub);
    }

    #[test]
    fn password_protected_office_files_say_so() {
        let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        ole.extend_from_slice(&[0; 64]);
        ole.extend(b"EncryptedPackage".iter().flat_map(|b| [*b, 0]));
        assert_eq!(detect(&ole, Some("report.docx")), Format::Docx);
        let err = crate::formats::parse(Format::Docx, &ole, &crate::ParseOptions::default())
            .expect_err("encrypted");
        assert!(matches!(err, crate::DocError::Encrypted(_)), "{err}");
        assert!(err.to_string().contains("password-protected"), "{err}");
    }

    #[test]
    fn media_types() {
        assert_eq!(
            Format::from_media_type("text/html; charset=utf-8"),
            Some(Format::Html)
        );
        assert_eq!(
            Format::from_media_type("application/pdf"),
            Some(Format::Pdf)
        );
        assert_eq!(Format::from_media_type("image/png"), None);
    }
}

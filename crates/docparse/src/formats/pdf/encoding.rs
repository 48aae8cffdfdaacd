//! Simple-font encodings: the base encodings (Standard, WinAnsi,
//! MacRoman, PDFDoc, Symbol, MacExpert), glyph names to Unicode (the Adobe
//! Glyph List plus `uniXXXX`/`uXXXX[XX]`, ligature and suffixed names) and
//! ligature normalisation.
//!
//! `glyphlist.txt` holds the Adobe Glyph List (with the TeX additions lopdf
//! carries), one `name HEX` pair a line, generated once from lopdf 0.47's
//! table (MIT); lopdf keeps its own copy private.

use std::{collections::HashMap, sync::OnceLock};

use super::tables;

/// A base encoding named by a font's `/Encoding` or `/BaseEncoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BaseEncoding {
    Standard,
    WinAnsi,
    MacRoman,
    MacExpert,
    PdfDoc,
    Symbol,
}

impl BaseEncoding {
    pub(super) fn from_name(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"StandardEncoding" => Self::Standard,
            b"WinAnsiEncoding" => Self::WinAnsi,
            b"MacRomanEncoding" => Self::MacRoman,
            b"MacExpertEncoding" => Self::MacExpert,
            b"PDFDocEncoding" => Self::PdfDoc,
            _ => return None,
        })
    }

    fn table(self) -> &'static [u16; 256] {
        match self {
            Self::Standard => &tables::STANDARD,
            Self::WinAnsi => &tables::WIN_ANSI,
            Self::MacRoman => &tables::MAC_ROMAN,
            Self::MacExpert => &tables::MAC_EXPERT,
            Self::PdfDoc => &tables::PDF_DOC,
            Self::Symbol => &tables::SYMBOL,
        }
    }

    /// The character of `code`, if the encoding defines one.
    pub(super) fn char(self, code: u8) -> Option<char> {
        let value = self.table()[code as usize];
        if value == 0 {
            // WinAnsi maps unused codes to bullets in practice; others are undefined.
            return None;
        }
        char::from_u32(u32::from(value))
    }
}

fn glyph_list() -> &'static HashMap<&'static str, char> {
    static LIST: OnceLock<HashMap<&'static str, char>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("glyphlist.txt")
            .lines()
            .filter_map(|line| {
                let (name, hex) = line.split_once(' ')?;
                let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                Some((name, c))
            })
            .collect()
    })
}

/// The Unicode text of a glyph name, following the Adobe Glyph List
/// specification's algorithm (suffixes after `.`, `_` ligatures,
/// `uniXXXX` sequences, `uXXXX[XX]`), or `None` for unknown names.
pub(super) fn glyph_to_unicode(name: &str) -> Option<String> {
    if let Some(&c) = glyph_list().get(name) {
        return Some(c.to_string());
    }
    let base = name.split('.').next().unwrap_or(name);
    if base.is_empty() {
        return None;
    }
    if base != name {
        return glyph_to_unicode(base);
    }
    if base.contains('_') {
        let parts: Option<String> = base.split('_').map(component).collect();
        return parts;
    }
    component(base)
}

fn component(name: &str) -> Option<String> {
    if let Some(&c) = glyph_list().get(name) {
        return Some(c.to_string());
    }
    if let Some(hex) = name.strip_prefix("uni")
        && hex.len() >= 4
        && hex.len() % 4 == 0
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let units: Vec<u16> = (0..hex.len() / 4)
            .filter_map(|i| u16::from_str_radix(&hex[i * 4..i * 4 + 4], 16).ok())
            .collect();
        return Some(String::from_utf16_lossy(&units));
    }
    if let Some(hex) = name.strip_prefix('u')
        && (4..=6).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .map(String::from);
    }
    None
}

/// Replaces ligature and presentation-form characters by their letters
/// (ﬁ → fi), drops soft hyphens' invisibility (kept as `-` like
/// pdftotext), and maps NUL/control characters away.
pub(super) fn normalize_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            '\u{AD}' => out.push('-'),
            '\u{A0}' | '\t' | '\r' | '\n' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_names() {
        for (name, text) in [
            ("A", "A"),
            ("eacute", "é"),
            ("Euro", "€"),
            ("fi", "\u{FB01}"),
            ("uni0041", "A"),
            ("uni00410042", "AB"),
            ("u1F600", "\u{1F600}"),
            ("a.sc", "a"),
            ("f_f_i", "\u{FB03}"),
            ("T_h", "Th"),
            ("quotedblleft", "\u{201C}"),
        ] {
            assert_eq!(glyph_to_unicode(name).as_deref(), Some(text), "{name}");
        }
        assert_eq!(glyph_to_unicode("g123"), None);
        assert_eq!(glyph_to_unicode(".notdef"), None);
    }

    #[test]
    fn base_encodings() {
        assert_eq!(BaseEncoding::WinAnsi.char(0x80), Some('€'));
        assert_eq!(BaseEncoding::WinAnsi.char(0xE9), Some('é'));
        assert_eq!(BaseEncoding::MacRoman.char(0x8E), Some('é'));
        assert_eq!(BaseEncoding::Standard.char(0x27), Some('\u{2019}'));
        assert_eq!(BaseEncoding::Standard.char(0xAE), Some('\u{FB01}'));
        assert_eq!(BaseEncoding::PdfDoc.char(0x93), Some('\u{FB01}'));
        assert_eq!(BaseEncoding::Symbol.char(0x61), Some('α'));
    }

    #[test]
    fn ligatures_are_normalised() {
        let mut out = String::new();
        normalize_into("\u{FB01}nd e\u{FB03}cient\u{0}", &mut out);
        assert_eq!(out, "find efficient");
    }
}

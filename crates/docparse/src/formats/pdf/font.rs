//! Fonts as text extraction needs them: how a shown string splits into
//! codes, what text each code stands for, and how far each advances.
//!
//! Text precedence per code: the `ToUnicode` CMap, then (simple fonts) the
//! `/Encoding` (`/Differences` over a base encoding, or the built-in
//! encoding of an embedded Type 1 program), then (Type0) a UCS-2/UTF-16
//! predefined CMap. Codes nothing maps are dropped, as pdftotext does for
//! glyphs it cannot name.

use std::borrow::Cow;

use lopdf::{Dictionary, Document, Object};

use super::{
    cjk::{Collection, Legacy},
    cmap::{CMap, be},
    encoding::{BaseEncoding, glyph_to_unicode},
    objects::{self, Budget},
    tables,
};

/// A font ready to decode shown strings.
#[derive(Debug)]
pub(super) struct Font {
    to_unicode: Option<CMap>,
    kind: Kind,
    /// Multiplies a glyph width to text space per unit of font size
    /// (1/1000, or the Type 3 font matrix's scale).
    scale: f32,
}

#[derive(Debug)]
enum Kind {
    Simple {
        /// Text of each code from the encoding.
        codes: Box<[Option<Box<str>>]>,
        widths: Box<[f32]>,
    },
    Composite {
        /// Code-to-CID map of an embedded or identity encoding.
        encoding: CidEncoding,
        widths: CidWidths,
        /// The Adobe CJK collection the CIDs belong to, for text when
        /// there is no ToUnicode map.
        collection: Option<Collection>,
        /// Vertical writing (WMode 1): the advance down the page per unit
        /// of font size (from DW2, normally 1).
        vertical: Option<f32>,
    },
}

#[derive(Debug)]
enum CidEncoding {
    /// Identity-H/V: two-byte codes, CID = code.
    Identity,
    /// Predefined UCS-2/UTF-16 CMaps: the code is the character.
    Unicode,
    Embedded(CMap),
    /// A predefined CMap of a legacy CJK encoding (Shift-JIS, EUC, GBK,
    /// Big5, UHC): codes decode through that encoding.
    Legacy(Legacy),
    /// Another predefined CMap: two-byte codes with unknown CIDs.
    Other,
}

#[derive(Debug, Default)]
struct CidWidths {
    default: f32,
    /// Sorted, non-overlapping (first, last, width) runs.
    runs: Vec<(u32, u32, f32)>,
}

/// One decoded glyph of a shown string.
#[derive(Debug)]
pub(super) struct Glyph<'a> {
    pub text: Cow<'a, str>,
    /// Advance in text space per unit of font size (before Tc/Tw/Tz).
    pub width: f32,
    /// A one-byte code 32: word spacing (Tw) applies.
    pub word_space: bool,
}

/// Width runs kept from a CID font's /W array.
const MAX_WIDTH_RUNS: usize = 1 << 16;

impl Font {
    /// Builds the font from its dictionary; never fails (a broken font
    /// decodes to less text, not to an error).
    pub(super) fn load(doc: &Document, dict: &Dictionary, budget: &Budget<'_>) -> Font {
        let subtype = objects::name(doc, dict, b"Subtype").unwrap_or_default();
        let to_unicode = match objects::get(doc, dict, b"ToUnicode") {
            Some(Object::Stream(stream)) => budget.decode(stream).ok().map(|d| CMap::parse(&d)),
            _ => None,
        }
        .filter(CMap::has_text);
        if subtype == b"Type0" {
            return Font {
                to_unicode,
                kind: composite(doc, dict, budget),
                scale: 0.001,
            };
        }
        let scale = if subtype == b"Type3" {
            objects::array(doc, dict, b"FontMatrix")
                .and_then(|m| m.first())
                .and_then(|o| objects::number(doc, o))
                .filter(|s| s.is_finite() && s.abs() < 10.0)
                .unwrap_or(0.001)
        } else {
            0.001
        };
        let codes = simple_codes(doc, dict, budget, to_unicode.is_some());
        let widths = simple_widths(doc, dict, &codes, scale);
        Font {
            to_unicode,
            kind: Kind::Simple { codes, widths },
            scale,
        }
    }

    /// Decodes `bytes` glyph by glyph.
    pub(super) fn decode<'s>(&'s self, bytes: &[u8], mut each: impl FnMut(Glyph<'s>)) {
        match &self.kind {
            Kind::Simple { codes, widths } => {
                for &b in bytes {
                    let text = self
                        .to_unicode
                        .as_ref()
                        .and_then(|c| c.lookup(1, u32::from(b)))
                        .or_else(|| codes[b as usize].as_deref().map(Cow::Borrowed))
                        .unwrap_or(Cow::Borrowed(""));
                    each(Glyph {
                        text,
                        width: widths[b as usize] * self.scale,
                        word_space: b == 32,
                    });
                }
            }
            Kind::Composite {
                encoding,
                widths,
                collection,
                ..
            } => {
                let mut i = 0;
                while i < bytes.len() {
                    let rest = &bytes[i..];
                    let len = match (encoding, &self.to_unicode) {
                        (CidEncoding::Embedded(cmap), _) => cmap.code_len(rest, 2),
                        (CidEncoding::Legacy(legacy), _) => legacy.code_len(rest) as u8,
                        // A UTF-16 surrogate pair is one four-byte code.
                        (CidEncoding::Unicode, None)
                            if rest.len() >= 4
                                && (0xD8..0xDC).contains(&rest[0])
                                && (0xDC..0xE0).contains(&rest[2]) =>
                        {
                            4
                        }
                        (_, Some(tu))
                            if !tu.codespace.is_empty()
                                && !matches!(encoding, CidEncoding::Identity) =>
                        {
                            tu.code_len(rest, 2)
                        }
                        _ => 2,
                    }
                    .clamp(1, 4);
                    let code_bytes = &rest[..rest.len().min(len as usize)];
                    let code = be(code_bytes);
                    i += code_bytes.len();
                    let cid = match encoding {
                        CidEncoding::Identity => Some(code),
                        CidEncoding::Embedded(cmap) => cmap.cid(len, code),
                        CidEncoding::Unicode | CidEncoding::Legacy(_) | CidEncoding::Other => None,
                    };
                    let mut text = self.to_unicode.as_ref().and_then(|c| c.lookup(len, code));
                    if text.is_none() {
                        text = match encoding {
                            CidEncoding::Unicode => {
                                let units: Vec<u16> = code_bytes
                                    .chunks_exact(2)
                                    .map(|u| u16::from_be_bytes([u[0], u[1]]))
                                    .collect();
                                String::from_utf16(&units).ok().map(Cow::Owned)
                            }
                            CidEncoding::Legacy(legacy) => legacy.text(code_bytes).map(Cow::Owned),
                            _ => None,
                        };
                    }
                    if text.is_none()
                        && let (Some(collection), Some(cid)) = (collection, cid)
                    {
                        text = collection.text(cid).map(|c| Cow::Owned(c.to_string()));
                    }
                    each(Glyph {
                        text: text.unwrap_or(Cow::Borrowed("")),
                        width: cid.map_or(widths.default, |cid| widths.get(cid)) * self.scale,
                        word_space: len == 1 && code == 32,
                    });
                }
            }
        }
    }

    /// How much larger than the font size the glyphs are drawn: 1, except
    /// for Type 3 fonts whose matrix is not the usual 1/1000.
    pub(super) fn size_factor(&self) -> f32 {
        (self.scale * 1000.0).clamp(0.01, 100.0)
    }

    /// For vertical writing, the advance down the page per unit of font
    /// size.
    pub(super) fn vertical(&self) -> Option<f32> {
        match &self.kind {
            Kind::Composite { vertical, .. } => *vertical,
            Kind::Simple { .. } => None,
        }
    }
}

impl CidWidths {
    fn get(&self, cid: u32) -> f32 {
        let i = self.runs.partition_point(|&(_, last, _)| last < cid);
        match self.runs.get(i) {
            Some(&(first, _, w)) if first <= cid => w,
            _ => self.default,
        }
    }
}

fn composite(doc: &Document, dict: &Dictionary, budget: &Budget<'_>) -> Kind {
    let mut vertical = false;
    let encoding = match objects::get(doc, dict, b"Encoding") {
        Some(Object::Name(name)) => {
            let name = String::from_utf8_lossy(name);
            vertical = name.ends_with("-V") || name == "V";
            if name.starts_with("Identity") {
                CidEncoding::Identity
            } else if name.contains("UCS2") || name.contains("UTF16") {
                CidEncoding::Unicode
            } else if let Some(legacy) = Legacy::from_cmap_name(&name) {
                CidEncoding::Legacy(legacy)
            } else {
                CidEncoding::Other
            }
        }
        Some(Object::Stream(stream)) => {
            vertical = objects::number_at(doc, &stream.dict, b"WMode") == Some(1.0);
            match budget.decode(stream) {
                Ok(data) => {
                    vertical |= find(&data, b"/WMode 1").is_some();
                    CidEncoding::Embedded(CMap::parse(&data))
                }
                Err(_) => CidEncoding::Identity,
            }
        }
        _ => CidEncoding::Identity,
    };
    let descendant = objects::array(doc, dict, b"DescendantFonts")
        .and_then(|a| a.first())
        .and_then(|o| match objects::resolve(doc, o)? {
            Object::Dictionary(d) => Some(d),
            _ => None,
        });
    let mut widths = CidWidths {
        default: 1000.0,
        runs: Vec::new(),
    };
    let collection = descendant
        .and_then(|d| objects::dict(doc, d, b"CIDSystemInfo"))
        .and_then(|info| {
            let text = |key: &[u8]| match objects::get(doc, info, key) {
                Some(Object::String(s, _)) => Some(s.clone()),
                Some(Object::Name(n)) => Some(n.clone()),
                _ => None,
            };
            Collection::from_system_info(&text(b"Registry")?, &text(b"Ordering")?)
        });
    let vertical = vertical.then(|| {
        descendant
            .and_then(|d| objects::array(doc, d, b"DW2"))
            .and_then(|a| a.get(1))
            .and_then(|o| objects::number(doc, o))
            .map(|w1y| -w1y / 1000.0)
            .filter(|a| a.is_finite() && *a > 0.05 && *a < 10.0)
            .unwrap_or(1.0)
    });
    if let Some(cid_font) = descendant {
        if let Some(dw) = objects::number_at(doc, cid_font, b"DW") {
            widths.default = dw;
        }
        if let Some(w) = objects::array(doc, cid_font, b"W") {
            let mut i = 0;
            while i + 1 < w.len() && widths.runs.len() < MAX_WIDTH_RUNS {
                let Some(first) = objects::number(doc, &w[i]) else {
                    break;
                };
                let first = first.max(0.0) as u32;
                match objects::resolve(doc, &w[i + 1]) {
                    Some(Object::Array(list)) => {
                        for (k, item) in list.iter().enumerate().take(MAX_WIDTH_RUNS) {
                            if let Some(width) = objects::number(doc, item) {
                                let cid = first.saturating_add(k as u32);
                                widths.runs.push((cid, cid, width));
                            }
                        }
                        i += 2;
                    }
                    Some(_) if i + 2 < w.len() => {
                        let last = objects::number(doc, &w[i + 1]).unwrap_or(0.0).max(0.0) as u32;
                        let width = objects::number(doc, &w[i + 2]).unwrap_or(widths.default);
                        if last >= first {
                            widths.runs.push((first, last, width));
                        }
                        i += 3;
                    }
                    _ => break,
                }
            }
            widths.runs.sort_by_key(|r| r.0);
            widths.runs.dedup_by_key(|r| r.0);
        }
    }
    Kind::Composite {
        encoding,
        widths,
        collection,
        vertical,
    }
}

/// The text of each one-byte code from the font's encoding.
fn simple_codes(
    doc: &Document,
    dict: &Dictionary,
    budget: &Budget<'_>,
    has_to_unicode: bool,
) -> Box<[Option<Box<str>>]> {
    let base_font = objects::name(doc, dict, b"BaseFont").unwrap_or_default();
    let base_name = String::from_utf8_lossy(base_font);
    // Subset prefix "ABCDEF+Name".
    let plain_name = base_name.split_once('+').map_or(&*base_name, |(_, n)| n);
    let descriptor = objects::dict(doc, dict, b"FontDescriptor");
    let symbolic = descriptor
        .and_then(|d| objects::number_at(doc, d, b"Flags"))
        .is_some_and(|f| (f as u32) & 4 != 0);
    let is_symbol_font = plain_name.starts_with("Symbol");
    let is_truetype = objects::name(doc, dict, b"Subtype") == Some(b"TrueType");

    let (base, differences) = match objects::get(doc, dict, b"Encoding") {
        Some(Object::Name(name)) => (BaseEncoding::from_name(name), None),
        Some(Object::Dictionary(enc)) => (
            objects::name(doc, enc, b"BaseEncoding").and_then(BaseEncoding::from_name),
            objects::array(doc, enc, b"Differences"),
        ),
        _ => (None, None),
    };
    let mut codes: Vec<Option<Box<str>>> = vec![None; 256];
    // A symbolic subset font with a ToUnicode map and no /Encoding numbers
    // its glyphs itself (shaped forms of complex scripts): a code the map
    // leaves out is a glyph without text, not a Latin letter (as poppler).
    if has_to_unicode
        && symbolic
        && base.is_none()
        && differences.is_none()
        && base_name.contains('+')
    {
        return codes.into_boxed_slice();
    }
    let builtin = if base.is_none() && !is_truetype {
        descriptor.and_then(|d| builtin_encoding(doc, d, budget))
    } else {
        None
    };
    let fallback = if is_symbol_font {
        BaseEncoding::Symbol
    } else if is_truetype || symbolic {
        BaseEncoding::WinAnsi
    } else {
        BaseEncoding::Standard
    };
    for (code, slot) in codes.iter_mut().enumerate() {
        let from_builtin = builtin
            .as_ref()
            .and_then(|b| b[code].as_deref())
            .and_then(glyph_to_unicode);
        *slot = from_builtin
            .or_else(|| {
                base.unwrap_or(fallback)
                    .char(code as u8)
                    .map(|c| c.to_string())
            })
            .or_else(|| {
                // Symbolic TrueType fonts often use the code as the character.
                (is_truetype && symbolic && code >= 32)
                    .then(|| char::from_u32(code as u32).map(String::from))
                    .flatten()
            })
            .map(String::into_boxed_str);
    }
    if let Some(diff) = differences {
        let mut code: usize = 0;
        for item in diff {
            match objects::resolve(doc, item) {
                Some(Object::Integer(i)) => code = (*i).clamp(0, 256) as usize,
                Some(Object::Name(name)) => {
                    if code < 256 {
                        let name = String::from_utf8_lossy(name);
                        codes[code] = glyph_to_unicode(&name).map(String::into_boxed_str);
                    }
                    code += 1;
                }
                _ => {}
            }
        }
    }
    codes.into_boxed_slice()
}

/// Glyph names by code from the `/Encoding` of an embedded Type 1 program
/// (`dup 65 /A put`), when it has its own encoding.
fn builtin_encoding(
    doc: &Document,
    descriptor: &Dictionary,
    budget: &Budget<'_>,
) -> Option<Vec<Option<String>>> {
    let Some(Object::Stream(stream)) = objects::get(doc, descriptor, b"FontFile") else {
        return None;
    };
    let data = budget.decode(stream).ok()?;
    let clear_len = stream
        .dict
        .get(b"Length1")
        .ok()
        .and_then(|o| objects::number(doc, o))
        .map_or(data.len(), |l| (l.max(0.0) as usize).min(data.len()));
    let clear = &data[..clear_len.min(1 << 20)];
    let start = find(clear, b"/Encoding")?;
    let rest = &clear[start..];
    if rest
        .get(9..)
        .is_some_and(|r| r.trim_ascii_start().starts_with(b"StandardEncoding"))
    {
        return None;
    }
    let end = find(rest, b"readonly def")
        .or_else(|| find(rest, b"currentfile"))
        .unwrap_or(rest.len());
    let mut names = vec![None; 256];
    let text = String::from_utf8_lossy(&rest[..end]);
    let mut words = text.split_ascii_whitespace();
    while let Some(word) = words.next() {
        if word != "dup" {
            continue;
        }
        let (Some(code), Some(name)) = (words.next(), words.next()) else {
            break;
        };
        if let (Ok(code), Some(name)) = (code.parse::<usize>(), name.strip_prefix('/'))
            && code < 256
        {
            names[code] = Some(name.to_owned());
        }
    }
    Some(names)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Advance widths by code (glyph units), from /Widths or, for the standard
/// fonts, from built-in metrics.
fn simple_widths(
    doc: &Document,
    dict: &Dictionary,
    codes: &[Option<Box<str>>],
    scale: f32,
) -> Box<[f32]> {
    let descriptor = objects::dict(doc, dict, b"FontDescriptor");
    let missing = descriptor
        .and_then(|d| objects::number_at(doc, d, b"MissingWidth"))
        .unwrap_or(0.0);
    let mut widths = vec![missing; 256];
    if let Some(list) = objects::array(doc, dict, b"Widths") {
        let first = objects::number_at(doc, dict, b"FirstChar")
            .unwrap_or(0.0)
            .max(0.0) as usize;
        for (i, w) in list.iter().enumerate() {
            if let (Some(slot), Some(w)) = (widths.get_mut(first + i), objects::number(doc, w)) {
                *slot = w;
            }
        }
        return widths.into_boxed_slice();
    }
    let base = String::from_utf8_lossy(objects::name(doc, dict, b"BaseFont").unwrap_or_default())
        .to_ascii_lowercase();
    let bold = base.contains("bold") || base.contains("black") || base.contains("heavy");
    let table = if base.contains("courier") || base.contains("mono") {
        None
    } else if base.contains("times")
        || base.contains("roman")
        || base.contains("serif") && !base.contains("sans")
    {
        Some(if bold {
            &tables::TIMES_BOLD_WIDTHS
        } else {
            &tables::TIMES_WIDTHS
        })
    } else {
        Some(if bold {
            &tables::HELVETICA_BOLD_WIDTHS
        } else {
            &tables::HELVETICA_WIDTHS
        })
    };
    // Type 3 glyph units are not thousandths; without /Widths guess an em.
    let em = if (scale - 0.001).abs() > f32::EPSILON {
        1.0 / scale.max(1e-6)
    } else {
        1000.0
    };
    for (code, slot) in widths.iter_mut().enumerate() {
        let c = codes[code].as_deref().and_then(|t| t.chars().next());
        *slot = match (table, c) {
            (None, _) => em * 0.6,
            (Some(t), Some(c)) if (0x20..0x100).contains(&(c as u32)) => {
                match t[c as usize - 0x20] {
                    0 => em * 0.5,
                    w => f32::from(w) * em / 1000.0,
                }
            }
            _ => em * 0.5,
        };
    }
    widths.into_boxed_slice()
}

//! Bounded access to lopdf objects: reference chains are followed a fixed
//! number of hops (a reference loop ends as "absent"), streams decompress
//! under a byte budget.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use crate::ParseOptions;

/// Hops followed along a chain of references.
const MAX_HOPS: usize = 16;

/// Follows references from `object`; `None` for dangling or looping ones.
pub(super) fn resolve<'a>(doc: &'a Document, mut object: &'a Object) -> Option<&'a Object> {
    for _ in 0..MAX_HOPS {
        match object {
            Object::Reference(id) => object = doc.objects.get(id)?,
            other => return Some(other),
        }
    }
    None
}

/// The object `id`, resolved.
pub(super) fn object(doc: &Document, id: ObjectId) -> Option<&Object> {
    resolve(doc, doc.objects.get(&id)?)
}

/// `dict[key]`, resolved.
pub(super) fn get<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    resolve(doc, dict.get(key).ok()?)
}

pub(super) fn dict<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Dictionary> {
    match get(doc, dict, key)? {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

pub(super) fn array<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    key: &[u8],
) -> Option<&'a [Object]> {
    match get(doc, dict, key)? {
        Object::Array(a) => Some(a),
        _ => None,
    }
}

pub(super) fn name<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    match get(doc, dict, key)? {
        Object::Name(n) => Some(n),
        _ => None,
    }
}

pub(super) fn number(doc: &Document, object: &Object) -> Option<f32> {
    match resolve(doc, object)? {
        Object::Integer(i) => Some(*i as f32),
        Object::Real(r) if r.is_finite() => Some(*r),
        _ => None,
    }
}

pub(super) fn number_at(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<f32> {
    number(doc, dict.get(key).ok()?)
}

/// A text string (PDFDocEncoding or UTF-16BE with BOM), trimmed; `None`
/// when absent or empty.
pub(super) fn text(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<String> {
    let object = get(doc, dict, key)?;
    let text = match object {
        Object::String(bytes, _) => decode_text(bytes),
        Object::Name(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => return None,
    };
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!text.is_empty()).then(|| text.to_owned())
}

/// Decodes a PDF text string.
pub(super) fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    bytes
        .iter()
        .filter_map(|&b| {
            super::encoding::BaseEncoding::PdfDoc
                .char(b)
                .or(Some(b as char))
        })
        .collect()
}

/// The call's memory budget ([`ParseOptions::charge`]) as seen by the PDF
/// reader: every decoded stream (content, forms, fonts, CMaps, metadata)
/// is charged to it. lopdf decodes each filter of a chain (Flate, LZW,
/// ASCIIHex, ASCII85, RunLength, predictors) under a cap that grows its
/// buffer incrementally and stops at the cap, so a bomb is never inflated
/// first and measured afterwards.
#[derive(Debug)]
pub(super) struct Budget<'a> {
    options: &'a ParseOptions,
}

impl<'a> Budget<'a> {
    pub(super) fn new(options: &'a ParseOptions) -> Self {
        Self { options }
    }

    /// The decoded content of `stream`, charged to the budget.
    pub(super) fn decode(&self, stream: &Stream) -> Result<Vec<u8>, StreamError> {
        let remaining = self.options.remaining();
        let cap = usize::try_from(remaining).unwrap_or(usize::MAX);
        let data = if stream.dict.get(b"Filter").is_ok() {
            match stream.decompressed_content_with_limit(cap) {
                Ok(data) => data,
                Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded {
                    ..
                })) => {
                    return Err(StreamError::Budget(self.limit()));
                }
                Err(e) => return Err(StreamError::Broken(e.to_string())),
            }
        } else {
            // Unfiltered: already in memory as part of the file; a copy.
            if stream.content.len() as u64 > remaining {
                return Err(StreamError::Budget(self.limit()));
            }
            stream.content.clone()
        };
        self.charge(data.len() as u64)?;
        Ok(data)
    }

    /// Charges `bytes` of kept output (glyphs, paragraphs).
    pub(super) fn charge(&self, bytes: u64) -> Result<(), StreamError> {
        self.options
            .charge(bytes, String::new)
            .map_err(|_| StreamError::Budget(self.limit()))
    }

    fn limit(&self) -> u64 {
        self.options.limits.max_expanded_bytes
    }
}

#[derive(Debug)]
pub(super) enum StreamError {
    /// The call's memory budget (its limit) is spent.
    Budget(u64),
    /// The stream could not be decoded.
    Broken(String),
}

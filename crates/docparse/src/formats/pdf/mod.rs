//! PDF: text in reading order, page breaks, metadata (Info and XMP), the
//! outline, and headings, on top of `lopdf` for the file structure
//! (xref, object streams, filters, decryption).
//!
//! Layout: [`content`] interprets content streams into positioned glyphs
//! (using [`font`], [`cmap`], [`encoding`] and, for CJK fonts without a
//! ToUnicode map, [`cjk`] to turn codes into text), [`annots`] draws
//! annotation appearances (filled-in form fields) on top, [`layout`] puts
//! the glyphs in reading order and paragraphs (right-to-left lines in
//! logical order), [`meta`] reads the document information and outline,
//! [`forms`] the AcroForm values; this module walks the pages, applies page
//! ranges and limits, and builds the [`Document`].
//!
//! Why not `pdf-extract`: it was evaluated first (it also builds on lopdf).
//! Its maintainer panics on unexpected input by policy (dozens of
//! `unwrap`/`panic!` paths reported on real files), it pins an older lopdf
//! (a second copy in the build), emits text in content-stream order without
//! a reading-order pass, and has no per-page hook for progress or
//! cancellation. A hostile-input parser cannot be built on that, so the text
//! layer is our own; lopdf still does the object parsing.
//!
//! Why not `pdf_oxide` (measured 2026-11 on 56 real PDFs against
//! pdftotext's text): median word-F1 0.986 against our 0.997, 10th
//! percentile 0.46 against 0.71, and 0.7× pdftotext's speed against our
//! 3.9×. Kept the built-in engine.
//!
//! Safety: lopdf is called inside `catch_unwind` as a last resort (it has
//! had panics on malformed files); everything we add is panic-free by
//! construction and bounded (reference hops, form depth, operator counts,
//! decompressed bytes, output characters).

mod accents;
mod annots;
mod cjk;
mod cmap;
mod content;
mod encoding;
mod font;
mod forms;
mod layout;
mod lexer;
mod meta;
mod objects;
mod tables;

use std::{
    collections::HashMap,
    panic::{AssertUnwindSafe, catch_unwind},
};

use lopdf::{Dictionary, Object, ObjectId};

use crate::{
    DocError, Document, ParseOptions,
    model::{Block, OutlineEntry, Span, Table},
};
use content::{FontCache, Interpreter};
use layout::Paragraph;
use objects::{Budget, StreamError};

/// Per-stream decompression bound handed to lopdf for the streams it
/// decodes while loading (object and xref streams).
const LOAD_STREAM_LIMIT: u64 = 32 << 20;
/// Bytes a kept line costs beyond its text (the `String`, its paragraph
/// and, later, its block), charged to the memory budget.
const KEPT_LINE_OVERHEAD: usize = 48;
/// Levels of /Parent followed when inheriting page resources.
const MAX_PARENT_HOPS: usize = 32;

/// Parses a PDF.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    let limits = &options.limits;
    let load_options = || lopdf::LoadOptions {
        max_decompressed_size: Some(
            usize::try_from(limits.max_expanded_bytes.min(LOAD_STREAM_LIMIT)).unwrap_or(usize::MAX),
        ),
        ..lopdf::LoadOptions::default()
    };
    // Last resort: lopdf is third-party code that has panicked on malformed
    // files in the past; a panic there must become an error, not a crash.
    let loaded = catch_unwind(AssertUnwindSafe(|| {
        lopdf::Document::load_mem_with_options(bytes, load_options())
    }))
    .map_err(|_| {
        DocError::malformed(
            "PDF",
            "the file structure could not be read (the PDF reader failed)",
        )
    })?;
    let mut pdf = loaded.map_err(load_error)?;
    if pdf.is_encrypted() && !pdf.was_encrypted() && pdf.trailer.get(b"ID").is_err() {
        // The standard handler derives the key from the trailer's first
        // /ID; a writer that left /ID out means an empty one (poppler reads
        // it so). lopdf refuses before loading the objects, so the trailer
        // gets an empty /ID and the file is loaded again.
        if let Some(patched) = with_empty_id(bytes)
            && let Ok(Ok(again)) = catch_unwind(AssertUnwindSafe(|| {
                lopdf::Document::load_mem_with_options(&patched, load_options())
            }))
        {
            pdf = again;
        }
    }
    if pdf.is_encrypted() && !pdf.was_encrypted() {
        return Err(DocError::Encrypted(
            "the PDF is encrypted with a password; decrypt it first (e.g. `qpdf --decrypt --password=... in.pdf out.pdf`) and parse the copy".into(),
        ));
    }
    let result = catch_unwind(AssertUnwindSafe(|| extract(&pdf, options)));
    result.unwrap_or_else(|_| {
        Err(DocError::malformed(
            "PDF",
            "the document could not be read (internal failure)",
        ))
    })
}

/// The file with `/ID [<> <>]` added to its last classic trailer, when that
/// trailer has /Encrypt and no /ID. The bytes go in after the cross-reference
/// table, so no object's offset moves.
fn with_empty_id(bytes: &[u8]) -> Option<Vec<u8>> {
    let find_last = |needle: &[u8]| bytes.windows(needle.len()).rposition(|w| w == needle);
    let trailer = find_last(b"trailer")?;
    let startxref = find_last(b"startxref").filter(|&s| s > trailer)?;
    let dict = &bytes[trailer..startxref];
    let contains = |needle: &[u8]| dict.windows(needle.len()).any(|w| w == needle);
    if !contains(b"/Encrypt") || contains(b"/ID") {
        return None;
    }
    let open = trailer + dict.windows(2).position(|w| w == b"<<")? + 2;
    let mut patched = Vec::with_capacity(bytes.len() + 16);
    patched.extend_from_slice(&bytes[..open]);
    patched.extend_from_slice(b"/ID [<> <>] ");
    patched.extend_from_slice(&bytes[open..]);
    Some(patched)
}

fn load_error(error: lopdf::Error) -> DocError {
    match error {
        lopdf::Error::InvalidPassword => DocError::Encrypted(
            "the PDF is encrypted with a password; decrypt it first and parse the copy".into(),
        ),
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit }) => {
            DocError::Limit(format!(
                "a PDF stream decompresses to more than {limit} bytes (possible decompression bomb)"
            ))
        }
        other => DocError::malformed("PDF", format!("not a readable PDF: {other}")),
    }
}

fn extract(pdf: &lopdf::Document, options: &ParseOptions) -> Result<Document, DocError> {
    let limits = &options.limits;
    let pages = pdf.get_pages();
    let total = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    if total == 0 {
        return Err(DocError::malformed("PDF", "the document has no pages"));
    }
    let (first, last) = match options.pages {
        Some(range) => {
            if range.first > total || range.first == 0 || range.last < range.first {
                return Err(DocError::Limit(format!(
                    "page range {}-{} is outside the document, which has {total} pages",
                    range.first, range.last
                )));
            }
            (range.first, range.last.min(total))
        }
        None => (1, total),
    };
    let selected = last - first + 1;
    if selected > limits.max_pages {
        return Err(DocError::Limit(format!(
            "{selected} pages would be parsed; the limit is {}; ask for a page range",
            limits.max_pages
        )));
    }

    let budget = Budget::new(options);
    let mut doc = Document::default();
    doc.metadata.pages = Some(total);
    meta::metadata(pdf, &budget, &mut doc.metadata);
    if pdf.was_encrypted() {
        doc.metadata
            .extra
            .insert("encrypted".into(), "yes (empty user password)".into());
    }
    let page_numbers: HashMap<ObjectId, u32> = pages.iter().map(|(n, id)| (*id, *n)).collect();
    doc.outline = meta::outline(pdf, &page_numbers);

    let mut fonts = FontCache::default();
    let mut chars_out = 0usize;
    let mut page_paragraphs: Vec<(u32, Vec<Paragraph>)> = Vec::new();
    for (done, (&number, &page_id)) in pages.range(first..=last).enumerate() {
        options.checkpoint(done as u32, selected)?;
        let page = read_page(pdf, page_id, &budget, &mut fonts).map_err(|e| match e {
            StreamError::Budget(limit) => {
                crate::budget_error(limit, &format!("decoding the PDF's streams, page {number}"))
            }
            StreamError::Broken(reason) => {
                DocError::malformed("PDF", format!("page {number}: {reason}"))
            }
        })?;
        for problem in &page.problems {
            doc.warnings.push(format!("page {number}: {problem}"));
        }
        if page.chars.is_empty() && page.images > 0 {
            doc.warnings.push(format!(
                "page {number} has images but no text layer: it is probably scanned; enable OCR (tesseract)"
            ));
        }
        // Dropped text is reported unless it is a stray glyph or two in a
        // long page (a decorative symbol a font leaves unnamed).
        if page.unmapped > 0 && (page.unmapped * 50 > page.chars.len() || page.unmapped >= 20) {
            doc.warnings.push(format!(
                "page {number}: {} glyphs have no Unicode mapping (a font without ToUnicode); their text is missing",
                page.unmapped
            ));
        }
        let paragraphs = layout::paragraphs(&page);
        drop(page);
        let kept: usize = paragraphs
            .iter()
            .flat_map(|p| &p.lines)
            .map(|l| l.len() + KEPT_LINE_OVERHEAD)
            .sum();
        options.charge(kept as u64, || format!("the text of page {number}"))?;
        chars_out += paragraphs
            .iter()
            .flat_map(|p| &p.lines)
            .map(|l| l.chars().count() + 1)
            .sum::<usize>();
        if chars_out > limits.max_output_chars {
            return Err(DocError::Limit(format!(
                "the text has more than {} characters (reached on page {number}); ask for a page range",
                limits.max_output_chars
            )));
        }
        page_paragraphs.push((number, paragraphs));
    }
    options.checkpoint(selected, selected)?;
    doc.blocks = blocks(page_paragraphs, &doc.outline);
    let whole = options.pages.is_none();
    let fields: Vec<forms::FieldValue> = forms::values(pdf, &pages)
        .into_iter()
        .filter(|f| whole || f.page.is_some_and(|p| (first..=last).contains(&p)))
        .collect();
    if !fields.is_empty() {
        chars_out += fields
            .iter()
            .map(|f| f.name.chars().count() + f.value.chars().count() + 2)
            .sum::<usize>();
        if chars_out > limits.max_output_chars {
            return Err(DocError::Limit(format!(
                "the text and form fields have more than {} characters; ask for a page range",
                limits.max_output_chars
            )));
        }
        let mut rows = vec![vec!["Field".to_owned(), "Value".to_owned()]];
        rows.extend(fields.into_iter().map(|f| vec![f.name, f.value]));
        doc.blocks.push(Block::heading(2, FORM_FIELDS));
        doc.blocks.push(Block::Table(Table {
            name: Some(FORM_FIELDS.into()),
            header: true,
            rows,
            page: None,
        }));
    }
    Ok(doc)
}

/// The title of the section that lists filled-in form fields.
const FORM_FIELDS: &str = "Form fields";
/// Runs a page's content streams.
fn read_page(
    pdf: &lopdf::Document,
    page_id: ObjectId,
    budget: &Budget<'_>,
    fonts: &mut FontCache,
) -> Result<content::PageContent, StreamError> {
    let Some(Object::Dictionary(page)) = objects::object(pdf, page_id) else {
        return Ok(content::PageContent::default());
    };
    let mut data: Vec<u8> = Vec::new();
    let mut problems = Vec::new();
    let streams: Vec<&Object> = match page.get(b"Contents") {
        Ok(Object::Array(items)) => items.iter().collect(),
        Ok(other) => match objects::resolve(pdf, other) {
            Some(Object::Array(items)) => items.iter().collect(),
            Some(_) => vec![other],
            None => Vec::new(),
        },
        Err(_) => Vec::new(),
    };
    for stream in streams {
        if let Some(Object::Stream(stream)) = objects::resolve(pdf, stream) {
            match budget.decode(stream) {
                // The first stream is kept as it is, not copied (a page is
                // usually one stream, and a big one must not exist twice).
                Ok(mut bytes) if data.is_empty() => {
                    bytes.push(b'\n');
                    data = bytes;
                }
                Ok(bytes) => {
                    budget.charge(bytes.len() as u64)?;
                    data.extend_from_slice(&bytes);
                    data.push(b'\n');
                }
                Err(StreamError::Broken(reason)) => {
                    problems.push(format!("a content stream could not be decoded: {reason}"))
                }
                Err(e) => return Err(e),
            }
        }
    }
    let resources = inherited(pdf, page, b"Resources");
    let mut content = Interpreter::new(pdf, budget, fonts)
        .with_page_box(page_box(pdf, page))
        .run_page(&data, resources, &annots::appearances(pdf, page))?;
    content.problems.extend(problems);
    Ok(content)
}

/// The visible area of a page: its CropBox (else MediaBox), inherited from
/// the page tree, as `[x0, y0, x1, y1]`.
fn page_box(pdf: &lopdf::Document, page: &Dictionary) -> Option<[f32; 4]> {
    let read = |key: &[u8]| {
        let mut node = page;
        for _ in 0..MAX_PARENT_HOPS {
            if let Some(a) = objects::array(pdf, node, key)
                && a.len() == 4
            {
                let v: Vec<f32> = a.iter().filter_map(|o| objects::number(pdf, o)).collect();
                if v.len() == 4 && v.iter().all(|x| x.is_finite()) {
                    return Some([
                        v[0].min(v[2]),
                        v[1].min(v[3]),
                        v[0].max(v[2]),
                        v[1].max(v[3]),
                    ]);
                }
            }
            node = objects::dict(pdf, node, b"Parent")?;
        }
        None
    };
    let media = read(b"MediaBox");
    match (read(b"CropBox"), media) {
        (Some(c), Some(m)) => {
            let clipped = [
                c[0].max(m[0]),
                c[1].max(m[1]),
                c[2].min(m[2]),
                c[3].min(m[3]),
            ];
            (clipped[0] < clipped[2] && clipped[1] < clipped[3]).then_some(clipped)
        }
        (crop, media) => crop.or(media),
    }
    .filter(|b| b[2] - b[0] > 0.0 && b[3] - b[1] > 0.0)
}

/// A page attribute, inherited from the page tree when absent.
fn inherited<'a>(
    pdf: &'a lopdf::Document,
    page: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Dictionary> {
    let mut node = page;
    for _ in 0..MAX_PARENT_HOPS {
        if let Some(d) = objects::dict(pdf, node, key) {
            return Some(d);
        }
        node = objects::dict(pdf, node, b"Parent")?;
    }
    None
}

/// Blocks for all pages: page breaks, headings (outline titles found on
/// their page, or lines set clearly larger than the body text) and
/// paragraphs.
fn blocks(pages: Vec<(u32, Vec<Paragraph>)>, outline: &[OutlineEntry]) -> Vec<Block> {
    let body = body_size(&pages);
    let mut heading_sizes: Vec<f32> = pages
        .iter()
        .flat_map(|(_, ps)| ps)
        .filter(|p| is_size_heading(p, body))
        .map(|p| (p.size * 2.0).round() / 2.0)
        .collect();
    heading_sizes.sort_by(|a, b| b.total_cmp(a));
    heading_sizes.dedup();
    let mut titles: HashMap<(u32, String), u8> = HashMap::new();
    for entry in outline {
        if let Some(page) = entry.page {
            titles
                .entry((page, squash(&entry.title)))
                .or_insert(entry.level);
        }
    }
    let mut out = Vec::new();
    for (number, paragraphs) in pages {
        out.push(Block::PageBreak { number });
        for p in paragraphs {
            let text = p.lines.join("\n");
            let level = titles
                .get(&(number, squash(&text)))
                .or_else(|| titles.get(&(number, squash(strip_section_number(&text)))));
            if let Some(&level) = level {
                out.push(Block::heading(level, p.lines.join(" ")));
            } else if is_size_heading(&p, body) {
                let rounded = (p.size * 2.0).round() / 2.0;
                let rank = heading_sizes
                    .iter()
                    .position(|s| *s == rounded)
                    .unwrap_or(0);
                out.push(Block::heading((rank + 1).min(6) as u8, p.lines.join(" ")));
            } else {
                out.push(Block::Paragraph(vec![Span::plain(text)]));
            }
        }
    }
    out
}

/// Text without a leading section number ("2.1 ", "A.3. ", "IV. "), which
/// outline titles often leave out.
fn strip_section_number(text: &str) -> &str {
    let trimmed = text.trim_start();
    let end = trimmed
        .find(|c: char| c.is_whitespace())
        .unwrap_or(trimmed.len());
    let number = &trimmed[..end];
    let numeric = number.chars().any(|c| c.is_ascii_digit())
        && number
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c.is_ascii_uppercase());
    let lettered = number.len() <= 5
        && number.ends_with('.')
        && number.chars().all(|c| c == '.' || c.is_ascii_uppercase());
    let is_number = (numeric && number.len() <= 12) || lettered;
    if is_number && end < trimmed.len() {
        trimmed[end..].trim_start()
    } else {
        text
    }
}

fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The most common text size, weighted by characters.
fn body_size(pages: &[(u32, Vec<Paragraph>)]) -> f32 {
    let mut weights: HashMap<u32, usize> = HashMap::new();
    for p in pages.iter().flat_map(|(_, ps)| ps) {
        let chars: usize = p.lines.iter().map(String::len).sum();
        *weights.entry((p.size * 2.0).round() as u32).or_default() += chars;
    }
    weights
        .into_iter()
        .max_by_key(|&(size, w)| (w, size))
        .map_or(10.0, |(s, _)| s as f32 / 2.0)
}

fn is_size_heading(p: &Paragraph, body: f32) -> bool {
    let chars: usize = p.lines.iter().map(|l| l.chars().count()).sum();
    p.size >= body * 1.2
        && p.lines.len() <= 3
        && (2..=150).contains(&chars)
        && p.lines.iter().any(|l| l.chars().any(char::is_alphabetic))
}

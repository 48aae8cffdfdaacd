//! Plain text, with encoding detection: a BOM wins, then valid UTF-8, then
//! `chardetng`'s guess (the detector Firefox uses) decoded by `encoding_rs`.

use crate::{
    DocError, Document, ParseOptions,
    model::{Block, Span},
};

/// Decodes `bytes` to text; returns the text and the encoding's name.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return (text.into_owned(), encoding.name());
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_owned(), "UTF-8");
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _, _) = encoding.decode(bytes);
    (text.into_owned(), encoding.name())
}

/// Text with Windows and old-Mac line ends made `\n`, NULs dropped.
pub fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\0', "")
}

/// Plain text: paragraphs are separated by blank lines; line breaks inside
/// a paragraph are kept.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    let (text, encoding) = decode(bytes);
    // The decoded and the normalised copy.
    options.charge(2 * text.len() as u64, || "the decoded text".to_owned())?;
    if text.chars().count() > options.limits.max_output_chars {
        return Err(DocError::Limit(format!(
            "the text has more than {} characters",
            options.limits.max_output_chars
        )));
    }
    let text = normalize_newlines(&text);
    let mut doc = Document::default();
    doc.metadata
        .extra
        .insert("encoding".into(), encoding.into());
    let mut paragraph: Vec<&str> = Vec::new();
    // Each paragraph is charged to the memory budget before it is kept
    // (a block costs ~100 bytes, so "a\n\n" repeated expands 30-fold).
    let flush = |paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>| -> Result<(), DocError> {
        if !paragraph.is_empty() {
            let text = paragraph.join("\n");
            options.charge(
                (text.len() + std::mem::size_of::<Block>() + std::mem::size_of::<Span>() + 32)
                    as u64,
                || format!("paragraph {} of the text", blocks.len() + 1),
            )?;
            blocks.push(Block::Paragraph(vec![Span::plain(text)]));
            paragraph.clear();
        }
        Ok(())
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut paragraph, &mut doc.blocks)?;
        } else {
            paragraph.push(line.trim_end());
        }
    }
    flush(&mut paragraph, &mut doc.blocks)?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_boms_utf8_and_legacy_encodings() {
        assert_eq!(decode("héllo".as_bytes()).0, "héllo");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("hé".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16), ("hé".to_owned(), "UTF-16LE"));
        // windows-1252 "café crème", not valid UTF-8.
        let latin = b"caf\xe9 cr\xe8me et na\xefvet\xe9 du fran\xe7ais";
        let (text, encoding) = decode(latin);
        assert_eq!(text, "café crème et naïveté du français");
        assert_eq!(encoding, "windows-1252");
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        let doc = parse(b"one\r\ntwo\r\n\r\n\r\nthree\n", &ParseOptions::default()).expect("parse");
        assert_eq!(
            doc.blocks,
            vec![Block::text("one\ntwo"), Block::text("three")]
        );
    }
}

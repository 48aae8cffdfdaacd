//! Hostile and large documents built on the fly for resource tests and
//! benchmarks (the end-to-end suite sends them to the real binary). They
//! live here because this crate already links a ZIP writer and knows the
//! formats; the server never calls them.

use std::io::{Cursor, Write};

use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

const OD: &str = "application/vnd.openxmlformats-officedocument";
const P_NS: &str = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main""#;
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// An EPUB of `chapters` spine items, each a member of `chapter_bytes`
/// bytes of repeated `<p>a</p>` (compressed once, copied raw).
pub fn epub_bomb(chapters: usize, chapter_bytes: usize) -> Vec<u8> {
    let mut body = String::with_capacity(chapter_bytes + 128);
    body.push_str("<html xmlns=\"http://www.w3.org/1999/xhtml\"><body>");
    while body.len() + 8 < chapter_bytes {
        body.push_str("<p>a</p>");
    }
    body.push_str("</body></html>");
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let best = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9));
    writer.start_file("c", best).expect("in-memory zip");
    writer.write_all(body.as_bytes()).expect("in-memory zip");
    let chapter = writer.finish().expect("in-memory zip").into_inner();
    let mut manifest = String::new();
    let mut spine = String::new();
    for i in 0..chapters {
        manifest +=
            &format!(r#"<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>"#);
        spine += &format!(r#"<itemref idref="c{i}"/>"#);
    }
    let opf = format!(
        r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Bomb</dc:title></metadata><manifest>{manifest}</manifest><spine>{spine}</spine></package>"#
    );
    let container = r#"<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, content, options) in [
        ("mimetype", "application/epub+zip", stored),
        ("META-INF/container.xml", container, deflated),
        ("OEBPS/content.opf", opf.as_str(), deflated),
    ] {
        writer.start_file(name, options).expect("in-memory zip");
        writer.write_all(content.as_bytes()).expect("in-memory zip");
    }
    let mut source = zip::ZipArchive::new(Cursor::new(chapter)).expect("own zip");
    for i in 0..chapters {
        let file = source.by_index_raw(0).expect("own zip");
        writer
            .raw_copy_file_rename(file, format!("OEBPS/c{i}.xhtml"))
            .expect("in-memory zip");
    }
    writer.finish().expect("in-memory zip").into_inner()
}

/// A one-page PDF whose content stream is `zeros` zero bytes, Flate
/// compressed at deflate's best ratio (about 1032:1).
pub fn pdf_flate_bomb(zeros: u64) -> Vec<u8> {
    let stream = zlib_zeros(zeros);
    pdf(
        &[
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".into(),
        ],
        &[(
            format!("<< /Filter /FlateDecode /Length {} >>", stream.len()),
            stream,
        )],
    )
}

/// A PDF of `pages` pages of `lines` lines of text each (Helvetica).
pub fn pdf_pages(pages: usize, lines: usize) -> Vec<u8> {
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        String::new(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut streams = Vec::new();
    let mut kids = Vec::new();
    let first_page = 4;
    let first_stream = first_page + pages;
    for page in 0..pages {
        kids.push(format!("{} 0 R", first_page + page));
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            first_stream + page
        ));
        let mut content = String::from("BT /F1 10 Tf 12 TL 56 760 Td\n");
        for line in 0..lines {
            content += &format!(
                "(Page {} line {line}: the quick brown fox jumps over the lazy dog again.) '\n",
                page + 1
            );
        }
        content += "ET";
        streams.push((
            format!("<< /Length {} >>", content.len()),
            content.into_bytes(),
        ));
    }
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {pages} >>",
        kids.join(" ")
    );
    pdf(&objects, &streams)
}

/// An XLSX whose one shared string (`string_bytes` long) is referenced by
/// `rows` x `columns` cells.
pub fn xlsx_shared_strings_bomb(string_bytes: usize, rows: usize, columns: usize) -> Vec<u8> {
    let sst = format!(
        r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{}</t></si></sst>"#,
        "a".repeat(string_bytes)
    );
    let mut sheet = String::from(
        r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for row in 1..=rows {
        sheet += &format!(r#"<row r="{row}">"#);
        for col in 0..columns {
            sheet += &format!(r#"<c r="{}{row}" t="s"><v>0</v></c>"#, column_name(col));
        }
        sheet += "</row>";
    }
    sheet += "</sheetData></worksheet>";
    let workbook = format!(
        r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{REL}"><sheets><sheet name="Bomb" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let workbook_rels = format!(
        r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
    );
    let types = content_types(&[
        (
            "/xl/workbook.xml",
            format!("{OD}.spreadsheetml.sheet.main+xml"),
        ),
        (
            "/xl/worksheets/sheet1.xml",
            format!("{OD}.spreadsheetml.worksheet+xml"),
        ),
        (
            "/xl/sharedStrings.xml",
            format!("{OD}.spreadsheetml.sharedStrings+xml"),
        ),
    ]);
    zip_of(
        &[
            ("[Content_Types].xml", types.as_bytes()),
            ("_rels/.rels", root_rels("xl/workbook.xml").as_bytes()),
            ("xl/workbook.xml", workbook.as_bytes()),
            ("xl/_rels/workbook.xml.rels", workbook_rels.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
            ("xl/sharedStrings.xml", sst.as_bytes()),
        ],
        CompressionMethod::Deflated,
    )
}

/// A PPTX of `slides` slides, each a title and one line of text.
pub fn pptx_slides(slides: usize) -> Vec<u8> {
    let mut ids = String::new();
    let mut rels = String::new();
    let mut overrides = vec![(
        "/ppt/presentation.xml".to_owned(),
        format!("{OD}.presentationml.presentation.main+xml"),
    )];
    let mut parts = Vec::new();
    for i in 1..=slides {
        ids += &format!(r#"<p:sldId id="{}" r:id="rId{i}"/>"#, 255 + i);
        rels += &format!(
            r#"<Relationship Id="rId{i}" Type="{REL}/slide" Target="slides/slide{i}.xml"/>"#
        );
        overrides.push((
            format!("/ppt/slides/slide{i}.xml"),
            format!("{OD}.presentationml.slide+xml"),
        ));
        parts.push((
            format!("ppt/slides/slide{i}.xml"),
            format!(
                r#"<?xml version="1.0"?><p:sld {P_NS}><p:cSld><p:spTree><p:sp><p:nvSpPr><p:cNvPr id="2" name="Title"/><p:cNvSpPr/><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>Slide {i}</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:nvSpPr><p:cNvPr id="3" name="Text"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr><p:txBody><a:p><a:r><a:t>Some words on slide {i}.</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
            ),
        ));
    }
    let presentation = format!(
        r#"<?xml version="1.0"?><p:presentation {P_NS}><p:sldIdLst>{ids}</p:sldIdLst></p:presentation>"#
    );
    let pres_rels = format!(
        r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>"#
    );
    let overrides: Vec<(&str, String)> = overrides
        .iter()
        .map(|(n, k)| (n.as_str(), k.clone()))
        .collect();
    let types = content_types(&overrides);
    let root = root_rels("ppt/presentation.xml");
    let mut members: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", types.as_bytes()),
        ("_rels/.rels", root.as_bytes()),
        ("ppt/presentation.xml", presentation.as_bytes()),
        ("ppt/_rels/presentation.xml.rels", pres_rels.as_bytes()),
    ];
    members.extend(parts.iter().map(|(n, c)| (n.as_str(), c.as_bytes())));
    zip_of(&members, CompressionMethod::Deflated)
}

fn column_name(mut index: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII letters")
}

fn content_types(overrides: &[(&str, String)]) -> String {
    let mut types = String::from(
        r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>"#,
    );
    for (name, kind) in overrides {
        types += &format!(r#"<Override PartName="{name}" ContentType="{kind}"/>"#);
    }
    types + "</Types>"
}

fn root_rels(main: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="{main}"/></Relationships>"#
    )
}

fn zip_of(members: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(false);
    for (name, content) in members {
        writer.start_file(*name, options).expect("in-memory zip");
        writer.write_all(content).expect("in-memory zip");
    }
    writer.finish().expect("in-memory zip").into_inner()
}

/// A one-page PDF running `content`, with font `/F1` described by
/// `font` (a dictionary) and the streams it refers to as `6 0 R` onwards.
pub fn pdf_page(content: &[u8], font: &str, font_streams: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut streams = vec![(format!("<< /Length {} >>", content.len()), content.to_vec())];
    streams.extend_from_slice(font_streams);
    pdf(
        &[
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".into(),
            font.to_owned(),
        ],
        &streams,
    )
}

/// A DOCX whose `word/document.xml` is `document`.
pub fn docx(document: &str) -> Vec<u8> {
    let types = content_types(&[(
        "/word/document.xml",
        format!("{OD}.wordprocessingml.document.main+xml"),
    )]);
    zip_of(
        &[
            ("[Content_Types].xml", types.as_bytes()),
            ("_rels/.rels", root_rels("word/document.xml").as_bytes()),
            ("word/document.xml", document.as_bytes()),
        ],
        CompressionMethod::Deflated,
    )
}

/// A PDF from numbered objects (`1 0 obj` upwards) then streams.
fn pdf(objects: &[String], streams: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    let mut number = 0;
    for object in objects {
        number += 1;
        offsets.push(out.len());
        out.extend_from_slice(format!("{number} 0 obj\n{object}\nendobj\n").as_bytes());
    }
    for (dict, data) in streams {
        number += 1;
        offsets.push(out.len());
        out.extend_from_slice(format!("{number} 0 obj\n{dict}\nstream\n").as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\nendstream\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", number + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            number + 1
        )
        .as_bytes(),
    );
    out
}

/// A zlib stream of `n` zero bytes: one dynamic-Huffman deflate block in
/// which a 258-byte match at distance 1 costs two bits.
fn zlib_zeros(n: u64) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.push(1, 1); // BFINAL
    bits.push(2, 2); // BTYPE = dynamic
    bits.push(29, 5); // HLIT: 286 literal/length codes
    bits.push(1, 5); // HDIST: 2 distance codes
    bits.push(15, 4); // HCLEN: 19 code-length codes
    // Code-length code lengths in their transmission order
    // (16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1 15): 18 -> 1 bit,
    // 2 -> 2 bits, 1 -> 2 bits.
    for len in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0] {
        bits.push(len, 3);
    }
    // Canonical code-length codes: 18 = 0, 1 = 10, 2 = 11.
    let (one, two, repeat) = ((0b10, 2), (0b11, 2), (0b0, 1));
    let zeros = |bits: &mut Bits, mut count: u32| {
        while count > 0 {
            let run = count.min(138);
            bits.huffman(repeat);
            bits.push(run - 11, 7);
            count -= run;
        }
    };
    // Literal/length lengths: 0 -> 2, 256 -> 2, 285 -> 1; distances 1, 1.
    bits.huffman(two);
    zeros(&mut bits, 255);
    bits.huffman(two);
    zeros(&mut bits, 28);
    bits.huffman(one);
    bits.huffman(one);
    bits.huffman(one);
    // Canonical literal/length codes: 285 = 0, 0 = 10, 256 = 11.
    let (literal, end, long_match, distance) = ((0b10, 2), (0b11, 2), (0b0, 1), (0b0, 1));
    if n > 0 {
        bits.huffman(literal);
        let mut left = n - 1;
        while left >= 258 {
            bits.huffman(long_match);
            bits.huffman(distance);
            left -= 258;
        }
        for _ in 0..left {
            bits.huffman(literal);
        }
    }
    bits.huffman(end);
    let mut out = vec![0x78, 0x9C];
    out.extend(bits.finish());
    let b = (n % 65_521) as u32;
    out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
    out
}

/// A deflate bit stream (least significant bit first).
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    used: u32,
}

impl Bits {
    fn push(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.used;
        self.used += count;
        while self.used >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.used -= 8;
        }
    }

    /// A Huffman code, sent most significant bit first.
    fn huffman(&mut self, (code, len): (u32, u32)) {
        for i in (0..len).rev() {
            self.push((code >> i) & 1, 1);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zeros_stream_inflates_to_exactly_its_zeros() {
        for n in [0u64, 1, 257, 258, 259, 100_000] {
            let stream = lopdf::Stream::new(
                lopdf::dictionary! { "Filter" => "FlateDecode" },
                zlib_zeros(n),
            );
            let data = stream
                .decompressed_content_with_limit(1 << 20)
                .expect("inflates");
            assert_eq!(data.len() as u64, n);
            assert!(data.iter().all(|b| *b == 0));
        }
        assert!(zlib_zeros(10 << 20).len() < 11_000, "about 1032:1");
    }
}

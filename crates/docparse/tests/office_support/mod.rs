//! Builds Office/ODF packages from hand-written XML for the tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Cursor, Write};

use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

/// A ZIP of `(name, content)` members, deflated (ODF `mimetype` stored).
pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in members {
        let method = if *name == "mimetype" {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let options = SimpleFileOptions::default().compression_method(method);
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

pub const W_NS: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing""#;

/// An OOXML package: `[Content_Types].xml` is generated from the names.
pub fn package(members: &[(&str, &[u8])]) -> Vec<u8> {
    const OD: &str = "application/vnd.openxmlformats-officedocument";
    let kind = |name: &str| -> Option<String> {
        let file = name.rsplit('/').next().unwrap_or(name);
        let stem = file
            .trim_end_matches(".xml")
            .trim_end_matches(char::is_numeric);
        Some(match (name.split('/').next()?, stem) {
            ("word", "document") => format!("{OD}.wordprocessingml.document.main+xml"),
            ("word", "styles") => format!("{OD}.wordprocessingml.styles+xml"),
            ("word", "numbering") => format!("{OD}.wordprocessingml.numbering+xml"),
            ("word", "footnotes") => format!("{OD}.wordprocessingml.footnotes+xml"),
            ("word", "endnotes") => format!("{OD}.wordprocessingml.endnotes+xml"),
            ("xl", "workbook") => format!("{OD}.spreadsheetml.sheet.main+xml"),
            ("xl", "sheet") => format!("{OD}.spreadsheetml.worksheet+xml"),
            ("xl", "sharedStrings") => format!("{OD}.spreadsheetml.sharedStrings+xml"),
            ("xl", "styles") => format!("{OD}.spreadsheetml.styles+xml"),
            ("ppt", "presentation") => format!("{OD}.presentationml.presentation.main+xml"),
            ("ppt", "slide") => format!("{OD}.presentationml.slide+xml"),
            ("ppt", "notesSlide") => format!("{OD}.presentationml.notesSlide+xml"),
            ("docProps", "core") => {
                "application/vnd.openxmlformats-package.core-properties+xml".into()
            }
            ("docProps", "app") => format!("{OD}.extended-properties+xml"),
            _ => return None,
        })
    };
    let mut types = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>"#,
    );
    for (name, _) in members {
        if let Some(kind) = kind(name) {
            types += &format!(r#"<Override PartName="/{name}" ContentType="{kind}"/>"#);
        }
    }
    types += "</Types>";
    let mut all: Vec<(&str, &[u8])> = vec![("[Content_Types].xml", types.as_bytes())];
    all.extend_from_slice(members);
    zip_of(&all)
}

pub fn root_rels(main: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="{main}"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#
    )
}

/// A minimal DOCX whose body is `body`.
pub fn docx_with_body(body: &str) -> Vec<u8> {
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document {W_NS}><w:body>{body}<w:sectPr/></w:body></w:document>"#
    );
    package(&[
        ("_rels/.rels", root_rels("word/document.xml").as_bytes()),
        ("word/document.xml", document.as_bytes()),
    ])
}

const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="ChapterX"><w:name w:val="Chapter Fancy"/><w:basedOn w:val="Heading3Alias"/></w:style>
<w:style w:type="paragraph" w:styleId="Heading3Alias"><w:name w:val="heading 3"/></w:style>
<w:style w:type="paragraph" w:styleId="ListBullet"><w:name w:val="List Bullet"/><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="ListBullet2"><w:name w:val="List Bullet 2"/><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="IntenseQuote"><w:name w:val="Intense Quote"/></w:style>
<w:style w:type="paragraph" w:styleId="CodeBlock"><w:name w:val="Code Block"/><w:rPr><w:rFonts w:ascii="Consolas" w:hAnsi="Consolas"/></w:rPr></w:style>
<w:style w:type="character" w:styleId="Strong"><w:name w:val="Strong"/></w:style>
<w:style w:type="character" w:styleId="InlineCode"><w:name w:val="Inline Code"/></w:style>
</w:styles>"#;

const NUMBERING: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:abstractNum w:abstractNumId="10"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum>
<w:abstractNum w:abstractNumId="20"><w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/></w:lvl></w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="10"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="20"/></w:num>
</w:numbering>"#;

const FOOTNOTES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>
<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>
<w:footnote w:id="1"><w:p><w:r><w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> The footnote text.</w:t></w:r></w:p></w:footnote>
</w:footnotes>"#;

const ENDNOTES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<w:endnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:endnote w:id="1"><w:p><w:r><w:endnoteRef/></w:r><w:r><w:t xml:space="preserve"> An endnote.</w:t></w:r></w:p></w:endnote>
</w:endnotes>"#;

pub const CORE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<dc:title>Sample Document</dc:title><dc:subject>Testing</dc:subject><dc:creator>Ada Lovelace</dc:creator><cp:keywords>docx, test</cp:keywords>
<cp:lastModifiedBy>Charles Babbage</cp:lastModifiedBy>
<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-02T03:04:05Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">2024-02-03T04:05:06Z</dcterms:modified>
</cp:coreProperties>"#;

const APP: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Office Word</Application><AppVersion>16.0000</AppVersion><Pages>2</Pages><Words>42</Words></Properties>"#;

const DOC_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering" Target="numbering.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/endnotes" Target="endnotes.xml"/>
<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.com/page" TargetMode="External"/>
</Relationships>"#;

fn para(style: &str, text: &str) -> String {
    format!(r#"<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#)
}

fn list_para(num: u32, level: u32, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/></w:numPr></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#
    )
}

fn cell(text: &str, props: &str) -> String {
    format!(r#"<w:tc><w:tcPr>{props}</w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"#)
}

/// A DOCX exercising headings, lists, a table, links, notes and breaks.
pub fn sample_docx() -> Vec<u8> {
    let mut body = String::new();
    body += &para("Title", "Report Title");
    body += &para("Heading2", "Introduction");
    body += r#"<w:p><w:r><w:t xml:space="preserve">Plain text with </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>bold</w:t></w:r><w:r><w:t xml:space="preserve">, </w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t>italic</w:t></w:r><w:r><w:t xml:space="preserve"> and </w:t></w:r><w:r><w:rPr><w:rFonts w:ascii="Courier New" w:hAnsi="Courier New"/></w:rPr><w:t>code()</w:t></w:r><w:r><w:t xml:space="preserve"> runs, a </w:t></w:r><w:hyperlink r:id="rId9"><w:r><w:t>link</w:t></w:r></w:hyperlink><w:r><w:t xml:space="preserve"> and a note.</w:t></w:r><w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteReference w:id="1"/></w:r></w:p>"#;
    body += &para("ChapterX", "Custom chapter style");
    body += r#"<w:p><w:pPr><w:outlineLvl w:val="3"/></w:pPr><w:r><w:t>Outline level heading</w:t></w:r></w:p>"#;
    body += &list_para(1, 0, "bullet one");
    body += &list_para(1, 1, "nested bullet");
    body += &para("ListBullet", "bullet two");
    body += &para("ListBullet2", "styled nested bullet");
    body += &list_para(2, 0, "first step");
    body += &list_para(2, 0, "second step");
    body +=
        r#"<w:tbl><w:tblPr/><w:tblGrid><w:gridCol w:w="4000"/><w:gridCol w:w="4000"/></w:tblGrid>"#;
    body += &format!("<w:tr>{}{}</w:tr>", cell("Name", ""), cell("Value", ""));
    body += &format!(
        "<w:tr>{}</w:tr>",
        cell("merged across", r#"<w:gridSpan w:val="2"/>"#)
    );
    body += &format!(
        r#"<w:tr>{}<w:tc><w:tbl><w:tblGrid><w:gridCol w:w="2000"/><w:gridCol w:w="2000"/></w:tblGrid><w:tr>{}{}</w:tr></w:tbl><w:p/></w:tc></w:tr>"#,
        cell("a", ""),
        cell("nested x", ""),
        cell("nested y", "")
    );
    body += &format!(
        r#"<w:tr><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p><w:p><w:r><w:t>second line</w:t></w:r></w:p></w:tc>{}</w:tr>"#,
        cell("tall", r#"<w:vMerge w:val="restart"/>"#)
    );
    body += &format!(
        "<w:tr>{}{}</w:tr>",
        r#"<w:tc><w:p/></w:tc>"#,
        cell("below", "")
    );
    body += "</w:tbl>";
    body += r#"<w:p><w:r><w:t>Line one</w:t><w:br/><w:t>Line two</w:t></w:r><w:r><w:br w:type="page"/></w:r><w:r><w:t>After the page break, see endnote.</w:t><w:endnoteReference w:id="1"/></w:r></w:p>"#;
    body += &para("IntenseQuote", "Quoted words.");
    body += &para("CodeBlock", "let x = 1;");
    body += &para("CodeBlock", "let y = 2;");
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W_NS}><w:body>{body}<w:sectPr/></w:body></w:document>"#
    );
    package(&[
        ("_rels/.rels", root_rels("word/document.xml").as_bytes()),
        ("word/document.xml", document.as_bytes()),
        ("word/_rels/document.xml.rels", DOC_RELS.as_bytes()),
        ("word/styles.xml", STYLES.as_bytes()),
        ("word/numbering.xml", NUMBERING.as_bytes()),
        ("word/footnotes.xml", FOOTNOTES.as_bytes()),
        ("word/endnotes.xml", ENDNOTES.as_bytes()),
        ("docProps/core.xml", CORE.as_bytes()),
        ("docProps/app.xml", APP.as_bytes()),
    ])
}

const SST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="5" uniqueCount="5"><si><t>Name</t></si><si><t>Amount</t></si><si><t>Date</t></si><si><t>Widget</t></si><si><r><t>Gad</t></r><r><rPr><b/></rPr><t>get</t></r></si></sst>"#;

const XLSX_STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>"#;

/// A two-sheet XLSX (shared and inline strings, a date, a date-time, float
/// noise, a formula's cached value, a merged cell, booleans, an error).
pub fn sample_xlsx() -> Vec<u8> {
    let workbook = r#"<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/><sheet name="Numbers" sheetId="2" r:id="rId2"/></sheets></workbook>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;
    let sheet1 = r#"<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>
<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2"><v>3.5</v></c><c r="C2" s="1"><v>45306</v></c></row>
<row r="3"><c r="A3" t="s"><v>4</v></c><c r="B3"><v>0.30000000000000004</v></c><c r="C3" s="2"><v>45306.5</v></c></row>
<row r="4"><c r="A4" t="inlineStr"><is><t>Total</t></is></c><c r="B4"><f>SUM(B2:B3)</f><v>3.8</v></c></row>
<row r="5"><c r="A5" t="str"><v>merged</v></c><c r="B5"/></row>
<row r="9"><c r="A9" s="1"/><c r="E9" s="1"/></row>
</sheetData><mergeCells count="1"><mergeCell ref="A5:B5"/></mergeCells></worksheet>"#;
    let sheet2 = r#"<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="2"><c r="B2"><v>1</v></c><c r="C2"><v>2</v></c></row>
<row r="3"><c r="B3" t="b"><v>1</v></c><c r="C3" t="e"><v>#DIV/0!</v></c></row>
</sheetData></worksheet>"#;
    package(&[
        ("_rels/.rels", root_rels("xl/workbook.xml").as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet1.as_bytes()),
        ("xl/worksheets/sheet2.xml", sheet2.as_bytes()),
        ("xl/sharedStrings.xml", SST.as_bytes()),
        ("xl/styles.xml", XLSX_STYLES.as_bytes()),
        ("docProps/core.xml", CORE.as_bytes()),
    ])
}

/// An XLSX whose one sheet has `rows` x `cols` numeric cells.
pub fn big_xlsx(rows: usize, cols: usize) -> Vec<u8> {
    let mut data = String::new();
    for r in 1..=rows {
        data += &format!("<row r=\"{r}\">");
        for c in 0..cols {
            data += &format!(
                "<c r=\"{}{r}\"><v>{}</v></c>",
                (b'A' + c as u8) as char,
                r * 10 + c
            );
        }
        data += "</row>";
    }
    let sheet = format!(
        r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{data}</sheetData></worksheet>"#
    );
    let workbook = r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Big" sheetId="1" r:id="rId1"/><sheet name="After" sheetId="2" r:id="rId2"/></sheets></workbook>"#;
    let rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    package(&[
        ("_rels/.rels", root_rels("xl/workbook.xml").as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ])
}

/// An ODS with a header row, a float, a date and LibreOffice's trailing
/// formatted-but-empty repeats; `extra_row` is spliced in before them.
pub fn sample_ods(extra_row: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>
<table:table table:name="Inventory">
<table:table-row><table:table-cell office:value-type="string"><text:p>Item</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Count</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>Apples</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="12.25"><text:p>12.25</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="date" office:date-value="2024-03-01"><text:p>03/01/24</text:p></table:table-cell><table:table-cell table:number-columns-repeated="3"/></table:table-row>
{extra_row}
<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let meta = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>Stock</dc:title><meta:initial-creator>Grace Hopper</meta:initial-creator><meta:creation-date>2024-03-01T10:00:00</meta:creation-date><meta:generator>LibreOffice/7.4</meta:generator></office:meta></office:document-meta>"#;
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip_of(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
        ("meta.xml", meta.as_bytes()),
    ])
}

pub const P_NS: &str = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main""#;

pub fn shape(ph: &str, paragraphs: &str) -> String {
    format!(
        r#"<p:sp><p:nvSpPr><p:cNvPr id="2" name="S"/><p:cNvSpPr/><p:nvPr>{ph}</p:nvPr></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:lstStyle><a:lvl1pPr><a:buChar char="x"/></a:lvl1pPr></a:lstStyle>{paragraphs}</p:txBody></p:sp>"#
    )
}

pub fn a_p(props: &str, text: &str) -> String {
    format!(r#"<a:p>{props}<a:r><a:rPr lang="en-US"/><a:t>{text}</a:t></a:r></a:p>"#)
}

pub fn slide(shapes: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><p:sld {P_NS}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>{shapes}</p:spTree></p:cSld></p:sld>"#
    )
}

/// A three-slide PPTX (the slide parts deliberately named out of order)
/// with titles, bullets, numbering, a text box, a table, a link, a picture
/// and speaker notes.
pub fn sample_pptx() -> Vec<u8> {
    let s1 = slide(&format!(
        "{}{}",
        shape(r#"<p:ph type="ctrTitle"/>"#, &a_p("", "Quarterly Review")),
        shape(
            r#"<p:ph type="subTitle" idx="1"/>"#,
            &a_p("", "Team Rocket")
        )
    ));
    let body = [
        a_p("", "Revenue up"),
        a_p(r#"<a:pPr lvl="1"/>"#, "mostly services"),
        a_p("", "Costs flat"),
        r#"<a:p><a:r><a:rPr b="1"/><a:t>Bold</a:t></a:r><a:r><a:t xml:space="preserve"> and </a:t></a:r><a:r><a:rPr><a:hlinkClick r:id="rId5"/></a:rPr><a:t>a link</a:t></a:r></a:p>"#.to_owned(),
    ]
    .concat();
    let numbered = [
        a_p(
            r#"<a:pPr><a:buAutoNum type="arabicPeriod"/></a:pPr>"#,
            "Plan",
        ),
        a_p(r#"<a:pPr><a:buAutoNum type="arabicPeriod"/></a:pPr>"#, "Do"),
    ]
    .concat();
    let s2 = slide(&format!(
        r#"{}{}{}{}<p:pic><p:nvPicPr><p:cNvPr id="9" name="Picture 1" descr="Revenue chart"/><p:cNvPicPr/><p:nvPr/></p:nvPicPr></p:pic>"#,
        shape(r#"<p:ph type="body" idx="1"/>"#, &body),
        shape(r#"<p:ph type="title"/>"#, &a_p("", "Results")),
        shape("", &format!("{}{}", a_p("", "A free text box"), numbered)),
        shape(r#"<p:ph type="sldNum" idx="12"/>"#, &a_p("", "2")),
    ));
    let table = r#"<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="4" name="Table"/><p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr><p:xfrm/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/table"><a:tbl><a:tblGrid/><a:tr h="1"><a:tc><a:txBody><a:p><a:r><a:t>Region</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>Sales</a:t></a:r></a:p></a:txBody></a:tc></a:tr><a:tr h="1"><a:tc gridSpan="2"><a:txBody><a:p><a:r><a:t>North</a:t></a:r></a:p></a:txBody></a:tc><a:tc hMerge="1"><a:txBody><a:p><a:r><a:t>hidden</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>"#;
    let chart_frame = r#"<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="5" name="Chart"/><p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr><p:xfrm/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="rId3"/></a:graphicData></a:graphic></p:graphicFrame>"#;
    let s3 = slide(&format!(
        "{}{}{}",
        shape(r#"<p:ph type="title"/>"#, &a_p("", "Details")),
        table,
        chart_frame
    ));
    let s3_rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart" Target="../charts/chart7.xml"/></Relationships>"#;
    let chart = r#"<?xml version="1.0" encoding="UTF-8"?><c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><c:chart><c:title><c:tx><c:rich><a:p><a:r><a:t>Sales by quarter</a:t></a:r></a:p></c:rich></c:tx></c:title><c:plotArea><c:barChart>
<c:ser><c:idx val="0"/><c:tx><c:strRef><c:strCache><c:pt idx="0"><c:v>North</c:v></c:pt></c:strCache></c:strRef></c:tx><c:cat><c:strRef><c:strCache><c:ptCount val="2"/><c:pt idx="0"><c:v>Q1</c:v></c:pt><c:pt idx="1"><c:v>Q2</c:v></c:pt></c:strCache></c:strRef></c:cat><c:val><c:numRef><c:numCache><c:pt idx="0"><c:v>10</c:v></c:pt><c:pt idx="1"><c:v>12.300000000000001</c:v></c:pt></c:numCache></c:numRef></c:val></c:ser>
<c:ser><c:idx val="1"/><c:tx><c:v>South</c:v></c:tx><c:val><c:numRef><c:numCache><c:pt idx="1"><c:v>7</c:v></c:pt></c:numCache></c:numRef></c:val></c:ser>
</c:barChart><c:valAx><c:title><c:tx><c:rich><a:p><a:r><a:t>Units</a:t></a:r></a:p></c:rich></c:tx></c:title></c:valAx></c:plotArea></c:chart></c:chartSpace>"#;
    let notes = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><p:notes {P_NS}><p:cSld><p:spTree>{}{}{}</p:spTree></p:cSld></p:notes>"#,
        shape(r#"<p:ph type="sldImg"/>"#, ""),
        shape(
            r#"<p:ph type="body" idx="1"/>"#,
            &format!(
                "{}{}",
                a_p("", "Mention the pilot."),
                a_p("", "Then take questions.")
            )
        ),
        shape(r#"<p:ph type="sldNum" idx="5"/>"#, &a_p("", "2")),
    );
    let presentation = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><p:presentation {P_NS}><p:sldMasterIdLst/><p:sldIdLst><p:sldId id="256" r:id="rId7"/><p:sldId id="257" r:id="rId8"/><p:sldId id="258" r:id="rId9"/></p:sldIdLst></p:presentation>"#
    );
    let pres_rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide1.xml"/><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide3.xml"/><Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="/ppt/slides/slide2.xml"/></Relationships>"#;
    let s2_rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide" Target="../notesSlides/notesSlide1.xml"/><Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.org/q3" TargetMode="External"/></Relationships>"#;
    let app = r#"<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Office PowerPoint</Application><Slides>3</Slides></Properties>"#;
    package(&[
        ("_rels/.rels", root_rels("ppt/presentation.xml").as_bytes()),
        ("ppt/presentation.xml", presentation.as_bytes()),
        ("ppt/_rels/presentation.xml.rels", pres_rels.as_bytes()),
        ("ppt/slides/slide3.xml", s1.as_bytes()),
        ("ppt/slides/slide2.xml", s2.as_bytes()),
        ("ppt/slides/_rels/slide2.xml.rels", s2_rels.as_bytes()),
        ("ppt/slides/slide1.xml", s3.as_bytes()),
        ("ppt/slides/_rels/slide1.xml.rels", s3_rels.as_bytes()),
        ("ppt/charts/chart7.xml", chart.as_bytes()),
        ("ppt/notesSlides/notesSlide1.xml", notes.as_bytes()),
        ("docProps/core.xml", CORE.as_bytes()),
        ("docProps/app.xml", app.as_bytes()),
    ])
}

/// The members of a ZIP, in order.
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            (file.name().unwrap().into_owned(), data)
        })
        .collect()
}

/// Re-zips members without compression (fast, for the mutation smoke).
pub fn rezip_stored(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for (name, content) in members {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Re-zips members.
pub fn rezip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let borrowed: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    zip_of(&borrowed)
}

/// Rewrites every header's declared uncompressed size (local and central)
/// to `size`, as a lying zip bomb would.
pub fn lie_about_sizes(bytes: &mut [u8], size: u32) {
    patch_headers(bytes, |header, central| {
        let at = if central { 24 } else { 22 };
        header[at..at + 4].copy_from_slice(&size.to_le_bytes());
    });
}

/// Sets the "encrypted" flag on every entry.
pub fn mark_encrypted(bytes: &mut [u8]) {
    patch_headers(bytes, |header, central| {
        let at = if central { 8 } else { 6 };
        header[at] |= 1;
    });
}

fn patch_headers(bytes: &mut [u8], mut patch: impl FnMut(&mut [u8], bool)) {
    let mut i = 0;
    while i + 46 <= bytes.len() {
        if bytes[i..].starts_with(b"PK\x03\x04") {
            patch(&mut bytes[i..i + 30], false);
        } else if bytes[i..].starts_with(b"PK\x01\x02") {
            patch(&mut bytes[i..i + 46], true);
        }
        i += 1;
    }
}

/// A deterministic xorshift generator for the mutation smoke.
#[derive(Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `bytes` with a few random byte flips, an insertion, a deletion or a
/// truncation.
pub fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.is_empty() {
        return out;
    }
    match rng.below(5) {
        0 => out.truncate(rng.below(bytes.len())),
        1 => {
            let at = rng.below(out.len());
            let len = rng.below(64).min(out.len() - at);
            out.drain(at..at + len);
        }
        2 => {
            let at = rng.below(out.len());
            let chunk = [
                b"<".as_slice(),
                b"</",
                b">",
                b"&",
                b"\"",
                b"<w:p>",
                b"<a:tbl>",
                b"]]>",
            ][rng.below(8)];
            out.splice(at..at, chunk.iter().copied());
        }
        _ => {
            for _ in 0..=rng.below(8) {
                let at = rng.below(out.len());
                out[at] ^= 1 << rng.below(8);
            }
        }
    }
    out
}

//! PPTX (PresentationML): slides in presentation order (`sldIdLst` through
//! the presentation's relationships), each opened by a page break; title
//! placeholders as headings, body placeholders as (nested, bullet or
//! numbered) lists, text boxes as paragraphs, tables, picture alt text,
//! hyperlinks, charts as tables of their cached data; speaker notes as a
//! quote after a "Notes:" paragraph.
//! [`ParseOptions::pages`] selects slides.

use std::collections::HashMap;

use quick_xml::events::BytesStart;

use super::{
    chart::chart_table,
    ooxml::{self, Rel, build_list, merge_spans},
    xml::{XmlEvent, XmlReader, attr, local, on_off},
    zipsafe::ZipSafe,
};
use crate::{
    DocError, Document, ParseOptions,
    model::{Block, Inline, OutlineEntry, Span, Table, inline_text},
};

const FORMAT: &str = "pptx";

/// Parses a PPTX presentation.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    let mut zip = ZipSafe::new(bytes, options)?;
    let main = ooxml::main_part(&mut zip, "ppt/presentation.xml", FORMAT, options)?;
    let Some(presentation) = zip.read(&main)? else {
        return Err(DocError::malformed(
            FORMAT,
            format!("the package has no presentation part ('{main}')"),
        ));
    };
    ooxml::expect_root(&presentation, &main, b"presentation", FORMAT, options)?;
    let rels = ooxml::rels(&mut zip, &main, FORMAT, options)?;
    let slides = slide_order(&presentation, &main, &rels, options)?;
    let mut doc = Document::default();
    ooxml::properties(&mut zip, &mut doc.metadata, FORMAT, options)?;
    doc.metadata.pages = Some(slides.len() as u32);
    let total = slides.len() as u32;
    let mut read = 0u32;
    let mut chars = 0usize;
    for (index, part) in slides.iter().enumerate() {
        let number = index as u32 + 1;
        if options.pages.is_some_and(|r| !r.contains(number)) {
            continue;
        }
        if read >= options.limits.max_pages {
            doc.warnings.push(format!(
                "only {} of {total} slides were read",
                options.limits.max_pages
            ));
            break;
        }
        options.checkpoint(index as u32, total)?;
        options.charge(std::mem::size_of::<Block>() as u64, || {
            format!("slide {number}")
        })?;
        read += 1;
        doc.blocks.push(Block::PageBreak { number });
        let Some(xml) = zip.read(part)? else {
            doc.warnings
                .push(format!("slide {number} ('{part}') is missing"));
            continue;
        };
        let slide_rels = ooxml::rels(&mut zip, part, FORMAT, options)?;
        let shapes = read_shapes(&xml, part, &slide_rels, &mut chars, options)?;
        let shapes = resolve_charts(shapes, &mut zip, options)?;
        for block in slide_blocks(shapes, false) {
            if let Block::Heading { level, content } = &block {
                doc.outline.push(OutlineEntry {
                    level: *level,
                    title: inline_text(content).trim().to_owned(),
                    page: Some(number),
                });
            }
            doc.blocks.push(block);
        }
        if let Some(notes) = slide_rels.values().find(|r| r.kind == "notesSlide")
            && let Some(xml) = zip.read(&notes.target)?
        {
            let notes_rels = HashMap::new();
            let shapes = read_shapes(&xml, &notes.target, &notes_rels, &mut chars, options)?;
            let blocks = slide_blocks(shapes, true);
            if !blocks.is_empty() {
                // Notes that start with their own label are not labelled twice.
                let labelled = matches!(blocks.first(), Some(Block::Paragraph(spans))
                    if inline_text(spans).trim_start().to_lowercase().starts_with("notes:"));
                if !labelled {
                    doc.blocks.push(Block::text("Notes:"));
                }
                doc.blocks.push(Block::Quote(blocks));
            }
        }
    }
    doc.warnings.append(&mut zip.warnings);
    options.checkpoint(total, total)?;
    Ok(doc)
}

/// Reads the chart parts that shapes point at into tables.
fn resolve_charts(
    shapes: Vec<Shape>,
    zip: &mut ZipSafe<'_>,
    options: &ParseOptions,
) -> Result<Vec<Shape>, DocError> {
    let mut out = Vec::with_capacity(shapes.len());
    for shape in shapes {
        if let Content::Chart(part) = &shape.content {
            if let Some(xml) = zip.read(part)?
                && let Some(table) = chart_table(&xml, part, FORMAT, options)?
            {
                out.push(Shape {
                    role: shape.role,
                    content: Content::ChartTable(table),
                });
            }
            continue;
        }
        out.push(shape);
    }
    Ok(out)
}

/// Slide part names in presentation order.
fn slide_order(
    presentation: &[u8],
    part: &str,
    rels: &HashMap<String, Rel>,
    options: &ParseOptions,
) -> Result<Vec<String>, DocError> {
    let mut reader = XmlReader::new(presentation, FORMAT, part, options);
    let mut slides = Vec::new();
    loop {
        match reader.event()? {
            XmlEvent::Start(e) | XmlEvent::Empty(e) if local(&e) == b"sldId" => {
                if let Some(rel) = attr(&e, "r:id").and_then(|id| rels.get(&id))
                    && !rel.external
                {
                    slides.push(rel.target.clone());
                }
            }
            XmlEvent::Eof => return Ok(slides),
            _ => {}
        }
    }
}

/// What a shape is, from its placeholder type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Title,
    Subtitle,
    /// A body/content placeholder: paragraphs are bullets by default.
    Body,
    /// Slide number, date, footer, header, slide image (notes).
    Chrome,
    /// A text box or other shape.
    Free,
}

/// Bullet style of a paragraph.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bullet {
    Inherit,
    Char,
    Number,
    None,
}

#[derive(Debug)]
struct Paragraph {
    level: u8,
    bullet: Bullet,
    spans: Vec<Span>,
}

#[derive(Debug)]
enum Content {
    Text(Vec<Paragraph>),
    Table(Vec<Vec<String>>),
    Image(String),
    /// A chart part, until [`resolve_charts`] reads it.
    Chart(String),
    ChartTable(Table),
}

#[derive(Debug)]
struct Shape {
    role: Role,
    content: Content,
}

#[derive(Default)]
struct RunStyle {
    bold: bool,
    italic: bool,
    link: Option<String>,
}

/// The shapes of a slide (or notes slide) in document order; `chars`
/// counts text across the whole presentation.
fn read_shapes(
    xml: &[u8],
    part: &str,
    rels: &HashMap<String, Rel>,
    chars: &mut usize,
    options: &ParseOptions,
) -> Result<Vec<Shape>, DocError> {
    let mut reader = XmlReader::new(xml, FORMAT, part, options);
    let mut shapes = Vec::new();
    let mut role = Role::Free;
    let mut paragraphs: Vec<Paragraph> = Vec::new();
    let mut run = RunStyle::default();
    let mut table: Option<Vec<Vec<String>>> = None;
    let mut cell: Option<(Vec<String>, bool)> = None;
    let mut in_pic = false;
    loop {
        let (e, empty) = match reader.event()? {
            XmlEvent::Start(e) => (e, false),
            XmlEvent::Empty(e) => (e, true),
            XmlEvent::End(name) => {
                match name.as_slice() {
                    b"sp" => {
                        let content = Content::Text(std::mem::take(&mut paragraphs));
                        shapes.push(Shape { role, content });
                        role = Role::Free;
                    }
                    b"pic" => in_pic = false,
                    b"tc" => {
                        if let (Some(rows), Some((lines, merged))) = (table.as_mut(), cell.take())
                            && let Some(row) = rows.last_mut()
                        {
                            let texts: Vec<String> = std::mem::take(&mut paragraphs)
                                .iter()
                                .map(|p| inline_text(&p.spans).trim().to_owned())
                                .filter(|t| !t.is_empty())
                                .collect();
                            let mut all = lines;
                            all.extend(texts);
                            row.push(if merged {
                                String::new()
                            } else {
                                all.join("\n")
                            });
                        }
                    }
                    b"tbl" => {
                        if let Some(rows) = table.take() {
                            shapes.push(Shape {
                                role: Role::Free,
                                content: Content::Table(rows),
                            });
                        }
                    }
                    _ => {}
                }
                continue;
            }
            XmlEvent::Text(_) => continue,
            XmlEvent::Eof => return Ok(shapes),
        };
        match local(&e) {
            b"ph" => role = placeholder_role(&e),
            b"pic" if !empty => in_pic = true,
            b"cNvPr" if in_pic => {
                if let Some(alt) =
                    attr(&e, "descr").filter(|a| !a.trim().is_empty() && !file_name(a))
                {
                    shapes.push(Shape {
                        role: Role::Free,
                        content: Content::Image(alt.trim().to_owned()),
                    });
                }
            }
            b"tbl" if !empty => table = Some(Vec::new()),
            b"chart" => {
                if let Some(rel) = attr(&e, "r:id").and_then(|id| rels.get(&id)) {
                    shapes.push(Shape {
                        role: Role::Free,
                        content: Content::Chart(rel.target.clone()),
                    });
                }
            }
            b"tr" => {
                if let Some(rows) = table.as_mut() {
                    rows.push(Vec::new());
                }
            }
            b"tc" => {
                let merged = ["hMerge", "vMerge"]
                    .iter()
                    .any(|k| attr(&e, k).is_some_and(|v| on_off(Some(&v))));
                if empty {
                    if let Some(row) = table.as_mut().and_then(|rows| rows.last_mut()) {
                        row.push(String::new());
                    }
                } else {
                    cell = Some((Vec::new(), merged));
                }
            }
            b"p" => {
                paragraphs.push(Paragraph {
                    level: 0,
                    bullet: Bullet::Inherit,
                    spans: Vec::new(),
                });
            }
            b"pPr" => {
                if let Some(p) = paragraphs.last_mut() {
                    p.level = attr(&e, "lvl")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0u8)
                        .min(8);
                }
            }
            b"buAutoNum" | b"buChar" | b"buBlip" | b"buNone" => {
                if let Some(p) = paragraphs.last_mut() {
                    p.bullet = match local(&e) {
                        b"buAutoNum" => Bullet::Number,
                        b"buNone" => Bullet::None,
                        _ => Bullet::Char,
                    };
                }
            }
            b"r" | b"fld" => run = RunStyle::default(),
            b"rPr" => {
                run.bold = attr(&e, "b").is_some_and(|v| on_off(Some(&v)));
                run.italic = attr(&e, "i").is_some_and(|v| on_off(Some(&v)));
            }
            b"hlinkClick" => {
                run.link = attr(&e, "r:id")
                    .and_then(|id| rels.get(&id))
                    .map(|r| r.target.clone());
            }
            b"t" if !empty => {
                let text = reader.text()?;
                *chars += text.len();
                if *chars > options.limits.max_output_chars {
                    return Err(DocError::Limit(format!(
                        "the presentation has more than {} characters of text",
                        options.limits.max_output_chars
                    )));
                }
                options.charge(
                    (text.len() + std::mem::size_of::<Span>() + 16) as u64,
                    || "the text runs of the slides".to_owned(),
                )?;
                if let Some(p) = paragraphs.last_mut() {
                    p.spans.push(Span {
                        text,
                        bold: run.bold,
                        italic: run.italic,
                        code: false,
                        link: run.link.clone(),
                        math: None,
                    });
                }
            }
            b"br" => {
                if let Some(p) = paragraphs.last_mut() {
                    p.spans.push(Span::plain("\n"));
                }
            }
            b"Fallback" | b"lstStyle" | b"extLst" if !empty => reader.skip()?,
            _ => {}
        }
    }
}

fn placeholder_role(e: &BytesStart<'_>) -> Role {
    match attr(e, "type").as_deref() {
        Some("title" | "ctrTitle") => Role::Title,
        Some("subTitle") => Role::Subtitle,
        Some("body" | "obj") | None => Role::Body,
        Some("dt" | "ftr" | "hdr" | "sldNum" | "sldImg") => Role::Chrome,
        Some(_) => Role::Free,
    }
}

/// Whether a picture's description is only its file name (PowerPoint
/// fills `descr` with it on insert): `image1.png`, `C:\\Photos\\x.JPG`.
fn file_name(descr: &str) -> bool {
    let name = descr.trim().rsplit(['/', '\\']).next().unwrap_or("");
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && [
            "png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "emf", "wmf", "svg", "webp", "heic",
            "ico",
        ]
        .contains(&ext.to_ascii_lowercase().as_str())
}

/// Blocks of one slide: titles first, then the other shapes in order.
/// For notes, only body text counts.
fn slide_blocks(shapes: Vec<Shape>, notes: bool) -> Vec<Block> {
    let mut titles = Vec::new();
    let mut rest = Vec::new();
    for shape in shapes {
        match (shape.role, shape.content) {
            (Role::Chrome, _) => {}
            (Role::Title, Content::Text(paragraphs)) if !notes => {
                let text: Vec<String> = paragraphs
                    .iter()
                    .map(|p| inline_text(&p.spans).trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect();
                if !text.is_empty() {
                    titles.push(Block::heading(1, text.join(" ").replace('\n', " ")));
                }
            }
            (role, Content::Text(paragraphs)) => {
                rest.extend(text_blocks(paragraphs, role == Role::Body && !notes));
            }
            (_, Content::Table(rows)) if !notes => {
                let rows: Vec<Vec<String>> = rows
                    .into_iter()
                    .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
                    .collect();
                if !rows.is_empty() {
                    rest.push(Block::Table(Table {
                        name: None,
                        header: true,
                        rows,
                        page: None,
                    }));
                }
            }
            (_, Content::Image(alt)) if !notes => rest.push(Block::Image { alt }),
            (_, Content::ChartTable(table)) if !notes => rest.push(Block::Table(table)),
            _ => {}
        }
    }
    titles.extend(rest);
    titles
}

/// Paragraphs of a text frame: list items where bullets apply (by default
/// in body placeholders), plain paragraphs elsewhere.
fn text_blocks(paragraphs: Vec<Paragraph>, bulleted_by_default: bool) -> Vec<Block> {
    let mut out = Vec::new();
    let mut items: Vec<(u8, bool, Inline)> = Vec::new();
    let flush = |items: &mut Vec<(u8, bool, Inline)>, out: &mut Vec<Block>| {
        let mut i = 0;
        while i < items.len() {
            let level = items[i].0;
            out.push(build_list(items, &mut i, level));
        }
        items.clear();
    };
    for p in paragraphs {
        let spans = merge_spans(p.spans, "");
        if inline_text(&spans).trim().is_empty() {
            continue;
        }
        let bullet = match p.bullet {
            Bullet::Inherit if bulleted_by_default => Some(false),
            Bullet::Char => Some(false),
            Bullet::Number => Some(true),
            Bullet::Inherit | Bullet::None => None,
        };
        match bullet {
            Some(ordered) => items.push((p.level, ordered, spans)),
            None => {
                flush(&mut items, &mut out);
                out.push(Block::Paragraph(spans));
            }
        }
    }
    flush(&mut items, &mut out);
    out
}

//! DOCX (WordprocessingML): body paragraphs in order; headings from
//! paragraph styles (names, `basedOn` chains, outline levels); lists from
//! numbering; tables with merged cells kept as the first cell's value and
//! nested tables flattened into their cell; bold/italic/monospace runs;
//! hyperlinks (relationships and `HYPERLINK` fields); footnotes and endnotes
//! as `[^n]`; line and page breaks; tracked deletions, field codes and
//! hidden text dropped; charts as tables of their cached data after the
//! paragraph that holds them (after the table, for a chart in a table
//! cell); `docProps` metadata.

use std::collections::HashMap;

use super::{
    chart::chart_table,
    docx_body::{Context, Walker},
    docx_styles::{Numbering, Styles},
    ooxml,
    zipsafe::ZipSafe,
};
use crate::{
    DocError, Document, ParseOptions,
    model::{Block, Inline, OutlineEntry, inline_text},
};

const FORMAT: &str = "docx";

/// Parses a DOCX document.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    let mut zip = ZipSafe::new(bytes, options)?;
    let main = ooxml::main_part(&mut zip, "word/document.xml", FORMAT, options)?;
    let Some(xml) = zip.read(&main)? else {
        return Err(DocError::malformed(
            FORMAT,
            format!("the package has no main document part ('{main}')"),
        ));
    };
    ooxml::expect_root(&xml, &main, b"document", FORMAT, options)?;
    let rels = ooxml::rels(&mut zip, &main, FORMAT, options)?;
    let part_of = |kind: &str, fallback: &str| {
        rels.values()
            .find(|r| r.kind == kind && !r.external)
            .map_or_else(|| fallback.to_owned(), |r| r.target.clone())
    };
    let styles = match zip.read(&part_of("styles", "word/styles.xml"))? {
        Some(b) => Styles::parse(&b, options)?,
        None => Styles::default(),
    };
    let numbering = match zip.read(&part_of("numbering", "word/numbering.xml"))? {
        Some(b) => Numbering::parse(&b, options)?,
        None => Numbering::default(),
    };
    let mut doc = Document::default();
    ooxml::properties(&mut zip, &mut doc.metadata, FORMAT, options)?;
    options.checkpoint(0, 1)?;

    let mut charts = HashMap::new();
    for rel in rels.values().filter(|r| r.kind == "chart" && !r.external) {
        if let Some(xml) = zip.read(&rel.target)?
            && let Some(table) = chart_table(&xml, &rel.target, FORMAT, options)?
        {
            charts.insert(rel.target.clone(), table);
        }
    }
    let context = Context {
        styles: &styles,
        numbering: &numbering,
        options,
        charts: &charts,
    };
    let mut body = Walker::new(&context, &rels);
    body.walk(&xml, &main)?;
    let note_refs = std::mem::take(&mut body.note_refs);
    let hidden_entities = body.hidden_entities;
    doc.blocks = body.finish();

    // Notes, in the order the text references them, renumbered 1..n.
    let mut notes: HashMap<(bool, String), Inline> = HashMap::new();
    for (endnote, kind, fallback) in [
        (false, "footnotes", "word/footnotes.xml"),
        (true, "endnotes", "word/endnotes.xml"),
    ] {
        let part = part_of(kind, fallback);
        let Some(bytes) = zip.read(&part)? else {
            continue;
        };
        let part_rels = ooxml::rels(&mut zip, &part, FORMAT, options)?;
        let mut walker = Walker::new(&context, &part_rels);
        walker.walk(&bytes, &part)?;
        for (id, content) in walker.notes {
            notes.insert((endnote, id), content);
        }
    }
    for (number, key) in note_refs.iter().enumerate() {
        if let Some(content) = notes.remove(key) {
            doc.blocks.push(Block::Footnote {
                id: (number + 1).to_string(),
                content,
            });
        }
    }
    doc.outline = doc
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, content } => Some(OutlineEntry {
                level: *level,
                title: inline_text(content).trim().to_owned(),
                page: None,
            }),
            _ => None,
        })
        .collect();
    doc.warnings.append(&mut zip.warnings);
    if hidden_entities > 0 {
        doc.warnings.push(format!(
            "{hidden_entities} references to DTD-declared entities were not expanded"
        ));
    }
    options.checkpoint(1, 1)?;
    Ok(doc)
}

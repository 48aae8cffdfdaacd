//! Reading WordprocessingML property elements (`pPr`, `rPr`, `tcPr`) and
//! field instructions into plain values for the DOCX walker.

use super::{
    docx_styles::{Styles, is_monospace},
    xml::{XmlEvent, XmlReader, attr, local, on_off},
};
use crate::DocError;

/// What a paragraph's properties say.
#[derive(Debug, Default)]
pub struct ParaProps {
    pub style: Option<String>,
    /// (numId, ilvl) when the paragraph is a list item.
    pub num: Option<(String, u8)>,
    pub outline: Option<u8>,
    pub page_break_before: bool,
}

/// Formatting of a run.
#[derive(Debug, Default, Clone)]
pub struct Run {
    pub bold: bool,
    pub italic: bool,
    pub code: bool,
    pub hidden: bool,
}

/// A paragraph's `pPr`: style, list membership (direct or through the
/// style), outline level, page break before.
pub fn read_paragraph(reader: &mut XmlReader<'_>, styles: &Styles) -> Result<ParaProps, DocError> {
    let target = reader.depth() - 1;
    let mut para = ParaProps::default();
    let mut num_id = None;
    let mut level = 0u8;
    while reader.depth() > target {
        let e = match reader.event()? {
            XmlEvent::Start(e) => {
                if matches!(local(&e), b"rPr" | b"pPrChange" | b"sectPr" | b"tabs") {
                    reader.skip()?;
                    continue;
                }
                e
            }
            XmlEvent::Empty(e) => e,
            XmlEvent::Eof => break,
            _ => continue,
        };
        let val = attr(&e, "val");
        match local(&e) {
            b"pStyle" => para.style = val,
            b"numId" => num_id = val,
            b"ilvl" => level = val.and_then(|v| v.parse().ok()).unwrap_or(0u8).min(8),
            b"outlineLvl" => para.outline = val.and_then(|v| v.parse().ok()),
            b"pageBreakBefore" => para.page_break_before = on_off(val.as_deref()),
            _ => {}
        }
    }
    if let Some(id) = num_id {
        para.num = Some((id, level));
    } else if let Some(style) = &para.style
        && let Some((id, style_level)) = styles.numbering(style)
    {
        para.num = Some((id, level.max(style_level)));
    }
    Ok(para)
}

/// A run's `rPr`, character style included.
pub fn read_run(reader: &mut XmlReader<'_>, styles: &Styles) -> Result<Run, DocError> {
    let target = reader.depth() - 1;
    let mut run = Run::default();
    let mut bold = None;
    let mut italic = None;
    while reader.depth() > target {
        let e = match reader.event()? {
            XmlEvent::Start(e) => {
                if local(&e) == b"rPrChange" {
                    reader.skip()?;
                    continue;
                }
                e
            }
            XmlEvent::Empty(e) => e,
            XmlEvent::Eof => break,
            _ => continue,
        };
        let val = attr(&e, "val");
        match local(&e) {
            b"rStyle" => {
                if let Some(style) = val {
                    let (b, i, c) = styles.run_flags(&style);
                    run.bold |= b;
                    run.italic |= i;
                    run.code |= c;
                }
            }
            b"b" => bold = Some(on_off(val.as_deref())),
            b"i" => italic = Some(on_off(val.as_deref())),
            b"vanish" | b"specVanish" => run.hidden = on_off(val.as_deref()),
            b"rFonts" => {
                run.code |= ["ascii", "hAnsi"]
                    .iter()
                    .filter_map(|k| attr(&e, k))
                    .any(|f| is_monospace(&f));
            }
            _ => {}
        }
    }
    run.bold = bold.unwrap_or(run.bold);
    run.italic = italic.unwrap_or(run.italic);
    Ok(run)
}

/// The `gridSpan` of a cell, from its `tcPr`.
pub fn read_cell_span(reader: &mut XmlReader<'_>) -> Result<usize, DocError> {
    let target = reader.depth() - 1;
    let mut span = 1;
    while reader.depth() > target {
        if let XmlEvent::Empty(e) | XmlEvent::Start(e) = reader.event()?
            && local(&e) == b"gridSpan"
        {
            span = attr(&e, "val")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1usize)
                .clamp(1, 64);
        }
    }
    Ok(span)
}

/// The target of a `HYPERLINK "url"` field instruction.
pub fn hyperlink_field(instr: &str) -> Option<String> {
    let rest = instr.trim().strip_prefix("HYPERLINK")?.trim();
    let anchor = rest.starts_with("\\l");
    let rest = rest.trim_start_matches("\\l").trim();
    let target = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.split('"').next()?
    } else {
        rest.split_whitespace().next()?
    };
    (!target.is_empty()).then(|| {
        if anchor {
            format!("#{target}")
        } else {
            target.to_owned()
        }
    })
}

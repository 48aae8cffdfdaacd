//! Charts of an XLSX workbook. A worksheet or chartsheet points at a
//! drawing part (`xl/drawings/drawingN.xml`) through its relationships;
//! the drawing's anchors hold graphic frames whose `c:chart` points at a
//! chart part, read by the shared [`chart_table`]. Charts come in anchor
//! order (top row first, then leftmost column, then drawing order) so they
//! read the way the sheet looks.
//!
//! A missing or malformed relationship, drawing or chart part costs its
//! charts and a warning, never the workbook: the cells still render. Limits
//! (ZIP sizes, nesting depth, the memory budget) and cancellation still
//! end the call, as everywhere else.

use std::collections::HashMap;

use super::{
    chart::{chart_table, footprint},
    ooxml,
    xml::{XmlEvent, XmlReader, attr, local},
    zipsafe::ZipSafe,
};
use crate::{DocError, ParseOptions, model::Table};

const FORMAT: &str = "xlsx";
/// Charts read from one drawing (Excel users stop long before this).
const MAX_CHARTS_PER_DRAWING: usize = 1000;

/// Sheet parts (`xl/worksheets/sheet1.xml`, `xl/chartsheets/sheet1.xml`)
/// by sheet name, from the workbook part and its relationships; empty,
/// with a warning, when the workbook part cannot be read.
pub fn sheet_parts(
    zip: &mut ZipSafe<'_>,
    options: &ParseOptions,
    warnings: &mut Vec<String>,
) -> Result<HashMap<String, String>, DocError> {
    let read = read_sheet_parts(zip, options);
    let parts = soft(read, warnings, || {
        "the workbook's sheet list could not be read; charts were skipped".to_owned()
    })?;
    Ok(parts.unwrap_or_default())
}

fn read_sheet_parts(
    zip: &mut ZipSafe<'_>,
    options: &ParseOptions,
) -> Result<HashMap<String, String>, DocError> {
    let main = ooxml::main_part(zip, "xl/workbook.xml", FORMAT, options)?;
    let Some(xml) = zip.read(&main)? else {
        return Ok(HashMap::new());
    };
    let rels = ooxml::rels(zip, &main, FORMAT, options)?;
    let mut reader = XmlReader::new(&xml, FORMAT, main.as_str(), options);
    let mut parts = HashMap::new();
    loop {
        match reader.event()? {
            XmlEvent::Start(e) | XmlEvent::Empty(e) if local(&e) == b"sheet" => {
                if let (Some(name), Some(rel)) = (
                    attr(&e, "name"),
                    relationship_id(&e).and_then(|id| rels.get(&id)),
                ) && !rel.external
                {
                    parts.insert(name, rel.target.clone());
                }
            }
            XmlEvent::Eof => return Ok(parts),
            _ => {}
        }
    }
}

/// The charts drawn on sheet `sheet` (stored in `part`) as tables, in
/// anchor order; each table carries `page`, the sheet's number.
pub fn sheet_charts(
    zip: &mut ZipSafe<'_>,
    part: &str,
    sheet: &str,
    page: u32,
    options: &ParseOptions,
    warnings: &mut Vec<String>,
) -> Result<Vec<Table>, DocError> {
    let rels = ooxml::rels(zip, part, FORMAT, options);
    let Some(rels) = soft(rels, warnings, || {
        format!("sheet '{sheet}': its relationships could not be read; its charts were skipped")
    })?
    else {
        return Ok(Vec::new());
    };
    let mut drawings: Vec<(&String, &ooxml::Rel)> = rels
        .iter()
        .filter(|(_, r)| r.kind == "drawing" && !r.external)
        .collect();
    drawings.sort_by(|a, b| a.0.cmp(b.0));
    let mut tables = Vec::new();
    for (_, drawing) in drawings {
        let drawing = drawing.target.as_str();
        let charts = drawing_charts(zip, drawing, options);
        let Some(charts) = soft(charts, warnings, || {
            format!(
                "sheet '{sheet}': drawing '{drawing}' could not be read; its charts were skipped"
            )
        })?
        else {
            continue;
        };
        let Some(charts) = charts else {
            warnings.push(format!(
                "sheet '{sheet}': drawing '{drawing}' is missing; its charts were skipped"
            ));
            continue;
        };
        for chart in charts {
            let target = match chart {
                Drawn::Chart(target) => target,
                Drawn::Unlinked(id) => {
                    warnings.push(format!(
                        "sheet '{sheet}': a chart in drawing '{drawing}' points at relationship '{id}', which the drawing does not have; it was skipped"
                    ));
                    continue;
                }
                Drawn::Dropped(count) => {
                    warnings.push(format!(
                        "sheet '{sheet}': drawing '{drawing}' has {count} more charts than the {MAX_CHARTS_PER_DRAWING} read; they were skipped"
                    ));
                    continue;
                }
                Drawn::Other(kind) => {
                    warnings.push(format!(
                        "sheet '{sheet}': a '{kind}' chart in drawing '{drawing}' is not supported and was skipped"
                    ));
                    continue;
                }
            };
            let read = read_chart(zip, &target, options);
            let Some(read) = soft(read, warnings, || {
                format!("sheet '{sheet}': chart '{target}' could not be read and was skipped")
            })?
            else {
                continue;
            };
            match read {
                Some(Some(mut table)) => {
                    charge(&table, sheet, options)?;
                    table.page = Some(page);
                    tables.push(table);
                }
                // A chart without cached data says nothing.
                Some(None) => {}
                None => warnings.push(format!(
                    "sheet '{sheet}': chart '{target}' is missing; it was skipped"
                )),
            }
        }
    }
    Ok(tables)
}

/// The chart part at `target` as a table; `None` when the part is absent,
/// `Some(None)` when it holds no data.
fn read_chart(
    zip: &mut ZipSafe<'_>,
    target: &str,
    options: &ParseOptions,
) -> Result<Option<Option<Table>>, DocError> {
    let Some(xml) = zip.read(target)? else {
        return Ok(None);
    };
    Ok(Some(chart_table(&xml, target, FORMAT, options)?))
}

/// What a graphic frame of a drawing points at.
enum Drawn {
    /// A chart part.
    Chart(String),
    /// A relationship id the drawing does not define.
    Unlinked(String),
    /// Another kind of part (`chartEx`, Excel 2016's charts).
    Other(String),
    /// Charts past [`MAX_CHARTS_PER_DRAWING`], not read.
    Dropped(usize),
}

/// What the charts of a drawing point at, in anchor order; `None` when the
/// drawing part is absent.
fn drawing_charts(
    zip: &mut ZipSafe<'_>,
    drawing: &str,
    options: &ParseOptions,
) -> Result<Option<Vec<Drawn>>, DocError> {
    let Some(xml) = zip.read(drawing)? else {
        return Ok(None);
    };
    let rels = ooxml::rels(zip, drawing, FORMAT, options)?;
    let mut reader = XmlReader::new(&xml, FORMAT, drawing, options);
    // (row, column, order in the drawing, chart relationship id).
    let mut found: Vec<(u64, u64, usize, String)> = Vec::new();
    // The anchor being read: its top-left cell, once known.
    let mut anchor: Option<(u64, u64)> = None;
    let mut in_from = false;
    let mut drawn = 0usize;
    loop {
        let (e, empty) = match reader.event()? {
            XmlEvent::Start(e) => (e, false),
            XmlEvent::Empty(e) => (e, true),
            XmlEvent::End(name) => {
                match name.as_slice() {
                    b"from" => in_from = false,
                    b"twoCellAnchor" | b"oneCellAnchor" | b"absoluteAnchor" => anchor = None,
                    _ => {}
                }
                continue;
            }
            XmlEvent::Text(_) => continue,
            XmlEvent::Eof => break,
        };
        match local(&e) {
            b"twoCellAnchor" | b"oneCellAnchor" | b"absoluteAnchor" if !empty => {
                anchor = Some((0, 0));
            }
            b"from" if !empty && anchor.is_some() => in_from = true,
            b"row" | b"col" if in_from && !empty => {
                let is_row = local(&e) == b"row";
                let value = reader.text()?.trim().parse().unwrap_or(0);
                if let Some((row, col)) = anchor.as_mut() {
                    *if is_row { row } else { col } = value;
                }
            }
            // The picture Excel shows where it cannot draw the chart.
            b"Fallback" if !empty => reader.skip()?,
            b"chart" => {
                drawn += 1;
                if found.len() < MAX_CHARTS_PER_DRAWING {
                    let (row, col) = anchor.unwrap_or((u64::MAX, u64::MAX));
                    let id = relationship_id(&e).unwrap_or_default();
                    found.push((row, col, found.len(), id));
                }
            }
            _ => {}
        }
    }
    found.sort();
    let mut out: Vec<Drawn> = found
        .into_iter()
        .map(|(_, _, _, id)| match rels.get(&id) {
            Some(rel) if rel.kind == "chart" && !rel.external => Drawn::Chart(rel.target.clone()),
            Some(rel) => Drawn::Other(rel.kind.clone()),
            None => Drawn::Unlinked(id),
        })
        .collect();
    if drawn > out.len() {
        out.push(Drawn::Dropped(drawn - out.len()));
    }
    Ok(Some(out))
}

fn relationship_id(e: &quick_xml::events::BytesStart<'_>) -> Option<String> {
    attr(e, "r:id").or_else(|| attr(e, "id"))
}

/// A chart's cells kept in the document, charged to the memory budget.
fn charge(table: &Table, sheet: &str, options: &ParseOptions) -> Result<(), DocError> {
    options.charge(footprint(table), || {
        format!("the charts of sheet '{sheet}'")
    })
}

/// `Ok(None)` and a warning for input that is merely broken; limits and
/// cancellation pass through.
fn soft<T>(
    result: Result<T, DocError>,
    warnings: &mut Vec<String>,
    what: impl FnOnce() -> String,
) -> Result<Option<T>, DocError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e @ (DocError::Limit(_) | DocError::Cancelled)) => Err(e),
        Err(e) => {
            warnings.push(format!("{}: {e}", what()));
            Ok(None)
        }
    }
}

//! DrawingML charts (`c:chartSpace` parts, shared by PPTX, DOCX and XLSX)
//! as tables: a row per category, a column per series, the cached values
//! the file carries (numbers as Excel shows them), and the chart's title.

use std::collections::BTreeMap;

use super::{
    sheets::number,
    xml::{XmlEvent, XmlReader, attr, local},
};
use crate::{DocError, ParseOptions, model::Table};

/// Series kept per chart, and points per series.
const MAX_SERIES: usize = 64;
const MAX_POINTS: usize = 10_000;

#[derive(Default)]
struct Series {
    name: String,
    categories: BTreeMap<usize, String>,
    values: BTreeMap<usize, String>,
}

/// Where in a series the reader is.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Name,
    Categories,
    Values,
    Other,
}

/// The chart in `xml` as a table named after its title; `None` when it
/// has no data.
pub fn chart_table(
    xml: &[u8],
    part: &str,
    format: &'static str,
    options: &ParseOptions,
) -> Result<Option<Table>, DocError> {
    let mut reader = XmlReader::new(xml, format, part, options);
    let mut title = String::new();
    let mut title_depth: Option<usize> = None;
    let mut series: Vec<Series> = Vec::new();
    let mut current: Option<Series> = None;
    let mut section = Part::Other;
    let mut section_depth = 0usize;
    let mut point: Option<usize> = None;
    loop {
        match reader.event()? {
            XmlEvent::Start(e) => {
                let depth = reader.depth();
                match local(&e) {
                    // The chart's own title, not an axis title.
                    b"title" if title_depth.is_none() && series.is_empty() && current.is_none() => {
                        title_depth = Some(depth);
                    }
                    b"plotArea" => title_depth = None,
                    b"ser" => current = Some(Series::default()),
                    b"tx" if current.is_some() && section == Part::Other => {
                        (section, section_depth) = (Part::Name, depth);
                    }
                    b"cat" | b"xVal" if current.is_some() => {
                        (section, section_depth) = (Part::Categories, depth);
                    }
                    b"val" | b"yVal" if current.is_some() => {
                        (section, section_depth) = (Part::Values, depth);
                    }
                    b"pt" => point = attr(&e, "idx").and_then(|i| i.parse().ok()),
                    b"v" if current.is_some() => {
                        let text = reader.text()?;
                        let Some(s) = current.as_mut() else { continue };
                        match (section, point) {
                            (Part::Name, _) => s.name = text,
                            (Part::Categories, Some(i)) if i < MAX_POINTS => {
                                s.categories.insert(i, text);
                            }
                            (Part::Values, Some(i)) if i < MAX_POINTS => {
                                let shown = text.trim().parse::<f64>().map_or(text.clone(), number);
                                s.values.insert(i, shown);
                            }
                            _ => {}
                        }
                    }
                    b"t" if title_depth.is_some() => title.push_str(&reader.text()?),
                    _ => {}
                }
            }
            XmlEvent::End(name) => {
                let depth = reader.depth();
                if title_depth.is_some_and(|d| depth < d) {
                    title_depth = None;
                }
                if section != Part::Other && depth < section_depth {
                    section = Part::Other;
                }
                if name == b"pt" {
                    point = None;
                }
                if name == b"ser"
                    && let Some(s) = current.take()
                    && series.len() < MAX_SERIES
                {
                    series.push(s);
                }
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    let points = series
        .iter()
        .flat_map(|s| s.categories.keys().chain(s.values.keys()))
        .max()
        .map_or(0, |m| m + 1);
    if points == 0 {
        return Ok(None);
    }
    let mut header = vec![String::new()];
    header.extend(series.iter().enumerate().map(|(i, s)| {
        if s.name.is_empty() {
            format!("Series {}", i + 1)
        } else {
            s.name.clone()
        }
    }));
    let mut rows = vec![header];
    for i in 0..points {
        let category = series
            .iter()
            .find_map(|s| s.categories.get(&i).cloned())
            .unwrap_or_else(|| (i + 1).to_string());
        let mut row = vec![category];
        row.extend(
            series
                .iter()
                .map(|s| s.values.get(&i).cloned().unwrap_or_default()),
        );
        rows.push(row);
    }
    let title = title.trim();
    Ok(Some(Table {
        name: Some(if title.is_empty() {
            "Chart".to_owned()
        } else {
            format!("Chart: {title}")
        }),
        header: true,
        rows,
        page: None,
    }))
}

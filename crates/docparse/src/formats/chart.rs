//! DrawingML charts (`c:chartSpace` parts, shared by PPTX, DOCX and XLSX)
//! as tables of the cached values the file carries (numbers as Excel shows
//! them), named after the chart: its title (or its kind when untitled) and
//! its axis titles.
//!
//! When every series is plotted against the same categories the table has
//! a row per category and a column per series (multi-level categories are
//! joined outer to inner, `2024 / Q1`; bubble sizes get a column of their
//! own). When the series have their own x values (scatter and bubble
//! charts) a category row would misalign them, so the table has a row per
//! point: series, x, y (and size). Either way it is bounded: at most
//! [`MAX_SHOWN_SERIES`] series and [`MAX_SHOWN_ROWS`] rows are shown, and
//! the name says what was left out.

use std::collections::BTreeMap;

use super::{
    sheets::number,
    xml::{XmlEvent, XmlReader, attr, local},
};
use crate::{DocError, ParseOptions, model::Table};

/// Series kept per chart, and points per series, while reading.
const MAX_SERIES: usize = 64;
const MAX_POINTS: usize = 10_000;
/// Series and rows shown in the table.
const MAX_SHOWN_SERIES: usize = 24;
const MAX_SHOWN_ROWS: usize = 200;

#[derive(Default)]
struct Series {
    name: String,
    /// Category (or x) labels by level, innermost first; one level unless
    /// the categories are multi-level.
    levels: Vec<BTreeMap<usize, String>>,
    values: BTreeMap<usize, String>,
    sizes: BTreeMap<usize, String>,
}

impl Series {
    /// The category label of point `i`: outer levels name the group the
    /// point falls in (the last label at or before it).
    fn category(&self, i: usize) -> Option<String> {
        let inner = self.levels.first()?.get(&i)?.clone();
        let mut parts: Vec<String> = self
            .levels
            .iter()
            .skip(1)
            .rev()
            .filter_map(|level| level.range(..=i).next_back().map(|(_, l)| l.clone()))
            .filter(|l| !l.is_empty())
            .collect();
        parts.push(inner);
        Some(parts.join(" / "))
    }

    fn categories(&self, points: usize) -> Vec<Option<String>> {
        (0..points).map(|i| self.category(i)).collect()
    }

    fn points(&self) -> usize {
        self.levels
            .iter()
            .flat_map(BTreeMap::keys)
            .chain(self.values.keys())
            .chain(self.sizes.keys())
            .max()
            .map_or(0, |m| m + 1)
    }

    fn label(&self, index: usize) -> String {
        if self.name.trim().is_empty() {
            format!("Series {}", index + 1)
        } else {
            self.name.trim().to_owned()
        }
    }
}

/// Where in a series a cached value belongs.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Name,
    Category,
    Value,
    Size,
}

/// What the reader found in one chart part.
#[derive(Default)]
struct Chart {
    title: String,
    /// Plot kinds in order (`bar`, `line`, ...), for untitled charts.
    kinds: Vec<String>,
    axis_titles: Vec<String>,
    series: Vec<Series>,
}

/// The chart in `xml` as a table named after it; `None` when it has no
/// data.
pub fn chart_table(
    xml: &[u8],
    part: &str,
    format: &'static str,
    options: &ParseOptions,
) -> Result<Option<Table>, DocError> {
    let chart = read_chart(xml, part, format, options)?;
    Ok(to_table(chart))
}

/// Bytes a chart's table holds once kept in a document, for the memory
/// budget: a part may show the same chart part any number of times.
pub fn footprint(table: &Table) -> u64 {
    table
        .rows
        .iter()
        .flatten()
        .map(|c| (c.len() + std::mem::size_of::<String>()) as u64)
        .sum()
}

fn read_chart(
    xml: &[u8],
    part: &str,
    format: &'static str,
    options: &ParseOptions,
) -> Result<Chart, DocError> {
    let mut reader = XmlReader::new(xml, format, part, options);
    let mut chart = Chart::default();
    // Local names of the open elements.
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<Series> = None;
    let mut point: Option<usize> = None;
    loop {
        match reader.event()? {
            XmlEvent::Start(e) => {
                let name = local(&e).to_vec();
                match name.as_slice() {
                    // Formatting only; never text of the chart.
                    b"spPr" | b"txPr" | b"extLst" | b"dLbls" | b"Fallback" => {
                        reader.skip()?;
                        continue;
                    }
                    b"ser" => current = Some(Series::default()),
                    b"lvl" => {
                        if let Some(s) = current.as_mut()
                            && slot(&path) == Some(Slot::Category)
                        {
                            s.levels.push(BTreeMap::new());
                        }
                    }
                    b"pt" => point = attr(&e, "idx").and_then(|i| i.parse().ok()),
                    b"p" if title_owner(&path).is_some() => {
                        // Paragraphs of a rich title are separate lines.
                        if let Some(title) = title_text(&mut chart, &path)
                            && !title.is_empty()
                            && !title.ends_with(' ')
                        {
                            title.push(' ');
                        }
                    }
                    b"v" | b"t" => {
                        let text = reader.text()?;
                        if title_owner(&path).is_some() {
                            if let Some(title) = title_text(&mut chart, &path) {
                                title.push_str(&text);
                            }
                        } else if name == b"v"
                            && let Some(s) = current.as_mut()
                        {
                            store(s, slot(&path), point, text);
                        }
                        continue;
                    }
                    kind if path.last().is_some_and(|p| p == b"plotArea")
                        && kind.ends_with(b"Chart") =>
                    {
                        let kind = String::from_utf8_lossy(&kind[..kind.len() - 5])
                            .replace("3D", "")
                            .to_lowercase();
                        if !chart.kinds.contains(&kind) {
                            chart.kinds.push(kind);
                        }
                    }
                    b"title" if axis(&path) => chart.axis_titles.push(String::new()),
                    _ => {}
                }
                path.push(name);
            }
            XmlEvent::End(name) => {
                path.pop();
                match name.as_slice() {
                    b"pt" => point = None,
                    b"ser" => {
                        if let Some(s) = current.take()
                            && chart.series.len() < MAX_SERIES
                        {
                            chart.series.push(s);
                        }
                    }
                    _ => {}
                }
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    chart.title = tidy(&chart.title);
    chart.axis_titles = chart
        .axis_titles
        .iter()
        .map(|t| tidy(t))
        .filter(|t| !t.is_empty())
        .collect();
    Ok(chart)
}

fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn axis(path: &[Vec<u8>]) -> bool {
    path.last()
        .is_some_and(|p| matches!(p.as_slice(), b"valAx" | b"catAx" | b"dateAx" | b"serAx"))
}

/// What the title being read belongs to: the element just outside the
/// outermost `title` (`chart` or an axis).
fn title_owner(path: &[Vec<u8>]) -> Option<&[u8]> {
    let at = path.iter().position(|p| p == b"title")?;
    Some(path.get(at.checked_sub(1)?)?.as_slice())
}

fn title_text<'c>(chart: &'c mut Chart, path: &[Vec<u8>]) -> Option<&'c mut String> {
    match title_owner(path)? {
        b"chart" => Some(&mut chart.title),
        b"valAx" | b"catAx" | b"dateAx" | b"serAx" => chart.axis_titles.last_mut(),
        _ => None,
    }
}

/// Which part of the series the open elements are in: the child of `ser`.
fn slot(path: &[Vec<u8>]) -> Option<Slot> {
    let at = path.iter().rposition(|p| p == b"ser")?;
    match path.get(at + 1)?.as_slice() {
        b"tx" => Some(Slot::Name),
        b"cat" | b"xVal" => Some(Slot::Category),
        b"val" | b"yVal" => Some(Slot::Value),
        b"bubbleSize" => Some(Slot::Size),
        _ => None,
    }
}

fn store(s: &mut Series, slot: Option<Slot>, point: Option<usize>, text: String) {
    let shown = |text: String| text.trim().parse::<f64>().map_or(text, number);
    match (slot, point) {
        (Some(Slot::Name), _) => s.name.push_str(&text),
        (Some(slot), Some(i)) if i < MAX_POINTS => match slot {
            Slot::Category => {
                if s.levels.is_empty() {
                    s.levels.push(BTreeMap::new());
                }
                if let Some(level) = s.levels.last_mut() {
                    level.insert(i, shown(text));
                }
            }
            Slot::Value => {
                s.values.insert(i, shown(text));
            }
            Slot::Size => {
                s.sizes.insert(i, shown(text));
            }
            Slot::Name => {}
        },
        _ => {}
    }
}

fn to_table(chart: Chart) -> Option<Table> {
    let Chart {
        title,
        kinds,
        axis_titles,
        series,
    } = chart;
    let points = series.iter().map(Series::points).max().unwrap_or(0);
    if points == 0 {
        return None;
    }
    let total_series = series.len();
    let shown: Vec<(usize, &Series)> = series.iter().enumerate().take(MAX_SHOWN_SERIES).collect();
    let sized = shown.iter().any(|(_, s)| !s.sizes.is_empty());
    // Shared categories: every series that has categories has the same.
    let with_categories: Vec<Vec<Option<String>>> = shown
        .iter()
        .filter(|(_, s)| s.levels.iter().any(|l| !l.is_empty()))
        .map(|(_, s)| s.categories(points))
        .collect();
    let shared = with_categories.windows(2).all(|w| w[0] == w[1]);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut total_rows = 0usize;
    if shared {
        let categories = with_categories.into_iter().next();
        let mut header = vec![String::new()];
        for (i, s) in &shown {
            header.push(s.label(*i));
            if sized {
                header.push(format!("{} (size)", s.label(*i)));
            }
        }
        rows.push(header);
        total_rows = points;
        for i in 0..points.min(MAX_SHOWN_ROWS) {
            let category = categories
                .as_ref()
                .and_then(|c| c.get(i).cloned().flatten())
                .unwrap_or_else(|| (i + 1).to_string());
            let mut row = vec![category];
            for (_, s) in &shown {
                row.push(s.values.get(&i).cloned().unwrap_or_default());
                if sized {
                    row.push(s.sizes.get(&i).cloned().unwrap_or_default());
                }
            }
            rows.push(row);
        }
    } else {
        let mut header = vec!["Series".to_owned(), "X".to_owned(), "Y".to_owned()];
        if sized {
            header.push("Size".to_owned());
        }
        rows.push(header);
        for (index, s) in &shown {
            for i in 0..s.points() {
                total_rows += 1;
                if rows.len() > MAX_SHOWN_ROWS {
                    continue;
                }
                let mut row = vec![
                    s.label(*index),
                    s.category(i).unwrap_or_else(|| (i + 1).to_string()),
                    s.values.get(&i).cloned().unwrap_or_default(),
                ];
                if sized {
                    row.push(s.sizes.get(&i).cloned().unwrap_or_default());
                }
                rows.push(row);
            }
        }
    }
    let mut name = if !title.is_empty() {
        format!("Chart: {title}")
    } else if kinds.is_empty() {
        "Chart".to_owned()
    } else {
        format!("Chart ({})", kinds.join(", "))
    };
    if !axis_titles.is_empty() {
        name.push_str(&format!(" (axes: {})", axis_titles.join("; ")));
    }
    let mut left_out = Vec::new();
    if rows.len() - 1 < total_rows {
        left_out.push(format!(
            "first {} of {total_rows} {}",
            rows.len() - 1,
            if shared { "categories" } else { "points" }
        ));
    }
    if shown.len() < total_series {
        left_out.push(format!("{} of {total_series} series", shown.len()));
    }
    if !left_out.is_empty() {
        name.push_str(&format!(" [{} shown]", left_out.join(", ")));
    }
    Some(Table {
        name: Some(name),
        header: true,
        rows,
        page: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = r#"xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main""#;

    fn table(body: &str) -> Table {
        let xml = format!(r#"<c:chartSpace {NS}><c:chart>{body}</c:chart></c:chartSpace>"#);
        chart_table(
            xml.as_bytes(),
            "chart1.xml",
            "pptx",
            &ParseOptions::default(),
        )
        .expect("a well-formed chart")
        .expect("a chart with data")
    }

    fn pts(values: &[&str]) -> String {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| format!(r#"<c:pt idx="{i}"><c:v>{v}</c:v></c:pt>"#))
            .collect()
    }

    #[test]
    fn titles_from_rich_text_and_references_and_axis_titles() {
        let t = table(&format!(
            r#"<c:title><c:tx><c:strRef><c:f>Sheet1!$A$1</c:f><c:strCache><c:pt idx="0"><c:v>Revenue</c:v></c:pt></c:strCache></c:strRef></c:tx></c:title>
<c:plotArea><c:lineChart><c:ser><c:tx><c:v>North</c:v></c:tx>
<c:dLbls><c:dLbl><c:idx val="0"/><c:tx><c:strRef><c:strCache><c:pt idx="0"><c:v>not a name</c:v></c:pt></c:strCache></c:strRef></c:tx></c:dLbl></c:dLbls>
<c:cat><c:strRef><c:strCache>{}</c:strCache></c:strRef></c:cat><c:val><c:numRef><c:numCache>{}</c:numCache></c:numRef></c:val></c:ser></c:lineChart>
<c:catAx><c:title><c:tx><c:rich><a:p><a:r><a:t>Quarter</a:t></a:r></a:p></c:rich></c:tx></c:title></c:catAx>
<c:valAx><c:title><c:tx><c:rich><a:p><a:r><a:t>Units</a:t></a:r></a:p><a:p><a:r><a:t>(thousands)</a:t></a:r></a:p></c:rich></c:tx></c:title></c:valAx></c:plotArea>"#,
            pts(&["Q1", "Q2"]),
            pts(&["1.5", "2.0000000000000004"])
        ));
        assert_eq!(
            t.name.as_deref(),
            Some("Chart: Revenue (axes: Quarter; Units (thousands))")
        );
        assert_eq!(
            t.rows,
            vec![vec!["", "North"], vec!["Q1", "1.5"], vec!["Q2", "2"]]
        );
    }

    #[test]
    fn multi_level_categories_join_outer_to_inner() {
        let levels = r#"<c:multiLvlStrRef><c:multiLvlStrCache><c:ptCount val="3"/>
<c:lvl><c:pt idx="0"><c:v>London</c:v></c:pt><c:pt idx="1"><c:v>Glasgow</c:v></c:pt><c:pt idx="2"><c:v>SF</c:v></c:pt></c:lvl>
<c:lvl><c:pt idx="0"><c:v>GB</c:v></c:pt><c:pt idx="2"><c:v>US</c:v></c:pt></c:lvl></c:multiLvlStrCache></c:multiLvlStrRef>"#;
        let t = table(&format!(
            r#"<c:plotArea><c:barChart><c:ser><c:cat>{levels}</c:cat><c:val><c:numRef><c:numCache>{}</c:numCache></c:numRef></c:val></c:ser></c:barChart></c:plotArea>"#,
            pts(&["1", "2", "3"])
        ));
        assert_eq!(t.name.as_deref(), Some("Chart (bar)"));
        assert_eq!(
            t.rows,
            vec![
                vec!["", "Series 1"],
                vec!["GB / London", "1"],
                vec!["GB / Glasgow", "2"],
                vec!["US / SF", "3"]
            ]
        );
    }

    #[test]
    fn series_with_their_own_x_values_become_a_row_per_point() {
        let ser = |name: &str, x: &[&str], y: &[&str], size: &[&str]| {
            format!(
                r#"<c:ser><c:tx><c:v>{name}</c:v></c:tx><c:xVal><c:numRef><c:numCache>{}</c:numCache></c:numRef></c:xVal><c:yVal><c:numRef><c:numCache>{}</c:numCache></c:numRef></c:yVal><c:bubbleSize><c:numRef><c:numCache>{}</c:numCache></c:numRef></c:bubbleSize></c:ser>"#,
                pts(x),
                pts(y),
                pts(size)
            )
        };
        let t = table(&format!(
            "<c:plotArea><c:bubbleChart>{}{}</c:bubbleChart></c:plotArea>",
            ser("A", &["0.7", "1.8"], &["2.7", "3.2"], &["10", "4"]),
            ser("B", &["5"], &["6"], &["8"])
        ));
        assert_eq!(t.name.as_deref(), Some("Chart (bubble)"));
        assert_eq!(
            t.rows,
            vec![
                vec!["Series", "X", "Y", "Size"],
                vec!["A", "0.7", "2.7", "10"],
                vec!["A", "1.8", "3.2", "4"],
                vec!["B", "5", "6", "8"]
            ]
        );
    }

    #[test]
    fn long_charts_are_cut_and_say_so() {
        let values: Vec<String> = (0..300).map(|i| i.to_string()).collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let series: String = (0..30)
            .map(|_| {
                format!(
                    "<c:ser><c:val><c:numRef><c:numCache>{}</c:numCache></c:numRef></c:val></c:ser>",
                    pts(&values)
                )
            })
            .collect();
        let t = table(&format!(
            "<c:plotArea><c:areaChart>{series}</c:areaChart></c:plotArea>"
        ));
        assert_eq!(
            t.name.as_deref(),
            Some("Chart (area) [first 200 of 300 categories, 24 of 30 series shown]")
        );
        assert_eq!(t.rows.len(), 201);
        assert_eq!(t.rows[0].len(), 25);
        assert_eq!(t.rows[200][0], "200");
    }
}

//! Charts outside slides: XLSX charts on worksheets (through the sheet's
//! drawing) and chartsheets, and a DOCX chart drawn in a table cell.
//!
//! Real workbooks (see `fixtures/office/README.md`): `chart_bar14.xlsx`,
//! `chart_bar16.xlsx` and `chart_clustered01.xlsx` from XlsxWriter's
//! comparison tests (`xlsxwriter/test/comparison/xlsx_files/`, BSD-2-Clause),
//! files saved by Excel 2007 that XlsxWriter's output is checked against.
//! The rest are built here from XML parts, to pin the title, series names,
//! categories, anchor order and broken parts.

use ffmcp_docparse::{
    Document, Format, ParseOptions, formats,
    model::{Block, Table},
    render::{OutputFormat, render},
};

use super::office_support::{W_NS, package, rezip, root_rels, unzip};

const BAR14: &[u8] = include_bytes!("../fixtures/office/xlsxwriter-chart_bar14.xlsx");
const BAR16: &[u8] = include_bytes!("../fixtures/office/xlsxwriter-chart_bar16.xlsx");
const CLUSTERED: &[u8] = include_bytes!("../fixtures/office/xlsxwriter-chart_clustered01.xlsx");

fn parse(format: Format, bytes: &[u8]) -> Document {
    formats::parse(format, bytes, &ParseOptions::default()).unwrap()
}

/// The tables of the document named like a chart.
fn charts(doc: &Document) -> Vec<&Table> {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Table(t) if t.name.as_deref().is_some_and(|n| n.starts_with("Chart")) => Some(t),
            _ => None,
        })
        .collect()
}

/// Excel's workbook: two charts on Sheet2 (anchored at E9 and F25), empty
/// Sheet1 and Sheet3, and a chartsheet last. Each chart follows its sheet's
/// cells in the sheet's section, the chartsheet is a section of its own.
#[test]
fn xlsx_real_workbook_charts_follow_their_sheet_and_chartsheets_are_sections() {
    let doc = parse(Format::Xlsx, BAR14);
    let values = "| 1 | 1 | 2 | 3 |\n| 2 | 2 | 4 | 6 |\n| 3 | 3 | 6 | 9 |\n| 4 | 4 | 8 | 12 |\n| 5 | 5 | 10 | 15 |\n";
    let header = "|  | Series 1 | Series 2 | Series 3 |\n| --- | --- | --- | --- |\n";
    assert_eq!(
        render(&doc, OutputFormat::Markdown),
        format!(
            "## Sheet1\n\n## Sheet2\n\n|  |  |  |\n| --- | --- | --- |\n| 1 | 2 | 3 |\n| 2 | 4 | 6 |\n| 3 | 6 | 9 |\n| 4 | 8 | 12 |\n| 5 | 10 | 15 |\n| http://www.perl.com/ |  |  |\n\n\
**Chart (bar)**\n\n{header}{values}\n\
**Chart (bar)**\n\n|  | Series 1 |\n| --- | --- |\n| 1 | 1 |\n| 2 | 2 |\n| 3 | 3 |\n| 4 | 4 |\n| 5 | 5 |\n\n\
## Sheet3\n\n## Chart1\n\n**Chart (bar)**\n\n{header}{values}"
        )
    );
    assert_eq!(doc.metadata.pages, Some(4));
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    let pages: Vec<Option<u32>> = charts(&doc).iter().map(|t| t.page).collect();
    assert_eq!(pages, [Some(2), Some(2), Some(4)]);
    let text = render(&doc, OutputFormat::Text);
    assert!(
        text.contains("Chart1\n\nChart (bar)\n\tSeries 1\tSeries 2\tSeries 3\n1\t1\t2\t3\n"),
        "{text}"
    );
}

/// Excel's chartsheet with a chart title and axis titles, and a sheet chart
/// with named series over two-level categories.
#[test]
fn xlsx_real_titles_series_names_and_category_levels() {
    let doc = parse(Format::Xlsx, BAR16);
    let md = render(&doc, OutputFormat::Markdown);
    assert!(
        md.ends_with("## Chart1\n\n**Chart: Title (axes: Pear; Apple)**\n\n|  | Series 1 | Series 2 | Series 3 |\n| --- | --- | --- | --- |\n| 1 | 1 | 2 | 3 |\n| 2 | 2 | 4 | 6 |\n| 3 | 3 | 6 | 9 |\n| 4 | 4 | 8 | 12 |\n| 5 | 5 | 10 | 15 |\n"),
        "{md}"
    );

    let doc = parse(Format::Xlsx, CLUSTERED);
    let found = charts(&doc);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name.as_deref(), Some("Chart (bar)"));
    assert_eq!(
        found[0].rows,
        [
            ["", "Value 1", "Value 2", "Value 3"],
            ["Type 1 / Sub Type A", "5000", "8000", "6000"],
            ["Type 1 / Sub Type B", "2000", "3000", "4000"],
            ["Type 1 / Sub Type C", "250", "1000", "2000"],
            ["Type 2 / Sub Type D", "6000", "6000", "6500"],
            ["Type 2 / Sub Type E", "500", "300", "200"],
        ]
    );
    // The chart comes after the sheet's own table, in its section.
    assert!(matches!(
        doc.blocks.as_slice(),
        [Block::Heading { .. }, Block::Table(cells), Block::Table(_)] if cells.name.as_deref() == Some("Sheet1")
    ));
}

/// The real workbook without Sheet2's drawing part: a warning, and every
/// sheet, Sheet2's cells and the chartsheet's chart still render.
#[test]
fn xlsx_real_workbook_with_a_missing_drawing_keeps_the_rest() {
    let members: Vec<(String, Vec<u8>)> = unzip(BAR14)
        .into_iter()
        .filter(|(name, _)| name != "xl/drawings/drawing1.xml")
        .collect();
    let doc = parse(Format::Xlsx, &rezip(&members));
    assert_eq!(
        doc.warnings,
        ["sheet 'Sheet2': drawing 'xl/drawings/drawing1.xml' is missing; its charts were skipped"]
    );
    let md = render(&doc, OutputFormat::Markdown);
    assert!(md.contains("| 5 | 10 | 15 |\n"), "{md}");
    assert!(md.ends_with("## Chart1\n\n**Chart (bar)**\n\n|  | Series 1 | Series 2 | Series 3 |\n| --- | --- | --- | --- |\n| 1 | 1 | 2 | 3 |\n| 2 | 2 | 4 | 6 |\n| 3 | 3 | 6 | 9 |\n| 4 | 4 | 8 | 12 |\n| 5 | 5 | 10 | 15 |\n"), "{md}");
    assert_eq!(charts(&doc).len(), 1);
}

const X_NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

fn rels(entries: &[(&str, &str, &str)]) -> String {
    let body: String = entries
        .iter()
        .map(|(id, kind, target)| {
            format!(r#"<Relationship Id="{id}" Type="{REL}/{kind}" Target="{target}"/>"#)
        })
        .collect();
    format!(
        r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>"#
    )
}

/// A worksheet whose one row holds `cells` (inline strings).
fn worksheet(cells: &[&str], drawing: bool) -> String {
    let row: String = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                r#"<c r="{}1" t="inlineStr"><is><t>{c}</t></is></c>"#,
                (b'A' + i as u8) as char
            )
        })
        .collect();
    let drawing = if drawing {
        r#"<drawing r:id="rId1"/>"#
    } else {
        ""
    };
    format!(
        r#"<worksheet {X_NS}><sheetData><row r="1">{row}</row></sheetData>{drawing}</worksheet>"#
    )
}

/// A drawing whose anchors sit at (row, column) and show chart `rId`s.
fn drawing(anchors: &[(u32, u32, &str)]) -> String {
    let body: String = anchors
        .iter()
        .map(|(row, col, id)| {
            format!(
                r#"<xdr:twoCellAnchor><xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>{}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="Chart"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr><xdr:xfrm/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="{id}"/></a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>"#,
                col + 7,
                row + 14
            )
        })
        .collect();
    format!(
        r#"<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="{REL}">{body}</xdr:wsDr>"#
    )
}

/// A titled bar chart: one named series over string categories.
fn chart(title: &str, series: &str, points: &[(&str, &str)]) -> String {
    let cats: String = points
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!(r#"<c:pt idx="{i}"><c:v>{c}</c:v></c:pt>"#))
        .collect();
    let vals: String = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| format!(r#"<c:pt idx="{i}"><c:v>{v}</c:v></c:pt>"#))
        .collect();
    format!(
        r#"<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><c:chart><c:title><c:tx><c:rich><a:p><a:r><a:t>{title}</a:t></a:r></a:p></c:rich></c:tx></c:title><c:plotArea><c:barChart><c:ser><c:idx val="0"/><c:tx><c:strRef><c:f>Data!$B$1</c:f><c:strCache><c:pt idx="0"><c:v>{series}</c:v></c:pt></c:strCache></c:strRef></c:tx><c:cat><c:strRef><c:strCache>{cats}</c:strCache></c:strRef></c:cat><c:val><c:numRef><c:numCache>{vals}</c:numCache></c:numRef></c:val></c:ser></c:barChart></c:plotArea></c:chart></c:chartSpace>"#
    )
}

/// Sheets: Data (two charts, anchored lower one first in the drawing),
/// Sales (a chartsheet), Broken (its drawing part is missing), Bad chart
/// (a drawing whose charts are malformed XML, an unknown relationship and
/// a missing part) and After.
fn charted_workbook() -> Vec<u8> {
    let workbook = format!(
        r#"<workbook {X_NS}><sheets><sheet name="Data" sheetId="1" r:id="rId1"/><sheet name="Sales" sheetId="2" r:id="rId2"/><sheet name="Broken" sheetId="3" r:id="rId3"/><sheet name="Bad chart" sheetId="4" r:id="rId4"/><sheet name="After" sheetId="5" r:id="rId5"/></sheets></workbook>"#
    );
    let workbook_rels = rels(&[
        ("rId1", "worksheet", "worksheets/sheet1.xml"),
        ("rId2", "chartsheet", "chartsheets/sheet1.xml"),
        ("rId3", "worksheet", "worksheets/sheet2.xml"),
        ("rId4", "worksheet", "worksheets/sheet3.xml"),
        ("rId5", "worksheet", "worksheets/sheet4.xml"),
    ]);
    let chartsheet = format!(
        r#"<chartsheet {X_NS}><sheetViews><sheetView workbookViewId="0"/></sheetViews><drawing r:id="rId1"/></chartsheet>"#
    );
    let absolute = format!(
        r#"<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="{REL}"><xdr:absoluteAnchor><xdr:pos x="0" y="0"/><xdr:ext cx="9308969" cy="6078325"/><xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="Chart 1"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr><xdr:xfrm/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="rId1"/></a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:absoluteAnchor></xdr:wsDr>"#
    );
    let to_drawing = |n: u32| rels(&[("rId1", "drawing", &format!("../drawings/drawing{n}.xml"))]);
    let parts: Vec<(String, String)> = vec![
        ("_rels/.rels".into(), root_rels("xl/workbook.xml")),
        ("xl/workbook.xml".into(), workbook),
        ("xl/_rels/workbook.xml.rels".into(), workbook_rels),
        (
            "xl/worksheets/sheet1.xml".into(),
            worksheet(&["Quarter", "Revenue"], true),
        ),
        ("xl/worksheets/_rels/sheet1.xml.rels".into(), to_drawing(1)),
        (
            "xl/drawings/drawing1.xml".into(),
            drawing(&[(30, 1, "rId2"), (4, 3, "rId1")]),
        ),
        (
            "xl/drawings/_rels/drawing1.xml.rels".into(),
            rels(&[
                ("rId1", "chart", "../charts/chart1.xml"),
                ("rId2", "chart", "../charts/chart2.xml"),
            ]),
        ),
        (
            "xl/charts/chart1.xml".into(),
            chart(
                "Revenue by quarter",
                "North",
                &[("Q1", "10"), ("Q2", "12.5")],
            ),
        ),
        (
            "xl/charts/chart2.xml".into(),
            chart("Costs", "Travel", &[("Jan", "3")]),
        ),
        ("xl/chartsheets/sheet1.xml".into(), chartsheet),
        ("xl/chartsheets/_rels/sheet1.xml.rels".into(), to_drawing(2)),
        ("xl/drawings/drawing2.xml".into(), absolute),
        (
            "xl/drawings/_rels/drawing2.xml.rels".into(),
            rels(&[("rId1", "chart", "../charts/chart3.xml")]),
        ),
        (
            "xl/charts/chart3.xml".into(),
            chart(
                "Sales by region",
                "South",
                &[("East", "7"), ("West", "0.25")],
            ),
        ),
        (
            "xl/worksheets/sheet2.xml".into(),
            worksheet(&["still here"], true),
        ),
        ("xl/worksheets/_rels/sheet2.xml.rels".into(), to_drawing(9)),
        (
            "xl/worksheets/sheet3.xml".into(),
            worksheet(&["cells kept"], true),
        ),
        ("xl/worksheets/_rels/sheet3.xml.rels".into(), to_drawing(3)),
        (
            "xl/drawings/drawing3.xml".into(),
            drawing(&[
                (0, 0, "rId1"),
                (1, 0, "rId7"),
                (2, 0, "rId2"),
                (3, 0, "rId3"),
            ]),
        ),
        (
            "xl/drawings/_rels/drawing3.xml.rels".into(),
            rels(&[
                ("rId1", "chart", "../charts/chart4.xml"),
                ("rId2", "chart", "../charts/chart5.xml"),
                ("rId3", "chart", "../charts/chart6.xml"),
            ]),
        ),
        (
            "xl/charts/chart4.xml".into(),
            "<c:chartSpace><c:chart>".into(),
        ),
        (
            "xl/charts/chart6.xml".into(),
            chart("Survivor", "Kept", &[("only", "1")]),
        ),
        (
            "xl/worksheets/sheet4.xml".into(),
            worksheet(&["the end"], false),
        ),
    ];
    let members: Vec<(&str, &[u8])> = parts
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_bytes()))
        .collect();
    package(&members)
}

/// Title, series name, categories and values of sheet and chartsheet
/// charts in Markdown, text and the document model; anchor order; broken
/// drawings and charts cost a warning each and nothing else.
#[test]
fn xlsx_charts_in_markdown_text_and_the_model_and_broken_parts_warn() {
    let doc = parse(Format::Xlsx, &charted_workbook());
    assert_eq!(
        render(&doc, OutputFormat::Markdown),
        "## Data\n\n| Quarter | Revenue |\n| --- | --- |\n\n\
**Chart: Revenue by quarter**\n\n|  | North |\n| --- | --- |\n| Q1 | 10 |\n| Q2 | 12.5 |\n\n\
**Chart: Costs**\n\n|  | Travel |\n| --- | --- |\n| Jan | 3 |\n\n\
## Sales\n\n**Chart: Sales by region**\n\n|  | South |\n| --- | --- |\n| East | 7 |\n| West | 0.25 |\n\n\
## Broken\n\n| still here |\n| --- |\n\n\
## Bad chart\n\n| cells kept |\n| --- |\n\n\
**Chart: Survivor**\n\n|  | Kept |\n| --- | --- |\n| only | 1 |\n\n\
## After\n\n| the end |\n| --- |\n"
    );
    let text = render(&doc, OutputFormat::Text);
    assert!(
        text.contains("Sales\n\nChart: Sales by region\n\tSouth\nEast\t7\nWest\t0.25\n"),
        "{text}"
    );
    let found = charts(&doc);
    let names: Vec<&str> = found.iter().filter_map(|t| t.name.as_deref()).collect();
    assert_eq!(
        names,
        [
            "Chart: Revenue by quarter",
            "Chart: Costs",
            "Chart: Sales by region",
            "Chart: Survivor"
        ]
    );
    assert_eq!(
        found[2].rows,
        [["", "South"], ["East", "7"], ["West", "0.25"]]
    );
    assert!(found[2].header);
    let pages: Vec<Option<u32>> = found.iter().map(|t| t.page).collect();
    assert_eq!(pages, [Some(1), Some(1), Some(2), Some(4)]);
    assert_eq!(doc.metadata.pages, Some(5));
    assert_eq!(doc.warnings.len(), 4, "{:?}", doc.warnings);
    let expected = [
        "sheet 'Broken': drawing 'xl/drawings/drawing9.xml' is missing",
        "sheet 'Bad chart': chart 'xl/charts/chart4.xml' could not be read",
        "sheet 'Bad chart': a chart in drawing 'xl/drawings/drawing3.xml' points at relationship 'rId7'",
        "sheet 'Bad chart': chart 'xl/charts/chart5.xml' is missing",
    ];
    for (warning, start) in doc.warnings.iter().zip(expected) {
        assert!(warning.starts_with(start), "{warning}");
    }
}

/// A malformed drawing part is a warning too; a drawing reads at most 1000
/// charts; a depth bomb in a chart is still a limit that ends the call.
#[test]
fn xlsx_malformed_drawing_warns_and_chart_limits_still_hold() {
    let members = unzip(&charted_workbook());
    let with = |name: &str, content: Vec<u8>| -> Vec<u8> {
        let replaced: Vec<(String, Vec<u8>)> = members
            .iter()
            .map(|(n, c)| {
                (
                    n.clone(),
                    if n == name {
                        content.clone()
                    } else {
                        c.clone()
                    },
                )
            })
            .collect();
        rezip(&replaced)
    };
    let doc = parse(
        Format::Xlsx,
        &with("xl/drawings/drawing1.xml", b"<xdr:wsDr><oops".to_vec()),
    );
    assert!(
        doc.warnings[0].starts_with("sheet 'Data': drawing 'xl/drawings/drawing1.xml' could not be read; its charts were skipped"),
        "{:?}",
        doc.warnings
    );
    assert!(render(&doc, OutputFormat::Markdown).contains("**Chart: Sales by region**"));

    let many: Vec<(u32, u32, &str)> = (0..1002).map(|i| (i, 0, "rId1")).collect();
    let doc = parse(
        Format::Xlsx,
        &with("xl/drawings/drawing1.xml", drawing(&many).into_bytes()),
    );
    assert_eq!(
        doc.warnings[0],
        "sheet 'Data': drawing 'xl/drawings/drawing1.xml' has 2 more charts than the 1000 read; they were skipped"
    );
    let revenue = charts(&doc)
        .iter()
        .filter(|t| t.name.as_deref() == Some("Chart: Revenue by quarter"))
        .count();
    assert_eq!(revenue, 1000);

    let deep = format!("<c:chartSpace>{}", "<a>".repeat(10_000));
    let err = formats::parse(
        Format::Xlsx,
        &with("xl/charts/chart1.xml", deep.into_bytes()),
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ffmcp_docparse::DocError::Limit(_)), "{err}");
}

/// A chart drawn in a DOCX table cell: the cell names it and the chart's
/// table follows the (outermost) table, captioned with where it was.
/// A DOCX of `document` whose relationship rId9 is the chart part `chart`.
fn docx_with_chart(document: &str, chart: &str) -> Vec<u8> {
    let rels = rels(&[("rId9", "chart", "charts/chart1.xml")]);
    let root = root_rels("word/document.xml");
    package(&[
        ("_rels/.rels", root.as_bytes()),
        ("word/document.xml", document.as_bytes()),
        ("word/_rels/document.xml.rels", rels.as_bytes()),
        ("word/charts/chart1.xml", chart.as_bytes()),
    ])
}

#[test]
fn docx_chart_in_a_table_cell_follows_the_table() {
    let chart = chart(
        "Revenue by quarter",
        "North",
        &[("Q1", "10"), ("Q2", "12.5")],
    );
    let drawn = r#"<w:r><w:drawing><wp:inline><wp:docPr id="1" name="Chart 1"/><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="rId9"/></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"#;
    let cell = |content: &str| format!("<w:tc><w:p>{content}</w:p></w:tc>");
    let nested = format!(
        "<w:tc><w:tbl><w:tr>{}{}</w:tr></w:tbl><w:p/></w:tc>",
        cell("<w:r><w:t>inner</w:t></w:r>"),
        cell(drawn)
    );
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document {W_NS}><w:body><w:p><w:r><w:t>Before</w:t></w:r></w:p><w:tbl><w:tr>{}{}</w:tr><w:tr>{}{nested}</w:tr></w:tbl><w:p><w:r><w:t>After</w:t></w:r></w:p><w:sectPr/></w:body></w:document>"#,
        cell("<w:r><w:t>Region</w:t></w:r>"),
        cell("<w:r><w:t>Trend</w:t></w:r>"),
        cell(&format!("<w:r><w:t>North</w:t></w:r>{drawn}")),
    );
    let bytes = docx_with_chart(&document, &chart);
    let doc = parse(Format::Docx, &bytes);
    let data = "|  | North |\n| --- | --- |\n| Q1 | 10 |\n| Q2 | 12.5 |\n";
    assert_eq!(
        render(&doc, OutputFormat::Markdown),
        format!(
            "Before\n\n| Region | Trend |\n| --- | --- |\n| North<br>Chart: Revenue by quarter (below the table) | inner \\| Chart: Revenue by quarter (below the table) |\n\n\
**Chart: Revenue by quarter (in the table above)**\n\n{data}\n\
**Chart: Revenue by quarter (in the table above)**\n\n{data}\nAfter\n"
        )
    );
    let found = charts(&doc);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].rows, [["", "North"], ["Q1", "10"], ["Q2", "12.5"]]);
}

/// One big chart drawn thousands of times is charged each time it is
/// kept: the memory budget ends the call instead of the copies growing.
#[test]
fn docx_chart_drawn_many_times_is_charged_to_the_budget() {
    let points: Vec<(String, String)> =
        (0..200).map(|i| (format!("c{i}"), i.to_string())).collect();
    let points: Vec<(&str, &str)> = points
        .iter()
        .map(|(c, v)| (c.as_str(), v.as_str()))
        .collect();
    let one = chart("Big", "S", &points);
    // 24 copies of the series: the widest table the chart reader shows.
    let start = one.find("<c:ser>").unwrap();
    let end = one.find("</c:ser>").unwrap() + "</c:ser>".len();
    let big = format!(
        "{}{}{}",
        &one[..start],
        one[start..end].repeat(24),
        &one[end..]
    );
    let drawn = r#"<w:r><w:drawing><wp:inline><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="rId9"/></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"#;
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document {W_NS}><w:body><w:p>{}</w:p></w:body></w:document>"#,
        drawn.repeat(2000)
    );
    let bytes = docx_with_chart(&document, &big);
    let options = ParseOptions {
        limits: ffmcp_docparse::Limits {
            max_expanded_bytes: 32 << 20,
            ..Default::default()
        },
        ..Default::default()
    };
    let err = formats::parse(Format::Docx, &bytes, &options).unwrap_err();
    assert!(
        err.to_string().contains("the charts of the document"),
        "{err}"
    );
}

//! Spreadsheets (XLSX/XLSM, XLS, ODS) through `calamine`: each sheet a
//! heading and a table of cached cell values (formulas as last computed),
//! dates ISO 8601, numbers without float noise. ZIP-based workbooks are
//! first checked through [`ZipSafe`] (entries, sizes, ratios) because
//! calamine opens the container itself; XLSX cells are streamed so
//! [`Limits::max_cells`](crate::Limits) truncates with a warning instead of
//! failing; ODS repeat counts are estimated before calamine expands them.
//! XLSX charts ([`sheet_charts`]) follow their sheet's table in the sheet's
//! section; a chartsheet is a section holding its chart.

use std::{
    io::Cursor,
    panic::{AssertUnwindSafe, catch_unwind},
};

use calamine::{Data, DataRef, ExcelDateTime, Ods, Reader, SheetType, Xls, Xlsx};

use super::{
    ooxml, sheet_charts, sheet_repair, xls_scan,
    xml::{XmlEvent, XmlReader, attr, local},
    zipsafe::ZipSafe,
};
use crate::{
    DocError, Document, ParseOptions,
    model::{Block, Table},
};

/// A cell as text, and whether it holds text (for header detection).
type Cell = (String, bool);
/// A non-empty cell at (row, column).
type Placed = (u32, u32, Cell);

/// Parses a workbook, picking XLSX, XLS or ODS from its bytes.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return parse_xls(bytes, options);
    }
    let zip = ZipSafe::new(bytes, options)?;
    if zip.contains("content.xml") && !zip.contains("xl/workbook.xml") {
        parse_ods(bytes, zip, options, true)
    } else {
        parse_xlsx(bytes, zip, options, true)
    }
}

/// `repair`: on a sheet that calamine refuses, rewrite the cells that do
/// not match their type ([`sheet_repair`]) and read the workbook again,
/// once; a sheet that still fails is skipped with a warning.
fn parse_xlsx(
    bytes: &[u8],
    mut zip: ZipSafe<'_>,
    options: &ParseOptions,
    repair: bool,
) -> Result<Document, DocError> {
    const FORMAT: &str = "xlsx";
    zip.verify_all()?;
    charge_shared_strings(&mut zip, options)?;
    let mut doc = Document::default();
    ooxml::properties(&mut zip, &mut doc.metadata, FORMAT, options)?;
    doc.warnings.append(&mut zip.warnings);
    let mut book: Xlsx<_> = guarded(FORMAT, || Xlsx::new(Cursor::new(bytes)))?
        .map_err(|e| open_error(FORMAT, e.to_string()))?;
    let listed: Vec<(String, bool)> = book
        .sheets_metadata()
        .iter()
        .filter_map(|s| match s.typ {
            SheetType::WorkSheet => Some((s.name.clone(), false)),
            SheetType::ChartSheet => Some((s.name.clone(), true)),
            _ => None,
        })
        .collect();
    let parts = sheet_charts::sheet_parts(&mut zip, options, &mut doc.warnings)?;
    let mut sheets = Sheets::new(&mut doc, options, listed.len());
    for (index, (name, chartsheet)) in listed.iter().enumerate() {
        sheets.checkpoint(index)?;
        let Some(budget) = sheets.budget(name) else {
            break;
        };
        let part = parts.get(name).map(String::as_str);
        if *chartsheet {
            sheets.push(name, index, Vec::new(), false);
            sheets.push_charts(&mut zip, part, name, index)?;
            continue;
        }
        let (cells, truncated) =
            match guarded(FORMAT, || read_xlsx_cells(&mut book, name, budget, options))? {
                Ok(read) => read,
                Err(CellsError::Budget(e)) => return Err(e),
                Err(CellsError::Read(e)) => {
                    if repair && let Some(repaired) = sheet_repair::repair(bytes, options)? {
                        let zip = ZipSafe::new(&repaired.bytes, options)?;
                        let mut doc = parse_xlsx(&repaired.bytes, zip, options, false)?;
                        let mut warnings = repaired.warnings;
                        warnings.append(&mut doc.warnings);
                        doc.warnings = warnings;
                        return Ok(doc);
                    }
                    sheets.doc.warnings.push(format!(
                        "sheet '{name}' could not be read and was skipped: {e}"
                    ));
                    continue;
                }
            };
        let grid = grid_from_cells(cells, name, options)?;
        sheets.push(name, index, grid, truncated);
        sheets.push_charts(&mut zip, part, name, index)?;
    }
    sheets.finish()
}

/// `repair`: when calamine refuses the workbook, rewrite what it trips on
/// ([`sheet_repair::repair_ods`]) and read it again, once.
fn parse_ods(
    bytes: &[u8],
    mut zip: ZipSafe<'_>,
    options: &ParseOptions,
    repair: bool,
) -> Result<Document, DocError> {
    const FORMAT: &str = "ods";
    zip.verify_all()?;
    let mut doc = Document::default();
    if let Some(content) = zip.read("content.xml")? {
        let cells = ods_cell_estimate(&content, options)?;
        if cells > options.limits.max_cells {
            return Err(DocError::Limit(format!(
                "the ODS workbook expands to about {cells} cells; the limit is {}",
                options.limits.max_cells
            )));
        }
    }
    if let Some(meta) = zip.read("meta.xml")? {
        ods_metadata(&meta, &mut doc, options)?;
    }
    doc.warnings.append(&mut zip.warnings);
    let mut book: Ods<_> = match guarded(FORMAT, || Ods::new(Cursor::new(bytes)))? {
        Ok(book) => book,
        Err(e) => {
            if repair && let Some(repaired) = sheet_repair::repair_ods(bytes, options)? {
                let zip = ZipSafe::new(&repaired.bytes, options)?;
                let mut doc = parse_ods(&repaired.bytes, zip, options, false)?;
                let mut warnings = repaired.warnings;
                warnings.append(&mut doc.warnings);
                doc.warnings = warnings;
                return Ok(doc);
            }
            return Err(open_error(FORMAT, e.to_string()));
        }
    };
    ranges(&mut doc, &mut book, FORMAT, options)
}

fn parse_xls(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    const FORMAT: &str = "xls";
    xls_scan::check(bytes, options.limits.max_cells)?;
    let mut doc = Document::default();
    let mut book: Xls<_> = guarded(FORMAT, || Xls::new(Cursor::new(bytes)))?
        .map_err(|e| open_error(FORMAT, e.to_string()))?;
    ranges(&mut doc, &mut book, FORMAT, options)
}

/// Sheets read whole through `worksheet_range` (XLS, ODS).
fn ranges<R, W>(
    doc: &mut Document,
    book: &mut W,
    format: &'static str,
    options: &ParseOptions,
) -> Result<Document, DocError>
where
    R: std::io::Read + std::io::Seek,
    W: Reader<R>,
    W::Error: std::fmt::Display,
{
    let names = worksheet_names(book.sheets_metadata());
    let mut sheets = Sheets::new(doc, options, names.len());
    for (index, name) in names.iter().enumerate() {
        sheets.checkpoint(index)?;
        let Some(budget) = sheets.budget(name) else {
            break;
        };
        let range = guarded(format, || book.worksheet_range(name))?
            .map_err(|e| DocError::malformed(format, format!("sheet '{name}': {e}")))?;
        let mut grid: Vec<Vec<Cell>> = Vec::new();
        let mut count = 0u64;
        let mut truncated = false;
        for row in range.rows() {
            count += row.len() as u64;
            if count > budget {
                truncated = true;
                break;
            }
            let row: Vec<Cell> = row.iter().map(data_text).collect();
            options.charge(
                row.iter().map(|c| cell_footprint(&c.0)).sum::<u64>(),
                || format!("the cells of sheet '{name}'"),
            )?;
            grid.push(row);
        }
        sheets.push(name, index, grid, truncated);
    }
    sheets.finish()
}

/// Collects sheet output, the cell budget and warnings.
struct Sheets<'d> {
    doc: &'d mut Document,
    options: &'d ParseOptions,
    total: usize,
    used: u64,
    done: usize,
}

impl<'d> Sheets<'d> {
    fn new(doc: &'d mut Document, options: &'d ParseOptions, total: usize) -> Self {
        doc.metadata.pages = Some(total as u32);
        Self {
            doc,
            options,
            total,
            used: 0,
            done: 0,
        }
    }

    fn checkpoint(&self, index: usize) -> Result<(), DocError> {
        self.options.checkpoint(index as u32, self.total as u32)
    }

    /// Cells this sheet may still use; `None` (with a warning) once the
    /// workbook's budget or the sheet limit is spent.
    fn budget(&mut self, name: &str) -> Option<u64> {
        let limits = &self.options.limits;
        if self.done >= limits.max_pages as usize {
            self.doc.warnings.push(format!(
                "only the first {} of {} sheets were read",
                limits.max_pages, self.total
            ));
            return None;
        }
        let left = limits.max_cells.saturating_sub(self.used);
        if left == 0 {
            self.doc.warnings.push(format!(
                "sheet '{name}' and later ones skipped: the workbook reached {} cells",
                limits.max_cells
            ));
            return None;
        }
        Some(left)
    }

    fn push(&mut self, name: &str, index: usize, mut grid: Vec<Vec<Cell>>, truncated: bool) {
        trim(&mut grid);
        self.used += grid.iter().map(|r| r.len() as u64).sum::<u64>();
        self.done += 1;
        if truncated {
            self.doc.warnings.push(format!(
                "sheet '{name}' truncated at {} cells",
                self.options.limits.max_cells
            ));
        }
        self.doc.blocks.push(Block::heading(2, name));
        if grid.is_empty() {
            return;
        }
        let header = grid.first().is_some_and(|row| {
            row.iter()
                .all(|(text, is_text)| *is_text && !text.trim().is_empty())
        });
        self.doc.blocks.push(Block::Table(Table {
            name: Some(name.to_owned()),
            header,
            rows: grid
                .into_iter()
                .map(|row| row.into_iter().map(|(text, _)| text).collect())
                .collect(),
            page: Some(index as u32 + 1),
        }));
    }

    /// The charts drawn on the sheet stored in `part` (XLSX), after its
    /// cells, in its section.
    fn push_charts(
        &mut self,
        zip: &mut ZipSafe<'_>,
        part: Option<&str>,
        name: &str,
        index: usize,
    ) -> Result<(), DocError> {
        let Some(part) = part else {
            return Ok(());
        };
        let charts = sheet_charts::sheet_charts(
            zip,
            part,
            name,
            index as u32 + 1,
            self.options,
            &mut self.doc.warnings,
        )?;
        self.doc.blocks.extend(charts.into_iter().map(Block::Table));
        Ok(())
    }

    fn finish(self) -> Result<Document, DocError> {
        self.options
            .checkpoint(self.total as u32, self.total as u32)?;
        Ok(std::mem::take(self.doc))
    }
}

/// Worksheet names in workbook order (chart and macro sheets skipped).
fn worksheet_names(sheets: &[calamine::Sheet]) -> Vec<String> {
    sheets
        .iter()
        .filter(|s| matches!(s.typ, SheetType::WorkSheet))
        .map(|s| s.name.clone())
        .collect()
}

/// Runs calamine code, turning a panic on malformed input into an error.
fn guarded<T>(format: &'static str, f: impl FnOnce() -> T) -> Result<T, DocError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| {
        DocError::malformed(
            format,
            "the workbook is malformed (the spreadsheet reader gave up)",
        )
    })
}

fn open_error(format: &'static str, message: String) -> DocError {
    if message.contains("password") {
        DocError::Encrypted(format!(
            "the {format} workbook is password protected; remove the password first"
        ))
    } else {
        DocError::malformed(format, message)
    }
}

/// Bytes a kept cell holds: its slot and its text.
fn cell_footprint(text: &str) -> u64 {
    (std::mem::size_of::<Placed>() + text.len()) as u64 + if text.is_empty() { 0 } else { 16 }
}

/// Charges the shared-strings table that calamine loads whole when it
/// opens the workbook: each `<si>` becomes a `String` (about 48 bytes
/// beyond its text), so a table of millions of tiny strings costs several
/// times its XML. Charged before calamine builds it.
fn charge_shared_strings(zip: &mut ZipSafe<'_>, options: &ParseOptions) -> Result<(), DocError> {
    let Some(name) = zip
        .names()
        .iter()
        .find(|n| n.eq_ignore_ascii_case("xl/sharedStrings.xml"))
        .cloned()
    else {
        return Ok(());
    };
    let Some(xml) = zip.read(&name)? else {
        return Ok(());
    };
    let strings = xml.windows(3).filter(|w| w == b"<si").count() as u64;
    let size = xml.len() as u64;
    drop(xml);
    options.charge(size + strings * 48, || {
        format!("the shared-strings table ({strings} strings in {size} bytes)")
    })
}

/// Why an XLSX sheet could not be streamed.
enum CellsError {
    Read(calamine::XlsxError),
    Budget(DocError),
}

impl From<calamine::XlsxError> for CellsError {
    fn from(e: calamine::XlsxError) -> Self {
        Self::Read(e)
    }
}

/// Streams an XLSX sheet's cells, stopping after `budget` non-empty ones.
/// Each cell's text is a copy (a shared string referenced by a million
/// cells is a million copies), so every cell is charged as it is read.
fn read_xlsx_cells<R: std::io::Read + std::io::Seek>(
    book: &mut Xlsx<R>,
    name: &str,
    budget: u64,
    options: &ParseOptions,
) -> Result<(Vec<Placed>, bool), CellsError> {
    let mut reader = book.worksheet_cells_reader(name)?;
    let mut cells = Vec::new();
    while let Some(cell) = reader.next_cell()? {
        let value = dataref_text(cell.get_value());
        if value.0.is_empty() {
            continue;
        }
        if cells.len() as u64 >= budget {
            return Ok((cells, true));
        }
        options
            .charge(cell_footprint(&value.0), || {
                format!("the cells of sheet '{name}'")
            })
            .map_err(CellsError::Budget)?;
        let (row, col) = cell.get_position();
        cells.push((row, col, value));
    }
    Ok((cells, false))
}

/// A dense grid from sparse cells, anchored at the first used row/column;
/// rows past the cell budget implied by the cell count are dropped. The
/// blank slots are charged before the grid is allocated.
fn grid_from_cells(
    cells: Vec<Placed>,
    sheet: &str,
    options: &ParseOptions,
) -> Result<Vec<Vec<Cell>>, DocError> {
    let (Some(min_row), Some(min_col)) = (
        cells.iter().map(|c| c.0).min(),
        cells.iter().map(|c| c.1).min(),
    ) else {
        return Ok(Vec::new());
    };
    let max_row = cells.iter().map(|c| c.0).max().unwrap_or(min_row);
    let max_col = cells.iter().map(|c| c.1).max().unwrap_or(min_col);
    let width = (max_col - min_col) as usize + 1;
    let height = (max_row - min_row) as usize + 1;
    // A sparse sheet (A1 and XFD1048576) must not become a dense monster:
    // keep at most 16 blank cells per value, plus a row's worth.
    let allowed = (cells.len() * 16 + width).max(width);
    let rows = height.min(allowed / width.max(1)).max(1);
    let slots = (rows as u64).saturating_mul(width as u64);
    options.charge(slots * std::mem::size_of::<Cell>() as u64, || {
        format!("a grid of {rows} x {width} cells for sheet '{sheet}'")
    })?;
    let mut grid = vec![vec![(String::new(), false); width]; rows];
    for (row, col, value) in cells {
        let (r, c) = ((row - min_row) as usize, (col - min_col) as usize);
        if let Some(slot) = grid.get_mut(r).and_then(|g| g.get_mut(c)) {
            *slot = value;
        }
    }
    Ok(grid)
}

/// Drops trailing empty rows and columns.
fn trim(grid: &mut Vec<Vec<Cell>>) {
    while grid
        .last()
        .is_some_and(|row| row.iter().all(|c| c.0.trim().is_empty()))
    {
        grid.pop();
    }
    let width = grid
        .iter()
        .map(|row| {
            row.iter()
                .rposition(|c| !c.0.trim().is_empty())
                .map_or(0, |i| i + 1)
        })
        .max()
        .unwrap_or(0);
    for row in grid.iter_mut() {
        row.truncate(width);
        row.resize(width, (String::new(), false));
    }
}

fn data_text(data: &Data) -> Cell {
    match data {
        Data::Int(i) => (i.to_string(), false),
        Data::Float(f) => (number(*f), false),
        Data::String(s) => (s.clone(), true),
        Data::Bool(b) => (if *b { "TRUE" } else { "FALSE" }.to_owned(), false),
        Data::DateTime(d) => (datetime(d), false),
        Data::DateTimeIso(s) | Data::DurationIso(s) => (s.clone(), false),
        Data::Error(e) => (e.to_string(), false),
        Data::Empty => (String::new(), false),
    }
}

fn dataref_text(data: &DataRef<'_>) -> Cell {
    match data {
        DataRef::Int(i) => (i.to_string(), false),
        DataRef::Float(f) => (number(*f), false),
        DataRef::String(s) => padded_number(s).unwrap_or_else(|| (s.clone(), true)),
        DataRef::SharedString(s) => ((*s).to_owned(), true),
        DataRef::Bool(b) => (if *b { "TRUE" } else { "FALSE" }.to_owned(), false),
        DataRef::DateTime(d) => (datetime(d), false),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => (s.clone(), false),
        DataRef::Error(e) => (e.to_string(), false),
        DataRef::Empty => (String::new(), false),
    }
}

/// A value cell without a type whose text is a number with whitespace
/// around it (`<v> 99</v>`): calamine reads it as a string; it is the
/// number.
fn padded_number(text: &str) -> Option<Cell> {
    let trimmed = text.trim();
    if trimmed.len() == text.len() || trimmed.is_empty() {
        return None;
    }
    let value: f64 = trimmed.parse().ok()?;
    Some((number(value), false))
}

/// A number as Excel's General format would show it: 15 significant
/// digits, no trailing `.0`, no binary-float noise.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    let text = rounded.to_string();
    if text.contains('e') || text.len() <= 20 {
        text
    } else {
        format!("{rounded:e}")
    }
}

/// An Excel serial date/time as ISO 8601: a date, a time, or both.
fn datetime(value: &ExcelDateTime) -> String {
    let serial = value.as_f64();
    if value.is_duration() {
        let seconds = (serial * 86_400.0).round() as i64;
        let sign = if seconds < 0 { "-" } else { "" };
        let s = seconds.abs();
        return format!("{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    }
    let (y, mo, d, h, mi, s, _) = value.to_ymd_hms_milli();
    let date = format!("{y:04}-{mo:02}-{d:02}");
    let time = format!("{h:02}:{mi:02}:{s:02}");
    if serial.trunc() == 0.0 && serial.fract() != 0.0 {
        time
    } else if (h, mi, s) == (0, 0, 0) {
        date
    } else {
        format!("{date}T{time}")
    }
}

/// Cells an ODS `content.xml` expands to once repeat counts apply (only
/// cells with content count, as trailing formatted-but-empty repeats are
/// normal and calamine does not materialise them).
fn ods_cell_estimate(content: &[u8], options: &ParseOptions) -> Result<u64, DocError> {
    let mut reader = XmlReader::new(content, "ods", "content.xml", options);
    let mut total: u64 = 0;
    let mut row_repeat: u64 = 1;
    let mut row_cells: u64 = 0;
    let repeat = |e: &quick_xml::events::BytesStart<'_>, key: &str, cap: u64| {
        attr(e, key)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1)
            .clamp(1, cap)
    };
    loop {
        match reader.event()? {
            XmlEvent::Start(e) if local(&e) == b"table-row" => {
                row_repeat = repeat(&e, "table:number-rows-repeated", 1 << 20);
                row_cells = 0;
            }
            XmlEvent::End(name) if name == b"table-row" => {
                total = total.saturating_add(row_cells.saturating_mul(row_repeat));
            }
            XmlEvent::Start(e) | XmlEvent::Empty(e)
                if matches!(local(&e), b"table-cell" | b"covered-table-cell")
                    && attr(&e, "office:value-type").is_some() =>
            {
                row_cells += repeat(&e, "table:number-columns-repeated", 1 << 14);
            }
            XmlEvent::Eof => return Ok(total),
            _ => {}
        }
    }
}

/// Fills metadata from an ODF `meta.xml`.
fn ods_metadata(bytes: &[u8], doc: &mut Document, options: &ParseOptions) -> Result<(), DocError> {
    let mut reader = XmlReader::new(bytes, "ods", "meta.xml", options);
    let m = &mut doc.metadata;
    loop {
        let e = match reader.event()? {
            // office:document-meta > office:meta > the properties.
            XmlEvent::Start(e) if reader.depth() == 3 => e,
            XmlEvent::Eof => return Ok(()),
            _ => continue,
        };
        let name = local(&e).to_vec();
        let text = reader.text()?.trim().to_owned();
        if text.is_empty() {
            continue;
        }
        match name.as_slice() {
            b"title" => m.title = Some(text),
            b"subject" => m.subject = Some(text),
            b"description" => {
                m.extra.insert("description".into(), text);
            }
            b"keyword" => {
                m.keywords = Some(match m.keywords.take() {
                    Some(k) => format!("{k}, {text}"),
                    None => text,
                });
            }
            b"initial-creator" => m.author = Some(text),
            b"creator" => {
                m.extra.insert("lastModifiedBy".into(), text);
            }
            b"creation-date" => m.created = Some(text),
            b"date" => m.modified = Some(text),
            b"generator" => m.producer = Some(text),
            b"language" => m.language = Some(text),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_excel() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(-2.5), "-2.5");
        assert_eq!(number(1234567.891), "1234567.891");
        assert_eq!(number(1e20), "1e20");
        assert_eq!(number(1.5e-10), "0.00000000015");
    }

    #[test]
    fn dates_as_iso() {
        use calamine::ExcelDateTimeType::{DateTime, TimeDelta};
        let d = |v| datetime(&ExcelDateTime::new(v, DateTime, false));
        assert_eq!(d(45306.0), "2024-01-15");
        assert_eq!(d(45306.5), "2024-01-15T12:00:00");
        assert_eq!(d(0.75), "18:00:00");
        assert_eq!(
            datetime(&ExcelDateTime::new(1.5, TimeDelta, false)),
            "36:00:00"
        );
    }
}

//! CSV and TSV to one table. The delimiter of a `.csv` is sniffed from the
//! first lines (`,`, `;`, tab or `|`, whichever splits them most
//! consistently); quoted fields, embedded newlines and ragged rows are
//! handled by the `csv` crate.

use crate::{
    DocError, Document, ParseOptions,
    model::{Block, Table},
};

/// Parses `bytes`; `tab` forces tab-separated.
pub fn parse(bytes: &[u8], options: &ParseOptions, tab: bool) -> Result<Document, DocError> {
    let (text, encoding) = super::text::decode(bytes);
    options.charge(text.len() as u64, || "the decoded text".to_owned())?;
    let delimiter = if tab { b'\t' } else { sniff(&text) };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut cells: u64 = 0;
    let mut doc = Document::default();
    for record in reader.records() {
        let record = record.map_err(|e| DocError::malformed("CSV", e.to_string()))?;
        cells += record.len() as u64;
        if cells > options.limits.max_cells {
            doc.warnings.push(format!(
                "table truncated after {} rows (the cell limit is {})",
                rows.len(),
                options.limits.max_cells
            ));
            break;
        }
        options.charge(
            record
                .iter()
                .map(|f| (f.len() + std::mem::size_of::<String>() + 16) as u64)
                .sum::<u64>()
                + 24,
            || format!("the fields of CSV row {}", rows.len() + 1),
        )?;
        rows.push(record.iter().map(str::to_owned).collect::<Vec<_>>());
    }
    while rows
        .last()
        .is_some_and(|r: &Vec<String>| r.iter().all(|c| c.trim().is_empty()))
    {
        rows.pop();
    }
    doc.metadata
        .extra
        .insert("encoding".into(), encoding.into());
    doc.metadata.extra.insert(
        "delimiter".into(),
        char::from(delimiter).escape_default().to_string(),
    );
    doc.metadata
        .extra
        .insert("rows".into(), rows.len().to_string());
    if !rows.is_empty() {
        let header = looks_like_header(&rows);
        doc.blocks.push(Block::Table(Table {
            name: None,
            header,
            rows,
            page: None,
        }));
    }
    Ok(doc)
}

/// The delimiter that gives the first lines the most consistent, >1 field
/// counts.
fn sniff(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let mut best = (b',', 0usize);
    for candidate in [b',', b';', b'\t', b'|'] {
        let counts: Vec<usize> = lines
            .iter()
            .map(|l| l.bytes().filter(|b| *b == candidate).count())
            .collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        if first == 0 {
            continue;
        }
        let consistent = counts.iter().filter(|c| **c == first).count();
        let score = consistent * 100 + first;
        if score > best.1 {
            best = (candidate, score);
        }
    }
    best.0
}

/// A first row of non-empty, non-numeric cells over rows with numbers.
fn looks_like_header(rows: &[Vec<String>]) -> bool {
    let Some(first) = rows.first() else {
        return false;
    };
    let numeric = |c: &str| {
        c.trim()
            .replace([',', '.', '-', '%', '$'], "")
            .parse::<f64>()
            .is_ok()
    };
    let all_text = first.iter().all(|c| !c.trim().is_empty() && !numeric(c));
    all_text && (rows.len() == 1 || rows[1..].iter().any(|r| r != first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{OutputFormat, render};

    #[test]
    fn sniffs_semicolons_and_keeps_quoted_newlines() {
        let src = "name;city;n\n\"Smith; J.\";\"Paris\nFrance\";3\nLee;Oslo;4\n";
        let doc = parse(src.as_bytes(), &ParseOptions::default(), false).expect("parse");
        assert_eq!(
            render(&doc, OutputFormat::Markdown),
            "| name | city | n |\n| --- | --- | --- |\n| Smith; J. | Paris<br>France | 3 |\n| Lee | Oslo | 4 |\n"
        );
    }

    #[test]
    fn tsv_and_numeric_first_rows() {
        let doc = parse(b"1\t2\n3\t4\n", &ParseOptions::default(), true).expect("parse");
        let Block::Table(t) = &doc.blocks[0] else {
            panic!("table")
        };
        assert!(!t.header);
        assert_eq!(t.rows, vec![vec!["1", "2"], vec!["3", "4"]]);
    }
}

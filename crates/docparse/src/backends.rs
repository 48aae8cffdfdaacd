//! Optional helper programs, always through `core::exec` (allowlisted,
//! typed arguments, sandboxed): poppler's `pdftotext` as an alternative PDF
//! text engine, and OCR of pages without a text layer by rendering them
//! with `pdftoppm` and reading them with `tesseract`. The built-in parser
//! never needs them.

use std::sync::Arc;

use ffmcp_core::{
    ToolError,
    exec::{ExecError, Output, Programs, Sandbox},
};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::{
    PageRange,
    model::{Block, Document, Span, inline_text},
};

/// Which engine extracts PDF text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// The built-in parser (always available).
    #[default]
    Builtin,
    /// poppler's pdftotext, when installed (see the `formats` tool).
    Pdftotext,
}

/// Most pages OCR'd in one call (each takes seconds).
pub const MAX_OCR_PAGES: usize = 50;

fn exec_error(err: ExecError) -> ToolError {
    match err {
        ExecError::NotAvailable { .. } => ToolError::invalid(format!(
            "{err}; install it (Debian: poppler-utils, tesseract-ocr) or use the built-in engine"
        )),
        other => ToolError::upstream(other.to_string()),
    }
}

fn check(output: Output) -> Result<Output, ToolError> {
    if output.success() {
        Ok(output)
    } else {
        Err(ToolError::upstream(format!(
            "{} failed ({}): {}",
            output.program,
            output.status,
            output.stderr.trim().chars().take(500).collect::<String>()
        )))
    }
}

/// Text of `pdf` by pdftotext (reading order, no layout), as blocks with
/// page breaks.
pub async fn pdftotext(
    sandbox: &Sandbox,
    programs: &Programs,
    pdf: Arc<Vec<u8>>,
    pages: Option<PageRange>,
) -> Result<Vec<Block>, ToolError> {
    let program = programs.get("pdftotext").map_err(exec_error)?;
    let mut call = program
        .invoke()
        .option("-enc", "UTF-8")
        .map_err(exec_error)?;
    let first = pages.map_or(1, |r| r.first);
    if let Some(range) = pages {
        call = call.option("-f", range.first).map_err(exec_error)?;
        if range.last != u32::MAX {
            call = call.option("-l", range.last).map_err(exec_error)?;
        }
    }
    let call = call
        .input_data("input.pdf", pdf.to_vec())
        .and_then(|c| c.token("-"))
        .map_err(exec_error)?;
    let output = check(sandbox.run(call).await.map_err(exec_error)?)?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut blocks = Vec::new();
    for (i, page) in text.split('\u{c}').enumerate() {
        if page.trim().is_empty() && i > 0 && text.ends_with('\u{c}') {
            continue;
        }
        let number = first + u32::try_from(i).unwrap_or(u32::MAX - first);
        blocks.push(Block::PageBreak { number });
        blocks.extend(paragraphs(page));
    }
    Ok(blocks)
}

/// Paragraphs of plain text: separated by blank lines, lines kept.
fn paragraphs(text: &str) -> Vec<Block> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Block::Paragraph(vec![Span::plain(p)]))
        .collect()
}

/// Pages (1-based) whose blocks hold no text.
pub fn pages_without_text(doc: &Document) -> Vec<u32> {
    let mut empty = Vec::new();
    let mut current: Option<(u32, bool)> = None;
    for block in &doc.blocks {
        match block {
            Block::PageBreak { number } => {
                if let Some((page, false)) = current {
                    empty.push(page);
                }
                current = Some((*number, false));
            }
            Block::Heading { content, .. } | Block::Paragraph(content) => {
                if let Some((_, has_text)) = current.as_mut()
                    && !inline_text(content).trim().is_empty()
                {
                    *has_text = true;
                }
            }
            Block::Table(_) | Block::List { .. } | Block::Code { .. } => {
                if let Some((_, has_text)) = current.as_mut() {
                    *has_text = true;
                }
            }
            _ => {}
        }
    }
    if let Some((page, false)) = current {
        empty.push(page);
    }
    empty
}

/// Validates a tesseract language list (`eng`, `eng+deu`).
pub fn check_language(lang: &str) -> Result<(), ToolError> {
    let ok = !lang.is_empty()
        && lang.len() <= 64
        && lang.split('+').all(|l| {
            (3..=16).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "'ocr_language' must be tesseract language codes like eng or eng+deu; got '{lang}'"
        )))
    }
}

/// OCRs `page` of `pdf`: render at 300 dpi with pdftoppm, read with tesseract.
pub async fn ocr_page(
    sandbox: &Sandbox,
    programs: &Programs,
    pdf: Arc<Vec<u8>>,
    page: u32,
    language: &str,
) -> Result<String, ToolError> {
    let render = programs.get("pdftoppm").map_err(exec_error)?;
    let tesseract = programs.get("tesseract").map_err(exec_error)?;
    let call = render
        .invoke()
        .flag("-png")
        .and_then(|c| c.flag("-singlefile"))
        .and_then(|c| c.flag("-gray"))
        .and_then(|c| c.option("-r", 300u32))
        .and_then(|c| c.option("-f", page))
        .and_then(|c| c.option("-l", page))
        .and_then(|c| c.input_data("input.pdf", pdf.to_vec()))
        .and_then(|c| c.output("page"))
        .map_err(exec_error)?;
    let rendered = check(sandbox.run(call).await.map_err(exec_error)?)?;
    let (_, image) = rendered
        .files
        .into_iter()
        .find(|(name, _)| name.ends_with(".png"))
        .ok_or_else(|| {
            ToolError::upstream(format!("pdftoppm produced no image for page {page}"))
        })?;
    let call = tesseract
        .invoke()
        .input_data("page.png", image)
        .and_then(|c| c.token("stdout"))
        .and_then(|c| c.option("-l", language))
        .map_err(exec_error)?;
    let read = check(sandbox.run(call).await.map_err(exec_error)?)?;
    Ok(String::from_utf8_lossy(&read.stdout).trim().to_owned())
}

/// Inserts OCR text after the page break of `page`.
pub fn insert_page_text(doc: &mut Document, page: u32, text: &str) {
    let Some(at) = doc
        .blocks
        .iter()
        .position(|b| matches!(b, Block::PageBreak { number } if *number == page))
    else {
        return;
    };
    let blocks = paragraphs(text);
    let count = blocks.len();
    doc.blocks.splice(at + 1..at + 1, blocks);
    if count > 0 {
        doc.warnings
            .retain(|w| !(w.contains(&format!("page {page} ")) && w.contains("OCR")));
        doc.warnings
            .push(format!("page {page}: text read by OCR (tesseract)"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_pages_without_text() {
        let doc = Document {
            blocks: vec![
                Block::PageBreak { number: 1 },
                Block::text("words"),
                Block::PageBreak { number: 2 },
                Block::Image { alt: String::new() },
                Block::PageBreak { number: 3 },
                Block::text("  "),
            ],
            ..Document::default()
        };
        assert_eq!(pages_without_text(&doc), vec![2, 3]);
        let mut doc = doc;
        insert_page_text(&mut doc, 2, "scanned line one\n\nline two");
        assert_eq!(pages_without_text(&doc), vec![3]);
        assert!(doc.warnings[0].contains("page 2"));
    }

    #[test]
    fn languages() {
        assert!(check_language("eng").is_ok());
        assert!(check_language("eng+deu+chi_sim").is_ok());
        for bad in ["", "-l", "en", "eng;rm", "../x", "ENG"] {
            assert!(check_language(bad).is_err(), "{bad}");
        }
    }
}

//! One module per format; each exposes
//! `pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError>`.

pub mod chart;
pub mod csv;
pub mod docx;
pub mod docx_body;
pub mod docx_props;
pub mod docx_styles;
pub mod epub;
pub mod html;
mod html_content;
pub mod markdown;
pub mod omml;
pub mod ooxml;
pub mod pdf;
pub mod pptx;
pub mod sheet_charts;
pub mod sheet_repair;
pub mod sheets;
pub mod text;
pub mod xls_scan;
pub mod xml;
pub mod zipsafe;

use crate::{DocError, Document, Format, ParseOptions};

/// Parses `bytes` as `format`, with a fresh memory budget (each call is
/// charged on its own, even when `options` is reused).
pub fn parse(format: Format, bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    let fresh = ParseOptions {
        expanded: std::sync::Arc::default(),
        ..options.clone()
    };
    let options = &fresh;
    match format {
        Format::Pdf => pdf::parse(bytes, options),
        Format::Text => text::parse(bytes, options),
        Format::Docx => docx::parse(bytes, options),
        Format::Xlsx | Format::Xls | Format::Ods => sheets::parse(bytes, options),
        Format::Pptx => pptx::parse(bytes, options),
        Format::Html => html::parse(bytes, options),
        Format::Epub => epub::parse(bytes, options),
        Format::Markdown => markdown::parse(bytes, options),
        Format::Csv => csv::parse(bytes, options, false),
        Format::Tsv => csv::parse(bytes, options, true),
        other => Err(DocError::Unsupported(format!(
            "{} documents are not supported yet",
            other.name()
        ))),
    }
}

/// The formats [`parse`] handles.
pub fn supported() -> Vec<Format> {
    Format::ALL
        .into_iter()
        .filter(|f| {
            matches!(
                f,
                Format::Pdf
                    | Format::Text
                    | Format::Epub
                    | Format::Html
                    | Format::Markdown
                    | Format::Csv
                    | Format::Tsv
                    | Format::Docx
                    | Format::Xlsx
                    | Format::Xls
                    | Format::Ods
                    | Format::Pptx
            )
        })
        .collect()
}

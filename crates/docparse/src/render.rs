//! Rendering a [`Document`] as Markdown or plain text.
//!
//! Markdown aims at what an agent reads best: ATX headings, `-` lists,
//! pipe tables, fenced code, `<!-- page N -->` markers, escaping only what
//! would otherwise change the structure. Plain text follows `pdftotext`'s
//! conventions (a form feed between pages) so the two can be compared.

use crate::model::{Block, Document, ListItem, Math, Span, Table, inline_text};

/// Output format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Markdown,
    Text,
}

/// Renders the whole document.
pub fn render(doc: &Document, format: OutputFormat) -> String {
    render_blocks(&doc.blocks, format)
}

/// Renders the document, stopping at the first block boundary at or past
/// `max_chars` characters; `true` when it stopped early.
pub fn render_limited(doc: &Document, format: OutputFormat, max_chars: usize) -> (String, bool) {
    render_blocks_limited(&doc.blocks, format, max_chars)
}

/// Renders a run of blocks.
pub fn render_blocks(blocks: &[Block], format: OutputFormat) -> String {
    render_blocks_limited(blocks, format, usize::MAX).0
}

fn render_blocks_limited(
    blocks: &[Block],
    format: OutputFormat,
    max_chars: usize,
) -> (String, bool) {
    let mut out = String::new();
    let mut chars = 0usize;
    let mut stopped = false;
    let mut last_heading: Option<String> = None;
    for block in blocks {
        if chars >= max_chars {
            stopped = true;
            break;
        }
        // A sheet's name is already its heading: do not print it twice.
        let unnamed;
        let block = match block {
            Block::Table(table)
                if table.name.is_some() && table.name.as_deref() == last_heading.as_deref() =>
            {
                unnamed = Block::Table(Table {
                    name: None,
                    ..table.clone()
                });
                &unnamed
            }
            _ => block,
        };
        last_heading = match block {
            Block::Heading { content, .. } => Some(inline_text(content).trim().to_owned()),
            _ => None,
        };
        let piece = match format {
            OutputFormat::Markdown => block_markdown(block),
            OutputFormat::Text => block_text(block, 0),
        };
        if piece.is_empty() {
            continue;
        }
        if matches!(block, Block::PageBreak { .. }) && format == OutputFormat::Text {
            // pdftotext separates pages with a form feed and no blank line.
            while out.ends_with('\n') {
                out.pop();
            }
            // No form feed before the first text (e.g. a page range from 5).
            if !out.is_empty() {
                out.push('\n');
                out.push_str(&piece);
                chars += piece.chars().count() + 1;
            }
            continue;
        }
        if !out.is_empty() && !out.ends_with('\u{c}') {
            out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
            chars += 2;
        }
        out.push_str(&piece);
        chars += piece.chars().count();
    }
    let trimmed = out.trim_end_matches(['\n', '\u{c}']).len();
    out.truncate(trimmed);
    if !out.is_empty() {
        out.push('\n');
    }
    (out, stopped)
}

fn block_markdown(block: &Block) -> String {
    match block {
        Block::Heading { level, content } => {
            let text = inline_markdown(content);
            if text.trim().is_empty() {
                String::new()
            } else {
                format!(
                    "{} {}",
                    "#".repeat(usize::from((*level).clamp(1, 6))),
                    text.trim()
                )
            }
        }
        Block::Paragraph(content) => escape_line_starts(inline_markdown(content).trim()),
        Block::List { ordered, items } => list_markdown(*ordered, items),
        Block::Table(table) => table_markdown(table),
        Block::Code { language, text } => {
            let fence = if text.contains("```") { "````" } else { "```" };
            format!(
                "{fence}{}\n{}\n{fence}",
                language.as_deref().unwrap_or(""),
                text.trim_end_matches('\n')
            )
        }
        Block::Quote(blocks) => {
            let inner = blocks
                .iter()
                .map(block_markdown)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            inner
                .lines()
                .map(|l| {
                    if l.is_empty() {
                        ">".to_owned()
                    } else {
                        format!("> {l}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        Block::PageBreak { number } => format!("<!-- page {number} -->"),
        Block::Image { alt } => {
            if alt.trim().is_empty() {
                String::new()
            } else {
                format!("![{}]()", escape_inline(alt.trim()))
            }
        }
        Block::Footnote { id, content } => format!("[^{id}]: {}", inline_markdown(content).trim()),
        Block::Rule => "---".to_owned(),
    }
}

fn block_text(block: &Block, depth: usize) -> String {
    match block {
        Block::Heading { content, .. } | Block::Paragraph(content) => {
            inline_text(content).trim().to_owned()
        }
        Block::List { ordered, items } => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let marker = if *ordered {
                    format!("{}.", i + 1)
                } else {
                    "-".to_owned()
                };
                out.push(format!(
                    "{}{marker} {}",
                    "  ".repeat(depth),
                    inline_text(&item.content).trim()
                ));
                for child in &item.children {
                    let nested = block_text(child, depth + 1);
                    if !nested.is_empty() {
                        out.push(nested);
                    }
                }
            }
            out.join("\n")
        }
        // The caption (a chart's title and axes) is text of the document,
        // as in Markdown.
        Block::Table(table) => table
            .name
            .iter()
            .cloned()
            .chain(table.rows.iter().map(|row| row.join("\t")))
            .collect::<Vec<_>>()
            .join("\n"),
        Block::Code { text, .. } => text.trim_end_matches('\n').to_owned(),
        Block::Quote(blocks) => blocks
            .iter()
            .map(|b| block_text(b, depth))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n"),
        Block::PageBreak { number } => {
            if *number > 1 {
                "\u{c}".to_owned()
            } else {
                String::new()
            }
        }
        Block::Image { .. } | Block::Rule => String::new(),
        Block::Footnote { id, content } => format!("[{id}] {}", inline_text(content).trim()),
    }
}

/// A list; what an item holds (its text's further lines, nested lists,
/// other blocks) is indented by the width of the item's marker, where
/// CommonMark looks for it: two spaces under `- `, three under `1. `, four
/// under `10. ` (two under an ordered item would end the list instead).
fn list_markdown(ordered: bool, items: &[ListItem]) -> String {
    let mut lines = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let marker = if ordered {
            format!("{}.", i + 1)
        } else {
            "-".to_owned()
        };
        let pad = " ".repeat(marker.len() + 1);
        let text = inline_markdown(&item.content);
        let mut text_lines = text.trim().lines();
        lines.push(format!("{marker} {}", text_lines.next().unwrap_or("")));
        lines.extend(text_lines.map(|l| format!("{pad}{l}")));
        for child in &item.children {
            let nested = block_markdown(child);
            if nested.is_empty() {
                continue;
            }
            // A blank line before a paragraph, table or code block keeps it
            // a block of the item instead of a continuation of its text.
            if !matches!(child, Block::List { .. }) {
                lines.push(String::new());
            }
            lines.extend(nested.lines().map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{pad}{l}")
                }
            }));
        }
    }
    lines.join("\n")
}

/// A pipe table; ragged rows are padded, pipes and newlines in cells escaped.
pub fn table_markdown(table: &Table) -> String {
    let width = table.rows.iter().map(Vec::len).max().unwrap_or(0);
    if width == 0 {
        return String::new();
    }
    let cell = |s: &str| {
        s.trim()
            .replace('\\', "\\\\")
            .replace('|', "\\|")
            .replace("\r\n", "<br>")
            .replace('\n', "<br>")
    };
    let row_line = |row: &[String]| {
        let mut cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        cells.resize(width, String::new());
        format!("| {} |", cells.join(" | "))
    };
    let mut lines = Vec::new();
    let mut rows = table.rows.iter();
    let header = if table.header {
        rows.next().map(|r| row_line(r))
    } else {
        None
    };
    lines.push(header.unwrap_or_else(|| row_line(&vec![String::new(); width])));
    lines.push(format!("|{}", " --- |".repeat(width)));
    lines.extend(rows.map(|r| row_line(r)));
    let mut out = String::new();
    if let Some(name) = &table.name {
        out.push_str(&format!("**{}**\n\n", escape_inline(name)));
    }
    out.push_str(&lines.join("\n"));
    out
}

/// Inline spans as Markdown.
pub fn inline_markdown(spans: &[Span]) -> String {
    let mut out = String::new();
    for span in &merge_code(spans) {
        if span.text.is_empty() {
            continue;
        }
        let mut text = if let Some(math) = span.math {
            math_markdown(&span.text, math)
        } else if span.code {
            code_span(&span.text)
        } else {
            escape_inline(&span.text)
        };
        // Emphasis markers must hug the text: keep surrounding spaces outside.
        let wrap = |text: String, marker: &str| {
            let lead = text.len() - text.trim_start().len();
            let trail = text.len() - text.trim_end().len();
            if text.trim().is_empty() {
                return text;
            }
            format!(
                "{}{marker}{}{marker}{}",
                &text[..lead],
                text.trim(),
                &text[text.len() - trail..]
            )
        };
        let plain = !span.code && span.math.is_none();
        if span.bold && plain {
            text = wrap(text, "**");
        }
        if span.italic && plain {
            text = wrap(text, "*");
        }
        if let Some(link) = &span.link {
            text = format!(
                "[{}]({})",
                text.trim(),
                link.replace(' ', "%20").replace(')', "%29")
            );
        }
        out.push_str(&text);
    }
    out
}

/// Adjacent code spans (a run split by formatting the code ignores) as one:
/// written apart, `` `a``b` `` would read as one broken span.
fn merge_code(spans: &[Span]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans.iter().filter(|s| !s.text.is_empty()) {
        if let Some(last) = out.last_mut()
            && last.code
            && span.code
            && last.link == span.link
        {
            last.text.push_str(&span.text);
            continue;
        }
        out.push(span.clone());
    }
    out
}

/// LaTeX between `$` or `$$`; a `$` inside is escaped.
fn math_markdown(tex: &str, math: Math) -> String {
    let tex = tex.trim().replace('$', "\\$");
    match math {
        Math::Inline => format!("${tex}$"),
        Math::Display => format!("$${tex}$$"),
    }
}

/// A code span whose fence is longer than any run of backticks inside,
/// padded with spaces when the code starts or ends with a backtick (or
/// with spaces on both sides, which the parser would strip).
fn code_span(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && !text.trim().is_empty());
    if pad {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// Escapes characters that would start inline markup. Footnote
/// references (`[^id]`) are the one piece of markup parsers put in text on
/// purpose; they pass through.
pub fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = footnote_ref_len(rest) {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        if matches!(c, '\\' | '*' | '_' | '`' | '[' | ']' | '<') {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Length of a `[^id]` footnote reference at the start of `text`.
fn footnote_ref_len(text: &str) -> Option<usize> {
    let id = text.strip_prefix("[^")?;
    let end = id.find(']')?;
    let ok = end > 0
        && end <= 32
        && id[..end]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then_some(end + 3)
}

/// Escapes a paragraph whose lines would otherwise start a heading, list,
/// quote or rule.
fn escape_line_starts(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let starts_block = trimmed.starts_with('#')
                || trimmed.starts_with('>')
                || trimmed.starts_with("- ")
                || trimmed.starts_with("+ ")
                || trimmed == "-"
                || trimmed.starts_with("---")
                || trimmed.starts_with("===")
                || ordered_marker(trimmed);
            if starts_block {
                format!("\\{trimmed}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ordered_marker(line: &str) -> bool {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && digits <= 9 && line[digits..].starts_with(". ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Block, Document, ListItem, Span, Table};

    #[test]
    fn rendering_stops_at_the_output_limit() {
        let doc = Document {
            blocks: (0..1000)
                .map(|i| Block::text(format!("paragraph {i}")))
                .collect(),
            ..Document::default()
        };
        let (full, stopped) = render_limited(&doc, OutputFormat::Markdown, usize::MAX);
        assert!(!stopped);
        assert_eq!(full, render(&doc, OutputFormat::Markdown));
        let (cut, stopped) = render_limited(&doc, OutputFormat::Markdown, 100);
        assert!(stopped);
        // Stops at the first block boundary at or past the limit.
        assert!((100..130).contains(&cut.chars().count()), "{cut:?}");
        assert!(full.starts_with(cut.trim_end()));
    }

    fn doc(blocks: Vec<Block>) -> Document {
        Document {
            blocks,
            ..Document::default()
        }
    }

    #[test]
    fn markdown_of_every_block() {
        let bold = Span {
            text: "bold ".into(),
            bold: true,
            ..Span::default()
        };
        let link = Span {
            text: "site".into(),
            link: Some("https://example.com/a b".into()),
            ..Span::default()
        };
        let d = doc(vec![
            Block::heading(1, "Title"),
            Block::Paragraph(vec![
                Span::plain("A "),
                bold,
                Span::plain("word and a "),
                link,
            ]),
            Block::text("# not a heading * star"),
            Block::List {
                ordered: false,
                items: vec![ListItem {
                    content: vec![Span::plain("one")],
                    children: vec![Block::List {
                        ordered: true,
                        items: vec![ListItem {
                            content: vec![Span::plain("nested")],
                            children: vec![],
                        }],
                    }],
                }],
            },
            Block::Table(Table {
                name: None,
                header: true,
                rows: vec![vec!["a".into(), "b|c".into()], vec!["1".into()]],
                page: None,
            }),
            Block::PageBreak { number: 2 },
            Block::Code {
                language: Some("rust".into()),
                text: "fn main() {}\n".into(),
            },
        ]);
        let md = render(&d, OutputFormat::Markdown);
        assert_eq!(
            md,
            "# Title\n\nA **bold** word and a [site](https://example.com/a%20b)\n\n\\# not a heading \\* star\n\n- one\n  1. nested\n\n| a | b\\|c |\n| --- | --- |\n| 1 |  |\n\n<!-- page 2 -->\n\n```rust\nfn main() {}\n```\n"
        );
    }

    #[test]
    fn a_sheet_named_like_its_heading_is_named_once() {
        let table = |name: &str| {
            Block::Table(Table {
                name: Some(name.into()),
                header: true,
                rows: vec![vec!["a".into()], vec!["1".into()]],
                page: None,
            })
        };
        let d = doc(vec![
            Block::heading(2, "Data"),
            table("Data"),
            table("Other"),
        ]);
        assert_eq!(
            render(&d, OutputFormat::Markdown),
            "## Data\n\n| a |\n| --- |\n| 1 |\n\n**Other**\n\n| a |\n| --- |\n| 1 |\n"
        );
    }

    #[test]
    fn text_uses_form_feeds_between_pages() {
        let d = doc(vec![
            Block::PageBreak { number: 1 },
            Block::text("page one"),
            Block::PageBreak { number: 2 },
            Block::text("page two"),
        ]);
        assert_eq!(render(&d, OutputFormat::Text), "page one\n\u{c}page two\n");
    }
}

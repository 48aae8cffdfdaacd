//! The document model every format parser produces and every renderer
//! consumes. Parsers own fidelity (what the text is, in which order, with
//! which structure); renderers own presentation (Markdown, plain text,
//! chunks). Keep it small: a new format maps onto these blocks, it does not
//! add new ones without a renderer change.

use std::collections::BTreeMap;

use serde::Serialize;

/// A parsed document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub metadata: Metadata,
    /// Content in reading order.
    pub blocks: Vec<Block>,
    /// Bookmarks / table of contents, when the format has one.
    pub outline: Vec<OutlineEntry>,
    /// Things the caller should know (a page with no text layer, a
    /// truncated sheet, an unsupported element that was skipped).
    pub warnings: Vec<String>,
}

/// Document properties; absent fields are `None`, never empty strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keywords: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Creation date, ISO 8601 when it could be parsed, else as found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// The application that made the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    /// Pages (PDF), sheets (spreadsheets), slides (presentations), chapters (EPUB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// Everything else the format carries (e.g. PDF version, XMP fields).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// One outline (bookmark) entry.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OutlineEntry {
    /// 1 for top level.
    pub level: u8,
    pub title: String,
    /// 1-based page the entry points at, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

/// A run of text with uniform formatting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    pub code: bool,
    pub link: Option<String>,
    /// The text is LaTeX math (from MathML, Word equations or `$…$`).
    pub math: Option<Math>,
}

/// How a math span is set: `$…$` in the line, or `$$…$$` on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Math {
    Inline,
    Display,
}

impl Span {
    /// Plain text.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// Inline content: spans in order.
pub type Inline = Vec<Span>;

/// Plain text of inline content.
pub fn inline_text(inline: &[Span]) -> String {
    inline.iter().map(|s| s.text.as_str()).collect()
}

/// A list item; `children` hold a nested list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListItem {
    pub content: Inline,
    pub children: Vec<Block>,
}

/// A table: rows of cells, the first row a header when `header` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Table {
    /// Sheet name or caption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The first row is a header.
    pub header: bool,
    pub rows: Vec<Vec<String>>,
    /// 1-based page (PDF) or sheet index it came from, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

/// A block of content.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Level 1..=6.
    Heading {
        level: u8,
        content: Inline,
    },
    Paragraph(Inline),
    List {
        ordered: bool,
        items: Vec<ListItem>,
    },
    Table(Table),
    Code {
        language: Option<String>,
        text: String,
    },
    Quote(Vec<Block>),
    /// The start of page `number` (1-based), for formats with pages.
    PageBreak {
        number: u32,
    },
    /// An image: its alternative text, if any.
    Image {
        alt: String,
    },
    /// A footnote or endnote body, referenced as `[^id]`.
    Footnote {
        id: String,
        content: Inline,
    },
    Rule,
}

impl Block {
    /// A plain paragraph.
    pub fn text(text: impl Into<String>) -> Self {
        Block::Paragraph(vec![Span::plain(text)])
    }

    /// A plain heading.
    pub fn heading(level: u8, text: impl Into<String>) -> Self {
        Block::Heading {
            level: level.clamp(1, 6),
            content: vec![Span::plain(text)],
        }
    }
}

/// Heap bytes a run of blocks holds, estimated from above (every `String`
/// and `Vec` counted at its length plus allocator rounding): what parsers
/// charge to the call's memory budget for the blocks they keep.
pub fn footprint(blocks: &[Block]) -> u64 {
    blocks.iter().map(block_footprint).sum()
}

/// Per allocation: the allocator's header and rounding.
const ALLOCATION: u64 = 16;

fn text_footprint(text: &str) -> u64 {
    if text.is_empty() {
        0
    } else {
        text.len() as u64 + ALLOCATION
    }
}

fn inline_footprint(inline: &[Span]) -> u64 {
    let spans: u64 = inline
        .iter()
        .map(|s| {
            std::mem::size_of::<Span>() as u64
                + text_footprint(&s.text)
                + s.link.as_deref().map_or(0, text_footprint)
        })
        .sum();
    spans + ALLOCATION
}

fn block_footprint(block: &Block) -> u64 {
    let own = std::mem::size_of::<Block>() as u64;
    own + match block {
        Block::Heading { content, .. }
        | Block::Paragraph(content)
        | Block::Footnote { content, .. } => inline_footprint(content),
        Block::List { items, .. } => items
            .iter()
            .map(|i| {
                std::mem::size_of::<ListItem>() as u64
                    + inline_footprint(&i.content)
                    + footprint(&i.children)
            })
            .sum::<u64>(),
        Block::Table(table) => table
            .rows
            .iter()
            .map(|row| {
                ALLOCATION
                    + row
                        .iter()
                        .map(|c| std::mem::size_of::<String>() as u64 + text_footprint(c))
                        .sum::<u64>()
            })
            .sum::<u64>(),
        Block::Code { text, .. } => text_footprint(text),
        Block::Quote(inner) => footprint(inner) + ALLOCATION,
        Block::Image { alt } => text_footprint(alt),
        Block::PageBreak { .. } | Block::Rule => 0,
    }
}

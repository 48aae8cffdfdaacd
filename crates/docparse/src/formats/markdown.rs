//! Markdown (CommonMark + GFM tables, footnotes, strikethrough) to blocks
//! with `pulldown-cmark`. YAML front matter fills the metadata.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::{
    DocError, Document, ParseOptions,
    model::{Block, Inline, ListItem, Math, Span, Table},
};

/// Parses a Markdown document.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    let (text, _) = super::text::decode(bytes);
    // The decoded and the normalised copy.
    options.charge(2 * text.len() as u64, || "the decoded text".to_owned())?;
    let text = super::text::normalize_newlines(&text);
    if text.chars().count() > options.limits.max_output_chars {
        return Err(DocError::Limit(format!(
            "the text has more than {} characters",
            options.limits.max_output_chars
        )));
    }
    // Raw HTML inside Markdown reaches html5ever-like parsers downstream of
    // agents; keep the same nesting guard as HTML input.
    let depth = ffmcp_core::limits::html_depth(&text);
    if depth > ffmcp_core::limits::MAX_HTML_DEPTH {
        return Err(DocError::Limit(format!(
            "the document nests HTML elements about {depth} levels deep; the limit is {}",
            ffmcp_core::limits::MAX_HTML_DEPTH
        )));
    }
    // pulldown-cmark's work grows with the square of container nesting
    // (`>>>>…`, `- - - …`); refuse deep nesting before it parses.
    let nesting = container_depth(&text);
    if nesting > options.limits.max_depth {
        return Err(DocError::Limit(format!(
            "the Markdown nests block quotes or lists {nesting} levels deep; the limit is {}",
            options.limits.max_depth
        )));
    }
    let mut doc = Document::default();
    let body = front_matter(&text, &mut doc);
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_MATH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS;
    // Events are charged to the memory budget as they are produced.
    let mut events: Vec<Event<'_>> = Vec::new();
    for event in Parser::new_ext(body, opts) {
        if events.len().is_multiple_of(EVENT_BATCH) {
            options.charge(
                (EVENT_BATCH * std::mem::size_of::<Event<'_>>()) as u64,
                || format!("the {} Markdown events parsed so far", events.len()),
            )?;
        }
        events.push(event);
    }
    let mut pos = 0;
    doc.blocks = blocks(&events, &mut pos, None, options.limits.max_depth);
    drop(events);
    options.charge(crate::model::footprint(&doc.blocks), || {
        "the blocks converted from Markdown".to_owned()
    })?;
    if doc.metadata.title.is_none()
        && let Some(Block::Heading { level: 1, content }) = doc.blocks.first()
    {
        doc.metadata.title = Some(crate::model::inline_text(content));
    }
    Ok(doc)
}

/// Events charged to the memory budget at a time.
const EVENT_BATCH: usize = 4096;

/// The deepest nesting of block containers on any line, in one pass (the
/// estimate `transform` uses too).
pub fn container_depth(text: &str) -> usize {
    ffmcp_core::limits::markdown_depth(text)
}

/// Strips `---` YAML front matter, reading `title`, `author`, `date`,
/// `description` and `tags` as simple `key: value` lines.
fn front_matter<'a>(text: &'a str, doc: &mut Document) -> &'a str {
    let Some(rest) = text.strip_prefix("---\n") else {
        return text;
    };
    let Some(end) = rest.find("\n---\n").or_else(|| rest.find("\n...\n")) else {
        return text;
    };
    for line in rest[..end].lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches(['"', '\'']).to_owned();
        if value.is_empty() {
            continue;
        }
        let md = &mut doc.metadata;
        match key.trim().to_ascii_lowercase().as_str() {
            "title" => md.title = Some(value),
            "author" | "authors" => md.author = Some(value),
            "date" => md.created = Some(value),
            "description" | "summary" => md.subject = Some(value),
            "tags" | "keywords" => md.keywords = Some(value),
            "lang" | "language" => md.language = Some(value),
            _ => {}
        }
    }
    &rest[end + 5..]
}

/// Blocks until `end` (or the end of input).
fn blocks(
    events: &[Event<'_>],
    pos: &mut usize,
    end: Option<TagEnd>,
    depth_left: usize,
) -> Vec<Block> {
    let mut out = Vec::new();
    while *pos < events.len() {
        let event = &events[*pos];
        if is_inline(event) {
            // Loose inline content (a tight list item's text): one paragraph.
            let start = *pos;
            let mut nesting = 0usize;
            while let Some(next) = events.get(*pos) {
                match next {
                    Event::End(_) if nesting > 0 => nesting -= 1,
                    Event::Start(_) if is_inline(next) => nesting += 1,
                    _ if nesting > 0 || is_inline(next) => {}
                    _ => break,
                }
                *pos += 1;
            }
            let content = inline(&events[start..*pos], &mut 0, TagEnd::Paragraph);
            if !content.is_empty() {
                out.push(Block::Paragraph(content));
            }
            continue;
        }
        *pos += 1;
        match event {
            Event::End(tag) if Some(*tag) == end => break,
            Event::Start(tag) => {
                if depth_left == 0 {
                    // Too deep: keep the text, drop the structure.
                    let inline = inline(events, pos, tag.to_end());
                    if !inline.is_empty() {
                        out.push(Block::Paragraph(inline));
                    }
                    continue;
                }
                if let Some(block) = block(tag, events, pos, depth_left - 1) {
                    out.push(block);
                }
            }
            Event::Rule => out.push(Block::Rule),
            Event::Text(t) | Event::Code(t) => out.push(Block::text(t.to_string())),
            Event::InlineMath(t) | Event::DisplayMath(t) => {
                out.push(Block::Paragraph(vec![math_span(
                    t,
                    matches!(event, Event::DisplayMath(_)),
                )]))
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                let text = strip_tags(h);
                if !text.trim().is_empty() {
                    out.push(Block::text(text.trim().to_owned()));
                }
            }
            _ => {}
        }
    }
    out
}

fn block(tag: &Tag<'_>, events: &[Event<'_>], pos: &mut usize, depth_left: usize) -> Option<Block> {
    Some(match tag {
        Tag::Heading { level, .. } => Block::Heading {
            level: heading_level(*level),
            content: inline(events, pos, tag.to_end()),
        },
        Tag::Paragraph => {
            let content = inline(events, pos, TagEnd::Paragraph);
            if content.is_empty() {
                return None;
            }
            Block::Paragraph(content)
        }
        Tag::BlockQuote(_) => Block::Quote(blocks(events, pos, Some(tag.to_end()), depth_left)),
        Tag::CodeBlock(kind) => {
            let language = match kind {
                CodeBlockKind::Fenced(info) => info
                    .split_whitespace()
                    .next()
                    .map(str::to_owned)
                    .filter(|l| !l.is_empty()),
                CodeBlockKind::Indented => None,
            };
            let mut text = String::new();
            while let Some(event) = events.get(*pos) {
                *pos += 1;
                match event {
                    Event::End(TagEnd::CodeBlock) => break,
                    Event::Text(t) => text.push_str(t),
                    _ => {}
                }
            }
            Block::Code { language, text }
        }
        Tag::List(start) => {
            let mut items = Vec::new();
            while let Some(event) = events.get(*pos) {
                *pos += 1;
                match event {
                    Event::End(TagEnd::List(_)) => break,
                    Event::Start(Tag::Item) => {
                        let mut children = blocks(events, pos, Some(TagEnd::Item), depth_left);
                        let content = match children.first() {
                            Some(Block::Paragraph(content)) => {
                                let content = content.clone();
                                children.remove(0);
                                content
                            }
                            _ => Inline::new(),
                        };
                        items.push(ListItem { content, children });
                    }
                    _ => {}
                }
            }
            Block::List {
                ordered: start.is_some(),
                items,
            }
        }
        Tag::Table(_) => Block::Table(table(events, pos)),
        Tag::FootnoteDefinition(label) => {
            let inner = blocks(events, pos, Some(TagEnd::FootnoteDefinition), depth_left);
            let content = inner
                .iter()
                .filter_map(|b| match b {
                    Block::Paragraph(c) => Some(c.clone()),
                    _ => None,
                })
                .flatten()
                .collect();
            Block::Footnote {
                id: label.to_string(),
                content,
            }
        }
        Tag::Image { .. } => Block::Image {
            alt: crate::model::inline_text(&inline(events, pos, tag.to_end())),
        },
        Tag::HtmlBlock => {
            let mut html = String::new();
            while let Some(event) = events.get(*pos) {
                *pos += 1;
                match event {
                    Event::End(TagEnd::HtmlBlock) => break,
                    Event::Html(h) | Event::Text(h) => html.push_str(h),
                    _ => {}
                }
            }
            let text = strip_tags(&html);
            if text.trim().is_empty() {
                return None;
            }
            Block::text(text.trim().to_owned())
        }
        other => {
            // Unknown containers: keep their blocks.
            let inner = blocks(events, pos, Some(other.to_end()), depth_left);
            return match inner.len() {
                0 => None,
                1 => inner.into_iter().next(),
                _ => Some(Block::Quote(inner)),
            };
        }
    })
}

fn table(events: &[Event<'_>], pos: &mut usize) -> Table {
    let mut table = Table {
        header: false,
        ..Table::default()
    };
    let mut row: Vec<String> = Vec::new();
    while let Some(event) = events.get(*pos) {
        *pos += 1;
        match event {
            Event::End(TagEnd::Table) => break,
            Event::Start(Tag::TableHead) => table.header = true,
            Event::Start(Tag::TableCell) => {
                let cell = inline(events, pos, TagEnd::TableCell);
                row.push(crate::model::inline_text(&cell));
            }
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                table.rows.push(std::mem::take(&mut row));
            }
            _ => {}
        }
    }
    table
}

/// Whether `event` belongs inside a paragraph.
fn is_inline(event: &Event<'_>) -> bool {
    match event {
        Event::Text(_)
        | Event::Code(_)
        | Event::InlineMath(_)
        | Event::DisplayMath(_)
        | Event::SoftBreak
        | Event::HardBreak
        | Event::InlineHtml(_)
        | Event::FootnoteReference(_)
        | Event::TaskListMarker(_) => true,
        Event::Start(tag) => matches!(
            tag,
            Tag::Emphasis | Tag::Strong | Tag::Strikethrough | Tag::Link { .. } | Tag::Image { .. }
        ),
        _ => false,
    }
}

/// Inline spans until `end`.
fn inline(events: &[Event<'_>], pos: &mut usize, end: TagEnd) -> Inline {
    let mut out = Inline::new();
    let (mut bold, mut italic) = (0u32, 0u32);
    let mut links: Vec<String> = Vec::new();
    let mut nesting = 0usize;
    while let Some(event) = events.get(*pos) {
        *pos += 1;
        let span = |text: String, code: bool| Span {
            text,
            bold: bold > 0,
            italic: italic > 0,
            code,
            link: links.last().cloned(),
            math: None,
        };
        match event {
            Event::End(tag) if *tag == end && nesting == 0 => break,
            Event::Start(Tag::Strong) => bold += 1,
            Event::End(TagEnd::Strong) => bold = bold.saturating_sub(1),
            Event::Start(Tag::Emphasis) => italic += 1,
            Event::End(TagEnd::Emphasis) => italic = italic.saturating_sub(1),
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                links.pop();
            }
            Event::Start(_) => nesting += 1,
            Event::End(_) => nesting = nesting.saturating_sub(1),
            Event::Text(t) => out.push(span(t.to_string(), false)),
            Event::Code(t) => out.push(span(t.to_string(), true)),
            Event::InlineMath(t) | Event::DisplayMath(t) => out.push(Span {
                link: links.last().cloned(),
                ..math_span(t, matches!(event, Event::DisplayMath(_)))
            }),
            Event::SoftBreak => out.push(span(" ".to_owned(), false)),
            Event::HardBreak => out.push(span("\n".to_owned(), false)),
            Event::InlineHtml(h) | Event::Html(h) => {
                let text = strip_tags(h);
                if !text.is_empty() {
                    out.push(span(text, false));
                }
            }
            Event::FootnoteReference(label) => out.push(span(format!("[^{label}]"), false)),
            Event::TaskListMarker(done) => {
                out.push(span(if *done { "[x] " } else { "[ ] " }.to_owned(), false));
            }
            _ => {}
        }
    }
    out
}

/// A span of LaTeX math.
fn math_span(tex: &str, display: bool) -> Span {
    Span {
        text: tex.trim().to_owned(),
        math: Some(if display { Math::Display } else { Math::Inline }),
        ..Span::default()
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Text of an HTML fragment: tags dropped, common entities decoded.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{OutputFormat, render};

    #[test]
    fn round_trips_structure() {
        let src = "---\ntitle: \"Notes\"\nauthor: Ada\n---\n# Heading *one*\n\nText with `code`, a [link](https://x.example/) and a note[^1].\n\n- a\n  - b\n1. first\n\n| h1 | h2 |\n|----|----|\n| c1 | c2 |\n\n```sh\necho hi\n```\n\n> quoted\n\n[^1]: The note.\n";
        let doc = parse(src.as_bytes(), &ParseOptions::default()).expect("parse");
        assert_eq!(doc.metadata.title.as_deref(), Some("Notes"));
        assert_eq!(doc.metadata.author.as_deref(), Some("Ada"));
        let md = render(&doc, OutputFormat::Markdown);
        assert_eq!(
            md,
            "# Heading *one*\n\nText with `code`, a [link](https://x.example/) and a note[^1].\n\n- a\n  - b\n\n1. first\n\n| h1 | h2 |\n| --- | --- |\n| c1 | c2 |\n\n```sh\necho hi\n```\n\n> quoted\n\n[^1]: The note.\n"
        );
    }

    /// A tight list item's text is one paragraph: inline code, emphasis and
    /// links stay inside it instead of becoming separate lines.
    #[test]
    fn tight_list_items_keep_inline_formatting() {
        let src = "- a `b` *c* [d](https://x.example/) e
- plain
  - nested `f`
";
        let doc = parse(src.as_bytes(), &ParseOptions::default()).expect("parse");
        assert_eq!(
            render(&doc, OutputFormat::Markdown),
            "- a `b` *c* [d](https://x.example/) e\n- plain\n  - nested `f`\n"
        );
    }

    /// `$…$` and `$$…$$` are math (kept verbatim, no escaping of `_` or
    /// `\\`); dollar amounts stay text.
    #[test]
    fn math_is_read_and_dollar_amounts_are_not() {
        let src =
            "Costs $5 and $10 today. Inline $x_1^2 + \\alpha$ here.\n\n$$\\int_0^1 f(x)\\,dx$$\n";
        let doc = parse(src.as_bytes(), &ParseOptions::default()).expect("parse");
        let Some(Block::Paragraph(spans)) = doc.blocks.first() else {
            panic!("{:?}", doc.blocks);
        };
        assert!(
            spans
                .iter()
                .any(|s| s.math == Some(Math::Inline) && s.text == "x_1^2 + \\alpha")
        );
        assert_eq!(render(&doc, OutputFormat::Markdown), src);
        assert_eq!(
            render(&doc, OutputFormat::Text),
            "Costs $5 and $10 today. Inline x_1^2 + \\alpha here.\n\n\\int_0^1 f(x)\\,dx\n"
        );
    }
}

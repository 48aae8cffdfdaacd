//! HTML (and the XHTML inside EPUB) to blocks, with `scraper`.
//!
//! Main content first: the page's `<main>` (or `role=main`), else its
//! largest `<article>`, else `<body>`; navigation, headers and footers of
//! the page, sidebars, forms, scripts and hidden elements are dropped.
//! Headings, paragraphs, nested lists, tables, code blocks, quotes, images'
//! alt text and links (made absolute against the page URL) are kept.

use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::{
    DocError, Document, ParseOptions,
    model::{Block, Inline, ListItem, Span, Table},
};

/// Elements whose content is never text of the document.
const DROPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "form", "button", "input", "select", "textarea", "nav", "aside", "dialog", "head", "math",
];

/// Class or id fragments of page chrome (only dropped outside the chosen root).
const CHROME: &[&str] = &[
    "nav",
    "menu",
    "footer",
    "sidebar",
    "cookie",
    "banner",
    "advert",
    "social",
    "share",
    "breadcrumb",
    "related",
    "newsletter",
    "popup",
    "modal",
];

/// Deeper than this, structure is flattened into text (hostile nesting).
const MAX_STRUCTURE_DEPTH: usize = 256;

/// Bytes the parsed tree is charged per `<` of the source before parsing.
/// Measured (VmRSS) at 96-130 bytes per tag for `<p>a</p>`, `<br>`,
/// `<div><p>a</p></div>` and attribute-heavy markup; charged at twice
/// that, because the tree and the blocks walked out of it coexist (at 192
/// a 30-chapter EPUB bomb peaked at 342 MiB, at 256 at 46 MiB).
const TREE_BYTES_PER_TAG: u64 = 256;

/// Attributes one tag may have.
const MAX_ATTRIBUTES: usize = 1024;

/// The most attributes on any one tag, estimated in one pass: names that
/// follow whitespace inside `<…>`; a quoted value (a quote right after
/// `=`) is skipped, as the tokenizer does.
fn most_attributes(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut most, mut count) = (0, 0);
    let mut in_tag = false;
    let mut quote: Option<u8> = None;
    let (mut after_space, mut after_eq) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
            continue;
        }
        if !in_tag {
            if b == b'<' && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
                in_tag = true;
                count = 0;
                (after_space, after_eq) = (false, false);
            }
            continue;
        }
        match b {
            b'>' => {
                in_tag = false;
                most = most.max(count);
            }
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => after_space = true,
            b'"' | b'\'' if after_eq => {
                quote = Some(b);
                (after_space, after_eq) = (false, false);
            }
            b'=' => (after_space, after_eq) = (false, true),
            b'/' => (after_space, after_eq) = (false, false),
            _ => {
                if after_space && !after_eq {
                    count += 1;
                }
                (after_space, after_eq) = (false, false);
            }
        }
    }
    most.max(count)
}

/// Parses an HTML document.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    let text = decode_html(bytes);
    parse_str(&text, options)
}

/// Parses HTML already decoded to text.
pub fn parse_str(html: &str, options: &ParseOptions) -> Result<Document, DocError> {
    let depth = ffmcp_core::limits::html_depth(html);
    if depth > ffmcp_core::limits::MAX_HTML_DEPTH {
        return Err(DocError::Limit(format!(
            "the HTML nests elements about {depth} levels deep; the limit is {}",
            ffmcp_core::limits::MAX_HTML_DEPTH
        )));
    }
    // html5ever checks each new attribute against the tag's earlier ones:
    // quadratic in the attributes of one tag (4 MiB of them ran for
    // minutes). Real markup has a few dozen; refuse thousands up front.
    let attributes = most_attributes(html);
    if attributes > MAX_ATTRIBUTES {
        return Err(DocError::Limit(format!(
            "an HTML tag has about {attributes} attributes; the limit is {MAX_ATTRIBUTES}"
        )));
    }
    // The tree is charged before it is built: html5ever/scraper spend a few
    // hundred bytes per node, so 8 bytes of `<p>a</p>` become ~0.5 KB.
    let tags = html.bytes().filter(|&b| b == b'<').count() as u64;
    options.charge(html.len() as u64 + tags * TREE_BYTES_PER_TAG, || {
        format!(
            "building the tree of {} bytes of HTML with {tags} tags",
            html.len()
        )
    })?;
    let page = Html::parse_document(html);
    let mut doc = Document::default();
    metadata(&page, &mut doc);
    let base = base_url(&page, options.base_url.as_ref());
    let root = content_root(&page);
    let mut walker = Walker {
        base,
        blocks: Vec::new(),
        inline: Vec::new(),
        root_id: root.map(|r| r.id()),
    };
    if let Some(root) = root {
        walker.children(root, 0);
        walker.flush();
    }
    doc.blocks = walker.blocks;
    drop(page);
    options.charge(crate::model::footprint(&doc.blocks), || {
        "the blocks converted from HTML".to_owned()
    })?;
    if doc.metadata.title.is_none()
        && let Some(Block::Heading { content, .. }) = doc.blocks.first()
    {
        doc.metadata.title = Some(crate::model::inline_text(content).trim().to_owned());
    }
    Ok(doc)
}

/// Decodes with the BOM, a `<meta charset>` in the first 1 KiB, or
/// detection.
fn decode_html(bytes: &[u8]) -> String {
    if encoding_rs::Encoding::for_bom(bytes).is_none() && std::str::from_utf8(bytes).is_err() {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
        if let Some(pos) = head.find("charset=") {
            let label: String = head[pos + 8..]
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if let Some(encoding) = encoding_rs::Encoding::for_label(label.as_bytes()) {
                return encoding.decode(bytes).0.into_owned();
            }
        }
    }
    super::text::decode(bytes).0
}

fn selector(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

fn metadata(page: &Html, doc: &mut Document) {
    let meta = |name: &str| -> Option<String> {
        let css = format!("meta[name=\"{name}\"], meta[property=\"{name}\"]");
        let sel = selector(&css)?;
        page.select(&sel)
            .find_map(|m| m.value().attr("content"))
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
    };
    let title = selector("title")
        .and_then(|s| page.select(&s).next())
        .map(|t| collapse(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty());
    let md = &mut doc.metadata;
    md.title = meta("og:title").or(title);
    md.author = meta("author").or_else(|| meta("article:author"));
    md.subject = meta("description").or_else(|| meta("og:description"));
    md.keywords = meta("keywords");
    md.created = meta("article:published_time").or_else(|| meta("date"));
    md.modified = meta("article:modified_time");
    md.producer = meta("generator");
    md.language = selector("html")
        .and_then(|s| page.select(&s).next())
        .and_then(|h| h.value().attr("lang"))
        .map(str::to_owned);
    if let Some(canonical) = selector("link[rel=\"canonical\"]")
        .and_then(|s| page.select(&s).next())
        .and_then(|l| l.value().attr("href"))
    {
        md.extra.insert("canonical".into(), canonical.to_owned());
    }
}

fn base_url(page: &Html, given: Option<&Url>) -> Option<Url> {
    let href = selector("base[href]")
        .and_then(|s| page.select(&s).next())
        .and_then(|b| b.value().attr("href"));
    match (given, href) {
        (Some(base), Some(href)) => base.join(href).ok().or_else(|| Some(base.clone())),
        (Some(base), None) => Some(base.clone()),
        (None, Some(href)) => Url::parse(href).ok(),
        (None, None) => None,
    }
}

/// The element holding the main content.
fn content_root(page: &Html) -> Option<ElementRef<'_>> {
    for css in ["main", "[role=\"main\"]"] {
        if let Some(found) = selector(css).and_then(|s| page.select(&s).next()) {
            return Some(found);
        }
    }
    if let Some(sel) = selector("article") {
        let largest = page
            .select(&sel)
            .max_by_key(|a| a.text().map(str::len).sum::<usize>());
        if let Some(article) = largest {
            return Some(article);
        }
    }
    selector("body")
        .and_then(|s| page.select(&s).next())
        .or_else(|| Some(page.root_element()))
}

struct Walker {
    base: Option<Url>,
    blocks: Vec<Block>,
    /// Inline content waiting for a block boundary.
    inline: Inline,
    root_id: Option<ego_tree::NodeId>,
}

#[derive(Clone, Copy, Default)]
struct Style {
    bold: bool,
    italic: bool,
    code: bool,
}

impl Walker {
    fn flush(&mut self) {
        let inline = std::mem::take(&mut self.inline);
        let inline = tidy(inline);
        if !inline.is_empty() {
            self.blocks.push(Block::Paragraph(inline));
        }
    }

    fn is_dropped(&self, el: &ElementRef<'_>) -> bool {
        let e = el.value();
        let name = e.name();
        if DROPPED.contains(&name) {
            return true;
        }
        if e.attr("hidden").is_some() || e.attr("aria-hidden") == Some("true") {
            return true;
        }
        if matches!(
            e.attr("role"),
            Some("navigation" | "banner" | "contentinfo" | "complementary")
        ) {
            return true;
        }
        if Some(el.id()) == self.root_id {
            return false;
        }
        if matches!(name, "header" | "footer") {
            // Page-level header/footer, not an article's own header.
            return !el.ancestors().any(|a| {
                a.value()
                    .as_element()
                    .is_some_and(|e| matches!(e.name(), "article" | "section"))
            });
        }
        let chrome = |v: Option<&str>| {
            v.is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                v.split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|word| CHROME.contains(&word))
            })
        };
        chrome(e.attr("class")) || chrome(e.attr("id"))
    }

    fn children(&mut self, el: ElementRef<'_>, depth: usize) {
        for child in el.children() {
            match child.value() {
                Node::Text(text) => self.text(text, Style::default(), None),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        self.element(child, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    fn text(&mut self, text: &str, style: Style, link: Option<&str>) {
        if text.is_empty() {
            return;
        }
        let collapsed = collapse_keep_edges(text);
        if collapsed.is_empty() {
            return;
        }
        self.inline.push(Span {
            text: collapsed,
            bold: style.bold,
            italic: style.italic,
            code: style.code,
            link: link.map(str::to_owned),
        });
    }

    fn element(&mut self, el: ElementRef<'_>, depth: usize) {
        if self.is_dropped(&el) {
            return;
        }
        if depth > MAX_STRUCTURE_DEPTH {
            let text = collapse(&el.text().collect::<String>());
            self.text(&text, Style::default(), None);
            return;
        }
        let name = el.value().name();
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.flush();
                let level = name[1..].parse().unwrap_or(1);
                let content = tidy(self.inline_of(el, Style::default(), None));
                if !content.is_empty() {
                    self.blocks.push(Block::Heading { level, content });
                }
            }
            "p" | "dt" | "dd" | "figcaption" | "caption" | "summary" | "address" => {
                self.flush();
                let content = tidy(self.inline_of(el, Style::default(), None));
                if !content.is_empty() {
                    self.blocks.push(Block::Paragraph(content));
                }
            }
            "ul" | "ol" | "menu" => {
                self.flush();
                let list = self.list(el, name == "ol", depth);
                if let Some(list) = list {
                    self.blocks.push(list);
                }
            }
            "table" => {
                self.flush();
                if let Some(table) = self.table(el) {
                    self.blocks.push(Block::Table(table));
                }
            }
            "pre" => {
                self.flush();
                let language = el
                    .descendent_elements()
                    .chain(std::iter::once(el))
                    .filter_map(|e| e.value().attr("class"))
                    .flat_map(str::split_whitespace)
                    .find_map(|c| {
                        c.strip_prefix("language-")
                            .or_else(|| c.strip_prefix("lang-"))
                    })
                    .map(str::to_owned);
                let text: String = el.text().collect();
                self.blocks.push(Block::Code {
                    language,
                    text: text.trim_matches('\n').to_owned(),
                });
            }
            "blockquote" => {
                self.flush();
                let mut inner = Walker {
                    base: self.base.clone(),
                    blocks: Vec::new(),
                    inline: Vec::new(),
                    root_id: self.root_id,
                };
                inner.children(el, depth);
                inner.flush();
                if !inner.blocks.is_empty() {
                    self.blocks.push(Block::Quote(inner.blocks));
                }
            }
            "hr" => {
                self.flush();
                self.blocks.push(Block::Rule);
            }
            "img" => {
                let alt = el.value().attr("alt").unwrap_or_default().trim().to_owned();
                if !alt.is_empty() {
                    self.flush();
                    self.blocks.push(Block::Image { alt });
                }
            }
            "br" => self.inline.push(Span::plain("\n")),
            "a" | "strong" | "b" | "em" | "i" | "code" | "kbd" | "samp" | "span" | "small"
            | "mark" | "abbr" | "cite" | "q" | "sub" | "sup" | "time" | "u" | "s" | "del"
            | "ins" | "label" | "font" => {
                let spans = self.inline_of(el, Style::default(), None);
                self.inline.extend(spans);
            }
            _ => {
                // Containers: their text runs become paragraphs at block edges.
                let block_level = is_block(name);
                if block_level {
                    self.flush();
                }
                self.children(el, depth);
                if block_level {
                    self.flush();
                }
            }
        }
    }

    /// Inline content of `el`, with inherited style and link.
    fn inline_of(&self, el: ElementRef<'_>, style: Style, link: Option<&str>) -> Inline {
        let mut out = Inline::new();
        self.collect_inline(el, style, link, &mut out, 0);
        out
    }

    fn collect_inline(
        &self,
        el: ElementRef<'_>,
        style: Style,
        link: Option<&str>,
        out: &mut Inline,
        depth: usize,
    ) {
        let mut style = style;
        let mut link = link.map(str::to_owned);
        match el.value().name() {
            "strong" | "b" => style.bold = true,
            "em" | "i" | "cite" => style.italic = true,
            "code" | "kbd" | "samp" => style.code = true,
            "a" => {
                if let Some(href) = el.value().attr("href") {
                    link = self.resolve(href);
                }
            }
            _ => {}
        }
        for child in el.children() {
            match child.value() {
                Node::Text(text) => {
                    let t = if style.code {
                        text.to_string()
                    } else {
                        collapse_keep_edges(text)
                    };
                    if !t.is_empty() {
                        out.push(Span {
                            text: t,
                            bold: style.bold,
                            italic: style.italic,
                            code: style.code,
                            link: link.clone(),
                        });
                    }
                }
                Node::Element(e) => {
                    let Some(child) = ElementRef::wrap(child) else {
                        continue;
                    };
                    if self.is_dropped(&child) || depth > MAX_STRUCTURE_DEPTH {
                        continue;
                    }
                    match e.name() {
                        "br" => out.push(Span::plain("\n")),
                        "img" => {
                            if let Some(alt) = e.attr("alt").filter(|a| !a.trim().is_empty()) {
                                out.push(Span::plain(alt.trim()));
                            }
                        }
                        _ => {
                            if is_block(e.name()) && !out.is_empty() {
                                out.push(Span::plain(" "));
                            }
                            self.collect_inline(child, style, link.as_deref(), out, depth + 1);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn resolve(&self, href: &str) -> Option<String> {
        let href = href.trim();
        if href.is_empty() || href.starts_with('#') || href.starts_with("javascript:") {
            return None;
        }
        match &self.base {
            Some(base) => base.join(href).ok().map(String::from),
            None => Some(href.to_owned()),
        }
    }

    fn list(&mut self, el: ElementRef<'_>, ordered: bool, depth: usize) -> Option<Block> {
        let mut items = Vec::new();
        for li in el.child_elements().filter(|c| c.value().name() == "li") {
            let mut item = ListItem::default();
            let mut nested = Walker {
                base: self.base.clone(),
                blocks: Vec::new(),
                inline: Vec::new(),
                root_id: self.root_id,
            };
            for child in li.children() {
                match child.value() {
                    Node::Text(t) => nested.text(t, Style::default(), None),
                    Node::Element(_) => {
                        if let Some(c) = ElementRef::wrap(child) {
                            nested.element(c, depth + 1);
                        }
                    }
                    _ => {}
                }
            }
            nested.flush();
            let mut blocks = nested.blocks.into_iter();
            match blocks.next() {
                Some(Block::Paragraph(content)) => item.content = content,
                Some(other) => item.children.push(other),
                None => {}
            }
            item.children.extend(blocks);
            items.push(item);
        }
        (!items.is_empty()).then_some(Block::List { ordered, items })
    }

    fn table(&self, el: ElementRef<'_>) -> Option<Table> {
        let mut rows = Vec::new();
        let mut header = false;
        let row_sel = selector("tr")?;
        for (i, tr) in el.select(&row_sel).enumerate() {
            // Rows of nested tables belong to them.
            let owner = tr
                .ancestors()
                .find(|a| a.value().as_element().is_some_and(|e| e.name() == "table"));
            if owner.map(|o| o.id()) != Some(el.id()) {
                continue;
            }
            let cells: Vec<ElementRef<'_>> = tr
                .child_elements()
                .filter(|c| matches!(c.value().name(), "td" | "th"))
                .collect();
            if i == 0 && !cells.is_empty() && cells.iter().all(|c| c.value().name() == "th") {
                header = true;
            }
            let mut row = Vec::new();
            for cell in cells {
                let text =
                    crate::model::inline_text(&tidy(self.inline_of(cell, Style::default(), None)));
                let span: usize = cell
                    .value()
                    .attr("colspan")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1)
                    .clamp(1, 100);
                row.push(text.replace('\n', " "));
                row.extend(std::iter::repeat_n(String::new(), span - 1));
            }
            if !row.is_empty() {
                rows.push(row);
            }
        }
        (!rows.is_empty()).then_some(Table {
            name: None,
            header,
            rows,
            page: None,
        })
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "div"
            | "section"
            | "article"
            | "main"
            | "header"
            | "footer"
            | "figure"
            | "details"
            | "dl"
            | "li"
            | "tr"
            | "td"
            | "th"
            | "body"
            | "html"
            | "center"
            | "fieldset"
            | "hgroup"
            | "search"
    )
}

/// Whitespace runs collapsed to one space, ends trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whitespace runs collapsed, keeping one space at either end if present.
fn collapse_keep_edges(text: &str) -> String {
    let inner = collapse(text);
    if inner.is_empty() {
        return if text.is_empty() {
            String::new()
        } else {
            " ".to_owned()
        };
    }
    let lead = if text.starts_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    let trail = if text.ends_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    format!("{lead}{inner}{trail}")
}

/// Merges adjacent spans of the same style, trims the ends, drops
/// whitespace-only content.
fn tidy(spans: Inline) -> Inline {
    let mut out: Inline = Vec::new();
    for span in spans {
        if let Some(last) = out.last_mut()
            && last.bold == span.bold
            && last.italic == span.italic
            && last.code == span.code
            && last.link == span.link
        {
            last.text.push_str(&span.text);
            continue;
        }
        out.push(span);
    }
    // Collapse doubled spaces across span edges.
    for i in 1..out.len() {
        if out[i - 1].text.ends_with(' ') && out[i].text.starts_with(' ') {
            out[i].text.remove(0);
        }
    }
    if let Some(first) = out.first_mut() {
        first.text = first.text.trim_start().to_owned();
    }
    if let Some(last) = out.last_mut() {
        last.text = last.text.trim_end().to_owned();
    }
    // No spaces around line breaks (span edges keep theirs: they separate words).
    for span in &mut out {
        while span.text.contains(" \n") || span.text.contains("\n ") {
            span.text = span.text.replace(" \n", "\n").replace("\n ", "\n");
        }
    }
    out.retain(|s| !s.text.is_empty());
    if out.iter().all(|s| s.text.trim().is_empty()) {
        out.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn attributes_are_counted_per_tag_in_one_pass() {
        use super::most_attributes;
        assert_eq!(
            most_attributes(r#"<p a="1 2 3" b='x y' c=z d>t</p><br e>"#),
            4
        );
        assert_eq!(most_attributes(r#"<p a = "x" b>"#), 2);
        // A quote that does not follow `=` does not hide later names.
        assert_eq!(most_attributes(r#"<p x" a b c d>"#), 5);
        assert_eq!(most_attributes("a < b and c > d"), 0);
    }

    use super::*;
    use crate::render::{OutputFormat, render};

    fn md(html: &str) -> String {
        let options = ParseOptions {
            base_url: Url::parse("https://example.com/blog/post").ok(),
            ..ParseOptions::default()
        };
        render(
            &parse_str(html, &options).expect("parse"),
            OutputFormat::Markdown,
        )
    }

    #[test]
    fn main_content_without_chrome() {
        let html = r#"<!doctype html><html lang="en"><head><title>T</title>
            <meta name="description" content="About things"><script>var x=1;</script></head>
            <body><nav><a href="/">Home</a></nav><header><h1>Site</h1></header>
            <main><article><h1>Post <em>title</em></h1>
              <p>Some <strong>bold</strong> text with a <a href="../about">link</a>.</p>
              <ul><li>one<ul><li>nested</li></ul></li><li>two</li></ul>
              <table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td colspan="1">2</td></tr></table>
              <pre><code class="language-rust">fn main() {}</code></pre>
              <blockquote><p>Quoted</p></blockquote>
              <div class="share-buttons">Share this</div>
            </article></main>
            <footer>Copyright</footer></body></html>"#;
        assert_eq!(
            md(html),
            "# Post *title*\n\nSome **bold** text with a [link](https://example.com/about).\n\n- one\n  - nested\n- two\n\n| A | B |\n| --- | --- |\n| 1 | 2 |\n\n```rust\nfn main() {}\n```\n\n> Quoted\n"
        );
        let doc = parse_str(html, &ParseOptions::default()).expect("parse");
        assert_eq!(doc.metadata.title.as_deref(), Some("T"));
        assert_eq!(doc.metadata.subject.as_deref(), Some("About things"));
        assert_eq!(doc.metadata.language.as_deref(), Some("en"));
    }

    #[test]
    fn loose_text_and_breaks_become_paragraphs() {
        assert_eq!(
            md("<body><div>first line<br>second</div><div>  other   block </div></body>"),
            "first line\nsecond\n\nother block\n"
        );
    }

    #[test]
    fn hostile_nesting_is_refused() {
        let deep = "<div>".repeat(100_000);
        let err = parse_str(&deep, &ParseOptions::default()).expect_err("too deep");
        assert!(err.to_string().contains("levels deep"), "{err}");
    }

    #[test]
    fn legacy_charset_from_meta() {
        let bytes =
            b"<html><head><meta charset=\"iso-8859-1\"></head><body><p>caf\xe9</p></body></html>";
        let doc = parse(bytes, &ParseOptions::default()).expect("parse");
        assert_eq!(render(&doc, OutputFormat::Text), "caf\u{e9}\n");
    }
}

//! HTML (and the XHTML inside EPUB) to blocks, with `scraper`.
//!
//! Main content first, chosen by structure (`formats::html_content`: the
//! page's `<main>`, a dominant `<article>` or `<body>`, without navigation,
//! page headers and footers, link blocks before the first heading and
//! previous/next bars, scripts and hidden elements; never an element that
//! holds a heading or prose).
//! What remains goes through the workspace's one HTML→Markdown engine
//! (`ffmcp_core::html`, htmd; measured against this crate's former own
//! walker on 44 real pages it kept more headings, list items, table rows
//! and links) and the Markdown is read into blocks by `formats::markdown`.

use std::collections::HashSet;

use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::{DocError, Document, ParseOptions, model::Block};

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
    // The content root without chrome, back to HTML, converted by the one
    // HTML→Markdown engine (`ffmcp_core::html`), then read as Markdown.
    let mut content = String::new();
    if let Some(main) = super::html_content::main_content(&page) {
        keep_content(main.root, &main.dropped, 0, &mut content);
    }
    drop(page);
    let converted = ffmcp_core::html::html_to_markdown(&content, base.as_ref());
    drop(content);
    doc.blocks = super::markdown::parse(converted.markdown.as_bytes(), options)?.blocks;
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

/// Elements without content or an end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// The children of `el` serialised back to HTML without the dropped
/// elements; deeper than [`MAX_STRUCTURE_DEPTH`] only text is kept.
fn keep_content(
    el: ElementRef<'_>,
    dropped: &HashSet<ego_tree::NodeId>,
    depth: usize,
    out: &mut String,
) {
    for child in el.children() {
        match child.value() {
            Node::Text(text) => escape(text, false, out),
            Node::Element(e) => {
                let Some(child) = ElementRef::wrap(child) else {
                    continue;
                };
                if dropped.contains(&child.id()) {
                    continue;
                }
                if depth >= MAX_STRUCTURE_DEPTH {
                    out.push(' ');
                    for text in child.text() {
                        escape(text, false, out);
                    }
                    out.push(' ');
                    continue;
                }
                out.push('<');
                out.push_str(e.name());
                for (name, value) in e.attrs() {
                    out.push(' ');
                    out.push_str(name);
                    out.push_str("=\"");
                    escape(value, true, out);
                    out.push('"');
                }
                out.push('>');
                if !VOID.contains(&e.name()) {
                    keep_content(child, dropped, depth + 1, out);
                    out.push_str("</");
                    out.push_str(e.name());
                    out.push('>');
                }
            }
            _ => {}
        }
    }
}

fn escape(text: &str, attribute: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// Whitespace runs collapsed to one space, ends trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
              <aside><a href="https://share.example/t">Tweet</a> <a href="https://share.example/f">Share</a></aside>
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

    /// Inline code and links inside list items survive the conversion (real
    /// pages: GCC's release notes); table cells keep their text.
    #[test]
    fn inline_markup_inside_lists_and_tables() {
        let html = "<body><ul><li>C++:\n  Two non-standard <code>std::pair</code>\n  constructors, see \
                    <a href=\"/pr/1\">PR1</a>.</li></ul>\
                    <table><tr><th>Flag</th></tr><tr><td><code>-O2</code></td></tr></table></body>";
        assert_eq!(
            md(html),
            "- C++: Two non-standard `std::pair` constructors, see [PR1](https://example.com/pr/1).\n\n\
             | Flag |\n| --- |\n| -O2 |\n"
        );
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

    /// Issue 17.5 on HTML: lists under ordered items stay nested, code that
    /// holds backticks keeps one span, links holding only an image (lazy
    /// loaded, without `src`) keep its alt text.
    #[test]
    fn nested_lists_code_spans_and_image_links() {
        let html = r#"<body><ol><li>one<ul><li>sub</li></ul></li><li>two<ol><li>a</li></ol></li></ol>
            <p>Run <code>apt install <code>package</code></code> or <code>a `b` c</code>.</p>
            <p><a href="/home"><img data-src="/logo.png" alt="Logo"></a> and <a href="/x"><img alt="Bare"></a></p></body>"#;
        assert_eq!(
            md(html),
            "1. one\n   - sub\n2. two\n   1. a\n\nRun `` apt install `package` `` or ``a `b` c``.\n\n[Logo](https://example.com/home) and [Bare](https://example.com/x)\n"
        );
    }
}

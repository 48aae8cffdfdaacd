//! HTML to Markdown: the one engine of the workspace (transform's
//! `html_to_markdown` tool and docparse's HTML and EPUB pages).
//!
//! Conversion is `htmd`'s (a turndown.js port on html5ever that passes
//! turndown's test suite). Around it: scripts, styles and other
//! non-content elements are dropped, relative links and image sources are
//! made absolute against an optional base URL, and the title and link and
//! image counts are reported.

use std::rc::Rc;

use htmd::{HtmlToMarkdown, Node};
use markup5ever_rcdom::NodeData;
use url::Url;

/// Elements nested deeper than this are flattened to their text before
/// conversion: the converter recurses per level, and a hostile document
/// (`<div>` × 100 000) would otherwise overflow the stack and abort the
/// process. Real documents stay far below it.
const MAX_DEPTH: usize = 256;

/// Elements whose content never belongs in the Markdown.
const DROPPED: &[&str] = &[
    "script", "style", "noscript", "iframe", "template", "object", "embed", "title", "head",
];

/// MathML roots, bare or with the prefixes XHTML books use.
const MATH: &[&str] = &["math", "m:math", "mml:math"];

/// MathML as LaTeX between `$` (inline) or `$$` (display, as a paragraph
/// of its own), the way htmd writes pandoc's `<span class="math …">`.
fn math_handler(
    _: &dyn htmd::element_handler::Handlers,
    element: htmd::Element,
) -> Option<htmd::element_handler::HandlerResult> {
    let math = math_tree(element.node, 0);
    let tex = crate::math::mathml_to_latex(&math);
    if tex.is_empty() {
        return Some(String::new().into());
    }
    Some(if crate::math::is_display(&math) {
        format!("\n\n$${tex}$$\n\n").into()
    } else {
        format!("${tex}$").into()
    })
}

/// The MathML below `node` as a [`crate::math::MathNode`]; deeper than
/// [`crate::math::MAX_MATH_DEPTH`] only the text is kept.
fn math_tree(node: &Rc<Node>, depth: usize) -> crate::math::MathNode {
    use crate::math::MathNode;
    match &node.data {
        NodeData::Element { name, attrs, .. } => {
            let local = name.local.as_ref();
            let local = local.rsplit(':').next().unwrap_or(local);
            let children = if depth >= crate::math::MAX_MATH_DEPTH {
                vec![crate::math::flat_text(text_of(node))]
            } else {
                node.children
                    .borrow()
                    .iter()
                    .map(|c| math_tree(c, depth + 1))
                    .collect()
            };
            MathNode::Element {
                name: local.to_owned(),
                attrs: attrs
                    .borrow()
                    .iter()
                    .map(|a| (a.name.local.to_string(), a.value.to_string()))
                    .collect(),
                children,
            }
        }
        NodeData::Text { contents } => MathNode::Text(contents.borrow().to_string()),
        _ => MathNode::Text(String::new()),
    }
}

/// The result of [`html_to_markdown`].
#[derive(Debug, Clone, PartialEq)]
pub struct Markdown {
    /// The Markdown text.
    pub markdown: String,
    /// The page's `<title>`, when it has one.
    pub title: Option<String>,
    /// Links (`<a>` elements) in the converted HTML.
    pub links: usize,
    /// Images (`<img>` elements) in the converted HTML.
    pub images: usize,
}

/// Converts an HTML document or fragment to Markdown.
pub fn html_to_markdown(html: &str, base: Option<&Url>) -> Markdown {
    let converter = HtmlToMarkdown::builder()
        .skip_tags(DROPPED.to_vec())
        .add_handler(MATH.to_vec(), math_handler)
        .build();
    // html5ever parsing cannot fail on a &str; an error here would be I/O-only.
    let Ok(tree) = converter.html_to_tree(html) else {
        return Markdown {
            markdown: String::new(),
            title: None,
            links: 0,
            images: 0,
        };
    };
    let mut scan = Scan {
        base,
        title: None,
        links: 0,
        images: 0,
    };
    scan.visit(&tree);
    let markdown = converter.tree_to_markdown(&tree);
    Markdown {
        markdown,
        title: scan.title,
        links: scan.links,
        images: scan.images,
    }
}

struct Scan<'a> {
    base: Option<&'a Url>,
    title: Option<String>,
    links: usize,
    images: usize,
}

impl Scan<'_> {
    fn visit(&mut self, node: &Rc<Node>) {
        // Iterative walk: hostile documents can nest arbitrarily deep.
        let mut stack = vec![(Rc::clone(node), 0usize)];
        while let Some((node, depth)) = stack.pop() {
            if depth >= MAX_DEPTH {
                flatten(&node);
                continue;
            }
            if let NodeData::Element { name, attrs, .. } = &node.data {
                match name.local.as_ref() {
                    "title" if self.title.is_none() => {
                        let text = text_of(&node);
                        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                        if !text.is_empty() {
                            self.title = Some(text);
                        }
                    }
                    tag @ ("a" | "img") => {
                        let url_attr = if tag == "a" {
                            self.links += 1;
                            "href"
                        } else {
                            self.images += 1;
                            "src"
                        };
                        if tag == "img" {
                            let mut attrs = attrs.borrow_mut();
                            let pairs = attrs
                                .iter()
                                .map(|a| (a.name.local.as_ref(), a.value.as_ref()));
                            if let Some(source) = lazy_source(pairs) {
                                attrs.retain(|a| a.name.local.as_ref() != "src");
                                let alt = attrs.iter().find(|a| a.name.local.as_ref() == "alt");
                                if let Some(mut src) = alt.cloned() {
                                    src.name.local = "src".into();
                                    src.value = source.into();
                                    attrs.push(src);
                                }
                            }
                        }
                        if let Some(base) = self.base {
                            let mut attrs = attrs.borrow_mut();
                            for attr in attrs.iter_mut().filter(|a| {
                                a.name.local.as_ref() == url_attr && !a.value.is_empty()
                            }) {
                                if let Ok(absolute) = base.join(attr.value.as_ref()) {
                                    attr.value = absolute.as_str().into();
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            // MathML is converted whole by `math_handler`: adjacent
            // `<mi>`s are not text runs to merge.
            if let NodeData::Element { name, .. } = &node.data
                && MATH.contains(&name.local.as_ref())
            {
                continue;
            }
            merge_inline_runs(&node);
            stack.extend(
                node.children
                    .borrow()
                    .iter()
                    .rev()
                    .map(|c| (Rc::clone(c), depth + 1)),
            );
        }
    }
}

/// Gives an `<img>` without a `src` one, so that htmd (which drops such
/// images) keeps its alt text: the lazy-loading source pages put in
/// `data-src`, `data-original` or the first `srcset` candidate, else an
/// empty source (`None` when it has a source, or no alt text to keep). A
/// link that holds only such an image keeps its text.
fn lazy_source<'a>(attrs: impl Iterator<Item = (&'a str, &'a str)>) -> Option<String> {
    let attrs: Vec<(&str, &str)> = attrs.collect();
    let value = |name: &str| {
        attrs
            .iter()
            .find(|(n, v)| *n == name && !v.trim().is_empty())
            .map(|(_, v)| *v)
    };
    if value("src").is_some() || value("alt").is_none() {
        return None;
    }
    let source = ["data-src", "data-original", "data-lazy-src"]
        .iter()
        .find_map(|n| value(n).map(str::to_owned))
        .or_else(|| {
            ["srcset", "data-srcset"]
                .iter()
                .find_map(|n| value(n).and_then(|v| v.split_whitespace().next().map(str::to_owned)))
        })
        .unwrap_or_default();
    Some(source)
}

/// Replaces `node`'s subtree with one text node holding its text.
/// Merges runs of adjacent inline siblings that htmd would combine
/// (`<b>x</b><b>y</b>` → `<b>xy</b>`), in linear time, before htmd sees
/// the tree. htmd combines them itself with `Vec::remove` and a copy of
/// the growing text per pair, which is quadratic: 250,000 `<b>x</b>` (2 MiB)
/// took 12 s in a debug build. After this pass htmd finds nothing to
/// combine; its conditions are mirrored exactly (same rule, so the Markdown
/// is unchanged).
fn merge_inline_runs(node: &Rc<Node>) {
    let mut children = node.children.borrow_mut();
    if children.len() < 2 {
        return;
    }
    let mut merged: Vec<Rc<Node>> = Vec::with_capacity(children.len());
    for child in children.drain(..) {
        if let Some(last) = merged.last()
            && combine(last, &child)
        {
            continue;
        }
        merged.push(child);
    }
    *children = merged;
}

/// htmd's `can_combine`: two inline elements of the same kind (`b` and
/// `strong`, `i` and `em` count as one; never `a`), equal attributes, each
/// with a single text child. Appends the second one's text to the first.
fn combine(n1: &Node, n2: &Node) -> bool {
    let (
        NodeData::Element {
            name: name1,
            attrs: attrs1,
            template_contents: template1,
            mathml_annotation_xml_integration_point: mathml1,
        },
        NodeData::Element {
            name: name2,
            attrs: attrs2,
            template_contents: template2,
            mathml_annotation_xml_integration_point: mathml2,
        },
    ) = (&n1.data, &n2.data)
    else {
        return false;
    };
    let (tag1, tag2) = (name1.local.as_ref(), name2.local.as_ref());
    let same_kind = name1 == name2
        || matches!(
            (tag1, tag2),
            ("i", "em") | ("em", "i") | ("b", "strong") | ("strong", "b")
        );
    if !same_kind || tag1 == "a" || HTMD_BLOCK_ELEMENTS.contains(&tag1) {
        return false;
    }
    let (c1, c2) = (n1.children.borrow(), n2.children.borrow());
    let ([first], [second]) = (c1.as_slice(), c2.as_slice()) else {
        return false;
    };
    let (NodeData::Text { contents: into }, NodeData::Text { contents: from }) =
        (&first.data, &second.data)
    else {
        return false;
    };
    let plain = template1.borrow().is_none() && template2.borrow().is_none();
    if !(plain && attrs1 == attrs2 && mathml1 == mathml2) {
        return false;
    }
    into.borrow_mut().push_tendril(&from.borrow());
    true
}

/// htmd's block elements (never combined), from htmd 0.5's `dom_walker.rs`.
const HTMD_BLOCK_ELEMENTS: &[&str] = &[
    "address",
    "article",
    "aside",
    "base",
    "basefont",
    "blockquote",
    "body",
    "caption",
    "center",
    "col",
    "colgroup",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "iframe",
    "legend",
    "li",
    "link",
    "main",
    "menu",
    "menuitem",
    "nav",
    "noframes",
    "ol",
    "optgroup",
    "option",
    "p",
    "param",
    "pre",
    "script",
    "search",
    "section",
    "style",
    "summary",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "track",
    "ul",
];

fn flatten(node: &Rc<Node>) {
    if node.children.borrow().is_empty() {
        return;
    }
    let text = Node::new(NodeData::Text {
        contents: std::cell::RefCell::new(text_of(node).into()),
    });
    text.parent.set(Some(Rc::downgrade(node)));
    *node.children.borrow_mut() = vec![text];
}

fn text_of(node: &Rc<Node>) -> String {
    let mut out = String::new();
    let mut stack = vec![Rc::clone(node)];
    while let Some(node) = stack.pop() {
        if let NodeData::Text { contents } = &node.data {
            out.push_str(&contents.borrow());
        }
        stack.extend(node.children.borrow().iter().rev().cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(html: &str) -> String {
        html_to_markdown(html, None).markdown
    }

    #[test]
    fn structure_survives() {
        let cases: &[(&str, &str)] = &[
            ("<h1>Title</h1><p>Text</p>", "# Title\n\nText"),
            ("<h2>Sub</h2>", "## Sub"),
            (
                "<p><strong>b</strong> <em>i</em> <code>c</code></p>",
                "**b** *i* `c`",
            ),
            ("<ul><li>one</li><li>two</li></ul>", "*   one\n*   two"),
            ("<ol><li>one</li><li>two</li></ol>", "1.  one\n2.  two"),
            ("<a href=\"https://x.test/\">x</a>", "[x](https://x.test/)"),
            (
                "<pre><code>let x = 1;\n</code></pre>",
                "```\nlet x = 1;\n```",
            ),
            (
                "<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>",
                "| A | B |\n| - | - |\n| 1 | 2 |",
            ),
        ];
        for (html, expected) in cases {
            assert_eq!(md(html), *expected, "{html}");
        }
    }

    #[test]
    fn mathml_becomes_latex() {
        let out = md(
            "<p>Euler: <math><mi>e</mi><mo>=</mo><msup><mi>x</mi><mn>2</mn></msup></math> holds.</p>\
             <math display=\"block\"><mfrac><mn>1</mn><mi>n</mi></mfrac></math><p>after</p>",
        );
        assert_eq!(
            out,
            "Euler: $e = x^{2}$ holds.\n\n$$\\frac{1}{n}$$\n\nafter"
        );
    }

    #[test]
    fn images_without_a_source_keep_their_alt_text() {
        let out = md("<a href=\"https://x.test/\"><img alt=\"Home\"></a> \
             <img data-src=\"https://x.test/lazy.png\" alt=\"Lazy\"> \
             <img srcset=\"https://x.test/s.png 1x, https://x.test/l.png 2x\" alt=\"Set\">");
        assert_eq!(
            out,
            "[![Home]()](https://x.test/) ![Lazy](https://x.test/lazy.png) ![Set](https://x.test/s.png)"
        );
    }

    #[test]
    fn non_content_is_dropped() {
        let out = md(
            "<head><title>T</title><style>p{}</style></head><body><script>alert(1)</script>\
                      <noscript>enable js</noscript><p>kept</p><iframe src=x></iframe></body>",
        );
        assert_eq!(out, "kept");
    }

    #[test]
    fn title_counts_and_absolute_urls() {
        let base = Url::parse("https://example.com/docs/page.html").expect("valid base");
        let out = html_to_markdown(
            "<title> My \n Page </title><a href=\"../x\">x</a> <a href=\"#top\">top</a> <img src=\"i.png\" alt=\"pic\">",
            Some(&base),
        );
        assert_eq!(out.title.as_deref(), Some("My Page"));
        assert_eq!((out.links, out.images), (2, 1));
        assert!(
            out.markdown.contains("[x](https://example.com/x)"),
            "{}",
            out.markdown
        );
        assert!(
            out.markdown
                .contains("https://example.com/docs/page.html#top"),
            "{}",
            out.markdown
        );
        assert!(
            out.markdown
                .contains("![pic](https://example.com/docs/i.png)"),
            "{}",
            out.markdown
        );
    }

    #[test]
    fn nesting_beyond_the_flatten_depth_is_kept_as_text() {
        // Callers refuse input deeper than ffmcp_core::limits::MAX_HTML_DEPTH first;
        // up to that, deep subtrees are flattened instead of overflowing the stack.
        for tag in ["div", "b", "ul><li", "blockquote"] {
            let html = format!(
                "{}deep <i>end</i>{}",
                format!("<{tag}>").repeat(1000),
                "</div>".repeat(10)
            );
            let out = html_to_markdown(&html, None);
            assert!(
                out.markdown.contains("deep end"),
                "{tag}: {}",
                &out.markdown[..out.markdown.len().min(200)]
            );
        }
    }
}

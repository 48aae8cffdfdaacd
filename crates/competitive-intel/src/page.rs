//! Pages: the text of a selected region, with noise (timestamps, ads,
//! counters) removed by ignore-selectors, normalised so that markup and
//! whitespace churn does not look like a change.

use std::collections::HashSet;

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Html, Node, Selector};
use sha2::{Digest, Sha256};

use crate::feed::hex;

/// Deepest element nesting walked; deeper content is ignored.
const MAX_DEPTH: usize = 256;

use ffmcp_core::limits::MAX_HTML_DEPTH;
/// Longest text kept from one page, in bytes.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Why a page could not be read as asked.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("'{selector}' is not a valid CSS selector: {reason}")]
    BadSelector { selector: String, reason: String },
    #[error("the selector '{0}' matches nothing on the page")]
    NoMatch(String),
    #[error("the page nests HTML elements about {depth} levels deep; the limit is {limit}")]
    TooDeep { depth: usize, limit: usize },
}

/// The region to watch: `selector` (whole `<body>` when absent), minus
/// everything matching `ignore`.
#[derive(Debug, Clone, Default)]
pub struct Region {
    pub selector: Option<String>,
    pub ignore: Vec<String>,
}

impl Region {
    /// Checks every selector parses.
    pub fn validate(&self) -> Result<(), PageError> {
        for s in self.selector.iter().chain(&self.ignore) {
            selector(s)?;
        }
        Ok(())
    }
}

/// The normalised text of a page region and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageText {
    pub text: String,
    pub hash: String,
    /// The text was cut at [`MAX_TEXT_BYTES`].
    pub truncated: bool,
}

/// Extracts the watched text of `html`.
///
/// Pages nested deeper than [`MAX_HTML_DEPTH`] are refused before parsing:
/// html5ever's tree builder is quadratic in nesting depth (10 MiB of
/// `<div>` ran for minutes).
pub fn extract(html: &str, region: &Region) -> Result<PageText, PageError> {
    let depth = ffmcp_core::limits::html_depth(html);
    if depth > MAX_HTML_DEPTH {
        return Err(PageError::TooDeep {
            depth,
            limit: MAX_HTML_DEPTH,
        });
    }
    let doc = Html::parse_document(html);
    let mut ignored = HashSet::new();
    for s in &region.ignore {
        ignored.extend(doc.select(&selector(s)?).map(|e| e.id()));
    }
    let roots: Vec<ElementRef<'_>> = match &region.selector {
        Some(s) => {
            let found: Vec<_> = doc.select(&selector(s)?).collect();
            if found.is_empty() {
                return Err(PageError::NoMatch(s.clone()));
            }
            found
        }
        None => {
            let body = selector("body")?;
            doc.select(&body)
                .next()
                .map_or_else(|| vec![doc.root_element()], |b| vec![b])
        }
    };
    let mut raw = String::new();
    for root in roots {
        walk(*root, &ignored, 0, &mut raw);
        raw.push('\n');
    }
    let mut text = normalize(&raw);
    let truncated = text.len() > MAX_TEXT_BYTES;
    if truncated {
        let mut end = MAX_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    let hash = hex(&Sha256::digest(text.as_bytes()));
    Ok(PageText {
        text,
        hash,
        truncated,
    })
}

/// One line per block, whitespace collapsed within lines, blank lines dropped.
pub fn normalize(raw: &str) -> String {
    raw.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn selector(s: &str) -> Result<Selector, PageError> {
    Selector::parse(s).map_err(|e| PageError::BadSelector {
        selector: s.to_owned(),
        reason: e.to_string(),
    })
}

fn walk(node: NodeRef<'_, Node>, ignored: &HashSet<NodeId>, depth: usize, out: &mut String) {
    if depth > MAX_DEPTH || ignored.contains(&node.id()) {
        return;
    }
    match node.value() {
        Node::Text(text) => out.push_str(text),
        Node::Element(el) => {
            let name = el.name();
            if matches!(
                name,
                "script" | "style" | "noscript" | "template" | "svg" | "iframe"
            ) {
                return;
            }
            let block = is_block(name);
            if block {
                out.push('\n');
            }
            for child in node.children() {
                walk(child, ignored, depth + 1, out);
            }
            if block {
                out.push('\n');
            } else if matches!(name, "td" | "th") {
                out.push(' ');
            }
        }
        Node::Document | Node::Fragment => {
            for child in node.children() {
                walk(child, ignored, depth + 1, out);
            }
        }
        _ => {}
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "tr"
            | "table"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "main"
            | "nav"
            | "aside"
            | "blockquote"
            | "pre"
            | "br"
            | "dt"
            | "dd"
            | "figcaption"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<html><body><nav>Home</nav>
        <main id="pricing"><h1>Pricing</h1>
        <p class="plan">Pro:   <b>$20</b>/month</p>
        <p class="updated">Updated 10:31:07</p><script>var t = 1;</script></main>
        </body></html>"#;

    fn region(sel: Option<&str>, ignore: &[&str]) -> Region {
        Region {
            selector: sel.map(str::to_owned),
            ignore: ignore.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn selects_normalises_and_ignores_noise() {
        let got = extract(PAGE, &region(Some("#pricing"), &[".updated"])).expect("page");
        assert_eq!(got.text, "Pricing\nPro: $20/month");
        let noisy = PAGE.replace("10:31:07", "10:45:59").replace("   ", " ");
        let again = extract(&noisy, &region(Some("#pricing"), &[".updated"])).expect("page");
        assert_eq!(got.hash, again.hash, "timestamp and spacing are noise");
        let priced = PAGE.replace("$20", "$25");
        let changed = extract(&priced, &region(Some("#pricing"), &[".updated"])).expect("page");
        assert_ne!(got.hash, changed.hash);
        let whole = extract(PAGE, &Region::default()).expect("body");
        assert!(whole.text.starts_with("Home\nPricing"), "{}", whole.text);
    }

    #[test]
    fn bad_or_unmatched_selectors_are_named() {
        let err = region(Some("main[["), &[]).validate().expect_err("bad");
        assert!(err.to_string().contains("'main[['"), "{err}");
        let err = extract(PAGE, &region(Some("#nope"), &[])).expect_err("none");
        assert!(err.to_string().contains("#nope"), "{err}");
    }
}

//! Main content of an HTML page: which elements are the document and which
//! are site chrome, decided by structure, never by class or id words.
//!
//! Word lists over `class`/`id` dropped real content: DocBook `sidebar`
//! boxes (tips, notes), docutils `<aside class="sidebar">`, and whole
//! `<section id="…-related-…">`s (measured mean recall 0.85, worst 0.58 on
//! documentation pages). What is used instead, from one linear pass that
//! counts, per element, words, words inside links, links, headings, the
//! longest run of prose in one block, and where it starts and ends:
//!
//! - the root: `<main>`/`role=main`, else an `<article>` holding most of
//!   the page's words, else `<body>` (an implicit root);
//! - never text: scripts, styles, embedded objects, form controls, hidden
//!   elements;
//! - navigation (`<nav>`, `role=navigation|search|menu`): dropped unless it
//!   holds long prose (its headings only label link lists);
//! - other landmarks (page-level `<header>`/`<footer>`, `<aside>`, `<form>`,
//!   `role=banner|contentinfo|complementary`): under an implicit root
//!   dropped unless they hold a heading or long prose; inside an explicit
//!   root (the author put them in the main content: footnotes, sidebars)
//!   only when they are link lists;
//! - link blocks before the first heading (breadcrumbs, menus, DocBook's
//!   navigation header) and link lists repeated at both ends of the page
//!   (previous/next bars: the top one before the first heading, so
//!   definitions and index rows that link to the page they describe are
//!   not taken for one);
//! - a page's own table of contents: a list of only links that land on
//!   anchors of the page (glossaries and API indexes, whose entries hold
//!   text besides their links, stay);
//! - whatever the rule, an element holding a heading or long prose is kept
//!   (navigation excepted, as said).

use std::collections::{HashMap, HashSet};

use ego_tree::{NodeId, iter::Edge};
use scraper::{ElementRef, Html, Node, Selector};

/// Elements whose content is never text of the document.
const NOT_TEXT: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "button", "input", "select", "textarea", "dialog", "head",
];

/// Block-level elements: prose is counted per block, and only blocks are
/// ever dropped as chrome (never an inline link inside a sentence).
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "center",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Words of non-link text in one block that make it prose.
const PROSE_WORDS: u32 = 20;

/// A link block repeated at both ends of the page is at most this long.
const MAX_REPEATED_WORDS: u32 = 60;

/// What one element holds (its descendants included), counted once.
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    words: u32,
    link_words: u32,
    links: u32,
    heading: bool,
    /// Longest non-link text of a single block inside, in words.
    prose: u32,
    /// Word offsets in the page where the element starts and ends.
    start: u32,
    end: u32,
}

impl Stats {
    fn content(&self) -> bool {
        self.heading || self.prose >= PROSE_WORDS
    }

    fn link_dense(&self) -> bool {
        self.links > 0 && self.link_words * 2 >= self.words
    }
}

/// The chosen root and the elements under it left out.
pub(super) struct MainContent<'a> {
    pub root: ElementRef<'a>,
    pub dropped: HashSet<NodeId>,
}

/// Picks the main content of `page`.
pub(super) fn main_content(page: &Html) -> Option<MainContent<'_>> {
    let body = Selector::parse("body")
        .ok()
        .and_then(|s| page.select(&s).next())
        .unwrap_or_else(|| page.root_element());
    let stats = analyse(body);
    let words = |el: &ElementRef<'_>| stats.get(&el.id()).map_or(0, |s| s.words);
    let total = words(&body);
    let mut explicit = None;
    if let Ok(sel) = Selector::parse("main, [role=\"main\"]") {
        explicit = page
            .select(&sel)
            .filter(|m| stats.contains_key(&m.id()))
            .max_by_key(|m| words(m))
            // A `main` holding almost nothing of a long page is mislabelled.
            .filter(|m| words(m) * 10 >= total || total < 50);
    }
    if explicit.is_none()
        && let Ok(sel) = Selector::parse("article")
    {
        explicit = page
            .select(&sel)
            .filter(|a| stats.contains_key(&a.id()))
            .max_by_key(|a| words(a))
            .filter(|a| words(a) * 2 >= total);
    }
    let (root, implicit) = match explicit {
        Some(root) => (root, false),
        None => (body, true),
    };
    let dropped = chrome(root, implicit, &stats);
    Some(MainContent { root, dropped })
}

/// The elements under `root` that are not content.
fn chrome(root: ElementRef<'_>, implicit: bool, stats: &HashMap<NodeId, Stats>) -> HashSet<NodeId> {
    let mut dropped = HashSet::new();
    let Some(root_stats) = stats.get(&root.id()).copied() else {
        return dropped;
    };
    let first_heading = root
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| is_heading(e.value().name()))
        .and_then(|h| stats.get(&h.id()))
        .map_or(0, |s| s.start);
    // The page's title: its first heading outside landmarks (a menu's
    // "Site map" label is not one).
    let title_at = root
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| {
            is_heading(e.value().name())
                && !e
                    .ancestors()
                    .filter_map(ElementRef::wrap)
                    .any(|a| matches!(a.value().name(), "nav" | "aside" | "header" | "footer"))
        })
        .and_then(|h| stats.get(&h.id()))
        .map(|s| s.start);
    // Where in-page links can land.
    let anchors: HashSet<&str> = root
        .descendants()
        .filter_map(ElementRef::wrap)
        .flat_map(|e| [e.value().attr("id"), e.value().attr("name")])
        .flatten()
        .collect();
    for id in repeated_link_lists(root, root_stats, title_at, stats) {
        dropped.insert(id);
    }
    for node in root.descendants().skip(1) {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        if node
            .parent()
            .is_some_and(|p| p.id() != root.id() && dropped.contains(&p.id()))
        {
            dropped.insert(node.id());
            continue;
        }
        let Some(s) = stats.get(&node.id()) else {
            // Not counted: never text, or hidden.
            dropped.insert(node.id());
            continue;
        };
        if is_chrome(&el, s, implicit, first_heading) || in_page_contents(&el, s, &anchors) {
            dropped.insert(node.id());
        }
    }
    dropped
}

fn is_chrome(el: &ElementRef<'_>, s: &Stats, implicit: bool, first_heading: u32) -> bool {
    let e = el.value();
    let name = e.name();
    if !BLOCKS.contains(&name) {
        return false;
    }
    let role = e.attr("role").unwrap_or_default();
    if name == "nav" || matches!(role, "navigation" | "search" | "menu" | "menubar") {
        return s.prose < PROSE_WORDS;
    }
    if s.content() {
        return false;
    }
    let landmark = matches!(name, "aside" | "form")
        || matches!(role, "banner" | "contentinfo" | "complementary")
        || (matches!(name, "header" | "footer") && page_level(el));
    if landmark && (implicit || s.link_dense()) {
        return true;
    }
    // Link blocks before the first heading: breadcrumbs, menus, tabs.
    s.link_dense() && s.end <= first_heading
}

/// A table of contents of the page itself: a list of nothing but links
/// (three or more), most of which land on anchors of this page. It
/// repeats the headings that follow; a list whose entries hold text of
/// their own (a glossary, an API index) is content, and so is a list of
/// links to other pages.
fn in_page_contents(el: &ElementRef<'_>, s: &Stats, anchors: &HashSet<&str>) -> bool {
    if !matches!(el.value().name(), "dl" | "ul" | "ol") || s.links < 3 || s.link_words < s.words {
        return false;
    }
    let mut links = 0u32;
    let mut here = 0u32;
    for a in el.descendants().filter_map(ElementRef::wrap) {
        if a.value().name() != "a" {
            continue;
        }
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        links += 1;
        if href
            .split_once('#')
            .is_some_and(|(_, fragment)| anchors.contains(fragment))
        {
            here += 1;
        }
    }
    links >= 3 && here * 5 >= links * 4
}

/// A `header`/`footer` of the page, not of an article or section.
fn page_level(el: &ElementRef<'_>) -> bool {
    !el.ancestors().any(|a| {
        a.value()
            .as_element()
            .is_some_and(|e| matches!(e.name(), "article" | "section" | "main"))
    })
}

fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Short link blocks without prose or headings, in the first quarter of
/// the page before its title (first heading outside landmarks) and in the
/// last quarter, that share
/// two link targets (or the one a single-link bar has): the previous/next
/// bars documentation generators put at both ends.
fn repeated_link_lists(
    root: ElementRef<'_>,
    total: Stats,
    title_at: Option<u32>,
    stats: &HashMap<NodeId, Stats>,
) -> Vec<NodeId> {
    let candidate = |id: NodeId| {
        stats
            .get(&id)
            .is_some_and(|s| !s.content() && s.links >= 1 && s.words <= MAX_REPEATED_WORDS)
    };
    let span = total.end.saturating_sub(total.start);
    let (mut top_end, bottom_start) = (total.start + span / 4, total.end - span / 4);
    // The top bar comes before the page's title: after it, blocks that
    // link where blocks at the bottom link are entries of the content (a
    // list of constants each mapped to an exception on one page, an API
    // index whose rows link to the page they describe).
    if let Some(title) = title_at {
        top_end = top_end.min(title);
    }
    let mut top: Vec<(NodeId, HashSet<String>)> = Vec::new();
    let mut bottom: Vec<(NodeId, HashSet<String>)> = Vec::new();
    for node in root.descendants().skip(1) {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        if !BLOCKS.contains(&el.value().name())
            || !candidate(node.id())
            || node.parent().is_some_and(|p| candidate(p.id()))
        {
            continue;
        }
        let Some(s) = stats.get(&node.id()) else {
            continue;
        };
        let side = if s.end <= top_end {
            &mut top
        } else if s.start >= bottom_start {
            &mut bottom
        } else {
            continue;
        };
        let targets: HashSet<String> = el
            .descendants()
            .filter_map(ElementRef::wrap)
            .filter_map(|a| (a.value().name() == "a").then(|| a.value().attr("href"))?)
            .map(|h| h.split('#').next().unwrap_or_default().to_owned())
            .filter(|h| !h.is_empty())
            .collect();
        side.push((node.id(), targets));
    }
    let mut out = Vec::new();
    for (t, targets) in &top {
        for (b, others) in &bottom {
            // Two shared targets, or all of a one-link bar (the first and
            // last pages of a book have one neighbour).
            let needed = targets.len().min(others.len()).clamp(1, 2);
            if targets.intersection(others).count() >= needed {
                out.push(*t);
                out.push(*b);
            }
        }
    }
    out
}

/// Counts, per element under `body`, what [`Stats`] holds, in one
/// iterative pass (no recursion: nesting is only bounded by the HTML
/// depth limit). Elements that are never text or hidden are not counted
/// and get no entry.
fn analyse(body: ElementRef<'_>) -> HashMap<NodeId, Stats> {
    struct Frame {
        id: NodeId,
        stats: Stats,
        block: bool,
        heading: bool,
        /// Non-link words whose nearest block is this element.
        own: u32,
    }
    let mut out = HashMap::new();
    let mut frames: Vec<Frame> = Vec::new();
    // Indexes into `frames` of the open blocks.
    let mut blocks: Vec<usize> = Vec::new();
    let mut skipping: Option<NodeId> = None;
    let mut in_link = 0u32;
    let mut offset = 0u32;
    for edge in body.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(e) => {
                        if never_text(e) {
                            skipping = Some(node.id());
                            continue;
                        }
                        let link = e.name() == "a" && e.attr("href").is_some();
                        if link {
                            in_link += 1;
                        }
                        let block = BLOCKS.contains(&e.name());
                        if block {
                            blocks.push(frames.len());
                        }
                        frames.push(Frame {
                            id: node.id(),
                            stats: Stats {
                                links: u32::from(link),
                                start: offset,
                                ..Stats::default()
                            },
                            block,
                            heading: is_heading(e.name()),
                            own: 0,
                        });
                    }
                    Node::Text(text) => {
                        let words = count_words(text);
                        offset = offset.saturating_add(words);
                        if let Some(top) = frames.last_mut() {
                            top.stats.words += words;
                            if in_link > 0 {
                                top.stats.link_words += words;
                            }
                        }
                        if in_link == 0
                            && let Some(block) = blocks.last().and_then(|&i| frames.get_mut(i))
                        {
                            block.own += words;
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if let Some(skip) = skipping {
                    if skip == node.id() {
                        skipping = None;
                    }
                    continue;
                }
                let Node::Element(e) = node.value() else {
                    continue;
                };
                let Some(mut frame) = frames.pop_if(|f| f.id == node.id()) else {
                    continue;
                };
                if e.name() == "a" && e.attr("href").is_some() {
                    in_link = in_link.saturating_sub(1);
                }
                let s = &mut frame.stats;
                s.end = offset;
                if frame.block {
                    blocks.pop();
                    s.prose = s.prose.max(frame.own);
                }
                if frame.heading && s.words > 0 {
                    s.heading = true;
                }
                out.insert(frame.id, *s);
                if let Some(parent) = frames.last_mut() {
                    let p = &mut parent.stats;
                    p.words += s.words;
                    p.link_words += s.link_words;
                    p.links += s.links;
                    p.heading |= s.heading;
                    p.prose = p.prose.max(s.prose);
                }
            }
        }
    }
    out
}

/// Scripts, styles, embedded objects, form controls and hidden elements.
fn never_text(e: &scraper::node::Element) -> bool {
    NOT_TEXT.contains(&e.name())
        || e.attr("hidden").is_some()
        || e.attr("aria-hidden") == Some("true")
}

/// Words in `text`; ideographic scripts without spaces count one word per
/// two characters, so their prose weighs like prose.
fn count_words(text: &str) -> u32 {
    let spaced = text.split_whitespace().count();
    let ideographs = text.chars().filter(|c| *c >= '\u{2E80}').count();
    u32::try_from(spaced + ideographs / 2).unwrap_or(u32::MAX)
}

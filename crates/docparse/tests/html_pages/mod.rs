//! HTML main-content extraction on real documentation pages (issue 17.1):
//! the content is kept (word recall against the page's own source, built
//! without docparse) and the site chrome is dropped, by structure alone.
//! Sources and licences: `fixtures/html/README.md`.

use std::collections::HashMap;

use ffmcp_docparse::{
    Format, ParseOptions, formats,
    render::{OutputFormat, render},
};

use super::fixture;

fn parse(path: &str, output: OutputFormat) -> String {
    let doc = formats::parse(Format::Html, &fixture(path), &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    render(&doc, output)
}

/// Lower-cased runs of letters and digits, counted (as `xtask fidelity`).
fn words(text: &str) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        *out.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    out
}

/// Share of the reference's words (with repeats) that `ours` has.
fn recall(reference: &str, ours: &str) -> f64 {
    let (reference, ours) = (words(reference), words(ours));
    let common: u32 = reference
        .iter()
        .map(|(w, n)| (*n).min(ours.get(w).copied().unwrap_or(0)))
        .sum();
    f64::from(common) / f64::from(reference.values().sum::<u32>().max(1))
}

/// Sphinx page: `role=main` is the root; the docutils sidebar
/// (`<aside class="sidebar">`, the "Hello World!" example) is content; the
/// navigation bars, the sidebar of the site and the footer are not.
#[test]
fn sphinx_page_keeps_its_sidebar_box_and_drops_the_site_chrome() {
    let md = parse("html/python-asyncio.html", OutputFormat::Markdown);
    assert!(md.contains("Hello World!"), "{md}");
    assert!(md.contains("asyncio.run(main())"), "{md}");
    assert!(md.contains("asyncio is a library to write"), "{md}");
    for chrome in [
        "Previous topic",
        "Next topic",
        "This Page",
        "Report a Bug",
        "Show Source",
        "Navigation",
        "Copyright",
        "Python Software Foundation",
        "Theme",
    ] {
        assert!(!md.contains(chrome), "chrome {chrome:?} kept:\n{md}");
    }
    let text = parse("html/python-asyncio.html", OutputFormat::Text);
    let reference = String::from_utf8(fixture("html/python-asyncio.reference.txt")).unwrap();
    let r = recall(&reference, &text);
    assert!(r >= 0.98, "recall {r:.3}:\n{text}");
}

/// A section whose id contains "related" is content like any other.
#[test]
fn a_section_called_related_is_kept() {
    let md = parse(
        "html/python-distutils-sourcedist.html",
        OutputFormat::Markdown,
    );
    assert!(md.contains("## 4.2. Manifest-related options"), "{md}");
    assert!(
        md.contains("The normal course of operations for the **sdist** command is as follows"),
        "{md}"
    );
    let text = parse("html/python-distutils-sourcedist.html", OutputFormat::Text);
    let reference =
        String::from_utf8(fixture("html/python-distutils-sourcedist.reference.txt")).unwrap();
    let r = recall(&reference, &text);
    assert!(r >= 0.98, "recall {r:.3}");
}

/// DocBook XSL chapter: no `<main>`, so `<body>` is the root; the
/// navigation header and footer (previous/next/home tables, repeated at
/// both ends) go, the chapter's notes and tips and its table of contents
/// stay.
#[test]
fn docbook_chapter_drops_its_navigation_tables_and_keeps_notes_and_tips() {
    let md = parse("html/debian-reference-ch08.en.html", OutputFormat::Markdown);
    let title = md.lines().next().unwrap_or_default();
    assert_eq!(title, "# Chapter\u{a0}8.\u{a0}I18N and L10N");
    for kept in [
        "Some programs consume more memory after supporting I18N.",
        "There are 17, 18, or 10 letters between",
        "Table of Contents",
    ] {
        assert!(md.contains(kept), "{kept:?} lost");
    }
    // The footer's neighbour titles are text, its links are images.
    for chrome in ["prev.png", "next.png", "home.png", "9.\u{a0}System tips"] {
        assert!(!md.contains(chrome), "chrome {chrome:?} kept");
    }
}

/// Structure decides, not class or id words: a page without `<main>`
/// whose chrome is marked only by elements and position.
#[test]
fn structural_rules_on_a_page_without_main() {
    let html = r##"<html><body>
      <div class="top"><a href="/">Home</a> | <a href="/docs/">Docs</a> | <a href="/blog/">Blog</a></div>
      <nav><h3>Site map</h3><ul><li><a href="/a">A</a></li><li><a href="/b">B</a></li></ul></nav>
      <div class="related"><a href="p1.html">Previous</a> <a href="p3.html">Next</a></div>
      <h1>Tuning the cache</h1>
      <p>The cache keeps recently used pages in memory so that a second request for the same page is answered without reading the disk again.</p>
      <div class="sidebar"><p class="title">Tip</p><p>Start with a small cache.</p></div>
      <section id="related-settings"><h2>Related settings</h2><p>See <a href="limits.html">limits</a>.</p></section>
      <aside><a href="https://social.example/share">Share</a></aside>
      <aside><h4>Footnote</h4><p>Sizes are in bytes.</p></aside>
      <form><p>Search the documentation and you will find every setting described in its own section, with examples and the default value of each.</p><input name="q"></form>
      <div class="related"><a href="p1.html">Previous</a> <a href="p3.html">Next</a> <a href="/">Up</a></div>
      <footer><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer>
    </body></html>"##;
    let doc = formats::parse(Format::Html, html.as_bytes(), &ParseOptions::default()).unwrap();
    let md = render(&doc, OutputFormat::Markdown);
    assert_eq!(
        md,
        "# Tuning the cache\n\n\
         The cache keeps recently used pages in memory so that a second request for the same page is answered without reading the disk again.\n\n\
         Tip\n\nStart with a small cache.\n\n\
         ## Related settings\n\nSee [limits](limits.html).\n\n\
         #### Footnote\n\nSizes are in bytes.\n\n\
         Search the documentation and you will find every setting described in its own section, with examples and the default value of each.\n"
    );
}

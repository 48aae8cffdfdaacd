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

/// The shape of Sphinx's `errno` and `asyncio-api-index` pages (written
/// here, not copied): previous/next bars at both ends, and between them
/// definition lists and index tables whose entries each link to the page
/// they describe. Entries near the top and near the bottom share those
/// targets, which made them look like a repeated bar; they come after the
/// page's title, so they are content. The bars themselves still go, and
/// so does the page's own table of contents (links only, to its anchors).
#[test]
fn definitions_linking_to_the_same_page_are_not_a_repeated_bar() {
    let entry = |name: &str, text: &str, exception: &str| {
        format!(
            r##"<dl class="py data"><dt id="errno.{name}"><span class="sig-name">errno.{name}</span><a class="headerlink" href="#errno.{name}">¶</a></dt>
<dd><p>{text}. This error is mapped to the exception <a href="exceptions.html#{exception}">{exception}</a>.</p></dd></dl>"##
        )
    };
    let plain = |name: &str, text: &str| {
        format!(
            r##"<dl class="py data"><dt id="errno.{name}">errno.{name}<a class="headerlink" href="#errno.{name}">¶</a></dt><dd><p>{text}</p></dd></dl>"##
        )
    };
    let index_row = |name: &str, text: &str| {
        format!(
            r#"<tr><td><a href="asyncio-task.html#asyncio.{name}"><code>{name}()</code></a></td><td>{text}</td></tr>"#
        )
    };
    let bar = r#"<div class="related" role="navigation" aria-label="related"><ul><li><a href="../genindex.html">index</a></li><li><a href="../py-modindex.html">modules</a> |</li><li><a href="exceptions.html" title="Built-in Exceptions">previous</a></li><li><a href="fcntl.html" title="fcntl">next</a></li></ul></div>"#;
    let mut body = String::new();
    body += &entry("EPERM", "Operation not permitted", "PermissionError");
    body += &entry("ENOENT", "No such file or directory", "FileNotFoundError");
    body += r#"<table><tbody>"#;
    body += &index_row("run", "Create event loop, run a coroutine, close the loop.");
    body += &index_row("create_task", "Start an asyncio Task, then return it.");
    body += "</tbody></table>";
    for (name, text) in [
        ("EIO", "I/O error"),
        ("ENXIO", "No such device or address"),
        ("E2BIG", "Arg list too long"),
        ("ENOEXEC", "Exec format error"),
        ("EBADF", "Bad file number"),
        ("ENOMEM", "Out of memory"),
        ("EFAULT", "Bad address"),
        ("ENOTBLK", "Block device required"),
        ("EEXIST", "File exists"),
    ] {
        body += &plain(name, text);
    }
    body += &entry("ESRCH", "No such process", "ProcessLookupError");
    body += r#"<table><tbody>"#;
    body += &index_row("current_task", "Return the current Task.");
    body += &index_row("all_tasks", "Return all tasks that are not yet finished.");
    body += "</tbody></table>";
    body += &entry("ETIMEDOUT", "Connection timed out", "TimeoutError");
    let html = format!(
        r##"<html><body>{bar}<div class="document"><div class="body" role="main">
<section id="errno"><h1>errno — Standard errno system symbols</h1>
<div class="toc"><p>On this page</p><ul><li><a href="errno.html#errno.EPERM">EPERM entry</a></li><li><a href="#errno.ENOENT">ENOENT entry</a></li><li><a href="errno.html#errno.ESRCH">ESRCH entry</a></li></ul></div>
<p>Symbols available can include the following, and each maps to an exception in <a href="exceptions.html">Built-in Exceptions</a>; see <a href="asyncio-task.html">Tasks</a> for the task functions.</p>
{body}</section></div></div>{bar}</body></html>"##
    );
    let doc = formats::parse(Format::Html, html.as_bytes(), &ParseOptions::default()).unwrap();
    let text = render(&doc, OutputFormat::Text);
    for kept in [
        "Operation not permitted. This error is mapped to the exception PermissionError.",
        "No such file or directory. This error is mapped to the exception FileNotFoundError.",
        "Connection timed out. This error is mapped to the exception TimeoutError.",
        "run()",
        "Create event loop, run a coroutine, close the loop.",
        "all_tasks()",
        "Return all tasks that are not yet finished.",
        "Exec format error",
    ] {
        assert!(text.contains(kept), "{kept:?} lost:\n{text}");
    }
    // The page's own table of contents repeats what follows.
    for chrome in ["modules", "previous", "next", "EPERM entry", "ESRCH entry"] {
        assert!(!text.contains(chrome), "chrome {chrome:?} kept:\n{text}");
    }
}

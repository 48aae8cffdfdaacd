//! What a page says about itself: the SEO-relevant facts of one HTML
//! document, extracted once with `scraper` into plain owned values (the
//! parsed tree is not `Send`, and the checks need only these facts).

use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::text;

/// An `<a>` element.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The raw href, when present.
    pub href: Option<String>,
    /// The href resolved against the page URL (http/https only).
    pub target: Option<Url>,
    /// Visible text, or else aria-label / title / alt of an image inside.
    pub text: String,
    pub nofollow: bool,
    /// The element's opening tag, for evidence.
    pub tag: String,
}

/// An `<img>` element.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub src: Option<String>,
    pub target: Option<Url>,
    pub alt: Option<String>,
    pub has_dimensions: bool,
    pub tag: String,
}

/// A resource loaded by `<script src>` or `<link rel=stylesheet>` in `<head>`.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadResource {
    pub tag: String,
    /// Blocks rendering (no async/defer/module; stylesheet for all media).
    pub blocking: bool,
    pub is_script: bool,
}

/// The facts of one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub lang: Option<String>,
    pub titles: Vec<String>,
    pub descriptions: Vec<String>,
    /// Contents of `<meta name=robots|googlebot>`.
    pub robots_meta: Vec<String>,
    pub viewport: Option<String>,
    /// Raw href of each `<link rel=canonical>`.
    pub canonicals: Vec<String>,
    /// `(hreflang, raw href)` of each `<link rel=alternate hreflang>`.
    pub hreflangs: Vec<(String, String)>,
    /// `(level, text)` of h1–h6 in order.
    pub headings: Vec<(u8, String)>,
    /// `og:*` properties.
    pub open_graph: Vec<(String, String)>,
    /// `twitter:*` names.
    pub twitter: Vec<(String, String)>,
    /// Bodies of `<script type=application/ld+json>`.
    pub json_ld: Vec<String>,
    /// Microdata items: `(itemtype, itemprop names directly in the item)`.
    pub microdata: Vec<(String, Vec<String>)>,
    pub images: Vec<Image>,
    pub links: Vec<Link>,
    pub head_resources: Vec<HeadResource>,
    /// `http://` subresources (img, script, link, iframe, media, source).
    pub insecure_resources: Vec<String>,
    /// Visible body text, whitespace-collapsed.
    pub text: String,
    pub words: usize,
    pub flesch: Option<f64>,
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).expect("static selector is valid")
}

/// Extracts the facts of `html` served at `base`.
pub fn extract(html: &str, base: &Url) -> Facts {
    let doc = Html::parse_document(html);
    let mut facts = Facts {
        lang: doc
            .root_element()
            .value()
            .attr("lang")
            .map(|l| l.trim().to_owned()),
        ..Facts::default()
    };
    let base = doc
        .select(&sel("base[href]"))
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| base.join(h.trim()).ok())
        .unwrap_or_else(|| base.clone());

    for title in doc.select(&sel("title")) {
        // An SVG <title> describes a graphic, not the page.
        if !inside(title, "svg") {
            facts
                .titles
                .push(collapse(&title.text().collect::<String>()));
        }
    }
    for meta in doc.select(&sel("meta")) {
        let el = meta.value();
        let content = el.attr("content").unwrap_or("").trim().to_owned();
        let name = el.attr("name").map(str::to_ascii_lowercase);
        let property = el.attr("property").map(str::to_ascii_lowercase);
        match name.as_deref() {
            Some("description") => facts.descriptions.push(content.clone()),
            Some("robots" | "googlebot") => facts.robots_meta.push(content.clone()),
            Some("viewport") => facts.viewport = Some(content.clone()),
            Some(n) if n.starts_with("twitter:") => {
                facts.twitter.push((n.to_owned(), content.clone()));
            }
            _ => {}
        }
        if let Some(p) = property {
            if p.starts_with("og:") {
                facts.open_graph.push((p, content.clone()));
            } else if p.starts_with("twitter:") {
                facts.twitter.push((p, content));
            }
        }
    }
    for link in doc.select(&sel("link[rel]")) {
        let el = link.value();
        let rels: Vec<String> = rel_tokens(el.attr("rel"));
        let href = el.attr("href").unwrap_or("").trim().to_owned();
        if rels.iter().any(|r| r == "canonical") {
            facts.canonicals.push(href.clone());
        }
        if rels.iter().any(|r| r == "alternate")
            && let Some(lang) = el.attr("hreflang")
        {
            facts.hreflangs.push((lang.trim().to_owned(), href.clone()));
        }
        if rels.iter().any(|r| r == "stylesheet") && inside(link, "head") {
            let media = el
                .attr("media")
                .unwrap_or("all")
                .trim()
                .to_ascii_lowercase();
            facts.head_resources.push(HeadResource {
                tag: open_tag(link),
                blocking: media == "all" || media == "screen" || media.is_empty(),
                is_script: false,
            });
        }
    }
    for script in doc.select(&sel("script")) {
        let el = script.value();
        let kind = el.attr("type").unwrap_or("").trim().to_ascii_lowercase();
        if kind == "application/ld+json" {
            facts.json_ld.push(script.text().collect());
        } else if el.attr("src").is_some() && inside(script, "head") {
            let deferred =
                el.attr("async").is_some() || el.attr("defer").is_some() || kind == "module";
            facts.head_resources.push(HeadResource {
                tag: open_tag(script),
                blocking: !deferred,
                is_script: true,
            });
        }
    }
    let props = sel("[itemprop]");
    for item in doc.select(&sel("[itemscope][itemtype]")) {
        let Some(types) = item.value().attr("itemtype") else {
            continue;
        };
        // Properties whose nearest enclosing item is this one.
        let names: Vec<String> = item
            .select(&props)
            .filter(|p| {
                p.ancestors()
                    .filter_map(ElementRef::wrap)
                    .find(|a| a.value().attr("itemscope").is_some())
                    .is_some_and(|owner| owner.id() == item.id())
            })
            .flat_map(|p| {
                p.value()
                    .attr("itemprop")
                    .unwrap_or("")
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        for t in types.split_whitespace() {
            facts.microdata.push((t.to_owned(), names.clone()));
        }
    }
    for heading in doc.select(&sel("h1, h2, h3, h4, h5, h6")) {
        let level = heading.value().name().as_bytes()[1] - b'0';
        facts
            .headings
            .push((level, collapse(&heading.text().collect::<String>())));
    }
    for img in doc.select(&sel("img")) {
        let el = img.value();
        let src = el.attr("src").map(|s| s.trim().to_owned());
        facts.images.push(Image {
            target: src.as_deref().and_then(|s| http_url(&base, s)),
            src,
            alt: el.attr("alt").map(str::to_owned),
            has_dimensions: el.attr("width").is_some() && el.attr("height").is_some(),
            tag: open_tag(img),
        });
    }
    for a in doc.select(&sel("a")) {
        let el = a.value();
        let href = el.attr("href").map(|h| h.trim().to_owned());
        let mut text = collapse(&a.text().collect::<String>());
        if text.is_empty() {
            text = el
                .attr("aria-label")
                .or_else(|| el.attr("title"))
                .map(collapse)
                .or_else(|| {
                    a.select(&sel("img[alt]"))
                        .next()
                        .and_then(|i| i.value().attr("alt"))
                        .map(collapse)
                })
                .unwrap_or_default();
        }
        facts.links.push(Link {
            target: href.as_deref().and_then(|h| http_url(&base, h)),
            href,
            text,
            nofollow: rel_tokens(el.attr("rel")).iter().any(|r| r == "nofollow"),
            tag: open_tag(a),
        });
    }
    if base.scheme() == "https" {
        let loaders = sel(
            "img[src], script[src], link[rel~=stylesheet][href], link[rel~=icon][href], \
             iframe[src], video[src], audio[src], source[src], embed[src], object[data]",
        );
        for el in doc.select(&loaders) {
            let v = el.value();
            let url = v
                .attr("src")
                .or_else(|| v.attr("href"))
                .or_else(|| v.attr("data"))
                .unwrap_or("");
            if url.trim().to_ascii_lowercase().starts_with("http://") {
                facts.insecure_resources.push(open_tag(el));
            }
        }
    }
    facts.text = body_text(&doc);
    let stats = text::stats(&facts.text);
    facts.words = stats.words;
    facts.flesch = stats.flesch;
    facts
}

/// Visible text of `<body>`: scripts, styles, templates and noscript skipped.
fn body_text(doc: &Html) -> String {
    let mut out = String::new();
    let Some(body) = doc.select(&sel("body")).next() else {
        return out;
    };
    for node in body.descendants() {
        if let Some(t) = node.value().as_text() {
            let hidden = node.ancestors().any(|a| {
                a.value().as_element().is_some_and(|e| {
                    matches!(
                        e.name(),
                        "script" | "style" | "noscript" | "template" | "svg"
                    )
                })
            });
            if !hidden {
                out.push_str(t);
                out.push(' ');
            }
        }
    }
    collapse(&out)
}

fn inside(el: ElementRef<'_>, name: &str) -> bool {
    el.ancestors()
        .any(|a| a.value().as_element().is_some_and(|e| e.name() == name))
}

fn rel_tokens(rel: Option<&str>) -> Vec<String> {
    rel.unwrap_or("")
        .split_ascii_whitespace()
        .map(str::to_ascii_lowercase)
        .collect()
}

/// `href` resolved against `base` when it is an http(s) URL.
pub fn http_url(base: &Url, href: &str) -> Option<Url> {
    let mut url = base.join(href).ok()?;
    url.set_fragment(None);
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The element's opening tag as written (attributes in source order).
pub fn open_tag(el: ElementRef<'_>) -> String {
    let v = el.value();
    let mut tag = format!("<{}", v.name());
    for (name, value) in v.attrs() {
        tag.push(' ');
        tag.push_str(name);
        tag.push_str("=\"");
        tag.push_str(&value.replace('"', "&quot;"));
        tag.push('"');
    }
    tag.push('>');
    tag
}

/// Whitespace collapsed to single spaces, trimmed.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

//! Feeds: RSS 0.9x/1.0/2.0, Atom and JSON Feed (through `feed-rs`) turned
//! into [`ParsedFeed`]; item identity and content hashing; feed
//! autodiscovery from an HTML page's `<link rel="alternate">`. Where
//! `feed-rs` misses RSS items (prefixed RSS 2.0, RDF items without a link),
//! [`rss_items`] reads them.
//!
//! Identity is what makes "new item" mean something: the guid/id when the
//! feed gives one, else the normalised link, else the title. The content
//! hash covers title, link and text, never dates, so a feed that only
//! bumps `lastBuildDate` or an item's `updated` does not count as a change.

mod rss_items;

use scraper::{Html, Selector};
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;

/// Longest item summary kept, in characters.
const MAX_SUMMARY_CHARS: usize = 500;

/// Why a body is not a feed.
#[derive(Debug, thiserror::Error)]
#[error("not a valid RSS, Atom or JSON feed: {0}")]
pub struct FeedError(pub String);

/// A parsed feed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ParsedFeed {
    /// `rss0`, `rss1`, `rss2`, `atom` or `json`.
    pub kind: String,
    pub title: Option<String>,
    /// The site the feed belongs to.
    pub link: Option<String>,
    pub items: Vec<FeedItem>,
}

/// One feed entry.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FeedItem {
    /// Stable identity: `id:<guid>`, `link:<normalised link>` or `title:<hash>`.
    pub key: String,
    pub title: Option<String>,
    pub link: Option<String>,
    /// RFC 3339.
    pub published: Option<String>,
    /// RFC 3339.
    pub updated: Option<String>,
    /// Plain text of the summary or content, shortened.
    pub summary: Option<String>,
    /// SHA-256 of title, link and text (dates excluded).
    pub content_hash: String,
}

/// A feed link found on an HTML page.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Discovered {
    pub url: String,
    pub title: Option<String>,
    /// The media type the page announced.
    pub media_type: String,
}

/// Parses a feed; `base` resolves relative links.
pub fn parse(bytes: &[u8], base: Option<&str>) -> Result<ParsedFeed, FeedError> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base)
        // Missing ids stay empty: identity is ours to decide (see `item_key`).
        .id_generator(|_, _, _| String::new())
        .build();
    let mut feed = parser.parse(bytes).map_err(|e| FeedError(e.to_string()))?;
    if feed.feed_type == feed_rs::model::FeedType::RSS1
        && feed.entries.is_empty()
        && feed.title.is_none()
        && let Some(rss10) = rss090_as_rss10(bytes)
    {
        // feed-rs reads RDF feeds in the RSS 1.0 namespace only; RSS 0.90
        // has the same shape under Netscape's namespace.
        feed = parser
            .parse(rss10.as_bytes())
            .map_err(|e| FeedError(e.to_string()))?;
        feed.feed_type = feed_rs::model::FeedType::RSS0;
    }
    let kind = match feed.feed_type {
        feed_rs::model::FeedType::Atom => "atom",
        feed_rs::model::FeedType::JSON => "json",
        feed_rs::model::FeedType::RSS0 => "rss0",
        feed_rs::model::FeedType::RSS1 => "rss1",
        feed_rs::model::FeedType::RSS2 => "rss2",
    };
    let base_url = base.and_then(|b| Url::parse(b).ok());
    let mut items: Vec<FeedItem> = feed
        .entries
        .iter()
        .map(|entry| item(entry, base_url.as_ref()))
        .collect();
    let mut title = feed.title.as_ref().map(text_of);
    let mut link = feed.links.first().map(|l| l.href.clone());
    if kind.starts_with("rss")
        && let Some(channel) = rss_items::read(&String::from_utf8_lossy(bytes))
        && channel.items.len() > items.len()
    {
        // feed-rs missed items; this reading found more, and gives the
        // ones feed-rs did see the same key and hash.
        items = channel
            .items
            .into_iter()
            .map(|raw| rss_item(raw, base_url.as_ref()))
            .collect();
        title = title.or(channel.title.map(|t| collapse(&t)));
        link = link.or(channel.link.map(|l| l.trim().to_owned()));
    }
    Ok(ParsedFeed {
        kind: kind.to_owned(),
        title,
        link,
        items,
    })
}

/// An item [`rss_items`] read, with `feed-rs`'s meaning of each field.
fn rss_item(raw: rss_items::Item, base: Option<&Url>) -> FeedItem {
    let title = raw.title.map(|t| collapse(&t)).filter(|t| !t.is_empty());
    // RSS 1.0: an item's rdf:about "should be identical to" its link.
    let link = raw
        .link
        .filter(|l| !l.trim().is_empty())
        .or(raw.about.filter(|a| a.starts_with("http")))
        .map(|l| resolve(&l, base));
    let text = raw
        .content
        .map(|body| collapse(&strip_tags(&body)))
        .or(raw.description.map(|d| collapse(&d)))
        .unwrap_or_default();
    let published = raw.pub_date.or(raw.dc_date).and_then(|d| timestamp(&d));
    finish_item(
        raw.guid.as_deref().unwrap_or_default(),
        title,
        link,
        text,
        published,
        None,
    )
}

/// An RFC 2822 (`pubDate`) or RFC 3339 (`dc:date`) time, as RFC 3339 UTC.
fn timestamp(text: &str) -> Option<String> {
    let text = text.trim();
    chrono::DateTime::parse_from_rfc2822(text)
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc).to_rfc3339())
}

/// An RSS 0.90 document moved into the RSS 1.0 namespace.
fn rss090_as_rss10(bytes: &[u8]) -> Option<String> {
    const RSS090: &str = "http://my.netscape.com/rdf/simple/0.9/";
    let text = std::str::from_utf8(bytes).ok()?;
    text.contains(RSS090)
        .then(|| text.replace(RSS090, "http://purl.org/rss/1.0/"))
}

fn item(entry: &feed_rs::model::Entry, base: Option<&Url>) -> FeedItem {
    let title = entry.title.as_ref().map(text_of).filter(|t| !t.is_empty());
    let link = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| entry.links.first())
        .map(|l| resolve(&l.href, base));
    let text = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(|body| collapse(&strip_tags(body)))
        .or(entry.summary.as_ref().map(text_of))
        .unwrap_or_default();
    finish_item(
        &entry.id,
        title,
        link,
        text,
        entry.published.map(|d| d.to_rfc3339()),
        entry.updated.map(|d| d.to_rfc3339()),
    )
}

/// Identity, hash and summary of an item's fields.
fn finish_item(
    id: &str,
    title: Option<String>,
    link: Option<String>,
    text: String,
    published: Option<String>,
    updated: Option<String>,
) -> FeedItem {
    let mut hasher = Sha256::new();
    for part in [title.as_deref(), link.as_deref(), Some(text.as_str())] {
        hasher.update(part.unwrap_or_default().as_bytes());
        hasher.update([0]);
    }
    let content_hash = hex(&hasher.finalize());
    let summary = (!text.is_empty()).then(|| shorten(&text, MAX_SUMMARY_CHARS));
    FeedItem {
        key: item_key(id, link.as_deref(), title.as_deref()),
        title,
        link,
        published,
        updated,
        summary,
        content_hash,
    }
}

/// The plain text of a feed text construct (tags removed only from HTML).
fn text_of(text: &feed_rs::model::Text) -> String {
    if text.content_type.to_string().contains("html") {
        collapse(&strip_tags(&text.content))
    } else {
        collapse(&text.content)
    }
}

/// The identity of an item: its id, else its normalised link, else a hash
/// of its title.
pub fn item_key(id: &str, link: Option<&str>, title: Option<&str>) -> String {
    let id = id.trim();
    if !id.is_empty() {
        return format!("id:{id}");
    }
    if let Some(link) = link.filter(|l| !l.trim().is_empty()) {
        return format!("link:{}", normalize_link(link));
    }
    let digest = Sha256::digest(title.unwrap_or_default().as_bytes());
    format!("title:{}", &hex(&digest)[..16])
}

/// A link in canonical form: lowercase scheme and host (the URL parser's
/// job), no fragment, no `utm_*` tracking parameters, no trailing slash.
pub fn normalize_link(link: &str) -> String {
    let Ok(mut url) = Url::parse(link.trim()) else {
        return link.trim().to_owned();
    };
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let mut text = url.to_string();
    if url.path().len() > 1 && text.ends_with('/') {
        text.pop();
    }
    text
}

fn resolve(href: &str, base: Option<&Url>) -> String {
    match base.and_then(|b| b.join(href.trim()).ok()) {
        Some(url) => url.to_string(),
        None => href.trim().to_owned(),
    }
}

/// Whether `bytes` looks like an HTML page rather than a feed.
pub fn looks_like_html(bytes: &[u8]) -> bool {
    let head: String = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)])
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<head")
}

/// Feed links announced by an HTML page (`<link rel="alternate"
/// type="application/rss+xml|atom+xml|feed+json" href>`), resolved
/// against `base`, in page order. A page nested deeper than
/// [`MAX_HTML_DEPTH`](ffmcp_core::limits::MAX_HTML_DEPTH) announces none:
/// html5ever's tree builder is quadratic in nesting depth (10 MiB of
/// `<div>` ran for minutes), so such pages are not parsed.
pub fn discover(html: &str, base: &Url) -> Vec<Discovered> {
    let depth = ffmcp_core::limits::html_depth(html);
    if depth > ffmcp_core::limits::MAX_HTML_DEPTH {
        tracing::debug!(depth, "page too deeply nested for feed discovery");
        return Vec::new();
    }
    let Ok(selector) = Selector::parse("link[href]") else {
        return Vec::new();
    };
    let doc = Html::parse_document(html);
    doc.select(&selector)
        .filter_map(|link| {
            let el = link.value();
            let rel = el.attr("rel").unwrap_or_default().to_ascii_lowercase();
            if !rel.split_whitespace().any(|r| r == "alternate") {
                return None;
            }
            let media_type = el.attr("type")?.trim().to_ascii_lowercase();
            let is_feed = matches!(
                media_type.as_str(),
                "application/rss+xml"
                    | "application/atom+xml"
                    | "application/feed+json"
                    | "application/json"
                    | "application/rdf+xml"
            );
            let url = base.join(el.attr("href")?.trim()).ok()?;
            is_feed.then(|| Discovered {
                url: url.to_string(),
                title: el.attr("title").map(collapse),
                media_type,
            })
        })
        .collect()
}

/// Removes HTML tags and decodes the few entities feeds commonly double-escape.
pub fn strip_tags(text: &str) -> String {
    if !text.contains('<') && !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
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

/// Whitespace runs become one space; ends trimmed.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_normalise() {
        for (raw, want) in [
            (
                "HTTPS://Example.COM/post/1/?utm_source=x#top",
                "https://example.com/post/1",
            ),
            ("https://example.com/", "https://example.com/"),
            (
                "https://a.example/p?id=3&utm_medium=m",
                "https://a.example/p?id=3",
            ),
            ("not a url", "not a url"),
        ] {
            assert_eq!(normalize_link(raw), want, "{raw}");
        }
    }

    #[test]
    fn identity_prefers_id_then_link_then_title() {
        assert_eq!(item_key(" g1 ", Some("https://x.example/a"), None), "id:g1");
        assert_eq!(
            item_key("", Some("https://x.example/a/#c"), None),
            "link:https://x.example/a"
        );
        assert!(item_key("", None, Some("Hello")).starts_with("title:"));
    }

    #[test]
    fn discovers_alternate_feed_links() {
        let html = r#"<html><head>
            <link rel="stylesheet" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="Blog" href="/feed.xml">
            <link rel="Alternate" type="application/atom+xml" href="https://cdn.example/atom">
            <link rel="alternate" type="text/html" href="/fr/">
            </head></html>"#;
        let base = Url::parse("https://acme.example/blog/").expect("url");
        let found = discover(html, &base);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].url, "https://acme.example/feed.xml");
        assert_eq!(found[0].title.as_deref(), Some("Blog"));
        assert_eq!(found[1].media_type, "application/atom+xml");
        assert!(looks_like_html(html.as_bytes()));
        assert!(!looks_like_html(b"<?xml version='1.0'?><rss/>"));
    }

    #[test]
    fn tags_are_stripped_and_text_shortened() {
        assert_eq!(collapse(&strip_tags("<p>A &amp; <b>B</b></p>")), "A & B");
        assert_eq!(shorten("abcdef", 4), "abc…");
    }
}

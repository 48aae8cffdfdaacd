//! A namespace-aware reading of RSS items, for what `feed-rs` misses: RSS
//! 2.0 whose elements carry a prefix (`<r:rss xmlns:r="…/rss2">`, with
//! same-named elements of other namespaces beside them), and RDF (RSS 0.90
//! and 1.0) items without a `<link>`, which `feed-rs` drops. Items are
//! `item` elements in an RSS namespace (or none); their fields are the
//! children in that namespace, plus `content:encoded` and `dc:date`, so an
//! extension's `<x:description>` never stands in for the item's own.
//!
//! The fields mean what `feed-rs` makes of them (`guid` is the id, `link`
//! the link, `description` plain text, `content:encoded` HTML), so an item
//! keeps its identity and content hash whichever reader saw it.

use quick_xml::{
    XmlVersion,
    events::Event,
    name::{Namespace, ResolveResult},
    reader::NsReader,
};

/// Namespaces RSS elements live in (none at all is RSS 0.91/0.92/2.0).
const RSS_NAMESPACES: &[&str] = &[
    "http://backend.userland.com/rss2",
    "http://backend.userland.com/rss",
    "http://purl.org/rss/1.0/",
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://channel.netscape.com/rdf/simple/0.9/",
];
const CONTENT: &str = "http://purl.org/rss/1.0/modules/content/";
const DUBLIN_CORE: &str = "http://purl.org/dc/elements/1.1/";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// The channel and its items, as written.
#[derive(Debug, Default)]
pub(super) struct Channel {
    pub(super) title: Option<String>,
    pub(super) link: Option<String>,
    pub(super) items: Vec<Item>,
}

/// One item's fields, text as written (entities decoded).
#[derive(Debug, Default)]
pub(super) struct Item {
    pub(super) guid: Option<String>,
    pub(super) title: Option<String>,
    pub(super) link: Option<String>,
    /// `rdf:about`: the item's URI in RDF feeds.
    pub(super) about: Option<String>,
    pub(super) description: Option<String>,
    pub(super) content: Option<String>,
    pub(super) pub_date: Option<String>,
    pub(super) dc_date: Option<String>,
}

/// Which field a child element fills.
#[derive(Debug, Clone, Copy)]
enum Field {
    Guid,
    Title,
    Link,
    Description,
    Content,
    PubDate,
    DcDate,
    ChannelTitle,
    ChannelLink,
}

/// Reads `text`; `None` when it is not well-formed XML.
pub(super) fn read(text: &str) -> Option<Channel> {
    let mut reader = NsReader::from_str(text);
    let mut channel = Channel::default();
    // (is in an RSS namespace, local name) of each open element.
    let mut open: Vec<(bool, String)> = Vec::new();
    let mut item: Option<Item> = None;
    let mut capture: Option<(Field, usize, String)> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().ok()?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let local = e.local_name().as_ref().to_owned();
                let rss = in_rss(&ns);
                let parent = open.last().map(|(r, n)| (*r, n.as_str()));
                if rss && local == "item" && item.is_none() {
                    let mut fresh = Item::default();
                    for attr in e.attributes().flatten() {
                        let (attr_ns, attr_local) = reader.resolver().resolve_attribute(attr.key);
                        if matches!(attr_ns, ResolveResult::Bound(Namespace(n)) if n == RDF)
                            && attr_local.as_ref() == "about"
                        {
                            fresh.about = attr
                                .normalized_value(XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.trim().to_owned());
                        }
                    }
                    if empty {
                        channel.items.push(fresh);
                    } else {
                        item = Some(fresh);
                    }
                } else if capture.is_none() && !empty {
                    let field = match (parent, &ns) {
                        (Some((true, "item")), _) if item.is_some() => {
                            child_field(rss, &ns, &local)
                        }
                        (Some((true, "channel")), _) if rss && item.is_none() => {
                            match local.as_str() {
                                "title" => Some(Field::ChannelTitle),
                                "link" => Some(Field::ChannelLink),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    if let Some(field) = field {
                        capture = Some((field, open.len() + 1, String::new()));
                    }
                }
                if !empty {
                    open.push((rss, local));
                }
            }
            Event::End(_) => {
                let depth = open.len();
                if let Some((field, _, text)) = capture.take_if(|(_, at, _)| *at == depth) {
                    store(&mut channel, item.as_mut(), field, text);
                }
                if let Some((true, name)) = open.pop()
                    && name == "item"
                    && let Some(done) = item.take()
                {
                    channel.items.push(done);
                }
            }
            Event::Text(ref t) => {
                if let Some((_, _, text)) = capture.as_mut() {
                    text.push_str(t);
                }
            }
            Event::CData(ref t) => {
                if let Some((_, _, text)) = capture.as_mut() {
                    text.push_str(t);
                }
            }
            Event::GeneralRef(ref r) => {
                if let Some((_, _, text)) = capture.as_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        text.push(c);
                    } else {
                        let name: &str = r;
                        match quick_xml::escape::resolve_predefined_entity(name) {
                            Some(resolved) => text.push_str(resolved),
                            None => {
                                text.push('&');
                                text.push_str(name);
                                text.push(';');
                            }
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Some(channel)
}

fn in_rss(ns: &ResolveResult<'_>) -> bool {
    match ns {
        ResolveResult::Unbound => true,
        ResolveResult::Bound(Namespace(n)) => RSS_NAMESPACES.contains(n),
        ResolveResult::Unknown(_) => false,
    }
}

fn child_field(rss: bool, ns: &ResolveResult<'_>, local: &str) -> Option<Field> {
    if rss {
        return match local {
            "guid" => Some(Field::Guid),
            "title" => Some(Field::Title),
            "link" => Some(Field::Link),
            "description" => Some(Field::Description),
            "pubDate" => Some(Field::PubDate),
            _ => None,
        };
    }
    match (ns, local) {
        (ResolveResult::Bound(Namespace(n)), "encoded") if *n == CONTENT => Some(Field::Content),
        (ResolveResult::Bound(Namespace(n)), "date") if *n == DUBLIN_CORE => Some(Field::DcDate),
        _ => None,
    }
}

fn store(channel: &mut Channel, item: Option<&mut Item>, field: Field, text: String) {
    let slot = match (field, item) {
        (Field::ChannelTitle, _) => &mut channel.title,
        (Field::ChannelLink, _) => &mut channel.link,
        (_, None) => return,
        (Field::Guid, Some(i)) => &mut i.guid,
        (Field::Title, Some(i)) => &mut i.title,
        (Field::Link, Some(i)) => &mut i.link,
        (Field::Description, Some(i)) => &mut i.description,
        (Field::Content, Some(i)) => &mut i.content,
        (Field::PubDate, Some(i)) => &mut i.pub_date,
        (Field::DcDate, Some(i)) => &mut i.dc_date,
    };
    if slot.is_none() {
        *slot = Some(text);
    }
}

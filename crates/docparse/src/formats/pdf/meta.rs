//! Document metadata (the Info dictionary, XMP packet, catalog language)
//! and the outline (bookmarks) with the pages entries point at.

use std::collections::{HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::objects::{self, Budget};
use crate::model::{Metadata, OutlineEntry};

/// Outline entries read, against huge or looping outlines.
const MAX_OUTLINE: usize = 10_000;
/// Entries read from a name tree.
const MAX_NAMES: usize = 100_000;

/// Fills `meta` from the Info dictionary and the XMP packet.
pub(super) fn metadata(doc: &Document, budget: &Budget<'_>, meta: &mut Metadata) {
    meta.extra.insert("pdf_version".into(), doc.version.clone());
    if let Some(Object::Dictionary(info)) = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| objects::resolve(doc, o))
    {
        meta.title = objects::text(doc, info, b"Title");
        meta.author = objects::text(doc, info, b"Author");
        meta.subject = objects::text(doc, info, b"Subject");
        meta.keywords = objects::text(doc, info, b"Keywords");
        meta.producer = objects::text(doc, info, b"Producer");
        meta.created = objects::text(doc, info, b"CreationDate").map(|d| pdf_date(&d));
        meta.modified = objects::text(doc, info, b"ModDate").map(|d| pdf_date(&d));
        if let Some(creator) = objects::text(doc, info, b"Creator") {
            meta.extra.insert("creator".into(), creator);
        }
    }
    let Some(catalog) = catalog(doc) else {
        return;
    };
    meta.language = objects::text(doc, catalog, b"Lang");
    if let Some(Object::Stream(stream)) = objects::get(doc, catalog, b"Metadata")
        && let Ok(data) = budget.decode(stream)
    {
        let xmp = String::from_utf8_lossy(&data);
        for (key, value) in xmp_fields(&xmp) {
            meta.extra.insert(format!("xmp:{key}"), value);
        }
        let x = |k: &str| meta.extra.get(&format!("xmp:{k}")).cloned();
        meta.title = meta.title.take().or_else(|| x("dc:title"));
        meta.author = meta.author.take().or_else(|| x("dc:creator"));
        meta.subject = meta.subject.take().or_else(|| x("dc:description"));
        meta.keywords = meta.keywords.take().or_else(|| x("pdf:Keywords"));
        meta.producer = meta.producer.take().or_else(|| x("pdf:Producer"));
        meta.created = meta.created.take().or_else(|| x("xmp:CreateDate"));
        meta.modified = meta.modified.take().or_else(|| x("xmp:ModifyDate"));
    }
}

pub(super) fn catalog(doc: &Document) -> Option<&Dictionary> {
    match doc
        .trailer
        .get(b"Root")
        .ok()
        .and_then(|o| objects::resolve(doc, o))?
    {
        Object::Dictionary(d) => Some(d),
        _ => None,
    }
}

/// `D:YYYYMMDDHHmmSSOHH'mm'` as ISO 8601 (as much as is present); other
/// text unchanged.
pub(super) fn pdf_date(raw: &str) -> String {
    let s = raw.trim().strip_prefix("D:").unwrap_or(raw.trim());
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return raw.to_owned();
    }
    let part = |a: usize, b: usize, default: &str| digits.get(a..b).unwrap_or(default).to_owned();
    let mut out = part(0, 4, "");
    if digits.len() >= 6 {
        out += &format!("-{}-{}", part(4, 6, "01"), part(6, 8, "01"));
    }
    if digits.len() >= 10 {
        out += &format!(
            "T{}:{}:{}",
            part(8, 10, "00"),
            part(10, 12, "00"),
            part(12, 14, "00")
        );
        let zone = &s[digits.len()..];
        match zone.chars().next() {
            Some('Z') => out.push('Z'),
            Some(sign @ ('+' | '-')) => {
                let z: String = zone.chars().filter(char::is_ascii_digit).collect();
                if z.len() >= 2 {
                    out += &format!("{sign}{}:{}", &z[..2], z.get(2..4).unwrap_or("00"));
                }
            }
            _ => {}
        }
    }
    out
}

/// Simple XMP properties: `dc:title`, `dc:creator` (first entries of
/// their alternatives or sequences), `pdf:*`, `xmp:*` and `pdfaid:*`, as
/// elements or attributes.
pub(super) fn xmp_fields(xmp: &str) -> Vec<(String, String)> {
    const KEYS: [&str; 12] = [
        "dc:title",
        "dc:creator",
        "dc:description",
        "dc:language",
        "pdf:Producer",
        "pdf:Keywords",
        "xmp:CreatorTool",
        "xmp:CreateDate",
        "xmp:ModifyDate",
        "xmp:MetadataDate",
        "pdfaid:part",
        "pdfaid:conformance",
    ];
    let mut out = Vec::new();
    for key in KEYS {
        let open = format!("<{key}");
        let value = if let Some(start) = xmp.find(&open) {
            let after = &xmp[start + open.len()..];
            if after.starts_with(['>', ' ', '\n', '\r', '\t']) {
                let body_start = after.find('>').map_or(after.len(), |i| i + 1);
                let body = &after[body_start..];
                let end = body.find(&format!("</{key}>")).unwrap_or(0);
                let body = &body[..end];
                let inner = match body.find("<rdf:li") {
                    Some(li) => {
                        let li = &body[li..];
                        let s = li.find('>').map_or(li.len(), |i| i + 1);
                        let e = li.find("</rdf:li>").unwrap_or(li.len());
                        li.get(s..e).unwrap_or("")
                    }
                    None => body,
                };
                Some(unescape(strip_tags(inner).trim()))
            } else {
                None
            }
        } else {
            let attr = format!("{key}=\"");
            xmp.find(&attr).map(|i| {
                let rest = &xmp[i + attr.len()..];
                unescape(&rest[..rest.find('"').unwrap_or(0)])
            })
        };
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            out.push((key.to_owned(), value));
        }
    }
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The outline, with 1-based pages from `page_numbers`.
pub(super) fn outline(doc: &Document, page_numbers: &HashMap<ObjectId, u32>) -> Vec<OutlineEntry> {
    let Some(catalog) = catalog(doc) else {
        return Vec::new();
    };
    let Some(root) = objects::dict(doc, catalog, b"Outlines") else {
        return Vec::new();
    };
    let names = named_destinations(doc, catalog);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    // Depth-first with an explicit stack: (entry reference, level).
    let mut stack: Vec<(ObjectId, u8)> = Vec::new();
    if let Ok(Object::Reference(first)) = root.get(b"First") {
        stack.push((*first, 1));
    }
    while let Some((id, level)) = stack.pop() {
        if out.len() >= MAX_OUTLINE || !seen.insert(id) {
            continue;
        }
        let Some(Object::Dictionary(item)) = objects::object(doc, id) else {
            continue;
        };
        if let Ok(Object::Reference(next)) = item.get(b"Next") {
            stack.push((*next, level));
        }
        if let Ok(Object::Reference(child)) = item.get(b"First") {
            stack.push((*child, level.saturating_add(1)));
        }
        let title = objects::text(doc, item, b"Title").unwrap_or_default();
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            continue;
        }
        let dest = objects::get(doc, item, b"Dest").or_else(|| {
            let action = objects::dict(doc, item, b"A")?;
            objects::get(doc, action, b"D")
        });
        let page = dest.and_then(|d| destination_page(doc, d, &names, page_numbers, 0));
        out.push(OutlineEntry { level, title, page });
    }
    out
}

fn destination_page(
    doc: &Document,
    dest: &Object,
    names: &HashMap<Vec<u8>, Object>,
    page_numbers: &HashMap<ObjectId, u32>,
    depth: usize,
) -> Option<u32> {
    if depth > 4 {
        return None;
    }
    match dest {
        Object::Array(a) => match a.first()? {
            Object::Reference(id) => page_numbers.get(id).copied(),
            // Remote destinations use a 0-based page index.
            Object::Integer(i) => u32::try_from(*i).ok().map(|i| i + 1),
            _ => None,
        },
        Object::Name(n) | Object::String(n, _) => {
            let target = objects::resolve(doc, names.get(n)?)?;
            destination_page(doc, target, names, page_numbers, depth + 1)
        }
        Object::Dictionary(d) => destination_page(
            doc,
            objects::get(doc, d, b"D")?,
            names,
            page_numbers,
            depth + 1,
        ),
        Object::Reference(_) => destination_page(
            doc,
            objects::resolve(doc, dest)?,
            names,
            page_numbers,
            depth + 1,
        ),
        _ => None,
    }
}

/// Named destinations from the catalog's `/Dests` and the `/Names/Dests` tree.
fn named_destinations(doc: &Document, catalog: &Dictionary) -> HashMap<Vec<u8>, Object> {
    let mut names = HashMap::new();
    if let Some(dests) = objects::dict(doc, catalog, b"Dests") {
        for (k, v) in dests.iter().take(MAX_NAMES) {
            names.insert(k.clone(), v.clone());
        }
    }
    let Some(tree) =
        objects::dict(doc, catalog, b"Names").and_then(|n| objects::dict(doc, n, b"Dests"))
    else {
        return names;
    };
    let mut stack = vec![tree];
    let mut visited = 0usize;
    while let Some(node) = stack.pop() {
        visited += 1;
        if visited > MAX_NAMES || names.len() >= MAX_NAMES {
            break;
        }
        if let Some(pairs) = objects::array(doc, node, b"Names") {
            for pair in pairs.chunks_exact(2) {
                if let Some(Object::String(key, _)) = objects::resolve(doc, &pair[0]) {
                    names.insert(key.clone(), pair[1].clone());
                }
            }
        }
        if let Some(kids) = objects::array(doc, node, b"Kids") {
            for kid in kids {
                if let Some(Object::Dictionary(d)) = objects::resolve(doc, kid) {
                    stack.push(d);
                }
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            pdf_date("D:20240131094500+01'00'"),
            "2024-01-31T09:45:00+01:00"
        );
        assert_eq!(pdf_date("D:20240131094500Z"), "2024-01-31T09:45:00Z");
        assert_eq!(pdf_date("D:2024"), "2024");
        assert_eq!(pdf_date("yesterday"), "yesterday");
    }

    #[test]
    fn xmp() {
        let xmp = r#"<x:xmpmeta><rdf:RDF><rdf:Description pdf:Producer="Tool &amp; Co"
            xmp:CreateDate="2020-01-02T03:04:05Z">
            <dc:title><rdf:Alt><rdf:li xml:lang="x-default">A &lt;Title&gt;</rdf:li></rdf:Alt></dc:title>
            <dc:creator><rdf:Seq><rdf:li>Ann</rdf:li><rdf:li>Bob</rdf:li></rdf:Seq></dc:creator>
            <pdfaid:part>2</pdfaid:part></rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let fields: HashMap<String, String> = xmp_fields(xmp).into_iter().collect();
        assert_eq!(fields["dc:title"], "A <Title>");
        assert_eq!(fields["dc:creator"], "Ann");
        assert_eq!(fields["pdf:Producer"], "Tool & Co");
        assert_eq!(fields["xmp:CreateDate"], "2020-01-02T03:04:05Z");
        assert_eq!(fields["pdfaid:part"], "2");
    }
}

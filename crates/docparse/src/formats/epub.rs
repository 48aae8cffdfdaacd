//! EPUB 2/3: `META-INF/container.xml` names the package document (OPF);
//! its metadata fills ours, its spine gives the chapter order, and each
//! XHTML chapter goes through the HTML converter. The navigation document
//! (EPUB 3 `nav`) or NCX (EPUB 2) becomes the outline. Every member is read
//! through [`ZipSafe`], so bombs and oversized books stop at the limits.

use std::collections::HashMap;

use super::{
    xml::{XmlEvent, XmlReader, attr, local},
    zipsafe::{ZipSafe, decode_text, parent, resolve},
};
use crate::{
    DocError, Document, ParseOptions,
    model::{Block, OutlineEntry},
};

const FORMAT: &str = "EPUB";

/// One manifest item.
#[derive(Debug, Clone)]
struct Item {
    href: String,
    media_type: String,
    properties: String,
}

/// What the OPF says.
#[derive(Debug, Default)]
struct Package {
    metadata: HashMap<String, String>,
    manifest: HashMap<String, Item>,
    spine: Vec<String>,
    /// EPUB 2 table of contents (`spine toc="ncx"`).
    toc: Option<String>,
}

/// Parses an EPUB book.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    let mut zip = ZipSafe::new(bytes, options)?;
    if zip
        .names()
        .iter()
        .any(|n| n == "META-INF/encryption.xml" || n == "META-INF/rights.xml")
    {
        // Font obfuscation alone also uses encryption.xml; chapters would
        // then still read. DRM makes them unreadable: checked per chapter.
        tracing::debug!("EPUB declares encryption or rights");
    }
    let container = zip
        .read("META-INF/container.xml")?
        .ok_or_else(|| DocError::malformed(FORMAT, "META-INF/container.xml is missing"))?;
    let opf_path = rootfile(&container, options)?;
    let opf = zip.read(&opf_path)?.ok_or_else(|| {
        DocError::malformed(
            FORMAT,
            format!("the package document {opf_path} is missing"),
        )
    })?;
    let package = package(&opf, &opf_path, options)?;
    let base = parent(&opf_path).to_owned();

    let mut doc = Document::default();
    fill_metadata(&package, &mut doc);
    doc.outline = outline(&mut zip, &package, &base, options).unwrap_or_default();

    let chapters: Vec<&Item> = package
        .spine
        .iter()
        .filter_map(|id| package.manifest.get(id))
        .filter(|item| item.media_type.contains("html"))
        .collect();
    if chapters.is_empty() {
        return Err(DocError::malformed(
            FORMAT,
            "the spine lists no readable chapters",
        ));
    }
    let total = u32::try_from(chapters.len()).unwrap_or(u32::MAX);
    let limit = options.limits.max_pages;
    doc.metadata.pages = Some(total);
    let mut garbled = 0;
    for (i, item) in chapters.iter().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if number > limit {
            doc.warnings.push(format!(
                "stopped after {limit} chapters (the page limit); {} more not read",
                total - limit
            ));
            break;
        }
        if options.pages.is_some_and(|r| !r.contains(number)) {
            continue;
        }
        options.checkpoint(number, total)?;
        let name = resolve(&base, &item.href);
        let Some(bytes) = zip.read(&name)? else {
            doc.warnings
                .push(format!("chapter {name} is listed but missing"));
            continue;
        };
        let html = decode_text(&bytes);
        if !html.contains('<') {
            garbled += 1;
            continue;
        }
        let chapter = super::html::parse_str(&html, options)?;
        doc.blocks.push(Block::PageBreak { number });
        doc.blocks.extend(chapter.blocks);
    }
    if garbled > 0 {
        return Err(DocError::Encrypted(format!(
            "{garbled} chapters of this EPUB are not readable XHTML: the book is probably DRM-protected"
        )));
    }
    Ok(doc)
}

/// The OPF path from container.xml.
fn rootfile(container: &[u8], options: &ParseOptions) -> Result<String, DocError> {
    let mut reader = XmlReader::new(container, FORMAT, "META-INF/container.xml", options);
    loop {
        match reader.event()? {
            XmlEvent::Start(e) | XmlEvent::Empty(e) if local(&e) == b"rootfile" => {
                if let Some(path) = attr(&e, "full-path") {
                    return Ok(path);
                }
            }
            XmlEvent::Eof => {
                return Err(DocError::malformed(
                    FORMAT,
                    "container.xml names no rootfile",
                ));
            }
            _ => {}
        }
    }
}

fn package(opf: &[u8], name: &str, options: &ParseOptions) -> Result<Package, DocError> {
    let mut reader = XmlReader::new(opf, FORMAT, name, options);
    let mut pkg = Package::default();
    let mut in_metadata = false;
    loop {
        match reader.event()? {
            XmlEvent::Start(e) => {
                let tag = local(&e).to_vec();
                match tag.as_slice() {
                    b"metadata" => in_metadata = true,
                    b"spine" => pkg.toc = attr(&e, "toc"),
                    _ if in_metadata => {
                        let key = String::from_utf8_lossy(&tag).into_owned();
                        let property = attr(&e, "property");
                        let text = reader.text()?.trim().to_owned();
                        if text.is_empty() {
                            continue;
                        }
                        let key = match (key.as_str(), property.as_deref()) {
                            ("meta", Some("dcterms:modified")) => "modified".to_owned(),
                            ("meta", _) => continue,
                            _ => key,
                        };
                        pkg.metadata.entry(key).or_insert(text);
                    }
                    _ => {}
                }
            }
            XmlEvent::Empty(e) => match local(&e) {
                b"item" => {
                    if let (Some(id), Some(href)) = (attr(&e, "id"), attr(&e, "href")) {
                        pkg.manifest.insert(
                            id,
                            Item {
                                href,
                                media_type: attr(&e, "media-type").unwrap_or_default(),
                                properties: attr(&e, "properties").unwrap_or_default(),
                            },
                        );
                    }
                }
                b"itemref" => {
                    let linear = attr(&e, "linear").is_none_or(|l| l != "no");
                    if let (Some(idref), true) = (attr(&e, "idref"), linear) {
                        pkg.spine.push(idref);
                    }
                }
                _ => {}
            },
            XmlEvent::End(tag) if tag == b"metadata" => in_metadata = false,
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    Ok(pkg)
}

fn fill_metadata(pkg: &Package, doc: &mut Document) {
    let get = |k: &str| pkg.metadata.get(k).cloned();
    let md = &mut doc.metadata;
    md.title = get("title");
    md.author = get("creator");
    md.subject = get("description").or_else(|| get("subject"));
    md.keywords = get("subject");
    md.language = get("language");
    md.created = get("date");
    md.modified = get("modified");
    md.producer = get("contributor");
    if let Some(publisher) = get("publisher") {
        md.extra.insert("publisher".into(), publisher);
    }
    if let Some(id) = get("identifier") {
        md.extra.insert("identifier".into(), id);
    }
}

/// The table of contents: the EPUB 3 nav document, else the EPUB 2 NCX.
fn outline(
    zip: &mut ZipSafe<'_>,
    pkg: &Package,
    base: &str,
    options: &ParseOptions,
) -> Result<Vec<OutlineEntry>, DocError> {
    let chapter_of: HashMap<String, u32> = pkg
        .spine
        .iter()
        .filter_map(|id| pkg.manifest.get(id))
        .enumerate()
        .map(|(i, item)| {
            (
                resolve(base, &item.href),
                u32::try_from(i + 1).unwrap_or(u32::MAX),
            )
        })
        .collect();
    let page_of = |dir: &str, href: &str| {
        let file = href.split('#').next().unwrap_or_default();
        chapter_of.get(&resolve(dir, file)).copied()
    };
    if let Some(nav) = pkg
        .manifest
        .values()
        .find(|i| i.properties.split_whitespace().any(|p| p == "nav"))
    {
        let name = resolve(base, &nav.href);
        if let Some(bytes) = zip.read(&name)? {
            let dir = parent(&name).to_owned();
            return nav_outline(&bytes, &name, options, &|href| page_of(&dir, href));
        }
    }
    let ncx = pkg
        .toc
        .as_ref()
        .and_then(|id| pkg.manifest.get(id))
        .or_else(|| {
            pkg.manifest
                .values()
                .find(|i| i.media_type == "application/x-dtbncx+xml")
        });
    if let Some(ncx) = ncx {
        let name = resolve(base, &ncx.href);
        if let Some(bytes) = zip.read(&name)? {
            let dir = parent(&name).to_owned();
            return ncx_outline(&bytes, &name, options, &|href| page_of(&dir, href));
        }
    }
    Ok(Vec::new())
}

/// `<nav epub:type="toc"><ol><li><a href>…` nested lists.
fn nav_outline(
    bytes: &[u8],
    name: &str,
    options: &ParseOptions,
    page_of: &dyn Fn(&str) -> Option<u32>,
) -> Result<Vec<OutlineEntry>, DocError> {
    let mut reader = XmlReader::new(bytes, FORMAT, name, options);
    let mut out = Vec::new();
    let mut level = 0u8;
    let mut in_toc = false;
    loop {
        match reader.event()? {
            XmlEvent::Start(e) => match local(&e) {
                b"nav" => {
                    in_toc =
                        attr(&e, "type").is_none_or(|t| t.split_whitespace().any(|v| v == "toc"));
                }
                b"ol" if in_toc => level = level.saturating_add(1),
                b"a" if in_toc => {
                    let href = attr(&e, "href").unwrap_or_default();
                    let title = reader
                        .text()?
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    if !title.is_empty() {
                        out.push(OutlineEntry {
                            level: level.max(1),
                            title,
                            page: page_of(&href),
                        });
                    }
                }
                _ => {}
            },
            XmlEvent::End(tag) if tag == b"ol" && in_toc => level = level.saturating_sub(1),
            XmlEvent::End(tag) if tag == b"nav" => in_toc = false,
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// NCX `navPoint`s (nested), each with `navLabel/text` and `content@src`.
fn ncx_outline(
    bytes: &[u8],
    name: &str,
    options: &ParseOptions,
    page_of: &dyn Fn(&str) -> Option<u32>,
) -> Result<Vec<OutlineEntry>, DocError> {
    let mut reader = XmlReader::new(bytes, FORMAT, name, options);
    let mut out: Vec<OutlineEntry> = Vec::new();
    let mut level = 0u8;
    let mut pending: Option<usize> = None;
    loop {
        match reader.event()? {
            XmlEvent::Start(e) => match local(&e) {
                b"navPoint" => {
                    level = level.saturating_add(1);
                    out.push(OutlineEntry {
                        level,
                        title: String::new(),
                        page: None,
                    });
                    pending = Some(out.len() - 1);
                }
                b"text" => {
                    let text = reader.text()?;
                    if let Some(i) = pending
                        && out[i].title.is_empty()
                    {
                        out[i].title = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    }
                }
                _ => {}
            },
            XmlEvent::Empty(e) if local(&e) == b"content" => {
                if let (Some(i), Some(src)) = (pending, attr(&e, "src")) {
                    out[i].page = page_of(&src);
                }
            }
            XmlEvent::End(tag) if tag == b"navPoint" => level = level.saturating_sub(1),
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    out.retain(|e| !e.title.is_empty());
    Ok(out)
}

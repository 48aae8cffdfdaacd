//! Pieces shared by the OOXML formats (DOCX, PPTX, XLSX): relationship
//! parts and the `docProps` core/app properties.

use std::collections::HashMap;

use super::{
    xml::{XmlEvent, XmlReader, attr, local},
    zipsafe::{ZipSafe, parent, resolve},
};
use crate::{
    DocError, ParseOptions,
    model::{Block, Inline, ListItem, Metadata, Span},
};

/// One relationship of a part.
#[derive(Debug, Clone, PartialEq)]
pub struct Rel {
    /// A member name (resolved against the part's folder) or, when
    /// `external`, the target as written (a URL).
    pub target: String,
    pub external: bool,
    /// The relationship type's last path segment (`hyperlink`, `slide`).
    pub kind: String,
}

/// The relationships of `part` (from `dir/_rels/name.rels`), by id; empty
/// when the part has none.
pub fn rels(
    zip: &mut ZipSafe<'_>,
    part: &str,
    format: &'static str,
    options: &ParseOptions,
) -> Result<HashMap<String, Rel>, DocError> {
    let dir = parent(part);
    let file = &part[dir.len()..].trim_start_matches('/');
    let rels_name = if dir.is_empty() {
        format!("_rels/{file}.rels")
    } else {
        format!("{dir}/_rels/{file}.rels")
    };
    let mut out = HashMap::new();
    let Some(bytes) = zip.read(&rels_name)? else {
        return Ok(out);
    };
    let mut reader = XmlReader::new(&bytes, format, rels_name.as_str(), options);
    loop {
        match reader.event()? {
            XmlEvent::Start(e) | XmlEvent::Empty(e) if local(&e) == b"Relationship" => {
                let (Some(id), Some(target)) = (attr(&e, "Id"), attr(&e, "Target")) else {
                    continue;
                };
                let external = attr(&e, "TargetMode").is_some_and(|m| m == "External");
                let kind = attr(&e, "Type")
                    .and_then(|t| t.rsplit('/').next().map(str::to_owned))
                    .unwrap_or_default();
                let target = if external {
                    target
                } else {
                    resolve(dir, &target)
                };
                out.insert(
                    id,
                    Rel {
                        target,
                        external,
                        kind,
                    },
                );
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// The package's main part (the `officeDocument` relationship), or
/// `fallback` when the package does not say.
pub fn main_part(
    zip: &mut ZipSafe<'_>,
    fallback: &str,
    format: &'static str,
    options: &ParseOptions,
) -> Result<String, DocError> {
    let root = rels(zip, "", format, options)?;
    let mut found: Vec<&Rel> = root
        .values()
        .filter(|r| r.kind == "officeDocument" && !r.external)
        .collect();
    found.sort_by(|a, b| a.target.cmp(&b.target));
    Ok(found
        .first()
        .map(|r| r.target.clone())
        .filter(|t| zip.contains(t))
        .unwrap_or_else(|| fallback.to_owned()))
}

/// Refuses a main part whose root element is not `expected` (a PPTX
/// handed to the DOCX parser, say).
pub fn expect_root(
    bytes: &[u8],
    part: &str,
    expected: &[u8],
    format: &'static str,
    options: &ParseOptions,
) -> Result<(), DocError> {
    let mut reader = XmlReader::new(bytes, format, part, options);
    loop {
        match reader.event()? {
            XmlEvent::Start(e) | XmlEvent::Empty(e) => {
                if local(&e) == expected {
                    return Ok(());
                }
                return Err(DocError::malformed(
                    format,
                    format!(
                        "main part '{part}' is a <{}>, not a <{}>",
                        String::from_utf8_lossy(local(&e)),
                        String::from_utf8_lossy(expected)
                    ),
                ));
            }
            XmlEvent::Eof => {
                return Err(DocError::malformed(
                    format,
                    format!("main part '{part}' is empty"),
                ));
            }
            _ => {}
        }
    }
}

/// Fills `metadata` from `docProps/core.xml` and `docProps/app.xml`.
pub fn properties(
    zip: &mut ZipSafe<'_>,
    metadata: &mut Metadata,
    format: &'static str,
    options: &ParseOptions,
) -> Result<(), DocError> {
    if let Some(core) = zip.read("docProps/core.xml")? {
        for (name, value) in leaf_texts(&core, format, "docProps/core.xml", options)? {
            let slot = match name.as_str() {
                "title" => &mut metadata.title,
                "creator" => &mut metadata.author,
                "subject" => &mut metadata.subject,
                "keywords" => &mut metadata.keywords,
                "language" => &mut metadata.language,
                "created" => &mut metadata.created,
                "modified" => &mut metadata.modified,
                "lastModifiedBy" | "description" | "category" | "revision" | "contentStatus"
                | "lastPrinted" => {
                    metadata.extra.insert(name, value);
                    continue;
                }
                _ => continue,
            };
            *slot = Some(value);
        }
    }
    if let Some(app) = zip.read("docProps/app.xml")? {
        let mut application = None;
        let mut version = None;
        for (name, value) in leaf_texts(&app, format, "docProps/app.xml", options)? {
            match name.as_str() {
                "Application" => application = Some(value),
                "AppVersion" => version = Some(value),
                "Pages" => metadata.pages = value.parse().ok(),
                "Words" | "Slides" | "Company" | "Template" => {
                    metadata.extra.insert(name.to_lowercase(), value);
                }
                _ => {}
            }
        }
        metadata.producer = match (application, version) {
            (Some(a), Some(v)) => Some(format!("{a} {v}")),
            (a, _) => a,
        };
    }
    Ok(())
}

/// (local name, trimmed text) of every non-empty element directly under
/// the root, for flat property parts.
fn leaf_texts(
    bytes: &[u8],
    format: &'static str,
    part: &str,
    options: &ParseOptions,
) -> Result<Vec<(String, String)>, DocError> {
    let mut reader = XmlReader::new(bytes, format, part, options);
    let mut out = Vec::new();
    loop {
        match reader.event()? {
            XmlEvent::Start(e) if reader.depth() == 2 => {
                let name = String::from_utf8_lossy(local(&e)).into_owned();
                let text = reader.text()?;
                let text = text.trim();
                if !text.is_empty() {
                    out.push((name, text.to_owned()));
                }
            }
            XmlEvent::Eof => return Ok(out),
            _ => {}
        }
    }
}

/// Nested lists from flat (level, ordered, content) items, starting at
/// `items[*i]`, whose level is `level`.
pub fn build_list(items: &[(u8, bool, Inline)], i: &mut usize, level: u8) -> Block {
    let ordered = items.get(*i).is_some_and(|item| item.1);
    let mut out: Vec<ListItem> = Vec::new();
    while let Some((lvl, ord, content)) = items.get(*i) {
        if *lvl < level || (*lvl == level && *ord != ordered && !out.is_empty()) {
            break;
        }
        if *lvl == level {
            out.push(ListItem {
                content: content.clone(),
                children: Vec::new(),
            });
            *i += 1;
        } else {
            let child = build_list(items, i, *lvl);
            match out.last_mut() {
                Some(last) => last.children.push(child),
                None => out.push(ListItem {
                    content: Vec::new(),
                    children: vec![child],
                }),
            }
        }
    }
    Block::List {
        ordered,
        items: out,
    }
}

/// Adjacent spans with the same formatting joined; spans whose text is
/// `barrier` stay on their own.
pub fn merge_spans(spans: Vec<Span>, barrier: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        if let Some(last) = out.last_mut()
            && last.bold == span.bold
            && last.italic == span.italic
            && last.code == span.code
            && last.link == span.link
            && last.math.is_none()
            && span.math.is_none()
            && span.text != barrier
            && last.text != barrier
        {
            last.text.push_str(&span.text);
            continue;
        }
        out.push(span);
    }
    out
}

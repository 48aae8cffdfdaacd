//! AcroForm field values: what a filled-in form says is not in the page
//! content but in the fields (`/V` of text fields, list boxes and combo
//! boxes), so the reader collects them into a "Form fields" table after
//! the pages. Empty fields, buttons and signatures are left out.

use std::collections::{BTreeMap, HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::{meta, objects};

/// Fields visited, against hostile field trees.
const MAX_FIELDS: usize = 20_000;
/// Depth of `/Kids` followed.
const MAX_DEPTH: usize = 32;
/// Annotations looked at per page.
const MAX_PAGE_ANNOTS: usize = 4096;
/// Characters kept of one value.
const MAX_VALUE_CHARS: usize = 10_000;

/// A filled-in field: its name and value, and the page of its widget when
/// known.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FieldValue {
    pub name: String,
    pub value: String,
    pub page: Option<u32>,
}

/// The filled-in text, list and combo fields of the document, in field
/// tree order (the AcroForm's `/Fields`; without one, the widget
/// annotations of the pages, as a page copied out of a form has them).
pub(super) fn values(doc: &Document, pages: &BTreeMap<u32, ObjectId>) -> Vec<FieldValue> {
    let (annot_pages, widgets) = annotations(doc, pages);
    let form_fields = meta::catalog(doc)
        .and_then(|c| objects::dict(doc, c, b"AcroForm"))
        .and_then(|form| objects::array(doc, form, b"Fields"))
        .filter(|f| !f.is_empty());
    let roots: Vec<Object> = match form_fields {
        Some(fields) => fields.to_vec(),
        None => widgets
            .into_iter()
            .map(|id| {
                // A widget's field is itself (merged) or its /Parent.
                match objects::object(doc, id) {
                    Some(Object::Dictionary(w)) if !w.has(b"T") => match w.get(b"Parent") {
                        Ok(Object::Reference(parent)) => *parent,
                        _ => id,
                    },
                    _ => id,
                }
            })
            .collect::<Vec<ObjectId>>()
            .into_iter()
            .map(Object::Reference)
            .collect(),
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    // Depth-first, in order: (field, inherited type, inherited name, depth).
    let mut stack: Vec<(&Object, Option<Vec<u8>>, String, usize)> = roots
        .iter()
        .rev()
        .map(|f| (f, None, String::new(), 0))
        .collect();
    while let Some((item, inherited_type, parent_name, depth)) = stack.pop() {
        if seen.len() >= MAX_FIELDS {
            break;
        }
        if let Object::Reference(id) = item
            && !seen.insert(*id)
        {
            continue;
        }
        let Some(Object::Dictionary(field)) = objects::resolve(doc, item) else {
            continue;
        };
        let kind = objects::name(doc, field, b"FT")
            .map(<[u8]>::to_vec)
            .or(inherited_type);
        let name = match objects::text(doc, field, b"T") {
            Some(t) => t,
            None => parent_name,
        };
        let kids = objects::array(doc, field, b"Kids").unwrap_or_default();
        // Kids that are fields (they have a /T) carry their own values;
        // kids without one are this field's widgets.
        let child_fields: Vec<&Object> = kids
            .iter()
            .filter(
                |k| matches!(objects::resolve(doc, k), Some(Object::Dictionary(d)) if d.has(b"T")),
            )
            .collect();
        if !child_fields.is_empty() && depth < MAX_DEPTH {
            for kid in child_fields.into_iter().rev() {
                stack.push((kid, kind.clone(), name.clone(), depth + 1));
            }
            continue;
        }
        let Some(value) = value(doc, field, kind.as_deref()) else {
            continue;
        };
        let page = page_of(item, kids, &annot_pages);
        out.push(FieldValue {
            name: if name.is_empty() {
                "(unnamed)".into()
            } else {
                name
            },
            value,
            page,
        });
    }
    out
}

/// The displayed value of a text or choice field.
pub(super) fn value(doc: &Document, field: &Dictionary, kind: Option<&[u8]>) -> Option<String> {
    let text = match (kind?, objects::get(doc, field, b"V")?) {
        (b"Tx", Object::String(bytes, _)) => objects::decode_text(bytes),
        (b"Tx", Object::Stream(stream)) => String::from_utf8_lossy(&stream.content).into_owned(),
        (b"Ch", Object::String(bytes, _)) => choice_text(doc, field, bytes),
        (b"Ch", Object::Array(items)) => items
            .iter()
            .filter_map(|i| match objects::resolve(doc, i)? {
                Object::String(bytes, _) => Some(choice_text(doc, field, bytes)),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => return None,
    };
    let text: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_VALUE_CHARS)
        .collect();
    (!text.is_empty()).then_some(text)
}

/// A choice's display text: `/Opt` pairs `[export display]` name the
/// export value's label.
fn choice_text(doc: &Document, field: &Dictionary, export: &[u8]) -> String {
    let options = objects::array(doc, field, b"Opt").unwrap_or_default();
    for option in options {
        if let Some(Object::Array(pair)) = objects::resolve(doc, option)
            && let [Object::String(e, _), Object::String(label, _)] = pair.as_slice()
            && e == export
        {
            return objects::decode_text(label);
        }
    }
    objects::decode_text(export)
}

/// The page whose `/Annots` lists the field (a field merged with its
/// widget) or one of its widget kids.
fn page_of(item: &Object, kids: &[Object], annot_pages: &HashMap<ObjectId, u32>) -> Option<u32> {
    if let Object::Reference(id) = item
        && let Some(&page) = annot_pages.get(id)
    {
        return Some(page);
    }
    for kid in kids {
        if let Object::Reference(id) = kid
            && let Some(&page) = annot_pages.get(id)
        {
            return Some(page);
        }
    }
    None
}

/// The page of each annotation in the pages' `/Annots`, and the widget
/// annotations in page order.
fn annotations(
    doc: &Document,
    pages: &BTreeMap<u32, ObjectId>,
) -> (HashMap<ObjectId, u32>, Vec<ObjectId>) {
    let mut pages_of = HashMap::new();
    let mut widgets = Vec::new();
    for (&number, &id) in pages {
        let Some(Object::Dictionary(page)) = objects::object(doc, id) else {
            continue;
        };
        let annots = objects::array(doc, page, b"Annots").unwrap_or_default();
        for annot in annots.iter().take(MAX_PAGE_ANNOTS) {
            let Object::Reference(a) = annot else {
                continue;
            };
            if pages_of.insert(*a, number).is_none()
                && let Some(Object::Dictionary(d)) = objects::object(doc, *a)
                && objects::name(doc, d, b"Subtype") == Some(b"Widget")
            {
                widgets.push(*a);
            }
        }
    }
    (pages_of, widgets)
}

//! Annotation appearances: what a viewer (and pdftotext) draws on top of
//! the page content, above all the text of filled-in form fields, which is
//! in the widgets' appearance streams and not in the page's content.

use lopdf::{Dictionary, Document, Object};

use super::{
    content::{Appearance, Char, IDENTITY, Interpreter, MAX_CHARS, mul},
    forms,
    objects::{self, StreamError},
};

/// Levels of /Parent followed for a widget's field attributes.
const MAX_PARENTS: usize = 8;

/// Annotations drawn per page.
const MAX_ANNOTATIONS: usize = 1024;
/// Annotation flags that keep an annotation off the screen: Hidden, NoView.
const HIDDEN: u32 = 2 | 32;

/// The normal appearances of a page's visible annotations, in `/Annots`
/// order. Links and popups (drawn by their parent) are skipped.
pub(super) fn appearances<'a>(doc: &'a Document, page: &'a Dictionary) -> Vec<Appearance<'a>> {
    let mut out = Vec::new();
    let annots = objects::array(doc, page, b"Annots").unwrap_or_default();
    for annot in annots.iter().take(MAX_ANNOTATIONS) {
        let Some(Object::Dictionary(annot)) = objects::resolve(doc, annot) else {
            continue;
        };
        if matches!(
            objects::name(doc, annot, b"Subtype"),
            Some(b"Link" | b"Popup")
        ) {
            continue;
        }
        let flags = objects::number_at(doc, annot, b"F").unwrap_or(0.0);
        if flags.is_finite() && (flags.max(0.0) as u32) & HIDDEN != 0 {
            continue;
        }
        let Some(rect) = objects::array(doc, annot, b"Rect")
            .filter(|r| r.len() == 4)
            .map(|r| {
                let v: Vec<f32> = r
                    .iter()
                    .map(|o| objects::number(doc, o).unwrap_or(f32::NAN))
                    .collect();
                [
                    v[0].min(v[2]),
                    v[1].min(v[3]),
                    v[0].max(v[2]),
                    v[1].max(v[3]),
                ]
            })
            .filter(|r| r.iter().all(|v| v.is_finite()))
        else {
            continue;
        };
        let Some(normal) =
            objects::dict(doc, annot, b"AP").and_then(|ap| objects::get(doc, ap, b"N"))
        else {
            if let Some(text) = field_text(doc, annot) {
                out.push(Appearance::Text {
                    text,
                    rect,
                    size: font_size(doc, annot),
                });
            }
            continue;
        };
        let stream = match normal {
            Object::Stream(stream) => stream,
            // Appearance states (check boxes, radio buttons): the one /AS names.
            Object::Dictionary(states) => {
                let Some(state) = objects::name(doc, annot, b"AS") else {
                    continue;
                };
                match objects::get(doc, states, state) {
                    Some(Object::Stream(stream)) => stream,
                    _ => continue,
                }
            }
            _ => continue,
        };
        out.push(Appearance::Stream { stream, rect });
    }
    out
}

/// The value of the text or choice field a widget without an appearance
/// belongs to (the widget itself, or up its /Parent chain).
fn field_text(doc: &Document, widget: &Dictionary) -> Option<String> {
    if objects::name(doc, widget, b"Subtype") != Some(b"Widget") {
        return None;
    }
    let mut kind = None;
    let mut node = widget;
    let mut holder = None;
    for _ in 0..MAX_PARENTS {
        kind = kind.or_else(|| objects::name(doc, node, b"FT"));
        if holder.is_none() && node.has(b"V") {
            holder = Some(node);
        }
        match objects::dict(doc, node, b"Parent") {
            Some(parent) => node = parent,
            None => break,
        }
    }
    forms::value(doc, holder?, kind)
}

/// The font size of a widget's default appearance (`/DA (/Helv 10 Tf)`);
/// 0 means "fit the box".
fn font_size(doc: &Document, widget: &Dictionary) -> f32 {
    let Some(Object::String(da, _)) = objects::get(doc, widget, b"DA") else {
        return 0.0;
    };
    let da = String::from_utf8_lossy(da);
    let words: Vec<&str> = da.split_whitespace().collect();
    words
        .iter()
        .position(|w| *w == "Tf")
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| words[i].parse::<f32>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 200.0)
        .unwrap_or(0.0)
}

impl<'a> Interpreter<'a> {
    /// Draws an appearance stream onto its annotation's rectangle: the
    /// form's bounding box, through its matrix, is scaled and moved onto
    /// the rectangle (PDF 32000-1, 12.5.5).
    pub(super) fn run_appearance(
        &mut self,
        stream: &'a lopdf::Stream,
        rect: [f32; 4],
    ) -> Result<(), StreamError> {
        let doc = self.doc;
        let numbers = |key: &[u8], n: usize| {
            objects::array(doc, &stream.dict, key)
                .filter(|a| a.len() == n)
                .map(|a| {
                    a.iter()
                        .map(|o| {
                            objects::number(doc, o)
                                .filter(|v| v.is_finite())
                                .unwrap_or(0.0)
                        })
                        .collect::<Vec<f32>>()
                })
        };
        let Some(bbox) = numbers(b"BBox", 4) else {
            return Ok(());
        };
        let matrix = numbers(b"Matrix", 6)
            .map(|m| [m[0], m[1], m[2], m[3], m[4], m[5]])
            .unwrap_or(IDENTITY);
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for (x, y) in [
            (bbox[0], bbox[1]),
            (bbox[2], bbox[1]),
            (bbox[0], bbox[3]),
            (bbox[2], bbox[3]),
        ] {
            let tx = matrix[0] * x + matrix[2] * y + matrix[4];
            let ty = matrix[1] * x + matrix[3] * y + matrix[5];
            (x0, y0, x1, y1) = (x0.min(tx), y0.min(ty), x1.max(tx), y1.max(ty));
        }
        if !(x1 - x0 > 0.0 && y1 - y0 > 0.0) {
            return Ok(());
        }
        let sx = (rect[2] - rect[0]) / (x1 - x0);
        let sy = (rect[3] - rect[1]) / (y1 - y0);
        let onto = [sx, 0.0, 0.0, sy, rect[0] - x0 * sx, rect[1] - y0 * sy];
        let content = match self.budget.decode(stream) {
            Ok(data) => data,
            Err(StreamError::Broken(reason)) => {
                self.out.problems.push(format!(
                    "an annotation appearance could not be decoded: {reason}"
                ));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.state.ctm = mul(&matrix, &onto);
        self.tm = IDENTITY;
        self.tlm = IDENTITY;
        let resources = objects::dict(doc, &stream.dict, b"Resources");
        self.run(&content, resources)
    }

    /// A field value laid out as one line at the left of its rectangle,
    /// vertically centred, glyphs half an em wide.
    pub(super) fn show_field_text(&mut self, text: &str, rect: [f32; 4], size: f32) {
        let size = if size > 0.0 && size.is_finite() {
            size
        } else {
            ((rect[3] - rect[1]) * 0.7).clamp(4.0, 24.0)
        };
        let mut x = rect[0] + 2.0;
        let y = rect[1] + ((rect[3] - rect[1]) - size).max(0.0) / 2.0 + 0.2 * size;
        let mut space = false;
        for c in text.chars() {
            if self.out.chars.len() >= MAX_CHARS {
                break;
            }
            let width = 0.5 * size;
            if c.is_whitespace() {
                space = true;
            } else if !c.is_control() {
                let start = self.out.text.len() as u32;
                self.out.text.push(c);
                self.out.chars.push(Char {
                    x0: x,
                    x1: x + width,
                    y,
                    size,
                    rot: 0,
                    space_before: space,
                    start,
                    end: self.out.text.len() as u32,
                });
                space = false;
            }
            x += width;
        }
    }
}

//! The content-stream interpreter: runs a page's operators (graphics state,
//! text state and positioning, shown strings, form XObjects) and records
//! every glyph with its position on the page, for [`super::layout`] to put
//! in reading order. Images are counted so scanned pages can be reported.

use std::{collections::HashMap, rc::Rc};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::{
    encoding::normalize_into,
    font::Font,
    lexer::{Lexer, Operand},
    objects::{self, Budget, StreamError},
};

/// A glyph placed on the page, in a frame rotated so its baseline runs
/// left to right (`x` along the baseline, `y` up).
#[derive(Debug, Clone, Copy)]
pub(super) struct Char {
    pub x0: f32,
    pub x1: f32,
    pub y: f32,
    pub size: f32,
    /// Quarter turns of the baseline (0 = upright).
    pub rot: u8,
    /// A space glyph (or word-spacing code) came before it.
    pub space_before: bool,
    /// Byte range of its text in [`PageContent::text`].
    pub start: u32,
    pub end: u32,
}

/// What a page shows.
#[derive(Debug, Default)]
pub(super) struct PageContent {
    pub chars: Vec<Char>,
    pub text: String,
    pub images: usize,
    /// Glyphs whose code maps to no text (a font without a usable
    /// encoding or ToUnicode map).
    pub unmapped: usize,
    /// Glyphs drawn wholly outside the page's visible area (not kept).
    pub off_page: usize,
    /// Problems worth a warning (unreadable streams, limits hit).
    pub problems: Vec<String>,
}

impl PageContent {
    pub(super) fn char_text(&self, c: &Char) -> &str {
        self.text
            .get(c.start as usize..c.end as usize)
            .unwrap_or("")
    }
}

/// What an annotation shows, in its rectangle (`[x0, y0, x1, y1]`).
pub(super) enum Appearance<'a> {
    /// Its appearance stream.
    Stream {
        stream: &'a lopdf::Stream,
        rect: [f32; 4],
    },
    /// A form field's value with no appearance stream (viewers and
    /// pdftotext generate one): one line of text at the font size.
    Text {
        text: String,
        rect: [f32; 4],
        size: f32,
    },
}

/// Fonts loaded so far, shared across pages.
#[derive(Default)]
pub(super) struct FontCache {
    fonts: HashMap<FontKey, Rc<Font>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FontKey {
    Object(ObjectId),
    /// A font dictionary written directly in a resource dictionary,
    /// keyed by its address (the document is immutable while parsing).
    Inline(usize),
}

/// Depth of nested form XObjects.
const MAX_FORM_DEPTH: usize = 12;
/// Operators run for one page, forms included, against quadratic blow-ups.
const MAX_OPERATIONS: u64 = 20_000_000;
/// Depth of the q/Q stack.
const MAX_SAVE_DEPTH: usize = 256;
/// Glyphs recorded for one page.
pub(super) const MAX_CHARS: usize = 2_000_000;

pub(super) type Matrix = [f32; 6];
pub(super) const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

pub(super) fn mul(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

#[derive(Clone)]
pub(super) struct GraphicsState {
    pub(super) ctm: Matrix,
    font: Option<Rc<Font>>,
    size: f32,
    char_space: f32,
    word_space: f32,
    scale: f32,
    leading: f32,
    rise: f32,
}

impl Default for GraphicsState {
    fn default() -> Self {
        Self {
            ctm: IDENTITY,
            font: None,
            size: 0.0,
            char_space: 0.0,
            word_space: 0.0,
            scale: 1.0,
            leading: 0.0,
            rise: 0.0,
        }
    }
}

/// Interprets one page.
pub(super) struct Interpreter<'a> {
    pub(super) doc: &'a Document,
    pub(super) budget: &'a Budget<'a>,
    fonts: &'a mut FontCache,
    pub(super) out: PageContent,
    pub(super) state: GraphicsState,
    pub(super) stack: Vec<GraphicsState>,
    pub(super) tm: Matrix,
    pub(super) tlm: Matrix,
    pending_space: bool,
    /// Open marked-content sequences; `Some` where one carries
    /// `/ActualText`, which replaces the glyphs drawn inside it.
    marked: Vec<Option<ActualText>>,
    operations: u64,
    forms: Vec<ObjectId>,
    form_cache: HashMap<ObjectId, Rc<Vec<u8>>>,
    /// The page's visible area; glyphs wholly outside it are not shown
    /// (as in pdftotext), so a scanned page with an off-page label still
    /// counts as a page without text.
    page_box: Option<[f32; 4]>,
}

impl<'a> Interpreter<'a> {
    pub(super) fn new(doc: &'a Document, budget: &'a Budget<'a>, fonts: &'a mut FontCache) -> Self {
        Self {
            doc,
            budget,
            fonts,
            out: PageContent::default(),
            state: GraphicsState::default(),
            stack: Vec::new(),
            tm: IDENTITY,
            tlm: IDENTITY,
            pending_space: false,
            marked: Vec::new(),
            operations: 0,
            forms: Vec::new(),
            form_cache: HashMap::new(),
            page_box: None,
        }
    }

    /// Drops glyphs that fall wholly outside `page_box` (`[x0, y0, x1, y1]`).
    pub(super) fn with_page_box(mut self, page_box: Option<[f32; 4]>) -> Self {
        self.page_box = page_box;
        self
    }

    /// Runs `content` with `resources`, then the appearances of the page's
    /// annotations (filled-in form fields, stamps, free text), and returns
    /// what the page shows. Errors are only budget exhaustion; broken
    /// streams become problems.
    pub(super) fn run_page(
        mut self,
        content: &[u8],
        resources: Option<&'a Dictionary>,
        appearances: &[Appearance<'a>],
    ) -> Result<PageContent, StreamError> {
        self.run(content, resources)?;
        // A replacement left open at the end of the page still counts.
        while let Some(marked) = self.marked.pop() {
            if let Some(actual) = marked {
                self.place_actual_text(actual);
            }
        }
        for appearance in appearances {
            self.state = GraphicsState::default();
            self.stack.clear();
            match appearance {
                Appearance::Stream { stream, rect } => self.run_appearance(stream, *rect)?,
                Appearance::Text { text, rect, size } => self.show_field_text(text, *rect, *size),
            }
        }
        Ok(self.out)
    }

    pub(super) fn run(
        &mut self,
        content: &[u8],
        resources: Option<&'a Dictionary>,
    ) -> Result<(), StreamError> {
        let mut lexer = Lexer::new(content);
        let base_depth = self.stack.len();
        while let Some((op, operands)) = lexer.next_op() {
            self.operations += 1;
            if self.operations > MAX_OPERATIONS {
                self.out.problems.push(format!(
                    "stopped after {MAX_OPERATIONS} content operators; the rest of the page is skipped"
                ));
                return Ok(());
            }
            // Non-finite operands (a 40-digit number overflows f32) count as
            // 0, so no infinity or NaN reaches a position.
            let n = |i: usize| {
                operands
                    .get(i)
                    .and_then(Operand::number)
                    .filter(|v| v.is_finite())
                    .unwrap_or(0.0)
            };
            match op {
                b"q" if self.stack.len() < MAX_SAVE_DEPTH => {
                    self.stack.push(self.state.clone());
                }
                b"Q" => {
                    if self.stack.len() > base_depth
                        && let Some(state) = self.stack.pop()
                    {
                        self.state = state;
                    }
                }
                b"cm" if operands.len() >= 6 => {
                    let m = [n(0), n(1), n(2), n(3), n(4), n(5)];
                    self.state.ctm = mul(&m, &self.state.ctm);
                }
                b"BT" => {
                    self.tm = IDENTITY;
                    self.tlm = IDENTITY;
                }
                b"Tf" => {
                    self.state.size = n(1);
                    self.state.font = match operands.first() {
                        Some(Operand::Name(name)) => self.font(resources, name),
                        _ => None,
                    };
                }
                b"Tc" => self.state.char_space = n(0),
                b"Tw" => self.state.word_space = n(0),
                b"Tz" => self.state.scale = n(0) / 100.0,
                b"TL" => self.state.leading = n(0),
                b"Ts" => self.state.rise = n(0),
                b"Td" => self.next_line(n(0), n(1)),
                b"TD" => {
                    self.state.leading = -n(1);
                    self.next_line(n(0), n(1));
                }
                b"Tm" if operands.len() >= 6 => {
                    self.tm = [n(0), n(1), n(2), n(3), n(4), n(5)];
                    self.tlm = self.tm;
                }
                b"T*" => self.next_line(0.0, -self.state.leading),
                b"Tj" => {
                    if let Some(Operand::Str(s)) = operands.first() {
                        self.show(s);
                    }
                }
                b"'" => {
                    self.next_line(0.0, -self.state.leading);
                    if let Some(Operand::Str(s)) = operands.first() {
                        self.show(s);
                    }
                }
                b"\"" => {
                    self.state.word_space = n(0);
                    self.state.char_space = n(1);
                    self.next_line(0.0, -self.state.leading);
                    if let Some(Operand::Str(s)) = operands.get(2) {
                        self.show(s);
                    }
                }
                b"TJ" => {
                    if let Some(Operand::Array(items)) = operands.first() {
                        for item in items {
                            match item {
                                Operand::Str(s) => self.show(s),
                                Operand::Number(adjust) if adjust.is_finite() => {
                                    let vertical =
                                        self.state.font.as_ref().and_then(|f| f.vertical());
                                    let shift = -adjust / 1000.0 * self.state.size;
                                    let step = match vertical {
                                        None => [1.0, 0.0, 0.0, 1.0, shift * self.state.scale, 0.0],
                                        Some(_) => [1.0, 0.0, 0.0, 1.0, 0.0, shift],
                                    };
                                    self.tm = mul(&step, &self.tm);
                                }
                                _ => {}
                            }
                        }
                    }
                }
                b"Do" => {
                    if let Some(Operand::Name(name)) = operands.first() {
                        self.draw_xobject(resources, name)?;
                    }
                }
                b"EI" => self.out.images += 1,
                b"BMC" | b"BDC" if self.marked.len() < MAX_MARKED_DEPTH => {
                    let text = match operands.get(1) {
                        Some(Operand::Dict(entries)) => entries
                            .iter()
                            .find(|(k, _)| k == b"ActualText")
                            .and_then(|(_, v)| match v {
                                Operand::Str(s) => Some(text_string(s)),
                                _ => None,
                            }),
                        // A named property list: the dictionary lives in the
                        // resources' /Properties (how InDesign and Acrobat
                        // write marked content).
                        Some(Operand::Name(name)) => resources
                            .and_then(|r| objects::dict(self.doc, r, b"Properties"))
                            .and_then(|p| objects::dict(self.doc, p, name))
                            .and_then(|d| match objects::get(self.doc, d, b"ActualText")? {
                                Object::String(bytes, _) => Some(text_string(bytes)),
                                _ => None,
                            }),
                        _ => None,
                    };
                    // An inner replacement inside an outer one is part of it.
                    let outer = self.marked.iter().any(Option::is_some);
                    self.marked.push(
                        text.filter(|_| !outer)
                            .map(|text| ActualText { text, placed: None }),
                    );
                }
                b"EMC" => {
                    if let Some(Some(actual)) = self.marked.pop() {
                        self.place_actual_text(actual);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn next_line(&mut self, tx: f32, ty: f32) {
        self.tlm = mul(&[1.0, 0.0, 0.0, 1.0, tx, ty], &self.tlm);
        self.tm = self.tlm;
    }

    fn font(&mut self, resources: Option<&'a Dictionary>, name: &[u8]) -> Option<Rc<Font>> {
        let doc = self.doc;
        let fonts = objects::dict(doc, resources?, b"Font")?;
        let entry = fonts.get(name).ok()?;
        let (key, dict) = match entry {
            Object::Reference(id) => match objects::object(doc, *id)? {
                Object::Dictionary(d) => (FontKey::Object(*id), d),
                _ => return None,
            },
            Object::Dictionary(d) => (FontKey::Inline(std::ptr::from_ref(d) as usize), d),
            _ => return None,
        };
        if let Some(font) = self.fonts.fonts.get(&key) {
            return Some(font.clone());
        }
        let font = Rc::new(Font::load(doc, dict, self.budget));
        self.fonts.fonts.insert(key, font.clone());
        Some(font)
    }

    fn show(&mut self, bytes: &[u8]) {
        let Some(font) = self.state.font.clone() else {
            return;
        };
        let st = &self.state;
        let size = st.size;
        let h = st.scale;
        let (tc, tw, rise, ctm) = (st.char_space, st.word_space, st.rise, st.ctm);
        let size_factor = font.size_factor();
        let vertical = font.vertical();
        let mut tm = self.tm;
        let mut pending = self.pending_space;
        let page_box = self.page_box;
        let out = &mut self.out;
        let mut actual = self.marked.iter_mut().find_map(Option::as_mut);
        font.decode(bytes, |glyph| {
            let trm = mul(&mul(&[size * h, 0.0, 0.0, size, 0.0, rise], &tm), &ctm);
            // Horizontal writing advances along x; vertical writing (CJK
            // WMode 1) down y, with no horizontal scaling.
            let (step, advance) = match vertical {
                None => {
                    let mut advance = glyph.width * size + tc;
                    if glyph.word_space {
                        advance += tw;
                    }
                    advance *= h;
                    ([1.0, 0.0, 0.0, 1.0, advance, 0.0], advance)
                }
                Some(down) => {
                    let mut advance = down * size + tc;
                    if glyph.word_space {
                        advance += tw;
                    }
                    ([1.0, 0.0, 0.0, 1.0, 0.0, -advance], advance)
                }
            };
            let text = glyph.text.as_ref();
            if vertical.is_none()
                && let Some(actual) = actual.as_deref_mut()
            {
                // Replaced: only where the glyphs are counts, mapped or not.
                if trm.iter().all(|v| v.is_finite()) {
                    let rot = rotation(trm[0], trm[1]);
                    let (x, y) = rotate(rot, trm[4], trm[5]);
                    let end_m = mul(
                        &[1.0, 0.0, 0.0, 1.0, glyph.width * size * h, 0.0],
                        &mul(&tm, &ctm),
                    );
                    let (x_end, _) = rotate(rot, end_m[4], end_m[5]);
                    let em = (trm[2] * trm[2] + trm[3] * trm[3]).sqrt() * size_factor;
                    match actual.placed.as_mut() {
                        Some(c) if c.rot == rot => {
                            c.x0 = c.x0.min(x);
                            c.x1 = c.x1.max(x_end.max(x));
                        }
                        Some(_) => {}
                        None => {
                            actual.placed = Some(Char {
                                x0: x,
                                x1: x_end.max(x),
                                y,
                                size: em.max(0.1),
                                rot,
                                space_before: pending,
                                start: 0,
                                end: 0,
                            });
                            pending = false;
                        }
                    }
                }
                if advance.is_finite() {
                    tm = mul(&step, &tm);
                }
                return;
            }
            if text.trim().is_empty() {
                if !text.is_empty() || glyph.word_space {
                    pending = true;
                } else {
                    out.unmapped += 1;
                }
            } else if out.chars.len() < MAX_CHARS && trm.iter().all(|v| v.is_finite()) {
                // A vertical column is a line whose baseline runs down the
                // page: in that frame columns follow each other right to
                // left, which is their reading order.
                let rot = match vertical {
                    None => rotation(trm[0], trm[1]),
                    Some(_) => rotation(-trm[2], -trm[3]),
                };
                let (x, y) = rotate(rot, trm[4], trm[5]);
                // The glyph's box ends at its width; character and word
                // spacing are gaps after it (as poppler counts them).
                let box_step = match vertical {
                    None => [1.0, 0.0, 0.0, 1.0, glyph.width * size * h, 0.0],
                    Some(down) => [1.0, 0.0, 0.0, 1.0, 0.0, -down * size],
                };
                let end_m = mul(&box_step, &mul(&tm, &ctm));
                let (x_end, _) = rotate(rot, end_m[4], end_m[5]);
                if let Some(b) = page_box {
                    // The glyph's box: origin to end, one em up.
                    let xs = [trm[4], end_m[4], trm[4] + trm[2], end_m[4] + trm[2]];
                    let ys = [trm[5], end_m[5], trm[5] + trm[3], end_m[5] + trm[3]];
                    let (min_x, max_x) = (
                        xs.iter().copied().fold(f32::MAX, f32::min),
                        xs.iter().copied().fold(f32::MIN, f32::max),
                    );
                    let (min_y, max_y) = (
                        ys.iter().copied().fold(f32::MAX, f32::min),
                        ys.iter().copied().fold(f32::MIN, f32::max),
                    );
                    if max_x < b[0] || min_x > b[2] || max_y < b[1] || min_y > b[3] {
                        out.off_page += 1;
                        if advance.is_finite() {
                            tm = mul(&step, &tm);
                        }
                        return;
                    }
                }
                let em = match vertical {
                    None => (trm[2] * trm[2] + trm[3] * trm[3]).sqrt(),
                    Some(_) => (trm[0] * trm[0] + trm[1] * trm[1]).sqrt(),
                } * size_factor;
                let start = out.text.len() as u32;
                normalize_into(text, &mut out.text);
                let mut x1 = x_end.max(x);
                if x1 - x < 0.05 * em {
                    x1 = x + 0.5 * em * text.chars().count() as f32;
                }
                out.chars.push(Char {
                    x0: x,
                    x1,
                    y,
                    size: em.max(0.1),
                    rot,
                    space_before: pending,
                    start,
                    end: out.text.len() as u32,
                });
                pending = false;
            }
            if advance.is_finite() {
                tm = mul(&step, &tm);
            }
        });
        self.tm = tm;
        self.pending_space = pending;
    }

    /// Records a marked-content sequence's `/ActualText` as one glyph
    /// run where its glyphs were drawn (nothing when none were, as in
    /// pdftotext).
    fn place_actual_text(&mut self, actual: ActualText) {
        let Some(mut c) = actual.placed else {
            return;
        };
        if actual.text.trim().is_empty() || self.out.chars.len() >= MAX_CHARS {
            return;
        }
        c.start = self.out.text.len() as u32;
        normalize_into(&actual.text, &mut self.out.text);
        c.end = self.out.text.len() as u32;
        if c.x1 - c.x0 < 0.05 * c.size {
            c.x1 = c.x0 + 0.5 * c.size * actual.text.chars().count() as f32;
        }
        self.out.chars.push(c);
    }

    fn draw_xobject(
        &mut self,
        resources: Option<&'a Dictionary>,
        name: &[u8],
    ) -> Result<(), StreamError> {
        let doc = self.doc;
        let Some(xobjects) = resources.and_then(|r| objects::dict(doc, r, b"XObject")) else {
            return Ok(());
        };
        let (id, stream) = match xobjects.get(name) {
            Ok(Object::Reference(id)) => match objects::object(doc, *id) {
                Some(Object::Stream(stream)) => (id, stream),
                _ => return Ok(()),
            },
            // An image written directly in the resources still counts (a
            // scanned page must be flagged however the image is stored).
            Ok(Object::Stream(stream))
                if objects::name(doc, &stream.dict, b"Subtype") == Some(b"Image") =>
            {
                self.out.images += 1;
                return Ok(());
            }
            _ => return Ok(()),
        };
        match objects::name(doc, &stream.dict, b"Subtype") {
            Some(b"Image") => self.out.images += 1,
            Some(b"Form") => {
                if self.forms.len() >= MAX_FORM_DEPTH || self.forms.contains(id) {
                    return Ok(());
                }
                let content = match self.form_cache.get(id) {
                    Some(c) => c.clone(),
                    None => match self.budget.decode(stream) {
                        Ok(data) => {
                            let data = Rc::new(data);
                            self.form_cache.insert(*id, data.clone());
                            data
                        }
                        Err(StreamError::Broken(reason)) => {
                            self.out
                                .problems
                                .push(format!("a form XObject could not be decoded: {reason}"));
                            return Ok(());
                        }
                        Err(e) => return Err(e),
                    },
                };
                let form_resources = objects::dict(doc, &stream.dict, b"Resources").or(resources);
                let matrix = objects::array(doc, &stream.dict, b"Matrix")
                    .filter(|m| m.len() == 6)
                    .map(|m| {
                        let v = |i: usize| objects::number(doc, &m[i]).unwrap_or(0.0);
                        [v(0), v(1), v(2), v(3), v(4), v(5)]
                    })
                    .unwrap_or(IDENTITY);
                let saved = (self.state.clone(), self.tm, self.tlm);
                self.state.ctm = mul(&matrix, &self.state.ctm);
                self.forms.push(*id);
                let depth = self.stack.len();
                let result = self.run(&content, form_resources);
                self.stack.truncate(depth);
                self.forms.pop();
                (self.state, self.tm, self.tlm) = saved;
                result?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Depth of nested marked-content sequences tracked.
const MAX_MARKED_DEPTH: usize = 256;

/// A marked-content sequence's `/ActualText` and where its glyphs went.
struct ActualText {
    text: String,
    /// The box of the glyphs drawn so far, as one [`Char`].
    placed: Option<Char>,
}

/// A PDF text string: UTF-16BE after a byte-order mark (or UTF-8 after
/// its mark), else PDFDocEncoding, read here as Latin-1.
fn text_string(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(utf8) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(utf8).into_owned();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Quarter turns of a baseline direction.
fn rotation(a: f32, b: f32) -> u8 {
    if a.abs() >= b.abs() {
        if a >= 0.0 { 0 } else { 2 }
    } else if b > 0.0 {
        1
    } else {
        3
    }
}

/// Page coordinates in the frame of a baseline turned `rot` quarter turns.
fn rotate(rot: u8, x: f32, y: f32) -> (f32, f32) {
    match rot {
        1 => (y, -x),
        2 => (-x, -y),
        3 => (-y, x),
        _ => (x, y),
    }
}

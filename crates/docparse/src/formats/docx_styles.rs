//! What a DOCX paragraph or run means beyond its own properties: the style
//! sheet (`word/styles.xml`: heading levels through names, `basedOn`
//! chains and outline levels; list numbering and code-ish fonts carried by
//! styles) and the numbering definitions (`word/numbering.xml`: ordered vs
//! bullet per list level).

use std::collections::HashMap;

use super::xml::{XmlEvent, XmlReader, attr, local, on_off};
use crate::{DocError, ParseOptions};

const FORMAT: &str = "docx";
/// `basedOn` chains longer than this are treated as loops.
const MAX_CHAIN: usize = 32;

/// Fonts whose text we mark as code.
const MONOSPACE: [&str; 12] = [
    "courier",
    "consolas",
    "menlo",
    "monaco",
    "lucida console",
    "source code",
    "fira code",
    "fira mono",
    "dejavu sans mono",
    "liberation mono",
    "cascadia",
    "jetbrains mono",
];

/// Whether a font name is a monospace (code) font.
pub fn is_monospace(font: &str) -> bool {
    let font = font.to_lowercase();
    MONOSPACE.iter().any(|m| font.contains(m))
}

#[derive(Debug, Default, Clone)]
struct Style {
    name: String,
    based_on: Option<String>,
    outline: Option<u8>,
    num: Option<(String, u8)>,
    bold: Option<bool>,
    italic: Option<bool>,
    mono: bool,
}

/// The style sheet.
#[derive(Debug, Default)]
pub struct Styles {
    by_id: HashMap<String, Style>,
    /// The default paragraph style's id.
    pub default_paragraph: Option<String>,
}

impl Styles {
    /// Parses `word/styles.xml`.
    pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Self, DocError> {
        let mut styles = Styles::default();
        let mut reader = XmlReader::new(bytes, FORMAT, "word/styles.xml", options);
        let mut current: Option<(String, Style)> = None;
        loop {
            match reader.event()? {
                XmlEvent::Start(e) if local(&e) == b"style" => {
                    let id = attr(&e, "styleId").unwrap_or_default();
                    if attr(&e, "type").as_deref() == Some("paragraph")
                        && attr(&e, "default").is_some_and(|d| on_off(Some(&d)))
                    {
                        styles.default_paragraph = Some(id.clone());
                    }
                    current = Some((id, Style::default()));
                }
                XmlEvent::Start(e) | XmlEvent::Empty(e) => {
                    let Some((_, style)) = current.as_mut() else {
                        continue;
                    };
                    let val = attr(&e, "val");
                    match local(&e) {
                        b"name" => style.name = val.unwrap_or_default(),
                        b"basedOn" => style.based_on = val,
                        b"outlineLvl" => {
                            style.outline =
                                val.and_then(|v| v.parse().ok()).filter(|&l: &u8| l < 9);
                        }
                        b"numId" => {
                            let level = style.num.as_ref().map_or(0, |n| n.1);
                            style.num = val.map(|v| (v, level));
                        }
                        b"ilvl" => {
                            let level = val.and_then(|v| v.parse().ok()).unwrap_or(0u8).min(8);
                            let id = style.num.take().map(|n| n.0).unwrap_or_default();
                            style.num = Some((id, level));
                        }
                        b"b" => style.bold = Some(on_off(val.as_deref())),
                        b"i" => style.italic = Some(on_off(val.as_deref())),
                        b"rFonts" => {
                            style.mono |= ["ascii", "hAnsi"]
                                .iter()
                                .filter_map(|k| attr(&e, k))
                                .any(|f| is_monospace(&f));
                        }
                        b"rPrChange" | b"pPrChange" => reader.skip()?,
                        _ => {}
                    }
                }
                XmlEvent::End(name) if name == b"style" => {
                    if let Some((id, style)) = current.take() {
                        styles.by_id.entry(id).or_insert(style);
                    }
                }
                XmlEvent::Eof => break,
                _ => {}
            }
        }
        Ok(styles)
    }

    /// The chain of styles from `id` up its `basedOn` ancestors.
    fn chain(&self, id: &str) -> impl Iterator<Item = &Style> {
        let mut next = Some(id.to_owned());
        let mut steps = 0;
        std::iter::from_fn(move || {
            let id = next.take()?;
            steps += 1;
            if steps > MAX_CHAIN {
                return None;
            }
            let style = self.by_id.get(&id)?;
            next = style.based_on.clone();
            Some(style)
        })
    }

    /// The heading level (1..=6) a paragraph style gives, if any.
    pub fn heading_level(&self, id: &str) -> Option<u8> {
        for style in self.chain(id) {
            if let Some(level) = heading_from_name(&style.name) {
                return level;
            }
            if let Some(outline) = style.outline {
                return Some((outline + 1).min(6));
            }
        }
        heading_from_name(id).flatten()
    }

    /// The list (numId, ilvl) a paragraph style carries, if any.
    pub fn numbering(&self, id: &str) -> Option<(String, u8)> {
        self.chain(id).find_map(|s| s.num.clone())
    }

    /// Whether a paragraph style is preformatted code.
    pub fn is_code(&self, id: &str) -> bool {
        self.chain(id).any(|s| {
            let name = s.name.to_lowercase();
            s.mono
                || name.contains("code")
                || name.contains("preformatted")
                || name.contains("source")
        })
    }

    /// The nesting depth a list style's name implies ("List Bullet 2" -> 1).
    pub fn list_level_hint(&self, id: &str) -> Option<u8> {
        self.chain(id).find_map(|s| {
            let name = s.name.to_lowercase();
            ["list bullet ", "list number ", "list continue ", "list "]
                .iter()
                .find_map(|prefix| name.strip_prefix(prefix))
                .and_then(|n| n.trim().parse::<u8>().ok())
                .filter(|n| (2..=9).contains(n))
                .map(|n| n - 1)
        })
    }

    /// Whether a paragraph style is a quotation.
    pub fn is_quote(&self, id: &str) -> bool {
        self.chain(id).any(|s| {
            matches!(
                s.name.to_lowercase().as_str(),
                "quote" | "intense quote" | "block text"
            )
        })
    }

    /// (bold, italic, code) given by a character style.
    pub fn run_flags(&self, id: &str) -> (bool, bool, bool) {
        let mut bold = None;
        let mut italic = None;
        let mut code = false;
        for style in self.chain(id) {
            bold = bold.or(style.bold);
            italic = italic.or(style.italic);
            let name = style.name.to_lowercase();
            code |= style.mono || name.contains("code") || name.contains("verbatim");
            if name == "strong" {
                bold = bold.or(Some(true));
            }
            if name == "emphasis" {
                italic = italic.or(Some(true));
            }
        }
        (bold.unwrap_or(false), italic.unwrap_or(false), code)
    }
}

/// `Some(Some(level))` for a heading style name, `Some(None)` for a name
/// that is known not to be a heading (Subtitle), `None` when the name says
/// nothing.
fn heading_from_name(name: &str) -> Option<Option<u8>> {
    let lower = name.trim().to_lowercase();
    if lower == "title" {
        return Some(Some(1));
    }
    if lower == "subtitle" {
        return Some(None);
    }
    let rest = lower
        .strip_prefix("heading")
        .or_else(|| lower.strip_prefix("berschrift"))
        .or_else(|| lower.strip_prefix("überschrift"))?;
    let digits = rest.trim();
    let level: u8 = digits.parse().ok()?;
    (1..=9).contains(&level).then_some(Some(level.min(6)))
}

/// List definitions: for each `numId`, whether each level is ordered.
#[derive(Debug, Default)]
pub struct Numbering {
    nums: HashMap<String, String>,
    /// abstractNumId -> per-level "ordered" flags (index = ilvl).
    abstracts: HashMap<String, [Option<bool>; 9]>,
    /// numId -> per-level overrides.
    overrides: HashMap<String, [Option<bool>; 9]>,
}

impl Numbering {
    /// Parses `word/numbering.xml`.
    pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Self, DocError> {
        let mut numbering = Numbering::default();
        let mut reader = XmlReader::new(bytes, FORMAT, "word/numbering.xml", options);
        let mut abstract_id: Option<String> = None;
        let mut num_id: Option<String> = None;
        let mut level: usize = 0;
        loop {
            match reader.event()? {
                XmlEvent::Start(e) | XmlEvent::Empty(e) => match local(&e) {
                    b"abstractNum" => {
                        abstract_id = attr(&e, "abstractNumId");
                        num_id = None;
                    }
                    b"num" => {
                        num_id = attr(&e, "numId");
                        abstract_id = None;
                    }
                    b"abstractNumId" => {
                        if let (Some(num), Some(target)) = (&num_id, attr(&e, "val")) {
                            numbering.nums.insert(num.clone(), target);
                        }
                    }
                    b"lvl" => {
                        level = attr(&e, "ilvl")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0usize)
                            .min(8);
                    }
                    b"numFmt" => {
                        let ordered =
                            !matches!(attr(&e, "val").as_deref(), Some("bullet" | "none") | None);
                        let table = match (&abstract_id, &num_id) {
                            (Some(a), _) => numbering.abstracts.entry(a.clone()).or_default(),
                            (None, Some(n)) => numbering.overrides.entry(n.clone()).or_default(),
                            (None, None) => continue,
                        };
                        table[level] = Some(ordered);
                    }
                    _ => {}
                },
                XmlEvent::End(name) if name == b"abstractNum" || name == b"num" => {
                    abstract_id = None;
                    num_id = None;
                }
                XmlEvent::Eof => break,
                _ => {}
            }
        }
        Ok(numbering)
    }

    /// Whether list `num_id` at `level` is ordered; `None` when `num_id`
    /// is not a list (`0` or unknown, which Word shows without a marker).
    pub fn ordered(&self, num_id: &str, level: u8) -> Option<bool> {
        if num_id == "0" {
            return None;
        }
        let level = usize::from(level.min(8));
        if let Some(ordered) = self.overrides.get(num_id).and_then(|o| o[level]) {
            return Some(ordered);
        }
        let abstract_id = self.nums.get(num_id)?;
        Some(
            self.abstracts
                .get(abstract_id)
                .and_then(|a| a[level])
                .unwrap_or(false),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_names() {
        assert_eq!(heading_from_name("heading 2"), Some(Some(2)));
        assert_eq!(heading_from_name("Heading9"), Some(Some(6)));
        assert_eq!(heading_from_name("Title"), Some(Some(1)));
        assert_eq!(heading_from_name("Subtitle"), Some(None));
        assert_eq!(heading_from_name("Normal"), None);
        assert_eq!(heading_from_name("heading x"), None);
    }

    #[test]
    fn based_on_loops_end() {
        let xml = br#"<w:styles xmlns:w="w">
            <w:style w:type="paragraph" w:styleId="A"><w:name w:val="A"/><w:basedOn w:val="B"/></w:style>
            <w:style w:type="paragraph" w:styleId="B"><w:name w:val="B"/><w:basedOn w:val="A"/></w:style>
            <w:style w:type="paragraph" w:styleId="C"><w:name w:val="Chapter"/><w:basedOn w:val="Heading2"/></w:style>
            <w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style>
            <w:style w:type="paragraph" w:styleId="O"><w:name w:val="Outline"/><w:pPr><w:outlineLvl w:val="2"/></w:pPr></w:style>
        </w:styles>"#;
        let styles = Styles::parse(xml, &ParseOptions::default()).expect("styles");
        assert_eq!(styles.heading_level("A"), None);
        assert_eq!(styles.heading_level("C"), Some(2));
        assert_eq!(styles.heading_level("O"), Some(3));
    }
}

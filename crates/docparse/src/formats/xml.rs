//! Streaming XML over `quick-xml` for the container formats: a pull reader
//! that enforces [`Limits::max_depth`](crate::Limits), resolves only the
//! five predefined entities and character references, and never expands a
//! DTD: a `<!DOCTYPE>` with entity declarations (billion laughs, external
//! entities) is skipped and references to its entities are dropped, so the
//! attack costs nothing. No DOM is ever built.

use std::borrow::Cow;

use quick_xml::{
    Reader,
    events::{BytesStart, Event},
};

use crate::{DocError, ParseOptions};

/// One step of a document.
#[derive(Debug)]
pub enum XmlEvent<'a> {
    /// An opening tag; its matching [`XmlEvent::End`] follows.
    Start(BytesStart<'a>),
    /// A self-closing tag (no `End` follows).
    Empty(BytesStart<'a>),
    /// A closing tag, by local name.
    End(Vec<u8>),
    /// Character data, entities resolved.
    Text(Cow<'a, str>),
    Eof,
}

/// A depth-limited pull reader over one XML part.
pub struct XmlReader<'a> {
    reader: Reader<&'a [u8]>,
    format: &'static str,
    part: String,
    depth: usize,
    max_depth: usize,
    /// References to entities that were not expanded (DTD-declared ones).
    pub unresolved_entities: usize,
}

impl std::fmt::Debug for XmlReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmlReader")
            .field("part", &self.part)
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

impl<'a> XmlReader<'a> {
    /// A reader over `bytes`, the part called `part` of a `format` file
    /// (both only name things in error messages).
    pub fn new(
        bytes: &'a [u8],
        format: &'static str,
        part: impl Into<String>,
        options: &ParseOptions,
    ) -> Self {
        let mut reader = Reader::from_reader(bytes);
        let config = reader.config_mut();
        config.allow_dangling_amp = true;
        config.check_end_names = true;
        Self {
            reader,
            format,
            part: part.into(),
            depth: 0,
            max_depth: options.limits.max_depth,
            unresolved_entities: 0,
        }
    }

    /// Current element depth (0 outside the root).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The next event; comments, processing instructions, the XML
    /// declaration and any DOCTYPE are skipped.
    pub fn event(&mut self) -> Result<XmlEvent<'a>, DocError> {
        loop {
            let event = self.reader.read_event().map_err(|e| {
                DocError::malformed(
                    self.format,
                    format!(
                        "XML part '{}' at byte {}: {e}",
                        self.part,
                        self.reader.error_position()
                    ),
                )
            })?;
            return Ok(match event {
                Event::Start(e) => {
                    self.depth += 1;
                    if self.depth > self.max_depth {
                        return Err(DocError::Limit(format!(
                            "XML part '{}' nests elements deeper than {}",
                            self.part, self.max_depth
                        )));
                    }
                    XmlEvent::Start(e)
                }
                Event::Empty(e) => XmlEvent::Empty(e),
                Event::End(e) => {
                    self.depth = self.depth.saturating_sub(1);
                    XmlEvent::End(e.local_name().as_ref().as_bytes().to_vec())
                }
                Event::Text(t) => XmlEvent::Text(t.xml10_content()),
                Event::CData(t) => XmlEvent::Text(Cow::Owned(t.into_inner().into_owned())),
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        Ok(None) => predefined(r.xml10_content().as_ref()).map(str::to_owned),
                        Err(_) => None,
                    };
                    match resolved {
                        Some(text) => XmlEvent::Text(Cow::Owned(text)),
                        None => {
                            self.unresolved_entities += 1;
                            continue;
                        }
                    }
                }
                Event::Eof => {
                    if self.depth > 0 {
                        return Err(DocError::malformed(
                            self.format,
                            format!("XML part '{}' ends inside an element", self.part),
                        ));
                    }
                    XmlEvent::Eof
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => continue,
            });
        }
    }

    /// Skips the rest of the element whose `Start` was just returned.
    pub fn skip(&mut self) -> Result<(), DocError> {
        let target = self.depth.saturating_sub(1);
        while self.depth > target {
            if let XmlEvent::Eof = self.event()? {
                break;
            }
        }
        Ok(())
    }

    /// All text inside the element whose `Start` was just returned,
    /// consuming it up to its end.
    pub fn text(&mut self) -> Result<String, DocError> {
        let target = self.depth.saturating_sub(1);
        let mut out = String::new();
        while self.depth > target {
            match self.event()? {
                XmlEvent::Text(t) => out.push_str(&t),
                XmlEvent::Eof => break,
                _ => {}
            }
        }
        Ok(out)
    }
}

/// The local name of a tag (`w:p` -> `p`).
pub fn local<'b>(e: &'b BytesStart<'_>) -> &'b [u8] {
    let name = e.name().into_inner().as_bytes();
    name.iter()
        .position(|&b| b == b':')
        .map_or(name, |i| &name[i + 1..])
}

/// The value of attribute `key`, entities resolved. An exact name wins
/// (`r:id`, `id`); an unprefixed key (`val`) also matches any prefix.
pub fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    let mut fallback = None;
    for a in e.attributes().with_checks(false).flatten() {
        let name = a.key.into_inner().as_bytes();
        if name == key.as_bytes() {
            return Some(unescape(&a.value));
        }
        if fallback.is_none() && !key.contains(':') && !name.starts_with(b"xmlns") {
            let local = name
                .iter()
                .position(|&b| b == b':')
                .map_or(name, |i| &name[i + 1..]);
            if local == key.as_bytes() {
                fallback = Some(unescape(&a.value));
            }
        }
    }
    fallback
}

/// An OOXML on/off attribute (`<w:b/>`, `<w:b w:val="0"/>`, `b="1"`).
pub fn on_off(value: Option<&str>) -> bool {
    !matches!(value, Some("0" | "false" | "off" | "none"))
}

fn predefined(name: &str) -> Option<&'static str> {
    Some(match name {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        _ => return None,
    })
}

/// Resolves predefined entities and character references; anything else
/// (a DTD-declared entity) is dropped.
pub fn unescape(raw: &str) -> String {
    if !raw.contains('&') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find(';').filter(|&e| e <= 32) else {
            out.push('&');
            rest = after;
            continue;
        };
        let name = &after[..end];
        if let Some(num) = name.strip_prefix('#') {
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => num.parse().ok(),
            };
            if let Some(c) = code.and_then(char::from_u32) {
                out.push(c);
            }
        } else if let Some(text) = predefined(name) {
            out.push_str(text);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    fn texts(xml: &str, options: &ParseOptions) -> Result<String, DocError> {
        let mut reader = XmlReader::new(xml.as_bytes(), "test", "t.xml", options);
        let mut out = String::new();
        loop {
            match reader.event()? {
                XmlEvent::Text(t) => out.push_str(&t),
                XmlEvent::Eof => return Ok(out),
                _ => {}
            }
        }
    }

    #[test]
    fn billion_laughs_is_ignored() {
        let mut xml = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for i in 1..10 {
            let prev = if i == 1 {
                "lol".to_owned()
            } else {
                format!("lol{}", i - 1)
            };
            xml.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&{prev};").repeat(10)
            ));
        }
        xml.push_str("]><lolz>a &lol9; b &amp; &#x41;&#66;</lolz>");
        let text = texts(&xml, &ParseOptions::default()).expect("parses");
        assert_eq!(text, "a  b & AB");
    }

    #[test]
    fn depth_is_limited() {
        let options = ParseOptions {
            limits: Limits {
                max_depth: 50,
                ..Limits::default()
            },
            ..ParseOptions::default()
        };
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        let err = texts(&deep, &options).expect_err("too deep");
        assert!(err.to_string().contains("deeper than 50"), "{err}");
        assert!(texts("<a><b></a>", &options).is_err());
        assert!(texts("<a><b>", &options).is_err());
    }

    #[test]
    fn attributes_and_unescaping() {
        assert_eq!(unescape("a &amp; b &lt;&#233;&unknown; &"), "a & b <é &");
        let xml = r#"<w:p xmlns:w="x" w:val="T&amp;C" r:id="rId1" id="7"/>"#;
        let mut reader = XmlReader::new(xml.as_bytes(), "test", "t.xml", &ParseOptions::default());
        let XmlEvent::Empty(e) = reader.event().expect("event") else {
            panic!("expected an empty element");
        };
        assert_eq!(local(&e), b"p");
        assert_eq!(attr(&e, "val").as_deref(), Some("T&C"));
        assert_eq!(attr(&e, "r:id").as_deref(), Some("rId1"));
        assert_eq!(attr(&e, "id").as_deref(), Some("7"));
        assert!(on_off(None) && !on_off(Some("0")));
    }
}

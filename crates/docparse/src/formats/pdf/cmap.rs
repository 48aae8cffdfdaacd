//! CMaps: `ToUnicode` maps (`bfchar`, `bfrange` with a base or an array of
//! destinations, multi-byte codes) and the code-to-CID maps of embedded
//! Type0 encodings (`cidchar`, `cidrange`), with their code space ranges
//! so that a string can be split into codes of the right lengths.

use std::{borrow::Cow, collections::HashMap};

use super::lexer::{Lexer, Operand};

/// Ranges wider than this stay unexpanded and are searched linearly.
const EXPAND_LIMIT: u32 = 256;
/// Mappings kept from one CMap, so a hostile CMap cannot take unbounded memory.
const MAX_ENTRIES: usize = 1 << 20;

/// A code space range: codes of `len` bytes from `low` to `high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CodeSpace {
    pub len: u8,
    pub low: u32,
    pub high: u32,
}

#[derive(Debug, Clone)]
enum Target {
    /// Destination of the range's first code, as UTF-16 units; later codes
    /// increment the last unit.
    Base(Vec<u16>),
    Array(Vec<String>),
    /// First CID of a `cidrange`.
    Cid(u32),
}

#[derive(Debug, Clone)]
struct Range {
    len: u8,
    low: u32,
    high: u32,
    target: Target,
}

/// A parsed CMap.
#[derive(Debug, Clone, Default)]
pub(super) struct CMap {
    pub codespace: Vec<CodeSpace>,
    text: HashMap<(u8, u32), String>,
    cids: HashMap<(u8, u32), u32>,
    ranges: Vec<Range>,
}

impl CMap {
    /// Parses CMap text. Never fails: what cannot be read is skipped.
    pub(super) fn parse(data: &[u8]) -> CMap {
        let mut cmap = CMap::default();
        let mut lexer = Lexer::for_cmap(data);
        while let Some((op, operands)) = lexer.next_op() {
            match op {
                b"endcodespacerange" => {
                    for pair in operands.chunks_exact(2) {
                        if let (Operand::Str(lo), Operand::Str(hi)) = (&pair[0], &pair[1])
                            && (1..=4).contains(&lo.len())
                            && lo.len() == hi.len()
                        {
                            cmap.codespace.push(CodeSpace {
                                len: lo.len() as u8,
                                low: be(lo),
                                high: be(hi),
                            });
                        }
                    }
                }
                b"endbfchar" => {
                    for pair in operands.chunks_exact(2) {
                        if let (Operand::Str(code), dst) = (&pair[0], &pair[1])
                            && (1..=4).contains(&code.len())
                            && let Some(text) = destination(dst)
                        {
                            cmap.insert_text(code.len() as u8, be(code), text);
                        }
                    }
                }
                b"endbfrange" => {
                    for triple in operands.chunks_exact(3) {
                        let (Operand::Str(lo), Operand::Str(hi)) = (&triple[0], &triple[1]) else {
                            continue;
                        };
                        if !(1..=4).contains(&lo.len()) || hi.len() != lo.len() {
                            continue;
                        }
                        let target = match &triple[2] {
                            Operand::Str(base) => Target::Base(utf16_units(base)),
                            Operand::Array(items) => Target::Array(
                                items
                                    .iter()
                                    .map(|i| destination(i).unwrap_or_default())
                                    .collect(),
                            ),
                            _ => continue,
                        };
                        cmap.add_range(lo.len() as u8, be(lo), be(hi), target);
                    }
                }
                b"endcidchar" => {
                    for pair in operands.chunks_exact(2) {
                        if let (Operand::Str(code), Operand::Number(cid)) = (&pair[0], &pair[1])
                            && (1..=4).contains(&code.len())
                            && cmap.cids.len() < MAX_ENTRIES
                        {
                            cmap.cids.insert((code.len() as u8, be(code)), *cid as u32);
                        }
                    }
                }
                b"endcidrange" => {
                    for triple in operands.chunks_exact(3) {
                        if let (Operand::Str(lo), Operand::Str(hi), Operand::Number(cid)) =
                            (&triple[0], &triple[1], &triple[2])
                            && (1..=4).contains(&lo.len())
                            && lo.len() == hi.len()
                        {
                            cmap.add_range(
                                lo.len() as u8,
                                be(lo),
                                be(hi),
                                Target::Cid(*cid as u32),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        cmap
    }

    fn insert_text(&mut self, len: u8, code: u32, text: String) {
        if self.text.len() < MAX_ENTRIES {
            self.text.insert((len, code), text);
        }
    }

    fn add_range(&mut self, len: u8, low: u32, high: u32, target: Target) {
        if high < low {
            return;
        }
        if high - low < EXPAND_LIMIT {
            for (i, code) in (low..=high).enumerate() {
                match &target {
                    Target::Base(base) => self.insert_text(len, code, offset_text(base, i as u32)),
                    Target::Array(items) => {
                        if let Some(text) = items.get(i) {
                            self.insert_text(len, code, text.clone());
                        }
                    }
                    Target::Cid(first) => {
                        if self.cids.len() < MAX_ENTRIES {
                            self.cids
                                .insert((len, code), first.saturating_add(i as u32));
                        }
                    }
                }
            }
        } else if self.ranges.len() < MAX_ENTRIES {
            self.ranges.push(Range {
                len,
                low,
                high,
                target,
            });
        }
    }

    /// Whether the CMap maps anything to text.
    pub(super) fn has_text(&self) -> bool {
        !self.text.is_empty()
            || self
                .ranges
                .iter()
                .any(|r| !matches!(r.target, Target::Cid(_)))
    }

    /// The text of the `len`-byte code `code`.
    pub(super) fn lookup(&self, len: u8, code: u32) -> Option<Cow<'_, str>> {
        if let Some(text) = self.text.get(&(len, code)) {
            return Some(Cow::Borrowed(text));
        }
        self.ranges.iter().find_map(|r| {
            if r.len != len || code < r.low || code > r.high {
                return None;
            }
            match &r.target {
                Target::Base(base) => Some(Cow::Owned(offset_text(base, code - r.low))),
                Target::Array(items) => items
                    .get((code - r.low) as usize)
                    .map(|t| Cow::Borrowed(t.as_str())),
                Target::Cid(_) => None,
            }
        })
    }

    /// The CID of a code, for code-to-CID CMaps.
    pub(super) fn cid(&self, len: u8, code: u32) -> Option<u32> {
        if let Some(&cid) = self.cids.get(&(len, code)) {
            return Some(cid);
        }
        self.ranges.iter().find_map(|r| match r.target {
            Target::Cid(first) if r.len == len && (r.low..=r.high).contains(&code) => {
                Some(first.saturating_add(code - r.low))
            }
            _ => None,
        })
    }

    /// Length in bytes of the code starting `bytes`, by the code space
    /// ranges; `default` when none matches.
    pub(super) fn code_len(&self, bytes: &[u8], default: u8) -> u8 {
        for len in 1..=4u8 {
            let Some(prefix) = bytes.get(..len as usize) else {
                break;
            };
            let value = be(prefix);
            if self
                .codespace
                .iter()
                .any(|cs| cs.len == len && (cs.low..=cs.high).contains(&value))
            {
                return len;
            }
        }
        match self.codespace.iter().map(|cs| cs.len).min() {
            Some(len) if !self.codespace.is_empty() => len,
            _ => default,
        }
    }
}

/// Big-endian value of up to 4 bytes.
pub(super) fn be(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take(4)
        .fold(0, |acc, &b| acc << 8 | u32::from(b))
}

fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .map(|c| match c {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from(*a),
            _ => 0,
        })
        .collect()
}

fn destination(operand: &Operand) -> Option<String> {
    match operand {
        Operand::Str(bytes) => Some(String::from_utf16_lossy(&utf16_units(bytes))),
        // Some producers write a glyph name where a string belongs.
        Operand::Name(name) => super::encoding::glyph_to_unicode(&String::from_utf8_lossy(name)),
        _ => None,
    }
}

fn offset_text(base: &[u16], offset: u32) -> String {
    let mut units = base.to_vec();
    if let Some(last) = units.last_mut() {
        *last = last.wrapping_add(offset as u16);
    }
    String::from_utf16_lossy(&units)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0003> <0020> <0024> <00660069> endbfchar
2 beginbfrange <0010> <0012> <0041> <0020> <0022> [<0078> <D835DC00> <0066006C>]
<1000> <1FFF> <4E00>
endbfrange endcmap CMapName currentdict /CMap defineresource pop end end";

    #[test]
    fn parses_bfchar_bfrange_and_arrays() {
        let cmap = CMap::parse(SAMPLE);
        assert_eq!(
            cmap.codespace,
            vec![CodeSpace {
                len: 2,
                low: 0,
                high: 0xFFFF
            }]
        );
        assert_eq!(cmap.lookup(2, 3).as_deref(), Some(" "));
        assert_eq!(cmap.lookup(2, 0x24).as_deref(), Some("fi"));
        assert_eq!(cmap.lookup(2, 0x11).as_deref(), Some("B"));
        assert_eq!(cmap.lookup(2, 0x21).as_deref(), Some("\u{1D400}"));
        assert_eq!(cmap.lookup(2, 0x22).as_deref(), Some("fl"));
        assert_eq!(cmap.lookup(2, 0x1001).as_deref(), Some("\u{4E01}"));
        assert_eq!(cmap.lookup(1, 0x11), None);
        assert!(cmap.has_text());
    }

    #[test]
    fn splits_codes_by_codespace() {
        let cmap = CMap::parse(
            b"2 begincodespacerange <00> <80> <8140> <FFFF> endcodespacerange
              1 begincidrange <8140> <817E> 633 endcidrange",
        );
        assert_eq!(cmap.code_len(b"\x41\x81\x40", 2), 1);
        assert_eq!(cmap.code_len(b"\x81\x40", 1), 2);
        assert_eq!(cmap.cid(2, 0x8141), Some(634));
        assert!(!cmap.has_text());
    }
}

//! Text for CJK fonts that carry no `ToUnicode` map: the predefined CID
//! collections (Adobe-Japan1, -GB1, -CNS1, -Korea1) map each CID to
//! Unicode through Adobe's own tables, and the predefined legacy-encoding
//! CMaps (Shift-JIS, EUC, GBK, Big5, UHC) decode through `encoding_rs`,
//! which already knows those encodings.
//!
//! Why a table of our own: no maintained crate ships the Adobe CID
//! collections, and the mapping is data, not code. The table is generated
//! from Adobe's BSD-licensed `Adobe-*-UCS2` CMaps (see `cjk/README.md`),
//! delta-coded and zlib-compressed to 81 KB, and decoded once on first use.

use std::sync::OnceLock;

use encoding_rs::{BIG5, EUC_JP, EUC_KR, Encoding, GB18030, SHIFT_JIS};

/// One of Adobe's CJK character collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Collection {
    Japan1 = 0,
    Gb1 = 1,
    Cns1 = 2,
    Korea1 = 3,
}

impl Collection {
    /// The collection a CIDSystemInfo names (`Registry (Adobe)`,
    /// `Ordering (Japan1)`).
    pub(super) fn from_system_info(registry: &[u8], ordering: &[u8]) -> Option<Collection> {
        if registry != b"Adobe" {
            return None;
        }
        match ordering {
            b"Japan1" | b"Japan2" => Some(Collection::Japan1),
            b"GB1" => Some(Collection::Gb1),
            b"CNS1" => Some(Collection::Cns1),
            b"Korea1" => Some(Collection::Korea1),
            _ => None,
        }
    }

    /// The text of a CID, when the collection defines one.
    pub(super) fn text(self, cid: u32) -> Option<char> {
        let table = tables().get(self as usize)?;
        let code = *table.get(usize::try_from(cid).ok()?)?;
        if code == 0 || code == 0xFFFD {
            return None;
        }
        char::from_u32(code)
    }
}

/// A predefined CMap that encodes text in a legacy CJK encoding.
#[derive(Debug, Clone, Copy)]
pub(super) struct Legacy {
    encoding: &'static Encoding,
    /// ISO-2022 style codes (the `H`/`V` CMaps: JIS X 0208, GB 2312,
    /// KS X 1001 rows without the high bit), moved to EUC before decoding.
    seven_bit: bool,
}

impl Legacy {
    /// The legacy encoding of a predefined CMap name, if it is one.
    pub(super) fn from_cmap_name(name: &str) -> Option<Legacy> {
        let base = name
            .strip_suffix("-H")
            .or_else(|| name.strip_suffix("-V"))
            .unwrap_or(name);
        let encoding = if base.contains("RKSJ") {
            SHIFT_JIS
        } else if base.contains("B5") {
            BIG5
        } else if base.starts_with("GB") && !base.contains("UCS") {
            GB18030
        } else if base.starts_with("KSC") && !base.contains("UCS") {
            EUC_KR
        } else if base == "EUC" || base == "78-EUC" || base == "H" || base == "V" || base == "78" {
            EUC_JP
        } else {
            return None;
        };
        let seven_bit = matches!(base, "H" | "V" | "78" | "GB" | "GBT" | "KSC");
        Some(Legacy {
            encoding,
            seven_bit,
        })
    }

    /// Bytes of the code starting `bytes`.
    pub(super) fn code_len(&self, bytes: &[u8]) -> usize {
        let Some(&first) = bytes.first() else {
            return 0;
        };
        if self.seven_bit {
            return if first >= 0x21 { 2 } else { 1 };
        }
        let double = if self.encoding == SHIFT_JIS {
            matches!(first, 0x81..=0x9F | 0xE0..=0xFC)
        } else if self.encoding == GB18030 {
            if first >= 0x81 && bytes.get(1).is_some_and(|b| (0x30..=0x39).contains(b)) {
                return 4;
            }
            first >= 0x81
        } else if self.encoding == EUC_JP && first == 0x8F {
            return 3;
        } else {
            first >= 0x81
        };
        if double { 2 } else { 1 }
    }

    /// The text of one code.
    pub(super) fn text(&self, code: &[u8]) -> Option<String> {
        let moved: Vec<u8>;
        let code = if self.seven_bit && code.len() == 2 {
            moved = code.iter().map(|b| b | 0x80).collect();
            &moved[..]
        } else {
            code
        };
        let (text, malformed) = self.encoding.decode_without_bom_handling(code);
        (!malformed && !text.is_empty()).then(|| text.into_owned())
    }
}

fn tables() -> &'static [Vec<u32>] {
    static TABLES: OnceLock<Vec<Vec<u32>>> = OnceLock::new();
    TABLES.get_or_init(|| decode(include_bytes!("cjk/adobe-cid-unicode.zz")))
}

/// Decodes the compressed tables (format in `cjk/generate.py`). A damaged
/// table (it is compiled in, so only a bad build) yields empty tables.
fn decode(compressed: &[u8]) -> Vec<Vec<u32>> {
    use std::io::Read;
    let mut raw = Vec::new();
    if flate2::read::ZlibDecoder::new(compressed)
        .take(1 << 20)
        .read_to_end(&mut raw)
        .is_err()
    {
        return Vec::new();
    }
    let mut bytes = raw.iter().copied();
    let mut leb = || -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = bytes.next()?;
            value |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    };
    let mut tables = Vec::with_capacity(4);
    for _ in 0..4 {
        let Some(count) = leb() else { break };
        let mut table = Vec::with_capacity(count.min(1 << 16) as usize);
        let mut prev = 0i64;
        for _ in 0..count.min(1 << 17) {
            let Some(z) = leb() else { break };
            let delta = (z >> 1) as i64 ^ -((z & 1) as i64);
            prev += delta;
            table.push(u32::try_from(prev).unwrap_or(0));
        }
        tables.push(table);
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_map_known_cids() {
        for (collection, cid, expected) in [
            (Collection::Japan1, 34, 'A'),
            (Collection::Japan1, 843, 'あ'),
            (Collection::Japan1, 1125, '亜'),
            (Collection::Japan1, 3284, '日'),
            (Collection::Gb1, 1063, '本'),
            (Collection::Gb1, 3248, '日'),
            (Collection::Cns1, 730, '日'),
            (Collection::Korea1, 3296, '한'),
        ] {
            assert_eq!(collection.text(cid), Some(expected), "{collection:?} {cid}");
        }
        assert_eq!(Collection::Japan1.text(0), None);
        assert_eq!(Collection::Japan1.text(u32::MAX), None);
        let sizes: Vec<usize> = tables().iter().map(Vec::len).collect();
        assert_eq!(sizes, [23060, 30284, 19179, 18352]);
    }

    #[test]
    fn legacy_cmaps_decode_through_their_encoding() {
        let sjis = Legacy::from_cmap_name("90ms-RKSJ-H").expect("RKSJ");
        assert_eq!(sjis.code_len(b"\x93\xfa"), 2);
        assert_eq!(sjis.text(b"\x93\xfa").as_deref(), Some("日"));
        assert_eq!(sjis.code_len(b"A"), 1);
        let jis = Legacy::from_cmap_name("H").expect("JIS");
        assert_eq!(jis.text(b"\x46\x7c").as_deref(), Some("日"));
        let gbk = Legacy::from_cmap_name("GBK-EUC-H").expect("GBK");
        assert_eq!(gbk.text(b"\xc8\xd5").as_deref(), Some("日"));
        let big5 = Legacy::from_cmap_name("ETen-B5-V").expect("Big5");
        assert_eq!(big5.text(b"\xa4\xe9").as_deref(), Some("日"));
        let uhc = Legacy::from_cmap_name("KSCms-UHC-H").expect("UHC");
        assert_eq!(uhc.text(b"\xc7\xd1").as_deref(), Some("한"));
        assert!(Legacy::from_cmap_name("UniJIS-UCS2-H").is_none());
        assert!(Legacy::from_cmap_name("Identity-H").is_none());
    }
}

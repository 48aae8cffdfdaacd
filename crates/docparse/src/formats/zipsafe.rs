//! The one way docparse opens a ZIP container (DOCX, XLSX, PPTX, ODS,
//! EPUB). It enforces [`Limits`]: the number of entries, a per-member cap,
//! a compression-ratio ceiling, and charges every inflated byte to the
//! call's memory budget ([`ParseOptions::charge`]) chunk by chunk while
//! inflating, so the budget is shared with everything else the call
//! expands. Members are read
//! through a counting `take()`, so a member whose header declares a small
//! size but inflates to gigabytes stops at the cap (and, since inflating
//! past the declared size is itself a lie, as soon as it passes that);
//! declared sizes are never used to size buffers, only to refuse obvious
//! bombs early. Encrypted members are refused.
//! Nothing is ever written to disk, so names are only looked up, never
//! used as paths.

use std::{
    collections::HashMap,
    io::{Cursor, Read},
};

use crate::{DocError, Limits, ParseOptions};

/// Largest single member, whatever the total budget.
pub const MEMBER_CAP: u64 = 256 << 20;
/// Inflated/compressed ratio above which a large member is refused.
pub const MAX_RATIO: u64 = 1_000;
/// Members smaller than this are never refused for their ratio (tiny XML
/// parts full of repeated markup legitimately compress very well).
const RATIO_FLOOR: u64 = 4 << 20;

/// A ZIP container opened from memory under [`Limits`].
pub struct ZipSafe<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    /// Lower-cased name -> index, for OOXML's case-insensitive part names.
    folded: HashMap<String, usize>,
    names: Vec<String>,
    options: &'a ParseOptions,
    used: u64,
    /// Things worth telling the caller (duplicate names).
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for ZipSafe<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipSafe")
            .field("entries", &self.names.len())
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

impl<'a> ZipSafe<'a> {
    /// Opens `bytes` as a ZIP container, refusing too many entries,
    /// encrypted members and members whose declared size is an obvious bomb.
    pub fn new(bytes: &'a [u8], options: &'a ParseOptions) -> Result<Self, DocError> {
        let limits: &Limits = &options.limits;
        if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            let encrypted_package: Vec<u8> =
                b"EncryptedPackage".iter().flat_map(|b| [*b, 0]).collect();
            if bytes
                .windows(encrypted_package.len())
                .any(|w| w == encrypted_package.as_slice())
            {
                return Err(DocError::Encrypted(
                    "this Office document is password-protected (an encrypted package); \
                     save a copy without the password and try again"
                        .to_owned(),
                ));
            }
            return Err(DocError::malformed(
                "zip",
                "an OLE compound file, not a ZIP container: a password-protected Office document or a legacy .doc/.xls/.ppt",
            ));
        }
        if !bytes.starts_with(b"PK") {
            return Err(DocError::malformed(
                "zip",
                "not a ZIP container (no 'PK' signature)",
            ));
        }
        let archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| DocError::malformed("zip", format!("unreadable ZIP container: {e}")))?;
        let mut warnings = Vec::new();
        if archive.len() > limits.max_zip_entries {
            return Err(DocError::Limit(format!(
                "the ZIP container has {} entries; the limit is {}",
                archive.len(),
                limits.max_zip_entries
            )));
        }
        if archive.has_duplicate_names() {
            warnings.push(
                "the ZIP container has duplicate member names; one copy of each was read".into(),
            );
        }
        let mut names = Vec::with_capacity(archive.len());
        let mut folded = HashMap::with_capacity(archive.len());
        for index in 0..archive.len() {
            let entry = archive
                .by_index_data(index)
                .map_err(|e| DocError::malformed("zip", format!("bad ZIP entry {index}: {e}")))?;
            let name = entry
                .name()
                .map(|n| n.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(entry.name_raw()).into_owned());
            if entry.encrypted() {
                return Err(DocError::Encrypted(format!(
                    "ZIP member '{name}' is encrypted; password-protected documents are not supported"
                )));
            }
            check_ratio(&name, entry.size(), entry.compressed_size())?;
            folded.entry(name.to_lowercase()).or_insert(index);
            names.push(name);
        }
        Ok(Self {
            archive,
            folded,
            names,
            options,
            used: 0,
            warnings,
        })
    }

    /// Member names in central-directory order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether a member called `name` exists (case-insensitively).
    pub fn contains(&self, name: &str) -> bool {
        self.index_of(name).is_some()
    }

    /// Bytes this container decompressed so far.
    pub fn decompressed(&self) -> u64 {
        self.used
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        let name = name.trim_start_matches('/');
        self.archive
            .index_for_name(name)
            .or_else(|| self.folded.get(&name.to_lowercase()).copied())
    }

    /// Reads member `name` (case-insensitive, a leading `/` ignored);
    /// `Ok(None)` when there is no such member.
    pub fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, DocError> {
        let Some(index) = self.index_of(name) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        self.stream(index, &mut out)?;
        Ok(Some(out))
    }

    /// Reads member `name` as text (UTF-8, or UTF-16 with a BOM).
    pub fn read_string(&mut self, name: &str) -> Result<Option<String>, DocError> {
        let Some(bytes) = self.read(name)? else {
            return Ok(None);
        };
        Ok(Some(decode_text(&bytes)))
    }

    /// Inflates every member to nowhere, enforcing the limits: call before
    /// handing the container to a library that opens it by itself.
    pub fn verify_all(&mut self) -> Result<(), DocError> {
        for index in 0..self.names.len() {
            self.stream(index, &mut std::io::sink())?;
        }
        Ok(())
    }

    fn stream(&mut self, index: usize, out: &mut dyn std::io::Write) -> Result<u64, DocError> {
        let name = self.names.get(index).cloned().unwrap_or_default();
        let mut file = self
            .archive
            .by_index(index)
            .map_err(|e| DocError::malformed("zip", format!("cannot open member '{name}': {e}")))?;
        let compressed = file.compressed_size();
        let declared = file.size();
        // One byte past the cap tells "exactly at the cap" from "beyond it".
        let mut limited = (&mut file).take(MEMBER_CAP.saturating_add(1));
        let mut total: u64 = 0;
        let mut buf = [0u8; 64 * 1024];
        loop {
            let n = limited.read(&mut buf).map_err(|e| {
                DocError::malformed("zip", format!("member '{name}' is corrupt: {e}"))
            })?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > MEMBER_CAP {
                return Err(DocError::Limit(format!(
                    "ZIP member '{name}' inflates past {MEMBER_CAP} bytes"
                )));
            }
            if total > declared {
                // The central directory's size is exact in a valid file; a
                // member that inflates past it is lying.
                return Err(DocError::Limit(format!(
                    "ZIP member '{name}' inflates past its declared {declared} bytes; refusing a likely zip bomb"
                )));
            }
            check_ratio(&name, total, compressed)?;
            // Charged per chunk, before the chunk is kept.
            self.options
                .charge(n as u64, || format!("inflating ZIP member '{name}'"))?;
            self.used += n as u64;
            out.write_all(&buf[..n])
                .map_err(|e| DocError::malformed("zip", format!("member '{name}': {e}")))?;
        }
        Ok(total)
    }
}

/// Refuses a member whose (declared or actual) inflated size is both large
/// and more than [`MAX_RATIO`] times its compressed size.
fn check_ratio(name: &str, size: u64, compressed: u64) -> Result<(), DocError> {
    if size > RATIO_FLOOR && size / compressed.max(1) > MAX_RATIO {
        return Err(DocError::Limit(format!(
            "ZIP member '{name}' inflates {size} bytes from {compressed} (ratio over {MAX_RATIO}:1); refusing a likely zip bomb"
        )));
    }
    Ok(())
}

/// UTF-8 (BOM stripped) or UTF-16 with a BOM; invalid sequences replaced.
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return text.into_owned();
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// The directory part of a member name (`word/document.xml` -> `word`).
pub fn parent(name: &str) -> &str {
    name.rfind('/').map_or("", |i| &name[..i])
}

/// Resolves a relationship target against the directory `base`: handles
/// `..`, `.`, absolute (`/ppt/slides/slide1.xml`) and `%20`-encoded names.
pub fn resolve(base: &str, target: &str) -> String {
    let target = percent_decode(target);
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|p| !p.is_empty()).collect()
    };
    for piece in target.split('/') {
        match piece {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relationship_targets() {
        assert_eq!(
            resolve("ppt/slides", "../media/a%20b.png"),
            "ppt/media/a b.png"
        );
        assert_eq!(resolve("word", "/word/media/x.png"), "word/media/x.png");
        assert_eq!(resolve("", "xl/workbook.xml"), "xl/workbook.xml");
        assert_eq!(parent("word/document.xml"), "word");
    }

    #[test]
    fn refuses_garbage() {
        let options = ParseOptions::default();
        let err = ZipSafe::new(b"not a zip", &options).expect_err("garbage");
        assert!(err.to_string().contains("not a ZIP"), "{err}");
        let err = ZipSafe::new(b"PK\x03\x04trunc", &options).expect_err("truncated");
        assert!(err.to_string().contains("unreadable ZIP"), "{err}");
    }
}

//! Parse once, page many times: the renderings of recent `parse` calls,
//! keyed by the document's SHA-256 and every option that changes the
//! rendering, so following `next_offset` slices the kept text instead of
//! parsing the document again. Bounded by the bytes kept (least recently
//! used first out); one cache per server value (per session), never shared
//! between clients.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use sha2::{Digest, Sha256};

use crate::{
    Format,
    model::{Metadata, OutlineEntry},
};

/// Environment variable: bytes of renderings kept per session.
pub const CACHE_BYTES_ENV: &str = "FF_DOCPARSE_CACHE_BYTES";
/// Default of [`CACHE_BYTES_ENV`].
pub const DEFAULT_CACHE_BYTES: u64 = 64 << 20;

/// What identifies one rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    digest: [u8; 32],
    options: String,
}

impl Key {
    /// The key of `bytes` rendered with `options` (every option that
    /// changes the rendering, in a stable textual form).
    pub fn new(bytes: &[u8], options: String) -> Self {
        Self {
            digest: Sha256::digest(bytes).into(),
            options,
        }
    }
}

/// Characters between two slicing marks.
const MARK_EVERY: usize = 4096;

/// A kept rendering and what `parse` returns beside its text.
#[derive(Debug)]
pub struct Rendering {
    pub format: Format,
    pub text: String,
    pub total_chars: usize,
    pub metadata: Metadata,
    pub outline: Vec<OutlineEntry>,
    pub warnings: Vec<String>,
    /// Byte offset of every [`MARK_EVERY`]th character, so a slice far
    /// into the text is found without walking it from the start.
    marks: Vec<usize>,
}

impl Rendering {
    /// A rendering of `text` (counted and marked in one pass).
    pub fn new(
        format: Format,
        text: String,
        metadata: Metadata,
        outline: Vec<OutlineEntry>,
        warnings: Vec<String>,
    ) -> Self {
        let mut marks = Vec::with_capacity(text.len() / MARK_EVERY + 1);
        let mut total_chars: usize = 0;
        for (byte, _) in text.char_indices() {
            if total_chars.is_multiple_of(MARK_EVERY) {
                marks.push(byte);
            }
            total_chars += 1;
        }
        Self {
            format,
            text,
            total_chars,
            metadata,
            outline,
            warnings,
            marks,
        }
    }

    /// At most `max_chars` characters from character `offset` on.
    pub fn slice(&self, offset: usize, max_chars: usize) -> &str {
        let Some(&mark) = self.marks.get(offset / MARK_EVERY) else {
            return "";
        };
        let rest = &self.text[mark..];
        let mut chars = rest.char_indices().skip(offset % MARK_EVERY);
        let Some((start, _)) = chars.next() else {
            return "";
        };
        if max_chars == 0 {
            return "";
        }
        let end = chars.nth(max_chars - 1).map_or(rest.len(), |(i, _)| i);
        &rest[start..end]
    }

    /// Bytes it keeps (its text dominates; the rest estimated).
    fn weight(&self) -> u64 {
        let small: usize = self
            .outline
            .iter()
            .map(|o| o.title.len() + 48)
            .sum::<usize>()
            + self.warnings.iter().map(|w| w.len() + 24).sum::<usize>()
            + 512;
        (self.text.len() + self.marks.len() * 8 + small) as u64
    }
}

/// A bounded LRU of renderings.
#[derive(Debug)]
pub struct Cache {
    capacity: u64,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Least recently used first.
    entries: VecDeque<(Key, Arc<Rendering>)>,
    bytes: u64,
}

impl Cache {
    /// A cache keeping at most `capacity` bytes (0 disables it).
    pub fn new(capacity: u64) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The rendering kept for `key`, now the most recently used.
    pub fn get(&self, key: &Key) -> Option<Arc<Rendering>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let index = inner.entries.iter().position(|(k, _)| k == key)?;
        let entry = inner.entries.remove(index)?;
        let value = Arc::clone(&entry.1);
        inner.entries.push_back(entry);
        Some(value)
    }

    /// Keeps `value`, evicting the least recently used renderings until
    /// the total fits; a rendering larger than the whole cache is not kept.
    pub fn insert(&self, key: Key, value: Arc<Rendering>) {
        let weight = value.weight();
        if weight > self.capacity {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(index) = inner.entries.iter().position(|(k, _)| *k == key)
            && let Some((_, old)) = inner.entries.remove(index)
        {
            inner.bytes -= old.weight();
        }
        while inner.bytes + weight > self.capacity {
            let Some((_, old)) = inner.entries.pop_front() else {
                break;
            };
            inner.bytes -= old.weight();
        }
        inner.bytes += weight;
        inner.entries.push_back((key, value));
    }

    /// Bytes kept now.
    pub fn bytes(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendering(text: &str) -> Arc<Rendering> {
        Arc::new(Rendering::new(
            Format::Text,
            text.to_owned(),
            Metadata::default(),
            Vec::new(),
            Vec::new(),
        ))
    }

    #[test]
    fn slices_match_walking_the_characters() {
        let text: String = (0..20_000)
            .map(|i| if i % 7 == 0 { 'é' } else { 'x' })
            .collect();
        let r = rendering(&text);
        assert_eq!(r.total_chars, 20_000);
        for (offset, max) in [
            (0, 5),
            (4095, 3),
            (4096, 1),
            (9000, 5000),
            (19_999, 10),
            (20_000, 5),
            (3, 0),
        ] {
            let walked: String = text.chars().skip(offset).take(max).collect();
            assert_eq!(r.slice(offset, max), walked, "{offset} {max}");
        }
    }

    #[test]
    fn keeps_recent_renderings_within_its_bytes() {
        let big = "x".repeat(1024);
        let each = rendering(&big).weight();
        let cache = Cache::new(3 * each);
        let keys: Vec<Key> = (0..4)
            .map(|i| Key::new(format!("doc {i}").as_bytes(), "markdown".into()))
            .collect();
        for key in &keys[..3] {
            cache.insert(key.clone(), rendering(&big));
        }
        // Touch the oldest so the second becomes least recently used.
        assert!(cache.get(&keys[0]).is_some());
        cache.insert(keys[3].clone(), rendering(&big));
        assert!(cache.get(&keys[1]).is_none(), "least recently used evicted");
        for key in [&keys[0], &keys[2], &keys[3]] {
            assert!(cache.get(key).is_some());
        }
        assert_eq!(cache.bytes(), 3 * each);
        // Same bytes, other options: another entry.
        assert!(cache.get(&Key::new(b"doc 0", "text".into())).is_none());
        // Larger than the whole cache: not kept, nothing evicted.
        cache.insert(
            Key::new(b"huge", String::new()),
            rendering(&"y".repeat(10_000)),
        );
        assert!(cache.get(&keys[0]).is_some());
    }
}

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

/// A kept rendering and what `parse` returns beside its text.
#[derive(Debug)]
pub struct Rendering {
    pub format: Format,
    pub text: String,
    pub total_chars: usize,
    pub metadata: Metadata,
    pub outline: Vec<OutlineEntry>,
    pub warnings: Vec<String>,
}

impl Rendering {
    /// Bytes it keeps (its text dominates; the rest estimated).
    fn weight(&self) -> u64 {
        let small: usize = self
            .outline
            .iter()
            .map(|o| o.title.len() + 48)
            .sum::<usize>()
            + self.warnings.iter().map(|w| w.len() + 24).sum::<usize>()
            + 512;
        (self.text.len() + small) as u64
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

    /// The capacity from [`CACHE_BYTES_ENV`], else the default.
    pub fn from_env() -> Self {
        let capacity = std::env::var(CACHE_BYTES_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(DEFAULT_CACHE_BYTES);
        Self::new(capacity)
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
        Arc::new(Rendering {
            format: Format::Text,
            text: text.to_owned(),
            total_chars: text.chars().count(),
            metadata: Metadata::default(),
            outline: Vec::new(),
            warnings: Vec::new(),
        })
    }

    #[test]
    fn keeps_recent_renderings_within_its_bytes() {
        let cache = Cache::new(3 * 1024 + 3 * 512);
        let big = "x".repeat(1024);
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
        assert!(cache.bytes() <= 3 * 1024 + 3 * 512);
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

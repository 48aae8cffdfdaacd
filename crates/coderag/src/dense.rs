//! Dense retrieval: vectors of definition chunks, made through the model
//! layer's embedding route (`FF_EMBED_MODEL`), kept per repository beside
//! the tantivy index, and searched by cosine similarity.
//!
//! What is embedded: for each definition chunk (functions, methods,
//! classes… — not the code between them, not prose), its kind, symbol path,
//! signature, doc comment and the start of its body, cut to
//! [`EMBED_TEXT_CHARS`] ([`embed_text`]). A vector's identity is the
//! chunk's path, start line and a hash of that text, so an update embeds
//! only chunks whose text changed and reuses every other vector by hash,
//! even when the chunk moved. Only chunks of indexed files are embedded
//! (secret-bearing files never are) and credential-like tokens are masked
//! before the text is sent, as in every tool result.
//!
//! Storage: one [`Vectors`] file per commit (`vectors-….bin`, format
//! [`VECTORS_FORMAT`], f32 little-endian, unit length), named in the same
//! tantivy commit payload as the file manifest, so chunks, manifest and
//! vectors switch together; a crash or a cancellation before the commit
//! leaves all three as they were. The file records the embedding route it
//! was made with: vectors of another model are never compared with a
//! query, and a changed `FF_EMBED_MODEL` re-embeds everything.
//!
//! Search is brute force: one dot product per stored vector. That is fine
//! up to a few hundred thousand vectors (about 0.1–0.3 s for 300,000
//! vectors of 768 dimensions on one core, and 1.2 GB of memory at 1,024
//! dimensions); beyond that an approximate index (HNSW) would be the next
//! step. Fusion with BM25 is in [`crate::query::hybrid`].

use std::{
    collections::HashMap,
    io::{Read, Write},
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use ffmcp_core::model::{Call, EmbedPurpose, ModelError, Router};
use sha2::{Digest, Sha256};

/// The vectors file format; bump it when the layout or [`embed_text`] changes.
pub const VECTORS_FORMAT: u32 = 1;
/// Characters of a chunk's embedded text at most.
pub const EMBED_TEXT_CHARS: usize = 1500;
/// Texts per [`Embedder::embed`] call during an update: progress is
/// reported and cancellation checked between them.
pub const EMBED_BATCH: usize = 96;

const MAGIC: &[u8; 8] = b"FFMCPVEC";

/// The text embedded for a definition chunk; see the module docs.
/// Credential-like tokens are masked ([`crate::mask`]): this text leaves
/// the machine when the embedding route is a hosted provider.
pub fn embed_text(kind: &str, symbol: &str, signature: &str, doc: &str, body: &str) -> String {
    let mut text = format!("{kind} {symbol}\n");
    if !signature.is_empty() {
        text.push_str(signature);
        text.push('\n');
    }
    if !doc.is_empty() {
        text.push_str(doc);
        text.push('\n');
    }
    text.push_str(body);
    let (text, _) = crate::mask::mask(&text);
    match text.char_indices().nth(EMBED_TEXT_CHARS) {
        Some((end, _)) => text[..end].to_owned(),
        None => text,
    }
}

/// The identity hash of an embedded text (the first 16 bytes of SHA-256).
pub fn text_hash(text: &str) -> [u8; 16] {
    let digest = Sha256::digest(text.as_bytes());
    let mut hash = [0u8; 16];
    hash.copy_from_slice(&digest[..16]);
    hash
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Which chunk a vector belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the repository.
    pub path: String,
    /// 1-based.
    pub start_line: u32,
    /// [`text_hash`] of the embedded text.
    pub hash: [u8; 16],
}

/// The vectors of one commit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vectors {
    /// The embedding route they were made with (`openai:text-embedding-3-small`).
    pub model: String,
    /// Dimensions of every vector.
    pub dim: usize,
    entries: Vec<Entry>,
    /// `entries.len() * dim` values, unit-length rows.
    data: Vec<f32>,
}

impl Vectors {
    /// No vectors yet, for `model`.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            ..Self::default()
        }
    }

    /// Vectors stored.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none are stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Which chunks have vectors.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The vector of entry `i`.
    pub fn vector(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Adds a vector (normalised here). Panics on a dimension other than
    /// the first vector's: callers check replies first.
    pub fn push(&mut self, entry: Entry, mut vector: Vec<f32>) {
        if self.entries.is_empty() {
            self.dim = vector.len();
        }
        assert_eq!(vector.len(), self.dim, "one dimension per vectors file");
        normalise(&mut vector);
        self.entries.push(entry);
        self.data.extend_from_slice(&vector);
    }

    /// The `n` entries most similar to `query` (unit length) among those
    /// `keep` accepts: (entry index, cosine), best first.
    pub fn nearest(
        &self,
        query: &[f32],
        n: usize,
        keep: impl Fn(&Entry) -> bool,
    ) -> Vec<(usize, f32)> {
        if query.len() != self.dim || n == 0 {
            return Vec::new();
        }
        let mut scored: Vec<(usize, f32)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| keep(e))
            .map(|(i, _)| {
                let row = self.vector(i);
                (i, row.iter().zip(query).map(|(a, b)| a * b).sum::<f32>())
            })
            .collect();
        let by_score = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if scored.len() > n {
            scored.select_nth_unstable_by(n - 1, by_score);
            scored.truncate(n);
        }
        scored.sort_by(by_score);
        scored
    }

    /// Writes the file (to a temporary name first, then renamed).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(32 + self.entries.len() * (40 + self.dim * 4));
        out.extend_from_slice(MAGIC);
        for n in [
            VECTORS_FORMAT,
            self.dim as u32,
            self.entries.len() as u32,
            self.model.len() as u32,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(self.model.as_bytes());
        for entry in &self.entries {
            out.extend_from_slice(&(entry.path.len() as u32).to_le_bytes());
            out.extend_from_slice(entry.path.as_bytes());
            out.extend_from_slice(&entry.start_line.to_le_bytes());
            out.extend_from_slice(&entry.hash);
        }
        for x in &self.data {
            out.extend_from_slice(&x.to_le_bytes());
        }
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&out)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    }

    /// Reads a file [`Self::write`] wrote; anything else is `InvalidData`.
    pub fn read(path: &Path) -> std::io::Result<Self> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)?.read_to_end(&mut bytes)?;
        Self::parse(&bytes).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a vectors file of format {VECTORS_FORMAT}"),
            )
        })
    }

    fn parse(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8)? != MAGIC || r.u32()? != VECTORS_FORMAT {
            return None;
        }
        let dim = r.u32()? as usize;
        let count = r.u32()? as usize;
        let model_len = r.u32()? as usize;
        let model = String::from_utf8(r.take(model_len)?.to_vec()).ok()?;
        // Every entry takes at least 24 bytes and its vector 4 * dim.
        if count.checked_mul(24 + dim.checked_mul(4)?)? > bytes.len() {
            return None;
        }
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            let len = r.u32()? as usize;
            let path = String::from_utf8(r.take(len)?.to_vec()).ok()?;
            let start_line = r.u32()?;
            let hash: [u8; 16] = r.take(16)?.try_into().ok()?;
            entries.push(Entry {
                path,
                start_line,
                hash,
            });
        }
        let data = r
            .take(count * dim * 4)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if r.at != bytes.len() {
            return None;
        }
        Some(Self {
            model,
            dim,
            entries,
            data,
        })
    }
}

/// Reads a vectors file front to back; `None` past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// Why texts could not be embedded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmbedError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
}

/// Turns texts into vectors, blocking (an update runs on a blocking thread).
pub trait Embedder: Send + Sync {
    /// The embedding route, which names the vector space.
    fn model(&self) -> String;
    /// One vector per text, in order; gives up soon after `cancel` is set.
    fn embed(&self, texts: &[String], cancel: &AtomicBool) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// The [`Embedder`] over the model layer's embedding route.
#[derive(Clone)]
pub struct ModelEmbedder {
    router: Arc<Router>,
    handle: tokio::runtime::Handle,
    route: String,
}

impl std::fmt::Debug for ModelEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEmbedder")
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

impl ModelEmbedder {
    /// The embedder of `router`'s embedding route, or `None` when
    /// `FF_EMBED_MODEL` names none. `handle` runs the calls of
    /// [`Embedder::embed`] (which must not be called on a runtime thread).
    pub fn new(router: Arc<Router>, handle: tokio::runtime::Handle) -> Option<Self> {
        let route = router.embed_route()?.to_string();
        Some(Self {
            router,
            handle,
            route,
        })
    }

    /// The unit-length vector of a search query.
    pub async fn query(&self, text: &str) -> Result<Vec<f32>, ModelError> {
        let done = self
            .router
            .embed(
                &[text.to_owned()],
                EmbedPurpose::Query,
                &Call::new("search"),
            )
            .await?;
        let mut vector = done.vectors.into_iter().next().unwrap_or_default();
        normalise(&mut vector);
        Ok(vector)
    }
}

impl Embedder for ModelEmbedder {
    fn model(&self) -> String {
        self.route.clone()
    }

    fn embed(&self, texts: &[String], cancel: &AtomicBool) -> Result<Vec<Vec<f32>>, EmbedError> {
        let context = Call::new("index");
        let call = self.router.embed(texts, EmbedPurpose::Document, &context);
        let cancelled = async {
            while !cancel.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        self.handle.block_on(async {
            tokio::select! {
                done = call => done
                    .map(|d| d.vectors)
                    .map_err(|e| EmbedError::Failed(e.to_string())),
                () = cancelled => Err(EmbedError::Cancelled),
            }
        })
    }
}

/// A chunk that needs a vector in the new commit.
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    pub entry: Entry,
    pub text: String,
}

impl Wanted {
    pub(crate) fn new(path: &str, start_line: u32, text: String) -> Self {
        Self {
            entry: Entry {
                path: path.to_owned(),
                start_line,
                hash: text_hash(&text),
            },
            text,
        }
    }
}

/// What [`assemble`] did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Assembled {
    /// Texts sent to the embedder.
    pub embedded: usize,
    /// Vectors taken from the previous commit by text hash.
    pub reused: usize,
}

/// The vectors of a new commit: `carried` entries of the previous commit
/// (`old`, same model) as they are, then every `wanted` chunk — its old
/// vector when one has the same text hash, else a new one, embedded in
/// batches with `progress(done, total)` between them.
pub(crate) fn assemble(
    embedder: &dyn Embedder,
    old: Option<&Vectors>,
    carried: &[usize],
    wanted: Vec<Wanted>,
    cancel: &AtomicBool,
    progress: &dyn Fn(u64, u64),
) -> Result<(Vectors, Assembled), EmbedError> {
    let mut out = Vectors::new(embedder.model());
    let mut stats = Assembled::default();
    if let Some(old) = old {
        for &i in carried {
            out.push(old.entries[i].clone(), old.vector(i).to_vec());
        }
    }
    let by_hash: HashMap<[u8; 16], usize> = old
        .map(|o| {
            o.entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.hash, i))
                .collect()
        })
        .unwrap_or_default();
    let mut missing = Vec::new();
    for want in wanted {
        match (old, by_hash.get(&want.entry.hash)) {
            (Some(old), Some(&i)) => {
                out.push(want.entry, old.vector(i).to_vec());
                stats.reused += 1;
            }
            _ => missing.push(want),
        }
    }
    let total = missing.len() as u64;
    let mut done = 0u64;
    for batch in missing.chunks(EMBED_BATCH) {
        if cancel.load(Ordering::Relaxed) {
            return Err(EmbedError::Cancelled);
        }
        let texts: Vec<String> = batch.iter().map(|w| w.text.clone()).collect();
        let vectors = embedder.embed(&texts, cancel)?;
        if vectors.len() != batch.len() {
            return Err(EmbedError::Failed(format!(
                "{} vectors for {} texts",
                vectors.len(),
                batch.len()
            )));
        }
        for (want, vector) in batch.iter().zip(vectors) {
            if !out.is_empty() && vector.len() != out.dim {
                return Err(EmbedError::Failed(format!(
                    "the embedding route returned {} dimensions, earlier vectors have {}",
                    vector.len(),
                    out.dim
                )));
            }
            out.push(want.entry.clone(), vector);
        }
        done += batch.len() as u64;
        stats.embedded += batch.len();
        progress(done, total);
    }
    Ok((out, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_and_rank_by_cosine() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut vectors = Vectors::new("openai:m");
        for (i, v) in [[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 2.0]]
            .into_iter()
            .enumerate()
        {
            vectors.push(
                Entry {
                    path: format!("f{i}.rs"),
                    start_line: i as u32 + 1,
                    hash: text_hash(&i.to_string()),
                },
                v.to_vec(),
            );
        }
        let path = dir.path().join("v.bin");
        vectors.write(&path).expect("write");
        let back = Vectors::read(&path).expect("read");
        assert_eq!(back, vectors);
        assert_eq!(back.vector(2), [0.0, 0.0, 1.0], "stored unit length");
        let near = back.nearest(&[1.0, 0.0, 0.0], 2, |_| true);
        assert_eq!(near.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 1]);
        assert!((near[1].1 - 0.6).abs() < 1e-6);
        let filtered = back.nearest(&[1.0, 0.0, 0.0], 5, |e| e.path != "f0.rs");
        assert_eq!(filtered[0].0, 1);

        std::fs::write(&path, b"FFMCPVEC\x09\0\0\0").expect("write");
        assert!(Vectors::read(&path).is_err(), "another format is refused");
        let mut bytes = std::fs::read(dir.path().join("v.bin")).unwrap_or_default();
        bytes.truncate(bytes.len().saturating_sub(3));
        assert!(
            Vectors::parse(&bytes).is_none(),
            "a truncated file is refused"
        );
    }

    #[test]
    fn embedded_text_is_bounded_and_names_the_symbol() {
        let body = "x".repeat(10_000);
        let text = embed_text(
            "function",
            "cache::evict",
            "fn evict(&mut self)",
            "Drops.",
            &body,
        );
        assert!(text.starts_with("function cache::evict\nfn evict(&mut self)\nDrops.\nxx"));
        assert_eq!(text.chars().count(), EMBED_TEXT_CHARS);
    }
}

//! One repository's index: a tantivy index under the data directory.
//!
//! Layout: `<data>/coderag/v<FORMAT>/<hash of the repository path>/` holds
//! `repo.json` (which repository, which format), the manifest and the
//! tantivy files (`tantivy/`). A new format version is a new directory, so
//! an old index is never read by code that expects another; an index that
//! cannot be opened is rebuilt.
//!
//! Documents are chunks (the searchable code unit). What was indexed from
//! which file (path, language, size, modification time, content hash) is
//! the *manifest*, a JSON file beside `repo.json` named by the
//! payload of the tantivy commit it belongs to: it is written (under a new
//! name) before the commit, so the commit switches chunks and manifest
//! together and a crash or a cancellation before the commit leaves the
//! previous index and manifest as they were. Keeping file records out of
//! tantivy's document store means an update reads one small file instead
//! of decompressing document blocks full of code.
//!
//! An update walks the repository, re-reads only files whose size or time
//! changed, re-chunks only those whose content hash changed, and replaces
//! their documents; an update that finds nothing changed commits nothing.
//! A targeted update ([`RepoIndex::update_paths`], what the watcher runs)
//! does the same for just the paths that changed, judged by the same walk
//! rules, without walking the rest of the tree.
//!
//! With an [`Embedder`] (an embedding route is configured), the commit also
//! names a vectors file ([`crate::dense`]): the vectors of every definition
//! chunk, new ones only for chunks whose embedded text changed. Without
//! one, or when the embedding route fails, the commit has no vectors (and
//! search is BM25 only) rather than vectors that miss some chunks.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc,
    },
    time::Instant,
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term,
    collector::TopDocs,
    query::{BoostQuery, ConstScoreQuery, Occur, Query, TermQuery},
    schema::{
        Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
    },
    tokenizer::{TextAnalyzer, WhitespaceTokenizer},
};

use crate::{
    chunk::{self, Chunk},
    dense::{self, EmbedError, Embedder, Vectors, Wanted},
    lang::Lang,
    tokens,
    walk::{self, Skip},
};

/// Most changed paths [`RepoIndex::update_paths`] looks at one by one;
/// beyond, walking the whole tree is as cheap and cannot miss anything.
pub const MAX_CHANGED_PATHS: usize = 1_000;

/// The index format; bump it whenever the schema, the tokenizer or the
/// chunker changes what is stored.
pub const FORMAT: u32 = 3;

/// Why an index operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("index directory {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("another process is indexing this repository; try again when it is done")]
    Busy,
    #[error("cancelled")]
    Cancelled,
}

/// Where the index of `repo` lives under `base`.
pub fn index_dir(base: &Path, repo: &Path) -> PathBuf {
    let digest = Sha256::digest(repo.as_os_str().as_encoded_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    base.join(format!("v{FORMAT}")).join(name)
}

/// Every indexed repository under `base`: (repository, index directory).
pub fn list(base: &Path) -> Vec<(PathBuf, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(base.join(format!("v{FORMAT}"))) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let dir = entry.path();
            let meta: RepoMeta =
                serde_json::from_slice(&std::fs::read(dir.join("repo.json")).ok()?).ok()?;
            (meta.format == FORMAT).then_some((meta.repo, dir))
        })
        .collect();
    out.sort();
    out
}

#[derive(Debug, Serialize, Deserialize)]
struct RepoMeta {
    repo: PathBuf,
    format: u32,
}

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
struct Fields {
    path: Field,
    dir: Field,
    lang: Field,
    kind: Field,
    name: Field,
    name_exact: Field,
    name_lower: Field,
    symbol: Field,
    signature: Field,
    doc: Field,
    body: Field,
    refs: Field,
    occ: Field,
    start: Field,
    end: Field,
    name_line: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let code = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokens::NAME)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let idents = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("ident")
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        path: b.add_text_field("path", STRING | STORED),
        dir: b.add_text_field("dir", STRING),
        lang: b.add_text_field("lang", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        name: b.add_text_field("name", code(true)),
        name_exact: b.add_text_field("name_exact", STRING),
        name_lower: b.add_text_field("name_lower", STRING),
        symbol: b.add_text_field("symbol", code(true)),
        signature: b.add_text_field("signature", code(true)),
        doc: b.add_text_field("doc", code(true)),
        body: b.add_text_field("body", code(true)),
        refs: b.add_text_field("refs", idents),
        occ: b.add_text_field("occ", STORED),
        start: b.add_u64_field("start", STORED),
        end: b.add_u64_field("end", STORED),
        name_line: b.add_u64_field("name_line", STORED),
    };
    (b.build(), fields)
}

/// What one update did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct UpdateReport {
    /// Files the walk found (before content checks).
    pub files_seen: usize,
    /// Files (re-)chunked because they are new or their content changed.
    pub indexed: usize,
    /// Files whose content hash was unchanged.
    pub unchanged: usize,
    /// Files removed from the index (deleted, or now ignored or skipped).
    pub removed: usize,
    /// Files left out, by reason.
    pub skipped: BTreeMap<&'static str, usize>,
    /// Chunks written.
    pub chunks: usize,
    /// Bytes read and chunked.
    pub bytes: u64,
    /// Chunks embedded now (an embedding route is configured).
    pub embedded: usize,
    /// Vectors taken over from the previous commit by text hash.
    pub vectors_reused: usize,
    /// Vectors in the index after the update (0 without an embedding route).
    pub vectors: usize,
    /// Why the update committed no vectors although an embedder was given.
    pub embed_error: Option<String>,
    /// Files whose content was read (new, or size or time changed).
    pub files_read: usize,
    /// Whether the whole repository was walked (false: only the changed
    /// paths a watcher reported were looked at).
    pub full: bool,
    pub elapsed_ms: u64,
}

/// Which part of an update progress is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading and chunking files: (files done, files to do).
    Files,
    /// Embedding changed chunks: (chunks done, chunks to do).
    Embeddings,
}

/// How an update runs.
#[derive(Clone, Copy)]
pub struct UpdateOptions<'a> {
    pub max_file_bytes: u64,
    pub cancel: &'a AtomicBool,
    /// (stage, done, to do).
    pub progress: &'a (dyn Fn(Stage, u64, u64) + Sync),
    /// Embeds definition chunks when an embedding route is configured.
    pub embedder: Option<&'a dyn Embedder>,
}

/// What the index holds of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: String,
    pub lang: String,
    pub hash: String,
    pub size: u64,
    pub mtime: u64,
}

/// A chunk read back from the index.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub lang: String,
    pub kind: String,
    pub name: String,
    pub symbol: String,
    pub signature: String,
    pub doc: String,
    pub start_line: u32,
    pub end_line: u32,
    pub name_line: u32,
    pub text: String,
    /// (line, identifier) pairs of the chunk's own lines.
    pub occurrences: Vec<(u32, String)>,
    pub score: f32,
}

/// One repository's open index.
pub struct RepoIndex {
    pub repo: PathBuf,
    pub dir: PathBuf,
    index: Index,
    reader: IndexReader,
    f: Fields,
    /// One update at a time in this process (tantivy's lock covers others).
    writing: Mutex<()>,
    /// The manifest last read, by file name.
    manifest: Mutex<Arc<Manifest>>,
    /// The vectors file last read: (name, vectors).
    vectors: Mutex<Option<(String, Arc<Vectors>)>>,
}

/// The file records of one commit; see the module docs.
#[derive(Debug, Default)]
struct Manifest {
    /// Its file name (none before the first commit).
    name: Option<String>,
    /// The vectors file of the same commit, if it has one.
    vectors: Option<String>,
    files: HashMap<String, FileRecord>,
}

/// The payload of a commit: which manifest and vectors go with it.
#[derive(Debug, Serialize, Deserialize)]
struct CommitPayload {
    manifest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vectors: Option<String>,
}

/// Prefix of manifest file names.
const MANIFEST_PREFIX: &str = "files-";
/// Prefix of vectors file names.
const VECTORS_PREFIX: &str = "vectors-";

impl std::fmt::Debug for RepoIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepoIndex")
            .field("repo", &self.repo)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl RepoIndex {
    /// Opens the index of `repo` in `dir`, creating it if missing and
    /// rebuilding it if it cannot be read with this version's schema.
    pub fn open(dir: &Path, repo: &Path) -> Result<Self, IndexError> {
        let io = |source| IndexError::Io {
            path: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let (schema, f) = schema();
        let data = dir.join("tantivy");
        let opened = Index::open_in_dir(&data)
            .ok()
            .filter(|index| index.schema() == schema);
        let index = match opened {
            Some(index) => index,
            None => {
                let _ = std::fs::remove_dir_all(&data);
                std::fs::create_dir_all(&data).map_err(io)?;
                Index::create_in_dir(&data, schema)?
            }
        };
        index.tokenizers().register(
            tokens::NAME,
            TextAnalyzer::from(tokens::CodeTokenizer::default()),
        );
        index
            .tokenizers()
            .register("ident", TextAnalyzer::from(WhitespaceTokenizer::default()));
        let meta = RepoMeta {
            repo: repo.to_path_buf(),
            format: FORMAT,
        };
        let tmp = dir.join("repo.json.tmp");
        let json = serde_json::to_vec(&meta).expect("a path and a number serialise");
        std::fs::write(&tmp, json).map_err(io)?;
        std::fs::rename(&tmp, dir.join("repo.json")).map_err(io)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            repo: repo.to_path_buf(),
            dir: dir.to_path_buf(),
            index,
            reader,
            f,
            writing: Mutex::new(()),
            manifest: Mutex::new(Arc::new(Manifest::default())),
            vectors: Mutex::new(None),
        })
    }

    /// The manifest of the newest commit (read again only when it changed).
    fn manifest(&self) -> Result<Arc<Manifest>, IndexError> {
        let metas = self.index.load_metas()?;
        let payload = metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<CommitPayload>(p).ok());
        let name = payload.as_ref().map(|p| p.manifest.clone());
        let vectors = payload.and_then(|p| p.vectors);
        let mut cached = self.manifest.lock().unwrap_or_else(|p| p.into_inner());
        if cached.name == name {
            return Ok(cached.clone());
        }
        let files = match &name {
            Some(name) => {
                let path = self.dir.join(name);
                let bytes = std::fs::read(&path).map_err(|source| IndexError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                let records: Vec<FileRecord> =
                    serde_json::from_slice(&bytes).map_err(|e| IndexError::Io {
                        path: path.display().to_string(),
                        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                    })?;
                records.into_iter().map(|r| (r.path.clone(), r)).collect()
            }
            None => HashMap::new(),
        };
        *cached = Arc::new(Manifest {
            name,
            vectors,
            files,
        });
        Ok(cached.clone())
    }

    /// The vectors of the newest commit, if it has any (read again only
    /// when the commit changed).
    pub fn vectors(&self) -> Result<Option<Arc<Vectors>>, IndexError> {
        let Some(name) = self.manifest()?.vectors.clone() else {
            return Ok(None);
        };
        let mut cached = self.vectors.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((cached_name, vectors)) = cached.as_ref()
            && *cached_name == name
        {
            return Ok(Some(Arc::clone(vectors)));
        }
        let path = self.dir.join(&name);
        let vectors = Arc::new(Vectors::read(&path).map_err(|source| IndexError::Io {
            path: path.display().to_string(),
            source,
        })?);
        *cached = Some((name, Arc::clone(&vectors)));
        Ok(Some(vectors))
    }

    /// Writes `files` as a new manifest (and `vectors`, if any) and commits
    /// them with the writer's changes; removes the manifests and vectors no
    /// commit names any more.
    fn commit(
        &self,
        writer: &mut IndexWriter<TantivyDocument>,
        files: HashMap<String, FileRecord>,
        vectors: Option<Vectors>,
    ) -> Result<(), IndexError> {
        let data = &self.dir;
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| IndexError::Io { path, source }
        };
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("{MANIFEST_PREFIX}{stamp:032x}-{}.json", std::process::id());
        let mut records: Vec<&FileRecord> = files.values().collect();
        records.sort_by(|a, b| a.path.cmp(&b.path));
        let json = serde_json::to_vec(&records).expect("file records serialise");
        let path = data.join(&name);
        let tmp = data.join(format!("{name}.tmp"));
        std::fs::write(&tmp, json).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        let vectors_name = match &vectors {
            Some(vectors) => {
                let vectors_name =
                    format!("{VECTORS_PREFIX}{stamp:032x}-{}.bin", std::process::id());
                let path = data.join(&vectors_name);
                vectors.write(&path).map_err(io(&path))?;
                Some(vectors_name)
            }
            None => None,
        };
        let payload = serde_json::to_string(&CommitPayload {
            manifest: name.clone(),
            vectors: vectors_name.clone(),
        })
        .expect("a name serialises");
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        *self.manifest.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(Manifest {
            name: Some(name.clone()),
            vectors: vectors_name.clone(),
            files,
        });
        *self.vectors.lock().unwrap_or_else(|p| p.into_inner()) =
            vectors_name.clone().zip(vectors.map(Arc::new));
        if let Ok(entries) = std::fs::read_dir(data) {
            for entry in entries.flatten() {
                let file = entry.file_name();
                let file = file.to_string_lossy();
                let named = *file == name || vectors_name.as_deref() == Some(&*file);
                if (file.starts_with(MANIFEST_PREFIX) || file.starts_with(VECTORS_PREFIX)) && !named
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }

    /// Picks up commits made by another process.
    pub fn refresh(&self) {
        let _ = self.reader.reload();
    }

    /// Brings the index up to date with the repository; see the module docs.
    pub fn update(&self, options: UpdateOptions<'_>) -> Result<UpdateReport, IndexError> {
        let started = Instant::now();
        let _guard = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        self.refresh();
        let known = self.manifest()?;
        self.update_all(&known.files, options, started)
    }

    /// Brings the index up to date for the files at `paths` (absolute, as
    /// a watcher reports them), judging each exactly as [`Self::update`]
    /// would and leaving every other file alone: one still there and still
    /// indexable (the same walk rules) is read again if its size or time
    /// changed and chunked again if its content did; one gone, ignored or
    /// now skipped is removed. One atomic commit, as `update`.
    ///
    /// Paths outside the repository, inside `.git/` or inside the index
    /// directory are not the repository's. It falls back to the full update
    /// (and says so in [`UpdateReport::full`]) when paths alone cannot
    /// tell: more than [`MAX_CHANGED_PATHS`] of them, the repository root,
    /// a directory (created, renamed or still there), a path gone that held
    /// indexed files (a directory removed or renamed away), or an ignore
    /// file (`.gitignore`, `.ignore`, `.git/info/exclude`) that changed.
    pub fn update_paths(
        &self,
        paths: &[PathBuf],
        options: UpdateOptions<'_>,
    ) -> Result<UpdateReport, IndexError> {
        let started = Instant::now();
        let _guard = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        self.refresh();
        let known = self.manifest()?;
        let known = &known.files;
        let Some(rels) = self.changed_files(paths, known) else {
            return self.update_all(known, options, started);
        };
        let mut report = UpdateReport::default();
        let (found, skipped) = walk::walk_files(&self.repo, &rels, options.max_file_bytes);
        report.files_seen = found.len() + skipped.len();
        for (_, reason) in &skipped {
            *report.skipped.entry(reason.name()).or_default() += 1;
        }
        let present: HashSet<&str> = found.iter().map(|f| f.rel.as_str()).collect();
        let gone: Vec<String> = rels
            .iter()
            .filter(|rel| !present.contains(String::as_str(rel)) && known.contains_key(*rel))
            .cloned()
            .collect();
        self.apply_changes(known, found, gone, report, options, started)
    }

    /// The repository-relative files `paths` name, or `None` when only a
    /// full walk can tell what changed (see [`Self::update_paths`]).
    fn changed_files(
        &self,
        paths: &[PathBuf],
        known: &HashMap<String, FileRecord>,
    ) -> Option<Vec<String>> {
        if paths.len() > MAX_CHANGED_PATHS {
            return None;
        }
        let git = self.repo.join(".git");
        let mut rels = std::collections::BTreeSet::new();
        let mut gone = HashSet::new();
        for path in paths {
            if path.starts_with(&self.dir) {
                continue;
            }
            if path.starts_with(&git) {
                if *path == git.join("info/exclude") {
                    return None;
                }
                continue;
            }
            let Ok(relative) = path.strip_prefix(&self.repo) else {
                continue;
            };
            if relative.as_os_str().is_empty() {
                return None;
            }
            let name = path.file_name().map(|n| n.to_string_lossy());
            if matches!(name.as_deref(), Some(".gitignore" | ".ignore")) {
                return None;
            }
            let rel = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            match std::fs::symlink_metadata(path) {
                Ok(meta) if meta.is_dir() => return None,
                Ok(_) => {}
                Err(_) => {
                    gone.insert(rel.clone());
                }
            }
            rels.insert(rel);
        }
        // A path gone that is the directory of an indexed file: a directory
        // removed or renamed away, whose files raised no events of their own.
        if !gone.is_empty() {
            for file in known.keys() {
                let mut dir = file.as_str();
                while let Some((parent, _)) = dir.rsplit_once('/') {
                    if gone.contains(parent) {
                        return None;
                    }
                    dir = parent;
                }
            }
        }
        Some(rels.into_iter().collect())
    }

    /// The full update: walks the whole repository.
    fn update_all(
        &self,
        known: &HashMap<String, FileRecord>,
        options: UpdateOptions<'_>,
        started: Instant,
    ) -> Result<UpdateReport, IndexError> {
        let mut report = UpdateReport {
            full: true,
            ..UpdateReport::default()
        };
        let (found, skipped) = walk::walk(&self.repo, options.max_file_bytes);
        report.files_seen = found.len() + skipped.len();
        for (_, reason) in &skipped {
            *report.skipped.entry(reason.name()).or_default() += 1;
        }
        let present: HashSet<&str> = found.iter().map(|f| f.rel.as_str()).collect();
        let gone: Vec<String> = known
            .keys()
            .filter(|path| !present.contains(String::as_str(path)))
            .cloned()
            .collect();
        self.apply_changes(known, found, gone, report, options, started)
    }

    /// Replaces the chunks of the `found` files that changed, removes the
    /// `gone` ones, and commits (nothing, when nothing changed).
    fn apply_changes(
        &self,
        known: &HashMap<String, FileRecord>,
        found: Vec<walk::Found>,
        gone: Vec<String>,
        mut report: UpdateReport,
        options: UpdateOptions<'_>,
        started: Instant,
    ) -> Result<UpdateReport, IndexError> {
        // Indexing threads beside the parsing workers: on a small machine
        // the two stages share the cores, on a large one neither starves.
        let threads = update_threads();
        let mut writer: IndexWriter<TantivyDocument> = match self
            .index
            .writer_with_num_threads(threads, threads * 64_000_000)
        {
            Ok(writer) => writer,
            Err(tantivy::TantivyError::LockFailure(..)) => return Err(IndexError::Busy),
            Err(e) => return Err(e.into()),
        };
        let mut todo = Vec::new();
        for file in found {
            match known.get(&file.rel) {
                Some(old) if old.size == file.size && old.mtime == file.mtime => {
                    report.unchanged += 1;
                }
                old => {
                    let old_hash = old.map(|o| o.hash.clone());
                    todo.push((file, old_hash));
                }
            }
        }
        report.files_read = todo.len();
        let mut files = known.clone();
        for path in &gone {
            self.delete_file(&writer, path);
            files.remove(path);
            report.removed += 1;
        }
        // The previous vectors, when they come from the same embedding route.
        let old_vectors = match options.embedder {
            Some(embedder) => self
                .vectors()
                .ok()
                .flatten()
                .filter(|v| v.model == embedder.model()),
            None => None,
        };
        let vectors_missing = options.embedder.is_some() && old_vectors.is_none();
        if todo.is_empty() && report.removed == 0 && !vectors_missing {
            // Nothing changed: no commit.
            let _ = writer.rollback();
            report.vectors = old_vectors.map_or(0, |v| v.len());
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            return Ok(report);
        }
        let total = todo.len() as u64;
        // Paths whose chunks were replaced, and their chunks that need vectors.
        let mut rechunked = HashSet::new();
        let mut wanted = Vec::new();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let (tx, rx) = mpsc::sync_channel::<Parsed>(64);
        let workers = update_threads();
        std::thread::scope(|scope| -> Result<(), IndexError> {
            for _ in 0..workers {
                let tx = tx.clone();
                let (todo, next, done) = (&todo, &next, &done);
                scope.spawn(move || {
                    loop {
                        if options.cancel.load(Ordering::Relaxed) {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((file, old_hash)) = todo.get(i) else {
                            break;
                        };
                        let parsed = parse_file(file, old_hash.as_deref());
                        let n = done.fetch_add(1, Ordering::Relaxed) as u64 + 1;
                        if n.is_multiple_of(64) || n == total {
                            (options.progress)(Stage::Files, n, total);
                        }
                        if tx.send(parsed).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for parsed in rx {
                if options.embedder.is_some() {
                    wanted_of(&parsed, &mut rechunked, &mut wanted);
                }
                self.apply(&writer, parsed, &mut files, &mut report)?;
            }
            Ok(())
        })?;
        if options.cancel.load(Ordering::Relaxed) {
            let _ = writer.rollback();
            return Err(IndexError::Cancelled);
        }
        let vectors = match options.embedder {
            None => None,
            Some(embedder) => {
                match self.embed(
                    embedder,
                    old_vectors.as_deref(),
                    &files,
                    &rechunked,
                    wanted,
                    &options,
                ) {
                    Ok((vectors, assembled)) => {
                        report.embedded = assembled.embedded;
                        report.vectors_reused = assembled.reused;
                        report.vectors = vectors.len();
                        Some(vectors)
                    }
                    Err(EmbedError::Cancelled) => {
                        let _ = writer.rollback();
                        return Err(IndexError::Cancelled);
                    }
                    Err(EmbedError::Failed(why)) => {
                        tracing::warn!(repo = %self.repo.display(), "committing without vectors: {why}");
                        report.embed_error = Some(why);
                        None
                    }
                }
            }
        };
        self.commit(&mut writer, files, vectors)?;
        let _ = writer.wait_merging_threads();
        self.refresh();
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// The vectors of the commit being prepared: the previous commit's for
    /// files not chunked again, then `wanted` (reused by text hash, or
    /// embedded). Without usable previous vectors, the definitions of the
    /// files not chunked again are read back from the index and embedded too.
    fn embed(
        &self,
        embedder: &dyn Embedder,
        old: Option<&Vectors>,
        files: &HashMap<String, FileRecord>,
        rechunked: &HashSet<String>,
        mut wanted: Vec<Wanted>,
        options: &UpdateOptions<'_>,
    ) -> Result<(Vectors, dense::Assembled), EmbedError> {
        let kept = |path: &str| files.contains_key(path) && !rechunked.contains(path);
        let carried: Vec<usize> = match old {
            Some(old) => old
                .entries()
                .iter()
                .enumerate()
                .filter(|(_, e)| kept(&e.path))
                .map(|(i, _)| i)
                .collect(),
            None => {
                let stored = self
                    .stored_definitions(&kept)
                    .map_err(|e| EmbedError::Failed(format!("reading the index: {e}")))?;
                wanted.extend(stored);
                Vec::new()
            }
        };
        wanted.sort_by(|a, b| {
            (&a.entry.path, a.entry.start_line).cmp(&(&b.entry.path, b.entry.start_line))
        });
        dense::assemble(
            embedder,
            old,
            &carried,
            wanted,
            options.cancel,
            &|done, total| (options.progress)(Stage::Embeddings, done, total),
        )
    }

    /// The definition chunks of the committed index whose path `keep`
    /// accepts, as texts to embed.
    fn stored_definitions(&self, keep: &dyn Fn(&str) -> bool) -> Result<Vec<Wanted>, IndexError> {
        let searcher = self.reader.searcher();
        let mut out = Vec::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let alive = segment.alive_bitset();
            for doc_id in 0..segment.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc_id)) {
                    continue;
                }
                let doc: TantivyDocument =
                    searcher.doc(tantivy::DocAddress::new(ord as u32, doc_id))?;
                let hit = self.hit(&doc, 0.0);
                if hit.is_definition() && keep(&hit.path) {
                    out.push(Wanted::new(&hit.path, hit.start_line, hit.embed_text()));
                }
            }
        }
        Ok(out)
    }

    fn delete_file(&self, writer: &IndexWriter<TantivyDocument>, path: &str) {
        writer.delete_term(Term::from_field_text(self.f.path, path));
    }

    fn apply(
        &self,
        writer: &IndexWriter<TantivyDocument>,
        parsed: Parsed,
        files: &mut HashMap<String, FileRecord>,
        report: &mut UpdateReport,
    ) -> Result<(), IndexError> {
        match parsed.outcome {
            Outcome::Skipped(reason) => {
                self.delete_file(writer, &parsed.file.rel);
                files.remove(&parsed.file.rel);
                *report.skipped.entry(reason.name()).or_default() += 1;
                return Ok(());
            }
            Outcome::Same => {
                // Content unchanged: only the file record (size, time) moves.
                report.unchanged += 1;
            }
            Outcome::Chunks(ref chunks) => {
                self.delete_file(writer, &parsed.file.rel);
                report.indexed += 1;
                report.bytes += parsed.file.size;
                report.chunks += chunks.len();
                for chunk in chunks {
                    writer.add_document(self.chunk_doc(&parsed.file.rel, parsed.lang, chunk))?;
                }
            }
        }
        files.insert(
            parsed.file.rel.clone(),
            FileRecord {
                path: parsed.file.rel.clone(),
                lang: parsed.lang.name().to_owned(),
                hash: parsed.hash,
                size: parsed.file.size,
                mtime: parsed.file.mtime,
            },
        );
        Ok(())
    }

    fn chunk_doc(&self, path: &str, lang: Lang, chunk: &Chunk) -> TantivyDocument {
        let f = self.f;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.path, path);
        let mut prefix = String::new();
        for part in path.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            doc.add_text(f.dir, &prefix);
        }
        doc.add_text(f.lang, lang.name());
        doc.add_text(f.kind, chunk.kind);
        doc.add_text(f.name, &chunk.name);
        if !chunk.name.is_empty() {
            doc.add_text(f.name_exact, &chunk.name);
            doc.add_text(f.name_lower, chunk.name.to_lowercase());
        }
        doc.add_text(f.symbol, chunk.symbol(lang));
        doc.add_text(f.signature, &chunk.signature);
        doc.add_text(f.doc, &chunk.doc);
        doc.add_text(f.body, &chunk.text);
        let mut unique: Vec<&str> = chunk.occurrences.iter().map(|(_, s)| s.as_str()).collect();
        unique.sort_unstable();
        unique.dedup();
        doc.add_text(f.refs, unique.join(" "));
        let occ: String = chunk
            .occurrences
            .iter()
            .map(|(line, ident)| format!("{line} {ident}\n"))
            .collect();
        doc.add_text(f.occ, occ);
        doc.add_u64(f.start, chunk.start_line.into());
        doc.add_u64(f.end, chunk.end_line.into());
        doc.add_u64(f.name_line, chunk.name_line.into());
        doc
    }

    /// Every file record, by path (as of the newest commit).
    pub fn files(&self) -> Result<HashMap<String, FileRecord>, IndexError> {
        Ok(self.manifest()?.files.clone())
    }

    /// Files in the index.
    pub fn file_count(&self) -> Result<usize, IndexError> {
        Ok(self.manifest()?.files.len())
    }

    /// Chunks in the index.
    pub fn chunk_count(&self) -> Result<u64, IndexError> {
        Ok(self.reader.searcher().num_docs())
    }

    /// The record of one file.
    pub fn file(&self, path: &str) -> Result<Option<FileRecord>, IndexError> {
        Ok(self.manifest()?.files.get(path).cloned())
    }

    /// Runs `query` over chunks and reads back the top `limit`.
    pub(crate) fn run(&self, query: Box<dyn Query>, limit: usize) -> Result<Vec<Hit>, IndexError> {
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(self.hit(&doc, score));
        }
        Ok(hits)
    }

    fn hit(&self, doc: &TantivyDocument, score: f32) -> Hit {
        let f = self.f;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let number = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        let occurrences = text(f.occ)
            .lines()
            .filter_map(|l| {
                let (line, ident) = l.split_once(' ')?;
                Some((line.parse().ok()?, ident.to_owned()))
            })
            .collect();
        Hit {
            path: text(f.path),
            lang: text(f.lang),
            kind: text(f.kind),
            name: text(f.name),
            symbol: text(f.symbol),
            signature: text(f.signature),
            doc: text(f.doc),
            start_line: number(f.start),
            end_line: number(f.end),
            name_line: number(f.name_line),
            text: text(f.body),
            occurrences,
            score,
        }
    }

    /// The searchable text fields with their boosts.
    pub(crate) fn weighted_fields(&self) -> [(Field, f32); 5] {
        let f = self.f;
        [
            (f.name, 3.0),
            (f.symbol, 1.5),
            (f.signature, 1.5),
            (f.doc, 2.0),
            (f.body, 1.0),
        ]
    }

    pub(crate) fn field(&self, which: FieldName) -> Field {
        match which {
            FieldName::Lang => self.f.lang,
            FieldName::Kind => self.f.kind,
            FieldName::Dir => self.f.dir,
            FieldName::Path => self.f.path,
            FieldName::NameExact => self.f.name_exact,
            FieldName::NameLower => self.f.name_lower,
            FieldName::Name => self.f.name,
            FieldName::Refs => self.f.refs,
        }
    }

    /// Bytes the index takes on disk.
    pub fn size_bytes(&self) -> u64 {
        dir_size(&self.dir) + dir_size(&self.dir.join("tantivy"))
    }

    /// A term query on a text field.
    pub(crate) fn term(&self, which: FieldName, text: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(self.field(which), text),
            IndexRecordOption::WithFreqs,
        ))
    }

    /// A boosted term query.
    pub(crate) fn boosted(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
        Box::new(BoostQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::WithFreqs,
            )),
            boost,
        ))
    }
}

/// A clause that must match and adds nothing to the score.
pub(crate) fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

impl Hit {
    /// Whether this chunk is a definition (not code between them or prose).
    pub fn is_definition(&self) -> bool {
        !matches!(self.kind.as_str(), "code" | "text" | "section")
    }

    /// The text its vector is made from ([`dense::embed_text`]).
    pub fn embed_text(&self) -> String {
        dense::embed_text(
            &self.kind,
            &self.symbol,
            &self.signature,
            &self.doc,
            &self.text,
        )
    }
}

/// The chunks of a file chunked again that need vectors.
fn wanted_of(parsed: &Parsed, rechunked: &mut HashSet<String>, wanted: &mut Vec<Wanted>) {
    match &parsed.outcome {
        Outcome::Same => {}
        Outcome::Skipped(_) => {
            rechunked.insert(parsed.file.rel.clone());
        }
        Outcome::Chunks(chunks) => {
            rechunked.insert(parsed.file.rel.clone());
            for chunk in chunks.iter().filter(|c| c.is_definition()) {
                let text = dense::embed_text(
                    chunk.kind,
                    &chunk.symbol(parsed.lang),
                    &chunk.signature,
                    &chunk.doc,
                    &chunk.text,
                );
                wanted.push(Wanted::new(&parsed.file.rel, chunk.start_line, text));
            }
        }
    }
}

/// Fields other modules query.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldName {
    Lang,
    Kind,
    Dir,
    Path,
    NameExact,
    NameLower,
    Name,
    Refs,
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

struct Parsed {
    file: walk::Found,
    lang: Lang,
    hash: String,
    outcome: Outcome,
}

enum Outcome {
    Skipped(Skip),
    Same,
    Chunks(Vec<Chunk>),
}

/// Reads, checks and chunks one file.
/// How many threads an update parses files with (and as many index them):
/// one per core, at most 4.
pub fn update_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

fn parse_file(file: &walk::Found, old_hash: Option<&str>) -> Parsed {
    let lang = Lang::detect(&file.rel);
    let done = |hash: String, outcome| Parsed {
        file: file.clone(),
        lang,
        hash,
        outcome,
    };
    let bytes = match std::fs::read(&file.abs) {
        Ok(bytes) => bytes,
        Err(_) => return done(String::new(), Outcome::Skipped(Skip::Unreadable)),
    };
    let hash = content_hash(&bytes);
    if old_hash == Some(hash.as_str()) {
        return done(hash, Outcome::Same);
    }
    match walk::accept_content(bytes) {
        Ok(text) => {
            let chunks = chunk::chunk_file(lang, &text);
            done(hash, Outcome::Chunks(chunks))
        }
        Err(reason) => done(hash, Outcome::Skipped(reason)),
    }
}

/// The content hash the index keeps per file (SHA-256, hex).
pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether the file behind `record` changed since it was indexed: a
/// different size or time and a different content hash, or gone.
pub fn is_stale(repo: &Path, record: &FileRecord) -> bool {
    let path = repo.join(&record.path);
    let Ok(meta) = std::fs::symlink_metadata(&path) else {
        return true;
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    if meta.len() == record.size && mtime == record.mtime {
        return false;
    }
    std::fs::read(&path).map_or(true, |bytes| content_hash(&bytes) != record.hash)
}

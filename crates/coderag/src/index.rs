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

use std::{
    collections::{BTreeMap, HashMap},
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
    lang::Lang,
    tokens,
    walk::{self, Skip},
};

/// The index format; bump it whenever the schema, the tokenizer or the
/// chunker changes what is stored.
pub const FORMAT: u32 = 2;

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
    pub elapsed_ms: u64,
}

/// How an update runs.
#[derive(Clone, Copy)]
pub struct UpdateOptions<'a> {
    pub max_file_bytes: u64,
    pub cancel: &'a AtomicBool,
    /// (files done, files to do).
    pub progress: &'a (dyn Fn(u64, u64) + Sync),
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
}

/// The file records of one commit; see the module docs.
#[derive(Debug, Default)]
struct Manifest {
    /// Its file name (none before the first commit).
    name: Option<String>,
    files: HashMap<String, FileRecord>,
}

/// The payload of a commit: which manifest goes with it.
#[derive(Debug, Serialize, Deserialize)]
struct CommitPayload {
    manifest: String,
}

/// Prefix of manifest file names.
const MANIFEST_PREFIX: &str = "files-";

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
        })
    }

    /// The manifest of the newest commit (read again only when it changed).
    fn manifest(&self) -> Result<Arc<Manifest>, IndexError> {
        let metas = self.index.load_metas()?;
        let name = metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<CommitPayload>(p).ok())
            .map(|p| p.manifest);
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
        *cached = Arc::new(Manifest { name, files });
        Ok(cached.clone())
    }

    /// Writes `files` as a new manifest and commits it with the writer's
    /// changes; removes the manifests no commit names any more.
    fn commit(
        &self,
        writer: &mut IndexWriter<TantivyDocument>,
        files: HashMap<String, FileRecord>,
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
        let payload = serde_json::to_string(&CommitPayload {
            manifest: name.clone(),
        })
        .expect("a name serialises");
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        *self.manifest.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(Manifest {
            name: Some(name.clone()),
            files,
        });
        if let Ok(entries) = std::fs::read_dir(data) {
            for entry in entries.flatten() {
                let file = entry.file_name();
                let file = file.to_string_lossy();
                if file.starts_with(MANIFEST_PREFIX) && *file != name {
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
        let mut report = UpdateReport::default();
        let known = self.manifest()?;
        let known = &known.files;
        let (found, skipped) = walk::walk(&self.repo, options.max_file_bytes);
        report.files_seen = found.len() + skipped.len();
        for (_, reason) in &skipped {
            *report.skipped.entry(reason.name()).or_default() += 1;
        }
        // Indexing threads beside the parsing workers: on a small machine
        // the two stages share the cores, on a large one neither starves.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let mut writer: IndexWriter<TantivyDocument> = match self
            .index
            .writer_with_num_threads(threads, threads * 64_000_000)
        {
            Ok(writer) => writer,
            Err(tantivy::TantivyError::LockFailure(..)) => return Err(IndexError::Busy),
            Err(e) => return Err(e.into()),
        };
        let mut present = std::collections::HashSet::new();
        let mut todo = Vec::new();
        for file in found {
            present.insert(file.rel.clone());
            match known.get(&file.rel) {
                Some(old) if old.size == file.size && old.mtime == file.mtime => {
                    report.unchanged += 1;
                }
                old => todo.push((file, old.map(|o| o.hash.clone()))),
            }
        }
        let mut files = known.clone();
        for path in known.keys() {
            if !present.contains(path) {
                self.delete_file(&writer, path);
                files.remove(path);
                report.removed += 1;
            }
        }
        if todo.is_empty() && report.removed == 0 {
            // Nothing changed: no commit.
            let _ = writer.rollback();
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            return Ok(report);
        }
        let total = todo.len() as u64;
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let (tx, rx) = mpsc::sync_channel::<Parsed>(64);
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
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
                            (options.progress)(n, total);
                        }
                        if tx.send(parsed).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for parsed in rx {
                self.apply(&writer, parsed, &mut files, &mut report)?;
            }
            Ok(())
        })?;
        if options.cancel.load(Ordering::Relaxed) {
            let _ = writer.rollback();
            return Err(IndexError::Cancelled);
        }
        self.commit(&mut writer, files)?;
        let _ = writer.wait_merging_threads();
        self.refresh();
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
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

//! The bodies of the read tools: run on the blocking pool, merge
//! repositories, mask what leaves, mark stale files.

use std::{
    collections::{BTreeMap, HashMap},
    io::Read,
    path::PathBuf,
    sync::Arc,
};

use ffmcp_core::{ToolError, roots::Roots};

use super::{bounded, index_error, languages, types::*};
use crate::{
    dense::{Embedder, ModelEmbedder, Vectors},
    index::{self, Hit, RepoIndex},
    lang::Lang,
    mask::mask,
    query::{self, Mode, Ranked},
    walk::{self, Skip},
};

/// Lines one `read` returns at most.
const MAX_READ_LINES: u32 = 2000;

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ToolError> + Send + 'static,
) -> Result<T, ToolError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ToolError::internal(format!("the query stopped unexpectedly: {e}")))?
}

/// Whether each file of `hits` changed since it was indexed (cached per path).
struct Staleness<'a> {
    index: &'a RepoIndex,
    seen: HashMap<String, bool>,
}

impl<'a> Staleness<'a> {
    fn new(index: &'a RepoIndex) -> Self {
        Self {
            index,
            seen: HashMap::new(),
        }
    }

    fn of(&mut self, path: &str) -> bool {
        if let Some(stale) = self.seen.get(path) {
            return *stale;
        }
        let stale = match self.index.file(path) {
            Ok(Some(record)) => index::is_stale(&self.index.repo, &record),
            _ => true,
        };
        self.seen.insert(path.to_owned(), stale);
        stale
    }
}

fn masked(text: &str) -> String {
    mask(text).0
}

fn symbol(repo: &RepoIndex, hit: &Hit) -> Symbol {
    Symbol {
        repo: repo.repo.display().to_string(),
        path: hit.path.clone(),
        language: hit.lang.clone(),
        kind: hit.kind.clone(),
        name: hit.name.clone(),
        symbol: hit.symbol.clone(),
        signature: masked(&hit.signature),
        doc: masked(&hit.doc),
        start_line: hit.start_line,
        end_line: hit.end_line,
    }
}

/// Estimated tokens of a text: 4 characters each.
fn tokens_of(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// How to set up dense retrieval, for errors about `mode: hybrid`.
const EMBED_HINT: &str = "set FF_EMBED_MODEL in the server's environment to an embedding \
     route (openai:text-embedding-3-small with OPENAI_API_KEY, gemini:gemini-embedding-001 with \
     GEMINI_API_KEY, or openai-compat:http://127.0.0.1:11434/v1#nomic-embed-text for a local \
     server) and run `index` again";

pub(super) async fn search(
    indexes: Vec<Arc<RepoIndex>>,
    args: SearchArgs,
    embedder: Option<Arc<ModelEmbedder>>,
) -> Result<SearchResult, ToolError> {
    if args.query.trim().is_empty() {
        return Err(ToolError::invalid(
            "'query' is empty; give words or identifiers to look for",
        ));
    }
    ffmcp_core::limits::check_size("query", &args.query, 4096)?;
    let k = bounded("k", args.k, 10, 50)?;
    let budget = args.token_budget.unwrap_or(4000);
    if !(100..=100_000).contains(&budget) {
        return Err(ToolError::invalid(format!(
            "'token_budget' must be between 100 and 100000, got {budget}"
        )));
    }
    let langs = languages(args.language.as_deref())?;
    let mode = match args.mode.unwrap_or_default() {
        SearchMode::Auto => Mode::Auto,
        SearchMode::Bm25 => Mode::Bm25,
        SearchMode::Hybrid => Mode::Hybrid,
    };
    let route = embedder.as_ref().map(|e| e.model());
    if mode == Mode::Hybrid && route.is_none() {
        return Err(ToolError::invalid(format!(
            "'mode' hybrid needs an embedding route, and none is configured: {EMBED_HINT}"
        )));
    }
    // Each repository's vectors from the configured route, if it has them.
    let wanted_route = route.clone();
    let prepared = blocking(move || {
        let mut out: Vec<(Arc<RepoIndex>, Option<Arc<Vectors>>)> = Vec::new();
        for index in indexes {
            let vectors = match (&wanted_route, mode) {
                (None, _) | (_, Mode::Bm25) => None,
                (Some(route), _) => index
                    .vectors()
                    .map_err(index_error)?
                    .filter(|v| v.model == *route && !v.is_empty()),
            };
            out.push((index, vectors));
        }
        Ok(out)
    })
    .await?;
    let unembedded: Vec<String> = prepared
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(index, _)| index.repo.display().to_string())
        .collect();
    let mut note = None;
    if let Some(route) = &route
        && mode != Mode::Bm25
        && !unembedded.is_empty()
    {
        let why = format!(
            "no vectors from {route} for {}; run `index` on it again to embed it",
            unembedded.join(", ")
        );
        if mode == Mode::Hybrid {
            return Err(ToolError::invalid(format!("'mode' hybrid: {why}")));
        }
        note = Some(why);
    }
    let query_vector = match &embedder {
        Some(embedder) if prepared.iter().any(|(_, v)| v.is_some()) => {
            match embedder.query(&args.query).await {
                Ok(vector) => Some(vector),
                Err(e) if mode == Mode::Hybrid => return Err(e.into()),
                Err(e) => {
                    note = Some(format!("dense retrieval failed, BM25 only: {e}"));
                    None
                }
            }
        }
        _ => None,
    };
    blocking(move || {
        let hybrid = query_vector.is_some();
        let mut all: Vec<(Arc<RepoIndex>, Ranked)> = Vec::new();
        for (index, vectors) in &prepared {
            let search = query::Search {
                query: &args.query,
                k,
                langs: langs.clone(),
                path: args.path.as_deref(),
            };
            let ranked = match (&query_vector, vectors) {
                (Some(query), Some(vectors)) => query::hybrid(index, &search, vectors, query),
                // Another repository is searched hybrid: rank scores merge.
                _ if hybrid => query::search(index, &search).map(query::rank_only),
                _ => query::search(index, &search).map(|hits| {
                    hits.into_iter()
                        .enumerate()
                        .map(|(rank, hit)| Ranked {
                            hit,
                            bm25: Some(rank + 1),
                            dense: None,
                        })
                        .collect()
                }),
            }
            .map_err(index_error)?;
            all.extend(ranked.into_iter().map(|r| (Arc::clone(index), r)));
        }
        all.sort_by(|a, b| b.1.hit.score.total_cmp(&a.1.hit.score));
        all.truncate(k);
        let mut results = Vec::new();
        let mut used = 0;
        let mut omitted = 0;
        let mut stale: HashMap<PathBuf, Staleness<'_>> = HashMap::new();
        for (index, ranked) in &all {
            let hit = &ranked.hit;
            let remaining = budget.saturating_sub(used);
            let text = masked(&hit.text);
            let cost = tokens_of(&text);
            let (text, truncated) = if cost <= remaining {
                (text, false)
            } else if remaining >= 50 && results.is_empty() || remaining >= 200 {
                let cut: String = text.chars().take(remaining * 4).collect();
                let cut = match cut.rfind('\n') {
                    Some(at) if at > 0 => cut[..at].to_owned(),
                    _ => cut,
                };
                (cut, true)
            } else {
                omitted += 1;
                continue;
            };
            used += tokens_of(&text);
            let is_stale = stale
                .entry(index.repo.clone())
                .or_insert_with(|| Staleness::new(index))
                .of(&hit.path);
            let found_by = [("bm25", ranked.bm25), ("dense", ranked.dense)]
                .into_iter()
                .filter(|(_, rank)| rank.is_some())
                .map(|(name, _)| name.to_owned())
                .collect();
            results.push(CodeUnit {
                repo: index.repo.display().to_string(),
                path: hit.path.clone(),
                language: hit.lang.clone(),
                kind: hit.kind.clone(),
                symbol: hit.symbol.clone(),
                signature: masked(&hit.signature),
                doc: masked(&hit.doc),
                start_line: hit.start_line,
                end_line: hit.end_line,
                score: hit.score,
                found_by,
                text,
                truncated,
                stale: is_stale,
            });
        }
        Ok(SearchResult {
            mode: if hybrid { "hybrid" } else { "bm25" }.to_owned(),
            note,
            results,
            tokens: used,
            omitted,
        })
    })
    .await
}

pub(super) async fn find_symbol(
    indexes: Vec<Arc<RepoIndex>>,
    args: FindSymbolArgs,
) -> Result<SymbolsResult, ToolError> {
    let name = args.name.trim().to_owned();
    if name.is_empty() || name.len() > 200 {
        return Err(ToolError::invalid("'name' must be 1 to 200 characters"));
    }
    let limit = bounded("limit", args.limit, 20, 200)?;
    let langs = languages(args.language.as_deref())?;
    blocking(move || {
        let mut symbols = Vec::new();
        for index in &indexes {
            let hits = query::find_symbol(
                index,
                &name,
                args.exact,
                args.kind.as_deref(),
                &langs,
                limit,
            )
            .map_err(index_error)?;
            symbols.extend(hits.iter().map(|h| (h.score, symbol(index, h))));
        }
        symbols.sort_by(|a, b| b.0.total_cmp(&a.0));
        symbols.truncate(limit);
        Ok(SymbolsResult {
            symbols: symbols.into_iter().map(|(_, s)| s).collect(),
        })
    })
    .await
}

pub(super) async fn references(
    indexes: Vec<Arc<RepoIndex>>,
    roots: Roots,
    args: ReferencesArgs,
) -> Result<ReferencesResult, ToolError> {
    let name = args.name.trim().to_owned();
    if name.is_empty() || name.len() > 200 || name.contains(char::is_whitespace) {
        return Err(ToolError::invalid(
            "'name' must be one identifier (1 to 200 characters, no spaces)",
        ));
    }
    let limit = bounded("limit", args.limit, 100, 1000)?;
    blocking(move || {
        let mut references = Vec::new();
        let mut more = false;
        for index in &indexes {
            let (found, extra) = query::references(index, &name, args.path.as_deref(), limit)
                .map_err(index_error)?;
            more |= extra;
            let mut staleness = Staleness::new(index);
            let mut lines: HashMap<String, Option<Vec<String>>> = HashMap::new();
            for occurrence in found {
                let stale = staleness.of(&occurrence.path);
                let text = if stale {
                    None
                } else {
                    lines
                        .entry(occurrence.path.clone())
                        .or_insert_with(|| {
                            read_text(&roots, &index.repo.join(&occurrence.path))
                                .ok()
                                .map(|t| t.lines().map(str::to_owned).collect())
                        })
                        .as_ref()
                        .and_then(|l| l.get(occurrence.line as usize - 1))
                        .map(|l| masked(l))
                };
                references.push(Reference {
                    repo: index.repo.display().to_string(),
                    path: occurrence.path,
                    line: occurrence.line,
                    in_symbol: occurrence.in_symbol,
                    definition: occurrence.definition,
                    text,
                    stale,
                });
            }
        }
        more |= references.len() > limit;
        references.truncate(limit);
        Ok(ReferencesResult {
            name,
            references,
            more,
        })
    })
    .await
}

/// Which index holds `path` (relative, or absolute inside a repository).
fn locate<'a>(
    indexes: &'a [Arc<RepoIndex>],
    path: &str,
) -> Result<(&'a Arc<RepoIndex>, String), ToolError> {
    for index in indexes {
        let relative = match std::path::Path::new(path).strip_prefix(&index.repo) {
            Ok(rel) => rel.to_string_lossy().into_owned(),
            Err(_) => path.trim_start_matches("./").to_owned(),
        };
        if index.file(&relative).map_err(index_error)?.is_some() {
            return Ok((index, relative));
        }
    }
    Err(ToolError::invalid(format!(
        "'path' {path:?} is not an indexed file; give it relative to its repository, as search results do (and re-run `index` if it is new)"
    )))
}

pub(super) async fn outline(
    indexes: Vec<Arc<RepoIndex>>,
    args: OutlineArgs,
) -> Result<OutlineResult, ToolError> {
    blocking(move || {
        let (index, path) = locate(&indexes, &args.path)?;
        let hits = query::outline(index, &path).map_err(index_error)?;
        let record = index.file(&path).map_err(index_error)?;
        let stale = record
            .as_ref()
            .is_none_or(|r| index::is_stale(&index.repo, r));
        Ok(OutlineResult {
            repo: index.repo.display().to_string(),
            language: record.map(|r| r.lang).unwrap_or_default(),
            symbols: hits.iter().map(|h| symbol(index, h)).collect(),
            path,
            stale,
        })
    })
    .await
}

/// Reads a file under the roots, refusing secret-bearing ones.
fn read_text(roots: &Roots, path: &std::path::Path) -> Result<String, ToolError> {
    let shown = path.display().to_string();
    let allowed = roots.check_read(&shown)?;
    let relative = allowed
        .as_path()
        .strip_prefix(allowed.root())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name_check = walk::skip_by_name(&relative).or_else(|| {
        let name = allowed
            .as_path()
            .file_name()?
            .to_string_lossy()
            .into_owned();
        walk::skip_by_name(&name)
    });
    if name_check == Some(Skip::Secret) {
        return Err(ToolError::invalid(format!(
            "'{shown}' is a secret-bearing file (environment file, key or credential store); coderag never reads those"
        )));
    }
    let mut bytes = Vec::new();
    allowed
        .open_read()
        .and_then(|f| f.take(64 << 20).read_to_end(&mut bytes))
        .map_err(|e| ToolError::invalid(format!("cannot read '{shown}': {e}")))?;
    match walk::accept_content(bytes) {
        Ok(text) => Ok(text),
        Err(Skip::Secret) => Err(ToolError::invalid(format!(
            "'{shown}' holds a private key; coderag never returns it"
        ))),
        Err(Skip::Binary) => Err(ToolError::invalid(format!("'{shown}' is not a text file"))),
        Err(_) => Err(ToolError::invalid(format!(
            "'{shown}' looks generated or minified; it is not read"
        ))),
    }
}

pub(super) async fn read(
    roots: Roots,
    repos: Vec<PathBuf>,
    max_file_bytes: u64,
    args: ReadArgs,
) -> Result<ReadResult, ToolError> {
    let start = args.start_line.unwrap_or(1).max(1);
    let end = args.end_line.unwrap_or(start.saturating_add(399));
    if end < start {
        return Err(ToolError::invalid(format!(
            "'end_line' {end} is before 'start_line' {start}"
        )));
    }
    if end - start >= MAX_READ_LINES {
        return Err(ToolError::invalid(format!(
            "at most {MAX_READ_LINES} lines per call; narrow 'start_line'..'end_line'"
        )));
    }
    blocking(move || {
        let given = std::path::Path::new(&args.path);
        let candidate = if given.is_absolute() {
            given.to_path_buf()
        } else {
            repos
                .iter()
                .map(|r| r.join(given))
                .find(|p| p.is_file())
                .unwrap_or_else(|| given.to_path_buf())
        };
        let text = read_text(&roots, &candidate)?;
        if text.len() as u64 > max_file_bytes.max(1 << 20) * 4 {
            return Err(ToolError::invalid(format!(
                "'{}' is too large to read",
                args.path
            )));
        }
        let lines: Vec<&str> = text.lines().collect();
        let total = lines.len() as u32;
        if start > total.max(1) {
            return Err(ToolError::invalid(format!(
                "'start_line' {start} is past the end ({total} lines)"
            )));
        }
        let last = end.min(total);
        let slice = lines
            .get(start as usize - 1..last as usize)
            .unwrap_or_default()
            .join("\n");
        let (text, masked) = mask(&slice);
        Ok(ReadResult {
            path: candidate
                .canonicalize()
                .unwrap_or(candidate)
                .display()
                .to_string(),
            language: Lang::detect(&args.path).name().to_owned(),
            start_line: start,
            end_line: last,
            total_lines: total,
            text,
            masked,
        })
    })
    .await
}

pub(super) async fn status(
    indexes: Vec<Arc<RepoIndex>>,
    embedding_route: Option<EmbeddingRoute>,
) -> Result<StatusResult, ToolError> {
    blocking(move || {
        let mut repos = Vec::new();
        for index in &indexes {
            let files = index.files().map_err(index_error)?;
            let mut languages: BTreeMap<String, usize> = BTreeMap::new();
            let mut stale = Vec::new();
            for record in files.values() {
                *languages.entry(record.lang.clone()).or_default() += 1;
                if index::is_stale(&index.repo, record) {
                    stale.push(record.path.clone());
                }
            }
            stale.sort();
            let vectors = index.vectors().map_err(index_error)?;
            repos.push(RepoStatus {
                repo: index.repo.display().to_string(),
                files: files.len(),
                chunks: index.chunk_count().map_err(index_error)?,
                languages,
                stale_files: stale.len(),
                stale: stale.into_iter().take(20).collect(),
                index_bytes: index.size_bytes(),
                vectors: vectors.as_ref().map_or(0, |v| v.len()),
                embedding_model: vectors.map(|v| v.model.clone()),
                format: index::FORMAT,
            });
        }
        Ok(StatusResult {
            repos,
            embedding_route,
        })
    })
    .await
}

pub(super) async fn related(
    indexes: Vec<Arc<RepoIndex>>,
    args: RelatedArgs,
) -> Result<RelatedResult, ToolError> {
    let target = args.target.trim().to_owned();
    if target.is_empty() || target.len() > 1000 {
        return Err(ToolError::invalid("'target' must be 1 to 1000 characters"));
    }
    let limit = bounded("limit", args.limit, 20, 100)?;
    blocking(move || {
        let is_file =
            target.contains('/') || target.contains('.') && locate(&indexes, &target).is_ok();
        let mut out = RelatedResult {
            target: target.clone(),
            target_kind: if is_file { "file" } else { "symbol" }.to_owned(),
            defined: Vec::new(),
            uses: Vec::new(),
            used_by: Vec::new(),
        };
        let scoped: Vec<(&Arc<RepoIndex>, Vec<Hit>)> = if is_file {
            let (index, path) = locate(&indexes, &target)?;
            vec![(index, query::outline(index, &path).map_err(index_error)?)]
        } else {
            let mut found = Vec::new();
            for index in &indexes {
                let hits =
                    query::find_symbol(index, &target, true, None, &[], 20).map_err(index_error)?;
                found.push((index, hits));
            }
            found
        };
        for (index, targets) in scoped {
            if targets.is_empty() {
                continue;
            }
            let (uses, used_by) = query::related(index, &targets, limit).map_err(index_error)?;
            let repo = index.repo.display().to_string();
            out.defined.extend(targets.iter().map(|h| symbol(index, h)));
            let convert = |r: query::Relation| Related {
                repo: repo.clone(),
                symbol: r.symbol,
                kind: r.kind,
                path: r.path,
                line: r.line,
                count: r.count,
            };
            out.uses.extend(uses.into_iter().map(convert));
            out.used_by.extend(used_by.into_iter().map(convert));
        }
        if out.defined.is_empty() {
            return Err(ToolError::invalid(format!(
                "'target' {target:?} is neither a defined symbol nor an indexed file"
            )));
        }
        out.uses.truncate(limit);
        out.used_by.truncate(limit);
        Ok(out)
    })
    .await
}

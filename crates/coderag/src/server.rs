//! The MCP edge of coderag: which repositories a call may touch (roots),
//! the tools, progress and cancellation of `index`, masking of what leaves.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use ffmcp_core::{Json, ToolError, progress::Progress, roots::Roots};
use rmcp::{
    RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{ServerCapabilities, ServerConfig},
    service::RequestContext,
    tool, tool_handler, tool_router,
};

mod prompts;
mod tools;
pub mod types;

use crate::{
    dense::{Embedder, ModelEmbedder},
    index::{self, IndexError, RepoIndex, Stage},
    lang::Lang,
};
use types::*;

/// Setting: where indexes are kept.
pub const INDEX_DIR_ENV: &str = "FF_CODERAG_INDEX_DIR";
/// Setting: largest file indexed, in bytes.
pub const MAX_FILE_BYTES_ENV: &str = "FF_CODERAG_MAX_FILE_BYTES";
/// Default of [`MAX_FILE_BYTES_ENV`].
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 20;
/// Setting: `0`/`false` turns off watching indexed repositories for changes.
pub const WATCH_ENV: &str = "FF_CODERAG_WATCH";

/// What every session shares (built once per process by [`crate::spec`]).
pub(crate) struct Shared {
    roots: Result<Roots, String>,
    /// The directory holding every repository's index.
    base: PathBuf,
    max_file_bytes: u64,
    /// Open indexes by repository.
    open: Mutex<HashMap<PathBuf, Arc<RepoIndex>>>,
    /// Whether indexed repositories are watched ([`WATCH_ENV`]).
    watch: bool,
    /// Running watchers by repository.
    watches: Mutex<HashMap<PathBuf, crate::watch::Watch>>,
    /// The process's model router: its embedding route (`FF_EMBED_MODEL`)
    /// makes the vectors of dense retrieval.
    models: Arc<ffmcp_core::model::Router>,
    tools: std::sync::OnceLock<Arc<ToolRouter<CodeRag>>>,
}

impl Shared {
    pub(crate) fn new(
        config: &ffmcp_core::Config,
        models: Arc<ffmcp_core::model::Router>,
    ) -> Arc<Self> {
        let base = match config.get(INDEX_DIR_ENV).filter(|v| !v.trim().is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => ffmcp_core::store::default_path(config)
                .parent()
                .map_or_else(std::env::temp_dir, Path::to_path_buf)
                .join("coderag"),
        };
        let max_file_bytes = config
            .get(MAX_FILE_BYTES_ENV)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_MAX_FILE_BYTES);
        let watch = !matches!(
            config
                .get(WATCH_ENV)
                .map(|v| v.trim().to_ascii_lowercase())
                .as_deref(),
            Some("0" | "false" | "no" | "off")
        );
        Arc::new(Self {
            roots: Roots::from_config(config).map_err(|e| e.to_string()),
            base,
            max_file_bytes,
            open: Mutex::new(HashMap::new()),
            watch,
            watches: Mutex::new(HashMap::new()),
            models,
            tools: std::sync::OnceLock::new(),
        })
    }

    /// The open index of `repo`, opening (or creating) it on first use.
    fn open(&self, repo: &Path) -> Result<Arc<RepoIndex>, ToolError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(index) = open.get(repo) {
            index.refresh();
            return Ok(Arc::clone(index));
        }
        let dir = index::index_dir(&self.base, repo);
        let index = Arc::new(RepoIndex::open(&dir, repo).map_err(index_error)?);
        open.insert(repo.to_path_buf(), Arc::clone(&index));
        Ok(index)
    }

    /// The embedder of the configured embedding route, if there is one.
    /// Call it on the runtime: its blocking calls run on this runtime.
    fn embedder(&self) -> Option<Arc<ModelEmbedder>> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        ModelEmbedder::new(Arc::clone(&self.models), handle).map(Arc::new)
    }

    /// Starts watching `index`'s repository (once per process) so changes
    /// are indexed while the server runs; see `crate::watch`.
    fn watch(&self, index: &Arc<RepoIndex>, embedder: Option<Arc<ModelEmbedder>>) {
        if !self.watch {
            return;
        }
        let mut watches = self.watches.lock().unwrap_or_else(|p| p.into_inner());
        if watches.contains_key(&index.repo) {
            return;
        }
        let embedder = embedder.map(|e| e as Arc<dyn Embedder>);
        match crate::watch::start(Arc::clone(index), self.max_file_bytes, embedder, |_| {}) {
            Ok(watch) => {
                watches.insert(index.repo.clone(), watch);
            }
            Err(e) => tracing::warn!(
                repo = %index.repo.display(),
                "not watching for changes ({e}); call `index` again after editing"
            ),
        }
    }
}

/// The coderag server.
#[derive(Clone)]
pub struct CodeRag {
    /// Shared by every session: cloning it per session (or per stateless
    /// request) would copy every tool definition.
    tool_router: Arc<ToolRouter<Self>>,
    shared: Arc<Shared>,
}

impl CodeRag {
    pub(crate) fn with_shared(shared: Arc<Shared>) -> Self {
        Self {
            tool_router: shared
                .tools
                .get_or_init(|| Arc::new(ffmcp_core::schema::standard_schemas(Self::tool_router())))
                .clone(),
            shared,
        }
    }

    /// The roots of this call: configured, narrowed by the client's.
    async fn roots(&self, ctx: &RequestContext<RoleServer>) -> Result<Roots, ToolError> {
        let configured = self
            .shared
            .roots
            .as_ref()
            .map_err(|e| ToolError::invalid(format!("FF_ROOTS is invalid: {e}")))?;
        Ok(configured.for_client(&ctx.peer).await)
    }

    /// The indexes a call reads: `repo` when given (it must be indexed),
    /// else every indexed repository under the roots.
    async fn indexes(
        &self,
        repo: Option<&str>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<Vec<Arc<RepoIndex>>, ToolError> {
        let roots = self.roots(ctx).await?;
        let shared = Arc::clone(&self.shared);
        let repo = repo.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let indexed = index::list(&shared.base);
            let wanted: Vec<PathBuf> = match repo {
                Some(repo) => {
                    let dir = check_dir(&roots, &repo)?;
                    if !indexed.iter().any(|(r, _)| *r == dir) {
                        return Err(ToolError::invalid(format!(
                            "repository '{repo}' is not indexed yet; call `index` with path '{repo}' first"
                        )));
                    }
                    vec![dir]
                }
                None => {
                    let under: Vec<PathBuf> = indexed
                        .into_iter()
                        .map(|(r, _)| r)
                        .filter(|r| roots.iter().any(|root| r.starts_with(root)))
                        .collect();
                    if under.is_empty() {
                        return Err(ToolError::invalid(if roots.is_empty() {
                            "no filesystem roots are configured; set FF_ROOTS to the directories coderag may read"
                                .to_owned()
                        } else {
                            "nothing under the allowed roots is indexed yet; call `index` with a repository path first"
                                .to_owned()
                        }));
                    }
                    under
                }
            };
            wanted.iter().map(|r| shared.open(r)).collect()
        })
        .await
        .map_err(|e| ToolError::internal(format!("opening the index failed: {e}")))?
    }
}

/// An existing directory under the roots, canonical. The same refusals
/// as `core::roots` for files: NUL, `..`, outside (one message).
pub(crate) fn check_dir(roots: &Roots, path: &str) -> Result<PathBuf, ToolError> {
    let outside = || {
        ToolError::invalid(format!(
            "path '{path}' is outside the allowed roots ({roots})"
        ))
    };
    if path.contains('\0') {
        return Err(ToolError::invalid(format!(
            "path '{}' contains a NUL byte",
            path.replace('\0', "\\0")
        )));
    }
    if path.trim().is_empty() {
        return Err(ToolError::invalid("path is empty"));
    }
    let Some(first) = roots.iter().next() else {
        return Err(ToolError::invalid(
            "no filesystem roots are configured, so local paths cannot be used; set FF_ROOTS to the directories coderag may read",
        ));
    };
    let given = Path::new(path);
    if given
        .components()
        .any(|c| c == std::path::Component::ParentDir)
    {
        return Err(ToolError::invalid(format!(
            "path '{path}' contains '..'; give a path inside the allowed roots without parent references"
        )));
    }
    let candidate = if given.is_absolute() {
        given.to_path_buf()
    } else {
        first.join(given)
    };
    if !roots.iter().any(|root| candidate.starts_with(root)) {
        return Err(outside());
    }
    let resolved = candidate.canonicalize().map_err(|_| {
        ToolError::invalid(format!(
            "path '{path}' does not exist inside the allowed roots"
        ))
    })?;
    if !roots.iter().any(|root| resolved.starts_with(root)) {
        return Err(outside());
    }
    if !resolved.is_dir() {
        return Err(ToolError::invalid(format!(
            "path '{path}' is not a directory; give the repository's directory"
        )));
    }
    Ok(resolved)
}

pub(crate) fn index_error(err: IndexError) -> ToolError {
    match err {
        IndexError::Busy => ToolError::invalid(err.to_string()),
        IndexError::Cancelled => ToolError::invalid("cancelled by the client"),
        other => ToolError::internal(other.to_string()),
    }
}

/// Parses the `language` argument.
pub(crate) fn languages(given: Option<&[String]>) -> Result<Vec<Lang>, ToolError> {
    given
        .unwrap_or_default()
        .iter()
        .map(|name| {
            Lang::from_name(name).ok_or_else(|| {
                ToolError::invalid(format!(
                    "'language' {name:?} is not one of: {}",
                    crate::lang::ALL.map(Lang::name).join(", ")
                ))
            })
        })
        .collect()
}

/// Checks a count argument against its range.
pub(crate) fn bounded(
    name: &str,
    value: Option<usize>,
    default: usize,
    max: usize,
) -> Result<usize, ToolError> {
    let value = value.unwrap_or(default);
    if !(1..=max).contains(&value) {
        return Err(ToolError::invalid(format!(
            "'{name}' must be between 1 and {max}, got {value}"
        )));
    }
    Ok(value)
}

#[tool_router]
impl CodeRag {
    /// Indexes a repository (a directory under the allowed roots) for search: walks it honouring
    /// .gitignore/.ignore, skips hidden, vendored, generated, binary, oversized and secret-bearing
    /// files (.env*, private keys, credential stores), parses Rust, Python, JavaScript,
    /// TypeScript/TSX, Go, Java, C and C++ into symbol-level chunks (other text by paragraphs).
    /// Incremental: only files whose content changed are parsed again; an interrupted run leaves
    /// the previous index intact. Reports progress; can be cancelled. Code is never executed.
    #[tool(
        title = "Index a repository",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn index(
        &self,
        Parameters(args): Parameters<IndexArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<IndexResult>, ToolError> {
        let roots = self.roots(&ctx).await?;
        let repo = check_dir(&roots, &args.path)?;
        let shared = Arc::clone(&self.shared);
        let cancel = Arc::new(AtomicBool::new(false));
        let watcher = {
            let ct = ctx.ct.clone();
            let flag = Arc::clone(&cancel);
            tokio::spawn(async move {
                ct.cancelled().await;
                flag.store(true, Ordering::Relaxed);
            })
        };
        let reporter = Progress::of(&ctx);
        let progress = reporter.clone();
        let flag = Arc::clone(&cancel);
        let embedder = self.shared.embedder();
        let result = tokio::task::spawn_blocking(move || {
            let index = shared.open(&repo)?;
            // Progress only grows: embedding continues after the files.
            let files = std::sync::atomic::AtomicU64::new(0);
            let report_progress = move |stage: Stage, done: u64, total: u64| {
                let Some(progress) = &progress else { return };
                match stage {
                    Stage::Files => {
                        files.store(total, Ordering::Relaxed);
                        progress.report(done, Some(total), Some(format!("{done}/{total} files")));
                    }
                    Stage::Embeddings => {
                        let base = files.load(Ordering::Relaxed);
                        progress.report(
                            base + done,
                            Some(base + total),
                            Some(format!("{done}/{total} chunks embedded")),
                        );
                    }
                }
            };
            let report = index
                .update(index::UpdateOptions {
                    max_file_bytes: shared.max_file_bytes,
                    cancel: &flag,
                    progress: &report_progress,
                    embedder: embedder.as_deref().map(|e| e as &dyn Embedder),
                })
                .map_err(index_error)?;
            shared.watch(&index, embedder);
            let files_total = index.file_count().map_err(index_error)?;
            let mut report = report;
            report.vectors = index.vectors().map_err(index_error)?.map_or(0, |v| v.len());
            Ok::<_, ToolError>((repo, report, files_total))
        })
        .await;
        watcher.abort();
        if let Some(reporter) = reporter {
            reporter.finish().await;
        }
        let (repo, report, files_total) = result
            .map_err(|e| ToolError::internal(format!("indexing stopped unexpectedly: {e}")))??;
        Ok(Json(IndexResult {
            repo: repo.display().to_string(),
            files_seen: report.files_seen,
            indexed: report.indexed,
            unchanged: report.unchanged,
            removed: report.removed,
            skipped: report
                .skipped
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            chunks: report.chunks,
            bytes: report.bytes,
            embedded: report.embedded,
            vectors: report.vectors,
            embedding_error: report.embed_error,
            elapsed_ms: report.elapsed_ms,
            files_total,
        }))
    }

    /// Searches indexed code (BM25 over code-aware tokens: identifiers split on camelCase and
    /// snake_case and kept whole, doc comments included; with an embedding route configured,
    /// also dense retrieval fused with BM25 by reciprocal rank) and returns whole code units —
    /// functions, methods, classes — with path, line span, symbol path, score, which retriever
    /// found each and a stale flag, trimmed to a token budget. Filter by language and path
    /// prefix. Credential-like tokens are masked.
    #[tool(
        title = "Search code",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn search(
        &self,
        Parameters(args): Parameters<SearchArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<SearchResult>, ToolError> {
        let indexes = self.indexes(args.repo.as_deref(), &ctx).await?;
        tools::search(indexes, args, self.shared.embedder())
            .await
            .map(Json)
    }

    /// Finds definitions by name: exact (case-sensitive, then any case) or, when nothing matches
    /// exactly and `exact` is false, similar names (typos, name parts). Filter by kind and language.
    #[tool(
        title = "Find a symbol",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn find_symbol(
        &self,
        Parameters(args): Parameters<FindSymbolArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<SymbolsResult>, ToolError> {
        let indexes = self.indexes(args.repo.as_deref(), &ctx).await?;
        tools::find_symbol(indexes, args).await.map(Json)
    }

    /// Lists where an identifier occurs (whole identifier, case-sensitive, from the syntax tree:
    /// comments and strings do not count), each with its enclosing definition, its line and
    /// whether it is the definition itself.
    #[tool(
        title = "Find references",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn references(
        &self,
        Parameters(args): Parameters<ReferencesArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ReferencesResult>, ToolError> {
        let roots = self.roots(&ctx).await?;
        let indexes = self.indexes(args.repo.as_deref(), &ctx).await?;
        tools::references(indexes, roots, args).await.map(Json)
    }

    /// Lists the definitions of one indexed file (functions, classes, methods… with their
    /// scope, signature and line span), containers before what they contain.
    #[tool(
        title = "Outline a file",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn outline(
        &self,
        Parameters(args): Parameters<OutlineArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<OutlineResult>, ToolError> {
        let indexes = self.indexes(args.repo.as_deref(), &ctx).await?;
        tools::outline(indexes, args).await.map(Json)
    }

    /// Reads lines of a file under the allowed roots (at most 2000 lines a call). Secret-bearing
    /// files (.env*, private keys, credential stores) are refused; credential-like tokens are masked.
    #[tool(
        title = "Read lines of a file",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn read(
        &self,
        Parameters(args): Parameters<ReadArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ReadResult>, ToolError> {
        let roots = self.roots(&ctx).await?;
        let indexed: Vec<PathBuf> = match &args.repo {
            Some(repo) => vec![check_dir(&roots, repo)?],
            None => index::list(&self.shared.base)
                .into_iter()
                .map(|(r, _)| r)
                .filter(|r| roots.iter().any(|root| r.starts_with(root)))
                .collect(),
        };
        tools::read(roots, indexed, self.shared.max_file_bytes, args)
            .await
            .map(Json)
    }

    /// Reports what is indexed: files, chunks, files per language, files changed since
    /// indexing (stale), index size on disk, vectors; and the embedding route configured now
    /// (FF_EMBED_MODEL), or null when there is none.
    #[tool(
        title = "Index status",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn status(
        &self,
        Parameters(args): Parameters<StatusArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<StatusResult>, ToolError> {
        let indexes = match self.indexes(args.repo.as_deref(), &ctx).await {
            Ok(indexes) => indexes,
            Err(_) if args.repo.is_none() => Vec::new(),
            Err(e) => return Err(e),
        };
        let embedding_route = self.shared.models.embed_status().map(|r| EmbeddingRoute {
            route: r.route,
            health: serde_json::to_value(r.health)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            setup_missing: r.setup_missing,
        });
        tools::status(indexes, embedding_route).await.map(Json)
    }

    /// Shows what relates to a symbol or a file: the definitions it uses (defined elsewhere in
    /// the index) and the definitions that use it, each with how many occurrences link them.
    #[tool(
        title = "Related code",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn related(
        &self,
        Parameters(args): Parameters<RelatedArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<RelatedResult>, ToolError> {
        let indexes = self.indexes(args.repo.as_deref(), &ctx).await?;
        tools::related(indexes, args).await.map(Json)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for CodeRag {
    async fn list_prompts(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListPromptsResult, rmcp::ErrorData> {
        Ok(prompts::CATALOG.list())
    }

    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, rmcp::ErrorData> {
        prompts::get(&request)
    }

    async fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, rmcp::ErrorData> {
        prompts::complete(&request)
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_completions()
                .enable_prompts()
                .enable_tools()
                .build(),
        )
        .with_server_info(ffmcp_core::server::server_info(
            "ffmcp-coderag",
            env!("CARGO_PKG_VERSION"),
            crate::TITLE,
        ))
        .with_instructions(
            "Code search over local repositories, offline. Call `index` with a repository \
                 directory under the allowed roots first (incremental: call it again after \
                 changes), then `search` (whole functions/classes for a query, within a token \
                 budget), `find_symbol`, `references`, `outline`, `related`, `read` (lines of a \
                 file) and `status`. Paths in results are relative to their repository.",
        )
    }
}

impl ffmcp_core::Tools for CodeRag {
    fn tools(&self) -> &ToolRouter<Self> {
        &self.tool_router
    }

    /// Indexing a large repository takes long: it runs as an MCP task.
    fn task_tools(&self) -> &'static [&'static str] {
        &["index"]
    }
}

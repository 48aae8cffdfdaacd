//! `cargo xtask bench coderag [DIR]`: retrieval quality and speed of
//! coderag's BM25 against a grep baseline done well, on real code nobody on
//! the project wrote, side by side in one run, on two corpora:
//! * Rust: the crate sources under the cargo registry (or `DIR`), one
//!   version of each crate (the newest): the registry keeps every version a
//!   build ever fetched, and two copies of one function make a right answer
//!   indistinguishable from a wrong one;
//! * Python: the system's standard library (the newest `/usr/lib/python3.N`,
//!   or `--python DIR`; `--no-python` skips it), with docstrings.
//!
//! Each corpus has its own index and its own queries.
//!
//! Queries: for each documented function or method, the first sentence of
//! its doc comment (Rust) or docstring (Python) with the words of the
//! function's own name removed; the target is that function. A query stands
//! only if it has one right answer and says something: dropped are those
//! whose first sentence (lowercased, whitespace collapsed, final period
//! dropped) is the first sentence of more than one function in the corpus
//! (`Returns the length`, one per type, or the same binding per platform:
//! no retriever can tell which is meant), those whose query text after the
//! name's words are removed is shared with another function for the same
//! reason, and those with fewer than three words left. Every k-th of the rest
//! is kept, up to `--queries`. The filter only looks at the corpus's doc
//! text, never at either retriever's results, so it favours neither.
//!
//! Baseline: ripgrep for the query words (case-insensitive, whole words,
//! only the corpus's language), files ranked by match count; in each of the
//! top ten files the function (coderag's chunker gives the spans: for Rust
//! its doc comment and body, for Python the `def` block with its docstring)
//! holding the most distinct query words is the answer. coderag: `search`
//! with k = 10, in process.
//!
//! Hybrid: when `FF_EMBED_MODEL` names an embedding route (with its key
//! and base-URL variables, as for the server), the retrieval indexes are
//! also embedded through it and a third row per corpus shows BM25 and dense
//! retrieval fused by reciprocal rank; its query times include the round
//! trip that embeds the query. Without the setting the rows are skipped and
//! the output says so. Embedding the corpus costs what the provider charges
//! for some tens of thousands of chunks; a local OpenAI-compatible server
//! (`openai-compat:http://127.0.0.1:11434/v1#nomic-embed-text`) costs nothing.
//!
//! Scale: a second index over a large corpus (default: every crate version
//! under the registry, `/usr/include`, the system's Python and Perl
//! libraries; about 50,000 files on a Debian machine with a built
//! workspace): index throughput (files/s, MB/s), peak RSS, index size,
//! query p50/p99 of the Rust queries on it, and the update time after 10
//! files change: given their paths, as the watcher updates, and walking the
//! whole tree, as the `index` tool does; and tree-sitter's parse alone over
//! the same files on the indexer's threads, the ceiling on index throughput
//! while every file is parsed.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use ffmcp_coderag::dense::Embedder as _;
use ffmcp_coderag::{
    chunk::{self, Chunk, chunk_file},
    dense::ModelEmbedder,
    index::{RepoIndex, Stage, UpdateOptions, UpdateReport, index_dir},
    lang::Lang,
    query::{self, Search},
    tokens, walk,
};
use ffmcp_core::model::{Router, RouterConfig};

/// One query and its answer.
struct Case {
    query: String,
    path: String,
    start_line: u32,
}

/// One retrieval corpus: a hard-linked copy of its sources, its language,
/// its index and its queries.
struct Corpus {
    title: String,
    lang: Lang,
    dir: PathBuf,
    index: RepoIndex,
    report: UpdateReport,
    index_time: Duration,
    cases: Vec<Case>,
    /// Documented functions and how many queries were dropped, by reason.
    funnel: Funnel,
    /// Keeps the copy and the index alive as long as the corpus.
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// How the query set was narrowed.
#[derive(Default)]
struct Funnel {
    documented: usize,
    ambiguous: usize,
    short: usize,
}

/// One retriever's ranks of the target and query times.
struct Row {
    retriever: String,
    ranks: Vec<Option<usize>>,
    times: Vec<Duration>,
}

/// Options of `bench coderag`.
#[derive(clap::Args)]
pub struct Options {
    /// The code to index (default: the newest version of each crate under ~/.cargo/registry/src).
    pub dir: Option<PathBuf>,
    /// Queries at most, per corpus.
    #[arg(long, default_value_t = 300)]
    pub queries: usize,
    /// The Python corpus (default: the newest /usr/lib/python3.N).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Skip the Python corpus.
    #[arg(long)]
    pub no_python: bool,
    /// Directories of the scale corpus (default: see the module docs).
    #[arg(long = "scale")]
    pub scale: Vec<PathBuf>,
    /// Skip the scale part.
    #[arg(long)]
    pub no_scale: bool,
}

/// The default scale corpus: those of these directories that exist.
fn scale_dirs() -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs = vec![default_dir()?];
    for dir in [
        "/usr/include",
        "/usr/lib/python3",
        "/usr/lib/python3.11",
        "/usr/lib/python3.12",
        "/usr/lib/python3.13",
        "/usr/share/perl",
        "/usr/share/perl5",
    ] {
        if Path::new(dir).is_dir() {
            dirs.push(PathBuf::from(dir));
        }
    }
    Ok(dirs)
}

fn default_dir() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    let src = Path::new(&home).join(".cargo/registry/src");
    std::fs::read_dir(&src)
        .with_context(|| format!("reading {}", src.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .max_by_key(|p| std::fs::read_dir(p).map(|d| d.count()).unwrap_or(0))
        .context("no crate sources under ~/.cargo/registry/src; run a build first")
}

/// The newest `/usr/lib/python3.N` there is.
fn python_stdlib() -> Option<PathBuf> {
    std::fs::read_dir("/usr/lib")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let minor: u32 = name.strip_prefix("python3.")?.parse().ok()?;
            e.path().join("os.py").is_file().then(|| (minor, e.path()))
        })
        .max()
        .map(|(_, dir)| dir)
}

/// Runs the benchmark.
pub fn run(options: &Options) -> anyhow::Result<()> {
    if Command::new("rg").arg("--version").output().is_err() {
        bail!("ripgrep (rg) is needed for the baseline: apt-get install ripgrep");
    }
    let mut corpora = Vec::new();
    // A hard-linked copy: the 10 files the update bench changes are
    // rewritten as new files there, never in the sources themselves.
    let copy = tempfile::tempdir()?;
    let rust_title = match &options.dir {
        Some(dir) => {
            link_tree(&dir.canonicalize()?, copy.path())?;
            dir.display().to_string()
        }
        None => {
            let crates = newest_crates(&default_dir()?)?;
            for (name, dir) in &crates {
                link_tree(dir, &copy.path().join(name))?;
            }
            format!(
                "Rust: {} crates of the cargo registry, one version each",
                crates.len()
            )
        }
    };
    corpora.push(corpus(rust_title, Lang::Rust, copy, options.queries)?);
    let python = match (&options.python, options.no_python) {
        (_, true) => None,
        (Some(dir), false) => Some(dir.clone()),
        (None, false) => python_stdlib(),
    };
    match python {
        Some(dir) => {
            let copy = tempfile::tempdir()?;
            link_tree(&dir.canonicalize()?, copy.path())?;
            let title = format!("Python: {} (standard library)", dir.display());
            corpora.push(corpus(title, Lang::Python, copy, options.queries)?);
        }
        None if !options.no_python => {
            eprintln!("no /usr/lib/python3.N with os.py: the Python corpus is skipped");
        }
        None => {}
    }

    let dense = dense_from_env()?;
    let mut tables = Vec::new();
    for corpus in &corpora {
        let mut rows = vec![coderag_row(corpus)?];
        if let Some(dense) = &dense {
            rows.push(hybrid_row(dense, corpus)?);
        }
        rows.push(grep_row(corpus)?);
        tables.push(rows);
    }

    println!("retrieval\n");
    for corpus in &corpora {
        let f = &corpus.funnel;
        println!(
            "- {}: {} files indexed, {:.1} MB; {} documented functions, {} dropped as not having one right answer, {} with fewer than 3 words; {} queries",
            corpus.title,
            corpus.report.indexed,
            corpus.report.bytes as f64 / 1e6,
            f.documented,
            f.ambiguous,
            f.short,
            corpus.cases.len()
        );
    }
    println!("\n| corpus | retriever | MRR@10 | recall@10 | query p50 | query p99 |");
    println!("|---|---|---:|---:|---:|---:|");
    for (corpus, rows) in corpora.iter().zip(&tables) {
        let name = corpus.lang.name();
        for row in rows {
            let (mrr, recall) = metrics(&row.ranks);
            println!(
                "| {name} | {} | {mrr:.3} | {recall:.3} | {} | {} |",
                row.retriever,
                ms(percentile(&row.times, 50)),
                ms(percentile(&row.times, 99))
            );
        }
    }
    if dense.is_none() {
        println!(
            "\n(hybrid skipped: FF_EMBED_MODEL is not set; set it to an embedding route to add the rows)"
        );
    } else {
        println!("\n(hybrid query times include embedding the query through the route)");
    }
    println!();
    for (corpus, rows) in corpora.iter().zip(&tables) {
        let mrr = |row: Option<&Row>| row.map_or(0.0, |r| metrics(&r.ranks).0);
        let (c, g) = (mrr(rows.first()), mrr(rows.last()));
        println!(
            "MRR@10 on {}: coderag BM25 is {:.2}x the baseline",
            corpus.lang.name(),
            if g > 0.0 { c / g } else { f64::INFINITY }
        );
    }
    println!();
    for corpus in &corpora {
        print_index(
            &format!("retrieval corpus, {}", corpus.title),
            &corpus.index,
            &corpus.report,
            corpus.index_time,
            &corpus.cases,
            None,
        )?;
    }
    let cases = corpora
        .into_iter()
        .next()
        .map(|c| c.cases)
        .unwrap_or_default();
    if options.no_scale {
        return Ok(());
    }

    let scale = tempfile::tempdir()?;
    let dirs = if options.scale.is_empty() {
        scale_dirs()?
    } else {
        options.scale.clone()
    };
    for (i, from) in dirs.iter().enumerate() {
        let name = from.file_name().map_or_else(
            || format!("dir{i}"),
            |n| format!("{i}-{}", n.to_string_lossy()),
        );
        link_tree(&from.canonicalize()?, &scale.path().join(name))?;
    }
    let dir = scale.path().canonicalize()?;
    let data = tempfile::tempdir()?;
    let index = RepoIndex::open(&index_dir(data.path(), &dir), &dir)?;
    let (report, index_time) = build(&index)?;
    let ceiling = parse_alone(&dir);
    let update_time = touch_and_update(&dir, &index)?;
    let sources: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    print_index(
        &format!("scale corpus: {}", sources.join(", ")),
        &index,
        &report,
        index_time,
        &cases,
        Some(update_time),
    )?;
    let (files, threads, time) = ceiling;
    println!(
        "\ntree-sitter's parse alone over the same files, nothing else done per file, on the \
         indexer's {threads} parse threads: {files} files in {:.1} s, {:.0} files/s. No index \
         that parses every file can be faster than that.",
        time.as_secs_f64(),
        files as f64 / time.as_secs_f64()
    );
    Ok(())
}

/// tree-sitter's parse alone (no chunks, no index) of the files an index
/// of `dir` takes, on as many threads as the indexer parses with: the
/// ceiling on index throughput while every file is parsed.
/// (files, threads, time).
fn parse_alone(dir: &Path) -> (usize, usize, Duration) {
    let (found, _) = walk::walk(dir, 1 << 20);
    let threads = ffmcp_coderag::index::update_threads();
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(file) = found.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let Ok(bytes) = std::fs::read(&file.abs) else {
                        continue;
                    };
                    let Ok(text) = walk::accept_content(bytes) else {
                        continue;
                    };
                    std::hint::black_box(chunk::parse(Lang::detect(&file.rel), &text));
                }
            });
        }
    });
    (found.len(), threads, started.elapsed())
}

/// Indexes the copy `dir` of a corpus and builds its query set.
fn corpus(
    title: String,
    lang: Lang,
    dir: tempfile::TempDir,
    max_queries: usize,
) -> anyhow::Result<Corpus> {
    let root = dir.path().canonicalize()?;
    let data = tempfile::tempdir()?;
    let index = RepoIndex::open(&index_dir(data.path(), &root), &root)?;
    let (report, index_time) = build(&index)?;
    let (cases, funnel) = cases(&root, lang, max_queries)?;
    if cases.is_empty() {
        bail!(
            "no documented {} functions with a query under {}",
            lang.name(),
            root.display()
        );
    }
    Ok(Corpus {
        title,
        lang,
        dir: root,
        index,
        report,
        index_time,
        cases,
        funnel,
        _dirs: (dir, data),
    })
}

/// coderag's BM25 search on every case of `corpus`.
fn coderag_row(corpus: &Corpus) -> anyhow::Result<Row> {
    let mut ranks = Vec::new();
    let mut times = Vec::new();
    for case in &corpus.cases {
        let t = Instant::now();
        let hits = query::search(
            &corpus.index,
            &Search {
                query: &case.query,
                k: 10,
                ..Search::default()
            },
        )?;
        times.push(t.elapsed());
        ranks.push(
            hits.iter()
                .position(|h| h.path == case.path && h.start_line == case.start_line),
        );
    }
    Ok(Row {
        retriever: "coderag BM25".to_owned(),
        ranks,
        times,
    })
}

/// The ripgrep baseline on every case of `corpus`.
fn grep_row(corpus: &Corpus) -> anyhow::Result<Row> {
    let mut ranks = Vec::new();
    let mut times = Vec::new();
    let mut chunk_cache: HashMap<String, Vec<Chunk>> = HashMap::new();
    for case in &corpus.cases {
        let t = Instant::now();
        ranks.push(grep_rank(&corpus.dir, corpus.lang, case, &mut chunk_cache)?);
        times.push(t.elapsed());
    }
    Ok(Row {
        retriever: "ripgrep baseline".to_owned(),
        ranks,
        times,
    })
}

/// The embedding route of the environment and a runtime for its calls.
struct Dense {
    runtime: tokio::runtime::Runtime,
    embedder: ModelEmbedder,
}

/// `None` when `FF_EMBED_MODEL` is not set.
fn dense_from_env() -> anyhow::Result<Option<Dense>> {
    let (config, problems) = RouterConfig::from_lookup(&|name| std::env::var(name).ok());
    for problem in &problems {
        eprintln!("model configuration: {problem}");
    }
    if config.embed.is_none() {
        return Ok(None);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let router = Arc::new(Router::with_problems(config, problems));
    let embedder = ModelEmbedder::new(router, runtime.handle().clone())
        .context("FF_EMBED_MODEL names no embedding route")?;
    Ok(Some(Dense { runtime, embedder }))
}

/// Embeds the corpus's index through the route, then ranks every case
/// with hybrid search.
fn hybrid_row(dense: &Dense, corpus: &Corpus) -> anyhow::Result<Row> {
    let (index, cases) = (&corpus.index, &corpus.cases);
    let route = dense.embedder.model();
    let cancel = AtomicBool::new(false);
    let started = Instant::now();
    let report = index.update(UpdateOptions {
        max_file_bytes: 1 << 20,
        cancel: &cancel,
        progress: &|stage, done, total| {
            if stage == Stage::Embeddings && (done == total || done % 4800 == 0) {
                eprintln!("embedded {done}/{total} chunks");
            }
        },
        embedder: Some(&dense.embedder),
    })?;
    if let Some(why) = report.embed_error {
        bail!("embedding through {route} failed: {why}");
    }
    eprintln!(
        "embedded {} chunks through {route} in {:.1} s",
        report.embedded,
        started.elapsed().as_secs_f64()
    );
    let vectors = index.vectors()?.context("the index has no vectors")?;
    let mut ranks = Vec::with_capacity(cases.len());
    let mut times = Vec::with_capacity(cases.len());
    for case in cases {
        let t = Instant::now();
        let query = dense
            .runtime
            .block_on(dense.embedder.query(&case.query))
            .with_context(|| format!("embedding the query {:?}", case.query))?;
        let found = query::hybrid(
            index,
            &Search {
                query: &case.query,
                k: 10,
                ..Search::default()
            },
            &vectors,
            &query,
        )?;
        times.push(t.elapsed());
        ranks.push(
            found
                .iter()
                .position(|r| r.hit.path == case.path && r.hit.start_line == case.start_line),
        );
    }
    Ok(Row {
        retriever: format!("coderag hybrid ({route})"),
        ranks,
        times,
    })
}

/// Indexes from scratch: the report and the time it took.
fn build(index: &RepoIndex) -> anyhow::Result<(UpdateReport, Duration)> {
    let cancel = AtomicBool::new(false);
    let started = Instant::now();
    let report = index.update(UpdateOptions {
        max_file_bytes: 1 << 20,
        cancel: &cancel,
        progress: &|_, _, _| {},
        embedder: None,
    })?;
    let time = started.elapsed();
    eprintln!(
        "indexed {} files ({:.1} MB) in {:.1} s",
        report.indexed,
        report.bytes as f64 / 1e6,
        time.as_secs_f64()
    );
    Ok((report, time))
}

/// The index table: throughput, size, memory, query times of `cases`'
/// queries, the update time.
fn print_index(
    title: &str,
    index: &RepoIndex,
    report: &UpdateReport,
    index_time: Duration,
    cases: &[Case],
    update_time: Option<Option<UpdateTimes>>,
) -> anyhow::Result<()> {
    let mut times = Vec::new();
    for case in cases {
        let t = Instant::now();
        query::search(
            index,
            &Search {
                query: &case.query,
                k: 10,
                ..Search::default()
            },
        )?;
        times.push(t.elapsed());
    }
    let secs = index_time.as_secs_f64();
    println!("{title}\n");
    println!("| index | value |");
    println!("|---|---:|");
    println!("| files indexed | {} |", report.indexed);
    println!("| source | {:.1} MB |", report.bytes as f64 / 1e6);
    println!("| files/s | {:.0} |", report.indexed as f64 / secs);
    println!("| MB/s | {:.1} |", report.bytes as f64 / 1e6 / secs);
    println!("| chunks | {} |", report.chunks);
    println!("| index size | {:.1} MB |", index.size_bytes() as f64 / 1e6);
    println!("| peak RSS (bench process so far) | {} |", peak_rss());
    println!(
        "| query p50 / p99 | {} / {} |",
        ms(percentile(&times, 50)),
        ms(percentile(&times, 99))
    );
    match update_time {
        Some(Some(t)) => {
            println!(
                "| update after 10 changed files (the watcher's: their paths) | {} |",
                ms(t.paths)
            );
            println!(
                "| update after 10 changed files (walking the tree) | {} |",
                ms(t.walk)
            );
        }
        Some(None) => println!("| update after 10 changed files | (sources not writable) |"),
        None => {}
    }
    println!();
    Ok(())
}

/// Update times after 10 files changed: through the watcher's path (the
/// changed paths only) and through a full walk.
struct UpdateTimes {
    paths: Duration,
    walk: Duration,
}

/// Changes 10 files of the (hard-linked) copy `dir` and times the update
/// the watcher runs (given the 10 paths); then changes them again and
/// times the update that walks the whole tree. `None` when the files
/// cannot be rewritten.
fn touch_and_update(dir: &Path, index: &RepoIndex) -> anyhow::Result<Option<UpdateTimes>> {
    let cancel = AtomicBool::new(false);
    let options = UpdateOptions {
        max_file_bytes: 1 << 20,
        cancel: &cancel,
        progress: &|_, _, _| {},
        embedder: None,
    };
    let (found, _) = walk::walk(dir, 1 << 20);
    let sources: Vec<&walk::Found> = found.iter().filter(|f| f.rel.ends_with(".rs")).collect();
    let touched: Vec<PathBuf> = sources
        .iter()
        .step_by((sources.len() / 10).max(1))
        .take(10)
        .map(|f| f.abs.clone())
        .collect();
    let touch = |round: u32| -> anyhow::Result<bool> {
        for path in &touched {
            let mut changed = std::fs::read(path)?;
            changed.extend_from_slice(
                format!("\n// touched by cargo xtask bench coderag ({round})\n").as_bytes(),
            );
            // Unlink first: the copy's file may be a hard link to the source.
            if std::fs::remove_file(path).is_err() || std::fs::write(path, changed).is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    };
    if !touch(1)? {
        return Ok(None);
    }
    let t = Instant::now();
    let by_paths = index.update_paths(&touched, options)?;
    let paths = t.elapsed();
    touch(2)?;
    let t = Instant::now();
    let by_walk = index.update(options)?;
    let walk = t.elapsed();
    eprintln!(
        "update re-indexed {} files from their paths, then {} by a full walk",
        by_paths.indexed, by_walk.indexed
    );
    Ok(Some(UpdateTimes { paths, walk }))
}

/// The newest version of each crate under a registry source directory:
/// (`name`, its directory).
fn newest_crates(registry: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut newest: HashMap<String, (Vec<u64>, String, PathBuf)> = HashMap::new();
    for entry in std::fs::read_dir(registry)?.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some((name, version)) = file
            .rsplit_once('-')
            .filter(|(_, v)| v.starts_with(|c: char| c.is_ascii_digit()))
        else {
            continue;
        };
        // Numeric parts compare as numbers; a pre-release tag sorts by text.
        let key: Vec<u64> = version
            .split(['.', '-', '+'])
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        let slot = newest.entry(name.to_owned()).or_default();
        if (&key, version) > (&slot.0, slot.1.as_str()) {
            *slot = (key, version.to_owned(), entry.path());
        }
    }
    let mut out: Vec<(String, PathBuf)> = newest
        .into_iter()
        .map(|(name, (_, _, dir))| (name, dir))
        .collect();
    out.sort();
    Ok(out)
}

/// Mirrors `from` into `to` with hard links (copies across filesystems).
fn link_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)?.flatten() {
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            link_tree(&entry.path(), &target)?;
        } else if kind.is_file() && std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The query set of the `lang` files under `dir`; see the module docs.
fn cases(dir: &Path, lang: Lang, max: usize) -> anyhow::Result<(Vec<Case>, Funnel)> {
    let (found, _) = walk::walk(dir, 1 << 20);
    // (first sentence, query, path, line) of every documented function; two
    // sentences or queries are the same when they are equal but for case.
    let mut documented = Vec::new();
    for file in found.iter().filter(|f| Lang::detect(&f.rel) == lang) {
        let Ok(text) = std::fs::read_to_string(&file.abs) else {
            continue;
        };
        for chunk in chunk_file(lang, &text) {
            if !matches!(chunk.kind, "function" | "method") {
                continue;
            }
            let Some(sentence) = first_sentence(&chunk.doc) else {
                continue;
            };
            let query = query_of(&sentence, &chunk.name);
            documented.push((sentence, query, file.rel.clone(), chunk.start_line));
        }
    }
    let mut sentences: HashMap<String, usize> = HashMap::new();
    let mut queries: HashMap<String, usize> = HashMap::new();
    for (sentence, query, _, _) in &documented {
        *sentences.entry(sentence.to_lowercase()).or_default() += 1;
        *queries.entry(query.to_lowercase()).or_default() += 1;
    }
    let mut funnel = Funnel {
        documented: documented.len(),
        ..Funnel::default()
    };
    let mut all = Vec::new();
    for (sentence, query, path, start_line) in documented {
        if sentences[&sentence.to_lowercase()] > 1 || queries[&query.to_lowercase()] > 1 {
            funnel.ambiguous += 1;
        } else if query.split_whitespace().count() < 3 {
            funnel.short += 1;
        } else {
            all.push(Case {
                query,
                path,
                start_line,
            });
        }
    }
    let step = (all.len() / max.max(1)).max(1);
    let cases = all.into_iter().step_by(step).take(max).collect();
    Ok((cases, funnel))
}

/// The first sentence of a doc comment, whitespace collapsed, the final
/// period dropped.
fn first_sentence(doc: &str) -> Option<String> {
    let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentence = doc.split(". ").next()?.trim_end_matches('.').trim();
    (!sentence.is_empty()).then(|| sentence.to_owned())
}

/// A sentence without the words of the function's name.
fn query_of(sentence: &str, name: &str) -> String {
    let name_words: Vec<String> = tokens::terms(name);
    sentence
        .split_whitespace()
        .filter(|w| {
            let terms = tokens::terms(w);
            !terms.is_empty() && !terms.iter().any(|t| name_words.contains(t))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The baseline's rank of the case's target; see the module docs.
fn grep_rank(
    dir: &Path,
    lang: Lang,
    case: &Case,
    chunks: &mut HashMap<String, Vec<Chunk>>,
) -> anyhow::Result<Option<usize>> {
    let words: Vec<String> = case
        .query
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| w.len() >= 3)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Ok(None);
    }
    let mut rg = Command::new("rg");
    let rg_type = match lang {
        Lang::Python => "py",
        _ => "rust",
    };
    rg.args(["--count-matches", "-i", "-w", "--type", rg_type]);
    for word in &words {
        rg.arg("-e").arg(word);
    }
    let out = rg.arg(".").current_dir(dir).output()?;
    let mut files: Vec<(String, usize)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (path, count) = l.rsplit_once(':')?;
            Some((
                path.trim_start_matches("./").to_owned(),
                count.parse().ok()?,
            ))
        })
        .collect();
    files.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (rank, (path, _)) in files.iter().take(10).enumerate() {
        let list = chunks.entry(path.clone()).or_insert_with(|| {
            std::fs::read_to_string(dir.join(path))
                .map(|t| chunk_file(lang, &t))
                .unwrap_or_default()
        });
        let best = list
            .iter()
            .filter(|c| matches!(c.kind, "function" | "method"))
            .max_by_key(|c| {
                // The doc comment above a function is part of what grep sees
                // (a Python docstring is in the body already).
                let text = format!("{}\n{}", c.doc, c.text).to_lowercase();
                words.iter().filter(|w| text.contains(w.as_str())).count()
            });
        if best.is_some_and(|c| *path == case.path && c.start_line == case.start_line) {
            return Ok(Some(rank));
        }
    }
    Ok(None)
}

fn metrics(ranks: &[Option<usize>]) -> (f64, f64) {
    let n = ranks.len().max(1) as f64;
    let mrr = ranks
        .iter()
        .map(|r| r.map_or(0.0, |r| 1.0 / (r as f64 + 1.0)))
        .sum::<f64>()
        / n;
    let recall = ranks.iter().filter(|r| r.is_some()).count() as f64 / n;
    (mrr, recall)
}

fn percentile(times: &[Duration], p: usize) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted
        .get((sorted.len().saturating_sub(1)) * p / 100)
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

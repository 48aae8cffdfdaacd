//! Dense retrieval against the provider imitation (whose vectors are a
//! hashed bag of words with a small synonym table): hybrid search finds
//! what BM25 misses for a synonym query, updates embed only changed
//! chunks, vectors switch atomically with the chunks, a failing route
//! leaves a BM25-only index, cancellation keeps the previous commit.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use ffmcp_coderag::{
    dense::ModelEmbedder,
    index::{IndexError, RepoIndex, Stage, UpdateOptions, index_dir},
    query::{self, Ranked, Search},
};
use ffmcp_core::model::{Router, RouterConfig};
use ffmcp_test_support::imitation::{Fault, Imitation};

const MODEL: &str = "text-embedding-3-small";

/// A runtime, the imitation on it, and an embedder through a real router.
struct Setup {
    runtime: tokio::runtime::Runtime,
    imitation: Imitation,
    embedder: ModelEmbedder,
}

fn setup() -> Setup {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let imitation = runtime
        .block_on(Imitation::start())
        .expect("imitation binds");
    let mut config = RouterConfig::new(Vec::new(), imitation.settings());
    config.embed = Some(format!("openai:{MODEL}").parse().expect("route"));
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(10);
    config.max_attempts = 1;
    let embedder = ModelEmbedder::new(Arc::new(Router::new(config)), runtime.handle().clone())
        .expect("a route is configured");
    Setup {
        runtime,
        imitation,
        embedder,
    }
}

/// A small repository whose target function shares no word with the query.
fn repository(root: &Path) {
    let files = [
        (
            "store.py",
            "def erase_record(table, key):\n    \"\"\"Erase a record by key from the table.\"\"\"\n    table.pop(key, None)\n",
        ),
        (
            "cache.py",
            "def cache_size(cache):\n    \"\"\"Number of entries held in the cache.\"\"\"\n    return len(cache)\n\n\ndef warm_cache(cache, keys):\n    \"\"\"Fill the cache before traffic arrives.\"\"\"\n    for key in keys:\n        cache.touch(key)\n",
        ),
        (
            "files.py",
            "import os\n\n\ndef delete_temp_files(directory):\n    \"\"\"Delete temporary files from a directory.\"\"\"\n    for name in os.listdir(directory):\n        os.unlink(os.path.join(directory, name))\n",
        ),
        (
            "log.py",
            "def log_entry(message):\n    \"\"\"Write one entry to the log.\"\"\"\n    print(message)\n",
        ),
        (
            "net.rs",
            "/// Parses one HTTP header line.\npub fn parse_header(line: &str) -> Option<(&str, &str)> {\n    line.split_once(':')\n}\n\n/// Starts the server on a port.\npub fn start_server(port: u16) {\n    let _ = port;\n}\n",
        ),
    ];
    for (path, text) in files {
        std::fs::write(root.join(path), text).expect("write");
    }
}

use crate::update_with as update;

fn names(ranked: &[Ranked]) -> Vec<String> {
    ranked.iter().map(|r| r.hit.symbol.clone()).collect()
}

fn hybrid(setup: &Setup, index: &RepoIndex, query: &str) -> Vec<Ranked> {
    let vectors = index.vectors().expect("read").expect("vectors");
    let q = setup
        .runtime
        .block_on(setup.embedder.query(query))
        .expect("query vector");
    query::hybrid(
        index,
        &Search {
            query,
            k: 5,
            ..Search::default()
        },
        &vectors,
        &q,
    )
    .expect("search")
}

#[test]
fn hybrid_search_finds_what_bm25_misses_and_updates_embed_only_changes() {
    let setup = setup();
    let repo = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let root = repo.path().canonicalize().expect("canonical");
    repository(&root);
    let index = RepoIndex::open(&index_dir(data.path(), &root), &root).expect("open");

    let first = update(&index, Some(&setup.embedder));
    // Seven definitions; the `import os` line is code, not embedded.
    assert_eq!((first.embedded, first.vectors), (7, 7), "{first:?}");
    assert_eq!(setup.imitation.embedded_inputs().len(), 7);
    let vectors = index.vectors().expect("read").expect("vectors");
    assert_eq!(vectors.model, format!("openai:{MODEL}"));

    let query = "delete entry from cache";
    let lexical = query::search(
        &index,
        &Search {
            query,
            k: 5,
            ..Search::default()
        },
    )
    .expect("bm25");
    let lexical: Vec<String> = lexical.iter().map(|h| h.symbol.clone()).collect();
    assert!(
        !lexical.iter().take(3).any(|s| s == "erase_record"),
        "BM25 ranks the synonym match low: {lexical:?}"
    );
    let fused = hybrid(&setup, &index, query);
    let top3: Vec<String> = names(&fused).into_iter().take(3).collect();
    assert!(top3.contains(&"erase_record".to_owned()), "{top3:?}");
    let target = fused
        .iter()
        .find(|r| r.hit.symbol == "erase_record")
        .expect("found");
    assert!(target.dense.is_some(), "found by the dense retriever");
    assert!(
        fused.windows(2).all(|w| w[0].hit.score >= w[1].hit.score),
        "fused scores rank the results"
    );
    let both = fused
        .iter()
        .find(|r| r.bm25.is_some() && r.dense.is_some())
        .expect("some result is found by both");
    assert!(
        (both.hit.score
            - (1.0 / (60.0 + both.bm25.unwrap_or(0) as f32)
                + 1.0 / (60.0 + both.dense.unwrap_or(0) as f32)))
            .abs()
            < 1e-6
    );
    // Filters apply to the dense side too.
    let q = setup
        .runtime
        .block_on(setup.embedder.query(query))
        .expect("query vector");
    let only_rust = query::hybrid(
        &index,
        &Search {
            query,
            k: 5,
            langs: vec![ffmcp_coderag::lang::Lang::Rust],
            ..Search::default()
        },
        &vectors,
        &q,
    )
    .expect("search");
    assert!(
        only_rust.iter().all(|r| r.hit.path == "net.rs"),
        "{:?}",
        names(&only_rust)
    );

    // Nothing changed: no commit, no embedding.
    let before = setup.imitation.requests().len();
    let same = update(&index, Some(&setup.embedder));
    assert_eq!((same.indexed, same.embedded), (0, 0), "{same:?}");
    assert_eq!(setup.imitation.requests().len(), before);

    // One function changes; another moves down a line without changing.
    std::fs::write(
        root.join("files.py"),
        "import os\n\n\ndef delete_temp_files(directory):\n    \"\"\"Delete temporary files from a directory.\"\"\"\n    for name in sorted(os.listdir(directory)):\n        os.unlink(os.path.join(directory, name))\n",
    )
    .expect("write");
    let store = std::fs::read_to_string(root.join("store.py")).expect("read");
    std::fs::write(root.join("store.py"), format!("\n{store}")).expect("write");
    let inputs_before = setup.imitation.embedded_inputs().len();
    let second = update(&index, Some(&setup.embedder));
    assert_eq!(second.indexed, 2, "{second:?}");
    assert_eq!(second.embedded, 1, "only the changed chunk: {second:?}");
    assert_eq!(second.vectors, 7);
    assert_eq!(second.vectors_reused, 1, "the moved chunk keeps its vector");
    let sent = setup.imitation.embedded_inputs();
    assert_eq!(sent.len(), inputs_before + 1);
    assert!(
        sent[inputs_before].contains("sorted(os.listdir"),
        "{}",
        sent[inputs_before]
    );
    // The moved function is found at its new lines.
    let fused = hybrid(&setup, &index, query);
    let moved = fused
        .iter()
        .find(|r| r.hit.symbol == "erase_record")
        .expect("still found");
    assert_eq!(moved.hit.start_line, 2);

    // Old vectors files are gone: one per commit.
    let files: Vec<String> = std::fs::read_dir(index_dir(data.path(), &root))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("vectors-"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
}

#[test]
fn vectors_are_added_later_and_dropped_when_the_route_fails() {
    let setup = setup();
    let repo = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let root = repo.path().canonicalize().expect("canonical");
    repository(&root);
    let index = RepoIndex::open(&index_dir(data.path(), &root), &root).expect("open");

    let plain = update(&index, None);
    assert_eq!((plain.indexed, plain.vectors), (5, 0));
    assert!(index.vectors().expect("read").is_none());
    assert!(setup.imitation.requests().is_empty());

    // An embedder appears: the stored definitions are embedded without
    // any file having changed.
    let embedded = update(&index, Some(&setup.embedder));
    assert_eq!(embedded.indexed, 0, "{embedded:?}");
    assert_eq!(
        (embedded.embedded, embedded.vectors),
        (7, 7),
        "{embedded:?}"
    );
    assert_eq!(index.vectors().expect("read").map(|v| v.len()), Some(7));

    // The route refuses: the change is committed, without vectors.
    setup.imitation.outage(MODEL, Fault::Status(400));
    std::fs::write(
        root.join("log.py"),
        "def log_entry(message):\n    print(message, flush=True)\n",
    )
    .expect("write");
    let failed = update(&index, Some(&setup.embedder));
    assert_eq!(failed.indexed, 1);
    assert_eq!(failed.vectors, 0);
    let why = failed.embed_error.expect("the failure is reported");
    assert!(why.contains("HTTP 400"), "{why}");
    assert!(index.vectors().expect("read").is_none());
    let hits = query::search(
        &index,
        &Search {
            query: "flush",
            k: 3,
            ..Search::default()
        },
    )
    .expect("bm25 still works");
    assert_eq!(hits[0].symbol, "log_entry");

    // The route is back: everything is embedded again.
    setup.imitation.clear(MODEL);
    let back = update(&index, Some(&setup.embedder));
    assert_eq!(back.vectors, 7, "{back:?}");
}

#[test]
fn cancelling_while_embedding_keeps_the_previous_commit() {
    let setup = setup();
    let repo = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let root = repo.path().canonicalize().expect("canonical");
    repository(&root);
    let index = RepoIndex::open(&index_dir(data.path(), &root), &root).expect("open");
    update(&index, Some(&setup.embedder));
    let before = index.vectors().expect("read").expect("vectors");
    let record = index.file("log.py").expect("read").expect("record");

    std::fs::write(
        root.join("log.py"),
        "def log_entry(message):\n    print(message, file=None)\n",
    )
    .expect("write");
    setup
        .imitation
        .outage(MODEL, Fault::Slow(Duration::from_secs(10)));
    let cancel = Arc::new(AtomicBool::new(false));
    let stages = std::sync::Mutex::new(Vec::new());
    let flag = Arc::clone(&cancel);
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        flag.store(true, Ordering::Relaxed);
    });
    let started = std::time::Instant::now();
    let result = index.update(UpdateOptions {
        max_file_bytes: 1 << 20,
        cancel: &cancel,
        progress: &|stage, _, _| stages.lock().expect("lock").push(stage),
        embedder: Some(&setup.embedder),
    });
    stopper.join().expect("stopper");
    assert!(matches!(result, Err(IndexError::Cancelled)), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not wait for the slow reply"
    );
    assert_eq!(stages.lock().expect("lock").first(), Some(&Stage::Files));
    index.refresh();
    let after = index.vectors().expect("read").expect("vectors");
    assert_eq!(*after, *before, "the previous vectors stay");
    assert_eq!(
        index.file("log.py").expect("read"),
        Some(record),
        "and the previous chunks"
    );
}

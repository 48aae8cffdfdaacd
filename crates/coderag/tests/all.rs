//! ffmcp-coderag's integration tests: the chunker on the fixture
//! repository, the index (search, symbols, references, incremental
//! updates) through the library, and dense retrieval against the model
//! provider imitation.

mod chunking;
mod dense;
mod indexing;
mod watching;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, atomic::AtomicBool, mpsc},
};

use ffmcp_coderag::{
    index::{RepoIndex, UpdateOptions, UpdateReport},
    query::{self, Search},
    watch,
};

/// A full update (what `index` runs), without embeddings.
pub fn update(index: &RepoIndex) -> UpdateReport {
    update_with(index, None)
}

/// A full update, embedding chunks with `embedder` when given.
pub fn update_with(
    index: &RepoIndex,
    embedder: Option<&dyn ffmcp_coderag::dense::Embedder>,
) -> UpdateReport {
    let cancel = AtomicBool::new(false);
    index
        .update(UpdateOptions {
            max_file_bytes: 1 << 20,
            cancel: &cancel,
            progress: &|_, _, _| {},
            embedder,
        })
        .expect("update")
}

/// The first search hit for `query` as "path symbol" (empty when none).
pub fn top(index: &RepoIndex, query: &str) -> String {
    let hits = query::search(
        index,
        &Search {
            query,
            k: 5,
            ..Search::default()
        },
    )
    .expect("search");
    hits.first()
        .map(|h| format!("{} {}", h.path, h.symbol))
        .unwrap_or_default()
}

/// Starts the watcher on `index`; each update it runs arrives on the
/// receiver. Keep the `Watch` alive for as long as it should watch.
pub fn watched(index: &Arc<RepoIndex>) -> (mpsc::Receiver<UpdateReport>, watch::Watch) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let watch = watch::start(Arc::clone(index), 1 << 20, None, move |report| {
        let _ = tx.lock().expect("lock").send(report.clone());
    })
    .expect("watch");
    (rx, watch)
}

/// The fixture repository.
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repo")
}

/// A copy of the fixture repository in a temporary directory.
pub fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy(&fixture(), dir.path());
    dir
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

//! The watcher: a change to the repository is indexed without a call to
//! `index`; changes inside `.git/` are not changes.

use std::{
    sync::{Arc, atomic::AtomicBool, mpsc},
    time::Duration,
};

use ffmcp_coderag::{
    index::{RepoIndex, UpdateOptions, index_dir},
    query::{self, Search},
    watch,
};

fn top(index: &RepoIndex, query: &str) -> String {
    query::search(
        index,
        &Search {
            query,
            k: 5,
            ..Search::default()
        },
    )
    .expect("search")
    .first()
    .map(|h| format!("{} {}", h.path, h.symbol))
    .unwrap_or_default()
}

#[test]
fn changes_are_indexed_while_watching() {
    let repo = super::fixture_copy();
    let data = tempfile::tempdir().expect("tempdir");
    let root = repo.path().canonicalize().expect("canonical");
    std::fs::create_dir_all(root.join(".git")).expect("mkdir");
    let index = Arc::new(RepoIndex::open(&index_dir(data.path(), &root), &root).expect("open"));
    let cancel = AtomicBool::new(false);
    index
        .update(UpdateOptions {
            max_file_bytes: 1 << 20,
            cancel: &cancel,
            progress: &|_, _, _| {},
            embedder: None,
        })
        .expect("update");
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let _watch = watch::start(Arc::clone(&index), 1 << 20, None, move |report| {
        let _ = tx
            .lock()
            .expect("lock")
            .send((report.indexed, report.removed));
    })
    .expect("watch");

    // Inside .git: no update.
    std::fs::write(root.join(".git/index"), "not a change").expect("write");
    assert!(
        rx.recv_timeout(Duration::from_millis(1500)).is_err(),
        "a change inside .git/ started an update"
    );

    // A new file and a removed one: indexed without calling update.
    std::fs::write(
        root.join("src/watched.rs"),
        "/// Folds the ledger entries into a balance.\npub fn settle_balance() {}\n",
    )
    .expect("write");
    std::fs::remove_file(root.join("c/ring.c")).expect("rm");
    let mut seen = (0, 0);
    while seen != (1, 1) {
        let (indexed, removed) = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the watcher updated the index after the change");
        seen = (seen.0.max(indexed), seen.1.max(removed));
    }
    assert_eq!(
        top(&index, "settle_balance"),
        "src/watched.rs settle_balance"
    );
    assert!(
        query::find_symbol(&index, "ring_push", true, None, &[], 5)
            .expect("find")
            .is_empty()
    );
}

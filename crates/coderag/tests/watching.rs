//! The watcher: a change to the repository is indexed without a call to
//! `index`; changes inside `.git/` are not changes; only the changed paths
//! are looked at, judged by the walk's rules.

use std::{
    sync::{Arc, mpsc},
    time::Duration,
};

use ffmcp_coderag::{
    index::{RepoIndex, UpdateReport, index_dir},
    query,
};

use super::{top, update, watched};

#[test]
fn changes_are_indexed_while_watching() {
    let repo = super::fixture_copy();
    let data = tempfile::tempdir().expect("tempdir");
    let root = repo.path().canonicalize().expect("canonical");
    std::fs::create_dir_all(root.join(".git")).expect("mkdir");
    let index = Arc::new(RepoIndex::open(&index_dir(data.path(), &root), &root).expect("open"));
    update(&index);
    let (rx, _watch) = watched(&index);

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
        let report = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the watcher updated the index after the change");
        seen = (seen.0.max(report.indexed), seen.1.max(report.removed));
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

/// Collects the watcher's reports until `done` says enough, then returns
/// them all.
fn reports_until(
    rx: &mpsc::Receiver<UpdateReport>,
    done: impl Fn(&[UpdateReport]) -> bool,
) -> Vec<UpdateReport> {
    let mut seen = Vec::new();
    while !done(&seen) {
        seen.push(
            rx.recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("the watcher did not update; so far: {seen:?}")),
        );
    }
    seen
}

#[test]
fn the_watcher_updates_only_the_changed_paths_by_the_walk_rules() {
    let repo = super::fixture_copy();
    let data = tempfile::tempdir().expect("tempdir");
    let root = repo.path().canonicalize().expect("canonical");
    // The fixture ignores `ignored/`; a nested ignore file ignores more.
    std::fs::create_dir_all(root.join("ignored")).expect("mkdir");
    std::fs::write(root.join("src/.gitignore"), "*.gen.rs\n").expect("write");
    let index = Arc::new(RepoIndex::open(&index_dir(data.path(), &root), &root).expect("open"));
    update(&index);
    let (rx, _watch) = watched(&index);

    // One burst: a change, a removal, new files the walk would not index,
    // a file created and removed again.
    std::fs::write(
        root.join("cmd/cache.go"),
        "package main\n\n// DrainQueue empties the pending deliveries.\nfunc DrainQueue() {}\n",
    )
    .expect("write");
    std::fs::remove_file(root.join("c/ring.c")).expect("rm");
    std::fs::write(root.join("ignored/new.rs"), "pub fn in_ignored_dir() {}\n").expect("write");
    std::fs::write(root.join("src/made.gen.rs"), "pub fn generated() {}\n").expect("write");
    std::fs::write(root.join("src/.env"), "API_KEY=abc\n").expect("write");
    std::fs::write(root.join("src/flash.rs"), "pub fn flash() {}\n").expect("write");
    std::fs::remove_file(root.join("src/flash.rs")).expect("rm");
    let seen = reports_until(&rx, |seen| {
        seen.iter().map(|r| r.indexed).sum::<usize>() >= 1
            && seen.iter().map(|r| r.removed).sum::<usize>() >= 1
    });
    assert!(seen.iter().all(|r| !r.full), "{seen:?}");
    assert_eq!(
        seen.iter().map(|r| r.files_read).sum::<usize>(),
        1,
        "only the changed file was read: {seen:?}"
    );
    assert_eq!(top(&index, "pending deliveries"), "cmd/cache.go DrainQueue");
    for absent in [
        "c/ring.c",
        "ignored/new.rs",
        "src/made.gen.rs",
        "src/.env",
        "src/flash.rs",
    ] {
        assert!(index.file(absent).expect("file").is_none(), "{absent}");
    }

    // A directory renamed: its files move with it (a full walk).
    std::fs::rename(root.join("java"), root.join("jvm")).expect("mv");
    let seen = reports_until(&rx, |seen| {
        seen.iter().map(|r| r.removed).sum::<usize>() >= 1
    });
    assert!(seen.iter().any(|r| r.full), "{seen:?}");
    assert!(index.file("java/Ledger.java").expect("file").is_none());
    assert!(index.file("jvm/Ledger.java").expect("file").is_some());
}

//! The index through the library: search ranks the right code unit first,
//! symbols and references resolve, updates are incremental by content
//! hash, secrets and vendored files never enter, a cancelled update leaves
//! the previous index intact.

use std::sync::atomic::AtomicBool;

use ffmcp_coderag::{
    index::{RepoIndex, UpdateOptions, UpdateReport, index_dir},
    query::{self, Search},
};

use super::{top, update};

#[test]
fn search_symbols_references_and_updates() {
    let repo = super::fixture_copy();
    let data = tempfile::tempdir().expect("tempdir");
    let root = repo.path().canonicalize().expect("canonical");
    // Files that must never be indexed.
    std::fs::write(root.join(".env"), "API_TOKEN=hunter2hunter2\n").expect("write");
    std::fs::write(
        root.join("deploy.pem"),
        "-----BEGIN PRIVATE KEY-----\nMIIE\n",
    )
    .expect("write");
    std::fs::write(
        root.join("notes.txt"),
        "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n",
    )
    .expect("write");
    std::fs::create_dir_all(root.join("node_modules/left-pad")).expect("mkdir");
    std::fs::write(
        root.join("node_modules/left-pad/index.js"),
        "function leftPad() {}\n",
    )
    .expect("write");
    std::fs::create_dir_all(root.join("ignored")).expect("mkdir");
    std::fs::write(
        root.join("ignored/skipme.py"),
        "def ignored_function():\n    pass\n",
    )
    .expect("write");
    std::fs::write(root.join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");

    let index = RepoIndex::open(&index_dir(data.path(), &root), &root).expect("open");
    let first = update(&index);
    assert_eq!(first.indexed, 11, "{first:?}");
    assert_eq!(first.skipped.get("secret"), Some(&2), "{first:?}");
    assert_eq!(first.skipped.get("binary"), Some(&1), "{first:?}");
    let files = index.files().expect("files");
    for never in [
        ".env",
        "deploy.pem",
        "notes.txt",
        "node_modules/left-pad/index.js",
        "ignored/skipme.py",
        "logo.png",
    ] {
        assert!(!files.contains_key(never), "{never} was indexed");
    }

    // Natural-language queries find the unit whose doc or body says it.
    for (query, expected) in [
        (
            "decode url query string parameters",
            "app/server.py parse_query_string",
        ),
        (
            "sum cart line items with discount",
            "web/cart.js computeCartTotal",
        ),
        (
            "move an amount between accounts",
            "java/Ledger.java Ledger.transferFunds",
        ),
        (
            "append a byte, overwriting the oldest",
            "c/ring.c ring_push",
        ),
        (
            "multiply matrices",
            "cpp/matrix.cpp linalg::Matrix::multiply",
        ),
        ("concurrency-safe map with size limit", "cmd/cache.go Cache"),
        (
            "notification count bubble",
            "web/Badge.tsx NotificationBadge",
        ),
        (
            "rank documents by query words",
            "src/search.rs rank_documents",
        ),
        // Identifiers: split on case and underscores, kept whole.
        ("computeCartTotal", "web/cart.js computeCartTotal"),
        ("compute cart total", "web/cart.js computeCartTotal"),
        ("parse_query_string", "app/server.py parse_query_string"),
        ("renderInvoiceLine", "web/invoice.ts renderInvoiceLine"),
    ] {
        assert_eq!(top(&index, query), expected, "{query}");
    }

    // Filters.
    let go_only = query::search(
        &index,
        &Search {
            query: "cache",
            k: 10,
            langs: vec![ffmcp_coderag::lang::Lang::Go],
            path: None,
        },
    )
    .expect("search");
    assert!(!go_only.is_empty() && go_only.iter().all(|h| h.lang == "go"));
    let under_web = query::search(
        &index,
        &Search {
            query: "total",
            k: 10,
            langs: vec![],
            path: Some("web"),
        },
    )
    .expect("search");
    assert!(!under_web.is_empty() && under_web.iter().all(|h| h.path.starts_with("web/")));

    // Symbols: exact, any case, fuzzy.
    let exact = query::find_symbol(&index, "tokenize", true, None, &[], 10).expect("find");
    assert_eq!(exact.len(), 1);
    assert_eq!(
        (exact[0].path.as_str(), exact[0].start_line),
        ("src/lib.rs", 17)
    );
    let fuzzy = query::find_symbol(&index, "computeCartTotl", false, None, &[], 10).expect("find");
    assert_eq!(
        fuzzy.first().map(|h| h.name.as_str()),
        Some("computeCartTotal")
    );
    let none = query::find_symbol(&index, "computeCartTotl", true, None, &[], 10).expect("find");
    assert!(none.is_empty());
    let classes =
        query::find_symbol(&index, "cache", false, Some("struct"), &[], 10).expect("find");
    assert_eq!(classes.first().map(|h| h.symbol.as_str()), Some("Cache"));

    // References across files, with the enclosing definition.
    let (refs, more) = query::references(&index, "tokenize", None, 100).expect("refs");
    assert!(!more);
    let places: Vec<(String, u32, bool)> = refs
        .iter()
        .map(|r| (r.path.clone(), r.line, r.definition))
        .collect();
    assert_eq!(
        places,
        vec![
            ("src/lib.rs".to_owned(), 17, true),
            ("src/search.rs".to_owned(), 15, false),
            ("src/search.rs".to_owned(), 19, false),
        ]
    );
    assert_eq!(refs[1].in_symbol, "rank_documents");
    let (py, _) = query::references(&index, "parse_query_string", None, 100).expect("refs");
    assert_eq!(py.len(), 2);
    assert_eq!(py[1].in_symbol, "RequestRouter.dispatch");

    // Outline and relations.
    let outline = query::outline(&index, "cmd/cache.go").expect("outline");
    let names: Vec<&str> = outline.iter().map(|h| h.symbol.as_str()).collect();
    assert_eq!(names, ["Cache", "NewCache", "Cache.Get", "main"]);
    let targets = query::find_symbol(&index, "rank_documents", true, None, &[], 5).expect("find");
    let (uses, _) = query::related(&index, &targets, 10).expect("related");
    let used: Vec<&str> = uses.iter().map(|r| r.symbol.as_str()).collect();
    for expected in ["Tokenizer", "OverlapScorer", "Tokenizer::tokenize"] {
        assert!(used.contains(&expected), "{used:?}");
    }
    let targets = query::find_symbol(&index, "NewCache", true, None, &[], 5).expect("find");
    let (_, used_by) = query::related(&index, &targets, 10).expect("related");
    assert_eq!(used_by.first().map(|r| r.symbol.as_str()), Some("main"));

    // Nothing changed: nothing re-read.
    let again = update(&index);
    assert_eq!(
        (again.indexed, again.unchanged, again.removed),
        (0, 11, 0),
        "{again:?}"
    );

    // One file changed, one removed, one added: only those.
    std::fs::write(
        root.join("cmd/cache.go"),
        std::fs::read_to_string(root.join("cmd/cache.go"))
            .expect("read")
            .replace("func main()", "// EvictOldest drops the least recently used entry.\nfunc (c *Cache) EvictOldest() {}\n\nfunc main()"),
    )
    .expect("write");
    std::fs::remove_file(root.join("c/ring.c")).expect("rm");
    std::fs::write(
        root.join("src/extra.rs"),
        "/// Adds two numbers.\npub fn add_numbers(a: i32, b: i32) -> i32 { a + b }\n",
    )
    .expect("write");
    let changed = update(&index);
    assert_eq!((changed.indexed, changed.removed), (2, 1), "{changed:?}");
    assert_eq!(top(&index, "EvictOldest"), "cmd/cache.go Cache.EvictOldest");
    assert_eq!(top(&index, "add numbers"), "src/extra.rs add_numbers");
    assert!(
        query::find_symbol(&index, "ring_push", true, None, &[], 5)
            .expect("find")
            .is_empty()
    );

    // Touched but identical content: the hash says unchanged.
    let lib = std::fs::read(root.join("src/lib.rs")).expect("read");
    std::fs::write(root.join("src/lib.rs"), &lib).expect("write");
    let touched = update(&index);
    assert_eq!(touched.indexed, 0, "{touched:?}");

    // A cancelled update changes nothing.
    std::fs::write(root.join("src/extra.rs"), "pub fn subtract_numbers() {}\n").expect("write");
    let cancel = AtomicBool::new(true);
    let result = index.update(UpdateOptions {
        max_file_bytes: 1 << 20,
        cancel: &cancel,
        progress: &|_, _, _| {},
        embedder: None,
    });
    assert!(result.is_err());
    assert_eq!(top(&index, "add numbers"), "src/extra.rs add_numbers");

    // Reopened from disk (a new process): the same index.
    drop(index);
    let reopened = RepoIndex::open(&index_dir(data.path(), &root), &root).expect("open");
    assert_eq!(
        top(&reopened, "EvictOldest"),
        "cmd/cache.go Cache.EvictOldest"
    );
}

/// Runs the targeted update over `rels` (relative to `root`).
fn update_paths(index: &RepoIndex, root: &std::path::Path, rels: &[&str]) -> UpdateReport {
    let cancel = AtomicBool::new(false);
    let paths: Vec<_> = rels.iter().map(|r| root.join(r)).collect();
    index
        .update_paths(
            &paths,
            UpdateOptions {
                max_file_bytes: 1 << 20,
                cancel: &cancel,
                progress: &|_, _, _| {},
                embedder: None,
            },
        )
        .expect("update_paths")
}

#[test]
fn targeted_updates_look_only_at_the_paths_and_judge_them_like_the_walk() {
    let repo = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let root = repo.path().canonicalize().expect("canonical");
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    // 300 files in 10 directories, an ignored directory, a nested ignore file.
    for d in 0..10 {
        for f in 0..30 {
            write(
                &format!("mod_{d}/file_{f}.rs"),
                &format!("/// Unit {d} {f}.\npub fn unit_{d}_{f}() -> u32 {{ {f} }}\n"),
            );
        }
    }
    write(".gitignore", "ignored/\n");
    write("sub/.gitignore", "*.gen.rs\n");
    write("sub/kept.rs", "pub fn kept_here() {}\n");
    std::fs::create_dir_all(root.join("ignored")).expect("mkdir");
    let index = RepoIndex::open(&index_dir(data.path(), &root), &root).expect("open");
    let first = update(&index);
    assert_eq!(first.indexed, 301, "{first:?}");
    assert!(first.full);

    // Two files changed (passed), one changed but not passed, one removed;
    // new files the walk would not index; one created and removed again.
    write(
        "mod_1/file_1.rs",
        "/// Reconciles the quarterly ledger.\npub fn reconcile_quarter() {}\n",
    );
    write(
        "mod_2/file_2.rs",
        "/// Rotates the signing keys.\npub fn rotate_signing_keys() {}\n",
    );
    write(
        "mod_3/file_3.rs",
        "/// Not reported by any watcher.\npub fn unreported_change() {}\n",
    );
    std::fs::remove_file(root.join("mod_4/file_4.rs")).expect("rm");
    write("ignored/new.rs", "pub fn in_ignored_dir() {}\n");
    write("sub/made.gen.rs", "pub fn generated_here() {}\n");
    write(".env", "API_KEY=abc\n");
    write("sub/secrets.json", "{\"key\": \"abc\"}\n");
    write("mod_5/flash.rs", "pub fn flash() {}\n");
    std::fs::remove_file(root.join("mod_5/flash.rs")).expect("rm");
    let targeted = update_paths(
        &index,
        &root,
        &[
            "mod_1/file_1.rs",
            "mod_2/file_2.rs",
            "mod_4/file_4.rs",
            "ignored/new.rs",
            "sub/made.gen.rs",
            ".env",
            "sub/secrets.json",
            "mod_5/flash.rs",
            ".git/index",
        ],
    );
    assert!(!targeted.full, "{targeted:?}");
    assert_eq!(
        (
            targeted.files_read,
            targeted.indexed,
            targeted.removed,
            targeted.files_seen
        ),
        (2, 2, 1, 3),
        "{targeted:?}"
    );
    assert_eq!(targeted.skipped.get("secret"), Some(&1), "{targeted:?}");
    assert_eq!(
        top(&index, "quarterly ledger"),
        "mod_1/file_1.rs reconcile_quarter"
    );
    assert_eq!(
        top(&index, "signing keys"),
        "mod_2/file_2.rs rotate_signing_keys"
    );
    for absent in [
        "mod_4/file_4.rs",
        "ignored/new.rs",
        "sub/made.gen.rs",
        ".env",
        "sub/secrets.json",
        "mod_5/flash.rs",
    ] {
        assert!(index.file(absent).expect("file").is_none(), "{absent}");
    }
    // The file no path named was not looked at.
    assert_eq!(top(&index, "unreported change"), "");
    // The full walk agrees on everything else: only that file is left.
    let full = update(&index);
    assert_eq!(
        (full.indexed, full.removed, full.files_read),
        (1, 0, 1),
        "{full:?}"
    );

    // A directory removed or renamed: only a walk can tell, so it walks.
    std::fs::rename(root.join("mod_6"), root.join("mod_six")).expect("mv");
    let renamed = update_paths(&index, &root, &["mod_6", "mod_six"]);
    assert!(renamed.full, "{renamed:?}");
    assert_eq!((renamed.indexed, renamed.removed), (30, 30), "{renamed:?}");
    std::fs::remove_dir_all(root.join("mod_7")).expect("rm -r");
    let removed = update_paths(&index, &root, &["mod_7"]);
    assert!(removed.full, "{removed:?}");
    assert_eq!(removed.removed, 30, "{removed:?}");
    // An ignore file changed: every file under it may be in or out now.
    write("sub/.gitignore", "*.gen.rs\nkept.rs\n");
    let ignore_changed = update_paths(&index, &root, &["sub/.gitignore"]);
    assert!(ignore_changed.full, "{ignore_changed:?}");
    assert!(index.file("sub/kept.rs").expect("file").is_none());
}

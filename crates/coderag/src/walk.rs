//! Which files of a repository are indexed.
//!
//! The walk honours `.gitignore`, `.ignore` and `.git/info/exclude` (with or
//! without a `.git` directory) and skips hidden entries. On top of that a
//! file is left out, with the reason counted, when it is:
//! * secret-bearing by name: `.env*`, private keys and certificates
//!   (`*.pem`, `*.key`, `id_rsa`…), credential stores (`.netrc`,
//!   `.git-credentials`, `credentials.json`, keystores, `.npmrc`…) — or by
//!   content: a PEM private-key block;
//! * under a vendored or generated directory (`node_modules`, `vendor`,
//!   `target`, `dist`, `build`, `__pycache__`, virtualenvs…);
//! * generated (`*.min.js`, lock files, protobuf output, a `@generated` /
//!   `DO NOT EDIT` marker near the top, minified lines);
//! * binary (a NUL byte in the first 8 KiB, or not UTF-8);
//! * larger than the size limit.
//!
//! Symlinks are not followed, so the walk never leaves the repository.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    time::UNIX_EPOCH,
};

use serde::Serialize;

/// Directories never descended into: vendored code, build output, caches.
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "bower_components",
    "vendor",
    "third_party",
    "third-party",
    "target",
    "dist",
    "build",
    "__pycache__",
    "venv",
    "site-packages",
    "coverage",
];

/// A file the walk found, before its content is read.
#[derive(Debug, Clone)]
pub struct Found {
    /// Relative to the repository, `/`-separated.
    pub rel: String,
    pub abs: PathBuf,
    pub size: u64,
    /// Modification time, nanoseconds since the epoch (0 when unknown).
    pub mtime: u64,
}

/// Why a file was not indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    Secret,
    Vendored,
    Generated,
    Binary,
    TooLarge,
    Unreadable,
}

impl Skip {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Skip::Secret => "secret",
            Skip::Vendored => "vendored",
            Skip::Generated => "generated",
            Skip::Binary => "binary",
            Skip::TooLarge => "too_large",
            Skip::Unreadable => "unreadable",
        }
    }
}

/// Walks `repo` and returns the candidate files (sorted by path) and the
/// files skipped by name or size, with their reasons.
pub fn walk(repo: &Path, max_file_bytes: u64) -> (Vec<Found>, Vec<(String, Skip)>) {
    let walker = walker(repo)
        .filter_entry(|entry| !is_skipped_dir(entry))
        .build();
    collect(repo, walker, max_file_bytes)
}

/// What [`walk`] would say of just these files (relative, `/`-separated):
/// the same candidates and skips, restricted to `files`. A path the walk
/// would not yield at all (gone, ignored, hidden, under a skipped
/// directory, a symlink, a directory) is in neither list.
///
/// It is the same walk, descending only into the directories on the way to
/// `files`: so every `.gitignore`, `.ignore` and `.git/info/exclude` that
/// the full walk would apply to a file (nested ones included) is applied,
/// while directories off the way are never read.
pub fn walk_files(
    repo: &Path,
    files: &[String],
    max_file_bytes: u64,
) -> (Vec<Found>, Vec<(String, Skip)>) {
    let mut wanted: HashSet<PathBuf> = HashSet::new();
    let mut on_the_way: HashSet<PathBuf> = HashSet::new();
    for rel in files {
        let path = repo.join(rel);
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == repo || !d.starts_with(repo) || !on_the_way.insert(d.to_path_buf()) {
                break;
            }
            dir = d.parent();
        }
        wanted.insert(path);
    }
    let walker = walker(repo)
        .filter_entry(move |entry| {
            if is_skipped_dir(entry) {
                return false;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if is_dir {
                on_the_way.contains(entry.path())
            } else {
                wanted.contains(entry.path())
            }
        })
        .build();
    collect(repo, walker, max_file_bytes)
}

/// The walk's rules: ignore files, hidden entries, no symlinks.
fn walker(repo: &Path) -> ignore::WalkBuilder {
    let mut builder = ignore::WalkBuilder::new(repo);
    builder
        .hidden(true)
        .follow_links(false)
        .require_git(false)
        .git_global(false)
        .parents(false);
    builder
}

/// Whether the walk never descends into `entry`: a vendored or build
/// directory below the root.
fn is_skipped_dir(entry: &ignore::DirEntry) -> bool {
    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
    is_dir
        && entry.depth() > 0
        && SKIPPED_DIRS.contains(&entry.file_name().to_string_lossy().as_ref())
}

/// The files of a walk: candidates (sorted by path) and skips.
fn collect(
    repo: &Path,
    walker: ignore::Walk,
    max_file_bytes: u64,
) -> (Vec<Found>, Vec<(String, Skip)>) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(repo) else {
            continue;
        };
        let rel = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if let Some(reason) = skip_by_name(&rel) {
            skipped.push((rel, reason));
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            skipped.push((rel, Skip::Unreadable));
            continue;
        };
        if meta.len() > max_file_bytes {
            skipped.push((rel, Skip::TooLarge));
            continue;
        }
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        found.push(Found {
            rel,
            abs: entry.path().to_path_buf(),
            size: meta.len(),
            mtime,
        });
    }
    found.sort_by(|a, b| a.rel.cmp(&b.rel));
    (found, skipped)
}

/// The reason a relative path is never indexed, judged by its name alone.
pub fn skip_by_name(rel: &str) -> Option<Skip> {
    let lower = rel.to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split('/').collect();
    let name = parts.pop().unwrap_or_default();
    if is_secret_name(name) {
        return Some(Skip::Secret);
    }
    if parts
        .iter()
        .any(|dir| SKIPPED_DIRS.contains(dir) || dir.starts_with('.'))
    {
        return Some(Skip::Vendored);
    }
    let generated_suffixes = [
        ".min.js",
        ".min.css",
        ".map",
        ".pb.go",
        "_pb2.py",
        "_pb2_grpc.py",
        ".pb.cc",
        ".pb.h",
        ".generated.ts",
        ".g.dart",
        ".lock",
    ];
    let generated_names = [
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "cargo.lock",
        "poetry.lock",
        "go.sum",
    ];
    if generated_names.contains(&name) || generated_suffixes.iter().any(|s| name.ends_with(s)) {
        return Some(Skip::Generated);
    }
    None
}

/// Secret-bearing file names: environment files, private keys and
/// certificates, credential stores.
fn is_secret_name(name: &str) -> bool {
    const EXACT: &[&str] = &[
        ".netrc",
        "_netrc",
        ".npmrc",
        ".pypirc",
        ".git-credentials",
        ".htpasswd",
        ".pgpass",
        "credentials",
        "credentials.json",
        "credentials.yml",
        "credentials.yaml",
        "secrets.json",
        "secrets.yml",
        "secrets.yaml",
        "service-account.json",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
    ];
    const SUFFIXES: &[&str] = &[
        ".pem",
        ".key",
        ".p12",
        ".pfx",
        ".jks",
        ".keystore",
        ".kdbx",
        ".ppk",
        ".gpg",
    ];
    name.starts_with(".env")
        || name.ends_with(".env")
        || EXACT.contains(&name)
        || SUFFIXES.iter().any(|s| name.ends_with(s))
        || ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
            .iter()
            .any(|key| name.starts_with(key))
}

/// Checks a file's content; the text when it is to be indexed.
pub fn accept_content(bytes: Vec<u8>) -> Result<String, Skip> {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Err(Skip::Binary);
    }
    let text = String::from_utf8(bytes).map_err(|_| Skip::Binary)?;
    if text.contains("PRIVATE KEY-----") {
        return Err(Skip::Secret);
    }
    let top: String = text.lines().take(5).collect::<Vec<_>>().join("\n");
    if top.contains("@generated")
        || top.contains("DO NOT EDIT")
        || top.contains("Code generated by")
        || top.contains("autogenerated by")
    {
        return Err(Skip::Generated);
    }
    // Minified: a long file of very long lines.
    let lines = text.lines().count().max(1);
    if text.len() > 4096 && text.len() / lines > 500 {
        return Err(Skip::Generated);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_never_indexed() {
        for (path, reason) in [
            (".env", Some(Skip::Secret)),
            ("config/.env.production", Some(Skip::Secret)),
            ("deploy/server.pem", Some(Skip::Secret)),
            ("keys/id_ed25519.pub", Some(Skip::Secret)),
            ("home/.git-credentials", Some(Skip::Secret)),
            ("aws/credentials", Some(Skip::Secret)),
            ("node_modules/x/index.js", Some(Skip::Vendored)),
            ("a/vendor/b.go", Some(Skip::Vendored)),
            ("web/app.min.js", Some(Skip::Generated)),
            ("Cargo.lock", Some(Skip::Generated)),
            ("api/x.pb.go", Some(Skip::Generated)),
            ("src/lib.rs", None),
            ("src/environment.py", None),
            ("docs/keys.md", None),
        ] {
            assert_eq!(skip_by_name(path), reason, "{path}");
        }
    }

    #[test]
    fn content_checks() {
        assert_eq!(accept_content(b"a\0b".to_vec()), Err(Skip::Binary));
        assert_eq!(accept_content(vec![0xff, 0xfe, 0x41]), Err(Skip::Binary));
        assert_eq!(
            accept_content(b"x = 1\n-----BEGIN RSA PRIVATE KEY-----\nabc\n".to_vec()),
            Err(Skip::Secret)
        );
        assert_eq!(
            accept_content(b"// Code generated by protoc. DO NOT EDIT.\npackage x\n".to_vec()),
            Err(Skip::Generated)
        );
        assert_eq!(
            accept_content("x".repeat(10_000).into_bytes()),
            Err(Skip::Generated)
        );
        assert_eq!(
            accept_content(b"fn main() {}\n".to_vec()).as_deref(),
            Ok("fn main() {}\n")
        );
    }
}

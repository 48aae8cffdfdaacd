//! Keeping an index fresh while the server runs: one `notify` watcher per
//! indexed repository (inotify on Linux, FSEvents on macOS, ReadDirectoryChanges
//! on Windows) feeds a thread that collects the paths of a burst of changes,
//! waits for it to settle and then updates the index for just those paths
//! ([`RepoIndex::update_paths`]): each is judged by the same walk rules as
//! the `index` tool (ignore files, secrets, skips), read again only if its
//! size or time changed, parsed again only if its content hash changed,
//! removed if gone, in one atomic commit. The rest of the tree is not
//! walked, so the update costs what changed, not what is indexed.
//!
//! Paths alone cannot always tell what changed; then the update walks the
//! whole tree as `index` does: when the platform says events were lost
//! (a rescan notice, an error), when a burst names more than
//! [`crate::index::MAX_CHANGED_PATHS`] paths, and in the cases
//! `update_paths` lists (directories, ignore files). Events inside `.git/`
//! (but `.git/info/exclude`) and inside the index directory itself (when it
//! lies under the repository) are not changes. A repository too large for
//! the system's watch limit is left unwatched with a warning; results from
//! files changed since indexing are still marked stale.

use std::{
    collections::BTreeSet,
    path::PathBuf,
    sync::{
        Arc,
        atomic::AtomicBool,
        mpsc::{self, RecvTimeoutError},
    },
    time::{Duration, Instant},
};

use notify::{EventKind, RecursiveMode, Watcher as _};

use crate::{
    dense::Embedder,
    index::{MAX_CHANGED_PATHS, RepoIndex, UpdateOptions},
};

/// Quiet time after the last change before updating.
const SETTLE: Duration = Duration::from_millis(300);
/// Longest wait after the first change of a burst.
const MAX_WAIT: Duration = Duration::from_secs(3);

/// A running watcher; dropping it stops the watcher and its thread.
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch").finish_non_exhaustive()
    }
}

/// Starts watching `index`'s repository; `after` is told of every update
/// the watcher ran (for logging and tests). With an `embedder`, updates
/// keep the vectors current as `index` does.
pub fn start(
    index: Arc<RepoIndex>,
    max_file_bytes: u64,
    embedder: Option<Arc<dyn Embedder>>,
    after: impl Fn(&crate::index::UpdateReport) + Send + 'static,
) -> Result<Watch, notify::Error> {
    let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher = notify::recommended_watcher(tx)?;
    watcher.watch(&index.repo, RecursiveMode::Recursive)?;
    let ignored = Ignored {
        git: index.repo.join(".git"),
        index_dir: index.dir.clone(),
    };
    std::thread::Builder::new()
        .name("coderag-watch".to_owned())
        .spawn(move || {
            run(
                &index,
                max_file_bytes,
                embedder.as_deref(),
                &ignored,
                &rx,
                &after,
            )
        })
        .map_err(|e| notify::Error::generic(&format!("starting the watch thread: {e}")))?;
    Ok(Watch { _watcher: watcher })
}

/// Paths whose changes are not the repository's.
struct Ignored {
    git: PathBuf,
    index_dir: PathBuf,
}

impl Ignored {
    /// Whether `path` may change what is indexed.
    fn relevant_path(&self, path: &std::path::Path) -> bool {
        !path.starts_with(&self.index_dir)
            && (!path.starts_with(&self.git) || path == self.git.join("info/exclude"))
    }
}

/// What a burst of events changed.
#[derive(Debug, Default)]
struct Burst {
    paths: BTreeSet<PathBuf>,
    /// Events were lost or named no path: only a full walk can tell.
    rescan: bool,
}

impl Burst {
    /// Takes in one event; whether it concerns the repository.
    fn add(&mut self, ignored: &Ignored, event: notify::Result<notify::Event>) -> bool {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!("watching: {e}; walking the whole repository");
                self.rescan = true;
                return true;
            }
        };
        if event.need_rescan() {
            self.rescan = true;
            return true;
        }
        if matches!(event.kind, EventKind::Access(_)) {
            return false;
        }
        if event.paths.is_empty() {
            // Something changed, the platform does not say what.
            self.rescan = matches!(event.kind, EventKind::Other | EventKind::Any) || self.rescan;
            return self.rescan;
        }
        let mut relevant = false;
        for path in event.paths {
            if ignored.relevant_path(&path) {
                relevant = true;
                if self.paths.len() <= MAX_CHANGED_PATHS {
                    self.paths.insert(path);
                }
            }
        }
        relevant
    }
}

/// The watch loop: ends when the watcher (the sender) is dropped.
fn run(
    index: &RepoIndex,
    max_file_bytes: u64,
    embedder: Option<&dyn Embedder>,
    ignored: &Ignored,
    rx: &mpsc::Receiver<notify::Result<notify::Event>>,
    after: &dyn Fn(&crate::index::UpdateReport),
) {
    loop {
        // Wait for the first change of a burst.
        let mut burst = Burst::default();
        loop {
            match rx.recv() {
                Ok(event) => {
                    if burst.add(ignored, event) {
                        break;
                    }
                }
                Err(_) => return,
            }
        }
        // Let it settle.
        let first = Instant::now();
        loop {
            let left = MAX_WAIT.saturating_sub(first.elapsed());
            if left.is_zero() {
                break;
            }
            match rx.recv_timeout(SETTLE.min(left)) {
                Ok(event) => {
                    burst.add(ignored, event);
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let cancel = AtomicBool::new(false);
        let options = UpdateOptions {
            max_file_bytes,
            cancel: &cancel,
            progress: &|_, _, _| {},
            embedder,
        };
        let updated = if burst.rescan || burst.paths.len() > MAX_CHANGED_PATHS {
            index.update(options)
        } else {
            let paths: Vec<PathBuf> = burst.paths.into_iter().collect();
            index.update_paths(&paths, options)
        };
        match updated {
            Ok(report) => {
                tracing::debug!(
                    repo = %index.repo.display(),
                    indexed = report.indexed,
                    removed = report.removed,
                    full = report.full,
                    ms = report.elapsed_ms,
                    "index updated after a change"
                );
                after(&report);
            }
            Err(e) => tracing::warn!(repo = %index.repo.display(), "updating after a change: {e}"),
        }
    }
}

//! Keeping an index fresh while the server runs: one `notify` watcher per
//! indexed repository (inotify on Linux, FSEvents on macOS, ReadDirectoryChanges
//! on Windows) feeds a thread that waits for a burst of changes to settle and
//! then runs the same incremental update as the `index` tool: only files
//! whose size or time changed are read again, only those whose content hash
//! changed are parsed again, in one atomic commit.
//!
//! The update still walks the tree (so `.gitignore` rules, skips and
//! deletions are judged exactly as by `index`); the watcher only decides
//! *when*. Events inside `.git/` and inside the index directory itself (when
//! it lies under the repository) are not changes. A repository too large
//! for the system's watch limit is left unwatched with a warning; results
//! from files changed since indexing are still marked stale.

use std::{
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
    index::{RepoIndex, UpdateOptions},
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
    fn relevant(&self, event: &notify::Event) -> bool {
        if matches!(event.kind, EventKind::Access(_)) {
            return false;
        }
        event
            .paths
            .iter()
            .any(|p| !p.starts_with(&self.git) && !p.starts_with(&self.index_dir))
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
        match rx.recv() {
            Ok(Ok(event)) if ignored.relevant(&event) => {}
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => {
                tracing::warn!(repo = %index.repo.display(), "watching: {e}");
                continue;
            }
            Err(_) => return,
        }
        // Let it settle.
        let first = Instant::now();
        loop {
            let left = MAX_WAIT.saturating_sub(first.elapsed());
            if left.is_zero() {
                break;
            }
            match rx.recv_timeout(SETTLE.min(left)) {
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let cancel = AtomicBool::new(false);
        match index.update(UpdateOptions {
            max_file_bytes,
            cancel: &cancel,
            progress: &|_, _, _| {},
            embedder,
        }) {
            Ok(report) => {
                tracing::debug!(
                    repo = %index.repo.display(),
                    indexed = report.indexed,
                    removed = report.removed,
                    ms = report.elapsed_ms,
                    "index updated after a change"
                );
                after(&report);
            }
            Err(e) => tracing::warn!(repo = %index.repo.display(), "updating after a change: {e}"),
        }
    }
}

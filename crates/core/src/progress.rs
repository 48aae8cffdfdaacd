//! `core::progress`: how a tool reports how far it got.
//!
//! One [`Progress`] per call, from its request context. Each report goes
//! to the two places a client may look:
//! * a `notifications/progress` to the caller, when its request carried a
//!   progress token (all protocol versions);
//! * the status message of the call's MCP task, when the call runs as one
//!   ([`crate::tasks`]), so `tasks/get` shows it from any process — at most
//!   every [`TASK_NOTE_EVERY`], the last report always.
//!
//! Reports are sent in order by one forwarding task; reporting never waits
//! and never fails the tool.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use rmcp::{
    RoleServer,
    model::{ProgressNotificationParam, ProgressToken},
    service::RequestContext,
};
use tokio::sync::mpsc;

use crate::tasks::Tasks;

/// The shortest interval between two writes of a task's status message.
pub const TASK_NOTE_EVERY: Duration = Duration::from_millis(500);

/// The task a call runs as, put in its request context by [`crate::tasks`].
#[derive(Clone)]
pub(crate) struct TaskNote {
    pub(crate) tasks: Arc<Tasks>,
    pub(crate) id: String,
}

struct Report {
    done: u64,
    total: Option<u64>,
    message: Option<String>,
}

/// Where one call's progress goes; see the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Progress {
    tx: mpsc::UnboundedSender<Report>,
    forwarder: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").finish_non_exhaustive()
    }
}

impl Progress {
    /// The progress channel of the call `ctx` belongs to; `None` when
    /// nobody listens (no progress token, not a task), so a tool can skip
    /// the work of describing its progress.
    pub fn of(ctx: &RequestContext<RoleServer>) -> Option<Self> {
        let token = ctx.meta.get_progress_token();
        let task = ctx.extensions.get::<TaskNote>().cloned();
        if token.is_none() && task.is_none() {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let forwarder = tokio::spawn(forward(rx, token, ctx.peer.clone(), task));
        Some(Self {
            tx,
            forwarder: Arc::new(std::sync::Mutex::new(Some(forwarder))),
        })
    }

    /// Waits until every report was delivered, so none arrives after the
    /// call's result (the protocol wants progress to stop at completion).
    /// Call it last, once the other clones are dropped; it gives up after
    /// a second if one is still alive.
    pub async fn finish(self) {
        let forwarder = self
            .forwarder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(self.tx);
        if let Some(forwarder) = forwarder {
            let _ = tokio::time::timeout(Duration::from_secs(1), forwarder).await;
        }
    }

    /// `done` of `total` (when known), with a line for people.
    pub fn report(&self, done: u64, total: Option<u64>, message: Option<String>) {
        let _ = self.tx.send(Report {
            done,
            total,
            message,
        });
    }
}

async fn forward(
    mut rx: mpsc::UnboundedReceiver<Report>,
    token: Option<ProgressToken>,
    peer: rmcp::Peer<RoleServer>,
    task: Option<TaskNote>,
) {
    let mut last_note: Option<Instant> = None;
    let mut pending: Option<String> = None;
    let mut peer_gone = false;
    while let Some(report) = rx.recv().await {
        if let (Some(token), false) = (&token, peer_gone) {
            let mut note = ProgressNotificationParam::new(token.clone(), report.done as f64);
            if let Some(total) = report.total {
                note = note.with_total(total as f64);
            }
            if let Some(message) = &report.message {
                note = note.with_message(message.clone());
            }
            // A client that went away stops notifications, not the task notes.
            peer_gone = peer.notify_progress(note).await.is_err();
        }
        if let Some(task) = &task {
            let line = describe(&report);
            if last_note.is_none_or(|at| at.elapsed() >= TASK_NOTE_EVERY) {
                task.tasks.note(&task.id, &line).await;
                last_note = Some(Instant::now());
                pending = None;
            } else {
                pending = Some(line);
            }
        }
    }
    // The channel closed (the call ended): the last line is written too.
    if let (Some(task), Some(line)) = (&task, pending) {
        task.tasks.note(&task.id, &line).await;
    }
}

fn describe(report: &Report) -> String {
    let count = match report.total {
        Some(total) => format!("{} of {total}", report.done),
        None => report.done.to_string(),
    };
    match &report.message {
        Some(message) => format!("{count}: {message}"),
        None => count,
    }
}

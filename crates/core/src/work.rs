//! Resource governance for tool calls: admission, deadlines and the CPU
//! worker pool.
//!
//! * **Admission.** At most `max_calls` tool calls execute at once in the
//!   process, and one MCP session holds at most `per_session` of them, so a
//!   single HTTP session cannot starve the others. Further calls wait in a
//!   bounded queue (`queue` waiters, each at most `queue_wait`), then get a
//!   clear "busy" error. Tokio's semaphores are fair, so waiters are served in
//!   arrival order.
//! * **Deadlines.** Every call has a wall-clock budget (`call_timeout`, per
//!   server `FF_CALL_TIMEOUT_SECS_<SERVER>`, per call `_meta`
//!   `"ffmcp/timeoutMs"` up to `call_timeout_max`). On expiry the call's
//!   cancellation token is cancelled (cooperative work such as docparse's
//!   page loop and sandboxed programs stop) and the caller gets a timeout
//!   error at once.
//! * **CPU work off the protocol threads.** [`cpu_work`] runs parsing,
//!   conversion and analysis on tokio's blocking threads behind a semaphore
//!   of `workers` permits (default: the number of cores). The permit is held
//!   until the work really ends, so abandoned work still counts against the
//!   pool and hostile calls cannot pile up threads; the threads that read and
//!   answer protocol messages (ping, cancellation) never run it.
//!
//! Settings come from the configuration: the binary installs the process's
//! pool once ([`Governor::from_config`], [`Governor::install`]);
//! tests build their own [`Governor`].

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::tool::ToolError;

/// Inputs smaller than this run inline: a thread hop would cost more than
/// the work, and every parser is linear (or depth-limited) at this size.
pub const INLINE_WORK_BYTES: usize = 8 * 1024;

/// The limits, with their variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `FF_MAX_CALLS`: tool calls executing at once (default 4 × cores, at least 8).
    pub max_calls: usize,
    /// `FF_MAX_CALLS_PER_SESSION`: of those, per MCP session (default half, at least 1).
    pub per_session: usize,
    /// `FF_CALL_QUEUE`: calls allowed to wait for a slot (default 4 × `max_calls`).
    pub queue: usize,
    /// `FF_CALL_QUEUE_WAIT_MS`: longest wait for a slot (default 30 s).
    pub queue_wait: Duration,
    /// `FF_WORKERS`: CPU-bound jobs at once (default: the number of cores).
    pub workers: usize,
    /// `FF_CALL_TIMEOUT_SECS`: a call's budget (default 120 s; per server
    /// `FF_CALL_TIMEOUT_SECS_<SERVER>`, e.g. `_SEO`).
    pub call_timeout: Duration,
    /// `FF_CALL_TIMEOUT_MAX_SECS`: the most a call's `_meta` may ask for
    /// (default 900 s).
    pub call_timeout_max: Duration,
    /// Per-server budgets that replace `call_timeout` (from the variables).
    pub server_timeouts: Vec<(String, Duration)>,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let max_calls = (4 * cores).max(8);
        Self {
            max_calls,
            per_session: (max_calls / 2).max(1),
            queue: 4 * max_calls,
            queue_wait: Duration::from_secs(30),
            workers: cores,
            call_timeout: Duration::from_secs(120),
            call_timeout_max: Duration::from_secs(900),
            server_timeouts: Vec::new(),
        }
    }
}

/// The servers whose calls may be long by nature, and their default budget.
const SERVER_DEFAULT_TIMEOUTS: &[(&str, u64)] = &[("seo", 600), ("docparse", 300)];

impl Limits {
    /// Reads the variables through `lookup`; a value that is not a positive
    /// number is a problem (reported), and the default stays.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> (Self, Vec<String>) {
        let mut limits = Self::default();
        let mut problems = Vec::new();
        let mut number = |name: &str| -> Option<u64> {
            let raw = lookup(name)?;
            match raw.trim().parse::<u64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    problems.push(format!("{name}={raw:?} is not a positive whole number"));
                    None
                }
            }
        };
        let explicit_calls = number("FF_MAX_CALLS");
        if let Some(n) = explicit_calls {
            limits.max_calls = n as usize;
            limits.per_session = (limits.max_calls / 2).max(1);
            limits.queue = 4 * limits.max_calls;
        }
        if let Some(n) = number("FF_MAX_CALLS_PER_SESSION") {
            limits.per_session = (n as usize).min(limits.max_calls);
        }
        if let Some(n) = number("FF_CALL_QUEUE") {
            limits.queue = n as usize;
        }
        if let Some(n) = number("FF_CALL_QUEUE_WAIT_MS") {
            limits.queue_wait = Duration::from_millis(n);
        }
        if let Some(n) = number("FF_WORKERS") {
            limits.workers = n as usize;
        }
        if let Some(n) = number("FF_CALL_TIMEOUT_SECS") {
            limits.call_timeout = Duration::from_secs(n);
        }
        if let Some(n) = number("FF_CALL_TIMEOUT_MAX_SECS") {
            limits.call_timeout_max = Duration::from_secs(n);
        }
        for (server, secs) in SERVER_DEFAULT_TIMEOUTS {
            limits
                .server_timeouts
                .push(((*server).to_owned(), Duration::from_secs(*secs)));
        }
        for server in [
            "transform",
            "docparse",
            "seo",
            "competitive-intel",
            "leadgen",
        ] {
            let var = format!(
                "FF_CALL_TIMEOUT_SECS_{}",
                server.replace('-', "_").to_ascii_uppercase()
            );
            if let Some(n) = number(&var) {
                limits.server_timeouts.retain(|(s, _)| s != server);
                limits
                    .server_timeouts
                    .push((server.to_owned(), Duration::from_secs(n)));
            }
        }
        (limits, problems)
    }

    /// A call's budget: the server's (or the default), or what the call's
    /// `_meta` asks for, never above the ceiling.
    pub fn budget(&self, server: &str, requested_ms: Option<u64>) -> Duration {
        let base = self
            .server_timeouts
            .iter()
            .find(|(s, _)| server.ends_with(s.as_str()))
            .map_or(self.call_timeout, |(_, d)| *d);
        match requested_ms {
            Some(ms) if ms > 0 => Duration::from_millis(ms).min(self.call_timeout_max),
            _ => base,
        }
    }
}

static POOL: OnceLock<Arc<Governor>> = OnceLock::new();

/// Admission and the worker pool of one process.
#[derive(Debug)]
pub struct Governor {
    limits: Limits,
    calls: Arc<Semaphore>,
    waiting: AtomicUsize,
    /// Per-session slots of the sessions with a call running or waiting;
    /// the last call of a session out removes its entry ([`Tracked`]), so
    /// ended sessions leave nothing here.
    sessions: SessionMap,
    workers: Arc<Semaphore>,
}

type SessionMap = Arc<Mutex<HashMap<String, Arc<Semaphore>>>>;

/// A running call's slot; released when dropped.
#[derive(Debug)]
pub struct Admission {
    // Field order is drop order: the session permit (and its reference to
    // the session's slots) goes before `_tracked` looks at the count.
    _session: Option<OwnedSemaphorePermit>,
    _tracked: Option<Tracked>,
    _global: OwnedSemaphorePermit,
}

/// One call's hold on its session's entry in [`Governor::sessions`].
#[derive(Debug)]
struct Tracked {
    id: String,
    slots: Arc<Semaphore>,
    sessions: SessionMap,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let mut sessions = lock(&self.sessions);
        // Only the map's reference and ours are left: no other call of the
        // session runs or waits (each holds a reference while it does).
        if Arc::strong_count(&self.slots) == 2
            && sessions
                .get(&self.id)
                .is_some_and(|slots| Arc::ptr_eq(slots, &self.slots))
        {
            sessions.remove(&self.id);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Governor {
    /// A governor enforcing `limits` (zero counts are raised to one).
    pub fn new(limits: Limits) -> Self {
        Self {
            calls: Arc::new(Semaphore::new(limits.max_calls.max(1))),
            workers: Arc::new(Semaphore::new(limits.workers.max(1))),
            waiting: AtomicUsize::new(0),
            sessions: Arc::default(),
            limits,
        }
    }

    /// From the configuration; problems are logged (the default stays).
    pub fn from_config(config: &crate::config::Config) -> Self {
        let (limits, problems) = Limits::from_lookup(&|name| config.lookup(name));
        for problem in problems {
            tracing::warn!(%problem, "call limits");
        }
        Governor::new(limits)
    }

    /// Makes `governor` the process's worker pool for [`cpu_work`]: the one
    /// process-wide resource, like tokio's blocking pool, installed once by
    /// the binary from its configuration. Later calls change nothing.
    pub fn install(governor: Arc<Governor>) {
        let _ = POOL.set(governor);
    }

    /// The installed pool (the defaults when none was installed, e.g. in
    /// unit tests).
    pub fn pool() -> &'static Arc<Governor> {
        POOL.get_or_init(|| Arc::new(Governor::new(Limits::default())))
    }

    /// The limits this governor enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Waits for a slot for one call of `session` (`None`: no per-session
    /// share, e.g. stateless HTTP); a busy error when the queue is full or
    /// the wait runs out.
    pub async fn admit(&self, session: Option<&str>) -> Result<Admission, ToolError> {
        let tracked = session.map(|id| self.track(id));
        let session_slots = tracked.as_ref().map(|t| Arc::clone(&t.slots));
        // Fast path: free slots, no queueing.
        let fast_session = match &session_slots {
            Some(slots) => Arc::clone(slots).try_acquire_owned().ok().map(Some),
            None => Some(None),
        };
        if let Some(session_permit) = fast_session
            && let Ok(global) = Arc::clone(&self.calls).try_acquire_owned()
        {
            return Ok(Admission {
                _session: session_permit,
                _tracked: tracked,
                _global: global,
            });
        }
        let waiting = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _leave = Leave(&self.waiting);
        if waiting >= self.limits.queue {
            return Err(self.busy("the queue of waiting calls is full"));
        }
        let wait = async {
            let session = match session_slots {
                Some(slots) => Some(slots.acquire_owned().await.ok()?),
                None => None,
            };
            let global = Arc::clone(&self.calls).acquire_owned().await.ok()?;
            Some((session, global))
        };
        match tokio::time::timeout(self.limits.queue_wait, wait).await {
            Ok(Some((session, global))) => Ok(Admission {
                _session: session,
                _tracked: tracked,
                _global: global,
            }),
            Ok(None) => Err(ToolError::internal("the call limiter was closed")),
            Err(_) => Err(self.busy(&format!(
                "no slot came free within {} ms",
                self.limits.queue_wait.as_millis()
            ))),
        }
    }

    fn busy(&self, why: &str) -> ToolError {
        ToolError::upstream(format!(
            "server busy: {why} ({} calls may run at once, {} per session; FF_MAX_CALLS, \
             FF_MAX_CALLS_PER_SESSION, FF_CALL_QUEUE and FF_CALL_QUEUE_WAIT_MS set the limits); \
             try again shortly",
            self.limits.max_calls, self.limits.per_session
        ))
    }

    /// Waits until no admitted call is running: a cancelled call holds its
    /// slot until it has stopped (and saved what it saves on the way out),
    /// so a process that exits after this cuts no work off. How the command
    /// line waits after Ctrl-C, since MCP sends no answer to a cancelled
    /// request. Bound it with a timeout: calls admitted meanwhile count too.
    /// It holds the slots it gathers while it waits, so new calls queue
    /// behind it: for a process about to exit, not for one still serving.
    pub async fn idle(&self) {
        let all = u32::try_from(self.limits.max_calls.max(1)).unwrap_or(u32::MAX);
        let _ = self.calls.acquire_many(all).await;
    }

    /// Sessions with a call running or waiting now.
    pub fn tracked_sessions(&self) -> usize {
        lock(&self.sessions).len()
    }

    fn track(&self, id: &str) -> Tracked {
        let mut sessions = lock(&self.sessions);
        let slots = Arc::clone(
            sessions
                .entry(id.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.limits.per_session.max(1)))),
        );
        Tracked {
            id: id.to_owned(),
            slots,
            sessions: Arc::clone(&self.sessions),
        }
    }

    /// Runs `work` on the worker pool (see the module docs).
    pub async fn run_cpu<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ToolError> {
        let permit = Arc::clone(&self.workers)
            .acquire_owned()
            .await
            .map_err(|_| ToolError::internal("the worker pool was closed"))?;
        tokio::task::spawn_blocking(move || {
            let _held = permit;
            work()
        })
        .await
        .map_err(|err| ToolError::internal(format!("background task failed: {err}")))
    }
}

struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs CPU-bound tool work on an input of `input_bytes`: inline when tiny,
/// otherwise on the process's bounded worker pool.
pub async fn cpu_work<T: Send + 'static>(
    input_bytes: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ToolError> {
    if input_bytes < INLINE_WORK_BYTES {
        return Ok(work());
    }
    Governor::pool().run_cpu(work).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_calls: usize, per_session: usize, queue: usize, wait_ms: u64) -> Limits {
        Limits {
            max_calls,
            per_session,
            queue,
            queue_wait: Duration::from_millis(wait_ms),
            ..Limits::default()
        }
    }

    #[tokio::test]
    async fn one_session_cannot_take_every_slot() {
        let governor = Governor::new(limits(4, 2, 8, 50));
        let a1 = governor.admit(Some("a")).await.expect("slot");
        let a2 = governor.admit(Some("a")).await.expect("slot");
        let third = governor
            .admit(Some("a"))
            .await
            .expect_err("per-session cap");
        assert!(third.message().contains("server busy"), "{third}");
        // Another session still gets in.
        let _b = governor.admit(Some("b")).await.expect("other session");
        drop((a1, a2));
        governor.admit(Some("a")).await.expect("slot again");
    }

    #[tokio::test]
    async fn ended_sessions_leave_no_entry_behind() {
        let governor = Arc::new(Governor::new(limits(4, 1, 8, 50)));
        for n in 0..2000 {
            let call = governor.admit(Some(&format!("s{n}"))).await.expect("slot");
            drop(call);
        }
        assert_eq!(governor.tracked_sessions(), 0);
        // A running call keeps its session's entry; a refused one of the
        // same session leaves it in place; the last one out removes it.
        let running = governor.admit(Some("a")).await.expect("slot");
        governor
            .admit(Some("a"))
            .await
            .expect_err("per-session cap");
        assert_eq!(governor.tracked_sessions(), 1);
        drop(running);
        assert_eq!(governor.tracked_sessions(), 0);
    }

    #[tokio::test]
    async fn the_queue_is_bounded_and_the_wait_too() {
        let governor = Arc::new(Governor::new(limits(1, 1, 1, 200)));
        let held = governor.admit(None).await.expect("slot");
        let waiter = {
            let governor = Arc::clone(&governor);
            tokio::spawn(async move { governor.admit(None).await.map(|_| ()) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let full = governor.admit(None).await.expect_err("queue full");
        assert!(full.message().contains("queue"), "{full}");
        let timed_out = waiter.await.expect("join").expect_err("wait ran out");
        assert!(
            timed_out.message().contains("no slot came free"),
            "{timed_out}"
        );
        drop(held);
        governor.admit(None).await.expect("free again");
    }

    #[tokio::test]
    async fn abandoned_cpu_work_keeps_its_worker_until_it_ends() {
        let governor = Arc::new(Governor::new(Limits {
            workers: 1,
            ..Limits::default()
        }));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let slow = {
            let governor = Arc::clone(&governor);
            tokio::spawn(async move {
                governor
                    .run_cpu(move || {
                        let _ = rx.recv_timeout(Duration::from_secs(5));
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        slow.abort();
        let second = tokio::time::timeout(Duration::from_millis(100), governor.run_cpu(|| 7)).await;
        assert!(second.is_err(), "the pool bound held while the work ran");
        tx.send(()).expect("release");
        let value = tokio::time::timeout(Duration::from_secs(5), governor.run_cpu(|| 7))
            .await
            .expect("worker freed")
            .expect("ran");
        assert_eq!(value, 7);
    }

    #[test]
    fn budgets_per_server_and_per_call_within_the_ceiling() {
        let (limits, problems) = Limits::from_lookup(&|name| match name {
            "FF_CALL_TIMEOUT_SECS" => Some("60".into()),
            "FF_CALL_TIMEOUT_SECS_TRANSFORM" => Some("5".into()),
            "FF_CALL_TIMEOUT_MAX_SECS" => Some("100".into()),
            "FF_WORKERS" => Some("zero".into()),
            _ => None,
        });
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("FF_WORKERS"));
        assert_eq!(limits.budget("leadgen", None), Duration::from_secs(60));
        assert_eq!(
            limits.budget("ffmcp-transform", None),
            Duration::from_secs(5)
        );
        assert_eq!(limits.budget("seo", None), Duration::from_secs(600));
        assert_eq!(
            limits.budget("leadgen", Some(2_000)),
            Duration::from_secs(2)
        );
        assert_eq!(
            limits.budget("leadgen", Some(10_000_000)),
            Duration::from_secs(100)
        );
    }
}

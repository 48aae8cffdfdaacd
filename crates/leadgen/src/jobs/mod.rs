//! Durable classification batches. A job's leads and every lead's result
//! live in the store (`lg_` tables of `core::store`, SQLite or
//! PostgreSQL): each result is committed the moment it arrives, guarded so
//! a lead is recorded once. When every model route is down the job waits
//! (state `waiting`) and probes again with growing pauses until a route
//! answers.
//!
//! Any number of processes on one database (replicas on PostgreSQL, or
//! processes sharing a SQLite file) run a job together: each *claims* the
//! leads it classifies with a lease (`FF_LEADGEN_LEASE_SECS`) that it
//! renews while it lives, so no lead is classified by two live processes;
//! a process killed mid-lead leaves leases that run out, and another takes
//! those leads then. The job's state and counts are read from its items,
//! so they are right whichever process recorded the last lead. A process
//! picks up unfinished jobs on start and, through
//! [`Engine::keep_joining`], the jobs other processes start later.

pub mod db;

pub use db::SCHEMA;
mod runner;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use ffmcp_core::{
    model::Router,
    store::{Db, Store, StoreError},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::lead::Lead;

/// A label the model may give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// The label (`decision_maker`).
    pub name: String,
    /// What it means, for the model (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A job's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Classifying.
    Running,
    /// Every model route is down; probing until one answers.
    Waiting,
    /// Stopped on an error that needs a change (credentials, routes); `job_resume` continues.
    Paused,
    Cancelled,
    Done,
}

impl JobState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Waiting => "waiting",
            Self::Paused => "paused",
            Self::Cancelled => "cancelled",
            Self::Done => "done",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "waiting" => Self::Waiting,
            "paused" => Self::Paused,
            "cancelled" => Self::Cancelled,
            "done" => Self::Done,
            _ => Self::Running,
        }
    }

    /// Nothing more happens without a call.
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Paused | Self::Cancelled | Self::Done)
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct JobStatus {
    pub id: String,
    pub state: JobState,
    pub total: u64,
    /// Leads classified.
    pub done: u64,
    /// Leads that could not be classified (the model's reply stayed invalid).
    pub failed: u64,
    pub pending: u64,
    /// Why the job waits or paused, the last time it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Times the job waited for a route to come back.
    pub pauses: u64,
    /// What the job's classified leads cost in model calls.
    pub usage: JobUsage,
    pub categories: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Model use of a job's classified leads (calls that ended in an outage
/// are counted in `ffmcp://stats`, not here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// USD; 0 where the model's price is unknown.
    pub cost_usd: f64,
    /// Provider attempts, retries included.
    pub attempts: u64,
    /// Leads answered by a fallback route rather than the primary.
    pub fallbacks: u64,
}

/// One lead's classification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ItemResult {
    pub label: String,
    /// 0..1, as the model judged it.
    pub confidence: f64,
    pub rationale: String,
    /// The model route that answered.
    pub route: String,
}

/// A new job.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub categories: Vec<Category>,
    pub instructions: Option<String>,
    /// Routes for this job (`provider:model,…`), else the configured ones.
    pub model: Option<String>,
    pub leads: Vec<Lead>,
}

/// Progress of a running job, as an observer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub state: JobState,
}

/// Receives progress (the server forwards it as MCP notifications).
pub type Observer = Arc<dyn Fn(Progress) + Send + Sync>;

/// Told the id of a job whose state or counts changed, for every job
/// (the server turns it into resource updates).
pub type OnChange = Arc<dyn Fn(&str) + Send + Sync>;

/// Tuning of the runner.
#[derive(Debug, Clone, Copy)]
pub struct JobSettings {
    /// Model calls in flight per job.
    pub concurrency: usize,
    /// First pause after every route failed; doubles up to `retry_max`
    /// (and never beyond the router's breaker cooldown, so a job probes
    /// again by the time the router would).
    pub retry_base: Duration,
    /// Longest pause between probes: a waiting job resumes within about
    /// this long of the provider's recovery.
    pub retry_max: Duration,
    /// How long a claimed lead stays claimed without renewal: a live
    /// process renews its leases well before; the leads of a killed one
    /// are taken over by another process this long after it died.
    pub lease: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(5),
            lease: Duration::from_secs(300),
        }
    }
}

impl JobSettings {
    /// Defaults, overridden by `FF_LEADGEN_CONCURRENCY`,
    /// `FF_LEADGEN_RETRY_MS`, `FF_LEADGEN_RETRY_MAX_MS` and
    /// `FF_LEADGEN_LEASE_SECS` (10..=86400, clamped).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut s = Self::default();
        let num = |var: &str| lookup(var).and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(n) = num("FF_LEADGEN_CONCURRENCY").filter(|n| (1..=64).contains(n)) {
            s.concurrency = n as usize;
        }
        if let Some(ms) = num("FF_LEADGEN_RETRY_MS") {
            s.retry_base = Duration::from_millis(ms.max(1));
        }
        if let Some(ms) = num("FF_LEADGEN_RETRY_MAX_MS") {
            s.retry_max = Duration::from_millis(ms.max(1));
        }
        if let Some(secs) = num("FF_LEADGEN_LEASE_SECS") {
            s.lease = Duration::from_secs(secs.clamp(10, 86_400));
        }
        s.retry_max = s.retry_max.max(s.retry_base);
        s
    }

    /// How often a runner renews its leases and reads the job's state
    /// (another process may have cancelled, paused or finished it): a
    /// third of the lease, at most a second.
    fn heartbeat(&self) -> Duration {
        (self.lease / 3)
            .min(Duration::from_secs(1))
            .max(Duration::from_millis(10))
    }
}

/// Why a job call failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no job with id '{0}' (it may have been deleted)")]
    Unknown(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Running {
    cancel: CancellationToken,
    wake: Arc<Notify>,
    observers: Vec<Observer>,
    progress: watch::Sender<Progress>,
}

pub(crate) struct Inner {
    store: Store,
    router: Arc<Router>,
    settings: JobSettings,
    running: Mutex<HashMap<String, Running>>,
    on_change: std::sync::OnceLock<OnChange>,
    /// This engine's name on the leases it takes.
    owner: Arc<str>,
}

/// The job engine: starts, runs, resumes and reports jobs. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.inner.store)
            .finish()
    }
}

impl Engine {
    /// An engine on `store` (migrated here) calling models through `router`.
    pub async fn open(
        store: Store,
        router: Arc<Router>,
        settings: JobSettings,
    ) -> Result<Self, JobError> {
        store.migrate(&db::SCHEMA).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                router,
                settings,
                running: Mutex::new(HashMap::new()),
                on_change: std::sync::OnceLock::new(),
                owner: lease_owner().into(),
            }),
        })
    }

    /// This engine's name on the leads it claims (and on the results it
    /// records): unique among the processes sharing a database.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// Calls `hook` with a job's id whenever its state or counts change
    /// (progress, settling, cancel, resume, delete). Set once; later calls
    /// change nothing.
    pub fn on_change(&self, hook: OnChange) {
        let _ = self.inner.on_change.set(hook);
    }

    pub fn router(&self) -> &Arc<Router> {
        &self.inner.router
    }

    /// Stores the job and starts it; returns its id at once.
    pub async fn start(
        &self,
        spec: JobSpec,
        observer: Option<Observer>,
    ) -> Result<String, JobError> {
        if spec.categories.len() < 2 {
            return Err(JobError::Invalid(
                "'categories' needs at least two labels".into(),
            ));
        }
        if spec.leads.is_empty() {
            return Err(JobError::Invalid("'leads' is empty".into()));
        }
        let id = format!("lg_{:016x}", fastrand::u64(..));
        let def = db::JobDef {
            categories: spec.categories,
            instructions: spec.instructions,
            model: spec.model,
        };
        let (job, leads) = (id.clone(), spec.leads);
        self.inner
            .db(move |c| db::insert_job(c, &job, &def, &leads))
            .await?;
        self.spawn(&id, observer);
        Ok(id)
    }

    /// Picks up every job a previous process left running (or another
    /// process runs now: this one joins it); returns their ids.
    pub async fn resume_unfinished(&self) -> Result<Vec<String>, JobError> {
        let ids = self.inner.db(db::unfinished).await?;
        for id in &ids {
            self.spawn(id, None);
        }
        if !ids.is_empty() {
            tracing::info!(jobs = ids.len(), "leadgen: resuming unfinished jobs");
        }
        Ok(ids)
    }

    /// Joins, every `every`, the unfinished jobs this engine does not run
    /// yet (started by another process on the same database), for as long
    /// as the engine exists.
    pub fn keep_joining(&self, every: Duration) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = weak.upgrade() else { return };
                let engine = Engine { inner };
                match engine.inner.db(db::unfinished).await {
                    Ok(ids) => {
                        for id in ids {
                            if engine.spawn(&id, None) {
                                tracing::info!(job = %id, "leadgen: joining a job another process runs");
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "leadgen: could not list unfinished jobs"),
                }
            }
        });
    }

    /// Ids of stored jobs starting with `prefix`, newest first, at most
    /// `limit` (argument completion).
    pub async fn ids_with_prefix(&self, prefix: &str, limit: u64) -> Result<Vec<String>, JobError> {
        let prefix = prefix.to_owned();
        Ok(self
            .inner
            .db(move |c| db::ids_with_prefix(c, &prefix, limit))
            .await?)
    }

    pub async fn status(&self, id: &str) -> Result<JobStatus, JobError> {
        let job = id.to_owned();
        self.inner
            .db(move |c| db::status(c, &job))
            .await?
            .ok_or_else(|| JobError::Unknown(id.to_owned()))
    }

    /// Waits up to `wait` for the job to settle (or finish), then reports.
    pub async fn wait(&self, id: &str, wait: Duration) -> Result<JobStatus, JobError> {
        let rx = self.lock().get(id).map(|r| r.progress.subscribe());
        if let Some(mut rx) = rx {
            let settled = async {
                loop {
                    if rx.borrow_and_update().state.is_settled() || rx.changed().await.is_err() {
                        return;
                    }
                }
            };
            let _ = tokio::time::timeout(wait, settled).await;
        }
        self.status(id).await
    }

    /// Results in lead order, `limit` from `offset` (among finished leads).
    pub async fn results(
        &self,
        id: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<db::Row>, JobError> {
        self.status(id).await?;
        let job = id.to_owned();
        Ok(self
            .inner
            .db(move |c| db::results(c, &job, offset, limit))
            .await?)
    }

    /// Stops the job; finished results stay, pending leads stay pending.
    pub async fn cancel(&self, id: &str) -> Result<JobStatus, JobError> {
        let job = id.to_owned();
        self.inner
            .db(move |c| {
                db::set_state(
                    c,
                    &job,
                    JobState::Cancelled,
                    &[JobState::Running, JobState::Waiting, JobState::Paused],
                    None,
                )
            })
            .await?;
        if let Some(running) = self.lock().get(id) {
            running.cancel.cancel();
        }
        self.inner.changed(id);
        self.status(id).await
    }

    /// Continues a paused, waiting or cancelled job (a waiting job probes now).
    pub async fn resume(
        &self,
        id: &str,
        observer: Option<Observer>,
    ) -> Result<JobStatus, JobError> {
        let status = self.status(id).await?;
        if status.state == JobState::Done {
            return Ok(status);
        }
        let woken = {
            let mut running = self.lock();
            match running.get_mut(id) {
                Some(r) if !r.cancel.is_cancelled() => {
                    r.observers.extend(observer.clone());
                    r.wake.notify_one();
                    true
                }
                _ => false,
            }
        };
        if woken {
            self.inner.changed(id);
            return self.status(id).await;
        }
        let job = id.to_owned();
        self.inner
            .db(move |c| {
                db::set_state(
                    c,
                    &job,
                    JobState::Running,
                    &[JobState::Paused, JobState::Cancelled, JobState::Waiting],
                    None,
                )
            })
            .await?;
        self.spawn(id, observer);
        self.inner.changed(id);
        self.status(id).await
    }

    /// Cancels the job and removes it with every lead and result.
    pub async fn delete(&self, id: &str) -> Result<bool, JobError> {
        if let Some(running) = self.lock().remove(id) {
            running.cancel.cancel();
        }
        let job = id.to_owned();
        let deleted = self.inner.db(move |c| db::delete(c, &job)).await?;
        if deleted {
            self.inner.changed(id);
        }
        Ok(deleted)
    }

    /// Runs job `id` here unless it runs here already; returns whether it
    /// started.
    fn spawn(&self, id: &str, observer: Option<Observer>) -> bool {
        let mut running = self.lock();
        if running.get(id).is_some_and(|r| !r.cancel.is_cancelled()) {
            return false;
        }
        let cancel = CancellationToken::new();
        let wake = Arc::new(Notify::new());
        let (progress, _) = watch::channel(Progress {
            done: 0,
            total: 0,
            state: JobState::Running,
        });
        running.insert(
            id.to_owned(),
            Running {
                cancel: cancel.clone(),
                wake: wake.clone(),
                observers: observer.into_iter().collect(),
                progress,
            },
        );
        drop(running);
        let (inner, job) = (Arc::clone(&self.inner), id.to_owned());
        tokio::spawn(async move {
            runner::run(&inner, &job, cancel, Arc::clone(&wake)).await;
            let mut running = inner.running.lock().unwrap_or_else(|p| p.into_inner());
            // Only our own entry: a resume may already have replaced it.
            if running
                .get(&job)
                .is_some_and(|r| Arc::ptr_eq(&r.wake, &wake))
            {
                running.remove(&job);
            }
        });
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    /// Runs `work` on the store.
    async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Db<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.store.run(work).await?
    }

    /// Tells the engine's change hook that `id` changed.
    fn changed(&self, id: &str) {
        if let Some(hook) = self.on_change.get() {
            hook(id);
        }
    }

    /// Publishes progress to the watchers and observers of `id`.
    fn publish(&self, id: &str, progress: Progress) {
        let observers: Vec<Observer> = {
            let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            let Some(r) = running.get(id) else { return };
            r.observers.clone()
        };
        // Observers first: whoever waits on the watch sees them served.
        for observer in observers {
            observer(progress);
        }
        {
            let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(r) = running.get(id) {
                r.progress.send_replace(progress);
            }
        }
        self.changed(id);
    }
}

/// A name for this engine's leases: the process id and random bits (unique
/// among the processes sharing a database is all it needs to be).
fn lease_owner() -> String {
    format!("{}-{:016x}", std::process::id(), fastrand::u64(..))
}

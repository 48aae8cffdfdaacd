//! Checking watches: one check (conditional GET, parse, compare, record),
//! many checks with bounded concurrency, and the scheduler loop that runs
//! due watches with jitter and back-off.
//!
//! Politeness per host (concurrent requests and spacing between them) is
//! enforced by the [`Fetcher`]'s host gates, which this engine configures.

use std::{sync::Arc, time::Duration};

use chrono::{SecondsFormat, Utc};
use ffmcp_core::{
    fetch::{FetchLimits, FetchPolicy, FetchRequest, Fetcher},
    retry::{Backoff, Jitter},
    store::{Db, Store, StoreError},
};
use futures::{StreamExt, stream};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::{
    db::{self, Change, Observation, Retention, Validators, Watch},
    feed, page,
    resources::Topic,
};

pub use crate::probe::{Probe, Want};

/// What feeds are asked for.
pub(crate) const FEED_ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
     application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.5, */*;q=0.1";
const PAGE_ACCEPT: &str = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1";
/// Longest back-off after repeated failures.
const MAX_BACKOFF_SECS: i64 = 24 * 3600;
/// Default of `FF_INTEL_MAX_WATCHES`.
pub const DEFAULT_MAX_WATCHES: i64 = 1000;
/// Default of `FF_INTEL_MAX_SNAPSHOT_BYTES` (1 MiB).
pub const DEFAULT_MAX_SNAPSHOT_BYTES: usize = 1 << 20;

/// Why the engine failed (not a check: failed checks are recorded).
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Engine settings; [`Settings::from_lookup`] reads `FF_INTEL_*` overrides.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Checks in flight at once.
    pub concurrency: usize,
    /// Requests in flight to one host.
    pub per_host: usize,
    /// Minimum spacing between requests to one host.
    pub host_spacing: Duration,
    /// Shortest and longest allowed check interval, seconds.
    pub min_interval: i64,
    pub max_interval: i64,
    pub default_interval: i64,
    /// Largest body read per check.
    pub max_body_bytes: u64,
    /// Most watches kept; `watch_add` beyond it is refused.
    pub max_watches: i64,
    /// Largest snapshot stored (a page region's text, a feed's item list);
    /// a check observing more fails with an error naming the setting.
    pub max_snapshot_bytes: usize,
    pub retention: Retention,
    /// Obey robots.txt.
    pub robots: bool,
    /// How long a claimed scheduled check stays claimed (seconds): another
    /// scheduler takes the watch only after this, when the claimer died.
    pub lease_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            concurrency: 16,
            per_host: 2,
            host_spacing: Duration::from_millis(500),
            min_interval: 60,
            max_interval: 7 * 24 * 3600,
            default_interval: 600,
            max_body_bytes: 10 * 1024 * 1024,
            max_watches: DEFAULT_MAX_WATCHES,
            max_snapshot_bytes: DEFAULT_MAX_SNAPSHOT_BYTES,
            retention: Retention {
                snapshots_per_watch: 50,
                checks_per_watch: 100,
                changes_per_watch: 1000,
                change_days: 180,
            },
            robots: true,
            lease_secs: 300,
        }
    }
}

impl Settings {
    /// Defaults with overrides from `FF_INTEL_CONCURRENCY`,
    /// `FF_INTEL_PER_HOST`, `FF_INTEL_HOST_SPACING_MS`,
    /// `FF_INTEL_MIN_INTERVAL_SECS`, `FF_INTEL_KEEP_SNAPSHOTS` (2..=1000),
    /// `FF_INTEL_KEEP_CHANGES` (10..=100000), `FF_INTEL_KEEP_DAYS`,
    /// `FF_INTEL_MAX_BODY_BYTES`, `FF_INTEL_MAX_WATCHES` (1..=100000),
    /// `FF_INTEL_MAX_SNAPSHOT_BYTES` (1 KiB..=64 MiB), `FF_INTEL_ROBOTS`,
    /// `FF_INTEL_LEASE_SECS` (10..=86400).
    /// Out-of-range values are clamped.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Self {
        let num = |k: &str| get(k).and_then(|v| v.trim().parse::<i64>().ok());
        let mut s = Self::default();
        if let Some(n) = num("FF_INTEL_CONCURRENCY") {
            s.concurrency = usize::try_from(n.clamp(1, 256)).unwrap_or(16);
        }
        if let Some(n) = num("FF_INTEL_PER_HOST") {
            s.per_host = usize::try_from(n.clamp(1, 64)).unwrap_or(2);
        }
        if let Some(n) = num("FF_INTEL_HOST_SPACING_MS") {
            s.host_spacing = Duration::from_millis(u64::try_from(n.max(0)).unwrap_or(0));
        }
        if let Some(n) = num("FF_INTEL_MIN_INTERVAL_SECS") {
            s.min_interval = n.clamp(1, s.max_interval);
        }
        if let Some(n) = num("FF_INTEL_KEEP_SNAPSHOTS") {
            s.retention.snapshots_per_watch = n.clamp(2, 1000);
        }
        if let Some(n) = num("FF_INTEL_KEEP_CHANGES") {
            s.retention.changes_per_watch = n.clamp(10, 100_000);
        }
        if let Some(n) = num("FF_INTEL_MAX_WATCHES") {
            s.max_watches = n.clamp(1, 100_000);
        }
        if let Some(n) = num("FF_INTEL_MAX_SNAPSHOT_BYTES") {
            s.max_snapshot_bytes =
                usize::try_from(n.clamp(1024, 64 << 20)).unwrap_or(DEFAULT_MAX_SNAPSHOT_BYTES);
        }
        if let Some(n) = num("FF_INTEL_KEEP_DAYS") {
            s.retention.change_days = n.max(1);
        }
        if let Some(n) = num("FF_INTEL_MAX_BODY_BYTES") {
            s.max_body_bytes = u64::try_from(n.max(1024)).unwrap_or(s.max_body_bytes);
        }
        if let Some(n) = num("FF_INTEL_LEASE_SECS") {
            s.lease_secs = n.clamp(10, 86_400);
        }
        if let Some(v) = get("FF_INTEL_ROBOTS") {
            s.robots = !matches!(v.trim(), "0" | "false" | "no");
        }
        s
    }

    /// Fetch limits carrying the per-host politeness.
    pub fn fetch_limits(&self) -> FetchLimits {
        FetchLimits {
            max_body_bytes: self.max_body_bytes,
            per_host_concurrency: self.per_host,
            per_host_interval: self.host_spacing,
            ..FetchLimits::default()
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    pub watch_id: i64,
    pub url: String,
    /// `baseline`, `changed`, `unchanged`, `not_modified` or `failed`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub new_changes: Vec<Change>,
}

/// Watches, checks and their results; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub store: Store,
    pub fetcher: Fetcher,
    pub settings: Arc<Settings>,
    events: broadcast::Sender<Topic>,
    /// This engine's name on the leases it takes.
    owner: Arc<str>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Migrates the store and builds the engine.
    pub async fn open(
        store: Store,
        fetcher: Fetcher,
        settings: Settings,
    ) -> Result<Self, IntelError> {
        store.migrate(&db::SCHEMA).await?;
        let (events, _) = broadcast::channel(64);
        Ok(Self {
            store,
            fetcher,
            settings: Arc::new(settings),
            events,
            owner: lease_owner().into(),
        })
    }

    /// The engine of a process: `FF_DB`, the fetch policy and the
    /// `FF_INTEL_*` settings from `config`.
    pub async fn from_config(config: &ffmcp_core::Config) -> Result<Self, IntelError> {
        let settings = Settings::from_lookup(&|k| config.lookup(k));
        let policy = FetchPolicy::from_config(config).map_err(IntelError::Invalid)?;
        let fetcher = Fetcher::builder()
            .policy(policy)
            .limits(settings.fetch_limits())
            .build()
            .map_err(|e| IntelError::Invalid(e.to_string()))?;
        let store = Store::open_default(config)?;
        Self::open(store, fetcher, settings).await
    }

    /// Receives what changed: the change feed after each check that found
    /// something, the watch list after edits.
    pub fn subscribe(&self) -> broadcast::Receiver<Topic> {
        self.events.subscribe()
    }

    /// Tells subscribers `topic` changed.
    pub fn announce(&self, topic: Topic) {
        let _ = self.events.send(topic);
    }

    /// Runs `work` on the database.
    pub async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Db<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, IntelError> {
        Ok(self.store.run(work).await??)
    }

    /// Checks `watches`, at most `settings.concurrency` at a time.
    pub async fn check_many(&self, watches: Vec<Watch>) -> Vec<CheckReport> {
        stream::iter(watches)
            .map(|w| async move { self.check(&w).await })
            .buffer_unordered(self.settings.concurrency)
            .collect()
            .await
    }

    /// Fetches, compares and records one watch. Never fails: a failure is
    /// recorded on the watch (with back-off) and reported.
    pub async fn check(&self, watch: &Watch) -> CheckReport {
        let started = std::time::Instant::now();
        let result = self.fetch_and_observe(watch).await;
        let now = now_rfc3339();
        let elapsed_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let mut report = CheckReport {
            watch_id: watch.id,
            url: watch.url.clone(),
            outcome: "failed".to_owned(),
            status: None,
            error: None,
            new_changes: Vec::new(),
        };
        let recorded = match result {
            Ok((observation, validators, status)) => {
                report.status = Some(status);
                let due = next_due(watch.interval_secs, 0);
                let (w, retention) = (watch.clone(), self.settings.retention);
                let now2 = now.clone();
                self.db(move |c| {
                    db::record_success(
                        c,
                        &w,
                        &observation,
                        &validators,
                        status,
                        elapsed_ms,
                        &now2,
                        due,
                        retention,
                    )
                })
                .await
                .map(|changes| {
                    report.outcome = if changes.is_empty() {
                        "ok".to_owned()
                    } else {
                        "changed".to_owned()
                    };
                    report.new_changes = changes;
                })
            }
            Err((error, status)) => {
                report.status = status;
                report.error = Some(error.clone());
                let due = next_due(watch.interval_secs, watch.failures + 1);
                let id = watch.id;
                tracing::info!(watch = id, %error, "check failed");
                self.db(move |c| db::record_failure(c, id, &error, status, &now, due))
                    .await
            }
        };
        if let Err(e) = recorded {
            tracing::error!(watch = watch.id, error = %e, "could not record a check");
            report.outcome = "failed".to_owned();
            report.error = Some(format!("could not record the check: {e}"));
        } else if report.outcome == "ok" {
            // The stored outcome is more precise (baseline, unchanged, not_modified).
            let id = watch.id;
            if let Ok(Some(w)) = self.db(move |c| db::watch(c, id)).await {
                report.outcome = w.last_outcome.unwrap_or_default();
            }
        }
        if !report.new_changes.is_empty() {
            self.announce(Topic::Changes);
        }
        report
    }

    /// GET with validators, then parse on the blocking pool.
    async fn fetch_and_observe(
        &self,
        watch: &Watch,
    ) -> Result<(Observation, Validators, u16), (String, Option<u16>)> {
        let mut request = FetchRequest::get(watch.target())
            .accept(if watch.is_feed() {
                FEED_ACCEPT
            } else {
                PAGE_ACCEPT
            })
            .respect_robots(self.settings.robots)
            .max_body_bytes(self.settings.max_body_bytes);
        if let Some(etag) = &watch.etag {
            request = request.header("If-None-Match", etag.as_str());
        }
        if let Some(modified) = &watch.last_modified {
            request = request.header("If-Modified-Since", modified.as_str());
        }
        let fetched = self
            .fetcher
            .fetch(request)
            .await
            .map_err(|e| (e.to_string(), None))?;
        let status = fetched.status;
        let header = |name: &str| {
            fetched
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let validators = Validators {
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        if status == 304 {
            return Ok((Observation::NotModified, validators, status));
        }
        if !fetched.is_success() {
            return Err((format!("HTTP {status} from {}", fetched.url), Some(status)));
        }
        let is_feed = watch.is_feed();
        let region = page::Region {
            selector: watch.selector.clone(),
            ignore: watch.ignore_selectors.clone(),
        };
        let base = fetched.url.to_string();
        let body = fetched.body;
        let observation = tokio::task::spawn_blocking(move || {
            if is_feed {
                feed::parse(&body, Some(&base))
                    .map(|f| Observation::Feed(f.items))
                    .map_err(|e| e.to_string())
            } else {
                page::extract(&String::from_utf8_lossy(&body), &region)
                    .map(|p| Observation::Page {
                        text: p.text,
                        hash: p.hash,
                    })
                    .map_err(|e| e.to_string())
            }
        })
        .await
        .map_err(|e| (format!("the parser stopped: {e}"), Some(status)))?
        .map_err(|e| (e, Some(status)))?;
        let size = observation.snapshot_bytes();
        let limit = self.settings.max_snapshot_bytes;
        if size > limit {
            let what = if is_feed {
                "feed's item list"
            } else {
                "page region's text"
            };
            return Err((
                format!(
                    "the {what} is {size} bytes, more than the {limit}-byte snapshot limit \
                     (FF_INTEL_MAX_SNAPSHOT_BYTES); nothing was stored. Watch a narrower region \
                     with 'selector' or raise the limit"
                ),
                Some(status),
            ));
        }
        Ok((observation, validators, status))
    }

    /// Claims due watches (as many as run at once) and checks each once;
    /// returns how many were checked. Watches another scheduler on the same
    /// database has claimed are left to it (see `db::claim_due`).
    pub async fn run_due(&self) -> Result<usize, IntelError> {
        let now = Utc::now().timestamp();
        let owner = Arc::clone(&self.owner);
        let lease_until = now + self.settings.lease_secs;
        let limit = i64::try_from(self.settings.concurrency).unwrap_or(16);
        let due = self
            .db(move |c| db::claim_due(c, &owner, now, lease_until, limit))
            .await?;
        let n = due.len();
        if n > 0 {
            self.check_many(due).await;
        }
        Ok(n)
    }

    /// Deletes changes older than the retention window.
    pub async fn prune(&self) -> Result<usize, IntelError> {
        let before = (Utc::now() - chrono::Duration::days(self.settings.retention.change_days))
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        self.db(move |c| db::prune_changes(c, &before)).await
    }

    /// Runs due watches until `stop` is cancelled, waking at least every
    /// second; prunes old changes hourly.
    pub async fn run_scheduler(&self, stop: CancellationToken) {
        let mut last_prune = std::time::Instant::now() - Duration::from_secs(3600);
        loop {
            if last_prune.elapsed() >= Duration::from_secs(3600) {
                if let Err(e) = self.prune().await {
                    tracing::warn!(error = %e, "pruning old changes failed");
                }
                last_prune = std::time::Instant::now();
            }
            match self.run_due().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the scheduler could not read due watches"),
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = stop.cancelled() => return,
            }
        }
    }
}

/// A name for this engine's leases: the process id and random bits (unique
/// among the schedulers sharing a database is all it needs to be).
fn lease_owner() -> String {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new().hash_one(std::time::SystemTime::now());
    format!("{}-{random:016x}", std::process::id())
}

/// Now, RFC 3339 UTC with milliseconds (sorts as text).
pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Unix seconds of the next check: the interval (doubled per failure, up
/// to a day) with ±10% jitter so watches added together spread out.
pub fn next_due(interval_secs: i64, failures: i64) -> i64 {
    let secs = |n: i64| Duration::from_secs(u64::try_from(n).unwrap_or(0));
    let policy = Backoff::new(
        secs(interval_secs),
        secs(MAX_BACKOFF_SECS.max(interval_secs)),
        Jitter::Spread(10),
    );
    let attempt = u32::try_from(failures.max(0))
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    let wait = i64::try_from(policy.delay(attempt).as_secs()).unwrap_or(MAX_BACKOFF_SECS);
    Utc::now().timestamp() + wait.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let now = Utc::now().timestamp();
        let first = next_due(600, 0) - now;
        assert!((540..=661).contains(&first), "{first}");
        let third = next_due(600, 3) - now;
        assert!((4320..=5281).contains(&third), "{third}");
        let capped = next_due(600, 40) - now;
        assert!(
            capped <= MAX_BACKOFF_SECS + MAX_BACKOFF_SECS / 10 + 1,
            "{capped}"
        );
    }

    #[test]
    fn settings_read_overrides() {
        let s = Settings::from_lookup(&|k| match k {
            "FF_INTEL_MIN_INTERVAL_SECS" => Some("1".into()),
            "FF_INTEL_HOST_SPACING_MS" => Some("0".into()),
            "FF_INTEL_ROBOTS" => Some("0".into()),
            _ => None,
        });
        assert_eq!(s.min_interval, 1);
        assert!(s.host_spacing.is_zero());
        assert!(!s.robots);
        assert_eq!(s.concurrency, 16);
    }
}

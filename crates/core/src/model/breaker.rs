//! The circuit breaker: per-route health, shared by every call of a
//! [`Router`](super::Router).
//!
//! After `threshold` consecutive abandoned calls a route is skipped for
//! `cooldown`; then one call probes it (half-open) while the others keep
//! skipping; a success closes it, a failure re-opens it. A probe that never
//! reports back (its caller went away) stops blocking others after
//! `probe_budget`.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use serde::Serialize;

// tokio's clock: windows and latencies follow a paused test clock too.
use super::{provider::ProviderError, route::Route};
use tokio::time::Instant;

/// A route's state as the `models` tool reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteHealth {
    /// Answering (or not used yet).
    Healthy,
    /// Recent calls failed; not yet skipped.
    Failing,
    /// Skipped until the cooldown ends.
    CoolingDown,
    /// Cooldown over: the next call probes it.
    Probing,
    /// Cannot be used: credentials or setup missing.
    Unconfigured,
}

/// One configured route and its health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteStatus {
    /// `provider:model`.
    pub route: String,
    /// The provider's name as written in a route.
    pub provider: &'static str,
    /// The model id (a hint for `sampling`).
    pub model: String,
    /// 0 for the primary.
    pub position: usize,
    /// What the breaker thinks of the route now.
    pub health: RouteHealth,
    /// Failed attempts since the route last answered.
    pub consecutive_failures: u32,
    /// Time left before the breaker lets a call probe the route again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooldown_remaining_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The most recent failure, while the route has not answered since.
    pub last_error: Option<String>,
    /// What is missing before this route can work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_missing: Option<String>,
}

#[derive(Debug, Default)]
struct Health {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    probe_since: Option<Instant>,
    last_error: Option<String>,
}

/// Every route's [`Health`], behind one lock.
#[derive(Debug)]
pub(super) struct Breaker {
    health: Mutex<HashMap<Route, Health>>,
    threshold: u32,
    cooldown: Duration,
    probe_budget: Duration,
}

impl Breaker {
    pub(super) fn new(threshold: u32, cooldown: Duration, probe_budget: Duration) -> Self {
        Self {
            health: Mutex::new(HashMap::new()),
            threshold,
            cooldown,
            probe_budget,
        }
    }

    /// `route`'s state for [`RouteStatus`]: health, consecutive failures,
    /// cooldown left and the last error. `unusable` routes (setup missing)
    /// report [`RouteHealth::Unconfigured`].
    pub(super) fn state(
        &self,
        route: &Route,
        unusable: bool,
        now: Instant,
    ) -> (RouteHealth, u32, Option<Duration>, Option<String>) {
        let health = self.lock_health();
        let h = health.get(route);
        let remaining = h
            .and_then(|h| h.open_until)
            .and_then(|until| until.checked_duration_since(now));
        let state = match h {
            _ if unusable => RouteHealth::Unconfigured,
            Some(h) if h.open_until.is_some() && remaining.is_some() => RouteHealth::CoolingDown,
            Some(h) if h.open_until.is_some() => RouteHealth::Probing,
            Some(h) if h.consecutive_failures > 0 => RouteHealth::Failing,
            _ => RouteHealth::Healthy,
        };
        (
            state,
            h.map_or(0, |h| h.consecutive_failures),
            remaining,
            h.and_then(|h| h.last_error.clone()),
        )
    }

    /// Whether a call may use `route` now (taking the probe when half-open).
    pub(super) fn admit(&self, route: &Route) -> bool {
        let now = Instant::now();
        let probe_budget = self.probe_budget;
        let mut health = self.lock_health();
        let h = health.entry(route.clone()).or_default();
        match h.open_until {
            None => true,
            Some(until) if now < until => false,
            Some(_) => {
                if h.probe_since
                    .is_some_and(|since| now.duration_since(since) < probe_budget)
                {
                    false
                } else {
                    h.probe_since = Some(now);
                    true
                }
            }
        }
    }

    pub(super) fn cooling_reason(&self, route: &Route) -> String {
        let health = self.lock_health();
        let Some(h) = health.get(route) else {
            return "skipped".to_owned();
        };
        let left = h
            .open_until
            .and_then(|u| u.checked_duration_since(Instant::now()))
            .map_or(0, |d| d.as_millis());
        format!(
            "skipped for {left} ms more after {} failed calls (last: {})",
            h.consecutive_failures,
            h.last_error
                .as_deref()
                .unwrap_or("another call is probing it")
        )
    }

    pub(super) fn record_success(&self, route: &Route) {
        let mut health = self.lock_health();
        let h = health.entry(route.clone()).or_default();
        if h.open_until.is_some() {
            tracing::info!(route = %route, "route answered again; breaker closed");
        }
        *h = Health::default();
    }

    pub(super) fn record_failure(&self, route: &Route, error: &ProviderError) {
        let mut health = self.lock_health();
        let h = health.entry(route.clone()).or_default();
        h.consecutive_failures += 1;
        h.last_error = Some(error.to_string());
        h.probe_since = None;
        if h.consecutive_failures >= self.threshold {
            h.open_until = Some(Instant::now() + self.cooldown);
            tracing::warn!(
                route = %route,
                failures = h.consecutive_failures,
                cooldown_ms = self.cooldown.as_millis() as u64,
                "breaker open: skipping route"
            );
        }
    }

    pub(super) fn release_probe(&self, route: &Route) {
        if let Some(h) = self.lock_health().get_mut(route) {
            h.probe_since = None;
        }
    }

    fn lock_health(&self) -> std::sync::MutexGuard<'_, HashMap<Route, Health>> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }
}

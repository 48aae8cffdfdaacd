//! Accounting: what model calls cost and how long they took, per tool and
//! per route, with latency percentiles over a bounded window of recent
//! calls. Never records prompt or completion text.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::Mutex,
    time::Duration,
};

use serde::Serialize;

use super::request::Usage;

/// Latencies kept per series for percentiles (the most recent ones).
const WINDOW: usize = 2048;

/// USD per million input and output tokens, by model id prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    entries: Vec<(String, f64, f64)>,
}

/// List prices (USD per million tokens, input/output) of the models the
/// README names, as of 2026-11. Matched by the longest prefix of the model
/// id after any `provider.`/region prefix (Bedrock's `us.anthropic.…`).
const PRICES: &[(&str, f64, f64)] = &[
    ("claude-opus-4", 15.0, 75.0),
    ("claude-sonnet-4", 3.0, 15.0),
    ("claude-3-7-sonnet", 3.0, 15.0),
    ("claude-3-5-sonnet", 3.0, 15.0),
    ("claude-haiku-4", 1.0, 5.0),
    ("claude-3-5-haiku", 0.8, 4.0),
    ("gpt-4o-mini", 0.15, 0.6),
    ("gpt-4o", 2.5, 10.0),
    ("gpt-4.1-nano", 0.1, 0.4),
    ("gpt-4.1-mini", 0.4, 1.6),
    ("gpt-4.1", 2.0, 8.0),
    ("gpt-5-nano", 0.05, 0.4),
    ("gpt-5-mini", 0.25, 2.0),
    ("gpt-5", 1.25, 10.0),
    ("o4-mini", 1.1, 4.4),
    ("gemini-2.5-pro", 1.25, 10.0),
    ("gemini-2.5-flash-lite", 0.1, 0.4),
    ("gemini-2.5-flash", 0.3, 2.5),
    ("gemini-2.0-flash", 0.1, 0.4),
    // Embedding models: input tokens only.
    ("text-embedding-3-small", 0.02, 0.0),
    ("text-embedding-3-large", 0.13, 0.0),
    ("text-embedding-ada-002", 0.1, 0.0),
    ("gemini-embedding-001", 0.15, 0.0),
];

impl Default for PriceTable {
    fn default() -> Self {
        Self {
            entries: PRICES
                .iter()
                .map(|(m, i, o)| ((*m).to_owned(), *i, *o))
                .collect(),
        }
    }
}

impl PriceTable {
    /// Adds or replaces prices from `model=input/output,...` (USD per
    /// million tokens), e.g. `llama3=0/0,gpt-4o=2.5/10`.
    pub fn with_overrides(mut self, spec: &str) -> Result<Self, String> {
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let parsed = entry.split_once('=').and_then(|(model, prices)| {
                let (i, o) = prices.split_once('/')?;
                let i: f64 = i.trim().parse().ok()?;
                let o: f64 = o.trim().parse().ok()?;
                (i >= 0.0 && o >= 0.0 && i.is_finite() && o.is_finite())
                    .then(|| (model.trim().to_owned(), i, o))
            });
            let Some((model, i, o)) = parsed else {
                return Err(format!(
                    "price entry {entry:?} is not model=input/output in USD per million tokens, e.g. gpt-4o=2.5/10"
                ));
            };
            self.entries.retain(|(m, _, _)| *m != model);
            self.entries.push((model, i, o));
        }
        Ok(self)
    }

    /// The cost of `usage` on `model`, if the model's price is known.
    pub fn cost(&self, model: &str, usage: Usage) -> Option<f64> {
        let candidates = [model, model.rsplit('.').next().unwrap_or(model)];
        let (_, i, o) = self
            .entries
            .iter()
            .filter(|(prefix, _, _)| candidates.iter().any(|c| c.starts_with(prefix.as_str())))
            .max_by_key(|(prefix, _, _)| prefix.len())?;
        Some((usage.input_tokens as f64 * i + usage.output_tokens as f64 * o) / 1_000_000.0)
    }
}

/// Running totals for model calls.
#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tools: HashMap<String, Series>,
    routes: HashMap<String, RouteSeries>,
}

#[derive(Debug, Default)]
struct Series {
    calls: u64,
    failures: u64,
    attempts: u64,
    fallbacks: u64,
    input_tokens: u64,
    output_tokens: u64,
    cost_usd: f64,
    latencies: Latencies,
}

#[derive(Debug, Default)]
struct RouteSeries {
    attempts: u64,
    successes: u64,
    failures: u64,
    skipped: u64,
    input_tokens: u64,
    output_tokens: u64,
    cost_usd: f64,
    latencies: Latencies,
}

#[derive(Debug, Default)]
struct Latencies(VecDeque<u32>);

impl Latencies {
    fn push(&mut self, latency: Duration) {
        if self.0.len() == WINDOW {
            self.0.pop_front();
        }
        self.0
            .push_back(u32::try_from(latency.as_millis()).unwrap_or(u32::MAX));
    }

    /// p50, p95, p99 in ms (nearest rank).
    fn percentiles(&self) -> Option<Percentiles> {
        if self.0.is_empty() {
            return None;
        }
        let mut sorted: Vec<u32> = self.0.iter().copied().collect();
        sorted.sort_unstable();
        let rank = |p: f64| {
            let idx = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[idx]
        };
        Some(Percentiles {
            p50_ms: rank(0.50),
            p95_ms: rank(0.95),
            p99_ms: rank(0.99),
        })
    }
}

/// Latency percentiles over the recent window, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    pub p50_ms: u32,
    pub p95_ms: u32,
    pub p99_ms: u32,
}

/// One tool's model calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesStats {
    /// Model calls the tool made.
    pub calls: u64,
    /// Calls that ended without a usable answer.
    pub failures: u64,
    /// Provider attempts, retries included.
    pub attempts: u64,
    /// Calls answered by a route other than their first.
    pub fallbacks: u64,
    /// Input tokens, as the providers reported them.
    pub input_tokens: u64,
    /// Output tokens, as the providers reported them.
    pub output_tokens: u64,
    /// Summed over calls whose model has a known price.
    pub cost_usd: f64,
    /// Whole-call latency (retries and fallbacks included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Percentiles>,
}

/// One route's attempts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteStats {
    /// Attempts sent to this route, retries included.
    pub attempts: u64,
    /// Attempts the route answered.
    pub successes: u64,
    /// Attempts that failed.
    pub failures: u64,
    /// Calls that skipped this route because its breaker was open.
    pub skipped: u64,
    /// Input tokens of answered attempts.
    pub input_tokens: u64,
    /// Output tokens of answered attempts.
    pub output_tokens: u64,
    /// Cost of answered attempts whose model has a known price.
    pub cost_usd: f64,
    /// Latency of successful attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Percentiles>,
}

/// Everything [`Stats`] knows, for the `ffmcp://stats` resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsSnapshot {
    /// Per tool name.
    pub tools: BTreeMap<String, SeriesStats>,
    /// Per route (`provider:model`).
    pub routes: BTreeMap<String, RouteStats>,
}

impl Stats {
    pub(crate) fn call(&self, tool: &str, outcome: CallRecord) {
        let mut inner = self.lock();
        let series = inner.tools.entry(tool.to_owned()).or_default();
        series.calls += 1;
        series.failures += u64::from(!outcome.ok);
        series.attempts += u64::from(outcome.attempts);
        series.fallbacks += u64::from(outcome.ok && outcome.fallbacks > 0);
        series.input_tokens += outcome.usage.input_tokens;
        series.output_tokens += outcome.usage.output_tokens;
        series.cost_usd += outcome.cost_usd.unwrap_or(0.0);
        series.latencies.push(outcome.latency);
    }

    pub(crate) fn attempt(
        &self,
        route: &str,
        latency: Duration,
        success: Option<(Usage, Option<f64>)>,
    ) {
        let mut inner = self.lock();
        let series = inner.routes.entry(route.to_owned()).or_default();
        series.attempts += 1;
        // Failed attempts count in the percentiles too: a route that times
        // out after 60 s is slow, not fast.
        series.latencies.push(latency);
        match success {
            Some((usage, cost)) => {
                series.successes += 1;
                series.input_tokens += usage.input_tokens;
                series.output_tokens += usage.output_tokens;
                series.cost_usd += cost.unwrap_or(0.0);
            }
            None => series.failures += 1,
        }
    }

    pub(crate) fn skipped(&self, route: &str) {
        self.lock()
            .routes
            .entry(route.to_owned())
            .or_default()
            .skipped += 1;
    }

    /// A copy of every counter, with latency percentiles.
    pub fn snapshot(&self) -> StatsSnapshot {
        let inner = self.lock();
        StatsSnapshot {
            tools: inner
                .tools
                .iter()
                .map(|(k, s)| {
                    (
                        k.clone(),
                        SeriesStats {
                            calls: s.calls,
                            failures: s.failures,
                            attempts: s.attempts,
                            fallbacks: s.fallbacks,
                            input_tokens: s.input_tokens,
                            output_tokens: s.output_tokens,
                            cost_usd: round_cost(s.cost_usd),
                            latency: s.latencies.percentiles(),
                        },
                    )
                })
                .collect(),
            routes: inner
                .routes
                .iter()
                .map(|(k, s)| {
                    (
                        k.clone(),
                        RouteStats {
                            attempts: s.attempts,
                            successes: s.successes,
                            failures: s.failures,
                            skipped: s.skipped,
                            input_tokens: s.input_tokens,
                            output_tokens: s.output_tokens,
                            cost_usd: round_cost(s.cost_usd),
                            latency: s.latencies.percentiles(),
                        },
                    )
                })
                .collect(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Counters stay usable after a panic elsewhere held the lock.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn round_cost(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6
}

/// The outcome of one routed call, as accounting sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallRecord {
    pub ok: bool,
    pub attempts: u32,
    pub fallbacks: u32,
    pub usage: Usage,
    pub cost_usd: Option<f64>,
    pub latency: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_match_by_longest_prefix_and_strip_bedrock_prefixes() {
        let prices = PriceTable::default();
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
        };
        assert_eq!(prices.cost("gpt-4o-mini-2024-07-18", usage), Some(0.75));
        assert_eq!(prices.cost("gpt-4o", usage), Some(12.5));
        assert_eq!(prices.cost("claude-sonnet-4-5-20250929", usage), Some(18.0));
        assert_eq!(
            prices.cost("us.anthropic.claude-sonnet-4-5-20250929-v1:0", usage),
            Some(18.0)
        );
        assert_eq!(prices.cost("llama3", usage), None);
        let custom = prices
            .with_overrides("llama3=0/0, gpt-4o=1/1")
            .expect("valid");
        assert_eq!(custom.cost("llama3", usage), Some(0.0));
        assert_eq!(custom.cost("gpt-4o", usage), Some(2.0));
        assert!(PriceTable::default().with_overrides("x=1").is_err());
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut l = Latencies::default();
        for ms in 1..=100 {
            l.push(Duration::from_millis(ms));
        }
        let p = l.percentiles().expect("samples");
        assert_eq!((p.p50_ms, p.p95_ms, p.p99_ms), (50, 95, 99));
        assert!(Latencies::default().percentiles().is_none());
    }
}

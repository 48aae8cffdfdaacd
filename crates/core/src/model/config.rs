//! The router's configuration: routes, retry windows, breaker settings and
//! prices, read from `FF_LLM_*`, `FF_EMBED_MODEL` and the provider variables.

use std::time::Duration;

use super::{accounting::PriceTable, route::Route, settings::ProviderSettings};

/// The setting naming the embedding route, e.g. `openai:text-embedding-3-small`.
pub const EMBED_MODEL_ENV: &str = "FF_EMBED_MODEL";

/// How the router behaves; every window is configurable so tests can run
/// outages in milliseconds.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    /// Primary first, then fallbacks.
    pub routes: Vec<Route>,
    /// The embedding route (`FF_EMBED_MODEL`): one route, no fallback, since
    /// vectors of two models cannot be compared.
    pub embed: Option<Route>,
    /// One attempt's time limit (`FF_LLM_TIMEOUT_MS`, default 60 s).
    pub attempt_timeout: Duration,
    /// Attempts per route (`FF_LLM_MAX_ATTEMPTS`, default 3).
    pub max_attempts: u32,
    /// First backoff ceiling; doubles per retry (`FF_LLM_BACKOFF_MS`, default 100 ms).
    pub backoff_base: Duration,
    /// Largest backoff ceiling (`FF_LLM_BACKOFF_MAX_MS`, default 2 s).
    pub backoff_max: Duration,
    /// Longest `retry-after` honoured (`FF_LLM_RETRY_AFTER_CAP_MS`, default 5 s).
    pub retry_after_cap: Duration,
    /// Consecutive abandoned calls that open a route's breaker
    /// (`FF_LLM_BREAKER_FAILURES`, default 3).
    pub breaker_threshold: u32,
    /// How long an open breaker skips its route (`FF_LLM_COOLDOWN_MS`, default 30 s).
    pub cooldown: Duration,
    /// Model prices (`FF_LLM_PRICES` adds or overrides entries).
    pub prices: PriceTable,
    /// Provider endpoints and credentials.
    pub providers: ProviderSettings,
}

impl RouterConfig {
    /// Defaults for everything but the routes and providers.
    pub fn new(routes: Vec<Route>, providers: ProviderSettings) -> Self {
        Self {
            routes,
            embed: None,
            attempt_timeout: Duration::from_secs(60),
            max_attempts: 3,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            retry_after_cap: Duration::from_secs(5),
            breaker_threshold: 3,
            cooldown: Duration::from_secs(30),
            prices: PriceTable::default(),
            providers,
        }
    }

    /// Reads `FF_LLM_*` and the provider variables through `lookup`.
    /// Returns the usable configuration and what was wrong with the rest
    /// (a bad route is dropped, a bad number keeps its default).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let mut routes = Vec::new();
        for var in ["FF_LLM_PRIMARY", "FF_LLM_FALLBACKS"] {
            let Some(value) = lookup(var) else { continue };
            for spec in value.split(',').filter(|s| !s.trim().is_empty()) {
                match spec.parse::<Route>() {
                    Ok(route) if routes.contains(&route) => {}
                    Ok(route) => routes.push(route),
                    Err(e) => problems.push(format!("{var}: {e}")),
                }
            }
        }
        let mut config = Self::new(routes, ProviderSettings::from_lookup(lookup));
        if let Some(spec) = lookup(EMBED_MODEL_ENV).filter(|v| !v.trim().is_empty()) {
            match spec.parse::<Route>() {
                Ok(route) if route.provider.embeds() => config.embed = Some(route),
                Ok(route) => problems.push(format!(
                    "{EMBED_MODEL_ENV}: {} has no embeddings API here; use openai:MODEL, \
                     gemini:MODEL or openai-compat:http://host:port/v1#MODEL",
                    route.provider.name()
                )),
                Err(e) => problems.push(format!("{EMBED_MODEL_ENV}: {e}")),
            }
        }
        let mut millis = |var: &str, slot: &mut Duration| {
            if let Some(raw) = lookup(var) {
                match raw.trim().parse::<u64>() {
                    Ok(ms) => *slot = Duration::from_millis(ms),
                    Err(_) => problems.push(format!(
                        "{var}={raw:?} is not a number of milliseconds; using {} ms",
                        slot.as_millis()
                    )),
                }
            }
        };
        millis("FF_LLM_TIMEOUT_MS", &mut config.attempt_timeout);
        millis("FF_LLM_BACKOFF_MS", &mut config.backoff_base);
        millis("FF_LLM_BACKOFF_MAX_MS", &mut config.backoff_max);
        millis("FF_LLM_RETRY_AFTER_CAP_MS", &mut config.retry_after_cap);
        millis("FF_LLM_COOLDOWN_MS", &mut config.cooldown);
        let mut count = |var: &str, slot: &mut u32| {
            if let Some(raw) = lookup(var) {
                match raw.trim().parse::<u32>() {
                    Ok(n) if n >= 1 => *slot = n,
                    _ => problems.push(format!(
                        "{var}={raw:?} is not a whole number >= 1; using {slot}"
                    )),
                }
            }
        };
        count("FF_LLM_MAX_ATTEMPTS", &mut config.max_attempts);
        count("FF_LLM_BREAKER_FAILURES", &mut config.breaker_threshold);
        if let Some(spec) = lookup("FF_LLM_PRICES") {
            match config.prices.clone().with_overrides(&spec) {
                Ok(prices) => config.prices = prices,
                Err(e) => problems.push(format!("FF_LLM_PRICES: {e}")),
            }
        }
        (config, problems)
    }

    /// [`Self::from_lookup`] on the process's configuration.
    pub fn from_config(config: &crate::config::Config) -> (Self, Vec<String>) {
        Self::from_lookup(&|name| config.lookup(name))
    }
}

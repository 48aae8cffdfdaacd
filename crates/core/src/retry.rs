//! The one retry pause policy: exponential backoff with a cap and jitter.
//!
//! Every place that waits before trying again (a model route after a
//! transient failure, a leadgen job probing for a model route to come back,
//! a competitive-intel watch that failed) computes its pause here, so the
//! growth, the cap and the jitter are the same formula everywhere and are
//! tested once. Jitter keeps many waiters that failed together from retrying
//! in step: full jitter (uniform in `[0, ceiling]`, the AWS "full jitter"
//! scheme) for request retries, a proportional spread (`ceiling ± p %`) for
//! schedules that should stay near their nominal time.

use std::time::Duration;

/// How the pause for one attempt is drawn around its ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly the ceiling.
    None,
    /// Uniform in `[0, ceiling]`.
    Full,
    /// Uniform in `[ceiling − p %, ceiling + p %]` (`p` at most 100).
    Spread(u8),
}

/// Exponential backoff: `base · 2^(attempt−1)`, never above `max`, jittered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first attempt's pause.
    pub base: Duration,
    /// The largest ceiling; growth stops here.
    pub max: Duration,
    /// How the pause is drawn around the ceiling.
    pub jitter: Jitter,
}

/// Doublings beyond this change nothing for any real `base` (2^30 · 1 µs is
/// 18 minutes); the limit keeps the multiplication in range.
const MAX_DOUBLINGS: u32 = 30;

impl Backoff {
    /// A policy growing from `base` to at most `max`.
    pub const fn new(base: Duration, max: Duration, jitter: Jitter) -> Self {
        Self { base, max, jitter }
    }

    /// The pause ceiling before retry number `attempt` (1-based; 0 counts as 1):
    /// `min(max, base · 2^(attempt−1))`. Non-decreasing in `attempt`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(MAX_DOUBLINGS);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }

    /// The pause before retry number `attempt`, drawn from the process RNG.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, &mut fastrand::Rng::new())
    }

    /// The pause before retry number `attempt`, drawn from `rng` (seed it
    /// for reproducible tests).
    pub fn delay_with(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling = self.ceiling(attempt);
        let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => Duration::from_micros(rng.u64(0..=micros)),
            Jitter::Spread(percent) => {
                let spread = u64::try_from(u128::from(micros) * u128::from(percent.min(100)) / 100)
                    .unwrap_or(u64::MAX);
                let low = micros - spread;
                let high = micros.saturating_add(spread);
                Duration::from_micros(rng.u64(low..=high))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn ceiling_doubles_from_base_and_stops_at_max() {
        let b = Backoff::new(100 * MS, 2000 * MS, Jitter::None);
        let ceilings: Vec<u128> = (0..=8).map(|n| b.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 100, 200, 400, 800, 1600, 2000, 2000, 2000]);
        assert_eq!(b.delay(3), 400 * MS);
        // Huge attempt numbers and bases saturate instead of overflowing.
        assert_eq!(b.ceiling(u32::MAX), 2000 * MS);
        let huge = Backoff::new(Duration::MAX, Duration::MAX, Jitter::None);
        assert_eq!(huge.ceiling(40), Duration::MAX);
    }

    #[test]
    fn ceiling_is_monotone_and_capped() {
        for (base, max) in [(1, 1), (1, 1000), (7, 5), (250, 60_000), (3, u64::MAX / 4)] {
            let b = Backoff::new(
                Duration::from_millis(base),
                Duration::from_millis(max),
                Jitter::Full,
            );
            let mut last = Duration::ZERO;
            for n in 0..80 {
                let c = b.ceiling(n);
                assert!(c >= last, "ceiling fell at attempt {n}: {last:?} -> {c:?}");
                assert!(c <= b.max, "ceiling {c:?} above max at attempt {n}");
                last = c;
            }
        }
    }

    #[test]
    fn full_jitter_stays_in_zero_to_ceiling_and_covers_it() {
        let b = Backoff::new(100 * MS, 2000 * MS, Jitter::Full);
        let mut rng = fastrand::Rng::with_seed(7);
        for attempt in 1..10 {
            let ceiling = b.ceiling(attempt);
            let draws: Vec<Duration> = (0..2000).map(|_| b.delay_with(attempt, &mut rng)).collect();
            assert!(draws.iter().all(|d| *d <= ceiling), "attempt {attempt}");
            // Spread over the whole range, not stuck at one end.
            assert!(draws.iter().any(|d| *d < ceiling / 10), "attempt {attempt}");
            assert!(
                draws.iter().any(|d| *d > ceiling * 9 / 10),
                "attempt {attempt}"
            );
        }
        // The same seed gives the same pauses.
        let a: Vec<_> = (1..6)
            .map(|n| b.delay_with(n, &mut fastrand::Rng::with_seed(42)))
            .collect();
        let c: Vec<_> = (1..6)
            .map(|n| b.delay_with(n, &mut fastrand::Rng::with_seed(42)))
            .collect();
        assert_eq!(a, c);
    }

    #[test]
    fn spread_jitter_stays_within_the_percentage() {
        let b = Backoff::new(600 * MS, 86_400 * MS, Jitter::Spread(10));
        let mut rng = fastrand::Rng::with_seed(1);
        for attempt in [1, 3, 30] {
            let ceiling = b.ceiling(attempt);
            let (low, high) = (ceiling * 9 / 10, ceiling * 11 / 10);
            let draws: Vec<Duration> = (0..2000).map(|_| b.delay_with(attempt, &mut rng)).collect();
            assert!(
                draws.iter().all(|d| (low..=high).contains(d)),
                "attempt {attempt}"
            );
            assert!(draws.iter().any(|d| *d < ceiling), "attempt {attempt}");
            assert!(draws.iter().any(|d| *d > ceiling), "attempt {attempt}");
        }
        // A spread above 100 % is read as 100 %: never negative.
        let wide = Backoff::new(10 * MS, 10 * MS, Jitter::Spread(250));
        for _ in 0..500 {
            assert!(wide.delay_with(1, &mut rng) <= 20 * MS);
        }
    }
}

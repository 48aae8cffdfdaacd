//! Worst-case inputs: fill a limit with a repeated unit and time a parser
//! on it against a generous wall-time budget (debug build, busy machine).

use std::time::{Duration, Instant};

/// `head`, then `unit` as often as fits in `cap` bytes with `tail`, then `tail`.
pub fn fill(head: &str, unit: &str, tail: &str, cap: usize) -> String {
    let n = (cap - head.len() - tail.len()) / unit.len();
    let mut s = String::with_capacity(cap);
    s.push_str(head);
    for _ in 0..n {
        s.push_str(unit);
    }
    s.push_str(tail);
    assert!(s.len() <= cap, "filled past the cap");
    s
}

/// Runs `f`, prints how long it took (shown with `--nocapture`) and fails
/// when that exceeds `budget`.
#[allow(clippy::print_stderr)]
pub fn timed_within<T>(budget: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    eprintln!("{what}: {took:?}");
    assert!(
        took < budget,
        "{what} took {took:?}; the budget is {budget:?}"
    );
    out
}

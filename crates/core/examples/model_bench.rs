//! Router overhead and fallback time against the in-process provider
//! imitation (loopback, no network):
//!
//! ```sh
//! cargo run --release -p ffmcp-core --example model_bench [-- CALLS]
//! ```
//!
//! * direct: `Providers::complete` (one HTTP round trip, no routing)
//! * routed: `Router::complete` with one healthy route (routing, timeout,
//!   breaker bookkeeping, accounting, tracing)
//! * fallback: the primary answers 529; default settings (3 attempts with
//!   100 ms full-jitter backoff), a fresh router per call so the breaker is
//!   closed — the worst case a caller sees
//! * fallback, breaker open: the same once the breaker skips the primary
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use ffmcp_core::model::{Call, Providers, Request, Router, RouterConfig, parse_routes};
use ffmcp_test_support::imitation::{Fault, Imitation};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let imitation = Imitation::start().await?;
    imitation.outage("dead", Fault::Status(529));
    let request = Request::new("Classify: please refund my order").with_max_tokens(16);
    let healthy = parse_routes("openai:gpt-4o")?;
    let providers = Providers::new(imitation.settings());
    let router = Router::new(RouterConfig::new(healthy.clone(), imitation.settings()));
    let call = Call::new("bench");

    for _ in 0..200 {
        providers.complete(&healthy[0], &request, None).await?;
        router.complete(&request, &call).await?;
    }
    let mut direct = Vec::with_capacity(calls);
    let mut routed = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        providers.complete(&healthy[0], &request, None).await?;
        direct.push(t.elapsed());
        let t = Instant::now();
        router.complete(&request, &call).await?;
        routed.push(t.elapsed());
    }

    let with_dead = parse_routes("anthropic:dead,openai:gpt-4o")?;
    let runs = (calls / 40).clamp(10, 100);
    let mut fallback = Vec::with_capacity(runs);
    for _ in 0..runs {
        let fresh = Router::new(RouterConfig::new(with_dead.clone(), imitation.settings()));
        let t = Instant::now();
        fresh.complete(&request, &call).await?;
        fallback.push(t.elapsed());
    }
    let open = Router::new(RouterConfig::new(with_dead, imitation.settings()));
    for _ in 0..3 {
        open.complete(&request, &call).await?;
    }
    let mut skipped = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        open.complete(&request, &call).await?;
        skipped.push(t.elapsed());
    }

    let (d, r) = (summary(&mut direct), summary(&mut routed));
    println!("{calls} calls each, loopback imitation, µs");
    println!("| path | median | p99 | mean |");
    println!("|---|---:|---:|---:|");
    for (name, s) in [
        ("direct provider call", d),
        ("routed, healthy route", r),
        (
            "fallback after 529 (defaults, breaker closed)",
            summary(&mut fallback),
        ),
        ("fallback, breaker open", summary(&mut skipped)),
    ] {
        println!("| {name} | {:.1} | {:.1} | {:.1} |", s.0, s.1, s.2);
    }
    println!(
        "router overhead: {:+.1} µs median, {:+.1} µs mean",
        r.0 - d.0,
        r.2 - d.2
    );
    Ok(())
}

/// (median, p99, mean) in µs.
fn summary(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |p: f64| us(samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)]);
    let mean = samples.iter().map(|d| us(*d)).sum::<f64>() / samples.len() as f64;
    (at(0.5), at(0.99), mean)
}

//! The circuit breaker on tokio's paused clock: a 30-second cooldown runs in
//! no time, and no network is involved (the routes are `sampling` routes
//! answered by an in-process [`Sampler`]).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use ffmcp_core::model::{
    Call, Completion, Failure, ProviderError, ProviderSettings, Request, Route, RouteHealth,
    Router, RouterConfig, Sampler, Usage,
};
use futures::future::BoxFuture;

/// Answers `sampling:good`; fails `sampling:bad` with a 503 while `down`.
#[derive(Default)]
struct Flaky {
    bad_calls: AtomicU32,
    good_calls: AtomicU32,
    down: std::sync::atomic::AtomicBool,
}

impl Sampler for Flaky {
    fn available(&self) -> bool {
        true
    }

    fn sample<'a>(
        &'a self,
        model: &'a str,
        _request: &'a Request,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            if model == "bad" {
                self.bad_calls.fetch_add(1, Ordering::SeqCst);
                if self.down.load(Ordering::SeqCst) {
                    return Err(ProviderError::new(Failure::Status(503), "overloaded"));
                }
            } else {
                self.good_calls.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Completion {
                text: format!("answer from {model}"),
                model: model.to_owned(),
                usage: Usage::default(),
                stop_reason: None,
            })
        })
    }
}

fn health(router: &Router, route: &str) -> RouteHealth {
    router
        .status()
        .into_iter()
        .find(|s| s.route == route)
        .map(|s| s.health)
        .expect("route listed")
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_skips_its_route_until_the_cooldown_then_probes_it() {
    let routes: Vec<Route> = ["sampling:bad", "sampling:good"]
        .iter()
        .map(|r| r.parse().expect("route"))
        .collect();
    let mut config = RouterConfig::new(routes, ProviderSettings::from_lookup(&|_| None));
    config.breaker_threshold = 2;
    config.max_attempts = 2;
    config.cooldown = Duration::from_secs(30);
    let router = Router::new(config);
    let sampler = Arc::new(Flaky::default());
    sampler.down.store(true, Ordering::SeqCst);
    let call = Call::new("t").with_sampler(sampler.clone());
    let request = Request::new("hi");

    // Two calls: each tries `bad` twice (with backoff sleeps on the paused
    // clock), then falls back to `good`. Then the breaker opens.
    for _ in 0..2 {
        let reply = router
            .complete(&request, &call)
            .await
            .expect("fallback answers");
        assert_eq!(reply.route.to_string(), "sampling:good");
        assert_eq!(reply.fallbacks, 1);
    }
    assert_eq!(sampler.bad_calls.load(Ordering::SeqCst), 4);
    assert_eq!(health(&router, "sampling:bad"), RouteHealth::CoolingDown);

    // While it cools down, calls go straight to `good`: `bad` is not asked.
    tokio::time::advance(Duration::from_secs(29)).await;
    router.complete(&request, &call).await.expect("answered");
    assert_eq!(
        sampler.bad_calls.load(Ordering::SeqCst),
        4,
        "skipped while open"
    );
    let stats = router.stats();
    assert_eq!(stats.routes["sampling:bad"].skipped, 1, "{stats:?}");

    // After the cooldown one call probes it; it has recovered, so the
    // breaker closes and `bad` (the primary) answers again.
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(health(&router, "sampling:bad"), RouteHealth::Probing);
    sampler.down.store(false, Ordering::SeqCst);
    let reply = router.complete(&request, &call).await.expect("answered");
    assert_eq!(reply.route.to_string(), "sampling:bad");
    assert_eq!(sampler.bad_calls.load(Ordering::SeqCst), 5);
    assert_eq!(health(&router, "sampling:bad"), RouteHealth::Healthy);
}

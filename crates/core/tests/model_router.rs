//! The router's policy: retries with backoff, retry-after, fallback,
//! no fallback on 4xx, the breaker, structured output, accounting, and a
//! 400-item classification batch through a provider outage.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use ffmcp_core::model::{
    Call, ModelError, Providers, Request, RouteHealth, Router, RouterConfig, parse_routes,
};
use ffmcp_test_support::imitation::Fault;
use serde_json::{Value, json};

use super::{imitation, route, router_default, router_fast};

fn call() -> Call {
    Call::new("test")
}

fn ask() -> Request {
    Request::new("hello").with_max_tokens(32)
}

/// The issue's headline case, with default settings: the primary answers
/// 529 to everything; the call succeeds on the fallback with under a second
/// added over calling the fallback directly.
#[tokio::test]
async fn primary_529_falls_back_within_a_second_with_defaults() {
    let imitation = imitation().await;
    imitation.outage("primary", Fault::Status(529));
    let router = router_default(&imitation, "anthropic:primary,openai:fallback");

    let providers = Providers::new(imitation.settings());
    let started = Instant::now();
    providers
        .complete(&route("openai:fallback"), &ask(), None)
        .await
        .expect("direct call");
    let direct = started.elapsed();

    let started = Instant::now();
    let answer = router
        .complete(&ask(), &call())
        .await
        .expect("fallback answers");
    let routed = started.elapsed();
    assert_eq!(answer.route.to_string(), "openai:fallback");
    assert_eq!((answer.attempts, answer.fallbacks), (4, 1));
    assert_eq!(imitation.hits("primary"), 3, "3 attempts on the primary");
    let added = routed.saturating_sub(direct);
    assert!(added < Duration::from_secs(1), "fallback added {added:?}");
}

#[tokio::test]
async fn transient_failures_are_retried_on_the_same_route() {
    let imitation = imitation().await;
    imitation.fault_times("primary", Fault::Status(503), 1);
    imitation.fault_times("primary", Fault::Reset, 1);
    let router = router_fast(&imitation, "anthropic:primary,openai:fallback", |_| {});
    let answer = router
        .complete(&ask(), &call())
        .await
        .expect("third attempt answers");
    assert_eq!(answer.route.to_string(), "anthropic:primary");
    assert_eq!((answer.attempts, answer.fallbacks), (3, 0));
    assert_eq!(imitation.hits("fallback"), 0);

    imitation.fault_times("primary", Fault::MalformedJson, 1);
    imitation.fault_times("primary", Fault::Truncated, 1);
    let answer = router.complete(&ask(), &call()).await.expect("answers");
    assert_eq!(
        (answer.route.to_string().as_str(), answer.attempts),
        ("anthropic:primary", 3)
    );
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_the_cap() {
    let imitation = imitation().await;
    imitation.fault_times(
        "primary",
        Fault::RateLimited {
            retry_after: Duration::from_millis(300),
        },
        1,
    );
    let router = router_fast(&imitation, "anthropic:primary,openai:fallback", |_| {});
    let started = Instant::now();
    let answer = router.complete(&ask(), &call()).await.expect("answers");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited as asked"
    );
    assert_eq!(answer.route.to_string(), "anthropic:primary");

    // Longer than the cap (1 s here) with a fallback at hand: move on now.
    imitation.fault_times(
        "primary",
        Fault::RateLimited {
            retry_after: Duration::from_secs(30),
        },
        1,
    );
    let started = Instant::now();
    let answer = router.complete(&ask(), &call()).await.expect("answers");
    assert_eq!(answer.route.to_string(), "openai:fallback");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_timeout_moves_to_the_next_route_at_once() {
    let imitation = imitation().await;
    imitation.outage("slow", Fault::Slow(Duration::from_secs(5)));
    let router = router_fast(&imitation, "gemini:slow,bedrock:quick", |c| {
        c.attempt_timeout = Duration::from_millis(200);
    });
    let answer = router.complete(&ask(), &call()).await.expect("answers");
    assert_eq!(answer.route.to_string(), "bedrock:quick");
    assert_eq!(imitation.hits("slow"), 1, "no second wait on a slow route");
}

#[tokio::test]
async fn unauthorized_stops_without_fallback() {
    let imitation = imitation().await;
    let mut config = RouterConfig::new(
        parse_routes("anthropic:primary,openai:fallback").expect("routes"),
        imitation.settings(),
    );
    config.providers.anthropic.api_key = Some("sk-wrong".into());
    let router = Router::new(config);
    let err = router.complete(&ask(), &call()).await.expect_err("401");
    assert!(matches!(err, ModelError::Rejected { .. }), "{err:?}");
    let text = err.to_string();
    for needle in [
        "anthropic:primary",
        "HTTP 401",
        "invalid x-api-key",
        "no fallback",
    ] {
        assert!(text.contains(needle), "{needle:?} in {text}");
    }
    assert_eq!(imitation.hits("primary"), 1, "not retried");
    assert_eq!(imitation.hits("fallback"), 0, "no fallback");
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    let imitation = imitation().await;
    let router = router_fast(&imitation, "openai:primary,gemini:fallback", |_| {});
    for status in [400, 403, 404, 422] {
        imitation.fault_times("primary", Fault::Status(status), 1);
        let before = imitation.hits("primary");
        let err = router.complete(&ask(), &call()).await.expect_err("4xx");
        assert!(err.to_string().contains(&format!("HTTP {status}")), "{err}");
        assert_eq!(imitation.hits("primary"), before + 1);
    }
    assert_eq!(imitation.hits("fallback"), 0);
}

#[tokio::test]
async fn all_routes_down_names_each() {
    let imitation = imitation().await;
    imitation.outage("a", Fault::Status(529));
    imitation.outage("b", Fault::Reset);
    imitation.outage("c", Fault::Slow(Duration::from_secs(5)));
    let router = router_fast(&imitation, "anthropic:a,openai:b,gemini:c", |c| {
        c.attempt_timeout = Duration::from_millis(150);
    });
    let err = router
        .complete(&ask(), &call())
        .await
        .expect_err("all down");
    let ModelError::AllFailed { failures } = &err else {
        panic!("expected AllFailed, got {err:?}");
    };
    assert_eq!(failures.len(), 3);
    let text = err.to_string();
    for needle in [
        "anthropic:a: HTTP 529: overloaded_error: Overloaded (3 attempts)",
        "openai:b: connection failed",
        "gemini:c: timed out",
    ] {
        assert!(text.contains(needle), "{needle:?} in {text}");
    }
    // The last route had nothing to fall back to, so it was retried.
    assert_eq!(imitation.hits("c"), 3);
}

#[tokio::test]
async fn breaker_skips_a_dead_route_then_probes_it() {
    let imitation = imitation().await;
    imitation.outage("primary", Fault::Status(503));
    let router = router_fast(&imitation, "anthropic:primary,openai:fallback", |c| {
        c.breaker_threshold = 2;
        c.cooldown = Duration::from_millis(400);
    });
    for _ in 0..2 {
        let answer = router.complete(&ask(), &call()).await.expect("fallback");
        assert_eq!(answer.fallbacks, 1);
    }
    assert_eq!(imitation.hits("primary"), 6);
    let status = router.status();
    assert_eq!(status[0].health, RouteHealth::CoolingDown, "{status:?}");
    assert!(status[0].cooldown_remaining_ms.is_some());
    assert!(
        status[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503"))
    );

    let answer = router.complete(&ask(), &call()).await.expect("fallback");
    assert_eq!(answer.route.to_string(), "openai:fallback");
    assert_eq!(answer.attempts, 1, "the open route is skipped, not tried");
    assert_eq!(imitation.hits("primary"), 6);
    assert_eq!(router.stats().routes["anthropic:primary"].skipped, 1);

    imitation.clear("primary");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(router.status()[0].health, RouteHealth::Probing);
    let answer = router.complete(&ask(), &call()).await.expect("probe");
    assert_eq!(answer.route.to_string(), "anthropic:primary");
    assert_eq!(router.status()[0].health, RouteHealth::Healthy);
}

#[tokio::test]
async fn when_every_route_cools_down_each_still_gets_one_attempt() {
    let imitation = imitation().await;
    imitation.outage("only", Fault::Status(529));
    let router = router_fast(&imitation, "anthropic:only", |c| {
        c.breaker_threshold = 1;
        c.cooldown = Duration::from_secs(60);
    });
    router.complete(&ask(), &call()).await.expect_err("down");
    assert_eq!(imitation.hits("only"), 3);
    imitation.clear("only");
    let answer = router
        .complete(&ask(), &call())
        .await
        .expect("last resort answers");
    assert_eq!(answer.route.to_string(), "anthropic:only");
    assert_eq!(router.status()[0].health, RouteHealth::Healthy);
}

#[tokio::test]
async fn a_per_call_model_replaces_the_configured_routes() {
    let imitation = imitation().await;
    let router = router_fast(&imitation, "anthropic:configured", |_| {});
    let call = call()
        .with_model_arg(Some("gemini:override"))
        .expect("valid");
    let answer = router.complete(&ask(), &call).await.expect("answers");
    assert_eq!(answer.route.to_string(), "gemini:override");
    assert_eq!(imitation.hits("configured"), 0);
    let err = Call::new("t")
        .with_model_arg(Some("nope"))
        .expect_err("invalid");
    assert!(
        err.to_string()
            .starts_with("argument 'model': model route 'nope'"),
        "{err}"
    );
}

#[tokio::test]
async fn nothing_configured_says_which_variables_to_set() {
    let (config, problems) = RouterConfig::from_lookup(&|name| match name {
        "FF_LLM_PRIMARY" => Some("mistral:large".into()),
        _ => None,
    });
    let router = Router::with_problems(config, problems);
    let err = router
        .complete(&ask(), &call())
        .await
        .expect_err("unconfigured");
    let text = err.to_string();
    for needle in [
        "FF_LLM_PRIMARY",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "FF_LLM_FALLBACKS",
        "sampling",
        "mistral:large",
    ] {
        assert!(text.contains(needle), "{needle:?} in {text}");
    }
}

#[tokio::test]
async fn configuration_is_read_from_the_environment_names() {
    let (config, problems) = RouterConfig::from_lookup(&|name| {
        Some(
            match name {
                "FF_LLM_PRIMARY" => "anthropic:claude-sonnet-4-5",
                "FF_LLM_FALLBACKS" => {
                    "openai:gpt-4o, gemini:gemini-2.5-pro,anthropic:claude-sonnet-4-5"
                }
                "FF_LLM_TIMEOUT_MS" => "1500",
                "FF_LLM_MAX_ATTEMPTS" => "0",
                "FF_LLM_COOLDOWN_MS" => "250",
                "FF_LLM_PRICES" => "llama3=0/0",
                "OPENAI_BASE_URL" => "http://127.0.0.1:9/v1/",
                _ => return None,
            }
            .to_owned(),
        )
    });
    let routes: Vec<String> = config.routes.iter().map(ToString::to_string).collect();
    assert_eq!(
        routes,
        [
            "anthropic:claude-sonnet-4-5",
            "openai:gpt-4o",
            "gemini:gemini-2.5-pro"
        ]
    );
    assert_eq!(config.attempt_timeout, Duration::from_millis(1500));
    assert_eq!(config.cooldown, Duration::from_millis(250));
    assert_eq!(config.max_attempts, 3, "0 is refused");
    assert_eq!(config.providers.openai.base_url, "http://127.0.0.1:9/v1");
    assert_eq!(
        config.providers.anthropic.base_url,
        "https://api.anthropic.com"
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("FF_LLM_MAX_ATTEMPTS"));
}

#[tokio::test]
async fn complete_json_repairs_once_then_fails_clearly() {
    let imitation = imitation().await;
    let schema =
        json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]});
    let replies = Arc::new(AtomicUsize::new(0));
    let counter = replies.clone();
    imitation.respond("fixer", move |prompt| {
        match counter.fetch_add(1, Ordering::SeqCst) {
            0 => "```json\n{\"n\": \"seven\"}\n```".to_owned(),
            _ => {
                assert!(
                    prompt.last_user().contains("/n"),
                    "the repair names the problem"
                );
                r#"{"n": 7}"#.to_owned()
            }
        }
    });
    let router = router_fast(&imitation, "anthropic:fixer", |_| {});
    let answer = router
        .complete_json(&ask(), &schema, &call())
        .await
        .expect("repaired");
    assert_eq!(answer.value, json!({"n": 7}));
    assert!(answer.repaired);
    assert_eq!(answer.response.attempts, 2);

    imitation.respond("stubborn", |_| "no idea".to_owned());
    let router = router_fast(&imitation, "openai:stubborn", |_| {});
    let err = router
        .complete_json(&ask(), &schema, &call())
        .await
        .expect_err("invalid");
    assert!(matches!(err, ModelError::InvalidOutput { .. }), "{err:?}");
    assert!(err.to_string().contains("not JSON"), "{err}");
    assert_eq!(imitation.hits("stubborn"), 2, "one repair attempt, no more");

    let err = router
        .complete_json(&ask(), &json!({"type": 12}), &call())
        .await
        .expect_err("bad schema");
    assert!(matches!(err, ModelError::InvalidSchema(_)), "{err:?}");
}

#[tokio::test]
async fn accounting_records_tokens_cost_and_percentiles() {
    let imitation = imitation().await;
    imitation.fault_times("gpt-4o", Fault::Status(529), 1);
    let router = router_fast(&imitation, "openai:gpt-4o,anthropic:backup", |_| {});
    for _ in 0..5 {
        router
            .complete(&ask(), &Call::new("summarize"))
            .await
            .expect("answers");
    }
    let stats = router.stats();
    let tool = &stats.tools["summarize"];
    assert_eq!(
        (tool.calls, tool.failures, tool.attempts, tool.fallbacks),
        (5, 0, 6, 0)
    );
    assert!(tool.input_tokens > 0 && tool.output_tokens > 0);
    assert!(tool.cost_usd > 0.0, "gpt-4o has a price");
    let latency = tool.latency.expect("percentiles");
    assert!(latency.p50_ms <= latency.p95_ms && latency.p95_ms <= latency.p99_ms);
    let route = &stats.routes["openai:gpt-4o"];
    assert_eq!((route.attempts, route.successes, route.failures), (6, 5, 1));
    let text = serde_json::to_string(&stats).expect("serialises");
    assert!(!text.contains("hello"), "no prompt text in stats");
}

/// The design case: a 400-item classification batch while the primary has
/// an outage (529 for items 100..300, compressed from minutes to the time
/// those items take). Every item gets a result; the breaker keeps the dead
/// route from being hammered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // one summary line, shown with --nocapture
async fn batch_of_400_classify_calls_survives_an_outage() {
    let imitation = Arc::new(imitation().await);
    for model in ["claude-sonnet-4-5", "gpt-4o"] {
        imitation.respond(model, |prompt| {
            let label = if prompt.last_user().contains("refund") {
                "billing"
            } else {
                "other"
            };
            json!({"label": label, "confidence": 0.9}).to_string()
        });
    }
    let router = Arc::new(router_fast(
        &imitation,
        "anthropic:claude-sonnet-4-5,openai:gpt-4o",
        |c| {
            c.cooldown = Duration::from_millis(150);
        },
    ));
    let schema = json!({
        "type": "object",
        "properties": {
            "label": {"enum": ["billing", "other"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1}
        },
        "required": ["label", "confidence"],
        "additionalProperties": false
    });
    let hits_at = Arc::new(std::sync::Mutex::new(Vec::new()));
    let started = Instant::now();
    // At most 16 in flight; items start in order, so the outage covers
    // items 100..300. After it ends the batch waits out one cooldown, so the
    // next item's probe finds the primary healthy (a lower bound on time,
    // never an upper one).
    let slots = Arc::new(tokio::sync::Semaphore::new(16));
    let mut batch = tokio::task::JoinSet::new();
    for i in 0..400usize {
        let slot = slots.clone().acquire_owned().await.expect("semaphore open");
        if i == 100 {
            hits_at
                .lock()
                .expect("lock")
                .push(imitation.hits("claude-sonnet-4-5"));
            imitation.outage("claude-sonnet-4-5", Fault::Status(529));
        }
        if i == 300 {
            hits_at
                .lock()
                .expect("lock")
                .push(imitation.hits("claude-sonnet-4-5"));
            imitation.clear("claude-sonnet-4-5");
            tokio::time::sleep(router.config().cooldown * 2).await;
        }
        let (router, schema) = (router.clone(), schema.clone());
        batch.spawn(async move {
            let _slot = slot;
            let text = if i % 3 == 0 {
                format!("item {i}: please refund me")
            } else {
                format!("item {i}: hi")
            };
            let request = Request::new(text).with_system("Classify the message.");
            let result = router
                .complete_json(&request, &schema, &Call::new("classify"))
                .await
                .map(|r| r.value);
            (i, result)
        });
    }
    let results: Vec<(usize, Result<Value, ModelError>)> = batch.join_all().await;
    let elapsed = started.elapsed();

    assert_eq!(results.len(), 400);
    let lost: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
    assert!(lost.is_empty(), "lost items: {lost:?}");
    for (i, result) in &results {
        let expected = if i % 3 == 0 { "billing" } else { "other" };
        assert_eq!(result.as_ref().expect("ok")["label"], expected, "item {i}");
    }
    let stats = router.stats();
    let primary = &stats.routes["anthropic:claude-sonnet-4-5"];
    let fallback = &stats.routes["openai:gpt-4o"];
    assert!(
        fallback.successes >= 150,
        "the fallback carried the outage: {fallback:?}"
    );
    assert!(
        primary.skipped >= 100,
        "the breaker skipped the dead route: {primary:?}"
    );
    let hits = hits_at.lock().expect("lock").clone();
    let during_outage = hits[1] - hits[0];
    // Without the breaker: 200 items x 3 attempts = 600 hits.
    assert!(
        during_outage < 200,
        "{during_outage} requests hit the dead route"
    );
    assert!(
        primary.successes >= 140,
        "the primary took over again afterwards: {primary:?}"
    );
    let classify = &stats.tools["classify"];
    assert_eq!((classify.calls, classify.failures), (400, 0));
    eprintln!(
        "400 items in {elapsed:?}; primary hit {during_outage} times during the outage, skipped {} times; fallback answered {}",
        primary.skipped, fallback.successes
    );
}

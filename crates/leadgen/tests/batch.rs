//! Durable classification batches against the provider imitation: a
//! 400-lead job through a (time-compressed) 3-minute total outage of the
//! primary and a partial outage of the fallback, and a job whose process
//! dies mid-way and is picked up from the database by a new one.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use ffmcp_core::{
    model::{Router, RouterConfig, parse_routes},
    store::Store,
};
use ffmcp_leadgen::{
    Lead,
    jobs::{Category, Engine, JobSettings, JobSpec, JobState, Observer, Progress},
};
use ffmcp_test_support::imitation::{Fault, Imitation};
use serde_json::json;

pub const PRIMARY: &str = "claude-sonnet-4-5";
const FALLBACK: &str = "gpt-4o";
/// 3 minutes, compressed 100×.
const OUTAGE: Duration = Duration::from_millis(1800);

pub fn leads(n: usize) -> Vec<Lead> {
    (0..n)
        .map(|i| Lead {
            name: Some(format!("Person {i}")),
            title: Some(if i % 3 == 0 {
                format!("VP Sales {i}")
            } else {
                format!("Analyst {i}")
            }),
            company: Some(format!("Company {}", i % 17)),
            emails: vec![format!("p{i}@example.com")],
            ..Lead::default()
        })
        .collect()
}

pub fn categories() -> Vec<Category> {
    ["decision_maker", "other"]
        .iter()
        .map(|n| Category {
            name: (*n).into(),
            description: None,
        })
        .collect()
}

/// Answers like a model would and counts the answers given.
pub fn answer_from_titles(imitation: &Imitation, model: &str, answered: Arc<AtomicUsize>) {
    imitation.respond(model, move |prompt| {
        answered.fetch_add(1, Ordering::SeqCst);
        let text = prompt.last_user();
        assert!(
            !text.contains("@example.com"),
            "contact details never reach the model"
        );
        let label = if text.contains("title: VP") {
            "decision_maker"
        } else {
            "other"
        };
        json!({"label": label, "confidence": 0.9, "rationale": "from the title"}).to_string()
    });
}

pub fn router(imitation: &Imitation) -> Arc<Router> {
    let mut config = RouterConfig::new(
        parse_routes(&format!("anthropic:{PRIMARY},openai:{FALLBACK}")).expect("routes"),
        imitation.settings(),
    );
    // Generous per-attempt time: an answer is never thrown away as late.
    config.attempt_timeout = Duration::from_secs(30);
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(20);
    config.cooldown = Duration::from_millis(100);
    Arc::new(Router::new(config))
}

pub fn settings() -> JobSettings {
    JobSettings {
        concurrency: 8,
        retry_base: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        lease: Duration::from_secs(1),
    }
}

pub async fn finish(engine: &Engine, id: &str) -> ffmcp_leadgen::jobs::JobStatus {
    loop {
        let status = engine
            .wait(id, Duration::from_secs(30))
            .await
            .expect("status");
        if status.state.is_settled() {
            return status;
        }
    }
}

/// Every lead has exactly one result, and the right one.
pub async fn assert_complete(engine: &Engine, id: &str, n: usize) {
    let rows = engine.results(id, 0, 10_000).await.expect("results");
    assert_eq!(rows.len(), n, "one result per lead");
    let indices: HashSet<u32> = rows.iter().map(|r| r.0).collect();
    assert_eq!(indices.len(), n, "no lead recorded twice");
    for (idx, lead, status, result, error) in rows {
        assert_eq!(status, "done", "lead {idx}: {error:?}");
        let want = if lead.title.as_deref().is_some_and(|t| t.starts_with("VP")) {
            "decision_maker"
        } else {
            "other"
        };
        assert_eq!(result.expect("classified").label, want, "lead {idx}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_hundred_leads_survive_a_total_primary_and_partial_fallback_outage() {
    let imitation = Arc::new(Imitation::start().await.expect("imitation"));
    let answered = Arc::new(AtomicUsize::new(0));
    answer_from_titles(&imitation, PRIMARY, answered.clone());
    answer_from_titles(&imitation, FALLBACK, answered.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("ffmcp.db")).expect("store");
    let engine = Engine::open(store, router(&imitation), settings())
        .await
        .expect("engine");

    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let log = seen.clone();
    let observer: Observer = Arc::new(move |p| log.lock().expect("lock").push(p));
    let spec = JobSpec {
        categories: categories(),
        instructions: None,
        model: None,
        leads: leads(400),
    };
    let id = engine.start(spec, Some(observer)).await.expect("started");

    // The outage starts once a quarter is done: the primary answers 529 to
    // everything for OUTAGE; the fallback is down completely for the first
    // sixth of it (so the job must wait) and every other moment after.
    let driver = {
        let (engine, imitation, id) = (engine.clone(), imitation.clone(), id.clone());
        tokio::spawn(async move {
            while engine.status(&id).await.expect("status").done < 100 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            imitation.outage(PRIMARY, Fault::Status(529));
            let started = tokio::time::Instant::now();
            let mut tick = 0u32;
            while started.elapsed() < OUTAGE {
                let both_down = started.elapsed() < OUTAGE / 6;
                if both_down || tick.is_multiple_of(2) {
                    imitation.outage(FALLBACK, Fault::Status(503));
                } else {
                    imitation.clear(FALLBACK);
                }
                tick += 1;
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            imitation.clear(FALLBACK);
            imitation.clear(PRIMARY);
        })
    };
    let status = finish(&engine, &id).await;
    driver.await.expect("driver");
    assert_eq!(status.state, JobState::Done, "{status:?}");
    assert_eq!((status.done, status.failed, status.pending), (400, 0, 0));
    assert!(
        status.pauses >= 1,
        "every route was down for a while: the job waited ({status:?})"
    );
    assert_eq!(
        status.last_error, None,
        "a finished job does not keep the outage's error"
    );
    assert_complete(&engine, &id, 400).await;
    assert_eq!(
        answered.load(Ordering::SeqCst),
        400,
        "no lead was classified twice"
    );
    // The job's own accounting: every lead's tokens, the retries of the
    // outage, and the leads the fallback answered.
    let usage = &status.usage;
    assert!(
        usage.input_tokens >= 400 && usage.output_tokens >= 400,
        "{usage:?}"
    );
    assert!(usage.attempts > 400, "the outage cost retries: {usage:?}");
    assert!(
        usage.fallbacks >= 1 && usage.fallbacks < 400,
        "some leads, not all, came from the fallback: {usage:?}"
    );

    let seen = seen.lock().expect("lock").clone();
    let running: Vec<u64> = seen
        .iter()
        .filter(|p| p.state == JobState::Running)
        .map(|p| p.done)
        .collect();
    assert!(
        running.windows(2).all(|w| w[0] <= w[1]),
        "progress only grows"
    );
    assert!(
        (1..=400).all(|n| running.contains(&n)),
        "a notification per lead"
    );
    assert!(seen.iter().any(|p| p.state == JobState::Waiting));
    assert_eq!(
        seen.last().map(|p| (p.done, p.state)),
        Some((400, JobState::Done))
    );
}

#[test]
fn a_job_whose_process_dies_is_finished_by_the_next_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let answered = Arc::new(AtomicUsize::new(0));

    // First "process": its own runtime, shut down without warning mid-job.
    let first = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let id = first.block_on(async {
        let imitation = Imitation::start().await.expect("imitation");
        answer_from_titles(&imitation, PRIMARY, answered.clone());
        imitation.outage(PRIMARY, Fault::Slow(Duration::from_millis(20)));
        let engine = Engine::open(
            Store::open(&db).expect("store"),
            router(&imitation),
            settings(),
        )
        .await
        .expect("engine");
        let spec = JobSpec {
            categories: categories(),
            instructions: None,
            model: None,
            leads: leads(120),
        };
        let id = engine.start(spec, None).await.expect("started");
        while engine.status(&id).await.expect("status").done < 30 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        std::mem::forget(imitation); // the runtime's end stops it
        id
    });
    first.shutdown_background();
    let before = answered.load(Ordering::SeqCst);
    assert!((30..120).contains(&before), "died mid-job after {before}");

    // Second "process": same database, fresh everything else.
    let second = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    second.block_on(async {
        let imitation = Imitation::start().await.expect("imitation");
        answer_from_titles(&imitation, PRIMARY, answered.clone());
        let engine = Engine::open(
            Store::open(&db).expect("store"),
            router(&imitation),
            settings(),
        )
        .await
        .expect("engine");
        let status = engine.status(&id).await.expect("status");
        assert_eq!(
            status.state,
            JobState::Running,
            "left running by the dead process"
        );
        let resumed = engine.resume_unfinished().await.expect("resume");
        assert_eq!(resumed, std::slice::from_ref(&id));
        let status = finish(&engine, &id).await;
        assert_eq!(
            (status.state, status.done, status.pending),
            (JobState::Done, 120, 0)
        );
        assert_complete(&engine, &id, 120).await;
        // Calls in flight when the first process died were answered but
        // never committed; at most `concurrency` of them are repeated.
        let total = answered.load(Ordering::SeqCst);
        assert!(
            (120..=120 + 8).contains(&total),
            "{total} answers for 120 leads"
        );

        assert!(engine.delete(&id).await.expect("delete"));
        assert!(engine.status(&id).await.is_err(), "purged");
    });
}

#[tokio::test]
async fn cancel_resume_and_a_refusing_provider() {
    let imitation = Imitation::start().await.expect("imitation");
    let answered = Arc::new(AtomicUsize::new(0));
    answer_from_titles(&imitation, PRIMARY, answered.clone());
    let engine = Engine::open(
        Store::in_memory().expect("store"),
        router(&imitation),
        settings(),
    )
    .await
    .expect("engine");

    // 401 from the only route: not an outage, the job pauses with the reason.
    imitation.fault_times(PRIMARY, Fault::Status(401), 1);
    let spec = JobSpec {
        categories: categories(),
        instructions: None,
        model: Some(format!("anthropic:{PRIMARY}")),
        leads: leads(20),
    };
    let id = engine.start(spec, None).await.expect("started");
    let status = finish(&engine, &id).await;
    assert_eq!(status.state, JobState::Paused, "{status:?}");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("401")),
        "{status:?}"
    );
    let status = engine.resume(&id, None).await.expect("resume");
    assert_ne!(status.state, JobState::Paused);
    let status = finish(&engine, &id).await;
    assert_eq!((status.state, status.done), (JobState::Done, 20));

    // Cancel keeps what is done; resume finishes the rest.
    imitation.outage(PRIMARY, Fault::Slow(Duration::from_millis(30)));
    let spec = JobSpec {
        categories: categories(),
        instructions: None,
        model: None,
        leads: leads(40),
    };
    let id = engine.start(spec, None).await.expect("started");
    while engine.status(&id).await.expect("status").done < 5 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cancelled = engine.cancel(&id).await.expect("cancel");
    assert_eq!(cancelled.state, JobState::Cancelled);
    let kept = engine.status(&id).await.expect("status").done;
    assert!((5..40).contains(&kept));
    engine.resume(&id, None).await.expect("resume");
    let status = finish(&engine, &id).await;
    assert_eq!((status.state, status.done), (JobState::Done, 40));
    assert_complete(&engine, &id, 40).await;

    assert!(
        engine
            .start(
                JobSpec {
                    categories: categories()[..1].to_vec(),
                    instructions: None,
                    model: None,
                    leads: leads(1)
                },
                None
            )
            .await
            .is_err()
    );
}

/// A job waiting out an outage probes at least as often as the router's
/// breaker cooldown, however long `retry_max` is, so it resumes soon after
/// the providers recover (issue 17.9: it used to idle up to ~75 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_job_resumes_soon_after_the_outage_ends() {
    let imitation = Arc::new(Imitation::start().await.expect("imitation"));
    let answered = Arc::new(AtomicUsize::new(0));
    answer_from_titles(&imitation, PRIMARY, answered.clone());
    answer_from_titles(&imitation, FALLBACK, answered.clone());
    imitation.outage(PRIMARY, Fault::Status(529));
    imitation.outage(FALLBACK, Fault::Status(503));
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("ffmcp.db")).expect("store");
    let patient = JobSettings {
        concurrency: 4,
        retry_base: Duration::from_millis(50),
        retry_max: Duration::from_secs(60),
        ..JobSettings::default()
    };
    let engine = Engine::open(store, router(&imitation), patient)
        .await
        .expect("engine");
    let spec = JobSpec {
        categories: categories(),
        instructions: None,
        model: None,
        leads: leads(8),
    };
    let id = engine.start(spec, None).await.expect("started");
    // By now an uncapped doubling pause would be past a second and a half:
    // count the probes that reach the providers in the next second.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let before = imitation.hits(PRIMARY) + imitation.hits(FALLBACK);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let probes = imitation.hits(PRIMARY) + imitation.hits(FALLBACK) - before;
    assert!(
        probes >= 8,
        "the job probes about every cooldown (100 ms), not every few seconds: {probes} attempts"
    );
    let waiting = engine.status(&id).await.expect("status");
    assert_eq!(waiting.state, JobState::Waiting, "{waiting:?}");
    assert!(waiting.last_error.is_some(), "{waiting:?}");
    imitation.clear(PRIMARY);
    imitation.clear(FALLBACK);
    let recovered = tokio::time::Instant::now();
    let status = finish(&engine, &id).await;
    let took = recovered.elapsed();
    assert_eq!(status.state, JobState::Done, "{status:?}");
    assert!(
        took < Duration::from_millis(1500),
        "resumed {took:?} after recovery (breaker cooldown 100 ms)"
    );
    assert_eq!(status.last_error, None, "{status:?}");
}

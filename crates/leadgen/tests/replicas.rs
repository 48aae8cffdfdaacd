//! One job run by several processes on one database, on both store
//! backends (a SQLite file, and a fresh PostgreSQL database when
//! `FFMCP_TEST_PG_URL` names a server): two engines on separate store
//! handles share the leads, each classified once; a lead held by a process
//! that dies mid-call is finished by another once its lease runs out.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use ffmcp_core::store::{Store, params};
use ffmcp_leadgen::jobs::{Engine, JobSettings, JobSpec, JobState};
use ffmcp_test_support::{
    imitation::{Fault, Imitation},
    postgres::databases,
};

use crate::batch::{
    PRIMARY, answer_from_titles, assert_complete, categories, finish, leads, router, settings,
};

fn spec(n: usize) -> JobSpec {
    JobSpec {
        categories: categories(),
        instructions: None,
        model: None,
        leads: leads(n),
    }
}

/// Who recorded each of the job's results: owner → leads.
async fn recorded_by(store: &Store, id: &str) -> HashMap<String, usize> {
    let id = id.to_owned();
    store
        .run(move |db| {
            db.query(
                "SELECT completed_by, COUNT(*) FROM lg_items WHERE job_id = ?1 \
                 AND status != 'pending' GROUP BY completed_by",
                params![id],
            )
        })
        .await
        .expect("task")
        .expect("query")
        .iter()
        .map(|r| {
            let owner: Option<String> = r.get(0).expect("owner");
            let n: i64 = r.get(1).expect("count");
            (
                owner.unwrap_or_default(),
                usize::try_from(n).expect("count"),
            )
        })
        .collect()
}

/// `(idx, lease_until)` of the job's pending leads `owner` holds.
async fn held_by(store: &Store, id: &str, owner: &str) -> Vec<(i64, i64)> {
    let (id, owner) = (id.to_owned(), owner.to_owned());
    store
        .run(move |db| {
            db.query(
                "SELECT idx, lease_until FROM lg_items WHERE job_id = ?1 \
                 AND status = 'pending' AND lease_owner = ?2 ORDER BY idx",
                params![id, owner],
            )
        })
        .await
        .expect("task")
        .expect("query")
        .iter()
        .map(|r| (r.get(0).expect("idx"), r.get(1).expect("lease_until")))
        .collect()
}

fn unix_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_millis()).expect("fits")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_a_job_and_classify_each_lead_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    for db in databases("leadgen_two_replicas", dir.path()).await {
        let probe = db.open();
        let on = probe.backend();
        let imitation = Imitation::start().await.expect("imitation");
        let answered = Arc::new(AtomicUsize::new(0));
        answer_from_titles(&imitation, PRIMARY, answered.clone());
        // Slow until the second replica holds leads too, then quicker.
        imitation.outage(PRIMARY, Fault::Slow(Duration::from_millis(200)));
        let a = Engine::open(db.open(), router(&imitation), settings())
            .await
            .expect("engine a");
        let b = Engine::open(db.open(), router(&imitation), settings())
            .await
            .expect("engine b");
        assert_ne!(a.owner(), b.owner());

        let id = a.start(spec(200), None).await.expect("started");
        // The second replica finds the job running and joins it.
        assert_eq!(
            b.resume_unfinished().await.expect("join"),
            std::slice::from_ref(&id)
        );
        while held_by(&probe, &id, b.owner()).await.is_empty() {
            // A claim takes what a replica runs at once, never more.
            let held = held_by(&probe, &id, a.owner()).await.len();
            assert!(held <= 8, "{on:?}: the first replica holds {held} leads");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        imitation.clear(PRIMARY);
        imitation.outage(PRIMARY, Fault::Slow(Duration::from_millis(15)));
        let (done_a, done_b) = (finish(&a, &id).await, finish(&b, &id).await);
        for status in [&done_a, &done_b] {
            assert_eq!(status.state, JobState::Done, "{on:?}: {status:?}");
            assert_eq!(
                (status.done, status.failed, status.pending),
                (200, 0, 0),
                "{on:?}"
            );
            assert!(status.usage.input_tokens >= 200, "{on:?}: {status:?}");
        }
        assert_complete(&a, &id, 200).await;
        assert_eq!(
            answered.load(Ordering::SeqCst),
            200,
            "{on:?}: every lead classified exactly once"
        );
        let by = recorded_by(&probe, &id).await;
        assert_eq!(by.values().sum::<usize>(), 200, "{on:?}: {by:?}");
        for engine in [&a, &b] {
            assert!(
                by.get(engine.owner()).is_some_and(|&n| n > 0),
                "{on:?}: both replicas classified leads: {by:?}"
            );
        }
        // Either replica reads the job, results and usage the same.
        assert_eq!(
            a.results(&id, 0, 500).await.expect("a"),
            b.results(&id, 0, 500).await.expect("b")
        );
        assert_eq!(done_a.usage, done_b.usage, "{on:?}");

        // Cancel on one replica stops the other; resume on it finishes.
        imitation.clear(PRIMARY);
        imitation.outage(PRIMARY, Fault::Slow(Duration::from_millis(30)));
        let id = a.start(spec(120), None).await.expect("started");
        b.resume_unfinished().await.expect("join");
        while a.status(&id).await.expect("status").done < 10 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        b.cancel(&id).await.expect("cancel");
        let stopped = finish(&a, &id).await;
        assert_eq!(stopped.state, JobState::Cancelled, "{on:?}: {stopped:?}");
        assert!(stopped.pending > 0, "{on:?}: {stopped:?}");
        b.resume(&id, None).await.expect("resume");
        let resumed = finish(&b, &id).await;
        assert_eq!(
            (resumed.state, resumed.done, resumed.pending),
            (JobState::Done, 120, 0),
            "{on:?}"
        );
        assert_complete(&b, &id, 120).await;
        assert!(b.delete(&id).await.expect("delete"), "{on:?}");
        assert!(a.status(&id).await.is_err(), "{on:?}: deleted for both");
    }
}

#[test]
fn a_lead_held_by_a_dead_process_is_finished_by_another_after_its_lease() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dbs = runtime().block_on(databases("leadgen_dead_lease", dir.path()));
    let lease = JobSettings {
        lease: Duration::from_secs(2),
        ..settings()
    };
    for db in dbs {
        let answered = Arc::new(AtomicUsize::new(0));
        // First process: dies (its runtime shut down) with leads in flight.
        let first = runtime();
        let (id, dead) = first.block_on(async {
            let imitation = Imitation::start().await.expect("imitation");
            answer_from_titles(&imitation, PRIMARY, answered.clone());
            imitation.outage(PRIMARY, Fault::Slow(Duration::from_millis(200)));
            let engine = Engine::open(db.open(), router(&imitation), lease)
                .await
                .expect("engine");
            let id = engine.start(spec(40), None).await.expect("started");
            let probe = db.open();
            loop {
                let done = engine.status(&id).await.expect("status").done;
                if done >= 8 && !held_by(&probe, &id, engine.owner()).await.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            std::mem::forget(imitation); // the runtime's end stops it
            (id, engine.owner().to_owned())
        });
        first.shutdown_background();

        let second = runtime();
        second.block_on(async {
            // A commit under way when the process died lands or not; then
            // what the dead process holds is fixed.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let probe = db.open();
            let on = probe.backend();
            let held = held_by(&probe, &id, &dead).await;
            assert!(!held.is_empty(), "{on:?}: died holding leads");
            let expiry = held.iter().map(|(_, until)| *until).max().expect("held");

            let imitation = Imitation::start().await.expect("imitation");
            answer_from_titles(&imitation, PRIMARY, answered.clone());
            let engine = Engine::open(db.open(), router(&imitation), lease)
                .await
                .expect("engine");
            assert_eq!(
                engine.resume_unfinished().await.expect("resume"),
                std::slice::from_ref(&id)
            );
            let status = finish(&engine, &id).await;
            assert_eq!(
                (status.state, status.done, status.pending),
                (JobState::Done, 40, 0),
                "{on:?}: {status:?}"
            );
            assert!(
                unix_ms() >= expiry,
                "{on:?}: the dead process's leads were taken only once its leases ran out"
            );
            assert_complete(&engine, &id, 40).await;
            let owners = {
                let (job, idx) = (id.clone(), held.iter().map(|(i, _)| *i).collect::<Vec<_>>());
                probe
                    .run(move |db| {
                        idx.iter()
                            .map(|i| {
                                db.query_one(
                                    "SELECT status, completed_by FROM lg_items \
                                     WHERE job_id = ?1 AND idx = ?2",
                                    params![job.as_str(), *i],
                                )
                                .and_then(|r| {
                                    Ok((r.get::<String>(0)?, r.get::<Option<String>>(1)?))
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .await
                    .expect("task")
                    .expect("query")
            };
            for (status, by) in owners {
                assert_eq!(status, "done", "{on:?}");
                assert_eq!(
                    by.as_deref(),
                    Some(engine.owner()),
                    "{on:?}: finished by the live process"
                );
            }
            // Calls in flight when the first process died were answered (or
            // not) but never recorded; at most `concurrency` are repeated.
            let total = answered.load(Ordering::SeqCst);
            assert!(
                (40..=48).contains(&total),
                "{on:?}: {total} answers for 40 leads"
            );
        });
        second.shutdown_background();
    }
}

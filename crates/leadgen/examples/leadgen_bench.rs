//! `cargo xtask bench leadgen`: extraction + normalisation throughput on a
//! generated 10,000-lead corpus, and a classification job's wall time over
//! the same model calls made directly (provider imitation on loopback, with
//! a fixed per-call latency standing in for a real model).
//!
//! `leadgen_bench scale N REPLICAS sqlite|postgres` (run by `cargo xtask
//! bench scale`) measures scale-out instead: one job of N leads, model
//! latency 200 ms, run by REPLICAS engines on one database (each with its
//! own store handle and pool, 8 calls in flight, joining the job at once),
//! then the claim statement alone: REPLICAS claimers taking 8 leads at a
//! time from a job of N pending leads. Prints JSON with the seconds, leads
//! per second, model calls (N when nothing was doubled) and the claim time
//! per lead. `postgres` makes a fresh database on `FFMCP_TEST_PG_URL`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use ffmcp_core::{
    model::{Call, Request, Router, RouterConfig, parse_routes},
    store::Store,
};
use ffmcp_leadgen::{
    Lead,
    extract::{extract_html, extract_text},
    jobs::{Category, Engine, JobSettings, JobSpec},
    normalize::{Region, normalize},
};
use ffmcp_test_support::imitation::{Fault, Imitation};
use serde_json::json;

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloe", "David", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira",
    "Liam", "Maya", "Noah", "Olga", "Pavel",
];
const LAST: &[&str] = &[
    "Lima", "Okafor", "Schmidt", "Tanaka", "Moreau", "Novak", "Silva", "Berg", "Rossi", "Kowalski",
    "Nguyen", "Haddad", "Jensen", "Ortiz",
];
const TITLES: &[&str] = &[
    "VP Engineering",
    "Head of Data",
    "Marketing Manager",
    "Senior Account Executive",
    "Chief Financial Officer",
    "Software Engineer",
    "Director of Operations",
    "Product Designer",
];

fn person(i: usize) -> (String, String, String, String) {
    let name = format!(
        "{} {}",
        FIRST[i % FIRST.len()],
        LAST[(i / FIRST.len()) % LAST.len()]
    );
    let title = TITLES[i % TITLES.len()].to_owned();
    let email = format!(
        "{}.{}{i}@company{}.com",
        FIRST[i % FIRST.len()].to_lowercase(),
        LAST[(i / FIRST.len()) % LAST.len()].to_lowercase(),
        i / 20
    );
    let phone = format!("(212) 555-{:04}", 100 + i % 90);
    (name, title, email, phone)
}

/// 500 pages of 20 leads: team cards, JSON-LD, hCard and plain text.
fn corpus() -> Vec<(bool, String)> {
    (0..500)
        .map(|page| {
            let people: Vec<_> = (0..20).map(|k| person(page * 20 + k)).collect();
            match page % 4 {
                0 => {
                    let cards: String = people.iter().map(|(n, t, e, p)| format!(
                        "<div class=\"member\"><img src=\"a.jpg\"><h3>{n}</h3><p>{t}</p><a href=\"mailto:{e}\">Email</a> <a href=\"tel:{p}\">Call</a> <a href=\"https://www.linkedin.com/in/x{page}\">in</a></div>\n")).collect();
                    (true, format!("<html><head><title>Team</title></head><body><nav><a href=\"/\">Home</a></nav><h1>Meet the Team</h1><section>{cards}</section><footer>© Company {page}</footer></body></html>"))
                }
                1 => {
                    let graph: Vec<_> = people.iter().map(|(n, t, e, p)| json!({"@type": "Person", "name": n, "jobTitle": t, "email": e, "telephone": p, "worksFor": {"@type": "Organization", "name": format!("Company {page}")}})).collect();
                    (true, format!("<html><head><script type=\"application/ld+json\">{}</script></head><body><p>About us</p></body></html>", json!({"@context": "https://schema.org", "@graph": graph})))
                }
                2 => {
                    let cards: String = people.iter().map(|(n, t, e, p)| format!(
                        "<div class=\"vcard\"><span class=\"fn\">{n}</span> <span class=\"title\">{t}</span> <span class=\"org\">Company {page}</span> <a class=\"email\" href=\"mailto:{e}\">{e}</a> <span class=\"tel\">{p}</span></div>\n")).collect();
                    (true, format!("<html><body>{cards}</body></html>"))
                }
                _ => {
                    let text: String = people.iter().map(|(n, t, e, p)| format!("{n}, {t} at Company {page}\n{e} | {p}\n\n")).collect();
                    (false, text)
                }
            }
        })
        .collect()
}

fn extraction() {
    let pages = corpus();
    let bytes: usize = pages.iter().map(|(_, p)| p.len()).sum();
    let region = Region::default();
    let mut best = Duration::MAX;
    let mut found = 0;
    let mut with_phone = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let mut leads: Vec<Lead> = Vec::with_capacity(10_000);
        for (html, page) in &pages {
            let mut out = if *html {
                extract_html(page, None).unwrap().leads
            } else {
                extract_text(page, None).leads
            };
            for lead in &mut out {
                normalize(lead, region);
            }
            leads.extend(out);
        }
        best = best.min(started.elapsed());
        found = leads.len();
        with_phone = leads
            .iter()
            .filter(|l| l.phones.first().is_some_and(|p| p.starts_with("+1212555")))
            .count();
    }
    println!(
        "extraction + normalisation: {found} leads from 10000 in 500 pages ({:.1} MB), {with_phone} phones in E.164",
        bytes as f64 / 1e6
    );
    println!(
        "  best of 3: {:.0} ms, {:.0} leads/s (target >= 5000)",
        best.as_secs_f64() * 1000.0,
        found as f64 / best.as_secs_f64()
    );
}

async fn orchestration(n: usize, latency: Duration) {
    let imitation = Imitation::start().await.unwrap();
    imitation.respond("bench", |_| {
        json!({"label": "a", "confidence": 0.9, "rationale": "r"}).to_string()
    });
    if !latency.is_zero() {
        imitation.outage("bench", Fault::Slow(latency));
    }
    let router = Arc::new(Router::new(RouterConfig::new(
        parse_routes("anthropic:bench").unwrap(),
        imitation.settings(),
    )));
    let settings = JobSettings {
        concurrency: 8,
        ..JobSettings::default()
    };
    let leads: Vec<Lead> = (0..n)
        .map(|i| Lead {
            title: Some(TITLES[i % TITLES.len()].into()),
            company: Some(format!("Company {i}")),
            ..Lead::default()
        })
        .collect();
    let categories = vec![
        Category {
            name: "a".into(),
            description: None,
        },
        Category {
            name: "b".into(),
            description: None,
        },
    ];
    let schema = json!({"type": "object", "properties": {"label": {"enum": ["a", "b"]}, "confidence": {"type": "number"}, "rationale": {"type": "string"}}, "required": ["label", "confidence", "rationale"]});

    // Raw: the same calls, 8 in flight, results kept in memory.
    let started = Instant::now();
    let slots = Arc::new(tokio::sync::Semaphore::new(settings.concurrency));
    let mut set = tokio::task::JoinSet::new();
    for lead in &leads {
        let (router, schema, slots) = (router.clone(), schema.clone(), slots.clone());
        let prompt = format!(
            "title: {}\ncompany: {}",
            lead.title.clone().unwrap_or_default(),
            lead.company.clone().unwrap_or_default()
        );
        set.spawn(async move {
            let _slot = slots.acquire_owned().await.unwrap();
            router
                .complete_json(
                    &Request::new(prompt).with_system("classify"),
                    &schema,
                    &Call::new("raw"),
                )
                .await
                .unwrap()
        });
    }
    let raw_results = set.join_all().await;
    let raw = started.elapsed();
    assert_eq!(raw_results.len(), n);

    // Job: durable, each result committed to SQLite on disk as it arrives.
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        Store::open(dir.path().join("bench.db")).unwrap(),
        router,
        settings,
    )
    .await
    .unwrap();
    let started = Instant::now();
    let id = engine
        .start(
            JobSpec {
                categories,
                instructions: None,
                model: None,
                leads,
            },
            None,
        )
        .await
        .unwrap();
    let status = loop {
        let s = engine.wait(&id, Duration::from_secs(60)).await.unwrap();
        if s.state.is_settled() {
            break s;
        }
    };
    let job = started.elapsed();
    assert_eq!(status.done as usize, n);
    let overhead = (job.as_secs_f64() - raw.as_secs_f64()) / raw.as_secs_f64() * 100.0;
    println!(
        "  {n} leads, model latency {} ms: raw calls {:.0} ms, durable job {:.0} ms, overhead {overhead:+.1}% ({:+.2} ms per lead)",
        latency.as_millis(),
        raw.as_secs_f64() * 1000.0,
        job.as_secs_f64() * 1000.0,
        (job.as_secs_f64() - raw.as_secs_f64()) * 1000.0 / n as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, n, replicas, backend] = args.as_slice()
        && mode == "scale"
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(scale::run(
            n.parse().expect("N leads"),
            replicas.parse().expect("REPLICAS"),
            backend,
        ));
        return;
    }
    extraction();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("batch orchestration over raw model calls (8 in flight; target < 5%):");
    runtime.block_on(async {
        orchestration(400, Duration::from_millis(200)).await;
        orchestration(400, Duration::from_millis(50)).await;
        orchestration(400, Duration::ZERO).await;
    });
}

/// `leadgen_bench scale N REPLICAS sqlite|postgres`.
mod scale {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicU64, AtomicUsize, Ordering},
        },
        time::{Duration, Instant},
    };

    use ffmcp_core::{
        model::{Router, RouterConfig, parse_routes},
        store::Store,
    };
    use ffmcp_leadgen::{
        Lead,
        jobs::{Category, Engine, JobSettings, JobSpec, db},
    };
    use ffmcp_test_support::imitation::{Fault, Imitation};
    use serde_json::json;

    const LATENCY: Duration = Duration::from_millis(200);
    const IN_FLIGHT: usize = 8;

    pub async fn run(n: usize, replicas: usize, backend: &str) {
        let dir = tempfile::tempdir().unwrap();
        let open: Box<dyn Fn() -> Store> = match backend {
            "sqlite" => {
                let path = dir.path().join("bench.db");
                Box::new(move || Store::open(&path).unwrap())
            }
            "postgres" => {
                let url = ffmcp_test_support::postgres::fresh_database("leadgen_bench scale")
                    .await
                    .expect("set FFMCP_TEST_PG_URL to a PostgreSQL server");
                Box::new(move || Store::connect(&url, &ffmcp_core::Config::default()).unwrap())
            }
            other => panic!("unknown backend {other}: sqlite or postgres"),
        };
        let imitation = Imitation::start().await.unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        imitation.respond("bench", move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            json!({"label": "a", "confidence": 0.9, "rationale": "r"}).to_string()
        });
        imitation.outage("bench", Fault::Slow(LATENCY));
        // The claim phase's job: its model never answers, so its leads stay
        // pending for the claimers.
        imitation.outage("stall", Fault::Slow(Duration::from_secs(3600)));
        let router = Arc::new(Router::new(RouterConfig::new(
            parse_routes("anthropic:bench").unwrap(),
            imitation.settings(),
        )));
        let settings = JobSettings {
            concurrency: IN_FLIGHT,
            ..JobSettings::default()
        };
        let mut engines = Vec::new();
        for _ in 0..replicas {
            engines.push(
                Engine::open(open(), router.clone(), settings)
                    .await
                    .unwrap(),
            );
        }

        let started = Instant::now();
        let id = engines[0].start(spec(n, None), None).await.unwrap();
        for engine in &engines[1..] {
            engine.resume_unfinished().await.unwrap();
        }
        let status = loop {
            let s = engines[0].wait(&id, Duration::from_secs(60)).await.unwrap();
            if s.state.is_settled() {
                break s;
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(status.done as usize, n, "{status:?}");

        // The claim statement alone, from REPLICAS store handles at once.
        let stalled = engines[0]
            .start(spec(n, Some("anthropic:stall")), None)
            .await
            .unwrap();
        let (claimed, claim_nanos) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicU64::new(0)));
        let mut claimers = tokio::task::JoinSet::new();
        for r in 0..replicas {
            let (store, id) = (open(), stalled.clone());
            let (claimed, claim_nanos) = (claimed.clone(), claim_nanos.clone());
            claimers.spawn(async move {
                let owner = format!("claimer{r}");
                loop {
                    let (id, owner) = (id.clone(), owner.clone());
                    let now = unix_ms();
                    let t = Instant::now();
                    let got = store
                        .run(move |c| db::claim(c, &id, &owner, now, now + 300_000, IN_FLIGHT))
                        .await
                        .unwrap()
                        .unwrap();
                    claim_nanos.fetch_add(
                        u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX),
                        Ordering::SeqCst,
                    );
                    if got.is_empty() {
                        return;
                    }
                    claimed.fetch_add(got.len(), Ordering::SeqCst);
                }
            });
        }
        claimers.join_all().await;
        engines[0].cancel(&stalled).await.unwrap();
        let claimed = claimed.load(Ordering::SeqCst);
        #[allow(clippy::cast_precision_loss)]
        let claim_ms_per_lead =
            claim_nanos.load(Ordering::SeqCst) as f64 / claimed.max(1) as f64 / 1e6;
        #[allow(clippy::cast_precision_loss)]
        let per_second = n as f64 / seconds;
        println!(
            "{}",
            json!({
                "backend": backend, "replicas": replicas, "leads": n, "seconds": seconds,
                "leads_per_second": per_second, "calls": calls.load(Ordering::SeqCst),
                "claimed": claimed, "claim_ms_per_lead": claim_ms_per_lead,
            })
        );
    }

    fn spec(n: usize, model: Option<&str>) -> JobSpec {
        JobSpec {
            categories: vec![
                Category {
                    name: "a".into(),
                    description: None,
                },
                Category {
                    name: "b".into(),
                    description: None,
                },
            ],
            instructions: None,
            model: model.map(str::to_owned),
            leads: (0..n)
                .map(|i| Lead {
                    title: Some(format!("Title {i}")),
                    company: Some(format!("Company {i}")),
                    ..Lead::default()
                })
                .collect(),
        }
    }

    fn unix_ms() -> i64 {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        i64::try_from(since.as_millis()).unwrap()
    }
}

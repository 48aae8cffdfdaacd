//! Scale-out end to end: three `ffmcp serve --stateless` replicas on one
//! fresh PostgreSQL database, driven through rmcp clients by a rotation
//! that sends each request to the next live replica (what a load balancer
//! does). A 1,000-lead classification job runs against the provider
//! imitation while 200 competitive-intel watches on loopback pages are
//! checked every few seconds; the replica that started the job is killed
//! with SIGKILL mid-run. The survivors finish the job with one result per
//! lead (provider calls beyond 1,000 only for what the killed replica had
//! in flight), every watch is fetched once per interval (the fixture's hit
//! times show no double fetch), and each page change is recorded exactly
//! once, also the ones the killed replica was checking. Skips (SKIPPED on
//! stderr) without `FFMCP_TEST_PG_URL`.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use ffmcp_core::store::{Store, params};
use ffmcp_test_support::{
    client::call_peer,
    http::{FixtureServer, Reply},
    imitation::{Fault, Imitation},
};
use rmcp::{Peer, RoleClient};
use serde_json::{Value, json};

use super::support::{Client, HttpProc, MODEL_VARS, bin, http_client, structured, text_of};

const REPLICAS: usize = 3;
const LEADS: usize = 1000;
const WATCHES: usize = 200;
/// Seconds between checks of a watch.
const INTERVAL: u64 = 5;
/// Model calls in flight per replica (`FF_LEADGEN_CONCURRENCY`).
const CONCURRENCY: usize = 8;
/// Lease of a lead or a watch check (the shortest allowed): what a killed
/// replica held is taken over this long after its last renewal.
const LEASE_SECS: u64 = 10;
const MODEL: &str = "claude-sonnet-4-5";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_share_jobs_and_watches_and_survive_a_sigkill() {
    let Some(url) = ffmcp_test_support::postgres::fresh_database(
        "three_replicas_share_jobs_and_watches_and_survive_a_sigkill",
    )
    .await
    else {
        return;
    };
    let imitation = Imitation::start().await.expect("imitation");
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = answered.clone();
    imitation.respond(MODEL, move |prompt| {
        counter.fetch_add(1, Ordering::SeqCst);
        let label = if prompt.last_user().contains("title: VP") {
            "decision_maker"
        } else {
            "other"
        };
        json!({"label": label, "confidence": 0.8, "rationale": "title"}).to_string()
    });
    imitation.outage(MODEL, Fault::Slow(Duration::from_millis(100)));
    let pages = Pages::serve().await;

    let env = replica_env(&imitation, &url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut replicas = Vec::new();
    for _ in 0..REPLICAS {
        replicas.push(Replica::spawn(&env).await);
    }
    let rotation = Arc::new(Rotation::new(&replicas));
    let store = Store::connect(&url, &ffmcp_core::Config::default()).expect("postgres");

    // 200 page watches, added through the rotation, a few at a time.
    let mut adding = tokio::task::JoinSet::new();
    for i in 0..WATCHES {
        let (rotation, page) = (rotation.clone(), pages.site.url(&format!("/p{i}")));
        adding.spawn(async move {
            let added = rotation
                .call(
                    Server::Intel,
                    "watch_add",
                    json!({"url": page, "kind": "page", "interval_secs": INTERVAL}),
                )
                .await
                .1;
            assert_eq!(added["first_check"]["outcome"], "baseline", "{added}");
        });
        if adding.len() >= 6 {
            adding
                .join_next()
                .await
                .expect("a task")
                .expect("watch added");
        }
    }
    while let Some(done) = adding.join_next().await {
        done.expect("watch added");
    }
    let watches_added = Instant::now();

    // The job, started on one replica; the others join it.
    let (starter, job) = rotation
        .call(
            Server::Leadgen,
            "job_start",
            json!({"leads": leads(LEADS), "categories": categories()}),
        )
        .await;
    let id = job["id"].as_str().expect("job id").to_owned();
    // Every page changes once while the job runs.
    pages.bump();

    // Kill the starter once every replica has classified leads and while
    // much of the job is left.
    let starter_pid = replicas[starter].http.proc.child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let by = recorded_by(&store, &id).await;
        let done: usize = by.values().sum();
        assert!(done < LEADS, "the job finished before the kill: {by:?}");
        if by.len() == REPLICAS && done >= 150 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every replica joined the job: {by:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    replicas[starter].http.proc.child.kill().expect("SIGKILL");
    replicas[starter].http.proc.child.wait().expect("reaped");
    rotation.remove(starter);
    let killed_at = Instant::now();
    let at_kill = recorded_by(&store, &id).await;
    let killed = format!("{starter_pid}-");
    let orphaned = leased_to(&store, &id, &killed).await;
    assert!(
        (1..=CONCURRENCY as i64).contains(&orphaned),
        "the killed replica held {orphaned} leads (in flight, at most {CONCURRENCY})"
    );

    // The job completes on the survivors; status and results come from
    // replicas other than the one that started it.
    let status = loop {
        let (by, status) = rotation
            .call(
                Server::Leadgen,
                "job_status",
                json!({"job_id": id, "wait_seconds": 10}),
            )
            .await;
        assert_ne!(by, starter);
        if status["state"] == "done" {
            break status;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(40),
            "the job did not finish on the survivors: {status}"
        );
    };
    assert_eq!(
        (
            status["done"].as_u64(),
            status["failed"].as_u64(),
            status["pending"].as_u64()
        ),
        (Some(LEADS as u64), Some(0), Some(0)),
        "{status}"
    );
    assert_one_result_per_lead(&rotation, &id, starter).await;
    let by = recorded_by(&store, &id).await;
    assert_eq!(by.values().sum::<usize>(), LEADS, "{by:?}");
    for (owner, n) in &by {
        if owner.starts_with(&killed) {
            assert_eq!(
                Some(n),
                at_kill.get(owner),
                "the killed replica recorded nothing after its death"
            );
        }
    }
    let calls = imitation.hits(MODEL);
    assert_eq!(calls, answered.load(Ordering::SeqCst));
    assert!(
        (LEADS..=LEADS + CONCURRENCY).contains(&calls),
        "{calls} provider calls for {LEADS} leads; only the killed replica's \
         {CONCURRENCY} in-flight calls may be repeated"
    );

    // Watches: once every page's change is recorded, change them again and
    // wait for that too; no change may be lost or recorded twice.
    wait_changes(&store, 1).await;
    pages.bump();
    wait_changes(&store, 2).await;
    // Another interval and a bit: nothing more may appear.
    tokio::time::sleep(Duration::from_secs(INTERVAL + 2)).await;
    let changes = all_changes(&rotation).await;
    let mut per_watch: HashMap<i64, Vec<String>> = HashMap::new();
    let mut ids = HashSet::new();
    for change in &changes {
        assert!(ids.insert(change["id"].as_i64()), "listed twice: {change}");
        assert_eq!(change["kind"], "page_changed", "{change}");
        per_watch
            .entry(change["watch_id"].as_i64().expect("watch id"))
            .or_default()
            .push(change["summary"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(per_watch.len(), WATCHES, "every watch saw its changes");
    for (watch, summaries) in &per_watch {
        assert_eq!(summaries.len(), 2, "watch {watch}: {summaries:?}");
        assert!(
            summaries[0].contains("version 1") && summaries[1].contains("version 2"),
            "watch {watch}: each change once, in order: {summaries:?}"
        );
    }

    // Fetches: never twice within an interval (a check runs at most once
    // per due time; the next is due an interval, less 10% jitter, after it
    // was recorded, counted in whole seconds), and regularly.
    let observed = watches_added.elapsed();
    let min_gap = Duration::from_secs(INTERVAL * 9 / 10 - 1);
    for (page, hits) in pages.hits_since(watches_added) {
        for pair in hits.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= min_gap,
                "page {page} fetched twice within {gap:?} (interval {INTERVAL} s): \
                 a double fetch"
            );
        }
        // A watch the killed replica had claimed waits out its lease once;
        // otherwise each is checked about every interval.
        let least = observed.as_secs().saturating_sub(LEASE_SECS) / (2 * INTERVAL);
        assert!(
            hits.len() as u64 >= least,
            "page {page}: {} fetches in {observed:?} (interval {INTERVAL} s)",
            hits.len()
        );
    }
    drop(replicas);
}

/// Which MCP server of a replica.
#[derive(Clone, Copy, Debug)]
enum Server {
    Leadgen,
    Intel,
}

/// One `ffmcp serve --stateless` process and a client per server.
struct Replica {
    http: HttpProc,
    leadgen: Client,
    intel: Client,
}

impl Replica {
    async fn spawn(env: &[(&str, &str)]) -> Self {
        let http = HttpProc::spawn(
            bin(),
            &["serve", "--http", "127.0.0.1:0", "--stateless"],
            env,
        );
        let leadgen = http_client(&format!("{}/leadgen/mcp", http.base), None).await;
        let intel = http_client(&format!("{}/competitive-intel/mcp", http.base), None).await;
        Self {
            http,
            leadgen,
            intel,
        }
    }
}

/// Sends each request to the next live replica, round robin.
struct Rotation {
    peers: Vec<(Peer<RoleClient>, Peer<RoleClient>)>,
    next: AtomicUsize,
    removed: Mutex<HashSet<usize>>,
}

impl Rotation {
    fn new(replicas: &[Replica]) -> Self {
        Self {
            peers: replicas
                .iter()
                .map(|r| (r.leadgen.peer().clone(), r.intel.peer().clone()))
                .collect(),
            next: AtomicUsize::new(0),
            removed: Mutex::new(HashSet::new()),
        }
    }

    /// Takes replica `i` out of the rotation (a health check would).
    fn remove(&self, i: usize) {
        self.removed.lock().expect("lock").insert(i);
    }

    /// Calls `tool` on the next live replica; which one, and the result's
    /// structured content (the call must succeed).
    async fn call(&self, server: Server, tool: &str, args: Value) -> (usize, Value) {
        let replica = loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.peers.len();
            if !self.removed.lock().expect("lock").contains(&i) {
                break i;
            }
        };
        let (leadgen, intel) = &self.peers[replica];
        let peer = match server {
            Server::Leadgen => leadgen,
            Server::Intel => intel,
        };
        let result = call_peer(peer, tool, args).await;
        assert_ne!(
            result.is_error,
            Some(true),
            "{tool} on replica {replica}: {}",
            text_of(&result)
        );
        (replica, structured(&result))
    }
}

/// 200 pages at `/p0` … `/p199` whose text names a version that
/// [`Pages::bump`] raises for all; each fetch's time is logged.
struct Pages {
    site: FixtureServer,
    version: Arc<AtomicUsize>,
    hits: Arc<Mutex<Vec<(usize, Instant)>>>,
}

impl Pages {
    async fn serve() -> Self {
        let site = FixtureServer::start().await;
        let version = Arc::new(AtomicUsize::new(0));
        let hits = Arc::new(Mutex::new(Vec::new()));
        for i in 0..WATCHES {
            let (version, hits) = (version.clone(), hits.clone());
            site.route_fn(&format!("/p{i}"), move |_| {
                hits.lock().expect("lock").push((i, Instant::now()));
                let v = version.load(Ordering::SeqCst);
                Reply::html(format!(
                    "<html><head><title>Pricing {i}</title></head><body><main>\
                     <h1>Pricing of product {i}</h1><p>Plans, version {v} of the page.</p>\
                     </main></body></html>"
                ))
                .delayed(Duration::from_millis(20))
            });
        }
        Self {
            site,
            version,
            hits,
        }
    }

    fn bump(&self) {
        self.version.fetch_add(1, Ordering::SeqCst);
    }

    /// Each page's fetch times from `since` on, in order.
    fn hits_since(&self, since: Instant) -> Vec<(usize, Vec<Instant>)> {
        let mut by_page = vec![Vec::new(); WATCHES];
        for (page, at) in self.hits.lock().expect("lock").iter() {
            if *at >= since {
                by_page[*page].push(*at);
            }
        }
        by_page.into_iter().enumerate().collect()
    }
}

/// The replicas' environment: the shared database, the imitation as the
/// only model, short leases and intervals, loopback fixtures allowed.
fn replica_env(imitation: &Imitation, url: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = imitation
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for (k, v) in [
        ("FF_DB", url.to_owned()),
        ("FF_LLM_PRIMARY", format!("anthropic:{MODEL}")),
        ("FF_LLM_FALLBACKS", String::new()),
        ("FF_LEADGEN_CONCURRENCY", CONCURRENCY.to_string()),
        ("FF_LEADGEN_LEASE_SECS", LEASE_SECS.to_string()),
        ("FF_INTEL_LEASE_SECS", LEASE_SECS.to_string()),
        ("FF_INTEL_MIN_INTERVAL_SECS", "1".to_owned()),
        ("FF_INTEL_HOST_SPACING_MS", "0".to_owned()),
        ("FF_INTEL_PER_HOST", "16".to_owned()),
        ("FF_INTEL_ROBOTS", "0".to_owned()),
        ("FF_ALLOW_HOSTS", "127.0.0.1".to_owned()),
    ] {
        env.push((k.to_owned(), v));
    }
    for var in MODEL_VARS {
        if !env.iter().any(|(k, _)| k == var) {
            env.push(((*var).to_owned(), String::new()));
        }
    }
    env
}

fn leads(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| {
                json!({
                    "name": format!("Person {i}"),
                    "title": if i % 4 == 0 { format!("VP Sales {i}") } else { format!("Analyst {i}") },
                    "company": "Globex",
                    "emails": [format!("person{i}@globex.example")]
                })
            })
            .collect(),
    )
}

fn categories() -> Value {
    json!([{"name": "decision_maker", "description": "can buy"}, {"name": "other"}])
}

/// Who recorded the job's results so far: lease owner → leads.
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

/// Pending leads of job `id` leased to an owner starting with `prefix`.
async fn leased_to(store: &Store, id: &str, prefix: &str) -> i64 {
    let (id, pattern) = (id.to_owned(), format!("{prefix}%"));
    store
        .run(move |db| {
            db.query_one(
                "SELECT COUNT(*) FROM lg_items WHERE job_id = ?1 AND status = 'pending' \
                 AND lease_owner LIKE ?2",
                params![id, pattern],
            )
        })
        .await
        .expect("task")
        .expect("query")
        .get(0)
        .expect("count")
}

/// Pages through `job_results` across the rotation: each lead once, with
/// the label its title calls for, none from the killed replica.
async fn assert_one_result_per_lead(rotation: &Rotation, id: &str, killed: usize) {
    let (mut offset, mut seen) = (0u64, HashSet::new());
    loop {
        let (by, page) = rotation
            .call(
                Server::Leadgen,
                "job_results",
                json!({"job_id": id, "offset": offset, "limit": 150}),
            )
            .await;
        assert_ne!(by, killed);
        for item in page["results"].as_array().expect("results") {
            let index = item["index"].as_u64().expect("index");
            assert!(seen.insert(index), "lead {index} has two results");
            let want = if index % 4 == 0 {
                "decision_maker"
            } else {
                "other"
            };
            assert_eq!(item["classification"]["label"], want, "{item}");
        }
        match page["next_offset"].as_u64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), LEADS, "every lead has a result");
}

/// Waits until every watch has at least `n` changes.
async fn wait_changes(store: &Store, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let behind = store
            .run(move |db| {
                db.query_one(
                    "SELECT COUNT(*) FROM ci_watches w WHERE \
                     (SELECT COUNT(*) FROM ci_changes c WHERE c.watch_id = w.id) < ?1",
                    params![n],
                )
            })
            .await
            .expect("task")
            .expect("query")
            .get::<i64>(0)
            .expect("count");
        if behind == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{behind} watches still without change {n}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every change, through `changes` across the rotation, oldest first.
async fn all_changes(rotation: &Rotation) -> Vec<Value> {
    let (mut cursor, mut all) = (0i64, Vec::new());
    loop {
        let (_, page) = rotation
            .call(
                Server::Intel,
                "changes",
                json!({"cursor": cursor, "limit": 100}),
            )
            .await;
        let changes = page["changes"].as_array().expect("changes").clone();
        if changes.is_empty() {
            return all;
        }
        cursor = page["next_cursor"].as_i64().expect("cursor");
        all.extend(changes);
    }
}

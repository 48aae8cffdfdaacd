//! leadgen end to end: the real binary over stdio and HTTP, every tool
//! with its outputSchema checked, a batch job against the provider
//! imitation with per-lead progress, and a process killed with SIGKILL
//! mid-job whose successor (same FF_DB) finishes the job with nothing lost
//! or done twice.

use std::{
    collections::HashSet,
    net::SocketAddr,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use ffmcp_test_support::{
    client::conforming,
    imitation::{Fault, Imitation},
};
use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult},
    service::RunningService,
};
use serde_json::{Value, json};
use tokio::{io::AsyncBufReadExt, net::UdpSocket};

use super::support::{HttpProc, MODEL_VARS, TIMEOUT, bin, http_client, text_of};

const PRIMARY: &str = "claude-sonnet-4-5";
const FALLBACK: &str = "gpt-4o";

fn team_page() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/leadgen/tests/fixtures/team.html");
    std::fs::read_to_string(path).expect("fixture")
}

/// The imitation's variables, two routes, short windows, a private FF_DB.
fn env(imitation: &Imitation, db: &std::path::Path) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = imitation
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for (k, v) in [
        ("FF_LLM_PRIMARY", format!("anthropic:{PRIMARY}")),
        ("FF_LLM_FALLBACKS", format!("openai:{FALLBACK}")),
        ("FF_LLM_BACKOFF_MS", "5".into()),
        ("FF_LLM_BACKOFF_MAX_MS", "20".into()),
        ("FF_LLM_COOLDOWN_MS", "100".into()),
        ("FF_LEADGEN_RETRY_MS", "50".into()),
        ("FF_LEADGEN_RETRY_MAX_MS", "200".into()),
        // The shortest lease: leads a killed process held are taken over
        // 10 s after it died.
        ("FF_LEADGEN_LEASE_SECS", "10".into()),
        ("FF_DB", db.display().to_string()),
    ] {
        env.push((k.to_owned(), v));
    }
    env
}

/// Answers like a model and counts the answers.
fn answer_from_titles(imitation: &Imitation, answered: &Arc<AtomicUsize>) {
    for model in [PRIMARY, FALLBACK] {
        let answered = answered.clone();
        imitation.respond(model, move |prompt| {
            answered.fetch_add(1, Ordering::SeqCst);
            let label = if prompt.last_user().contains("title: VP") {
                "decision_maker"
            } else {
                "other"
            };
            json!({"label": label, "confidence": 0.8, "rationale": "title"}).to_string()
        });
    }
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

/// Records progress notifications.
#[derive(Clone, Default)]
struct ProgressLog(Arc<Mutex<Vec<f64>>>);

impl ClientHandler for ProgressLog {
    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        self.0.lock().expect("lock").push(params.progress);
    }
}

/// `ffmcp leadgen` over stdio; the child (for SIGKILL) and its stderr lines.
struct Server<H: ClientHandler> {
    client: RunningService<RoleClient, H>,
    child: tokio::process::Child,
    stderr: Arc<Mutex<Vec<String>>>,
}

async fn spawn<H: ClientHandler>(handler: H, env: &[(String, String)]) -> Server<H> {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("leadgen")
        .env("FF_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in MODEL_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn ffmcp");
    let (stdin, stdout) = (
        child.stdin.take().expect("stdin"),
        child.stdout.take().expect("stdout"),
    );
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let lines = stderr.clone();
    let mut reader = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = reader.next_line().await {
            lines.lock().expect("lock").push(line);
        }
    });
    let client = tokio::time::timeout(TIMEOUT, handler.serve((stdout, stdin)))
        .await
        .expect("handshake in time")
        .expect("handshake succeeds");
    Server {
        client,
        child,
        stderr,
    }
}

async fn call<H: ClientHandler>(
    client: &RunningService<RoleClient, H>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("tool arguments must be an object");
    };
    let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(args);
    tokio::time::timeout(TIMEOUT * 3, client.call_tool(params))
        .await
        .expect("tool call in time")
        .expect("tool call answered")
}

/// Calls `tool`; its structured result, checked against the outputSchema.
async fn call_ok<H: ClientHandler>(
    client: &RunningService<RoleClient, H>,
    tool: &str,
    args: Value,
) -> Value {
    let result = call(client, tool, args).await;
    conforming(client, tool, &result).await
}

/// A DNS server on 127.0.0.1 that gives every domain one MX record.
async fn dns_server() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let mut pos = 12;
            while pos < n && buf[pos] != 0 {
                pos += 1 + buf[pos] as usize;
            }
            let mut out = buf[..pos + 5].to_vec();
            out[2] = 0x81;
            out[3] = 0x80;
            out[7] = 1;
            // No authority or additional records (the question's EDNS OPT is not echoed).
            out[8..12].fill(0);
            let rdata = [0u8, 10, 2, b'm', b'x', 0xc0, 0x0c];
            out.extend_from_slice(&[0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 1, 0, 0, rdata.len() as u8]);
            out.extend_from_slice(&rdata);
            let _ = socket.send_to(&out, from).await;
        }
    });
    addr
}

async fn wait_done<H: ClientHandler>(client: &RunningService<RoleClient, H>, id: &str) -> Value {
    for _ in 0..20 {
        let status = call_ok(
            client,
            "job_status",
            json!({"job_id": id, "wait_seconds": 10}),
        )
        .await;
        if status["state"] == "done" {
            return status;
        }
    }
    panic!("job {id} did not finish");
}

/// Every lead has one result with the right label.
async fn all_results<H: ClientHandler>(client: &RunningService<RoleClient, H>, id: &str, n: usize) {
    let (mut offset, mut seen) = (0u64, HashSet::new());
    loop {
        let page = call_ok(
            client,
            "job_results",
            json!({"job_id": id, "offset": offset, "limit": 150}),
        )
        .await;
        for item in page["results"].as_array().expect("results") {
            let index = item["index"].as_u64().expect("index");
            assert!(seen.insert(index), "lead {index} twice");
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
    assert_eq!(seen.len(), n);
}

#[tokio::test(flavor = "multi_thread")]
async fn lead_tools_over_stdio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let imitation = Imitation::start().await.expect("imitation");
    let dns = dns_server().await;
    let mut env = env(&imitation, &dir.path().join("ffmcp.db"));
    env.push(("FF_LEADGEN_DNS".into(), dns.to_string()));
    env.push(("FF_ROOTS".into(), dir.path().display().to_string()));
    let server = spawn((), &env).await;
    let client = &server.client;

    let found = call_ok(
        client,
        "extract_leads",
        json!({"html": team_page(), "base_url": "https://brightline.io/team", "region": "GB"}),
    )
    .await;
    let leads = found["leads"].as_array().expect("leads").clone();
    let sofia = leads
        .iter()
        .find(|l| l["name"] == "Sofia Marquez")
        .expect("sofia");
    assert_eq!(sofia["seniority"], "owner");
    assert_eq!(sofia["company_domain"], "brightline.io");
    assert_eq!(sofia["source_url"], "https://brightline.io/team");
    let mei = leads
        .iter()
        .find(|l| l["name"] == "Mei-Ling Chen")
        .expect("mei");
    assert_eq!(mei["phones"], json!(["+442079460958"]));

    let text = call_ok(
        client,
        "extract_leads",
        json!({"text": "Ana Lima, CTO at Initech\nana@initech.com"}),
    )
    .await;
    assert_eq!(text["leads"][0]["title"], "CTO");

    let normalized = call_ok(client, "normalize_leads", json!({"leads": [{"name": "DOE, JANE", "emails": ["Jane@ACME.com", "bad@"], "phones": ["(415) 555-0142"]}]})).await;
    assert_eq!(normalized["leads"][0]["name"], "Jane Doe");
    assert_eq!(normalized["leads"][0]["phones"], json!(["+14155550142"]));
    assert_eq!(normalized["rejected"][0]["index"], 0);

    let mut doubled = leads.clone();
    doubled.push(
        json!({"name": "Sofia Marquez", "emails": ["SOFIA@brightline.io"], "location": "Lisbon"}),
    );
    let deduped = call_ok(client, "dedupe_leads", json!({"leads": doubled})).await;
    assert_eq!(
        deduped["leads"].as_array().expect("leads").len(),
        leads.len()
    );
    assert_eq!(deduped["merges"][0]["reasons"][0], "same email");

    let enriched = call_ok(client, "enrich_leads", json!({"leads": leads})).await;
    let checks: Vec<&Value> = enriched["leads"]
        .as_array()
        .expect("leads")
        .iter()
        .flat_map(|l| l["emails"].as_array().expect("emails"))
        .collect();
    assert!(
        checks.iter().any(|c| c["email"] == "hello@brightline.io"
            && c["role"] == true
            && c["mx"] == "found"),
        "{checks:?}"
    );

    let scored = call_ok(client, "score_leads", json!({"leads": leads, "profile": {"seniorities": ["owner", "director"], "functions": ["data", "executive"]}})).await;
    assert_eq!(scored["leads"][0]["grade"], "A", "{scored}");

    let exported = call_ok(
        client,
        "export_leads",
        json!({"leads": leads, "format": "csv", "path": "leads.csv"}),
    )
    .await;
    let csv = std::fs::read_to_string(dir.path().join("leads.csv")).expect("written");
    assert!(csv.starts_with("kind,name,"), "{csv}");
    assert!(csv.contains("Sofia Marquez"));
    assert_eq!(exported["count"], leads.len());
    let outside = call(
        client,
        "export_leads",
        json!({"leads": leads, "path": "/etc/leads.csv"}),
    )
    .await;
    assert_eq!(outside.is_error, Some(true));

    let none = call(
        client,
        "extract_leads",
        json!({"html": "<p>x</p>", "text": "x"}),
    )
    .await;
    assert!(text_of(&none).contains("exactly one"), "{}", text_of(&none));
    server.client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_reports_progress_per_lead_and_is_purged_on_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let imitation = Imitation::start().await.expect("imitation");
    let answered = Arc::new(AtomicUsize::new(0));
    answer_from_titles(&imitation, &answered);
    let db = dir.path().join("ffmcp.db");
    let log = ProgressLog::default();
    let server = spawn(log.clone(), &env(&imitation, &db)).await;
    let client = &server.client;

    let started = call_ok(
        client,
        "job_start",
        json!({"leads": leads(40), "categories": categories()}),
    )
    .await;
    let id = started["id"].as_str().expect("id").to_owned();
    assert_eq!(started["total"], 40);
    let status = wait_done(client, &id).await;
    assert_eq!(
        (status["done"].as_u64(), status["pending"].as_u64()),
        (Some(40), Some(0))
    );
    all_results(client, &id, 40).await;
    assert_eq!(answered.load(Ordering::SeqCst), 40);
    // Notifications are handled concurrently with responses: wait for them.
    for _ in 0..100 {
        if log.0.lock().expect("lock").contains(&40.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = log.0.lock().expect("lock").clone();
    assert!(
        (1..=40).all(|n| seen.contains(&f64::from(n))),
        "a notification per lead: {seen:?}"
    );

    let csv = call_ok(
        client,
        "export_leads",
        json!({"job_id": id, "format": "csv"}),
    )
    .await;
    let content = csv["content"].as_str().expect("content");
    assert!(
        content
            .lines()
            .next()
            .is_some_and(|h| h.ends_with("label,confidence,rationale,route,error"))
    );
    assert_eq!(content.lines().count(), 41);

    let bad = call(
        client,
        "job_start",
        json!({"leads": leads(2), "categories": [{"name": "only"}]}),
    )
    .await;
    assert_eq!(bad.is_error, Some(true));
    let deleted = call_ok(client, "job_delete", json!({"job_id": id})).await;
    assert_eq!(deleted["deleted"], true);
    let gone = call(client, "job_status", json!({"job_id": id})).await;
    assert!(text_of(&gone).contains("no job"), "{}", text_of(&gone));
    server.client.cancel().await.expect("close");
    drop(server.child);
    let raw = std::fs::read(&db).expect("db file");
    let needle = b"person7@globex.example";
    assert!(
        !raw.windows(needle.len()).any(|w| w == needle),
        "personal data purged from the file"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let imitation = Imitation::start().await.expect("imitation");
    let answered = Arc::new(AtomicUsize::new(0));
    answer_from_titles(&imitation, &answered);
    let env = env(&imitation, &dir.path().join("ffmcp.db"));
    let mut env_refs: Vec<(&str, &str)> =
        env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let cleared: Vec<(&str, &str)> = MODEL_VARS
        .iter()
        .filter(|v| !env.iter().any(|(k, _)| k == *v))
        .map(|v| (*v, ""))
        .collect();
    env_refs.extend(cleared);
    let http = HttpProc::spawn(bin(), &["leadgen", "--http", "127.0.0.1:0"], &env_refs);
    let client = http_client(&format!("{}/mcp", http.base), None).await;
    let started = call_ok(
        &client,
        "job_start",
        json!({"leads": leads(25), "categories": categories()}),
    )
    .await;
    let id = started["id"].as_str().expect("id").to_owned();
    wait_done(&client, &id).await;
    all_results(&client, &id, 25).await;
    let json_export = call_ok(
        &client,
        "export_leads",
        json!({"job_id": id, "format": "json"}),
    )
    .await;
    let parsed: Value =
        serde_json::from_str(json_export["content"].as_str().expect("content")).expect("json");
    assert_eq!(parsed.as_array().map(Vec::len), Some(25));
    assert!(parsed[0]["classification"]["label"].is_string());
    client.cancel().await.expect("close");
}

/// The design case end to end: `kill -9` in the middle of a 400-lead job
/// while the primary is down; a new process on the same FF_DB finishes it.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_server_resumes_the_job_from_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let imitation = Imitation::start().await.expect("imitation");
    let answered = Arc::new(AtomicUsize::new(0));
    answer_from_titles(&imitation, &answered);
    // Slow answers so the kill lands mid-job; the primary is down throughout.
    imitation.outage(FALLBACK, Fault::Slow(Duration::from_millis(15)));
    imitation.outage(PRIMARY, Fault::Status(529));
    let env = env(&imitation, &dir.path().join("ffmcp.db"));

    let mut first = spawn((), &env).await;
    let started = call_ok(
        &first.client,
        "job_start",
        json!({"leads": leads(400), "categories": categories()}),
    )
    .await;
    let id = started["id"].as_str().expect("id").to_owned();
    loop {
        let status = call_ok(&first.client, "job_status", json!({"job_id": id})).await;
        if status["done"].as_u64().unwrap_or(0) >= 60 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.child.start_kill().expect("SIGKILL");
    first.child.wait().await.expect("reaped");
    let before = answered.load(Ordering::SeqCst);
    assert!(before < 400, "killed mid-job ({before} answered)");
    let first_log = first.stderr.lock().expect("lock").join("\n");

    let second = spawn((), &env).await;
    let status = wait_done(&second.client, &id).await;
    assert_eq!(
        (
            status["done"].as_u64(),
            status["failed"].as_u64(),
            status["pending"].as_u64()
        ),
        (Some(400), Some(0), Some(0))
    );
    all_results(&second.client, &id, 400).await;
    let total = answered.load(Ordering::SeqCst);
    // Only calls in flight at the kill (at most the concurrency, 8) can be
    // answered twice; their results were never committed, so none is duplicated.
    assert!(
        (400..=408).contains(&total),
        "{total} answers for 400 leads"
    );
    let second_log = second.stderr.lock().expect("lock").join("\n");
    assert!(
        second_log.contains("resuming unfinished jobs"),
        "{second_log}"
    );
    for log in [&first_log, &second_log] {
        assert!(
            !log.contains("globex.example") && !log.contains("Person 1"),
            "lead data in the log: {log}"
        );
    }
    second.client.cancel().await.expect("close");
}

/// Two `ffmcp leadgen` processes on one database (a SQLite file, and
/// PostgreSQL when `FFMCP_TEST_PG_URL` names a server): a job started on
/// one is joined by the other, which looks for other processes' jobs every
/// few seconds; the two share the leads, each classified once, and either
/// reads the finished job.
#[tokio::test(flavor = "multi_thread")]
async fn two_servers_on_one_database_share_a_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut databases = vec![dir.path().join("ffmcp.db").display().to_string()];
    if let Some(url) =
        ffmcp_test_support::postgres::fresh_database("two_servers_on_one_database_share_a_job")
            .await
    {
        databases.push(url);
    }
    for database in databases {
        let imitation = Imitation::start().await.expect("imitation");
        let answered = Arc::new(AtomicUsize::new(0));
        answer_from_titles(&imitation, &answered);
        // Slow answers: alone, the first server would need about 7 s.
        imitation.outage(PRIMARY, Fault::Slow(Duration::from_millis(150)));
        let mut env = env(&imitation, &dir.path().join("unused.db"));
        env.retain(|(k, _)| k != "FF_DB");
        env.push(("FF_DB".to_owned(), database.clone()));
        let first = spawn((), &env).await;
        let second = spawn((), &env).await;
        let started = call_ok(
            &first.client,
            "job_start",
            json!({"leads": leads(400), "categories": categories()}),
        )
        .await;
        let id = started["id"].as_str().expect("id").to_owned();
        let status = wait_done(&first.client, &id).await;
        assert_eq!(
            (status["done"].as_u64(), status["pending"].as_u64()),
            (Some(400), Some(0)),
            "{database}: {status}"
        );
        let seen = call_ok(&second.client, "job_status", json!({"job_id": id})).await;
        assert_eq!(
            (seen["state"].as_str(), seen["done"].as_u64()),
            (Some("done"), Some(400)),
            "{database}: {seen}"
        );
        all_results(&second.client, &id, 400).await;
        assert_eq!(
            answered.load(Ordering::SeqCst),
            400,
            "{database}: every lead classified once"
        );
        let store = if database.starts_with("postgres") {
            ffmcp_core::store::Store::connect(&database, &ffmcp_core::Config::default())
                .expect("postgres")
        } else {
            ffmcp_core::store::Store::open(&database).expect("sqlite")
        };
        let owners = store
            .run(|db| {
                db.query(
                    "SELECT DISTINCT completed_by FROM lg_items WHERE completed_by IS NOT NULL",
                    &[],
                )
            })
            .await
            .expect("task")
            .expect("query")
            .len();
        let second_log = second.stderr.lock().expect("lock").join("\n");
        let first_log = first.stderr.lock().expect("lock").join("\n");
        assert_eq!(
            owners, 2,
            "{database}: both servers classified leads: {first_log}\n{second_log}"
        );
        assert!(
            second_log.contains("joining a job another process runs")
                || second_log.contains("resuming unfinished jobs"),
            "{second_log}"
        );
        first.client.cancel().await.expect("close");
        second.client.cancel().await.expect("close");
    }
}

/// `export_leads` through a real client cannot plant a file: `.bashrc` in
/// the root is refused and unchanged, an existing export is kept unless
/// `overwrite` (then replaced 0600 without its executable bit), a symlink
/// or a hard link to a file outside the root is not written through, and
/// hostile lead names land neutralised and quoted.
#[tokio::test(flavor = "multi_thread")]
async fn export_leads_cannot_plant_or_overwrite_files_over_stdio() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    std::fs::create_dir(&root).expect("root");
    std::fs::create_dir(&outside).expect("outside");
    let db = dir.path().join("ffmcp.db");
    let client = super::support::stdio_client_env(
        "leadgen",
        &[
            ("FF_ROOTS", root.to_str().expect("utf8")),
            ("FF_DB", db.to_str().expect("utf8")),
        ],
    )
    .await;
    let hostile = json!([
        {"name": "=HYPERLINK(\"http://evil.example/\",\"click\")", "company": "Globex"},
        {"name": "$(touch /tmp/pwn)", "company": "Initech, Inc.", "phones": ["+14155550100"]}
    ]);
    let export = |path: &str, overwrite: bool| json!({"leads": hostile, "format": "csv", "path": path, "overwrite": overwrite});
    let mode = |p: &std::path::Path| {
        std::fs::symlink_metadata(p)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };

    let bashrc = root.join(".bashrc");
    std::fs::write(&bashrc, "export PATH=$HOME/bin:$PATH\n").expect("seed");
    for overwrite in [false, true] {
        let result =
            super::support::call(&client, "export_leads", export(".bashrc", overwrite)).await;
        let message = super::support::error_text(&result);
        assert!(message.contains(".bashrc"), "{message}");
    }
    assert_eq!(
        std::fs::read(&bashrc).expect("read"),
        b"export PATH=$HOME/bin:$PATH\n",
        ".bashrc must be unchanged"
    );
    let wrong = super::support::call(&client, "export_leads", export("leads.sh", true)).await;
    assert!(super::support::error_text(&wrong).contains(".csv"));
    assert!(!root.join("leads.sh").exists());

    let existing = root.join("x.csv");
    std::fs::write(&existing, "mine\n").expect("seed");
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let kept = super::support::call(&client, "export_leads", export("x.csv", false)).await;
    assert!(super::support::error_text(&kept).contains("overwrite"));
    assert_eq!(std::fs::read(&existing).expect("read"), b"mine\n");
    let replaced = super::support::call(&client, "export_leads", export("x.csv", true)).await;
    assert_ne!(replaced.is_error, Some(true), "{}", text_of(&replaced));
    assert_eq!(mode(&existing), 0o600, "replaced 0600, executable bit gone");
    let csv = std::fs::read_to_string(&existing).expect("read");
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"click\"\")\""),
        "{csv}"
    );
    assert!(csv.contains("\"Initech, Inc.\""), "{csv}");
    assert!(csv.contains("'+14155550100"), "{csv}");
    assert!(csv.contains(",$(touch /tmp/pwn),"), "{csv}");

    let victim = outside.join("target.csv");
    std::fs::write(&victim, "outside\n").expect("victim");
    std::os::unix::fs::symlink(&victim, root.join("out.csv")).expect("symlink");
    std::fs::hard_link(&victim, root.join("linked.csv")).expect("hard link");
    for path in ["out.csv", "linked.csv"] {
        for overwrite in [false, true] {
            let result =
                super::support::call(&client, "export_leads", export(path, overwrite)).await;
            assert_eq!(result.is_error, Some(true), "{path}: {}", text_of(&result));
        }
    }
    assert_eq!(std::fs::read(&victim).expect("read"), b"outside\n");
    let fresh = super::support::call(&client, "export_leads", export("fresh.csv", false)).await;
    assert_ne!(fresh.is_error, Some(true), "{}", text_of(&fresh));
    assert_eq!(mode(&root.join("fresh.csv")), 0o600);
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_are_resources_with_their_status_and_model_use() {
    use super::support::{call, stdio_client_env, structured};
    use rmcp::model::{ReadResourceRequestParams, ResourceContents};

    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db").display().to_string();
    let imitation = Imitation::start().await.expect("imitation");
    imitation.respond(PRIMARY, |_| {
        json!({"label": "hot", "confidence": 0.9, "rationale": "r"}).to_string()
    });
    let mut env: Vec<(&str, String)> = imitation.env();
    env.push(("FF_LLM_PRIMARY", format!("anthropic:{PRIMARY}")));
    env.push(("FF_LLM_FALLBACKS", String::new()));
    env.push(("FF_DB", db));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let client = stdio_client_env("leadgen", &pairs).await;

    let started = structured(
        &call(
            &client,
            "job_start",
            json!({
                "leads": [{"name": "Ada Lovelace", "company": "Analytical"}],
                "categories": [{"name": "hot"}, {"name": "cold"}]
            }),
        )
        .await,
    );
    let id = started["id"].as_str().expect("job id").to_owned();
    let uri = format!("leadgen://jobs/{id}");
    let read = |uri: String| {
        let client = &client;
        async move {
            client
                .read_resource(ReadResourceRequestParams::new(uri))
                .await
        }
    };
    // The job finishes quickly against the imitation; its resource says so.
    let mut status = Value::Null;
    for _ in 0..100 {
        let contents = read(uri.clone()).await.expect("resources/read");
        let Some(ResourceContents::TextResourceContents { text, .. }) = contents.contents.first()
        else {
            panic!("text contents expected: {contents:?}");
        };
        status = serde_json::from_str(text).expect("JSON");
        if status["state"] == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status["state"], "done", "{status}");
    assert_eq!(status["done"], 1, "{status}");
    assert!(
        status["usage"]["input_tokens"].as_u64() > Some(0),
        "{status}"
    );

    let listed = client.list_all_resources().await.expect("resources/list");
    assert!(listed.iter().any(|r| r.uri == uri), "{listed:?}");
    assert!(
        listed.iter().any(|r| r.uri == "ffmcp://stats"),
        "{listed:?}"
    );
    let templates = client
        .list_all_resource_templates()
        .await
        .expect("resources/templates/list");
    assert!(
        templates
            .iter()
            .any(|t| t.uri_template == "leadgen://jobs/{id}"),
        "{templates:?}"
    );
    let unknown = read("leadgen://jobs/no-such-job".into())
        .await
        .expect_err("unknown job refused");
    assert!(
        unknown.to_string().contains("no job 'no-such-job'"),
        "{unknown}"
    );
    client.cancel().await.expect("close");
}

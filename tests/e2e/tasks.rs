//! MCP tasks (SEP-2663) through rmcp's client: long calls become tasks for
//! clients that declared the extension, the state lives in the database so
//! a second process answers for it, a task outlives the process that
//! started it (taken over and run again), and a cancel from another process
//! stops the work.

use std::time::{Duration, Instant};

use ffmcp_test_support::{
    client::TIMEOUT,
    http::{FixtureServer, Reply},
};
use rmcp::{
    RoleClient,
    model::{
        CallToolRequestParams, CallToolResponse, CancelTaskParams, ClientCapabilities,
        ClientConfig, GetTaskParams, GetTaskResult, Implementation, TaskPayload, TaskStatus,
    },
    service::RunningService,
};
use serde_json::{Value, json};

use super::support::bin;

pub(super) type TaskClient = RunningService<RoleClient, ClientConfig>;

/// A client that declares the tasks extension (2026-07-28, rmcp's default).
fn with_tasks() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::builder().enable_tasks().build(),
        Implementation::new("tasks-e2e", "1"),
    )
}

/// A 2026-07-28 client: `server/discover`, capabilities in every request's
/// `_meta`.
pub(super) async fn serve<T, E, A>(
    config: ClientConfig,
    transport: T,
) -> Result<TaskClient, rmcp::service::ClientInitializeError>
where
    T: rmcp::transport::IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
    config
        .serve_with_lifecycle(
            transport,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
            },
        )
        .await
}

struct Server {
    client: TaskClient,
    pid: u32,
}

async fn spawn(server: &str, db: &std::path::Path, config: ClientConfig) -> Server {
    #[allow(clippy::disallowed_methods)] // the binary under test, started directly
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg(server)
        .env("FF_LOG", "warn")
        .env("FF_DB", db)
        .env("FF_ALLOW_HOSTS", "127.0.0.1")
        .env("FF_TASK_LEASE_SECS", "1")
        .env("FF_TASK_POLL_MS", "200");
    let transport = rmcp::transport::TokioChildProcess::new(cmd).expect("spawn the server");
    let pid = transport.id().expect("a pid");
    let client = tokio::time::timeout(TIMEOUT, serve(config, transport))
        .await
        .expect("handshake in time")
        .expect("handshake succeeds");
    Server { client, pid }
}

fn kill(pid: u32) {
    let pid = rustix::process::Pid::from_raw(pid as i32).expect("a pid");
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
}

async fn call_once(client: &TaskClient, tool: &str, args: Value) -> CallToolResponse {
    let params = CallToolRequestParams::new(tool.to_owned())
        .with_arguments(args.as_object().expect("object").clone());
    tokio::time::timeout(TIMEOUT, client.peer().call_tool_once(params))
        .await
        .expect("answered in time")
        .expect("call succeeds")
}

async fn get(client: &TaskClient, id: &str) -> GetTaskResult {
    tokio::time::timeout(TIMEOUT, client.peer().get_task(GetTaskParams::new(id)))
        .await
        .expect("answered in time")
        .expect("tasks/get succeeds")
}

/// Polls until the task is no longer working.
async fn wait_end(client: &TaskClient, id: &str, within: Duration) -> GetTaskResult {
    let start = Instant::now();
    loop {
        let got = get(client, id).await;
        if got.task.status() != TaskStatus::Working {
            return got;
        }
        assert!(
            start.elapsed() < within,
            "task {id} still working after {within:?}: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

fn site_with_slow_home(delay: Duration) -> impl FnOnce(&str) -> Vec<(String, Reply)> {
    move |base| {
        vec![
            ("/robots.txt".into(), Reply::status(404)),
            (
                "/".into(),
                Reply::html(format!(
                    "<html><head><title>Home page of the slow site</title></head><body>\
                     <h1>Slow</h1><p>Welcome.</p><a href=\"{base}/a\">a</a></body></html>"
                ))
                .delayed(delay),
            ),
            (
                "/a".into(),
                Reply::html(
                    "<html><head><title>A page</title></head><body><h1>A</h1></body></html>",
                ),
            ),
        ]
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_call_is_a_task_for_clients_that_ask_and_a_result_for_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let site = FixtureServer::start_with(site_with_slow_home(Duration::ZERO)).await;
    let args = json!({ "start_url": format!("{}/", site.base()), "max_pages": 5 });

    let tasks = spawn("seo", &db, with_tasks()).await;
    let info = tasks
        .client
        .peer()
        .peer_info()
        .expect("server info")
        .clone();
    assert!(
        info.capabilities.supports_tasks(),
        "seo advertises the tasks extension: {:?}",
        info.capabilities
    );
    let CallToolResponse::Task(created) =
        call_once(&tasks.client, "audit_site", args.clone()).await
    else {
        panic!("a client with the tasks extension gets a task for audit_site");
    };
    assert_eq!(created.task.status, TaskStatus::Working);
    assert_eq!(created.task.task_id.len(), 32, "128 random bits, hex");
    let done = wait_end(
        &tasks.client,
        &created.task.task_id,
        Duration::from_secs(20),
    )
    .await;
    let TaskPayload::Completed { result } = &done.task.payload else {
        panic!("completed: {done:?}");
    };
    assert_eq!(
        result["structuredContent"]["pages_audited"], 2,
        "{result:#?}"
    );
    assert!(done.task.task.ttl_ms.is_some() && done.task.task.poll_interval_ms == Some(200));

    // A short tool stays an ordinary call, even for this client.
    let robots = call_once(
        &tasks.client,
        "check_robots",
        json!({ "url": format!("{}/", site.base()) }),
    )
    .await;
    assert!(matches!(robots, CallToolResponse::Complete(_)));

    // A client without the extension gets the result itself.
    let plain = spawn("seo", &db, ClientConfig::default()).await;
    let CallToolResponse::Complete(result) = call_once(&plain.client, "audit_site", args).await
    else {
        panic!("a client without the tasks extension gets the result");
    };
    assert_eq!(
        result.structured_content.expect("structured")["pages_audited"],
        2
    );

    // An id nobody issued is refused, naming it.
    let err = plain_get_error(&tasks.client, "0123456789abcdef0123456789abcdef").await;
    assert!(
        err.contains("unknown task '0123456789abcdef0123456789abcdef'"),
        "{err}"
    );
}

async fn plain_get_error(client: &TaskClient, id: &str) -> String {
    match client.peer().get_task(GetTaskParams::new(id)).await {
        Ok(got) => panic!("an unknown task was answered: {got:?}"),
        Err(err) => err.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_outlives_the_process_that_started_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let site = FixtureServer::start_with(site_with_slow_home(Duration::from_secs(3))).await;
    let args = json!({ "start_url": format!("{}/", site.base()), "max_pages": 5 });

    let first = spawn("seo", &db, with_tasks()).await;
    let CallToolResponse::Task(created) = call_once(&first.client, "audit_site", args).await else {
        panic!("a task");
    };
    let id = created.task.task_id.clone();
    // The crawl is waiting on the slow home page when its process dies.
    let start = Instant::now();
    while site.requests_to("/").is_empty() {
        assert!(start.elapsed() < TIMEOUT, "the crawl reached the site");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kill(first.pid);
    drop(first);

    let second = spawn("seo", &db, with_tasks()).await;
    let done = wait_end(&second.client, &id, Duration::from_secs(30)).await;
    let TaskPayload::Completed { result } = &done.task.payload else {
        panic!("the second process finished the task: {done:?}");
    };
    assert_eq!(
        result["structuredContent"]["pages_audited"], 2,
        "{result:#?}"
    );
    assert_eq!(
        site.requests_to("/").len(),
        2,
        "the crawl ran again in the second process"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_process_reads_and_cancels_a_running_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    // The home page answers at once, its one link never in time.
    let site = FixtureServer::start_with(site_with_slow_home(Duration::ZERO)).await;
    site.route(
        "/a",
        Reply::html("<html><head><title>A</title></head><body>late</body></html>")
            .delayed(Duration::from_secs(15)),
    );
    let args = json!({ "start_url": format!("{}/", site.base()), "max_pages": 5 });

    let owner = spawn("seo", &db, with_tasks()).await;
    let other = spawn("seo", &db, with_tasks()).await;
    let CallToolResponse::Task(created) = call_once(&owner.client, "audit_site", args).await else {
        panic!("a task");
    };
    let id = created.task.task_id.clone();

    // The other replica sees it working, and does not take it over while
    // its owner is alive (leases of 1 s, checked over 2.5 s).
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            get(&other.client, &id).await.task.status(),
            TaskStatus::Working
        );
    }
    assert_eq!(
        site.requests_to("/").len(),
        1,
        "no second run while the owner lives"
    );
    // The crawl's progress is the task's status message, seen from the
    // other process.
    let working = get(&other.client, &id).await;
    let message = working.task.task.status_message.clone().unwrap_or_default();
    assert!(message.contains("audited"), "{working:?}");

    let asked = Instant::now();
    tokio::time::timeout(
        TIMEOUT,
        other.client.peer().cancel_task(CancelTaskParams::new(&id)),
    )
    .await
    .expect("in time")
    .expect("tasks/cancel succeeds");
    let ended = wait_end(&other.client, &id, Duration::from_secs(10)).await;
    assert_eq!(ended.task.status(), TaskStatus::Cancelled, "{ended:?}");
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "the owner stopped before the 15 s page could answer"
    );
    // The owner's own view agrees; the cancelled run left no result.
    let seen = get(&owner.client, &id).await;
    assert_eq!(seen.task.status(), TaskStatus::Cancelled);
    assert_eq!(seen.task.payload, TaskPayload::Cancelled);
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_work_over_stateful_and_stateless_http() {
    use rmcp::transport::{
        StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let db = db.to_str().expect("utf8");
    let site = FixtureServer::start_with(site_with_slow_home(Duration::from_millis(300))).await;
    let args = json!({ "start_url": format!("{}/", site.base()), "max_pages": 5 });
    for stateless in [false, true] {
        let mut argv = vec!["seo", "--http", "127.0.0.1:0"];
        if stateless {
            argv.push("--stateless");
        }
        let server = ffmcp_test_support::client::HttpProc::spawn(
            bin(),
            &argv,
            &[("FF_DB", db), ("FF_ALLOW_HOSTS", "127.0.0.1")],
        );
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", server.base)),
        );
        let client: TaskClient = tokio::time::timeout(TIMEOUT, serve(with_tasks(), transport))
            .await
            .expect("handshake in time")
            .expect("handshake succeeds");
        let CallToolResponse::Task(created) = call_once(&client, "audit_site", args.clone()).await
        else {
            panic!(
                "a task over HTTP (stateless: {stateless}), protocol {:?}",
                client
                    .peer()
                    .peer_info()
                    .map(|i| i.protocol_version.clone())
            );
        };
        let done = wait_end(&client, &created.task.task_id, Duration::from_secs(20)).await;
        let TaskPayload::Completed { result } = &done.task.payload else {
            panic!("completed over HTTP (stateless: {stateless}): {done:?}");
        };
        assert_eq!(
            result["structuredContent"]["pages_audited"], 2,
            "{result:#?}"
        );
        client.cancel().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_2025_session_never_gets_a_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let site = FixtureServer::start_with(site_with_slow_home(Duration::ZERO)).await;
    #[allow(clippy::disallowed_methods)] // the binary under test, started directly
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("seo")
        .env("FF_LOG", "warn")
        .env("FF_DB", &db)
        .env("FF_ALLOW_HOSTS", "127.0.0.1");
    let transport = rmcp::transport::TokioChildProcess::new(cmd).expect("spawn");
    // The legacy handshake (`initialize`, 2025-11-25), declaring the
    // extension anyway.
    let legacy = with_tasks().with_protocol_version(rmcp::model::ProtocolVersion::V_2025_11_25);
    let client: TaskClient =
        tokio::time::timeout(TIMEOUT, rmcp::ServiceExt::serve(legacy, transport))
            .await
            .expect("in time")
            .expect("handshake");
    let args = json!({ "start_url": format!("{}/", site.base()), "max_pages": 5 });
    let CallToolResponse::Complete(result) = call_once(&client, "audit_site", args).await else {
        panic!("a 2025-11-25 session gets the result itself");
    };
    assert_eq!(
        result.structured_content.expect("structured")["pages_audited"],
        2
    );
}

/// On a PostgreSQL store, a task started on one replica is read from
/// another (`tasks/get` answers from the shared table), through
/// competitive-intel's `check_now` over a watch on a loopback fixture.
#[tokio::test(flavor = "multi_thread")]
async fn a_task_on_postgres_is_read_from_another_replica() {
    let Some(url) = ffmcp_test_support::postgres::fresh_database(
        "a_task_on_postgres_is_read_from_another_replica",
    )
    .await
    else {
        return;
    };
    let db = std::path::Path::new(&url);
    let site = FixtureServer::start().await;
    site.route(
        "/feed.xml",
        Reply::ok(
            "application/rss+xml",
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>\
             <link>https://t.example/</link><description>d</description>\
             <item><guid>a</guid><title>A</title></item></channel></rss>",
        ),
    );
    let first = spawn("competitive-intel", db, with_tasks()).await;
    let added = call_once(
        &first.client,
        "watch_add",
        json!({ "url": site.url("/feed.xml"), "kind": "feed" }),
    )
    .await;
    assert!(matches!(added, CallToolResponse::Complete(_)));
    let CallToolResponse::Task(created) = call_once(&first.client, "check_now", json!({})).await
    else {
        panic!("check_now is a task for this client");
    };
    let id = created.task.task_id.clone();
    let second = spawn("competitive-intel", db, with_tasks()).await;
    let done = wait_end(&second.client, &id, Duration::from_secs(30)).await;
    let TaskPayload::Completed { result } = &done.task.payload else {
        panic!("completed, seen from the other replica: {done:?}");
    };
    assert_eq!(
        result["structuredContent"]["reports"][0]["outcome"], "unchanged",
        "{result:#?}"
    );
}

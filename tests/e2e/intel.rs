//! competitive-intel end to end: real MCP clients over stdio and HTTP, a
//! feed fixture on 127.0.0.1 that gains items between checks, resources
//! and their update notifications, and a daemon killed with SIGKILL that
//! resumes without duplicates or losses.

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ffmcp_core::store::Store;
use ffmcp_test_support::{
    client::{call_peer, connect_stdio_with},
    http::{FixtureServer, Reply},
};
use rmcp::{
    ClientHandler, RoleClient,
    model::{ReadResourceRequestParams, ResourceUpdatedNotificationParam, SubscribeRequestParams},
    service::NotificationContext,
};
use serde_json::{Value, json};

use super::support::{HttpProc, Proc, bin, error_text, http_client, stdio_client_env, structured};

/// A feed; items (guid, title) are newest first.
#[derive(Clone, Default)]
struct Feed(Arc<Mutex<Vec<(String, String)>>>);

impl Feed {
    fn push(&self, guid: &str, title: &str) {
        self.0
            .lock()
            .expect("lock")
            .insert(0, (guid.to_owned(), title.to_owned()));
    }

    fn xml(&self) -> String {
        let mut xml = String::from(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Acme</title>\
             <link>https://acme.example/</link><description>d</description>",
        );
        for (guid, title) in self.0.lock().expect("lock").iter() {
            xml.push_str(&format!(
                "<item><guid>{guid}</guid><title>{title}</title>\
                 <link>https://acme.example/{guid}</link></item>"
            ));
        }
        xml + "</channel></rss>"
    }

    /// Serves the feed at `/feed.xml`, as it is at each request.
    async fn serve(&self) -> FixtureServer {
        let site = FixtureServer::start().await;
        let feed = self.clone();
        site.route_fn("/feed.xml", move |_| {
            Reply::ok("application/rss+xml", feed.xml())
        });
        site
    }
}

/// A client that reports resource-updated notifications.
#[derive(Clone)]
struct Updates(tokio::sync::mpsc::UnboundedSender<String>);

impl ClientHandler for Updates {
    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.0.send(params.uri);
    }
}

fn env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("FF_DB", dir.join("intel.db").display().to_string()),
        ("FF_ALLOW_HOSTS", "127.0.0.1".to_owned()),
        ("FF_ROOTS", dir.display().to_string()),
        ("FF_INTEL_MIN_INTERVAL_SECS", "1".to_owned()),
        ("FF_INTEL_HOST_SPACING_MS", "0".to_owned()),
        ("FF_LLM_PRIMARY", String::new()),
        ("FF_LLM_FALLBACKS", String::new()),
    ]
}

fn pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_watch_check_changes_resources_and_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_path = dir.path().canonicalize().expect("canonical");
    let feed = Feed::default();
    feed.push("a", "Alpha");
    let site = feed.serve().await;
    let url = site.url("/feed.xml");
    let env = env(&dir_path);
    let (tx, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("competitive-intel").env("FF_LOG", "warn");
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let client = connect_stdio_with(Updates(tx), cmd).await;

    let tools = client.list_all_tools().await.expect("tools");
    for name in [
        "watch_add",
        "watch_list",
        "watch_update",
        "watch_remove",
        "check_now",
        "changes",
        "diff",
        "history",
        "summarize_changes",
        "parse_feed",
        "export_changes",
    ] {
        let tool = tools.iter().find(|t| t.name == name).expect(name);
        assert!(
            tool.output_schema.is_some(),
            "{name} declares an outputSchema"
        );
    }

    let args = json!({"url": url, "interval_secs": 3600, "tags": ["blog"], "competitor": "Acme"});
    let added = structured(&call_peer(&client, "watch_add", args.clone()).await);
    assert_eq!(added["watch"]["kind"], "feed");
    assert_eq!(added["first_check"]["outcome"], "baseline");
    let id = added["watch"]["id"].as_i64().expect("id");
    assert!(error_text(&call_peer(&client, "watch_add", args).await).contains("already watched"));
    let bad = json!({"url": url, "selector": "div[[", "interval_secs": 3600});
    assert!(
        error_text(&call_peer(&client, "watch_add", bad).await)
            .contains("not a valid CSS selector")
    );
    let short = json!({"url": "https://acme.example/x", "interval_secs": 0});
    assert!(error_text(&call_peer(&client, "watch_add", short).await).contains("'interval_secs'"));
    let private = json!({"url": "http://10.1.2.3/feed"});
    assert!(error_text(&call_peer(&client, "watch_add", private).await).contains("FF_ALLOW_HOSTS"));

    // Subscribe (resources/subscribe, the initialize-lifecycle way) first.
    #[allow(deprecated)]
    client
        .subscribe(SubscribeRequestParams::new("intel://changes"))
        .await
        .expect("subscribe");

    feed.push("b", "Breaking launch");
    let checked = structured(&call_peer(&client, "check_now", json!({"id": id})).await);
    assert_eq!(checked["new_changes"], 1, "{checked}");
    let uri = tokio::time::timeout(Duration::from_secs(20), updates.recv())
        .await
        .expect("a notification in time")
        .expect("open");
    assert_eq!(uri, "intel://changes");

    let changes =
        structured(&call_peer(&client, "changes", json!({"cursor": 0, "tag": "blog"})).await);
    assert_eq!(changes["changes"][0]["title"], "Breaking launch");
    assert_eq!(changes["changes"][0]["kind"], "new_item");
    let cursor = changes["next_cursor"].clone();
    let later = structured(&call_peer(&client, "changes", json!({"cursor": cursor})).await);
    assert_eq!(later["changes"], json!([]));
    let other = structured(&call_peer(&client, "changes", json!({"competitor": "Globex"})).await);
    assert_eq!(other["changes"], json!([]));

    let resources = client.list_resources(None).await.expect("resources");
    assert!(
        resources
            .resources
            .iter()
            .any(|r| r.uri == "intel://watches")
    );
    let read = client
        .read_resource(ReadResourceRequestParams::new("intel://changes"))
        .await
        .expect("read");
    assert!(format!("{read:?}").contains("Breaking launch"));

    let history = structured(
        &call_peer(
            &client,
            "history",
            json!({"watch_id": id, "include_text": true}),
        )
        .await,
    );
    assert_eq!(history["snapshots"].as_array().expect("snapshots").len(), 2);
    let diff = structured(&call_peer(&client, "diff", json!({"watch_id": id})).await);
    assert!(
        diff["unified"]
            .as_str()
            .expect("unified")
            .contains("+Breaking launch"),
        "{diff}"
    );

    let summary = error_text(&call_peer(&client, "summarize_changes", json!({})).await);
    assert!(summary.contains("no model is configured"), "{summary}");

    let exported = structured(
        &call_peer(
            &client,
            "export_changes",
            json!({"path": "changes.atom", "format": "atom"}),
        )
        .await,
    );
    assert_eq!(exported["changes"], 1);
    let atom = std::fs::read_to_string(dir_path.join("changes.atom")).expect("written");
    assert!(
        atom.contains("<feed") && atom.contains("Breaking launch"),
        "{atom}"
    );
    let outside = json!({"path": "/etc/ffmcp-changes.csv", "format": "csv"});
    assert!(!error_text(&call_peer(&client, "export_changes", outside).await).is_empty());

    let parsed =
        structured(&call_peer(&client, "parse_feed", json!({"content": feed.xml()})).await);
    assert_eq!(parsed["kind"], "rss2");
    assert_eq!(parsed["total_items"], 2);

    let updated =
        structured(&call_peer(&client, "watch_update", json!({"id": id, "tags": ["news"]})).await);
    assert_eq!(updated["tags"], json!(["news"]));
    structured(&call_peer(&client, "watch_remove", json!({"id": id})).await);
    let list = structured(&call_peer(&client, "watch_list", json!({})).await);
    assert_eq!(list["watches"], json!([]));
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn http_serves_the_same_tools() {
    let dir = tempfile::tempdir().expect("tempdir");
    let feed = Feed::default();
    feed.push("a", "Alpha");
    let site = feed.serve().await;
    let url = site.url("/feed.xml");
    let env = env(dir.path());
    let server = HttpProc::spawn(
        bin(),
        &["competitive-intel", "--http", "127.0.0.1:0"],
        &pairs(&env),
    );
    let client = http_client(&format!("{}/mcp", server.base), None).await;
    let parsed = structured(&call_peer(&client, "parse_feed", json!({"url": url})).await);
    assert_eq!(parsed["items"][0]["title"], "Alpha");
    let added = structured(
        &call_peer(
            &client,
            "watch_add",
            json!({"url": url, "interval_secs": 60}),
        )
        .await,
    );
    assert_eq!(added["first_check"]["outcome"], "baseline");
    let list = structured(&call_peer(&client, "watch_list", json!({})).await);
    assert_eq!(list["watches"].as_array().expect("watches").len(), 1);
    client.cancel().await.expect("close");
}

/// Item keys of every recorded change, in detection order.
fn change_keys(db: &Path) -> Vec<String> {
    let store = Store::open(db).expect("open the database");
    store
        .call_blocking(|c| {
            let mut stmt = c
                .prepare("SELECT item_key FROM ci_changes ORDER BY id")
                .expect("prepare");
            stmt.query_map([], |r| r.get::<_, String>(0))
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("rows")
        })
        .expect("a SQLite store")
}

fn wait_for_keys(db: &Path, want: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let keys = change_keys(db);
        if want.iter().all(|w| keys.iter().any(|k| k == w)) {
            return keys;
        }
        assert!(Instant::now() < deadline, "want {want:?}, have {keys:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_daemon_resumes_without_duplicates_or_losses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("intel.db");
    let feed = Feed::default();
    feed.push("a", "Alpha");
    let site = feed.serve().await;
    let url = site.url("/feed.xml");
    let env = env(dir.path());
    {
        let client = stdio_client_env("competitive-intel", &pairs(&env)).await;
        let added = structured(
            &call_peer(
                &client,
                "watch_add",
                json!({"url": url, "interval_secs": 1}),
            )
            .await,
        );
        assert_eq!(added["first_check"]["outcome"], "baseline");
        client.cancel().await.expect("close");
    }
    let mut daemon = Proc::spawn(bin(), &["competitive-intel", "--daemon"], &pairs(&env));
    daemon.wait_stderr("running headless");
    feed.push("b", "Beta");
    wait_for_keys(&db, &["id:b"]);
    // New items, then SIGKILL while checks run every second.
    feed.push("c", "Gamma");
    feed.push("d", "Delta");
    std::thread::sleep(Duration::from_millis(700));
    daemon.child.kill().expect("SIGKILL");
    daemon.wait_exit();

    let restarted = Proc::spawn(bin(), &["competitive-intel", "--daemon"], &pairs(&env));
    restarted.wait_stderr("running headless");
    feed.push("e", "Epsilon");
    wait_for_keys(&db, &["id:b", "id:c", "id:d", "id:e"]);
    // A few more due checks must add nothing.
    std::thread::sleep(Duration::from_secs(3));
    drop(restarted);
    let mut keys = change_keys(&db);
    keys.sort();
    assert_eq!(
        keys,
        ["id:b", "id:c", "id:d", "id:e"],
        "each new item exactly once"
    );

    // The CLI export of the same changes.
    let export = |format: &str| {
        let out = std::process::Command::new(bin())
            .args(["competitive-intel", "export", "--format", format])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .expect("run export");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf8")
    };
    let csv = export("csv");
    assert_eq!(csv.lines().count(), 5, "header + 4 rows: {csv}");
    assert!(csv.starts_with("id,detected_at,kind,"), "{csv}");
    let atom = export("atom");
    assert_eq!(atom.matches("<entry>").count(), 4, "{atom}");
    let json: Value = serde_json::from_str(&export("json")).expect("json");
    assert_eq!(json.as_array().expect("array").len(), 4);
}

/// Stored state and export files are bounded over a real client: a watch
/// beyond FF_INTEL_MAX_WATCHES is refused and not stored; an export never
/// replaces a file without `overwrite`, never writes through a symlink or a
/// hard link to a file outside the root, and creates files 0600.
#[tokio::test(flavor = "multi_thread")]
async fn watch_cap_and_safe_exports_over_stdio() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_path = dir.path().canonicalize().expect("canonical");
    let outside = tempfile::tempdir().expect("outside");
    let feed = Feed::default();
    feed.push("a", "Alpha");
    let site = feed.serve().await;
    let url = site.url("/feed.xml");
    let mut env = env(&dir_path);
    env.push(("FF_INTEL_MAX_WATCHES", "1".to_owned()));
    let client = stdio_client_env("competitive-intel", &pairs(&env)).await;
    let peer = client.peer();

    structured(
        &call_peer(
            peer,
            "watch_add",
            json!({"url": url, "interval_secs": 3600}),
        )
        .await,
    );
    let refused = error_text(
        &call_peer(
            peer,
            "watch_add",
            json!({"url": format!("{url}/second.xml"), "interval_secs": 3600}),
        )
        .await,
    );
    assert!(refused.contains("FF_INTEL_MAX_WATCHES"), "{refused}");
    let list = structured(&call_peer(peer, "watch_list", json!({})).await);
    assert_eq!(
        list["watches"].as_array().expect("watches").len(),
        1,
        "{list}"
    );

    let export = |path: &str, overwrite: bool| json!({"path": path, "format": "csv", "overwrite": overwrite});
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    structured(&call_peer(peer, "export_changes", export("changes.csv", false)).await);
    let file = dir_path.join("changes.csv");
    assert_eq!(mode(&file), 0o600);
    std::fs::write(&file, "edited by hand\n").expect("edit");
    let kept = error_text(&call_peer(peer, "export_changes", export("changes.csv", false)).await);
    assert!(kept.contains("overwrite"), "{kept}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "edited by hand\n"
    );
    structured(&call_peer(peer, "export_changes", export("changes.csv", true)).await);
    assert!(
        std::fs::read_to_string(&file)
            .expect("read")
            .starts_with("id,detected_at,")
    );

    let victim = outside.path().join("victim.csv");
    std::fs::write(&victim, "outside\n").expect("victim");
    std::os::unix::fs::symlink(&victim, dir_path.join("sym.csv")).expect("symlink");
    std::fs::hard_link(&victim, dir_path.join("hard.csv")).expect("hard link");
    for path in ["sym.csv", "hard.csv"] {
        error_text(&call_peer(peer, "export_changes", export(path, true)).await);
    }
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "outside\n");
    let wrong = error_text(
        &call_peer(
            peer,
            "export_changes",
            json!({"path": "changes.csv", "format": "atom", "overwrite": true}),
        )
        .await,
    );
    assert!(wrong.contains(".atom"), "{wrong}");
    client.cancel().await.expect("close");
}

/// A `--daemon` and a served stdio session on one database both run the
/// scheduler: due watches are claimed, so each is fetched once at the
/// fixture, never by both processes (SQLite, and PostgreSQL when
/// `FFMCP_TEST_PG_URL` names a server).
#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_and_a_served_session_never_both_fetch_a_watch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut databases = vec![dir.path().join("intel.db").display().to_string()];
    if let Some(url) = ffmcp_test_support::postgres::fresh_database(
        "a_daemon_and_a_served_session_never_both_fetch_a_watch",
    )
    .await
    {
        databases.push(url);
    }
    for database in databases {
        let site = FixtureServer::start().await;
        let paths: Vec<String> = (0..20).map(|i| format!("/f{i}.xml")).collect();
        for (i, path) in paths.iter().enumerate() {
            site.route(
                path,
                Reply::ok(
                    "application/rss+xml",
                    format!(
                        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>S{i}</title>\
                         <link>https://s.example/</link><description>d</description>\
                         <item><guid>a</guid><title>A</title></item></channel></rss>"
                    ),
                )
                .delayed(Duration::from_millis(200)),
            );
        }
        let mut env = env(dir.path());
        env[0].1.clone_from(&database);
        let client = stdio_client_env("competitive-intel", &pairs(&env)).await;
        for path in &paths {
            let added = structured(
                &call_peer(
                    &client,
                    "watch_add",
                    json!({"url": site.url(path), "kind": "feed", "interval_secs": 3600}),
                )
                .await,
            );
            assert_eq!(added["first_check"]["outcome"], "baseline", "{added}");
        }
        let daemon = Proc::spawn(bin(), &["competitive-intel", "--daemon"], &pairs(&env));
        daemon.wait_stderr("running headless");
        // Everything due now, with both schedulers running.
        let before: Vec<usize> = paths.iter().map(|p| site.requests_to(p).len()).collect();
        let store = if database.starts_with("postgres") {
            Store::connect(&database, &ffmcp_core::Config::default()).expect("postgres")
        } else {
            Store::open(&database).expect("sqlite")
        };
        store
            .run(|db| db.execute("UPDATE ci_watches SET next_due = 0", &[]))
            .await
            .expect("task")
            .expect("make every watch due");
        let deadline = Instant::now() + Duration::from_secs(60);
        while paths
            .iter()
            .zip(&before)
            .any(|(p, n)| site.requests_to(p).len() <= *n)
        {
            assert!(
                Instant::now() < deadline,
                "every watch checked again in time"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Both schedulers wake every second: a few more rounds.
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(daemon);
        client.cancel().await.expect("close");
        for (path, n) in paths.iter().zip(&before) {
            let fetched = site.requests_to(path).len() - n;
            assert_eq!(fetched, 1, "{database}: {path} fetched {fetched} times");
        }
    }
}

/// Two processes on one database (two replicas, or a daemon beside a
/// served session): a client subscribed on one hears the watch added and
/// the change found through the other, over the store's bus (SQLite's
/// table, PostgreSQL's LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread")]
#[allow(deprecated)] // resources/subscribe: the 2025-11-25 way, what these clients use.
async fn a_change_found_by_one_process_reaches_subscribers_of_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_path = dir.path().canonicalize().expect("canonical");
    let mut databases = vec![dir_path.join("intel.db").display().to_string()];
    if let Some(url) = ffmcp_test_support::postgres::fresh_database(
        "a_change_found_by_one_process_reaches_subscribers_of_another",
    )
    .await
    {
        databases.push(url);
    }
    for database in databases {
        let feed = Feed::default();
        feed.push("a", "Alpha");
        let site = feed.serve().await;
        let mut env = env(&dir_path);
        env.retain(|(k, _)| *k != "FF_DB");
        env.push(("FF_DB", database.clone()));
        let command = || {
            let mut cmd = tokio::process::Command::new(bin());
            cmd.arg("competitive-intel").env("FF_LOG", "warn");
            for (k, v) in &env {
                cmd.env(k, v);
            }
            cmd
        };
        let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
        let listener = connect_stdio_with(Updates(tx), command()).await;
        let (other_tx, _other_heard) = tokio::sync::mpsc::unbounded_channel();
        let actor = connect_stdio_with(Updates(other_tx), command()).await;
        for uri in ["intel://watches", "intel://changes"] {
            listener
                .subscribe(SubscribeRequestParams::new(uri))
                .await
                .expect("subscribe");
        }
        let args = json!({"url": site.url("/feed.xml"), "interval_secs": 3600});
        let added = structured(&call_peer(&actor, "watch_add", args).await);
        let id = added["watch"]["id"].as_i64().expect("id");
        assert!(
            heard_within(&mut heard, "intel://watches").await,
            "{database}: the other process heard the watch added"
        );

        feed.push("b", "Bravo");
        let checked = structured(&call_peer(&actor, "check_now", json!({"id": id})).await);
        assert_eq!(checked["new_changes"], 1, "{checked}");
        assert!(
            heard_within(&mut heard, "intel://changes").await,
            "{database}: the other process heard the change"
        );
        listener.cancel().await.expect("close");
        actor.cancel().await.expect("close");
    }
}

/// Whether `want` is heard within 20 s (other URIs are skipped).
async fn heard_within(
    heard: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    want: &str,
) -> bool {
    let wait = async {
        while let Some(uri) = heard.recv().await {
            if uri == want {
                return true;
            }
        }
        false
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .unwrap_or(false)
}

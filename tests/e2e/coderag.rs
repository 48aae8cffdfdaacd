//! coderag end to end: the real binary through rmcp's client over stdio
//! and HTTP. A polyglot fixture repository is indexed, searched, its
//! symbols and references resolved, updated incrementally after a change;
//! secrets never come back and roots are enforced; with an embedding
//! route pointed at the provider imitation, search is hybrid.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use ffmcp_test_support::client::conforming;

use super::support::{Client, HttpProc, bin, call, error_text, http_client, stdio_client_env};

/// A token shaped like a GitHub personal access token, planted in code.
const PLANTED_TOKEN: &str = "ghp_4Zq9Lw2Xv7Bn3Mk8Pd5Rt1Yc6Hs0Jf2Ga9Ue";
/// The value of a planted `.env` secret.
const ENV_SECRET: &str = "envsecretvalue8d7f6a5e4b3c2d1";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/coderag/tests/fixtures/repo")
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The fixture copied under a fresh root, with secret-bearing files added.
fn repository() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let repo = root.join("repo");
    copy(&fixture(), &repo);
    std::fs::write(repo.join(".env"), format!("API_TOKEN={ENV_SECRET}\n")).expect("write");
    std::fs::create_dir_all(repo.join("config")).expect("mkdir");
    std::fs::write(
        repo.join("config/credentials.json"),
        format!("{{\"token\": \"{ENV_SECRET}\"}}\n"),
    )
    .expect("write");
    std::fs::write(
        repo.join("config/id_rsa"),
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{ENV_SECRET}\n"),
    )
    .expect("write");
    std::fs::write(
        repo.join("src/client.py"),
        format!(
            "def connect_upstream_service():\n    \"\"\"Open a session to the upstream service.\"\"\"\n    token = \"{PLANTED_TOKEN}\"\n    return token\n"
        ),
    )
    .expect("write");
    (dir, root)
}

async fn ok(client: &Client, tool: &str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    conforming(client, tool, &result).await
}

fn paths(results: &Value) -> Vec<String> {
    results
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["path"].as_str().unwrap_or(""),
                r["symbol"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn index_search_symbols_references_and_updates_over_stdio() {
    let (_dir, root) = repository();
    let data = tempfile::tempdir().expect("tempdir");
    let repo = root.join("repo");
    let client = stdio_client_env(
        "coderag",
        &[
            ("FF_ROOTS", root.to_str().expect("utf8")),
            ("FF_CODERAG_INDEX_DIR", data.path().to_str().expect("utf8")),
        ],
    )
    .await;

    // Before indexing, searching says what to do.
    let early = call(&client, "search", json!({"query": "cache"})).await;
    assert!(error_text(&early).contains("call `index`"));

    let indexed = ok(&client, "index", json!({"path": "repo"})).await;
    assert_eq!(indexed["repo"], repo.display().to_string());
    assert_eq!(indexed["indexed"], 12, "{indexed}");
    // credentials.json and id_rsa; .env is hidden, never even looked at.
    assert_eq!(indexed["skipped"]["secret"], 2, "{indexed}");

    let found = ok(
        &client,
        "search",
        json!({"query": "decode a url query string into parameters", "k": 3}),
    )
    .await;
    let first = &found["results"][0];
    assert_eq!(first["path"], "app/server.py");
    assert_eq!(first["symbol"], "parse_query_string");
    assert_eq!(first["kind"], "function");
    assert_eq!(
        (first["start_line"].as_u64(), first["end_line"].as_u64()),
        (Some(6), Some(12))
    );
    assert_eq!(first["stale"], false);
    assert!(
        first["text"]
            .as_str()
            .expect("text")
            .starts_with("def parse_query_string(query):")
    );

    // Filters and the token budget.
    let go = ok(
        &client,
        "search",
        json!({"query": "cache entries", "language": ["go"]}),
    )
    .await;
    assert!(
        go["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["language"] == "go")
    );
    let tight = ok(
        &client,
        "search",
        json!({"query": "matrix multiply", "token_budget": 100}),
    )
    .await;
    assert!(tight["tokens"].as_u64().expect("tokens") <= 100, "{tight}");
    let bad = call(
        &client,
        "search",
        json!({"query": "x", "language": ["cobol"]}),
    )
    .await;
    assert!(error_text(&bad).contains("'language'"));
    // Without an embedding route: BM25, and hybrid is refused by name.
    assert_eq!(go["mode"], "bm25");
    assert_eq!(go["results"][0]["found_by"], json!(["bm25"]));
    let hybrid = call(
        &client,
        "search",
        json!({"query": "cache entries", "mode": "hybrid"}),
    )
    .await;
    assert!(error_text(&hybrid).contains("FF_EMBED_MODEL"), "{hybrid:?}");

    // Symbols, references, outline, relations.
    let symbols = ok(&client, "find_symbol", json!({"name": "Matrix::multiply"})).await;
    assert!(
        symbols["symbols"].as_array().expect("symbols").is_empty()
            || symbols["symbols"][0]["name"] == "multiply"
    );
    let symbols = ok(&client, "find_symbol", json!({"name": "multiply"})).await;
    assert_eq!(symbols["symbols"][0]["symbol"], "linalg::Matrix::multiply");
    assert_eq!(symbols["symbols"][0]["path"], "cpp/matrix.cpp");
    let fuzzy = ok(&client, "find_symbol", json!({"name": "NewCahce"})).await;
    assert_eq!(fuzzy["symbols"][0]["name"], "NewCache");

    let refs = ok(&client, "references", json!({"name": "parse_query_string"})).await;
    let list = refs["references"].as_array().expect("references");
    assert_eq!(list.len(), 2, "{refs}");
    assert_eq!(list[0]["definition"], true);
    assert_eq!(list[1]["in_symbol"], "RequestRouter.dispatch");
    assert!(
        list[1]["text"]
            .as_str()
            .expect("line")
            .contains("handler(parse_query_string(query))")
    );

    let outline = ok(&client, "outline", json!({"path": "java/Ledger.java"})).await;
    assert_eq!(
        paths(&outline["symbols"]),
        [
            "java/Ledger.java Ledger",
            "java/Ledger.java Ledger.transferFunds",
            "java/Ledger.java Ledger.balanceFor"
        ]
    );
    let related = ok(&client, "related", json!({"target": "rank_documents"})).await;
    let uses: Vec<&str> = related["uses"]
        .as_array()
        .expect("uses")
        .iter()
        .filter_map(|r| r["symbol"].as_str())
        .collect();
    assert!(uses.contains(&"Tokenizer::tokenize"), "{related}");

    let status = ok(&client, "status", json!({})).await;
    assert_eq!(status["repos"][0]["files"], 12);
    assert_eq!(status["repos"][0]["stale_files"], 0);
    assert_eq!(status["repos"][0]["languages"]["rust"], 2);
    assert_eq!(status["embedding_route"], json!(null), "{status}");

    let read = ok(
        &client,
        "read",
        json!({"path": "cmd/cache.go", "start_line": 12, "end_line": 15}),
    )
    .await;
    assert_eq!(
        read["text"],
        "// NewCache returns an empty cache holding at most limit entries.\nfunc NewCache(limit int) *Cache {\n\treturn &Cache{entries: map[string]string{}, limit: limit}\n}"
    );

    // A change: the result is marked stale until the next index run,
    // which re-reads only that file.
    std::fs::write(
        repo.join("web/invoice.ts"),
        "/** Computes the late fee owed on an overdue invoice. */\nexport function lateFeeCents(days: number): number {\n  return days * 50;\n}\n",
    )
    .expect("write");
    let before = ok(&client, "search", json!({"query": "renderInvoiceLine"})).await;
    assert_eq!(before["results"][0]["stale"], true, "{before}");
    let again = ok(
        &client,
        "index",
        json!({"path": repo.to_str().expect("utf8")}),
    )
    .await;
    assert_eq!(
        (again["indexed"].as_u64(), again["unchanged"].as_u64()),
        (Some(1), Some(11)),
        "{again}"
    );
    let after = ok(
        &client,
        "search",
        json!({"query": "late fee on an overdue invoice"}),
    )
    .await;
    assert_eq!(after["results"][0]["symbol"], "lateFeeCents");
    assert_eq!(after["results"][0]["stale"], false);
    let gone = ok(
        &client,
        "find_symbol",
        json!({"name": "renderInvoiceLine", "exact": true}),
    )
    .await;
    assert!(gone["symbols"].as_array().expect("symbols").is_empty());
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_returned_and_roots_enforced_over_http() {
    let (_dir, root) = repository();
    let data = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    copy(&fixture(), outside.path());
    // A symlink inside the repository that leads out of the roots.
    std::os::unix::fs::symlink(outside.path(), root.join("repo/escape")).expect("symlink");
    std::os::unix::fs::symlink(
        outside.path().join("src/lib.rs"),
        root.join("repo/linked.rs"),
    )
    .expect("symlink");
    let server = HttpProc::spawn(
        bin(),
        &["coderag", "--http", "127.0.0.1:0"],
        &[
            ("FF_ROOTS", root.to_str().expect("utf8")),
            ("FF_CODERAG_INDEX_DIR", data.path().to_str().expect("utf8")),
        ],
    );
    let client = http_client(&format!("{}/mcp", server.base), None).await;

    // Outside the roots: refused, nothing indexed.
    for path in [outside.path().to_str().expect("utf8"), "repo/../..", "/etc"] {
        let refused = call(&client, "index", json!({"path": path})).await;
        let message = error_text(&refused);
        assert!(
            message.contains("outside") || message.contains("'..'"),
            "{path}: {message}"
        );
    }
    let indexed = ok(&client, "index", json!({"path": "repo"})).await;
    assert_eq!(indexed["indexed"], 12, "{indexed}");
    let status = ok(&client, "status", json!({})).await;
    assert_eq!(status["repos"].as_array().expect("repos").len(), 1);
    let files = ok(&client, "search", json!({"query": "tokenizer", "k": 50})).await;
    for result in files["results"].as_array().expect("results") {
        let path = result["path"].as_str().expect("path");
        assert!(
            !path.starts_with("escape/") && path != "linked.rs",
            "followed a symlink out: {path}"
        );
    }

    // Secrets: never indexed, never read, masked in code.
    let hits = ok(
        &client,
        "search",
        json!({"query": format!("API_TOKEN {ENV_SECRET} token"), "k": 50}),
    )
    .await;
    let text = hits.to_string();
    assert!(!text.contains(ENV_SECRET), "{text}");
    assert!(
        !text.contains(".env") && !text.contains("credentials.json") && !text.contains("id_rsa")
    );
    let planted = ok(
        &client,
        "search",
        json!({"query": "connect upstream service"}),
    )
    .await;
    assert_eq!(planted["results"][0]["symbol"], "connect_upstream_service");
    let body = planted["results"][0]["text"].as_str().expect("text");
    assert!(body.contains("token = \"[masked]\""), "{body}");
    assert!(!planted.to_string().contains(PLANTED_TOKEN));
    let read = ok(&client, "read", json!({"path": "src/client.py"})).await;
    assert!(!read.to_string().contains(PLANTED_TOKEN));
    assert_eq!(read["masked"], 1);
    for secret in [".env", "config/credentials.json", "config/id_rsa"] {
        let refused = call(&client, "read", json!({"path": secret, "repo": "repo"})).await;
        let message = error_text(&refused);
        assert!(!message.contains(ENV_SECRET), "{message}");
        assert!(
            message.contains("secret") || message.contains("private key"),
            "{secret}: {message}"
        );
    }
    for path in ["/etc/passwd", "repo/linked.rs"] {
        let refused = call(&client, "read", json!({"path": path})).await;
        assert!(error_text(&refused).contains("outside"), "{path}");
    }
    client.cancel().await.expect("close");
}

/// (progress, total) of each progress notification.
type Seen = Vec<(f64, Option<f64>)>;

/// Progress notifications of one client.
#[derive(Clone, Default)]
struct ProgressLog(std::sync::Arc<std::sync::Mutex<Seen>>);

impl rmcp::ClientHandler for ProgressLog {
    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        self.0
            .lock()
            .expect("lock")
            .push((params.progress, params.total));
    }
}

/// `files` generated Rust files under `dir`, each with a documented function.
fn generated_repo(dir: &Path, files: usize) {
    for i in 0..files {
        let sub = dir.join(format!("m{}", i / 100));
        std::fs::create_dir_all(&sub).expect("mkdir");
        let mut text = String::new();
        for j in 0..8 {
            text.push_str(&format!(
                "/// Computes part {j} of generated item {i}.\npub fn generated_{i}_{j}(x: u64) -> u64 {{\n    let y = x.wrapping_mul({j});\n    y + {i}\n}}\n\n"
            ));
        }
        std::fs::write(sub.join(format!("f{i}.rs")), text).expect("write");
    }
}

/// [`ok`] through a client with its own handler.
async fn ok_peer(peer: &rmcp::Peer<rmcp::RoleClient>, tool: &str, args: Value) -> Value {
    let result = ffmcp_test_support::client::call_peer(peer, tool, args).await;
    conforming(peer, tool, &result).await
}

#[tokio::test(flavor = "multi_thread")]
async fn indexing_reports_progress_stops_when_cancelled_and_watches_over_stdio() {
    use rmcp::{
        model::{CallToolRequestParams, ClientRequest, Request},
        service::PeerRequestOptions,
    };
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let big = root.join("big");
    generated_repo(&big, 3000);
    let small = root.join("small");
    generated_repo(&small, 20);
    let data = tempfile::tempdir().expect("tempdir");
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("coderag")
        .env("FF_LOG", "warn")
        .env("FF_ROOTS", &root)
        .env("FF_CODERAG_INDEX_DIR", data.path());
    let log = ProgressLog::default();
    let client = ffmcp_test_support::client::connect_stdio_with(log.clone(), cmd).await;
    let request = |path: &str| {
        ClientRequest::CallToolRequest(Request::new(
            CallToolRequestParams::new("index")
                .with_arguments(json!({ "path": path }).as_object().expect("object").clone()),
        ))
    };

    // Cancelled after the first progress: the call ends, nothing is committed.
    let handle = client
        .peer()
        .send_cancellable_request(request("big"), PeerRequestOptions::no_options())
        .await
        .expect("sent");
    let deadline = Instant::now() + Duration::from_secs(60);
    while log.0.lock().expect("lock").is_empty() {
        assert!(Instant::now() < deadline, "no progress while indexing");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cancelled_at = Instant::now();
    handle
        .cancel(Some("test".into()))
        .await
        .expect("cancel sent");
    let status = tokio::time::timeout(
        Duration::from_secs(30),
        ok_peer(client.peer(), "status", json!({"repo": "big"})),
    )
    .await
    .expect("answered after the cancel");
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(20),
        "the cancelled index kept the server busy"
    );
    assert_eq!(
        status["repos"][0]["files"], 0,
        "a cancelled first index committed something: {status}"
    );

    // A whole run: progress up to the total, every file indexed.
    log.0.lock().expect("lock").clear();
    let indexed = ok_peer(client.peer(), "index", json!({"path": "small"})).await;
    assert_eq!(indexed["indexed"], 20, "{indexed}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let seen = log.0.lock().expect("lock").clone();
        if seen.contains(&(20.0, Some(20.0))) {
            break;
        }
        assert!(Instant::now() < deadline, "progress: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Watched: a new file is found without calling `index` again.
    std::fs::write(
        small.join("m0/fresh.rs"),
        "/// Reconciles the ledger.\npub fn freshly_written_symbol() {}\n",
    )
    .expect("write");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = ok_peer(
            client.peer(),
            "find_symbol",
            json!({"name": "freshly_written_symbol", "exact": true}),
        )
        .await;
        if found["symbols"].as_array().is_some_and(|r| !r.is_empty()) {
            assert_eq!(found["symbols"][0]["path"], "m0/fresh.rs", "{found}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the watcher did not index the new file: {found}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn hybrid_search_with_an_embedding_route_over_stdio() {
    let imitation = ffmcp_test_support::imitation::Imitation::start()
        .await
        .expect("imitation binds");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let repo = root.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let client_py =
        format!("def connect_upstream():\n    token = \"{PLANTED_TOKEN}\"\n    return token\n");
    for (path, text) in [
        (
            "store.py",
            "def erase_record(table, key):\n    \"\"\"Erase a record by key from the table.\"\"\"\n    table.pop(key, None)\n",
        ),
        (
            "cache.py",
            "def cache_size(cache):\n    \"\"\"Number of entries held in the cache.\"\"\"\n    return len(cache)\n",
        ),
        (
            "files.py",
            "def delete_temp_files(directory):\n    \"\"\"Delete temporary files from a directory.\"\"\"\n    pass\n",
        ),
        ("client.py", client_py.as_str()),
    ] {
        std::fs::write(repo.join(path), text).expect("write");
    }
    let data = tempfile::tempdir().expect("tempdir");
    let base = format!("{}/v1", imitation.base_url());
    let client = stdio_client_env(
        "coderag",
        &[
            ("FF_ROOTS", root.to_str().expect("utf8")),
            ("FF_CODERAG_INDEX_DIR", data.path().to_str().expect("utf8")),
            ("FF_CODERAG_WATCH", "0"),
            ("FF_EMBED_MODEL", "openai:text-embedding-3-small"),
            ("OPENAI_BASE_URL", &base),
            ("OPENAI_API_KEY", ffmcp_test_support::imitation::API_KEY),
        ],
    )
    .await;

    let indexed = ok(&client, "index", json!({"path": "repo"})).await;
    assert_eq!(
        (indexed["embedded"].as_u64(), indexed["vectors"].as_u64()),
        (Some(4), Some(4)),
        "{indexed}"
    );
    let embedded = imitation.embedded_inputs();
    assert_eq!(embedded.len(), 4);
    assert!(
        embedded.iter().any(|t| t.contains("erase_record")),
        "{embedded:?}"
    );
    // Credential-like tokens never leave for the provider.
    assert!(
        embedded
            .iter()
            .any(|t| t.contains("connect_upstream") && t.contains("[masked]")),
        "{embedded:?}"
    );
    assert!(
        !embedded.iter().any(|t| t.contains(PLANTED_TOKEN)),
        "{embedded:?}"
    );

    let found = ok(
        &client,
        "search",
        json!({"query": "delete entry from cache", "k": 3}),
    )
    .await;
    assert_eq!(found["mode"], "hybrid", "{found}");
    let target = found["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["symbol"] == "erase_record")
        .unwrap_or_else(|| panic!("the synonym match is found: {found}"));
    assert!(
        target["found_by"]
            .as_array()
            .expect("found_by")
            .contains(&json!("dense")),
        "{target}"
    );
    let queries: Vec<_> = imitation
        .requests()
        .into_iter()
        .filter(|r| r.is_embeddings())
        .collect();
    assert_eq!(
        queries.len(),
        2,
        "one request for the chunks, one for the query"
    );
    assert_eq!(queries[1].embedding_inputs(), ["delete entry from cache"]);

    let lexical = ok(
        &client,
        "search",
        json!({"query": "delete entry from cache", "k": 3, "mode": "bm25"}),
    )
    .await;
    assert_eq!(lexical["mode"], "bm25");
    assert!(
        lexical["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["found_by"] == json!(["bm25"])),
        "{lexical}"
    );

    let status = ok(&client, "status", json!({})).await;
    assert_eq!(status["repos"][0]["vectors"], 4);
    assert_eq!(
        status["repos"][0]["embedding_model"],
        "openai:text-embedding-3-small"
    );
    assert_eq!(
        status["embedding_route"],
        json!({"route": "openai:text-embedding-3-small", "health": "healthy"}),
        "{status}"
    );

    // A second run with nothing changed embeds nothing.
    let again = ok(&client, "index", json!({"path": "repo"})).await;
    assert_eq!(again["embedded"], 0, "{again}");
    assert_eq!(imitation.embedded_inputs().len(), 5);
    client.cancel().await.expect("close");
}

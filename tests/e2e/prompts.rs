//! Prompts and argument completion through the real binary and rmcp's
//! client: every server lists prompts and advertises the capabilities,
//! prompts render their arguments into tool calls, a missing or unknown
//! argument is refused as invalid params naming it, watch and job ids
//! complete from a real store, and file-path completion never offers a
//! path outside FF_ROOTS.

use ffmcp_test_support::{
    http::{FixtureServer, Reply},
    imitation::Imitation,
};
use rmcp::{
    ServiceError,
    model::{
        CompleteRequestParams, CompletionInfo, ErrorCode, GetPromptRequestParams, JsonObject,
        Reference,
    },
};
use serde_json::{Value, json};

use super::support::{Client, HttpProc, call, http_client, stdio_client_env, structured};

const SERVERS: &[(&str, &[&str])] = &[
    ("docparse", &["summarise-document", "extract-tables"]),
    ("seo", &["audit-site-and-rank-fixes", "compare-pages"]),
    ("competitive-intel", &["weekly-competitor-digest"]),
    ("leadgen", &["qualify-leads", "find-contacts"]),
    ("transform", &["summarise-text", "convert-data"]),
    ("coderag", &["find-code", "explain-symbol"]),
];

fn object(value: Value) -> JsonObject {
    value.as_object().cloned().expect("an object")
}

/// The prompt's text (one user message), or the error.
async fn render(client: &Client, name: &str, args: Value) -> Result<String, ServiceError> {
    let result = client
        .get_prompt(GetPromptRequestParams::new(name).with_arguments(object(args)))
        .await?;
    Ok(result
        .messages
        .iter()
        .map(|m| match m.content.as_text() {
            Some(text) => text.text.clone(),
            None => format!("{:?}", m.content),
        })
        .collect())
}

async fn complete(
    client: &Client,
    prompt: &str,
    argument: &str,
    value: &str,
) -> Result<CompletionInfo, ServiceError> {
    client
        .complete_prompt_argument(prompt, argument, value, None)
        .await
}

/// The error is JSON-RPC invalid params and its message names `needle`.
fn invalid_params(result: Result<impl std::fmt::Debug, ServiceError>, needle: &str) {
    match result {
        Err(ServiceError::McpError(e)) => {
            assert_eq!(e.code, ErrorCode::INVALID_PARAMS, "{e:?}");
            assert!(e.message.contains(needle), "{needle:?} not in {e:?}");
        }
        other => panic!("expected invalid params naming {needle:?}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_server_lists_prompts_and_refuses_bad_arguments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    for (server, expected) in SERVERS {
        let client = stdio_client_env(server, &[("FF_DB", db.to_str().expect("utf8"))]).await;
        let info = client.peer_info().expect("server info");
        assert!(info.capabilities.prompts.is_some(), "{server}: prompts");
        assert!(
            info.capabilities.completions.is_some(),
            "{server}: completions"
        );
        let prompts = client.list_all_prompts().await.expect("prompts/list");
        let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(&names, expected, "{server}");
        for prompt in &prompts {
            assert!(prompt.title.is_some() && prompt.description.is_some());
            let required: Vec<&str> = prompt
                .arguments
                .iter()
                .flatten()
                .filter(|a| a.required == Some(true))
                .map(|a| a.name.as_str())
                .collect();
            // Every prompt here has a required argument except the digest.
            if let Some(first) = required.first() {
                invalid_params(render(&client, &prompt.name, json!({})).await, first);
                // Blank counts as missing.
                let blank: serde_json::Map<String, Value> = required
                    .iter()
                    .map(|r| ((*r).to_owned(), json!("  ")))
                    .collect();
                invalid_params(
                    render(&client, &prompt.name, Value::Object(blank)).await,
                    first,
                );
            }
            invalid_params(
                render(&client, &prompt.name, json!({"no_such_arg": "x"})).await,
                "no_such_arg",
            );
            invalid_params(
                complete(&client, &prompt.name, "no_such_arg", "").await,
                "no_such_arg",
            );
        }
        invalid_params(
            render(&client, "no-such-prompt", json!({})).await,
            "no-such-prompt",
        );
        invalid_params(
            complete(&client, "no-such-prompt", "x", "").await,
            "no-such-prompt",
        );
        let resource = CompleteRequestParams::new(
            Reference::for_resource("file:///{path}"),
            rmcp::model::ArgumentInfo::new("path", ""),
        );
        invalid_params(client.complete(resource).await, "file:///{path}");
        client.cancel().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prompts_render_their_arguments_into_tool_calls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let cases: &[(&str, &str, Value, &[&str])] = &[
        (
            "coderag",
            "find-code",
            json!({"repository": "/src/app", "question": "parse the config file", "language": "Rust"}),
            &[
                "`index`",
                r#""path":"/src/app""#,
                r#""query":"parse the config file""#,
                r#""language":["rust"]"#,
            ],
        ),
        (
            "coderag",
            "explain-symbol",
            json!({"repository": "/src/app", "symbol": "load_config"}),
            &["`find_symbol`", "`references`", r#""name":"load_config""#],
        ),
        (
            "docparse",
            "summarise-document",
            json!({"source": "https://docs.example/a.pdf", "focus": "costs"}),
            &[r#""url":"https://docs.example/a.pdf""#, "`parse`", "costs"],
        ),
        (
            "docparse",
            "extract-tables",
            json!({"source": "reports/q3.pdf", "pages": "2-4"}),
            &[
                "`extract_tables`",
                r#""path":"reports/q3.pdf""#,
                r#""pages":"2-4""#,
            ],
        ),
        (
            "seo",
            "audit-site-and-rank-fixes",
            json!({"url": "https://shop.example/", "max_pages": "20"}),
            &[
                r#""start_url":"https://shop.example/""#,
                r#""max_pages":20"#,
                r#""url":"https://shop.example/sitemap.xml""#,
            ],
        ),
        (
            "seo",
            "compare-pages",
            json!({"a": "https://a.example/", "b": "https://b.example/"}),
            &[r#"{"a":{"url":"https://a.example/"},"b":{"url":"https://b.example/"}}"#],
        ),
        (
            "competitive-intel",
            "weekly-competitor-digest",
            json!({"competitor": "Acme \"Corp\"", "days": "14"}),
            &[
                "`summarize_changes`",
                r#""competitor":"Acme \"Corp\"""#,
                "last 14 days",
                r#""since":"20"#,
            ],
        ),
        (
            "leadgen",
            "qualify-leads",
            json!({"categories": "hot, warm,cold", "job_id": "job-42"}),
            &[r#""job_id":"job-42""#, "`job_results`", "hot, warm, cold"],
        ),
        (
            "leadgen",
            "qualify-leads",
            json!({"categories": "hot,cold", "criteria": "budget over 10k"}),
            &[
                "`job_start`",
                r#"[{"name":"hot"},{"name":"cold"}]"#,
                r#""instructions":"budget over 10k""#,
            ],
        ),
        (
            "leadgen",
            "find-contacts",
            json!({"url": "https://globex.example/team"}),
            &[
                r#""url":"https://globex.example/team""#,
                "`extract_leads`",
                "`enrich_leads`",
            ],
        ),
        (
            "transform",
            "summarise-text",
            json!({"text": "Line one.\nLine two.", "length": "short", "format": "bullets"}),
            &[
                r#""text":"Line one.\nLine two.""#,
                r#""length":"short""#,
                r#""format":"bullets""#,
            ],
        ),
        (
            "transform",
            "convert-data",
            json!({"input": "a: 1", "from": "YAML", "to": "json"}),
            &[
                "`convert`",
                r#""from":"yaml""#,
                r#""to":"json""#,
                r#""input":"a: 1""#,
            ],
        ),
    ];
    for (server, prompt, args, expected) in cases {
        let client = stdio_client_env(server, &[("FF_DB", db.to_str().expect("utf8"))]).await;
        let text = render(&client, prompt, args.clone()).await.expect(prompt);
        for needle in *expected {
            assert!(
                text.contains(needle),
                "{server}/{prompt}: {needle} not in:\n{text}"
            );
        }
        client.cancel().await.expect("close");
    }

    // Values outside an argument's domain are refused, naming it.
    let bad: &[(&str, &str, Value, &str)] = &[
        (
            "transform",
            "convert-data",
            json!({"input": "x", "from": "xml", "to": "json"}),
            "from",
        ),
        (
            "transform",
            "summarise-text",
            json!({"text": "x", "length": "huge"}),
            "length",
        ),
        (
            "seo",
            "audit-site-and-rank-fixes",
            json!({"url": "https://a.example/", "max_pages": "-1"}),
            "max_pages",
        ),
        (
            "competitive-intel",
            "weekly-competitor-digest",
            json!({"watch_id": "1 OR 1=1"}),
            "watch_id",
        ),
        (
            "leadgen",
            "qualify-leads",
            json!({"categories": "hot"}),
            "categories",
        ),
        (
            "coderag",
            "find-code",
            json!({"repository": "/src", "question": "x", "language": "cobol"}),
            "language",
        ),
    ];
    for (server, prompt, args, needle) in bad {
        let client = stdio_client_env(server, &[("FF_DB", db.to_str().expect("utf8"))]).await;
        invalid_params(render(&client, prompt, args.clone()).await, needle);
        client.cancel().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn enumerated_arguments_complete_by_prefix() {
    let client = stdio_client_env("transform", &[]).await;
    let all = complete(&client, "convert-data", "to", "")
        .await
        .expect("complete");
    assert_eq!(all.values, ["json", "yaml", "toml", "csv"]);
    assert_eq!(all.has_more, Some(false));
    let t = complete(&client, "convert-data", "from", "t")
        .await
        .expect("complete");
    assert_eq!(t.values, ["toml"]);
    let none = complete(&client, "convert-data", "from", "xml")
        .await
        .expect("complete");
    assert!(none.values.is_empty());
    let coderag = stdio_client_env("coderag", &[]).await;
    let langs = complete(&coderag, "find-code", "language", "c")
        .await
        .expect("complete");
    assert_eq!(langs.values, ["c", "cpp"]);
    coderag.cancel().await.expect("close");
    let free = complete(&client, "summarise-text", "text", "any")
        .await
        .expect("complete");
    assert!(free.values.is_empty());
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_ids_and_competitors_complete_from_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("intel.db");
    let site = FixtureServer::start().await;
    for path in ["/a.xml", "/b.xml"] {
        site.route_fn(path, |_| {
            Reply::ok(
                "application/rss+xml",
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Acme</title>\
                 <link>https://acme.example/</link><description>d</description>\
                 <item><guid>a</guid><title>Alpha</title><link>https://acme.example/a</link>\
                 </item></channel></rss>",
            )
        });
    }
    let env = [
        ("FF_DB", db.display().to_string()),
        ("FF_ALLOW_HOSTS", "127.0.0.1".to_owned()),
        ("FF_INTEL_MIN_INTERVAL_SECS", "1".to_owned()),
        ("FF_INTEL_HOST_SPACING_MS", "0".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let client = stdio_client_env("competitive-intel", &env).await;

    let before = complete(&client, "weekly-competitor-digest", "watch_id", "")
        .await
        .expect("complete");
    assert!(before.values.is_empty());
    assert!(!db.exists(), "completion did not create the database");

    let mut ids = Vec::new();
    for (path, competitor) in [("/a.xml", "Acme"), ("/b.xml", "Beta Corp")] {
        let added = structured(
            &call(
                &client,
                "watch_add",
                json!({"url": site.url(path), "interval_secs": 3600, "competitor": competitor}),
            )
            .await,
        );
        ids.push(added["watch"]["id"].as_i64().expect("id").to_string());
    }
    let all = complete(&client, "weekly-competitor-digest", "watch_id", "")
        .await
        .expect("complete");
    assert_eq!(all.values, ids);
    let one = complete(&client, "weekly-competitor-digest", "watch_id", &ids[1])
        .await
        .expect("complete");
    assert_eq!(one.values, [ids[1].clone()]);
    let names = complete(&client, "weekly-competitor-digest", "competitor", "B")
        .await
        .expect("complete");
    assert_eq!(names.values, ["Beta Corp"]);
    let both = complete(&client, "weekly-competitor-digest", "competitor", "")
        .await
        .expect("complete");
    assert_eq!(both.values, ["Acme", "Beta Corp"]);
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn job_ids_complete_from_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ffmcp.db");
    let imitation = Imitation::start().await.expect("imitation");
    imitation.respond("claude-sonnet-4-5", |_| {
        json!({"label": "hot", "confidence": 0.9, "rationale": "r"}).to_string()
    });
    let mut env: Vec<(String, String)> = imitation
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    env.push((
        "FF_LLM_PRIMARY".into(),
        "anthropic:claude-sonnet-4-5".into(),
    ));
    env.push(("FF_LLM_FALLBACKS".into(), String::new()));
    env.push(("FF_DB".into(), db.display().to_string()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let client = stdio_client_env("leadgen", &pairs).await;

    let mut ids = Vec::new();
    for i in 0..2 {
        let started = structured(
            &call(
                &client,
                "job_start",
                json!({
                    "leads": [{"name": format!("Person {i}"), "company": "Globex"}],
                    "categories": [{"name": "hot"}, {"name": "cold"}]
                }),
            )
            .await,
        );
        ids.push(started["id"].as_str().expect("job id").to_owned());
    }
    let all = complete(&client, "qualify-leads", "job_id", "")
        .await
        .expect("complete");
    for id in &ids {
        assert!(all.values.contains(id), "{id} in {:?}", all.values);
    }
    let prefix: String = ids[0].chars().take(ids[0].len() - 1).collect();
    let some = complete(&client, "qualify-leads", "job_id", &prefix)
        .await
        .expect("complete");
    assert!(some.values.contains(&ids[0]) && some.values.iter().all(|v| v.starts_with(&prefix)));
    // LIKE wildcards are literal.
    let wild = complete(&client, "qualify-leads", "job_id", "%")
        .await
        .expect("complete");
    assert!(wild.values.is_empty(), "{:?}", wild.values);
    let schemes = complete(&client, "qualify-leads", "categories", "hot")
        .await
        .expect("complete");
    assert_eq!(schemes.values, ["hot,warm,cold"]);
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn path_completion_never_leaves_the_roots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().canonicalize().expect("canonical");
    let root = base.join("root");
    let outside = base.join("outside");
    std::fs::create_dir_all(root.join("docs")).expect("mkdir");
    std::fs::create_dir(&outside).expect("mkdir");
    std::fs::write(outside.join("secret.txt"), "s").expect("write");
    std::fs::write(root.join("docs/report.txt"), "r").expect("write");
    std::os::unix::fs::symlink(&outside, root.join("docs/escape")).expect("symlink");
    std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("docs/link.txt"))
        .expect("symlink");
    for i in 0..150 {
        std::fs::write(root.join(format!("f{i:03}.txt")), "x").expect("write");
    }
    let shown = format!("{}/", root.display());
    let client = stdio_client_env("docparse", &[("FF_ROOTS", root.to_str().expect("utf8"))]).await;
    let source = |value: String| {
        let client = &client;
        async move {
            complete(client, "summarise-document", "source", &value)
                .await
                .expect("complete")
        }
    };

    let docs = source(format!("{shown}docs/")).await;
    assert_eq!(docs.values, [format!("{shown}docs/report.txt")]);
    assert_eq!(
        source("docs/r".to_owned()).await.values,
        ["docs/report.txt"]
    );
    assert_eq!(
        source("/".to_owned()).await.values,
        std::slice::from_ref(&shown)
    );

    let many = source(format!("{shown}f")).await;
    assert_eq!(many.values.len(), 100);
    assert_eq!(many.has_more, Some(true));

    let outside_text = outside.display().to_string();
    for hostile in [
        "../".to_owned(),
        "../outside/".to_owned(),
        "docs/../../".to_owned(),
        "/etc".to_owned(),
        "/etc/".to_owned(),
        "/etc/pas".to_owned(),
        format!("{shown}../"),
        format!("{shown}../outside/"),
        format!("{shown}docs/escape/"),
        format!("{outside_text}/"),
        format!("{shown}\0"),
    ] {
        let got = source(hostile.clone()).await;
        assert!(
            got.values.is_empty(),
            "{hostile:?} offered {:?}",
            got.values
        );
    }
    for value in source(String::new()).await.values {
        assert!(
            !value.starts_with('/') || value.starts_with(&shown),
            "{value}"
        );
    }
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn prompts_and_completion_over_http_stateful_and_stateless() {
    for flags in [&[][..], &["--stateless"][..]] {
        let mut args = vec!["transform", "--http", "127.0.0.1:0"];
        args.extend_from_slice(flags);
        let server = HttpProc::spawn(super::support::bin(), &args, &[]);
        let client = http_client(&format!("{}/mcp", server.base), None).await;
        let prompts = client.list_all_prompts().await.expect("prompts/list");
        assert_eq!(prompts.len(), 2, "{flags:?}");
        let text = render(
            &client,
            "convert-data",
            json!({"input": "a,b\n1,2", "from": "csv", "to": "yaml"}),
        )
        .await
        .expect("prompts/get");
        assert!(text.contains(r#""to":"yaml""#), "{text}");
        invalid_params(
            render(&client, "convert-data", json!({"input": "x"})).await,
            "from",
        );
        let formats = complete(&client, "convert-data", "to", "j")
            .await
            .expect("complete");
        assert_eq!(formats.values, ["json"], "{flags:?}");
        client.cancel().await.expect("close");
    }
}

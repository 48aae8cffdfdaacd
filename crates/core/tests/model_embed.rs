//! Embeddings through the router against the imitation: each wire shape,
//! batching, retries and refusals, the typed error without a route, and
//! the base-URL rule for a per-call route.

use std::time::Duration;

use ffmcp_core::model::{
    Call, EmbedPurpose, MAX_EMBED_BATCH, ModelError, RouteHealth, Router, RouterConfig,
    parse_routes,
};
use ffmcp_test_support::imitation::{Fault, Imitation, Wire, vector_of};
use serde_json::json;

use super::{imitation, route};

/// A router whose only route is the embedding route `spec`, with short windows.
fn embedder(imitation: &Imitation, spec: &str) -> Router {
    let mut config = RouterConfig::new(Vec::new(), imitation.settings());
    config.embed = Some(route(spec));
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(20);
    Router::new(config)
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn openai_embeddings_shape_usage_and_cost() {
    let imitation = imitation().await;
    let router = embedder(&imitation, "openai:text-embedding-3-small");
    let inputs = texts(&["remove an entry from the cache", "parse a header line"]);
    let done = router
        .embed(&inputs, EmbedPurpose::Document, &Call::new("t"))
        .await
        .expect("vectors");
    assert_eq!(
        done.vectors,
        vec![vector_of(&inputs[0]), vector_of(&inputs[1])]
    );
    assert_eq!(done.route.to_string(), "openai:text-embedding-3-small");
    assert_eq!((done.requests, done.attempts), (1, 1));
    assert!(done.usage.input_tokens > 0, "{:?}", done.usage);
    assert!(
        done.cost_usd.is_some_and(|c| c > 0.0),
        "{:?}",
        done.cost_usd
    );
    let sent = imitation.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].wire, Wire::OpenAi);
    assert_eq!(sent[0].path, "/v1/embeddings");
    assert_eq!(
        sent[0].header("authorization"),
        Some("Bearer imitation-key")
    );
    assert_eq!(
        sent[0].body,
        json!({"model": "text-embedding-3-small", "input": inputs, "encoding_format": "float"})
    );
    let stats = router.stats();
    let tool = &stats.tools["t"];
    assert_eq!((tool.calls, tool.failures), (1, 0));
    assert_eq!(tool.input_tokens, done.usage.input_tokens);
}

#[tokio::test]
async fn gemini_batch_embed_contents_shape_and_purpose() {
    let imitation = imitation().await;
    let router = embedder(&imitation, "gemini:gemini-embedding-001");
    let inputs = texts(&["delete a record"]);
    let done = router
        .embed(&inputs, EmbedPurpose::Document, &Call::new("t"))
        .await
        .expect("vectors");
    assert_eq!(done.vectors, vec![vector_of("delete a record")]);
    router
        .embed(&texts(&["erase"]), EmbedPurpose::Query, &Call::new("t"))
        .await
        .expect("vectors");
    let sent = imitation.requests();
    assert_eq!(
        sent[0].path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    assert_eq!(sent[0].header("x-goog-api-key"), Some("imitation-key"));
    assert_eq!(
        sent[0].body,
        json!({"requests": [{
            "model": "models/gemini-embedding-001",
            "content": {"parts": [{"text": "delete a record"}]},
            "taskType": "RETRIEVAL_DOCUMENT",
        }]})
    );
    assert_eq!(sent[1].body["requests"][0]["taskType"], "RETRIEVAL_QUERY");
}

#[tokio::test]
async fn openai_compatible_servers_are_reached_at_their_base_url_without_a_key() {
    let imitation = imitation().await;
    let spec = format!(
        "openai-compat:{}#nomic-embed-text",
        imitation.compat_base_url()
    );
    let router = embedder(&imitation, &spec);
    let done = router
        .embed(
            &texts(&["start the server"]),
            EmbedPurpose::Document,
            &Call::new("t"),
        )
        .await
        .expect("vectors");
    assert_eq!(done.vectors[0], vector_of("start the server"));
    let sent = imitation.requests();
    assert_eq!(sent[0].path, "/compat/v1/embeddings");
    assert_eq!(sent[0].header("authorization"), None);
}

#[tokio::test]
async fn inputs_go_in_bounded_batches_in_order() {
    let imitation = imitation().await;
    let router = embedder(&imitation, "gemini:gemini-embedding-001");
    let inputs: Vec<String> = (0..200).map(|i| format!("item number {i}")).collect();
    let long = "word ".repeat(5000);
    let mut with_long = inputs.clone();
    with_long.push(long.clone());
    let done = router
        .embed(&with_long, EmbedPurpose::Document, &Call::new("t"))
        .await
        .expect("vectors");
    assert_eq!(done.vectors.len(), 201);
    assert_eq!(done.vectors[150], vector_of("item number 150"));
    assert_eq!(done.requests, 3);
    let sizes: Vec<usize> = imitation
        .requests()
        .iter()
        .map(|r| r.embedding_inputs().len())
        .collect();
    assert_eq!(
        sizes,
        [MAX_EMBED_BATCH, MAX_EMBED_BATCH, 201 - 2 * MAX_EMBED_BATCH]
    );
    let sent_long = imitation.embedded_inputs().pop().expect("last input");
    assert!(sent_long.len() < long.len(), "long inputs are cut");
}

#[tokio::test]
async fn transient_failures_are_retried_and_refusals_stop() {
    let imitation = imitation().await;
    let router = embedder(&imitation, "openai:text-embedding-3-small");
    imitation.fault_times("text-embedding-3-small", Fault::Status(503), 1);
    let done = router
        .embed(&texts(&["a b c"]), EmbedPurpose::Document, &Call::new("t"))
        .await
        .expect("retried");
    assert_eq!(done.attempts, 2);

    imitation.fault_times("text-embedding-3-small", Fault::Status(400), 1);
    let err = router
        .embed(&texts(&["a b c"]), EmbedPurpose::Document, &Call::new("t"))
        .await
        .expect_err("refused");
    assert!(matches!(err, ModelError::Rejected { .. }), "{err:?}");

    let err = router
        .embed(&texts(&["a", " "]), EmbedPurpose::Document, &Call::new("t"))
        .await
        .expect_err("empty input");
    assert!(matches!(err, ModelError::InvalidInput(_)), "{err:?}");
}

#[tokio::test]
async fn without_a_route_the_error_names_the_setting() {
    let imitation = imitation().await;
    let router = Router::new(RouterConfig::new(
        parse_routes("openai:gpt-4o").expect("routes"),
        imitation.settings(),
    ));
    let err = router
        .embed(&texts(&["x"]), EmbedPurpose::Query, &Call::new("t"))
        .await
        .expect_err("no route");
    assert!(
        matches!(err, ModelError::NoEmbeddingRoute { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("FF_EMBED_MODEL"), "{err}");
    assert!(
        imitation.requests().is_empty(),
        "no chat route is used instead"
    );

    // A route without an embeddings API is a configuration problem, named.
    let (config, problems) = RouterConfig::from_lookup(&|name| {
        (name == "FF_EMBED_MODEL").then(|| "anthropic:claude-sonnet-4-5".to_owned())
    });
    assert!(config.embed.is_none());
    let router = Router::with_problems(config, problems);
    let err = router
        .embed(&texts(&["x"]), EmbedPurpose::Query, &Call::new("t"))
        .await
        .expect_err("no route");
    let text = err.to_string();
    assert!(
        text.contains("FF_EMBED_MODEL: anthropic has no embeddings API"),
        "{text}"
    );

    let (config, problems) = RouterConfig::from_lookup(&|name| {
        (name == "FF_EMBED_MODEL").then(|| "gemini:gemini-embedding-001".to_owned())
    });
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(
        config.embed.map(|r| r.to_string()).as_deref(),
        Some("gemini:gemini-embedding-001")
    );
}

#[tokio::test]
async fn a_per_call_route_cannot_choose_where_to_connect() {
    let imitation = imitation().await;
    let spec = format!(
        "openai-compat:{}#nomic-embed-text",
        imitation.compat_base_url()
    );
    let router = embedder(&imitation, &spec);
    let elsewhere = Call::new("t")
        .with_model_arg(Some("openai-compat:http://127.0.0.1:9/v1#nomic-embed-text"))
        .expect("parses");
    let err = router
        .embed(&texts(&["x"]), EmbedPurpose::Query, &elsewhere)
        .await
        .expect_err("unconfigured base URL");
    assert!(err.to_string().contains("not configured"), "{err}");
    assert!(imitation.requests().is_empty(), "nothing was sent");

    // Another model on the configured server is fine.
    let other = Call::new("t")
        .with_model_arg(Some("openai-compat:mxbai-embed-large"))
        .expect("parses");
    let done = router
        .embed(&texts(&["x y"]), EmbedPurpose::Query, &other)
        .await
        .expect("vectors");
    assert_eq!(done.route.model, "mxbai-embed-large");
    assert_eq!(imitation.requests()[0].path, "/compat/v1/embeddings");

    // A chat-only provider is refused as an embedding route.
    let chat = Call::new("t")
        .with_model_arg(Some("anthropic:claude-sonnet-4-5"))
        .expect("parses");
    let err = router
        .embed(&texts(&["x"]), EmbedPurpose::Query, &chat)
        .await
        .expect_err("no embeddings API");
    assert!(err.to_string().contains("no embeddings API"), "{err}");
}

#[tokio::test]
async fn the_embedding_route_is_listed_with_its_health() {
    let imitation = imitation().await;
    let chat_only = Router::new(RouterConfig::new(
        parse_routes("openai:gpt-4o").expect("routes"),
        imitation.settings(),
    ));
    assert!(chat_only.embed_status().is_none());

    let router = embedder(&imitation, "openai:text-embedding-3-small");
    let status = router.embed_status().expect("an embedding route");
    assert_eq!(
        (status.route.as_str(), status.provider, status.health),
        (
            "openai:text-embedding-3-small",
            "openai",
            RouteHealth::Healthy
        )
    );
    assert!(status.setup_missing.is_none(), "{status:?}");
    assert!(router.status().is_empty(), "not a chat route");

    // Configured, but its key is missing.
    let (config, _) = RouterConfig::from_lookup(&|name| {
        (name == "FF_EMBED_MODEL").then(|| "gemini:gemini-embedding-001".to_owned())
    });
    let status = Router::new(config).embed_status().expect("a route");
    assert_eq!(status.health, RouteHealth::Unconfigured);
    assert!(status.setup_missing.is_some(), "{status:?}");
}

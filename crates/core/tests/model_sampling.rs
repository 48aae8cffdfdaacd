//! MCP sampling as a route: the server asks the connected client's own
//! model through `sampling/createMessage`, over a real rmcp session.
#![allow(deprecated)] // sampling is deprecated by SEP-2577; clients still ship it

use std::sync::{Arc, Mutex};

use ffmcp_core::model::{Call, ModelError, Request, Router, RouterConfig, parse_routes};
use rmcp::{
    ClientHandler, ErrorData, Peer, RoleClient, RoleServer, ServerHandler, ServiceExt,
    model::{
        ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult,
        Implementation, SamplingMessage, ServerCapabilities, ServerConfig,
    },
    service::{RequestContext, RunningService},
};
use serde_json::json;

use super::imitation;

/// A server with nothing on it: the test only needs its peer handle.
#[derive(Clone)]
struct Bare;

impl ServerHandler for Bare {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().build())
    }
}

/// A client that answers sampling requests and remembers what it was asked.
#[derive(Clone, Default)]
struct Sampler {
    seen: Arc<Mutex<Vec<CreateMessageRequestParams>>>,
    advertise: bool,
}

impl ClientHandler for Sampler {
    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let last = params
            .messages
            .last()
            .and_then(|m| m.content.clone().into_vec().into_iter().next())
            .and_then(|c| c.as_text().map(|t| t.text.clone()))
            .unwrap_or_default();
        let reply = if params
            .system_prompt
            .as_deref()
            .is_some_and(|s| s.contains("JSON Schema"))
        {
            json!({"label": "billing"}).to_string()
        } else {
            format!("sampled: {last}")
        };
        self.seen.lock().expect("lock").push(params);
        Ok(CreateMessageResult::new(
            SamplingMessage::assistant_text(reply),
            "client-model-1".into(),
        ))
    }

    fn get_info(&self) -> ClientConfig {
        let capabilities = if self.advertise {
            ClientCapabilities::builder().enable_sampling().build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(capabilities, Implementation::new("sampling-test", "0"))
    }
}

/// A connected session; returns the server's peer (what a tool call gets)
/// and keeps both ends alive.
async fn session(
    client: Sampler,
) -> (
    Peer<RoleServer>,
    RunningService<RoleServer, Bare>,
    RunningService<RoleClient, Sampler>,
) {
    let (server_end, client_end) = tokio::net::UnixStream::pair().expect("socket pair");
    let server =
        tokio::spawn(async move { Bare.serve(server_end).await.expect("server handshake") });
    let client = client.serve(client_end).await.expect("client handshake");
    let server = server.await.expect("join");
    (server.peer().clone(), server, client)
}

#[tokio::test(flavor = "multi_thread")]
async fn sampling_route_asks_the_clients_model() {
    let sampler = Sampler {
        advertise: true,
        ..Sampler::default()
    };
    let (peer, _server, _client) = session(sampler.clone()).await;
    let router = Router::new(RouterConfig::new(
        parse_routes("sampling:claude").expect("routes"),
        Default::default(),
    ));
    let request = Request::new("summarise this")
        .with_system("Be brief.")
        .with_max_tokens(99);
    let answer = router
        .complete(
            &request,
            &Call::new("summarize").with_sampler(ffmcp_core::sampling::client(peer.clone())),
        )
        .await
        .expect("sampled");
    assert_eq!(answer.text, "sampled: summarise this");
    assert_eq!(answer.model, "client-model-1");
    assert_eq!(answer.route.to_string(), "sampling:claude");
    let seen = sampler.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].max_tokens, 99);
    assert_eq!(seen[0].system_prompt.as_deref(), Some("Be brief."));
    let hints = seen[0]
        .model_preferences
        .as_ref()
        .and_then(|p| p.hints.clone())
        .expect("hints");
    assert_eq!(hints[0].name.as_deref(), Some("claude"));

    // Structured output through sampling: the schema travels in the system prompt.
    let schema = json!({"type": "object", "properties": {"label": {"enum": ["billing", "other"]}}, "required": ["label"]});
    let answer = router
        .complete_json(
            &Request::new("refund please"),
            &schema,
            &Call::new("classify").with_sampler(ffmcp_core::sampling::client(peer)),
        )
        .await
        .expect("structured");
    assert_eq!(answer.value, json!({"label": "billing"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_route_configured_a_sampling_client_is_used() {
    let sampler = Sampler {
        advertise: true,
        ..Sampler::default()
    };
    let (peer, _server, _client) = session(sampler).await;
    let router = Router::new(RouterConfig::new(Vec::new(), Default::default()));
    let answer = router
        .complete(
            &Request::new("hi"),
            &Call::new("t").with_sampler(ffmcp_core::sampling::client(peer)),
        )
        .await
        .expect("implicit sampling");
    assert_eq!(answer.route.to_string(), "sampling");
    assert_eq!(answer.text, "sampled: hi");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_without_sampling_is_passed_over() {
    let (peer, _server, _client) = session(Sampler::default()).await;
    let imitation = imitation().await;

    // Only sampling configured: a clear error, nothing to fall back to.
    let router = Router::new(RouterConfig::new(
        parse_routes("sampling").expect("routes"),
        imitation.settings(),
    ));
    let err = router
        .complete(
            &Request::new("hi"),
            &Call::new("t").with_sampler(ffmcp_core::sampling::client(peer.clone())),
        )
        .await
        .expect_err("no sampling");
    assert!(matches!(err, ModelError::AllFailed { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("does not advertise the sampling capability"),
        "{err}"
    );

    // With a fallback: the fallback answers, and the sampling route is not
    // held against (no breaker count for a client that simply cannot sample).
    let router = Router::new(RouterConfig::new(
        parse_routes("sampling,openai:gpt-4o").expect("routes"),
        imitation.settings(),
    ));
    for _ in 0..4 {
        let answer = router
            .complete(
                &Request::new("hi"),
                &Call::new("t").with_sampler(ffmcp_core::sampling::client(peer.clone())),
            )
            .await
            .expect("fallback");
        assert_eq!(answer.route.to_string(), "openai:gpt-4o");
    }
    assert_eq!(router.status()[0].consecutive_failures, 0);

    // No route and no sampling: the not-configured message.
    let router = Router::new(RouterConfig::new(Vec::new(), imitation.settings()));
    let err = router
        .complete(
            &Request::new("hi"),
            &Call::new("t").with_sampler(ffmcp_core::sampling::client(peer)),
        )
        .await
        .expect_err("unconfigured");
    assert!(matches!(err, ModelError::NotConfigured { .. }), "{err:?}");
}

//! core::model against the in-process provider imitation: each wire format,
//! the router's retry / fallback / breaker policy, structured output,
//! accounting, embeddings, and MCP sampling through a real rmcp client.

#[path = "model_aws.rs"]
mod aws;
#[path = "model_embed.rs"]
mod embed;
#[path = "model_providers.rs"]
mod providers;
#[path = "model_router.rs"]
mod router;
#[path = "model_sampling.rs"]
mod sampling;

use std::time::Duration;

use ffmcp_core::model::{Route, Router, RouterConfig, parse_routes};
use ffmcp_test_support::imitation::Imitation;

/// An imitation on a free port.
async fn imitation() -> Imitation {
    Imitation::start().await.expect("imitation binds 127.0.0.1")
}

fn route(spec: &str) -> Route {
    spec.parse().expect("valid route")
}

/// A router over `routes` against the imitation, with default policy.
fn router_default(imitation: &Imitation, routes: &str) -> Router {
    Router::new(RouterConfig::new(
        parse_routes(routes).expect("valid routes"),
        imitation.settings(),
    ))
}

/// A router with short windows, so outages play out in milliseconds.
fn router_fast(
    imitation: &Imitation,
    routes: &str,
    tweak: impl FnOnce(&mut RouterConfig),
) -> Router {
    let mut config = RouterConfig::new(
        parse_routes(routes).expect("valid routes"),
        imitation.settings(),
    );
    config.attempt_timeout = Duration::from_millis(500);
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(20);
    config.retry_after_cap = Duration::from_secs(1);
    config.cooldown = Duration::from_millis(300);
    tweak(&mut config);
    Router::new(config)
}

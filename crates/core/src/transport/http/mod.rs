//! Streamable HTTP transport: rmcp's `StreamableHttpService` behind ffmcp's
//! guards and limits, on hyper.
//!
//! Guards (module `guard`), in order, on every route but `GET /healthz`:
//! 1. `Host` must name this server (loopback names, the bound address, or a
//!    name given with `--allow-host`): stops DNS rebinding.
//! 2. `Origin`, when present, must be a loopback origin or one given with
//!    `--allow-origin`: a foreign web page gets 403.
//! 3. `Authorization: Bearer <token>` when a token is configured (compared in
//!    constant time). A non-loopback bind without a token refuses to start
//!    unless `--insecure-no-auth` is given.
//!
//! These checks live here rather than in rmcp's own host/origin options so
//! that they cover every route and answer with messages that say how to fix
//! the request.
//!
//! Limits, so that no client can exhaust the server:
//! * connections (module `connections`): a cap on open connections and a
//!   header-read / keep-alive idle timeout, in a hand-written accept loop
//!   (axum's `serve` cannot set either; the module says why);
//! * requests (module `admission`): a declared body over the cap is answered 413
//!   before it is read, a body must arrive within a time limit, and a body
//!   that is not one JSON-RPC message gets 400 with a JSON-RPC error;
//! * sessions ([`sessions`]): a cap on live sessions shared by all endpoints
//!   (`initialize` above it gets 503) and idle expiry that ends a session and
//!   frees its memory.

mod admission;
mod connections;
mod guard;
pub mod sessions;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, middleware, routing::get};
use rmcp::{
    ServerHandler,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager,
    },
};
use tokio_util::sync::CancellationToken;

use self::{
    admission::Admission,
    guard::{Guard, guard},
    sessions::CappedSessions,
};
pub use self::{
    connections::{DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS},
    sessions::{DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_TIMEOUT, SessionBudget},
};
use super::ServeError;

/// Default cap on one HTTP request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Default time a request body has to arrive once its head has.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a graceful shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Everything the HTTP transport needs to know.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The address to listen on.
    pub bind: SocketAddr,
    /// Bearer token clients must present; `None` means no auth.
    pub token: Option<String>,
    /// Allow a non-loopback bind without a token.
    pub insecure_no_auth: bool,
    /// Extra allowed `Origin`s, e.g. `https://app.example.com`.
    pub allowed_origins: Vec<String>,
    /// Extra allowed `Host` names, e.g. `mcp.example.com`.
    pub allowed_hosts: Vec<String>,
    /// No sessions: every request stands alone (for load balancers).
    pub stateless: bool,
    /// Cap on one request body in bytes (413 beyond it).
    pub max_body_bytes: usize,
    /// Time a request body has to arrive once its head has (408 after).
    pub body_timeout: Duration,
    /// Open connections at most; at the cap the longest-idle one is closed.
    pub max_connections: usize,
    /// Time to deliver a complete request head, from connecting or from the
    /// end of the previous response (so also the keep-alive idle timeout).
    pub header_timeout: Duration,
    /// Live MCP sessions of the whole process, at most.
    pub max_sessions: usize,
    /// A session without traffic for this long is ended and its memory freed.
    pub session_idle_timeout: Duration,
    /// Cancelled when the server shuts down; ends open sessions and streams.
    pub shutdown: CancellationToken,
    /// A shared store (PostgreSQL) `/healthz` asks: 503 while it does not
    /// answer, so a load balancer stops sending work to this replica.
    pub health_store: Option<crate::store::Store>,
    /// The live-session count shared by every endpoint built from these
    /// options (made on first use, with `max_sessions`).
    budget: Arc<std::sync::OnceLock<Arc<SessionBudget>>>,
}

impl HttpOptions {
    /// Options for `bind` with every limit at its default and no auth.
    pub fn new(bind: SocketAddr) -> Self {
        Self {
            bind,
            token: None,
            insecure_no_auth: false,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            stateless: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_sessions: DEFAULT_MAX_SESSIONS,
            session_idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
            shutdown: CancellationToken::new(),
            health_store: None,
            budget: Arc::default(),
        }
    }

    /// The session budget every endpoint of this server shares.
    pub fn session_budget(&self) -> Arc<SessionBudget> {
        self.budget
            .get_or_init(|| Arc::new(SessionBudget::new(self.max_sessions)))
            .clone()
    }

    /// Refuses configurations that would expose an unauthenticated server.
    pub fn validate(&self) -> Result<(), ServeError> {
        if let Some(token) = &self.token
            && token.trim().len() < 16
        {
            return Err(ServeError::Config(
                "the bearer token is shorter than 16 characters; use a long random token \
                 (e.g. `openssl rand -hex 32`)"
                    .into(),
            ));
        }
        if !self.bind.ip().is_loopback() && self.token.is_none() && !self.insecure_no_auth {
            return Err(ServeError::Config(format!(
                "refusing to serve on non-loopback address {} without authentication: set \
                 FF_HTTP_TOKEN or --token-file, or pass --insecure-no-auth if something in \
                 front of ffmcp already authenticates",
                self.bind
            )));
        }
        Ok(())
    }
}

/// The MCP endpoint for one server, built by `make` per session.
pub fn mcp_service<S, F>(make: F, options: &HttpOptions) -> Router
where
    S: ServerHandler + Send + Sync + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    // Host/Origin are checked by `guard` for every route; rmcp's own checks
    // are switched off so there is one policy with one set of messages.
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_cancellation_token(options.shutdown.child_token());
    let factory = move || Ok(make());
    let mut admission = Admission {
        max_body_bytes: options.max_body_bytes,
        body_timeout: options.body_timeout,
        sessions: None,
    };
    let router = if options.stateless {
        let config = config
            .with_legacy_session_mode(false)
            .with_json_response(true);
        let service =
            StreamableHttpService::new(factory, Arc::new(NeverSessionManager::default()), config);
        Router::new().fallback_service(service)
    } else {
        let budget = options.session_budget();
        let sessions = CappedSessions::new(budget.clone(), options.session_idle_timeout);
        admission.sessions = Some(budget);
        // rmcp serves a 2026-07-28 request without a session even here; a
        // reply that is one message goes back as JSON, as in stateless mode.
        let config = config.with_json_response(true);
        let service = StreamableHttpService::new(factory, Arc::new(sessions), config);
        Router::new().fallback_service(service)
    };
    router.layer(middleware::from_fn_with_state(
        Arc::new(admission),
        admission::admit,
    ))
}

/// `GET /healthz`: `ok`, and with a shared store whether it answers (one
/// `SELECT 1`, at most 3 s). Unauthenticated, so the reason for a failure
/// goes to the log, not the reply.
async fn health(
    axum::extract::State(store): axum::extract::State<Option<crate::store::Store>>,
) -> (axum::http::StatusCode, &'static str) {
    let Some(store) = store else {
        return (axum::http::StatusCode::OK, "ok\n");
    };
    match tokio::time::timeout(Duration::from_secs(3), store.ping()).await {
        Ok(Ok(())) => (axum::http::StatusCode::OK, "ok\nstore: reachable\n"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: the store does not answer");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "store: unreachable\n",
            )
        }
        Err(_) => {
            tracing::warn!("health check: the store did not answer within 3 s");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "store: unreachable\n",
            )
        }
    }
}

/// Mounts `endpoints` (path, router; `/` gets every path the others do
/// not) behind the guards, adds `/healthz`,
/// binds, and serves until SIGINT/SIGTERM, then drains in-flight requests.
///
/// `on_ready` is called with the bound address once the socket listens.
pub async fn serve(
    endpoints: Vec<(String, Router)>,
    options: HttpOptions,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    options.validate()?;
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|err| ServeError::Config(format!("could not bind {}: {err}", options.bind)))?;
    let local = listener.local_addr()?;
    let guard_state = Arc::new(Guard::new(&options, local));
    let mut app = Router::new();
    for (path, endpoint) in endpoints {
        // `/` (the operator page of `ffmcp serve`) takes what no other
        // endpoint does; axum cannot nest at the root.
        app = if path == "/" {
            app.fallback_service(endpoint)
        } else {
            app.nest_service(&path, endpoint)
        };
    }
    let app = app
        .layer(middleware::from_fn_with_state(guard_state, guard))
        .route(
            "/healthz",
            get(health).with_state(options.health_store.clone()),
        );
    let signal = super::shutdown_signal();
    on_ready(local);

    let shutdown = options.shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = signal => shutdown.cancel(),
            () = shutdown.cancelled() => {}
        }
    });
    let stop = options.shutdown.clone();
    let stopping = stop.clone();
    let server = connections::serve(
        listener,
        app,
        options.max_connections,
        options.header_timeout,
        stop,
    );
    tokio::select! {
        () = server => {}
        () = async {
            stopping.cancelled().await;
            tracing::info!("shutting down; finishing in-flight requests");
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("in-flight requests did not finish within {SHUTDOWN_GRACE:?}; exiting"),
    }
    Ok(())
}

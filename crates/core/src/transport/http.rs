//! Streamable HTTP transport: rmcp's `StreamableHttpService` behind ffmcp's
//! guards, on axum.
//!
//! Guards, in order, on every route but `GET /healthz`:
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
//! the request. Body size is capped by rmcp (`413`).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderMap, StatusCode, Uri, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    serve::ListenerExt,
};
use rmcp::{
    ServerHandler,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService,
        session::{local::LocalSessionManager, never::NeverSessionManager},
    },
};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use super::ServeError;

/// Default cap on one HTTP request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How long a graceful shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Everything the HTTP transport needs to know.
#[derive(Debug, Clone)]
pub struct HttpOptions {
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
    pub max_body_bytes: usize,
    /// Cancelled when the server shuts down; ends open sessions and streams.
    pub shutdown: CancellationToken,
}

impl HttpOptions {
    pub fn new(bind: SocketAddr) -> Self {
        Self {
            bind,
            token: None,
            insecure_no_auth: false,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            stateless: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            shutdown: CancellationToken::new(),
        }
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
    if options.stateless {
        let config = config
            .with_legacy_session_mode(false)
            .with_json_response(true);
        let service =
            StreamableHttpService::new(factory, Arc::new(NeverSessionManager::default()), config);
        Router::new().fallback_service(service)
    } else {
        let service =
            StreamableHttpService::new(factory, Arc::new(LocalSessionManager::default()), config);
        Router::new().fallback_service(service)
    }
}

/// Mounts `endpoints` (path, router) behind the guards, adds `/healthz`,
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
        app = app.nest_service(&path, endpoint);
    }
    let app = app
        .layer(middleware::from_fn_with_state(guard_state, guard))
        .route("/healthz", get(|| async { "ok\n" }));
    let signal = super::shutdown_signal();
    on_ready(local);

    let shutdown = options.shutdown.clone();
    // Responses are small JSON/SSE writes: without TCP_NODELAY, Nagle plus
    // delayed ACKs add ~40 ms to every round-trip.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, "could not set TCP_NODELAY");
        }
    });
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        tokio::select! {
            () = signal => {}
            () = shutdown.cancelled() => {}
        }
        tracing::info!("shutting down; finishing in-flight requests");
        shutdown.cancel();
    });
    let drained = options.shutdown.clone();
    tokio::select! {
        served = server => served?,
        () = async {
            drained.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("in-flight requests did not finish within {SHUTDOWN_GRACE:?}; exiting"),
    }
    Ok(())
}

/// The request policy, fixed at start.
#[derive(Debug)]
struct Guard {
    hosts: Vec<String>,
    origins: Vec<String>,
    token: Option<Vec<u8>>,
}

impl Guard {
    fn new(options: &HttpOptions, local: SocketAddr) -> Self {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(String::from)
            .collect();
        if !local.ip().is_unspecified() {
            hosts.push(local.ip().to_string());
        }
        hosts.extend(options.allowed_hosts.iter().map(|h| host_name(h)));
        let origins = options
            .allowed_origins
            .iter()
            .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
            .collect();
        Self {
            hosts,
            origins,
            token: options.token.as_ref().map(|t| t.trim().as_bytes().to_vec()),
        }
    }

    fn check(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Rejection> {
        self.check_host(headers, uri)?;
        self.check_origin(headers)?;
        self.check_token(headers)
    }

    fn check_host(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Rejection> {
        let host = match headers.get(header::HOST) {
            Some(value) => value.to_str().ok().map(str::to_owned),
            None => uri.authority().map(|a| a.as_str().to_owned()),
        };
        let Some(host) = host else {
            return Err(reject(
                StatusCode::BAD_REQUEST,
                "missing or unreadable Host header",
            ));
        };
        let name = host_name(&host);
        if self.hosts.contains(&name) {
            Ok(())
        } else {
            Err(reject(
                StatusCode::FORBIDDEN,
                &format!(
                    "Host '{host}' is not allowed (DNS-rebinding protection); start ffmcp with \
                     --allow-host {name} if clients reach it under that name"
                ),
            ))
        }
    }

    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Rejection> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin
            .to_str()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if is_loopback_origin(&origin) || self.origins.contains(&origin) {
            return Ok(());
        }
        Err(reject(
            StatusCode::FORBIDDEN,
            &format!(
                "Origin '{origin}' is not allowed; only loopback origins are accepted by \
                 default. Start ffmcp with --allow-origin {origin} to trust it"
            ),
        ))
    }

    fn check_token(&self, headers: &HeaderMap) -> Result<(), Rejection> {
        let Some(expected) = &self.token else {
            return Ok(());
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            });
        let Some(presented) = presented else {
            return Err(unauthorized(
                "missing 'Authorization: Bearer <token>' header",
            ));
        };
        // Constant time in the token's content (its length is not secret).
        if bool::from(presented.as_bytes().ct_eq(expected)) {
            Ok(())
        } else {
            Err(unauthorized("the bearer token is not valid"))
        }
    }
}

async fn guard(State(policy): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if let Err(rejection) = policy.check(request.headers(), request.uri()) {
        return rejection.into_response();
    }
    let deleting = request.method() == axum::http::Method::DELETE;
    let mut response = next.run(request).await;
    // rmcp closes the session before answering a DELETE, then says 202
    // Accepted; the session is gone, and clients (the Python SDK among them)
    // expect 200 or 204 for a completed termination.
    if deleting && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

/// Why a request was turned away, as the client will read it.
#[derive(Debug)]
struct Rejection {
    status: StatusCode,
    message: String,
}

fn reject(status: StatusCode, message: &str) -> Rejection {
    Rejection {
        status,
        message: message.to_owned(),
    }
}

fn unauthorized(message: &str) -> Rejection {
    reject(StatusCode::UNAUTHORIZED, message)
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        tracing::warn!(status = %self.status, message = %self.message, "rejected HTTP request");
        let mut response = (self.status, format!("{}\n", self.message)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// `host[:port]` (or `[v6]:port`) to the lower-case host alone.
fn host_name(authority: &str) -> String {
    let authority = authority.trim();
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                authority
            }
        })
    };
    host.to_ascii_lowercase()
}

fn is_loopback_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    matches!(host_name(rest).as_str(), "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(token: Option<&str>) -> Guard {
        let mut options = HttpOptions::new(([127, 0, 0, 1], 0).into());
        options.token = token.map(str::to_owned);
        options.allowed_origins = vec!["https://app.example.com/".into()];
        options.allowed_hosts = vec!["mcp.example.com".into()];
        Guard::new(&options, ([127, 0, 0, 1], 8080).into())
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), value.parse().expect("valid header value"));
        }
        map
    }

    fn status(result: Result<(), Rejection>) -> Option<StatusCode> {
        result.err().map(|r| r.status)
    }

    #[test]
    fn host_policy() {
        let g = guard(None);
        let uri = Uri::from_static("/mcp");
        for ok in [
            "localhost:8080",
            "127.0.0.1",
            "[::1]:9",
            "MCP.example.com:443",
        ] {
            assert_eq!(
                status(g.check(&headers(&[(header::HOST, ok)]), &uri)),
                None,
                "{ok}"
            );
        }
        for bad in [
            "evil.example",
            "127.0.0.1.evil.example:8080",
            "localhost.evil",
        ] {
            assert_eq!(
                status(g.check(&headers(&[(header::HOST, bad)]), &uri)),
                Some(StatusCode::FORBIDDEN),
                "{bad}"
            );
        }
    }

    #[test]
    fn origin_policy() {
        let g = guard(None);
        let uri = Uri::from_static("/mcp");
        let check = |origin: &str| {
            status(g.check(
                &headers(&[(header::HOST, "localhost"), (header::ORIGIN, origin)]),
                &uri,
            ))
        };
        assert_eq!(check("http://localhost:3000"), None);
        assert_eq!(check("https://127.0.0.1"), None);
        assert_eq!(check("https://app.example.com"), None);
        assert_eq!(check("https://evil.example"), Some(StatusCode::FORBIDDEN));
        assert_eq!(check("null"), Some(StatusCode::FORBIDDEN));
        assert_eq!(
            check("http://localhost.evil.example"),
            Some(StatusCode::FORBIDDEN)
        );
    }

    #[test]
    fn token_policy() {
        let g = guard(Some("0123456789abcdef0123"));
        let uri = Uri::from_static("/mcp");
        let with = |auth: Option<&str>| {
            let mut h = headers(&[(header::HOST, "localhost")]);
            if let Some(a) = auth {
                h.insert(header::AUTHORIZATION, a.parse().expect("valid header"));
            }
            status(g.check(&h, &uri))
        };
        assert_eq!(with(Some("Bearer 0123456789abcdef0123")), None);
        assert_eq!(with(Some("bearer 0123456789abcdef0123")), None);
        assert_eq!(
            with(Some("Bearer 0123456789abcdef012")),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(with(Some("Basic abc")), Some(StatusCode::UNAUTHORIZED));
        assert_eq!(with(None), Some(StatusCode::UNAUTHORIZED));
    }

    #[test]
    fn non_loopback_bind_needs_token_or_explicit_opt_out() {
        let mut options = HttpOptions::new(([0, 0, 0, 0], 8080).into());
        assert!(options.validate().is_err());
        options.token = Some("short".into());
        assert!(options.validate().is_err());
        options.token = Some("a-long-enough-random-token".into());
        assert!(options.validate().is_ok());
        options.token = None;
        options.insecure_no_auth = true;
        assert!(options.validate().is_ok());
        assert!(
            HttpOptions::new(([127, 0, 0, 1], 0).into())
                .validate()
                .is_ok()
        );
    }
}

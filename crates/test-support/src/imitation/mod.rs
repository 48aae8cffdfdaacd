//! An in-process imitation of the model providers, on 127.0.0.1, for tests
//! and benches (it lives here, not in `ffmcp_core::model`, so no test code
//! ships in a release build). It speaks each wire format closely enough to
//! catch client mistakes — it checks `x-api-key` and
//! `anthropic-version`, bearer keys, `x-goog-api-key`, Bedrock's SigV4
//! signature, and the request bodies, answering malformed requests the way
//! the providers do — and it injects faults per model: HTTP statuses (529,
//! 503, 429 with `retry-after`), slow answers, connection resets, malformed
//! JSON and truncated bodies.
//!
//! Endpoints, all on [`Imitation::base_url`]:
//! * `POST /v1/messages` — Anthropic (`ANTHROPIC_BASE_URL` = base)
//! * `POST /v1/chat/completions` — OpenAI (`OPENAI_BASE_URL` = base + `/v1`)
//! * `POST /compat/v1/chat/completions` — an OpenAI-compatible local server
//!   (no key required, `max_tokens`)
//! * `POST /v1beta/models/{model}:generateContent` — Gemini
//! * `POST /model/{model}/converse` — Bedrock (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME` = base)
//! * `POST /v1/embeddings`, `POST /compat/v1/embeddings` and
//!   `POST /v1beta/models/{model}:batchEmbedContents` — embeddings, with
//!   deterministic vectors computed from the text ([`vector_of`])
//!
//! Replies: a registered responder for the model, else a JSON instance of
//! the requested schema (native field or the schema in the system prompt),
//! else a short text naming the model and the prompt's start.

mod embeddings;
mod wire;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_util::sync::CancellationToken;

pub use embeddings::{DIMENSIONS, GEMINI_MAX_BATCH, vector_of};
use ffmcp_core::model::{AwsChain, AwsCredentials, BedrockSettings, Endpoint, ProviderSettings};
pub use wire::Wire;

/// The key every HTTP provider of the imitation accepts.
pub const API_KEY: &str = "imitation-key";
/// The AWS credentials and region the Bedrock imitation verifies against.
pub const AWS_ACCESS_KEY_ID: &str = "AKIDIMITATION";
pub const AWS_SECRET_ACCESS_KEY: &str = "imitation/secret+KEY";
pub const AWS_REGION: &str = "us-east-1";

/// What to do instead of answering normally.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and the provider's error body for it
    /// (529 overloaded, 503 unavailable, 500, 401, 400, ...).
    Status(u16),
    /// 429 with `retry-after` (whole seconds, rounded up) and
    /// `retry-after-ms`.
    RateLimited { retry_after: Duration },
    /// Answer normally, but only after this long.
    Slow(Duration),
    /// Close the connection without answering.
    Reset,
    /// 200 with a body that is not JSON.
    MalformedJson,
    /// 200 whose body stops half-way (Content-Length promises more).
    Truncated,
}

/// One request as the imitation received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub wire: Wire,
    pub path: String,
    /// Lower-cased header names.
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub model: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::http::header(&self.headers, name)
    }

    /// Whether this was an embeddings request (OpenAI's or Gemini's shape).
    pub fn is_embeddings(&self) -> bool {
        let path = self.path.split('?').next().unwrap_or("");
        path.ends_with("/embeddings") || path.ends_with(":batchEmbedContents")
    }

    /// The texts of an embeddings request (empty for any other request).
    pub fn embedding_inputs(&self) -> Vec<String> {
        if self.is_embeddings() {
            embeddings::inputs_of(&self.body)
        } else {
            Vec::new()
        }
    }
}

/// A request's content, as a responder sees it.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub wire: Wire,
    pub model: String,
    pub system: Option<String>,
    /// `(role, text)`; roles as the wire names them.
    pub messages: Vec<(String, String)>,
    /// The requested output schema, native or from the system prompt.
    pub schema: Option<Value>,
}

impl Prompt {
    /// The text of the last user message.
    pub fn last_user(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|(role, _)| role == "user")
            .map_or("", |(_, text)| text.as_str())
    }
}

type Responder = Arc<dyn Fn(&Prompt) -> String + Send + Sync>;

#[derive(Debug, Clone)]
struct Rule {
    fault: Fault,
    /// `None`: until cleared.
    remaining: Option<usize>,
}

#[derive(Default)]
struct State {
    faults: HashMap<String, Vec<Rule>>,
    responders: HashMap<String, Responder>,
    requests: Vec<Recorded>,
    hits: HashMap<String, usize>,
}

/// A running imitation; stops when dropped.
pub struct Imitation {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: CancellationToken,
}

impl std::fmt::Debug for Imitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imitation")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for Imitation {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Imitation {
    /// Binds 127.0.0.1 on a free port and serves on the current runtime.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let stop = CancellationToken::new();
        let (task_state, task_stop) = (state.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = task_stop.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let (state, stop) = (task_state.clone(), task_stop.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = serve_connection(stream, state) => {}
                    }
                });
            }
        });
        Ok(Self { addr, state, stop })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of the OpenAI-compatible endpoint (for `openai-compat:` routes).
    pub fn compat_base_url(&self) -> String {
        format!("{}/compat/v1", self.base_url())
    }

    /// Provider settings pointing every provider here with valid credentials.
    pub fn settings(&self) -> ProviderSettings {
        let base = self.base_url();
        ProviderSettings {
            anthropic: Endpoint::new(base.clone(), Some(API_KEY.into())),
            openai: Endpoint::new(format!("{base}/v1"), Some(API_KEY.into())),
            gemini: Endpoint::new(base.clone(), Some(API_KEY.into())),
            bedrock: BedrockSettings {
                region: Some(AWS_REGION.into()),
                endpoint: Some(base),
                credentials: Some(AwsCredentials {
                    access_key_id: AWS_ACCESS_KEY_ID.into(),
                    secret_access_key: AWS_SECRET_ACCESS_KEY.into(),
                    session_token: None,
                }),
                chain: AwsChain::none(),
            },
            compat_api_key: None,
            proxy: None,
        }
    }

    /// The environment variables that point a process here (the same as
    /// [`Self::settings`]).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let base = self.base_url();
        vec![
            ("ANTHROPIC_BASE_URL", base.clone()),
            ("ANTHROPIC_API_KEY", API_KEY.into()),
            ("OPENAI_BASE_URL", format!("{base}/v1")),
            ("OPENAI_API_KEY", API_KEY.into()),
            ("GEMINI_BASE_URL", base.clone()),
            ("GEMINI_API_KEY", API_KEY.into()),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", base),
            ("AWS_REGION", AWS_REGION.into()),
            ("AWS_ACCESS_KEY_ID", AWS_ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY.into()),
        ]
    }

    /// Injects `fault` into the next `times` requests for `model` (`"*"`: any model).
    pub fn fault_times(&self, model: &str, fault: Fault, times: usize) {
        self.add_rule(model, fault, Some(times));
    }

    /// Injects `fault` into every request for `model` until [`Self::clear`].
    pub fn outage(&self, model: &str, fault: Fault) {
        self.add_rule(model, fault, None);
    }

    /// Ends every fault for `model`.
    pub fn clear(&self, model: &str) {
        self.lock().faults.remove(model);
    }

    /// Answers `model`'s requests with `responder` (text, or JSON as text).
    pub fn respond(
        &self,
        model: &str,
        responder: impl Fn(&Prompt) -> String + Send + Sync + 'static,
    ) {
        self.lock()
            .responders
            .insert(model.to_owned(), Arc::new(responder));
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Every text sent for embedding so far, in order (faulted requests included).
    pub fn embedded_inputs(&self) -> Vec<String> {
        self.lock()
            .requests
            .iter()
            .flat_map(Recorded::embedding_inputs)
            .collect()
    }

    /// Requests received for `model` (faulted ones included).
    pub fn hits(&self, model: &str) -> usize {
        self.lock().hits.get(model).copied().unwrap_or(0)
    }

    fn add_rule(&self, model: &str, fault: Fault, remaining: Option<usize>) {
        self.lock()
            .faults
            .entry(model.to_owned())
            .or_default()
            .push(Rule { fault, remaining });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// What to write back for one request.
pub(crate) enum Action {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Reset,
    Truncated(Vec<u8>),
}

/// One received HTTP request.
pub(crate) struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        crate::http::header(&self.headers, name)
    }
}

async fn serve_connection(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = Vec::with_capacity(8192);
    loop {
        let Some(request) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        let (action, delay) = handle(&state, &request);
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let written = match action {
            Action::Reset => return,
            Action::Truncated(body) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len() * 2
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.flush().await;
                return;
            }
            Action::Respond {
                status,
                headers,
                body,
            } => {
                let mut head = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                    reason(status),
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let mut out = head.into_bytes();
                out.extend_from_slice(&body);
                stream.write_all(&out).await
            }
        };
        if written.is_err() {
            return;
        }
    }
}

/// Reads one request (head and Content-Length body); `None` at EOF or on
/// anything this imitation does not speak.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<HttpRequest> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(head_len)) = parsed.parse(buf) {
            let method = parsed.method?.to_owned();
            let path = parsed.path?.to_owned();
            let headers: Vec<(String, String)> = parsed
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            let length: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head_len + length {
                if read_more(stream, buf).await? == 0 {
                    return None;
                }
            }
            let body = buf[head_len..head_len + length].to_vec();
            buf.drain(..head_len + length);
            return Some(HttpRequest {
                method,
                path,
                headers,
                body,
            });
        }
        if buf.len() > 1 << 20 || read_more(stream, buf).await? == 0 {
            return None;
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await.ok()?;
    buf.extend_from_slice(&chunk[..n]);
    Some(n)
}

/// Decides the answer to one request: records it, applies a fault if one
/// is scheduled for its model, else lets the wire module answer.
fn handle(state: &Mutex<State>, request: &HttpRequest) -> (Action, Option<Duration>) {
    let Some(call) = wire::identify(request) else {
        let body = br#"{"error":{"message":"not found"}}"#.to_vec();
        return (
            Action::Respond {
                status: 404,
                headers: Vec::new(),
                body,
            },
            None,
        );
    };
    let (fault, responder) = {
        let mut state = lock(state);
        let model = call.model.clone();
        *state.hits.entry(model.clone()).or_default() += 1;
        state.requests.push(Recorded {
            wire: call.wire,
            path: request.path.clone(),
            headers: request.headers.clone(),
            body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
            model: model.clone(),
        });
        let fault = [model.as_str(), "*"].iter().find_map(|key| {
            let rules = state.faults.get_mut(*key)?;
            let rule = rules.iter_mut().find(|r| r.remaining != Some(0))?;
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            Some(rule.fault.clone())
        });
        (fault, state.responders.get(&model).cloned())
    };
    let mut delay = None;
    match fault {
        Some(Fault::Status(status)) => return (call.wire.error(status, None), None),
        Some(Fault::RateLimited { retry_after }) => {
            return (call.wire.error(429, Some(retry_after)), None);
        }
        Some(Fault::Reset) => return (Action::Reset, None),
        Some(Fault::MalformedJson) => {
            return (
                Action::Respond {
                    status: 200,
                    headers: Vec::new(),
                    body: b"{\"id\": \"msg_1\", \"content\": [oops".to_vec(),
                },
                None,
            );
        }
        Some(Fault::Slow(d)) => delay = Some(d),
        Some(Fault::Truncated) | None => {}
    }
    let action = wire::answer(&call, request, responder.as_deref());
    match (fault, action) {
        (
            Some(Fault::Truncated),
            Action::Respond {
                status: 200, body, ..
            },
        ) => {
            let half = body[..body.len() / 2].to_vec();
            (Action::Truncated(half), None)
        }
        (_, action) => (action, delay),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "Status",
    }
}

//! `core::confirm`: asking the person behind the client before doing
//! something they did not ask for explicitly (today: replacing an existing
//! file), through the protocol's input requests (SEP-2322, 2026-07-28).
//!
//! A tool that would otherwise fail with "already exists; pass overwrite"
//! calls [`ask_overwrite`]. When the session can answer (2026-07-28, the client
//! declared elicitation, the call is not a background task), core answers
//! the call with an `InputRequiredResult`: an elicitation ("replace X?")
//! and a `requestState`. The client shows the question and calls the tool
//! again with the answer and the state; [`crate::server`] checks the state
//! and, on "yes", the second run finds the permission with [`granted`].
//! Every other session gets the tool's ordinary error, as before.
//!
//! The `requestState` comes back from the client, so it is untrusted: it
//! is sealed with HMAC-SHA256 (rmcp's `RequestStateCodec`) under a key only
//! the server knows (`FF_STATE_KEY`, or a random key per process), bound to
//! the server, the tool and a digest of the call's arguments (so it cannot
//! be replayed on another call or another file), and expires after
//! [`STATE_TTL`]. A state that does not open is refused; an answer that is
//! not an explicit "accept" with `replace: true` grants nothing.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use rmcp::{
    ErrorData as McpError, RoleServer,
    model::{
        CallToolRequestParams, ElicitRequest, ElicitRequestParams, ElicitationSchema, InputRequest,
        InputRequests, InputRequiredResult, RequestStateCodec, SealOptions,
    },
    service::RequestContext,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::tool::ToolError;

/// How long a question may stay unanswered.
pub const STATE_TTL: Duration = Duration::from_secs(600);

/// The key of the one input request a confirmation makes.
const KEY: &str = "confirm";

/// What a sealed state says: which permission, for what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Question {
    /// The permission asked for (`"overwrite"`).
    ask: String,
    /// What it is for (the path as the tool got it).
    target: String,
}

/// The process's sealing key and the server names it binds.
pub struct Confirmations {
    codec: RequestStateCodec,
}

impl std::fmt::Debug for Confirmations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmations").finish_non_exhaustive()
    }
}

impl Confirmations {
    /// From `FF_STATE_KEY` (at least 32 bytes; replicas behind one address
    /// must share it), else a random key: states then open only in the
    /// process that sealed them.
    pub fn from_config(config: &crate::config::Config) -> Result<Self, String> {
        let key = match config.get("FF_STATE_KEY") {
            Some(key) if key.len() >= 32 => key.as_bytes().to_vec(),
            Some(_) => return Err("FF_STATE_KEY must be at least 32 characters".into()),
            None => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key)
                    .map_err(|e| format!("no system randomness for the state key: {e}"))?;
                key
            }
        };
        RequestStateCodec::try_new(key)
            .map(|codec| Self { codec })
            .map_err(|e| format!("FF_STATE_KEY: {e}"))
    }
}

/// Permissions granted for the current call (put in its context by core),
/// and whether this call is already the answer to a question (then no new
/// question is asked: a "no" ends in the tool's ordinary refusal).
#[derive(Clone, Default)]
pub(crate) struct Granted {
    questions: Vec<Question>,
    answered: bool,
}

/// Where a tool's question waits for core to send it (one per call).
#[derive(Clone, Default)]
pub(crate) struct Pending(Arc<Mutex<Option<InputRequiredResult>>>);

impl Pending {
    pub(crate) fn take(&self) -> Option<InputRequiredResult> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// What binds a state to one call: server, tool and the arguments.
#[derive(Clone)]
pub(crate) struct CallBinding(Vec<u8>);

impl CallBinding {
    pub(crate) fn of(server: &str, request: &CallToolRequestParams) -> Self {
        let mut hash = Sha256::new();
        hash.update(server.as_bytes());
        hash.update([0]);
        hash.update(request.name.as_bytes());
        hash.update([0]);
        // serde_json's map is ordered by key: the same arguments, the same bytes.
        let args = serde_json::to_vec(&request.arguments).unwrap_or_default();
        hash.update(&args);
        Self(hash.finalize().to_vec())
    }
}

/// Opens the state of a retried call and reads the client's answer; the
/// permissions go into the call's context. `Err` when a state was sent that
/// this server did not seal for this very call (forged, altered, expired,
/// or replayed on other arguments).
pub(crate) fn receive(
    confirmations: &Confirmations,
    binding: &CallBinding,
    request: &mut CallToolRequestParams,
) -> Result<Granted, McpError> {
    let Some(state) = request.request_state.take() else {
        return Ok(Granted::default());
    };
    let responses = request.input_responses.take().unwrap_or_default();
    let question: Question = confirmations
        .codec
        .open_json_with(&state, &binding.0)
        .map_err(|e| {
            McpError::invalid_params(
                format!(
                    "requestState was not issued by this server for this call, or it expired \
                     ({e}); call the tool again without it"
                ),
                None,
            )
        })?;
    let accepted = responses.get(KEY).is_some_and(|answer| {
        answer["action"] == "accept"
            && answer["content"]["replace"] == serde_json::Value::Bool(true)
    });
    Ok(Granted {
        questions: if accepted { vec![question] } else { Vec::new() },
        answered: true,
    })
}

/// Whether the person behind this call granted `ask` for `target` (in
/// answer to [`ask_overwrite`]).
pub fn granted(ctx: &RequestContext<RoleServer>, ask: &str, target: &str) -> bool {
    ctx.extensions.get::<Granted>().is_some_and(|g| {
        g.questions
            .iter()
            .any(|q| q.ask == ask && q.target == target)
    })
}

/// Asks the person behind the call to allow replacing `target`, when the
/// session can answer: returns the error to return from the tool (`refusal`
/// is what every other session gets; an asking session never sees it,
/// since core sends the question instead).
pub fn ask_overwrite(
    ctx: &RequestContext<RoleServer>,
    target: &str,
    refusal: ToolError,
) -> ToolError {
    let (Some(pending), Some(binding), Some(confirmations)) = (
        ctx.extensions.get::<Pending>(),
        ctx.extensions.get::<CallBinding>(),
        ctx.extensions.get::<Arc<Confirmations>>(),
    ) else {
        return refusal;
    };
    let answered = ctx.extensions.get::<Granted>().is_some_and(|g| g.answered);
    let can_answer = !answered
        && ctx.protocol_version().is_some_and(|v| !v.has_initialize())
        && ctx
            .client_capabilities()
            .is_some_and(|caps| caps.elicitation.is_some())
        && ctx.extensions.get::<crate::progress::TaskNote>().is_none();
    if !can_answer {
        return refusal;
    }
    let question = Question {
        ask: "overwrite".into(),
        target: target.into(),
    };
    let Ok(state) = confirmations.codec.seal_json_with(
        &question,
        &SealOptions::new()
            .associated_data(&binding.0)
            .ttl(STATE_TTL),
    ) else {
        return refusal;
    };
    let Ok(schema) = ElicitationSchema::builder()
        .required_bool("replace")
        .description("Replace the existing file")
        .build()
    else {
        return refusal;
    };
    let elicit = ElicitRequest::new(ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!("'{target}' already exists. Replace it?"),
        requested_schema: schema,
    });
    let mut requests = InputRequests::new();
    requests.insert(KEY.into(), InputRequest::Elicitation(elicit));
    *pending.0.lock().unwrap_or_else(|p| p.into_inner()) =
        Some(InputRequiredResult::new(Some(requests), Some(state)));
    refusal
}

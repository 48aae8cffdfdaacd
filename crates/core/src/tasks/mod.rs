//! `core::tasks`: long tool calls as MCP tasks (SEP-2663, the
//! `io.modelcontextprotocol/tasks` extension), with their state in the
//! store rather than in memory.
//!
//! A server names its long tools ([`crate::server::Tools::task_tools`]:
//! document parsing, site crawls, re-checks, lead jobs). When a client that
//! declared the tasks extension calls one, core answers at once with a task
//! handle (`resultType: "task"`) and runs the call in the background under
//! the same admission, cancellation and panic containment as any call
//! (budget: `FF_CALL_TIMEOUT_MAX_SECS`). Clients that did not declare the
//! extension get the ordinary result, with progress notifications, as before.
//!
//! Why not rmcp's `TaskManager`: it keeps tasks in the memory of one
//! process. Here every state change is a row in the `core_tasks` table of
//! the process's database ([`crate::store`]), so
//! * `tasks/get` answers from any process on the same database (a second
//!   replica, or the same server after a restart);
//! * a task whose process died is taken over: its owner keeps a lease by a
//!   heartbeat (`FF_TASK_LEASE_SECS`); when the lease has run out, the next
//!   `tasks/get` or `tasks/cancel` on any process takes the task (one
//!   conditional update, so exactly one process does) and runs the call
//!   again from its stored request — the long tools are re-runnable by
//!   design — at most [`MAX_ATTEMPTS`] times;
//! * `tasks/cancel` is a flag the owner reads at its next heartbeat (at
//!   once when it is this process).
//!
//! Task ids are 128 random bits: a task is reachable by whoever holds its id,
//! like a capability. Tasks and their results (which may hold document text)
//! are deleted once their TTL (`FF_TASK_TTL_SECS`) has passed.

mod db;

/// The task table's schema (`core_tasks`).
pub use db::SCHEMA;

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use rmcp::{
    ErrorData as McpError,
    model::{
        CallToolRequestParams, CallToolResponse, CreateTaskResult, DetailedTask, GetTaskResult,
        JsonObject, Task, TaskPayload, TaskStatus,
    },
};
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    store::{Store, now_ms},
};

/// How often a task is run before it is given up: the first run and two
/// take-overs after its process stopped.
pub const MAX_ATTEMPTS: i64 = 3;

/// The task settings.
#[derive(Debug, Clone)]
pub struct TaskSettings {
    /// How long a task is kept after it was created.
    pub ttl: Duration,
    /// Heartbeat silence after which a task is taken over.
    pub lease: Duration,
    /// The suggested polling interval.
    pub poll_interval: Duration,
}

impl Default for TaskSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(86_400),
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(1000),
        }
    }
}

impl TaskSettings {
    /// Reads the settings; a value that is not a positive whole number is
    /// a problem (returned) and the default stays.
    pub fn from_config(config: &Config) -> (Self, Vec<String>) {
        let mut settings = Self::default();
        let mut problems = Vec::new();
        let mut number = |name: &str| -> Option<u64> {
            let raw = config.get(name)?;
            match raw.trim().parse::<u64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    problems.push(format!("{name}={raw:?} is not a positive whole number"));
                    None
                }
            }
        };
        if let Some(n) = number("FF_TASK_TTL_SECS") {
            settings.ttl = Duration::from_secs(n);
        }
        if let Some(n) = number("FF_TASK_LEASE_SECS") {
            settings.lease = Duration::from_secs(n);
        }
        if let Some(n) = number("FF_TASK_POLL_MS") {
            settings.poll_interval = Duration::from_millis(n);
        }
        (settings, problems)
    }

    fn heartbeat(&self) -> Duration {
        (self.lease / 3).max(Duration::from_millis(100))
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Runs a task's tool call: the stored request, the task's cancellation
/// token and its id in, the call's outcome out.
pub(crate) type Runner = Arc<
    dyn Fn(
            CallToolRequestParams,
            CancellationToken,
            String,
        ) -> BoxFuture<Result<CallToolResponse, McpError>>
        + Send
        + Sync,
>;

/// The tasks of one process; see the module docs. Built once per process
/// ([`crate::server::Context`]); opens the store on first use, so a server
/// that never runs a task never touches the database.
pub struct Tasks {
    config: Arc<Config>,
    settings: TaskSettings,
    /// Who this process is, as a task owner.
    instance: String,
    store: tokio::sync::OnceCell<Result<Store, String>>,
    /// Tasks running in this process, to cancel without waiting for a heartbeat.
    running: Mutex<HashMap<String, CancellationToken>>,
}

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tasks")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Tasks {
    /// The tasks service of a process with `config`; problems with the
    /// settings are logged and the defaults kept.
    pub fn from_config(config: Arc<Config>) -> Self {
        let (settings, problems) = TaskSettings::from_config(&config);
        for problem in problems {
            tracing::warn!(%problem, "task settings");
        }
        Self {
            config,
            settings,
            // Identifies this process among the owners of tasks; uniqueness
            // is enough here.
            instance: format!("{:032x}", fastrand::u128(..)),
            store: tokio::sync::OnceCell::new(),
            running: Mutex::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &TaskSettings {
        &self.settings
    }

    async fn store(&self) -> Result<&Store, McpError> {
        let opened = self
            .store
            .get_or_init(|| async {
                let store = Store::open_default(&self.config).map_err(|e| e.to_string())?;
                store
                    .migrate(&db::SCHEMA)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(store)
            })
            .await;
        opened.as_ref().map_err(|e| {
            McpError::internal_error(
                format!("tasks need the database, which could not be opened: {e}"),
                None,
            )
        })
    }

    async fn sql<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut crate::store::Db<'_>) -> Result<T, crate::store::StoreError>
        + Send
        + 'static,
    ) -> Result<T, McpError> {
        let store = self.store().await?;
        store
            .run(work)
            .await
            .map_err(|e| McpError::internal_error(format!("task store: {e}"), None))?
            .map_err(|e| McpError::internal_error(format!("task store: {e}"), None))
    }

    /// Creates a task for `request` of `server`, starts it with `runner`
    /// and returns its handle.
    pub(crate) async fn start(
        self: &Arc<Self>,
        server: &'static str,
        request: CallToolRequestParams,
        runner: Runner,
    ) -> Result<CreateTaskResult, McpError> {
        let id = random_id()?;
        let stored = serde_json::to_string(&request).map_err(|e| {
            McpError::internal_error(format!("could not store the request: {e}"), None)
        })?;
        let (task_id, owner, tool) = (id.clone(), self.instance.clone(), request.name.to_string());
        let ttl_ms = millis(self.settings.ttl);
        self.sql(move |conn| {
            db::insert(
                conn,
                &db::NewTask {
                    id: &task_id,
                    server,
                    tool: &tool,
                    request: &stored,
                    owner: &owner,
                    now_ms: now_ms(),
                    ttl_ms,
                },
            )
        })
        .await?;
        tracing::info!(task = %id, server, tool = %request.name, "task started");
        self.spawn(id.clone(), request, runner);
        let row = self.row(server, &id).await?;
        Ok(CreateTaskResult::new(self.detailed(&row).task))
    }

    /// `tasks/get`; a task whose process has stopped is taken over and run
    /// again here (see the module docs).
    pub(crate) async fn get(
        self: &Arc<Self>,
        server: &'static str,
        id: &str,
        runner: Runner,
    ) -> Result<GetTaskResult, McpError> {
        let row = self.row(server, id).await?;
        let row = if self.orphaned(&row) {
            self.take_over(server, row, Some(runner)).await?
        } else {
            row
        };
        Ok(GetTaskResult::new(self.detailed(&row)))
    }

    /// `tasks/update`: no ffmcp task asks for input, so there is nothing to
    /// deliver; responses are ignored as the extension specifies, once the
    /// task is known to exist.
    pub(crate) async fn update(&self, server: &'static str, id: &str) -> Result<(), McpError> {
        self.row(server, id).await.map(|_| ())
    }

    /// `tasks/cancel`: cooperative; the status turns `cancelled` when the
    /// call has stopped. Cancelling a finished task changes nothing.
    pub(crate) async fn cancel(
        self: &Arc<Self>,
        server: &'static str,
        id: &str,
    ) -> Result<(), McpError> {
        let row = self.row(server, id).await?;
        if row.status != "working" {
            return Ok(());
        }
        let task_id = id.to_owned();
        self.sql(move |conn| db::request_cancel(conn, &task_id, now_ms()))
            .await?;
        let local = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned();
        if let Some(token) = local {
            token.cancel();
        } else if self.orphaned(&row) {
            let mut row = row;
            row.cancel_requested = true;
            self.take_over(server, row, None).await?;
        }
        Ok(())
    }

    async fn row(&self, server: &'static str, id: &str) -> Result<db::Row, McpError> {
        let task_id = id.to_owned();
        self.sql(move |conn| db::get(conn, server, &task_id, now_ms()))
            .await?
            .ok_or_else(|| {
                McpError::invalid_params(
                    format!(
                        "unknown task '{id}' on {server}: no such task, or it has expired \
                         (tasks are kept {} s after they start, FF_TASK_TTL_SECS)",
                        self.settings.ttl.as_secs()
                    ),
                    None,
                )
            })
    }

    fn orphaned(&self, row: &db::Row) -> bool {
        row.status == "working"
            && now_ms() - row.heartbeat_ms > millis(self.settings.lease)
            && !self
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(&row.id)
    }

    /// Takes over an orphaned task: runs it again with `runner`, or ends it
    /// (cancelled when that was asked, failed after [`MAX_ATTEMPTS`]).
    async fn take_over(
        self: &Arc<Self>,
        server: &'static str,
        row: db::Row,
        runner: Option<Runner>,
    ) -> Result<db::Row, McpError> {
        let (id, owner) = (row.id.clone(), self.instance.clone());
        let stale = now_ms() - millis(self.settings.lease);
        let taken = self
            .sql(move |conn| db::take_over(conn, &id, &owner, stale, now_ms()))
            .await?;
        if !taken {
            // Somebody else was quicker, or the owner came back.
            return self.row(server, &row.id).await;
        }
        let attempts = row.attempts + 1;
        let ending = if row.cancel_requested {
            Some(("cancelled", None))
        } else if attempts > MAX_ATTEMPTS {
            Some((
                "failed",
                Some(error_json(&McpError::internal_error(
                    format!(
                        "the task's process stopped {} times while running it; given up",
                        attempts - 1
                    ),
                    None,
                ))),
            ))
        } else {
            None
        };
        match (ending, runner) {
            (Some((status, error)), _) => self.finish(&row.id, status, None, error).await?,
            (None, Some(runner)) => {
                let request: CallToolRequestParams =
                    serde_json::from_str(&row.request).map_err(|e| {
                        McpError::internal_error(format!("stored task request: {e}"), None)
                    })?;
                tracing::info!(task = %row.id, server, attempt = attempts, "task taken over: its process had stopped");
                self.note(
                    &row.id,
                    &format!("resumed (attempt {attempts}) after its process stopped"),
                )
                .await;
                self.spawn(row.id.clone(), request, runner);
            }
            (None, None) => {}
        }
        self.row(server, &row.id).await
    }

    fn spawn(self: &Arc<Self>, id: String, request: CallToolRequestParams, runner: Runner) {
        let token = CancellationToken::new();
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), token.clone());
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let run = runner(request, token.clone(), id.clone());
            tokio::pin!(run);
            let mut beat = tokio::time::interval(this.settings.heartbeat());
            beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            beat.tick().await;
            let mut cancel_requested = false;
            let outcome = loop {
                tokio::select! {
                    outcome = &mut run => break Some(outcome),
                    _ = beat.tick() => {
                        let (task, owner) = (id.clone(), this.instance.clone());
                        match this.sql(move |conn| db::heartbeat(conn, &task, &owner, now_ms())).await {
                            Ok(Some(true)) => {
                                cancel_requested = true;
                                token.cancel();
                            }
                            Ok(Some(false)) => {}
                            Ok(None) => {
                                // Another process took the task over (this
                                // one was presumed dead): stop, write nothing.
                                tracing::warn!(task = %id, "task lost to another process; stopped here");
                                token.cancel();
                                break None;
                            }
                            Err(err) => tracing::warn!(task = %id, error = %err.message, "task heartbeat failed"),
                        }
                    }
                }
            };
            this.running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id);
            let Some(outcome) = outcome else { return };
            let cancel_requested = cancel_requested || token.is_cancelled();
            let (status, result, error) = match outcome {
                _ if cancel_requested => ("cancelled", None, None),
                Ok(CallToolResponse::Complete(result)) => match serde_json::to_string(&result) {
                    Ok(json) => ("completed", Some(json), None),
                    Err(e) => (
                        "failed",
                        None,
                        Some(error_json(&McpError::internal_error(
                            format!("could not store the result: {e}"),
                            None,
                        ))),
                    ),
                },
                Ok(_) => (
                    "failed",
                    None,
                    Some(error_json(&McpError::internal_error(
                        "the tool asked for input, which a task cannot do yet",
                        None,
                    ))),
                ),
                Err(err) => ("failed", None, Some(error_json(&err))),
            };
            tracing::info!(task = %id, status, "task ended");
            let _ = this.finish(&id, status, result, error).await;
        });
    }

    async fn finish(
        &self,
        id: &str,
        status: &'static str,
        result: Option<String>,
        error: Option<String>,
    ) -> Result<(), McpError> {
        let (task, owner) = (id.to_owned(), self.instance.clone());
        let written = self
            .sql(move |conn| {
                db::finish(
                    conn,
                    &task,
                    &owner,
                    status,
                    result.as_deref(),
                    error.as_deref(),
                    now_ms(),
                )
            })
            .await?;
        if !written {
            tracing::warn!(task = %id, status, "task end not written: another process owns it");
        }
        Ok(())
    }

    /// Sets the status message of a task this process runs.
    pub(crate) async fn note(&self, id: &str, message: &str) {
        let (task, owner, message) = (id.to_owned(), self.instance.clone(), message.to_owned());
        if let Err(err) = self
            .sql(move |conn| db::set_message(conn, &task, &owner, &message, now_ms()))
            .await
        {
            tracing::warn!(task = %id, error = %err.message, "task message not written");
        }
    }

    fn detailed(&self, row: &db::Row) -> DetailedTask {
        let parse = |json: &Option<String>| -> JsonObject {
            json.as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default()
        };
        let payload = match row.status.as_str() {
            "completed" => TaskPayload::Completed {
                result: parse(&row.result),
            },
            "failed" => TaskPayload::Failed {
                error: parse(&row.error),
            },
            "cancelled" => TaskPayload::Cancelled,
            _ => TaskPayload::Working,
        };
        let mut task = Task::new(&row.id, TaskStatus::Working, &row.created, &row.updated)
            .with_ttl_ms(row.ttl_ms.max(0) as u64)
            .with_poll_interval_ms(millis(self.settings.poll_interval) as u64);
        if let Some(message) = &row.message {
            task = task.with_status_message(message);
        } else if row.status == "working" && row.cancel_requested {
            task = task.with_status_message("cancelling");
        }
        DetailedTask::new(task, payload)
    }
}

fn error_json(err: &McpError) -> String {
    serde_json::to_string(err).unwrap_or_else(|_| {
        format!(
            r#"{{"code":-32603,"message":{:?}}}"#,
            err.message.to_string()
        )
    })
}

/// 128 bits from the system's random source, hex: a task id is a
/// capability, so it must not be guessable.
fn random_id() -> Result<String, McpError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        McpError::internal_error(format!("no system randomness for a task id: {e}"), None)
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

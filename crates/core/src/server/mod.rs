//! The server registry and factory.
//!
//! A server crate exposes `pub fn spec() -> ServerSpec`: its name, a
//! one-line summary, whether it uses models, the settings it reads, and a
//! factory that builds it from the process's [`Context`] (configuration,
//! the one model router, the call governor). The binary lists the specs in
//! one table and never matches on server names anywhere else; adding a
//! server is a new crate plus one line there.
//!
//! What a server shares between sessions lives in the value its factory
//! builds (no `static`s), so two differently configured servers can live
//! in one process. Core wraps every server value ([`Server::wrap`]): tool calls
//! run under core's admission, time budget, cancellation and panic
//! containment whatever the server writes. A server's title is declared
//! once in its crate, given to its spec and to [`server_info`], which adds
//! the icon and website every server shows.

mod identity;
mod served;

use std::{fmt, future::Future, pin::Pin, sync::Arc};

pub use identity::{WEBSITE_URL, icon, server_info};
use served::Served;
pub use served::{STATS_URI, Tools};

use crate::{
    config::{Config, Setting},
    confirm::Confirmations,
    model::Router,
    tasks::Tasks,
    transport::{
        ServeError,
        http::{HttpOptions, mcp_service},
        stdio::StdioOptions,
    },
    work::Governor,
};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Background = Arc<dyn Fn() -> BoxFuture<Result<(), String>> + Send + Sync>;
type Commands = Arc<dyn Fn(Vec<String>) -> BoxFuture<Result<String, String>> + Send + Sync>;
type Build = Box<dyn Fn(&Context) -> Result<Server, StartError> + Send + Sync>;

/// What every server of one process shares: built once by the binary.
#[derive(Clone)]
pub struct Context {
    /// Every setting, with its source.
    pub config: Arc<Config>,
    /// The one model router: one set of breakers and one accounting
    /// (`ffmcp://stats`) for every server.
    pub models: Arc<Router>,
    /// Admission and time budgets of tool calls, process-wide.
    pub governor: Arc<Governor>,
    /// The process's MCP tasks, kept in the store.
    pub tasks: Arc<Tasks>,
    /// The key sealing questions to the user (`None`: no key could be
    /// made; tools then fail as they would for an older client).
    pub confirmations: Option<Arc<Confirmations>>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

impl Context {
    /// Builds the shared services from `config`; configuration problems of
    /// the router and the governor are logged and kept (`ffmcp doctor`
    /// shows them).
    pub fn new(config: Config) -> Self {
        let models = Arc::new(Router::from_config(&config));
        let governor = Arc::new(Governor::from_config(&config));
        let config = Arc::new(config);
        let confirmations = match Confirmations::from_config(&config) {
            Ok(confirmations) => Some(Arc::new(confirmations)),
            Err(problem) => {
                tracing::error!(%problem, "questions to the user are off");
                None
            }
        };
        Self {
            confirmations,
            tasks: Arc::new(Tasks::from_config(config.clone())),
            config,
            models,
            governor,
        }
    }
}

/// Why a server could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
#[error("{server} could not start: {message}")]
pub struct StartError {
    /// The server's name.
    pub server: &'static str,
    /// What is wrong, naming the setting.
    pub message: String,
}

/// A built server: how to make a value per session, its background work
/// and its command-line commands.
pub struct Server {
    runner: Box<dyn Runner>,
    /// Whether the wrapper serves `ffmcp://stats`: set from the spec.
    stats: Arc<std::sync::atomic::AtomicBool>,
    /// Served over stateless HTTP: no session outlives a request, so no
    /// subscription or list-changed notification can be delivered.
    stateless: Arc<std::sync::atomic::AtomicBool>,
    background: Option<Background>,
    commands: Option<Commands>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

impl Server {
    /// `make` builds a fresh server value: once for stdio, once per session
    /// over HTTP. It should clone shared state (an `Arc`), not rebuild it.
    pub fn new<S, F>(context: &Context, name: &'static str, make: F) -> Self
    where
        S: Tools + Send + Sync + 'static,
        F: Fn() -> S + Send + Sync + Clone + 'static,
    {
        let governor = context.governor.clone();
        let models = context.models.clone();
        let tasks = context.tasks.clone();
        let confirmations = context.confirmations.clone();
        let stats = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let stateless = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (with_stats, is_stateless) = (stats.clone(), stateless.clone());
        Self {
            stats,
            stateless,
            runner: Box::new(Factory(move || Served {
                inner: Arc::new(make()),
                name,
                governor: governor.clone(),
                tasks: tasks.clone(),
                confirmations: confirmations.clone(),
                models: with_stats
                    .load(std::sync::atomic::Ordering::Relaxed)
                    .then(|| models.clone()),
                log: Arc::default(),
                stateless: is_stateless.load(std::sync::atomic::Ordering::Relaxed),
            })),
            background: None,
            commands: None,
        }
    }

    /// One server value wrapped as core serves it (tool calls under the
    /// governor, panics contained, `ffmcp://stats` when `stats`), for
    /// serving it on a transport of one's own (tests, embedding).
    pub fn wrap<S: Tools + Send + Sync + 'static>(
        context: &Context,
        name: &'static str,
        value: S,
        stats: bool,
    ) -> impl rmcp::ServerHandler {
        Served {
            inner: Arc::new(value),
            name,
            governor: context.governor.clone(),
            tasks: context.tasks.clone(),
            confirmations: context.confirmations.clone(),
            models: stats.then(|| context.models.clone()),
            log: Arc::default(),
            stateless: false,
        }
    }

    /// Work the server does while the process runs, with or without a
    /// client (e.g. scheduled checks); also what `--daemon` runs alone.
    pub fn with_background<F, Fut>(mut self, task: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.background = Some(Arc::new(move || Box::pin(task())));
        self
    }

    /// One-shot command-line commands of this server (`ffmcp <server>
    /// COMMAND ARGS…`, e.g. an export): `run` gets the words after the
    /// server name and returns what to print on stdout.
    pub fn with_commands<F, Fut>(mut self, run: F) -> Self
    where
        F: Fn(Vec<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        self.commands = Some(Arc::new(move |args| Box::pin(run(args))));
        self
    }

    /// Runs a command-line command; `None` when the server has none.
    pub fn run_command(&self, args: Vec<String>) -> Option<BoxFuture<Result<String, String>>> {
        self.commands.as_ref().map(|run| run(args))
    }

    /// Starts the background work on the current runtime, if there is any.
    pub fn start_background(&self) -> Option<tokio::task::JoinHandle<Result<(), String>>> {
        let task = self.background.as_ref()?;
        Some(tokio::spawn(task()))
    }

    /// Serves this server on the process's stdin/stdout until EOF or a signal.
    pub fn serve_stdio(&self, options: StdioOptions) -> BoxFuture<Result<(), ServeError>> {
        self.runner.serve_stdio(options)
    }

    /// Serves one session over an in-process byte stream until the other
    /// end closes it: how `ffmcp <server> <tool>` calls a tool through an
    /// MCP client of its own, so admission, budgets, roots and every other
    /// rule are those of any other session.
    pub fn serve_in_process(
        &self,
        io: tokio::io::DuplexStream,
    ) -> BoxFuture<Result<(), ServeError>> {
        self.runner.serve_in_process(io)
    }

    /// The streamable-HTTP MCP endpoint for this server (mounted by the caller).
    pub fn http_endpoint(&self, options: &HttpOptions) -> axum::Router {
        self.stateless
            .store(options.stateless, std::sync::atomic::Ordering::Relaxed);
        self.runner.http_endpoint(options)
    }
}

/// One servable MCP server, as the registry lists it; see the module docs.
pub struct ServerSpec {
    name: &'static str,
    summary: &'static str,
    title: Option<&'static str>,
    uses_models: bool,
    settings: &'static [Setting],
    schema: Option<&'static crate::store::Schema>,
    build: Build,
}

impl fmt::Debug for ServerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSpec")
            .field("name", &self.name)
            .finish()
    }
}

impl ServerSpec {
    /// `build` makes the server from the process's context; it runs once
    /// per process (per `ffmcp <server>`, or once for each server under
    /// `ffmcp serve`).
    pub fn new<F>(name: &'static str, summary: &'static str, build: F) -> Self
    where
        F: Fn(&Context) -> Result<Server, StartError> + Send + Sync + 'static,
    {
        Self {
            name,
            summary,
            title: None,
            uses_models: false,
            settings: &[],
            schema: None,
            build: Box::new(build),
        }
    }

    /// The server has tools that call a model (client configuration offers
    /// model settings for it; it serves `ffmcp://stats`).
    pub fn uses_models(mut self) -> Self {
        self.uses_models = true;
        self
    }

    /// The human title clients show: the registry's `title`, and (through
    /// [`server_info`], given the same constant) `serverInfo.title`.
    pub fn title(mut self, title: &'static str) -> Self {
        self.title = Some(title);
        self
    }

    /// The settings this server reads besides core's.
    pub fn settings(mut self, settings: &'static [Setting]) -> Self {
        self.settings = settings;
        self
    }

    /// The tables this server keeps in the store (`ffmcp db migrate`
    /// applies them without starting the server).
    pub fn schema(mut self, schema: &'static crate::store::Schema) -> Self {
        self.schema = Some(schema);
        self
    }

    /// The server's schema in the store, if it keeps state there.
    pub fn own_schema(&self) -> Option<&'static crate::store::Schema> {
        self.schema
    }

    /// Builds the server.
    pub fn build(&self, context: &Context) -> Result<Server, StartError> {
        let server = (self.build)(context)?;
        server
            .stats
            .store(self.uses_models, std::sync::atomic::Ordering::Relaxed);
        Ok(server)
    }

    /// The server's name (its subcommand).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// One line: what the server does.
    pub fn summary(&self) -> &'static str {
        self.summary
    }

    /// The human title, when the spec gives one.
    pub fn display_title(&self) -> Option<&'static str> {
        self.title
    }

    /// Whether the server has model-backed tools.
    pub fn has_models(&self) -> bool {
        self.uses_models
    }

    /// The settings this server reads besides core's.
    pub fn own_settings(&self) -> &'static [Setting] {
        self.settings
    }
}

trait Runner: Send + Sync {
    fn serve_stdio(&self, options: StdioOptions) -> BoxFuture<Result<(), ServeError>>;
    fn serve_in_process(&self, io: tokio::io::DuplexStream) -> BoxFuture<Result<(), ServeError>>;
    fn http_endpoint(&self, options: &HttpOptions) -> axum::Router;
}

struct Factory<F>(F);

impl<S, F> Runner for Factory<F>
where
    S: rmcp::ServerHandler + Send + Sync + 'static,
    F: Fn() -> S + Send + Sync + Clone + 'static,
{
    fn serve_stdio(&self, options: StdioOptions) -> BoxFuture<Result<(), ServeError>> {
        let server = (self.0)();
        Box::pin(crate::transport::serve_stdio(server, options))
    }

    fn serve_in_process(&self, io: tokio::io::DuplexStream) -> BoxFuture<Result<(), ServeError>> {
        let server = (self.0)();
        Box::pin(async move {
            use rmcp::ServiceExt as _;
            let running = match server.serve(io).await {
                Ok(running) => running,
                Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
                Err(err) => return Err(ServeError::Initialize(err.to_string())),
            };
            if let Err(err) = running.waiting().await {
                tracing::debug!(%err, "in-process session ended with an error");
            }
            Ok(())
        })
    }

    fn http_endpoint(&self, options: &HttpOptions) -> axum::Router {
        mcp_service(self.0.clone(), options)
    }
}

/// The table of servers the binary offers.
#[derive(Debug, Default)]
pub struct Servers(Vec<ServerSpec>);

impl Servers {
    /// The table, in listing order.
    pub fn new(specs: Vec<ServerSpec>) -> Self {
        Self(specs)
    }

    /// The server called `name`.
    pub fn get(&self, name: &str) -> Option<&ServerSpec> {
        self.0.iter().find(|s| s.name == name)
    }

    /// Every server.
    pub fn iter(&self) -> impl Iterator<Item = &ServerSpec> {
        self.0.iter()
    }

    /// Every server's name.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.name).collect()
    }
}

//! The server registry: one [`ServerSpec`] per ffmcp server, served by name.
//!
//! A server crate exposes `pub fn spec() -> ServerSpec`; the binary lists the
//! specs in one table and never matches on server names anywhere else.

use std::{fmt, future::Future, pin::Pin, sync::Arc};

use rmcp::ServerHandler;

use crate::transport::{
    ServeError,
    http::{HttpOptions, mcp_service},
    stdio::StdioOptions,
};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Background = Arc<dyn Fn() -> BoxFuture<Result<(), String>> + Send + Sync>;
type Commands = Arc<dyn Fn(Vec<String>) -> BoxFuture<Result<String, String>> + Send + Sync>;

/// One servable MCP server: its name, a one-line summary, and how to build it.
pub struct ServerSpec {
    name: &'static str,
    summary: &'static str,
    runner: Box<dyn Runner>,
    background: Option<Background>,
    commands: Option<Commands>,
}

impl fmt::Debug for ServerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSpec")
            .field("name", &self.name)
            .finish()
    }
}

impl ServerSpec {
    /// `make` builds a fresh server value: once for stdio, once per session
    /// over HTTP.
    pub fn new<S, F>(name: &'static str, summary: &'static str, make: F) -> Self
    where
        S: ServerHandler + Send + Sync + 'static,
        F: Fn() -> S + Send + Sync + Clone + 'static,
    {
        Self {
            name,
            summary,
            runner: Box::new(Factory(make)),
            background: None,
            commands: None,
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

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn summary(&self) -> &'static str {
        self.summary
    }

    /// Serves this server on the process's stdin/stdout until EOF or a signal.
    pub fn serve_stdio(&self, options: StdioOptions) -> BoxFuture<Result<(), ServeError>> {
        self.runner.serve_stdio(options)
    }

    /// The streamable-HTTP MCP endpoint for this server (mounted by the caller).
    pub fn http_endpoint(&self, options: &HttpOptions) -> axum::Router {
        self.runner.http_endpoint(options)
    }
}

trait Runner: Send + Sync {
    fn serve_stdio(&self, options: StdioOptions) -> BoxFuture<Result<(), ServeError>>;
    fn http_endpoint(&self, options: &HttpOptions) -> axum::Router;
}

struct Factory<F>(F);

impl<S, F> Runner for Factory<F>
where
    S: ServerHandler + Send + Sync + 'static,
    F: Fn() -> S + Send + Sync + Clone + 'static,
{
    fn serve_stdio(&self, options: StdioOptions) -> BoxFuture<Result<(), ServeError>> {
        let server = (self.0)();
        Box::pin(crate::transport::serve_stdio(server, options))
    }

    fn http_endpoint(&self, options: &HttpOptions) -> axum::Router {
        mcp_service(self.0.clone(), options)
    }
}

/// The table of servers the binary offers.
#[derive(Debug, Default)]
pub struct Servers(Vec<ServerSpec>);

impl Servers {
    pub fn new(specs: Vec<ServerSpec>) -> Self {
        Self(specs)
    }

    pub fn get(&self, name: &str) -> Option<&ServerSpec> {
        self.0.iter().find(|s| s.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &ServerSpec> {
        self.0.iter()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.name).collect()
    }
}

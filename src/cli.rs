//! Command-line interface. Server subcommands are generated from the
//! registry table, so adding a server never touches this file.

use std::{io::Write, net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context as _;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use ffmcp_core::{
    Config, Context, Server, Servers,
    transport::{
        http::{self, HttpOptions},
        stdio::{DEFAULT_MAX_FRAME_BYTES, StdioOptions},
    },
};

/// Default address of `ffmcp serve`.
const DEFAULT_SERVE_ADDR: &str = "127.0.0.1:8765";

#[derive(Debug, Parser)]
#[command(
    name = "ffmcp",
    version,
    about = "Production MCP servers. `ffmcp <server>` serves one over stdio; add --http ADDR for streamable HTTP.",
    subcommand_required = true,
    propagate_version = true,
    arg_required_else_help = true
)]
struct Cli {
    /// A TOML file of settings (`FF_MAX_CALLS = 8`, …); the environment
    /// wins over it. Also FF_CONFIG_FILE.
    #[arg(long, global = true, value_name = "PATH")]
    config_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Fixed,
}

/// Subcommands that are not servers.
#[derive(Debug, Subcommand)]
enum Fixed {
    /// Serve every server over streamable HTTP on one port, at /<server>/mcp.
    Serve(ServeArgs),
    /// List the available servers.
    List,
    /// Print the server.json for the official MCP registry (generated from
    /// the server table; `cargo xtask server-json` writes it).
    #[command(hide = true)]
    RegistryJson,
    /// Print client configuration.
    #[command(subcommand)]
    Config(ConfigTarget),
    /// Report risky entries in an MCP client config (Claude Desktop by default).
    Audit(AuditArgs),
    /// Run a third-party stdio MCP server confined by a policy, relaying its stdio.
    Guard(GuardArgs),
    /// Show which security protections are active on this machine.
    Doctor(DoctorArgs),
    /// Run one tool with its arguments as a JSON object, e.g.
    /// `ffmcp call transform text_stats --json '{"text": "hi"}'`.
    Call(CallArgs),
    /// The store (FF_DB: a SQLite file or a postgres:// URL): apply or list
    /// every server's schema migrations.
    #[command(subcommand)]
    Db(DbTarget),
}

#[derive(Debug, Subcommand)]
enum DbTarget {
    /// Apply every pending migration of every server (each once; replicas
    /// may run it at the same time).
    Migrate {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Where the store is, whether it answers, and each server's schema
    /// version; exits 1 when it does not answer or a migration is pending.
    Status {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(after_help = crate::tool_cli::EXIT_CODES)]
struct CallArgs {
    /// The server (`ffmcp list`).
    server: String,
    /// The tool (`audit_page` or `audit-page`).
    tool: String,
    /// The arguments, a JSON object; `-` reads it from stdin.
    #[arg(long = "json", value_name = "JSON", default_value = "{}")]
    arguments: String,
    /// Print the structured result (structuredContent) as JSON instead of the text.
    #[arg(long)]
    structured: bool,
}

#[derive(Debug, Args)]
struct GuardArgs {
    /// The policy (TOML): programs, argument patterns, readable/writable paths, network, env.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Refuse to start when a protection (Landlock, seccomp, rlimits) is unavailable.
    #[arg(long)]
    strict: bool,
    /// The server program, then its arguments (after --).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM"
    )]
    command: Vec<String>,
}

#[derive(Debug, Args)]
struct DoctorArgs {
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Exit with status 1 when any protection is unavailable.
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Args)]
struct AuditArgs {
    /// The config file; default: Claude Desktop's claude_desktop_config.json for this OS.
    config: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long, conflicts_with = "fix")]
    json: bool,
    /// Rewrite risky entries to run under `ffmcp guard` with a generated minimal
    /// policy (<config dir>/ffmcp-guard/<server>.toml), after a timestamped backup.
    #[arg(long)]
    fix: bool,
}

#[derive(Debug, Subcommand)]
enum ConfigTarget {
    /// The effective configuration: every setting, its value and where it
    /// came from (environment, config file, default); secrets masked.
    Show {
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A claude_desktop_config.json fragment for the given servers (all by default).
    Claude {
        /// Servers to include (all by default).
        servers: Vec<String>,
        /// Launch through `npx -y ffmcp@VERSION` instead of this binary's path.
        #[arg(long)]
        npx: bool,
        /// Add FF_LLM_PRIMARY and an API-key placeholder to servers with model tools.
        #[arg(long)]
        model_env: bool,
        /// Merge into Claude Desktop's config (this OS's default path, or
        /// `--write=PATH`), keeping every other entry and a timestamped backup.
        /// A path needs the `=`: `--write transform` writes the `transform`
        /// server into the default config.
        #[arg(long, value_name = "PATH", num_args = 0..=1, require_equals = true)]
        write: Option<Option<PathBuf>>,
        /// The config file to merge into (implies --write).
        #[arg(long, value_name = "PATH", conflicts_with = "write")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_SERVE_ADDR)]
    http: SocketAddr,
    /// Refuse to run subprocesses when a protection is unavailable (also FF_STRICT=1).
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    http_opts: HttpArgs,
}

// Arguments of `ffmcp <server>` (subcommands built from the registry).
#[derive(Debug, Args)]
struct ServerArgs {
    /// Serve over streamable HTTP at ADDR (path /mcp) instead of stdio.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Serve no client: run only the server's background work (e.g. the
    /// competitive-intel scheduler) until interrupted.
    #[arg(long, conflicts_with = "http")]
    daemon: bool,
    /// Run one tool instead of serving, then its arguments: `ffmcp seo
    /// audit-page https://example.com`; `ffmcp <server> <tool> --help`
    /// lists them. Also the server's own commands, e.g. `ffmcp
    /// competitive-intel export --format csv`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "TOOL",
        conflicts_with_all = ["http", "daemon"]
    )]
    command: Vec<String>,
    /// Largest accepted stdio frame (one JSON-RPC line), in bytes
    /// [FF_MAX_FRAME_BYTES; default 4194304].
    #[arg(long, value_parser = positive)]
    max_frame_bytes: Option<usize>,
    /// Refuse to run subprocesses when a protection is unavailable (also FF_STRICT=1).
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    http_opts: HttpArgs,
}

/// HTTP transport options.
#[derive(Debug, Args)]
pub struct HttpArgs {
    /// File holding the bearer token clients must send (overrides FF_HTTP_TOKEN).
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// Allow a non-loopback bind without a bearer token.
    #[arg(long)]
    insecure_no_auth: bool,
    /// Also accept requests from this browser Origin (repeatable).
    #[arg(long, value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// Also accept this Host name (repeatable), e.g. the name behind a proxy.
    #[arg(long, value_name = "HOST")]
    allow_host: Vec<String>,
    /// No sessions: every request stands alone (for several instances behind a load balancer).
    #[arg(long)]
    stateless: bool,
    /// Largest accepted HTTP request body, in bytes [FF_MAX_BODY_BYTES; default 4194304].
    #[arg(long, value_parser = positive)]
    max_body_bytes: Option<usize>,
    /// Seconds a request body has to arrive once its head has (408 after)
    /// [FF_HTTP_BODY_TIMEOUT; default 30].
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    body_timeout: Option<Duration>,
    /// Open HTTP connections at most; at the cap the longest-idle one is
    /// closed [FF_MAX_CONNECTIONS; default 1024].
    #[arg(long, value_parser = positive)]
    max_connections: Option<usize>,
    /// Seconds to send a complete request head, from connecting or from the
    /// previous response (so also the keep-alive idle timeout)
    /// [FF_HTTP_HEADER_TIMEOUT; default 10].
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    header_timeout: Option<Duration>,
    /// Live MCP sessions at most (all servers together); `initialize` above
    /// it gets 503 [FF_MAX_SESSIONS; default 1000].
    #[arg(long, value_parser = positive)]
    max_sessions: Option<usize>,
    /// Seconds without traffic after which a session ends and its memory is
    /// freed [FF_SESSION_IDLE_TIMEOUT; default 600].
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    session_idle_timeout: Option<Duration>,
}

/// A count of at least one.
fn positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("'{text}' is not a whole number of at least 1")),
    }
}

/// A positive number of seconds (fractions allowed, e.g. `0.5`).
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !(value > 0.0 && value <= 86_400.0 * 365.0) {
        return Err(format!(
            "'{text}' is out of range: give a positive number of seconds up to a year"
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// What to do, resolved from the command line, and the config file named
/// on it.
#[derive(Debug)]
pub struct Invocation {
    pub command: Command,
    pub config_file: Option<PathBuf>,
}

/// What to do.
#[derive(Debug)]
pub enum Command {
    Stdio {
        server: String,
        max_frame_bytes: Option<usize>,
    },
    Http {
        server: String,
        bind: SocketAddr,
        args: HttpArgs,
    },
    ServeAll {
        bind: SocketAddr,
        args: HttpArgs,
    },
    Daemon {
        server: String,
    },
    RunServerTask {
        server: String,
        args: Vec<String>,
    },
    List,
    RegistryJson,
    ConfigClaude {
        options: crate::client_config::ClaudeOptions,
        write: Option<PathBuf>,
    },
    ConfigShow {
        json: bool,
    },
    Audit {
        config: Option<PathBuf>,
        json: bool,
        fix: bool,
    },
    Guard {
        policy: PathBuf,
        program: String,
        args: Vec<String>,
    },
    Doctor {
        json: bool,
        strict: bool,
    },
    Call {
        server: String,
        tool: String,
        arguments: String,
        structured: bool,
    },
    Db {
        migrate: bool,
        json: bool,
    },
}

impl Command {
    /// Serves one client over stdin/stdout.
    pub fn is_stdio(&self) -> bool {
        matches!(self, Command::Stdio { .. })
    }
}

/// Parses `std::env::args`, with one subcommand per registered server.
pub fn parse(servers: &Servers) -> Result<Invocation, clap::Error> {
    let mut command = Cli::command();
    for spec in servers.iter() {
        let sub = ServerArgs::augment_args(clap::Command::new(spec.name()))
            .about(spec.summary())
            .version(env!("CARGO_PKG_VERSION"));
        command = command.subcommand(sub);
    }
    let matches = command.try_get_matches()?;
    let config_file = matches.get_one::<PathBuf>("config_file").cloned();
    let command = resolve(servers, &matches)?;
    Ok(Invocation {
        command,
        config_file,
    })
}

fn resolve(servers: &Servers, matches: &clap::ArgMatches) -> Result<Command, clap::Error> {
    if let Some((name, sub)) = matches.subcommand()
        && servers.get(name).is_some()
    {
        let args = ServerArgs::from_arg_matches(sub)?;
        if args.strict {
            ffmcp_core::exec::set_strict(true);
        }
        let server = name.to_owned();
        if args.daemon {
            return Ok(Command::Daemon { server });
        }
        if !args.command.is_empty() {
            return Ok(Command::RunServerTask {
                server,
                args: args.command,
            });
        }
        return Ok(match args.http {
            Some(bind) => Command::Http {
                server,
                bind,
                args: args.http_opts,
            },
            None => Command::Stdio {
                server,
                max_frame_bytes: args.max_frame_bytes,
            },
        });
    }
    Ok(match Cli::from_arg_matches(matches)?.command {
        Fixed::Serve(args) => {
            if args.strict {
                ffmcp_core::exec::set_strict(true);
            }
            Command::ServeAll {
                bind: args.http,
                args: args.http_opts,
            }
        }
        Fixed::List => Command::List,
        Fixed::RegistryJson => Command::RegistryJson,
        Fixed::Config(ConfigTarget::Show { json }) => Command::ConfigShow { json },
        Fixed::Config(ConfigTarget::Claude {
            servers,
            npx,
            model_env,
            write,
            config,
        }) => Command::ConfigClaude {
            options: crate::client_config::ClaudeOptions {
                servers,
                npx,
                model_env,
            },
            // `Some(empty)`: the default config path.
            write: config.or(write.map(Option::unwrap_or_default)),
        },
        Fixed::Audit(AuditArgs { config, json, fix }) => Command::Audit { config, json, fix },
        Fixed::Guard(GuardArgs {
            policy,
            strict,
            mut command,
        }) => {
            if strict {
                ffmcp_core::exec::set_strict(true);
            }
            let program = command.remove(0);
            Command::Guard {
                policy,
                program,
                args: command,
            }
        }
        Fixed::Doctor(DoctorArgs { json, strict }) => Command::Doctor { json, strict },
        Fixed::Call(CallArgs {
            server,
            tool,
            arguments,
            structured,
        }) => {
            if servers.get(&server).is_none() {
                return Err(clap::Error::raw(
                    clap::error::ErrorKind::InvalidValue,
                    format!(
                        "unknown server '{server}'; this build offers: {}\n",
                        servers.names().join(", ")
                    ),
                ));
            }
            Command::Call {
                server,
                tool,
                arguments,
                structured,
            }
        }
        Fixed::Db(DbTarget::Migrate { json }) => Command::Db {
            migrate: true,
            json,
        },
        Fixed::Db(DbTarget::Status { json }) => Command::Db {
            migrate: false,
            json,
        },
    })
}

/// A flag, else the setting from the configuration, else the default; a
/// configured value that does not parse is an error naming the setting.
fn setting<T>(
    flag: Option<T>,
    config: &Config,
    name: &str,
    parse: fn(&str) -> Result<T, String>,
    default: T,
) -> anyhow::Result<T> {
    if let Some(value) = flag {
        return Ok(value);
    }
    match config.get(name) {
        None => Ok(default),
        Some(raw) => parse(raw).map_err(|e| {
            let from = config
                .source(name)
                .map_or_else(String::new, |s| format!(" (from the {s})"));
            anyhow::anyhow!("{name}{from}: {e}")
        }),
    }
}

fn stdio_options(flag: Option<usize>, config: &Config) -> anyhow::Result<StdioOptions> {
    Ok(StdioOptions {
        max_frame_bytes: setting(
            flag,
            config,
            "FF_MAX_FRAME_BYTES",
            positive,
            DEFAULT_MAX_FRAME_BYTES,
        )?,
    })
}

fn http_options(bind: SocketAddr, args: HttpArgs, config: &Config) -> anyhow::Result<HttpOptions> {
    let mut options = HttpOptions::new(bind);
    options.token = match &args.token_file {
        Some(path) => {
            let token = std::fs::read_to_string(path)
                .with_context(|| format!("reading --token-file {}", path.display()))?;
            Some(token.trim().to_owned())
        }
        None => config.get("FF_HTTP_TOKEN").map(|t| t.trim().to_owned()),
    };
    options.insecure_no_auth = args.insecure_no_auth;
    options.allowed_origins = args.allow_origin;
    options.allowed_hosts = args.allow_host;
    options.stateless = args.stateless;
    // Replicas on one PostgreSQL report in /healthz whether it answers.
    if let ffmcp_core::store::Location::Postgres(_) =
        ffmcp_core::store::Location::from_config(config)
    {
        options.health_store = Some(ffmcp_core::store::Store::open_default(config)?);
    }
    options.max_body_bytes = setting(
        args.max_body_bytes,
        config,
        "FF_MAX_BODY_BYTES",
        positive,
        http::DEFAULT_MAX_BODY_BYTES,
    )?;
    options.body_timeout = setting(
        args.body_timeout,
        config,
        "FF_HTTP_BODY_TIMEOUT",
        seconds,
        http::DEFAULT_BODY_TIMEOUT,
    )?;
    options.max_connections = setting(
        args.max_connections,
        config,
        "FF_MAX_CONNECTIONS",
        positive,
        http::DEFAULT_MAX_CONNECTIONS,
    )?;
    options.header_timeout = setting(
        args.header_timeout,
        config,
        "FF_HTTP_HEADER_TIMEOUT",
        seconds,
        http::DEFAULT_HEADER_TIMEOUT,
    )?;
    options.max_sessions = setting(
        args.max_sessions,
        config,
        "FF_MAX_SESSIONS",
        positive,
        http::DEFAULT_MAX_SESSIONS,
    )?;
    options.session_idle_timeout = setting(
        args.session_idle_timeout,
        config,
        "FF_SESSION_IDLE_TIMEOUT",
        seconds,
        http::DEFAULT_SESSION_IDLE_TIMEOUT,
    )?;
    Ok(options)
}

/// Runs a parsed command to completion; the exit code is success unless the
/// command reports otherwise (`audit` exits 2 on high-severity findings).
pub async fn run(invocation: Invocation, servers: &Servers) -> anyhow::Result<ExitCode> {
    let config = Config::load(invocation.config_file.as_deref())?;
    if config.flag(ffmcp_core::exec::STRICT_ENV) {
        ffmcp_core::exec::set_strict(true);
    }
    let context = Context::new(config);
    // The worker pool for CPU-heavy work is process-wide, like tokio's
    // blocking pool: the one the configuration asks for.
    ffmcp_core::work::Governor::install(context.governor.clone());
    let build = |name: &str| -> anyhow::Result<Server> {
        let spec = servers.get(name).context("unknown server")?;
        Ok(spec.build(&context)?)
    };
    match invocation.command {
        Command::Stdio {
            server,
            max_frame_bytes,
        } => {
            let options = stdio_options(max_frame_bytes, &context.config)?;
            let built = build(&server)?;
            tracing::info!(server = %server, "serving on stdio");
            let _background = built.start_background().map(AbortOnDrop);
            built.serve_stdio(options).await?;
        }
        Command::Http { server, bind, args } => {
            let options = http_options(bind, args, &context.config)?;
            let built = build(&server)?;
            let endpoint = built.http_endpoint(&options);
            let name = server.clone();
            let _background = built.start_background().map(AbortOnDrop);
            http::serve(vec![("/mcp".to_owned(), endpoint)], options, |addr| {
                announce(&format!("ffmcp {name}: MCP endpoint http://{addr}/mcp"));
            })
            .await?;
        }
        Command::ServeAll { bind, args } => {
            let options = http_options(bind, args, &context.config)?;
            let built = servers
                .iter()
                .map(|spec| Ok((spec.name(), spec.summary(), build(spec.name())?)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mut endpoints: Vec<_> = built
                .iter()
                .map(|(name, _, server)| (format!("/{name}/mcp"), server.http_endpoint(&options)))
                .collect();
            let token = options.token.is_some();
            let _background: Vec<_> = built
                .iter()
                .filter_map(|(_, _, server)| server.start_background().map(AbortOnDrop))
                .collect();
            // The read-only operator page, behind the same guards.
            endpoints.push((
                "/".to_owned(),
                crate::operator::router(std::sync::Arc::new(built)),
            ));
            http::serve(endpoints, options, |addr| {
                announce(&serve_banner(servers, addr, token));
            })
            .await?;
        }
        Command::Daemon { server } => {
            let built = build(&server)?;
            let task = built.start_background().with_context(|| {
                format!("{server} has no background work; --daemon applies to servers that run on a schedule")
            })?;
            announce(&format!(
                "ffmcp {server}: running headless (no client); stop with Ctrl-C"
            ));
            tokio::select! {
                done = task => done.context("the background task stopped")?.map_err(anyhow::Error::msg)?,
                () = ffmcp_core::transport::shutdown_signal() => {}
            }
        }
        Command::RunServerTask { server, mut args } => {
            let built = build(&server)?;
            let tool = args.remove(0);
            let given = crate::tool_cli::Given::Words(args.clone());
            match crate::tool_cli::run(&built, &server, &tool, given, &context).await? {
                crate::tool_cli::Outcome::Exit(code) => return Ok(code),
                crate::tool_cli::Outcome::NotATool(tools) => {
                    args.insert(0, tool.clone());
                    let Some(run) = built.run_command(args) else {
                        return Ok(unknown_tool(&server, &tool, &tools));
                    };
                    write_stdout(&run.await.map_err(anyhow::Error::msg)?)?;
                }
            }
        }
        Command::Call {
            server,
            tool,
            arguments,
            structured,
        } => {
            let built = build(&server)?;
            let given = crate::tool_cli::Given::Json {
                text: arguments,
                structured,
            };
            match crate::tool_cli::run(&built, &server, &tool, given, &context).await? {
                crate::tool_cli::Outcome::Exit(code) => return Ok(code),
                crate::tool_cli::Outcome::NotATool(tools) => {
                    return Ok(unknown_tool(&server, &tool, &tools));
                }
            }
        }
        Command::RegistryJson => write_stdout(&crate::registry_json::render(servers))?,
        Command::List => {
            let mut out = String::new();
            for spec in servers.iter() {
                out.push_str(&format!("{:<20} {}\n", spec.name(), spec.summary()));
            }
            write_stdout(&out)?;
        }
        Command::ConfigClaude { options, write } => {
            let entries = crate::client_config::entries(servers, &options)?;
            match write {
                None => write_stdout(&crate::client_config::fragment(entries)?)?,
                Some(path) => {
                    let path = if path.as_os_str().is_empty() {
                        ffmcp_audit::default_config_path(|k| std::env::var_os(k))?
                    } else {
                        path
                    };
                    let merged = crate::client_config::merge_into(&path, entries)?;
                    write_stdout(&merged.describe())?;
                }
            }
        }
        Command::Audit { config, json, fix } => {
            // Reads and writes files: keep it off the async threads.
            let outcome = tokio::task::spawn_blocking(move || {
                if fix {
                    ffmcp_audit::fix(config)
                } else {
                    ffmcp_audit::run(config, json)
                }
            })
            .await??;
            write_stdout(&outcome.output)?;
            return Ok(ExitCode::from(outcome.exit_code));
        }
        Command::Guard {
            policy,
            program,
            args,
        } => {
            // Reads a file: off the async threads, as `audit` is.
            let policy =
                tokio::task::spawn_blocking(move || ffmcp_guard::GuardPolicy::load(&policy))
                    .await??;
            let sandbox = ffmcp_core::exec::Sandbox::from_env()
                .context("finding this ffmcp binary (the sandbox helper)")?;
            let code = ffmcp_guard::run(&sandbox, &policy, &program, &args).await?;
            return Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)));
        }
        Command::ConfigShow { json } => {
            let settings = crate::doctor::effective(servers, &context.config);
            let file = context.config.file().map(|p| p.display().to_string());
            write_stdout(&if json {
                let mut text = serde_json::to_string_pretty(&serde_json::json!({
                    "config_file": file,
                    "settings": settings,
                }))?;
                text.push('\n');
                text
            } else {
                crate::doctor::settings_text(file.as_deref(), &settings)
                    .trim_start()
                    .to_owned()
            })?;
        }
        Command::Doctor { json, strict } => {
            let report = crate::doctor::report(servers, &context).await?;
            write_stdout(&if json {
                report.to_json()
            } else {
                report.to_text()
            })?;
            let failing = strict && !report.all_active();
            return Ok(if failing {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            });
        }
        Command::Db { migrate, json } => {
            let report = crate::db::run(servers, &context.config, migrate).await;
            write_stdout(&if json {
                report.to_json()
            } else {
                report.to_text()
            })?;
            return Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ffmcp <server> <word>` where the word is neither a tool nor a command.
fn unknown_tool(server: &str, tool: &str, tools: &[String]) -> ExitCode {
    announce(&format!(
        "ffmcp: error: {server} has no tool '{tool}'; its tools: {} (`ffmcp {server} <tool> --help` for one's arguments)",
        tools.join(", ")
    ));
    ExitCode::from(2)
}

/// Stops a server's background task when the serving command ends.
struct AbortOnDrop(tokio::task::JoinHandle<Result<(), String>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The startup banner of `ffmcp serve`: endpoints and a Claude Desktop block.
fn serve_banner(servers: &Servers, addr: SocketAddr, token: bool) -> String {
    let mut text = format!(
        "ffmcp serving {} servers on http://{addr}\n",
        servers.names().len()
    );
    let mut entries = serde_json::Map::new();
    for spec in servers.iter() {
        let url = format!("http://{addr}/{}/mcp", spec.name());
        text.push_str(&format!("  {:<20} {url}\n", spec.name()));
        let mut args = vec!["-y".to_owned(), "mcp-remote".to_owned(), url];
        if token {
            args.extend([
                "--header".to_owned(),
                "Authorization: Bearer ${FF_HTTP_TOKEN}".to_owned(),
            ]);
        }
        entries.insert(
            spec.name().to_owned(),
            serde_json::json!({ "command": "npx", "args": args }),
        );
    }
    text.push_str(&format!("  {:<20} http://{addr}/\n", "operator page"));
    text.push_str("  health               ");
    text.push_str(&format!("http://{addr}/healthz\n\n"));
    text.push_str("Claude Desktop (claude_desktop_config.json), through the mcp-remote bridge:\n");
    let block = serde_json::json!({ "mcpServers": entries });
    text.push_str(&serde_json::to_string_pretty(&block).unwrap_or_default());
    text.push('\n');
    text
}

/// Status lines for HTTP modes go to stderr (stdout may be a pipe).
fn announce(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.write_all(b"\n");
}

/// Output of the informational commands (`list`, `config`, `audit`).
fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_settings_come_from_flags_then_config_then_defaults() {
        let cli = ServerArgs::augment_args(clap::Command::new("x"));
        let bind: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let parse = |argv: &[&str]| {
            let matches = cli.clone().try_get_matches_from(argv).expect("parses");
            ServerArgs::from_arg_matches(&matches)
                .expect("args")
                .http_opts
        };
        let none = Config::default();
        let http = http_options(bind, parse(&["x"]), &none).expect("defaults");
        assert_eq!(http.body_timeout, http::DEFAULT_BODY_TIMEOUT);
        assert_eq!(http.header_timeout, http::DEFAULT_HEADER_TIMEOUT);
        assert_eq!(
            http.session_idle_timeout,
            http::DEFAULT_SESSION_IDLE_TIMEOUT
        );
        assert_eq!(http.max_sessions, http::DEFAULT_MAX_SESSIONS);

        let config =
            Config::from_pairs([("FF_MAX_SESSIONS", "7"), ("FF_HTTP_BODY_TIMEOUT", "2.5")]);
        let http = http_options(bind, parse(&["x"]), &config).expect("configured");
        assert_eq!(http.max_sessions, 7);
        assert_eq!(http.body_timeout, Duration::from_millis(2500));
        let http = http_options(bind, parse(&["x", "--max-sessions", "3"]), &config).expect("flag");
        assert_eq!(http.max_sessions, 3, "a flag wins over the configuration");

        let bad = Config::from_pairs([("FF_MAX_SESSIONS", "lots")]);
        let err = http_options(bind, parse(&["x"]), &bad).expect_err("refused");
        assert!(err.to_string().contains("FF_MAX_SESSIONS"), "{err}");

        assert_eq!(seconds("0.25"), Ok(Duration::from_millis(250)));
        assert!(seconds("0").is_err() && seconds("-1").is_err() && seconds("soon").is_err());
    }
}

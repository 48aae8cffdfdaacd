//! The process's configuration: every setting ffmcp reads, from one place.
//!
//! [`Config`] is built once by the binary — from the environment, over an
//! optional TOML file (`--config-file PATH` or `FF_CONFIG_FILE`) whose keys
//! are the same names (`FF_MAX_CALLS = 8`) — and handed to every server
//! factory ([`crate::ServerSpec`]). Nothing below the binary reads the
//! environment: each module parses its own typed settings from the
//! `Config` (`RouterConfig::from_config`, `FetchPolicy::from_config`, …),
//! so two differently configured servers can live in one process and tests
//! build a `Config` from pairs instead of mutating the environment.
//!
//! Each setting is declared once ([`Setting`]: name, default, whether it is
//! secret, one line of help) by the module that reads it; `ffmcp doctor` and
//! `ffmcp config show` print the effective value of every declared setting
//! with where it came from, secrets masked ([`Config::effective`]).
//!
//! Hand-written rather than `figment`/`config`: the layering is two levels
//! (environment over file) of flat string values that each module already
//! parses with its own error messages; those crates would add a dependency
//! tree for a 150-line map.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use serde::Serialize;

/// The environment variable naming the optional configuration file.
pub const CONFIG_FILE_ENV: &str = "FF_CONFIG_FILE";

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The process environment.
    Environment,
    /// The configuration file.
    File,
    /// Set by the program (a command-line flag, or a test).
    Explicit,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Environment => "environment",
            Self::File => "config file",
            Self::Explicit => "flag",
        })
    }
}

/// One setting a module reads, declared next to the code that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The variable name, e.g. `FF_MAX_CALLS`.
    pub name: &'static str,
    /// The default, as shown to people (`""` when unset means "off").
    pub default: &'static str,
    /// Whether the value is a credential (masked when shown).
    pub secret: bool,
    /// One line: what it does.
    pub help: &'static str,
}

impl Setting {
    /// A non-secret setting.
    pub const fn new(name: &'static str, default: &'static str, help: &'static str) -> Self {
        Self {
            name,
            default,
            secret: false,
            help,
        }
    }

    /// A credential: its value is never shown.
    pub const fn secret(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            default: "",
            secret: true,
            help,
        }
    }
}

/// A setting's effective value, for `doctor` and `config show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Effective {
    /// Who reads it: `core` or a server's name.
    pub owner: String,
    /// The variable name.
    pub name: &'static str,
    /// The value (masked for secrets), or the default when unset.
    pub value: String,
    /// `None`: the default applies.
    pub source: Option<Source>,
    /// What it does.
    pub help: &'static str,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("could not read the config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a flat TOML table of settings.
    #[error("the config file {path} is not valid: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the key or line.
        message: String,
    },
}

/// Every value the process was configured with; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Config {
    values: BTreeMap<String, (String, Source)>,
    file: Option<PathBuf>,
}

impl Config {
    /// The process environment, over the file named by `file` or, when that
    /// is `None`, by `FF_CONFIG_FILE` (if set).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env = environment();
        let file = file.map(Path::to_path_buf).or_else(|| {
            env.iter()
                .find(|(k, v)| k == CONFIG_FILE_ENV && !v.trim().is_empty())
                .map(|(_, v)| PathBuf::from(v))
        });
        let mut config = Self::default();
        if let Some(path) = file {
            config.read_file(&path)?;
            config.file = Some(path);
        }
        config.overlay_environment(env);
        Ok(config)
    }

    /// The process environment only, no file (tests, examples and tools).
    pub fn from_env() -> Self {
        let mut config = Self::default();
        config.overlay_environment(environment());
        config
    }

    fn overlay_environment(&mut self, env: Vec<(String, String)>) {
        for (name, value) in env {
            self.values.insert(name, (value, Source::Environment));
        }
    }

    /// Exactly these values and nothing from the environment (tests).
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut config = Self::default();
        for (k, v) in pairs {
            config.set(k, v);
        }
        config
    }

    /// Sets a value from the program (a command-line flag), over any other.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values
            .insert(name.into(), (value.into(), Source::Explicit));
    }

    /// The configuration file in use, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// A value, when set and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(|(v, _)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// Where a value came from (`None`: unset, the default applies).
    pub fn source(&self, name: &str) -> Option<&Source> {
        self.values
            .get(name)
            .filter(|(v, _)| !v.trim().is_empty())
            .map(|(_, s)| s)
    }

    /// [`Config::get`] as an owned-string lookup, for the `from_lookup`
    /// parsers.
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.values.get(name).map(|(v, _)| v.clone())
    }

    /// Whether a flag-like setting is on (`1`, `true`, `yes`).
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| {
            let v = v.trim();
            v == "1" || v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes")
        })
    }

    /// The effective value of each of `owner`'s `settings`.
    pub fn effective(&self, owner: &str, settings: &[Setting]) -> Vec<Effective> {
        settings
            .iter()
            .map(|s| {
                let source = self.source(s.name).cloned();
                let value = match (self.get(s.name), s.secret) {
                    (Some(_), true) => "(set, hidden)".to_owned(),
                    // A URL's password (FF_DB=postgres://u:secret@…) is masked too.
                    (Some(v), false) => crate::store::mask_password(v),
                    (None, _) if s.default.is_empty() => "(unset)".to_owned(),
                    (None, _) => s.default.to_owned(),
                };
                Effective {
                    owner: owner.to_owned(),
                    name: s.name,
                    value,
                    source,
                    help: s.help,
                }
            })
            .collect()
    }

    fn read_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        for (key, value) in table {
            if !key.starts_with("FF_") && !PROVIDER_KEYS.contains(&key.as_str()) {
                return Err(invalid(format!(
                    "unknown key '{key}': keys are ffmcp's setting names (FF_…, or a \
                     provider variable such as ANTHROPIC_API_KEY)"
                )));
            }
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(x) => x.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => items
                    .iter()
                    .map(|i| match i {
                        toml::Value::String(s) => Ok(s.clone()),
                        other => Err(invalid(format!(
                            "'{key}': list items must be strings, found {other}"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
                other => {
                    return Err(invalid(format!(
                        "'{key}' must be a string, number, boolean or list of strings, not {}",
                        other.type_str()
                    )));
                }
            };
            self.values.insert(key, (text, Source::File));
        }
        Ok(())
    }
}

/// The process environment (variables that are not UTF-8 are left out:
/// no setting of ours can be one).
fn environment() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Provider variables a config file may set besides `FF_*`.
const PROVIDER_KEYS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_COMPAT_API_KEY",
    "GEMINI_API_KEY",
    "GEMINI_BASE_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
];

/// The settings core itself reads (transports, governance, fetch policy,
/// roots, store, models, sandbox).
pub const CORE_SETTINGS: &[Setting] = &[
    Setting::new(
        CONFIG_FILE_ENV,
        "",
        "TOML file of settings (the environment wins over it)",
    ),
    Setting::new(
        "FF_LOG",
        "info",
        "log filter (tracing EnvFilter syntax), to stderr",
    ),
    Setting::new(
        "FF_ROOTS",
        "",
        "directories tools may read and write (path-list)",
    ),
    Setting::new(
        "FF_DB",
        "~/.local/share/ffmcp/ffmcp.db",
        "the store: a SQLite file, or a postgres:// URL (password shown masked)",
    ),
    Setting::new(
        "FF_DB_POOL_SIZE",
        "8",
        "PostgreSQL connections per server in a process, at most",
    ),
    Setting::new(
        "FF_DB_POOL_WAIT_MS",
        "10000",
        "longest wait for a free PostgreSQL connection",
    ),
    Setting::new(
        "FF_DB_CONNECT_TIMEOUT_MS",
        "5000",
        "longest wait to open a PostgreSQL connection",
    ),
    Setting::new(
        "FF_DB_CA_FILE",
        "",
        "PEM CA certificates PostgreSQL TLS trusts instead of the system's (sslmode=require/verify-full)",
    ),
    Setting::secret(
        "FF_DB_PASSWORD",
        "the PostgreSQL password (instead of putting it in FF_DB)",
    ),
    Setting::new(
        "FF_ALLOW_HOSTS",
        "",
        "hosts/CIDRs fetches may reach besides the public internet",
    ),
    Setting::new(
        "FF_ALLOW_PRIVATE_NETWORK",
        "false",
        "let fetches reach private and loopback addresses",
    ),
    Setting::new(
        "FF_STRICT",
        "false",
        "refuse to run subprocesses without every sandbox protection",
    ),
    Setting::secret(
        "FF_STATE_KEY",
        "key sealing the state of questions to the user (32+ characters; replicas share it)",
    ),
    Setting::new(
        "FF_TASK_TTL_SECS",
        "86400",
        "how long an MCP task and its result are kept (seconds)",
    ),
    Setting::new(
        "FF_TASK_LEASE_SECS",
        "30",
        "a task whose process has been silent this long is taken over (seconds)",
    ),
    Setting::new(
        "FF_TASK_POLL_MS",
        "1000",
        "the task polling interval suggested to clients (milliseconds)",
    ),
    Setting::new(
        "FF_MAX_CALLS",
        "4 x CPUs, at least 8",
        "tool calls running at once, process-wide",
    ),
    Setting::new(
        "FF_MAX_CALLS_PER_SESSION",
        "FF_MAX_CALLS / 2",
        "tool calls running at once per session",
    ),
    Setting::new(
        "FF_CALL_QUEUE",
        "4 x FF_MAX_CALLS",
        "calls waiting for a slot before 'busy'",
    ),
    Setting::new("FF_CALL_QUEUE_WAIT_MS", "30000", "longest wait for a slot"),
    Setting::new("FF_WORKERS", "CPUs", "threads for CPU-heavy work"),
    Setting::new(
        "FF_CALL_TIMEOUT_SECS",
        "120 (seo 600, docparse 300)",
        "a tool call's time budget (FF_CALL_TIMEOUT_SECS_<SERVER> per server)",
    ),
    Setting::new(
        "FF_CALL_TIMEOUT_MAX_SECS",
        "900",
        "the most a call may ask for with _meta ffmcp/timeoutMs",
    ),
    Setting::new("FF_MAX_FRAME_BYTES", "4194304", "largest stdio message"),
    Setting::secret("FF_HTTP_TOKEN", "bearer token HTTP clients must send"),
    Setting::new("FF_MAX_BODY_BYTES", "4194304", "largest HTTP request body"),
    Setting::new(
        "FF_HTTP_BODY_TIMEOUT",
        "30",
        "seconds for a request body to arrive",
    ),
    Setting::new(
        "FF_HTTP_HEADER_TIMEOUT",
        "10",
        "seconds for a request head (and keep-alive idle)",
    ),
    Setting::new(
        "FF_MAX_CONNECTIONS",
        "1024",
        "open HTTP connections at most",
    ),
    Setting::new("FF_MAX_SESSIONS", "1000", "live MCP sessions at most"),
    Setting::new(
        "FF_SESSION_IDLE_TIMEOUT",
        "600",
        "seconds before an idle session ends",
    ),
    Setting::new(
        "FF_LLM_PRIMARY",
        "",
        "model route(s), e.g. anthropic:claude-sonnet-4-5",
    ),
    Setting::new("FF_LLM_FALLBACKS", "", "more routes, tried in order"),
    Setting::new(
        "FF_EMBED_MODEL",
        "",
        "embedding route, e.g. openai:text-embedding-3-small (coderag's dense retrieval)",
    ),
    Setting::new(
        "FF_LLM_TIMEOUT_MS",
        "60000",
        "one model attempt's time limit",
    ),
    Setting::new("FF_LLM_MAX_ATTEMPTS", "3", "attempts per route"),
    Setting::new("FF_LLM_BACKOFF_MS", "100", "first retry backoff ceiling"),
    Setting::new(
        "FF_LLM_BACKOFF_MAX_MS",
        "2000",
        "largest retry backoff ceiling",
    ),
    Setting::new(
        "FF_LLM_RETRY_AFTER_CAP_MS",
        "5000",
        "longest retry-after honoured",
    ),
    Setting::new(
        "FF_LLM_BREAKER_FAILURES",
        "3",
        "failed calls that open a route's breaker",
    ),
    Setting::new(
        "FF_LLM_COOLDOWN_MS",
        "30000",
        "how long an open breaker skips its route",
    ),
    Setting::new(
        "FF_LLM_PRICES",
        "",
        "model prices (USD per million tokens) added or overridden",
    ),
    Setting::new(
        "FF_LLM_PROXY",
        "",
        "the proxy for model calls (environment proxies are ignored)",
    ),
    Setting::secret("ANTHROPIC_API_KEY", "Anthropic key"),
    Setting::new(
        "ANTHROPIC_BASE_URL",
        "https://api.anthropic.com",
        "Anthropic endpoint",
    ),
    Setting::secret("OPENAI_API_KEY", "OpenAI key"),
    Setting::new(
        "OPENAI_BASE_URL",
        "https://api.openai.com/v1",
        "OpenAI endpoint",
    ),
    Setting::secret(
        "OPENAI_COMPAT_API_KEY",
        "key for the OpenAI-compatible server",
    ),
    Setting::secret("GEMINI_API_KEY", "Gemini key"),
    Setting::new(
        "GEMINI_BASE_URL",
        "https://generativelanguage.googleapis.com",
        "Gemini endpoint",
    ),
    Setting::secret("AWS_ACCESS_KEY_ID", "Bedrock access key id"),
    Setting::secret("AWS_SECRET_ACCESS_KEY", "Bedrock secret key"),
    Setting::secret("AWS_SESSION_TOKEN", "Bedrock session token"),
    Setting::new("AWS_REGION", "", "Bedrock region (or AWS_DEFAULT_REGION)"),
    Setting::new(
        "AWS_PROFILE",
        "default",
        "Bedrock: profile of ~/.aws/config and ~/.aws/credentials",
    ),
    Setting::secret(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "Bedrock: ECS/EKS container credentials token",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_wins_over_the_file_and_secrets_are_masked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ffmcp.toml");
        std::fs::write(
            &path,
            "FF_MAX_CALLS = 8\nFF_ALLOW_HOSTS = [\"a.example\", \"b.example\"]\nOPENAI_API_KEY = \"sk-file\"\n",
        )
        .expect("write");
        let mut config = Config::default();
        config.read_file(&path).expect("reads");
        assert_eq!(config.get("FF_MAX_CALLS"), Some("8"));
        assert_eq!(config.get("FF_ALLOW_HOSTS"), Some("a.example,b.example"));
        assert_eq!(config.source("FF_MAX_CALLS"), Some(&Source::File));
        config.set("FF_MAX_CALLS", "3");
        assert_eq!(config.get("FF_MAX_CALLS"), Some("3"));
        let shown = config.effective("core", CORE_SETTINGS);
        let key = shown
            .iter()
            .find(|e| e.name == "OPENAI_API_KEY")
            .expect("listed");
        assert!(!key.value.contains("sk-file"), "{key:?}");
        let db = shown.iter().find(|e| e.name == "FF_DB").expect("listed");
        assert_eq!(db.source, None);
        config.set("FF_DB", "postgres://ffmcp:pw-in-url@db.internal/ffmcp");
        let shown = config.effective("core", CORE_SETTINGS);
        let db = shown.iter().find(|e| e.name == "FF_DB").expect("listed");
        assert_eq!(db.value, "postgres://ffmcp:***@db.internal/ffmcp");
    }

    #[test]
    fn a_bad_file_is_refused_with_the_key_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ffmcp.toml");
        std::fs::write(&path, "PATH = \"/evil\"\n").expect("write");
        let err = Config::default().read_file(&path).expect_err("refused");
        assert!(err.to_string().contains("unknown key 'PATH'"), "{err}");
        std::fs::write(&path, "FF_MAX_CALLS = { a = 1 }\n").expect("write");
        let err = Config::default().read_file(&path).expect_err("refused");
        assert!(err.to_string().contains("FF_MAX_CALLS"), "{err}");
    }
}

//! `ffmcp doctor`: which protections are active on this machine, verified
//! by a real probe (a confined helper that tries to escape: a socket, a
//! process, files outside its paths, a pathname and an abstract Unix socket
//! the parent listens on, AF_VSOCK, AF_NETLINK, signalling its parent, an
//! inherited descriptor), plus the configuration that decides what tools
//! may touch.

use ffmcp_core::{
    Context, Servers,
    config::{CORE_SETTINGS, Effective},
    exec::{self, ProbeReport, Programs, Sandbox},
    fetch::{FetchPolicy, policy::ALLOW_HOSTS_ENV, policy::ALLOW_PRIVATE_ENV},
    roots::Roots,
};
use serde_json::{Value, json};

/// Everything `doctor` found.
#[derive(Debug)]
pub struct Report {
    probe: Result<ProbeReport, String>,
    strict: bool,
    roots: Result<String, String>,
    fetch: Result<String, String>,
    programs: Vec<(String, Result<String, String>)>,
    kernel: String,
    servers: Vec<String>,
    client_config: String,
    routes: Vec<String>,
    /// The embedding route (`FF_EMBED_MODEL`) and what its setup lacks.
    embedding: Option<(String, Option<String>)>,
    model_problems: Vec<String>,
    keys: Vec<(&'static str, bool)>,
    database: String,
    config_file: Option<String>,
    settings: Vec<Effective>,
}

/// Provider credentials doctor reports as set or unset (never their values).
const KEY_VARS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
];

/// Runs the probe and reads the configuration.
pub async fn report(servers: &Servers, context: &Context) -> anyhow::Result<Report> {
    let config = &*context.config;
    let sandbox = Sandbox::from_env()?;
    let probe = sandbox.probe().await.map_err(|e| e.to_string());
    let roots = match Roots::from_config(config) {
        Ok(roots) if roots.is_empty() => {
            Err("FF_ROOTS unset: file tools use the roots the MCP client announces, and refuse every path without them".to_owned())
        }
        Ok(roots) => Ok(roots.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let fetch = FetchPolicy::from_config(config).map(|p| {
        if p == FetchPolicy::public_only() {
            format!("public addresses only ({ALLOW_HOSTS_ENV} and {ALLOW_PRIVATE_ENV} unset)")
        } else {
            format!(
                "public addresses, plus {ALLOW_HOSTS_ENV}={} {ALLOW_PRIVATE_ENV}={}",
                config.get(ALLOW_HOSTS_ENV).unwrap_or_default(),
                config.get(ALLOW_PRIVATE_ENV).unwrap_or_default()
            )
        }
    });
    let found = Programs::discover(exec::catalog::all());
    let mut programs: Vec<(String, Result<String, String>)> = found
        .found()
        .into_iter()
        .map(|p| (p.name().to_owned(), Ok(p.path().display().to_string())))
        .collect();
    programs.extend(
        found
            .missing()
            .iter()
            .map(|(name, why)| (name.clone(), Err(why.clone()))),
    );
    programs.sort_by(|a, b| a.0.cmp(&b.0));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|r| format!("{} {}", std::env::consts::OS, r.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_owned());
    let client_config = match ffmcp_audit::default_config_path(|k| std::env::var_os(k)) {
        Ok(path) if path.is_file() => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let ours = text.matches("ffmcp").count();
            format!(
                "{} (mentions ffmcp {ours} times; `ffmcp audit` checks it)",
                path.display()
            )
        }
        Ok(path) => format!(
            "none at {} (`ffmcp config claude` prints an entry)",
            path.display()
        ),
        Err(e) => format!("unknown: {e}"),
    };
    let router = &context.models;
    let routes = router.status().into_iter().map(|r| r.route).collect();
    let embedding = router.embed_status().map(|r| (r.route, r.setup_missing));
    let model_problems = router.problems().to_vec();
    let keys = KEY_VARS
        .iter()
        .map(|k| (*k, config.get(k).is_some()))
        .collect();
    let database = match ffmcp_core::store::Location::from_config(config) {
        ffmcp_core::store::Location::Sqlite(db) => match std::fs::metadata(&db) {
            Ok(meta) => format!("{} ({} KiB)", db.display(), meta.len() / 1024),
            Err(_) => format!("{} (created on first use)", db.display()),
        },
        location @ ffmcp_core::store::Location::Postgres(_) => {
            let answer = match ffmcp_core::store::Store::open_default(config) {
                Ok(store) => store.ping().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match answer {
                Ok(()) => format!("{location} (PostgreSQL, reachable; `ffmcp db status`)"),
                Err(e) => format!("{location} (PostgreSQL, NOT reachable: {e})"),
            }
        }
    };
    Ok(Report {
        config_file: config.file().map(|p| p.display().to_string()),
        settings: effective(servers, config),
        servers: servers.names().iter().map(|s| (*s).to_owned()).collect(),
        client_config,
        routes,
        embedding,
        model_problems,
        keys,
        database,
        probe,
        strict: sandbox.is_strict(),
        roots,
        fetch,
        programs,
        kernel,
    })
}

/// One `key  value` row of the text report.
fn line(out: &mut String, key: &str, value: &str) {
    out.push_str(&format!("  {key:<16}{value}\n"));
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

impl Report {
    /// Every protection applied and every escape the probe tried blocked.
    pub fn all_active(&self) -> bool {
        self.probe.as_ref().is_ok_and(ProbeReport::all_held)
    }

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut out = format!("ffmcp {} doctor\n\n", env!("CARGO_PKG_VERSION"));
        line(&mut out, "servers", &self.servers.join(", "));
        line(&mut out, "client config", &self.client_config);
        line(&mut out, "database", &self.database);
        if self.routes.is_empty() {
            line(
                &mut out,
                "model routes",
                "none (model tools fail with instructions; MCP sampling works if the client offers it)",
            );
        } else {
            line(&mut out, "model routes", &self.routes.join(" -> "));
        }
        match &self.embedding {
            None => line(
                &mut out,
                "embedding route",
                "none (FF_EMBED_MODEL unset; coderag searches with BM25 only)",
            ),
            Some((route, None)) => line(&mut out, "embedding route", route),
            Some((route, Some(missing))) => line(
                &mut out,
                "embedding route",
                &format!("{route} (PROBLEM: {missing})"),
            ),
        }
        for problem in &self.model_problems {
            line(&mut out, "model config", &format!("PROBLEM: {problem}"));
        }
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|(k, set)| format!("{k} {}", if *set { "set" } else { "unset" }))
            .collect();
        line(&mut out, "credentials", &keys.join(", "));
        out.push_str("\nsecurity protections on this machine\n\n");
        match &self.probe {
            Ok(p) => {
                line(&mut out, "Landlock", &p.applied.landlock);
                line(&mut out, "seccomp", &p.applied.seccomp);
                line(
                    &mut out,
                    "local sockets",
                    &format!(
                        "{}; guard `unix_sockets` {}",
                        p.applied.local_sockets,
                        if p.applied.unix_connect_confined {
                            "limited to the named paths (Landlock RESOLVE_UNIX)"
                        } else {
                            "would open every pathname socket (needs Landlock ABI 9; --strict refuses)"
                        }
                    ),
                );
                line(&mut out, "signals", &p.applied.signals);
                line(
                    &mut out,
                    "inherited fds",
                    if p.applied.inherited_fds_closed {
                        "every descriptor above 2 closed at exec"
                    } else {
                        "NOT closed"
                    },
                );
                line(&mut out, "no_new_privs", yes_no(p.applied.no_new_privs));
                line(&mut out, "rlimits", &p.applied.rlimits);
                for (check, blocked) in p.checks() {
                    line(
                        &mut out,
                        "tried",
                        &format!(
                            "{check}: {}",
                            if blocked { "blocked" } else { "NOT BLOCKED" }
                        ),
                    );
                }
            }
            Err(e) => line(&mut out, "sandbox", &format!("probe FAILED: {e}")),
        }
        line(
            &mut out,
            "strict mode",
            if self.strict {
                "on: programs are refused when a protection is missing"
            } else {
                "off (--strict or FF_STRICT=1 refuses to run programs when a protection is missing)"
            },
        );
        line(
            &mut out,
            "process groups",
            "every subprocess runs in its own group, killed whole on timeout or cancel",
        );
        line(
            &mut out,
            "environment",
            "cleared for subprocesses except PATH, LANG, TMPDIR, HOME and per-program names; LD_*/DYLD_* never pass",
        );
        match &self.roots {
            Ok(r) => line(&mut out, "roots", r),
            Err(e) => line(&mut out, "roots", e),
        }
        match &self.fetch {
            Ok(f) => line(&mut out, "fetch", f),
            Err(e) => line(&mut out, "fetch", &format!("INVALID: {e}")),
        }
        for (name, state) in &self.programs {
            let value = match state {
                Ok(path) => format!("{name}: {path}"),
                Err(why) => format!("{name}: {why}"),
            };
            line(&mut out, "program", &value);
        }
        line(&mut out, "system", &self.kernel);
        out.push_str(&settings_text(self.config_file.as_deref(), &self.settings));
        out.push('\n');
        out.push_str(if self.all_active() {
            "All protections are active.\n"
        } else {
            "Some protections are unavailable (see above); ffmcp still runs, `--strict` refuses instead.\n"
        });
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        let value = json!({
            "version": env!("CARGO_PKG_VERSION"),
            "servers": self.servers,
            "client_config": self.client_config,
            "database": self.database,
            "model_routes": self.routes,
            "embedding_route": self.embedding.as_ref().map(|(route, missing)| json!({"route": route, "setup_missing": missing})),
            "model_problems": self.model_problems,
            "credentials": self.keys.iter().map(|(k, set)| (k.to_string(), json!(set))).collect::<serde_json::Map<_, _>>(),
            "all_active": self.all_active(),
            "sandbox": match &self.probe {
                Ok(p) => serde_json::to_value(p).unwrap_or(Value::Null),
                Err(e) => json!({ "error": e }),
            },
            "checks": match &self.probe {
                Ok(p) => p.checks().into_iter().map(|(check, blocked)| {
                    json!({ "check": check, "result": if blocked { "blocked" } else { "not blocked" } })
                }).collect::<Vec<_>>(),
                Err(_) => Vec::new(),
            },
            "strict": self.strict,
            "roots": result_json(&self.roots),
            "fetch": result_json(&self.fetch),
            "programs": self.programs.iter().map(|(name, state)| match state {
                Ok(path) => json!({ "name": name, "path": path }),
                Err(why) => json!({ "name": name, "unavailable": why }),
            }).collect::<Vec<_>>(),
            "system": self.kernel,
            "config_file": self.config_file,
            "settings": self.settings,
        });
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Every declared setting, core's then each server's, with its value and
/// source (secrets masked).
pub fn effective(servers: &Servers, config: &ffmcp_core::Config) -> Vec<Effective> {
    let mut all = config.effective("core", CORE_SETTINGS);
    for spec in servers.iter() {
        all.extend(config.effective(spec.name(), spec.own_settings()));
    }
    all
}

/// The effective configuration as text: one line per setting.
pub fn settings_text(file: Option<&str>, settings: &[Effective]) -> String {
    let mut out = String::from(
        "\nEffective configuration (environment over the config file over defaults):\n",
    );
    out.push_str(&format!(
        "  {:<16}{}\n",
        "config file",
        file.unwrap_or("none (--config-file or FF_CONFIG_FILE)")
    ));
    let width = settings
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0)
        .max(30);
    for s in settings {
        let source = s
            .source
            .as_ref()
            .map_or_else(|| "default".to_owned(), ToString::to_string);
        out.push_str(&format!(
            "  {:<width$} {:<28} {:<12} {}\n",
            s.name, s.value, source, s.help
        ));
    }
    out
}

fn result_json(r: &Result<String, String>) -> Value {
    match r {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "problem": e }),
    }
}

//! `ffmcp doctor`: which protections are active on this machine, verified
//! by a real probe (a confined helper that tries to escape), plus the
//! configuration that decides what tools may touch.

use ffmcp_core::{
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
}

/// Runs the probe and reads the configuration.
pub async fn report() -> anyhow::Result<Report> {
    let sandbox = Sandbox::from_env()?;
    let probe = sandbox.probe().await.map_err(|e| e.to_string());
    let roots = match Roots::from_env() {
        Ok(roots) if roots.is_empty() => {
            Err("FF_ROOTS unset: file tools use the roots the MCP client announces, and refuse every path without them".to_owned())
        }
        Ok(roots) => Ok(roots.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let fetch = FetchPolicy::from_env().map(|p| {
        if p == FetchPolicy::public_only() {
            format!("public addresses only ({ALLOW_HOSTS_ENV} and {ALLOW_PRIVATE_ENV} unset)")
        } else {
            format!(
                "public addresses, plus {ALLOW_HOSTS_ENV}={} {ALLOW_PRIVATE_ENV}={}",
                std::env::var(ALLOW_HOSTS_ENV).unwrap_or_default(),
                std::env::var(ALLOW_PRIVATE_ENV).unwrap_or_default()
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
    Ok(Report {
        probe,
        strict: sandbox.is_strict(),
        roots,
        fetch,
        programs,
        kernel,
    })
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

impl Report {
    /// Every protection applied and verified.
    pub fn all_active(&self) -> bool {
        self.probe.as_ref().is_ok_and(|p| {
            p.applied.missing().is_empty()
                && p.network_blocked
                && p.process_creation_blocked
                && p.read_outside_blocked
                && p.write_outside_blocked
        })
    }

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut out = String::from("ffmcp doctor: security protections on this machine\n\n");
        let mut line = |k: &str, v: &str| out.push_str(&format!("  {k:<16}{v}\n"));
        match &self.probe {
            Ok(p) => {
                line("Landlock", &p.applied.landlock);
                line("seccomp", &p.applied.seccomp);
                line("no_new_privs", yes_no(p.applied.no_new_privs));
                line("rlimits", &p.applied.rlimits);
                line(
                    "verified",
                    &format!(
                        "network blocked: {}, process creation blocked: {}, read outside allowed paths blocked: {}, write outside the call directory blocked: {}",
                        yes_no(p.network_blocked),
                        yes_no(p.process_creation_blocked),
                        yes_no(p.read_outside_blocked),
                        yes_no(p.write_outside_blocked)
                    ),
                );
            }
            Err(e) => line("sandbox", &format!("probe FAILED: {e}")),
        }
        line(
            "strict mode",
            if self.strict {
                "on: programs are refused when a protection is missing"
            } else {
                "off (--strict or FF_STRICT=1 refuses to run programs when a protection is missing)"
            },
        );
        line(
            "process groups",
            "every subprocess runs in its own group, killed whole on timeout or cancel",
        );
        line(
            "environment",
            "cleared for subprocesses except PATH, LANG, TMPDIR, HOME and per-program names; LD_*/DYLD_* never pass",
        );
        match &self.roots {
            Ok(r) => line("roots", r),
            Err(e) => line("roots", e),
        }
        match &self.fetch {
            Ok(f) => line("fetch", f),
            Err(e) => line("fetch", &format!("INVALID: {e}")),
        }
        for (name, state) in &self.programs {
            let value = match state {
                Ok(path) => format!("{name}: {path}"),
                Err(why) => format!("{name}: {why}"),
            };
            line("program", &value);
        }
        line("system", &self.kernel);
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
            "all_active": self.all_active(),
            "sandbox": match &self.probe {
                Ok(p) => serde_json::to_value(p).unwrap_or(Value::Null),
                Err(e) => json!({ "error": e }),
            },
            "strict": self.strict,
            "roots": result_json(&self.roots),
            "fetch": result_json(&self.fetch),
            "programs": self.programs.iter().map(|(name, state)| match state {
                Ok(path) => json!({ "name": name, "path": path }),
                Err(why) => json!({ "name": name, "unavailable": why }),
            }).collect::<Vec<_>>(),
            "system": self.kernel,
        });
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }
}

fn result_json(r: &Result<String, String>) -> Value {
    match r {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "problem": e }),
    }
}

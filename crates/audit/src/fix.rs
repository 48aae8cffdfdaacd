//! `ffmcp audit --fix`: rewrites every entry whose risk `ffmcp guard` can
//! confine into `ffmcp guard --policy <config dir>/ffmcp-guard/<server>.toml
//! -- <command> <args>`, with a minimal generated policy (0600, never
//! replacing a different existing one), and removes loader and interpreter
//! variables from entries' `env` (guard would not pass them, and loader
//! variables would load into ffmcp itself). The config is backed up first
//! (timestamped, 0600) and replaced atomically; every other key keeps its
//! value. What guard cannot fix — remote servers, secrets in the file,
//! containers' flags — is left and reported. A second run changes nothing.

use std::io::Write;

use super::*;
use crate::config_file;
use policy_draft::{draft, strips_env};

/// Exit code when high findings remain after fixing.
const EXIT_LEFT_HIGH: u8 = EXIT_HIGH;

/// One change made to one entry.
struct Change {
    server: String,
    what: String,
    notes: Vec<String>,
    /// Now runs under guard (not only a cleaned `env`).
    wrapped: bool,
}

pub fn fix(config: Option<PathBuf>) -> Result<Outcome> {
    let path = config_path(config)?;
    let (text, mut value) = load(&path)?;
    let probes = Probes::of_this_machine(&path);
    let report =
        audit(&value, &probes).map_err(|err| invalid(format!("{}: {err}", path.display())))?;
    let dir = std::path::absolute(&probes.config_dir)
        .io_context(|| format!("resolving {}", probes.config_dir.display()))?;
    let policy_dir = dir.join("ffmcp-guard");
    let (ffmcp, ffmcp_note) = guard_command();

    // Plan first: nothing is written unless something changes.
    let mut plans = Vec::new();
    let mut reports = report.servers.iter();
    let Some(root) = value.as_object() else {
        return Err(invalid(format!(
            "{}: the top level is not a JSON object",
            path.display()
        )));
    };
    for key in table_keys(root) {
        let Some(table) = table_ref(root, key) else {
            continue;
        };
        for (name, entry) in table {
            let Some(server) = reports.next() else {
                break;
            };
            if let Some(plan) = plan_entry(name, entry, &server.findings) {
                plans.push((key, name.clone(), plan));
            }
        }
    }

    let mut out = format!("ffmcp audit --fix: {}\n", path.display());
    let mut changes = Vec::new();
    if plans.is_empty() {
        out.push_str("nothing to fix: no unguarded entry that `ffmcp guard` can confine, no loader variables in `env`\n");
    } else {
        let backup = config_file::backup(&path, &text)?;
        out.push_str(&format!("  backup: {}\n", backup.display()));
        for (key, name, plan) in plans {
            let entry = table_mut(&mut value, key)
                .and_then(|t| t.get_mut(&name))
                .and_then(Value::as_object_mut)
                .ok_or_else(|| invalid("the entry disappeared while fixing"))?;
            changes.push(apply(&name, entry, plan, &policy_dir, &ffmcp)?);
        }
        let mut new_text = serde_json::to_string_pretty(&value)
            .map_err(|e| invalid(format!("rendering the new config: {e}")))?;
        new_text.push('\n');
        config_file::replace_atomically(&path, &new_text)?;
        if let Some(note) = ffmcp_note.filter(|_| changes.iter().any(|c: &Change| c.wrapped)) {
            out.push_str(&format!("  {note}\n"));
        }
        if strip_jsonc(&text) != text {
            out.push_str(
                "  note: comments and trailing commas are not kept (the backup has them)\n",
            );
        }
    }
    for change in &changes {
        out.push_str(&format!("  {}: {}\n", change.server, change.what));
        for note in &change.notes {
            out.push_str(&format!("      {note}\n"));
        }
    }
    // What is left, judged on the file as it is now.
    let after =
        audit(&value, &probes).map_err(|err| invalid(format!("{}: {err}", path.display())))?;
    let left: Vec<&Finding> = after.findings().collect();
    if !left.is_empty() {
        out.push_str("left for you (guard cannot fix these):\n");
        for f in &left {
            out.push_str(&format!(
                "  {} [{}] {}: {}\n      fix: {}\n",
                f.server,
                f.severity.as_str().to_ascii_uppercase(),
                f.rule,
                f.message,
                f.fix
            ));
        }
    }
    out.push_str(&format!(
        "{} entr{} changed; left: {} high, {} medium, {} low\n",
        changes.len(),
        if changes.len() == 1 { "y" } else { "ies" },
        after.count(Severity::High),
        after.count(Severity::Medium),
        after.count(Severity::Low)
    ));
    let exit_code = if after.count(Severity::High) > 0 {
        EXIT_LEFT_HIGH
    } else {
        0
    };
    Ok(Outcome {
        output: out,
        exit_code,
    })
}

/// What `--fix` does to one entry.
enum Plan {
    /// Run it under guard with this policy (and drop these env names).
    Wrap {
        command: String,
        args: Vec<String>,
        policy: String,
        notes: Vec<String>,
        strip: Vec<String>,
    },
    /// Already guarded: only drop these env names.
    Strip(Vec<String>),
}

fn plan_entry(name: &str, entry: &Value, findings: &[Finding]) -> Option<Plan> {
    let obj = entry.as_object()?;
    let command = obj.get("command").and_then(Value::as_str)?;
    let args = string_list(obj.get("args"));
    let env_names: Vec<String> = obj
        .get("env")
        .and_then(Value::as_object)
        .map(|env| env.keys().cloned().collect())
        .unwrap_or_default();
    let strip: Vec<String> = env_names
        .iter()
        .filter(|n| strips_env(n))
        .cloned()
        .collect();
    if Invocation::of(command, &args).guard.is_some() {
        return (!strip.is_empty()).then_some(Plan::Strip(strip));
    }
    if !findings.iter().any(|f| CONFINABLE_RULES.contains(&f.rule)) {
        return None;
    }
    let draft = draft(command, &args, &env_names);
    Some(Plan::Wrap {
        command: command.to_owned(),
        args,
        policy: draft.to_toml(name),
        notes: draft.notes,
        strip,
    })
}

fn apply(
    name: &str,
    entry: &mut Map<String, Value>,
    plan: Plan,
    policy_dir: &Path,
    ffmcp: &str,
) -> Result<Change> {
    let strip = match &plan {
        Plan::Wrap { strip, .. } | Plan::Strip(strip) => strip.clone(),
    };
    if let Some(env) = entry.get_mut("env").and_then(Value::as_object_mut) {
        env.retain(|k, _| !strip.contains(k));
    }
    let mut notes = Vec::new();
    if !strip.is_empty() {
        notes.push(format!(
            "removed from env: {} (guard never passes them; loader variables would load into ffmcp itself)",
            strip.join(", ")
        ));
    }
    let Plan::Wrap {
        command,
        args,
        policy,
        notes: decisions,
        ..
    } = plan
    else {
        return Ok(Change {
            server: name.to_owned(),
            what: "env cleaned".into(),
            notes,
            wrapped: false,
        });
    };
    let (file, reused) = write_policy(policy_dir, name, &policy)?;
    let file_text = file.display().to_string();
    let mut wrapped = vec![
        Value::from("guard"),
        Value::from("--policy"),
        Value::from(file_text.clone()),
        Value::from("--"),
        Value::from(command),
    ];
    wrapped.extend(args.into_iter().map(Value::from));
    entry.insert("command".into(), Value::from(ffmcp));
    entry.insert("args".into(), Value::Array(wrapped));
    notes.extend(decisions);
    Ok(Change {
        server: name.to_owned(),
        what: format!(
            "now runs under `ffmcp guard --policy {file_text}`{}",
            if reused {
                " (existing identical policy)"
            } else {
                " (new policy)"
            }
        ),
        notes,
        wrapped: true,
    })
}

/// Writes the policy as `<dir>/<server>.toml` (0600; the directory 0700),
/// or `<server>-2.toml`… when a different policy already has the name.
/// Returns the path and whether an identical file was already there.
fn write_policy(dir: &Path, server: &str, text: &str) -> Result<(PathBuf, bool)> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .io_context(|| format!("creating {}", dir.display()))?;
    let stem = file_stem(server);
    for n in 1..=100 {
        let name = if n == 1 {
            format!("{stem}.toml")
        } else {
            format!("{stem}-{n}.toml")
        };
        let path = dir.join(name);
        match config_file::create_private(&path) {
            Ok(mut file) => {
                file.write_all(text.as_bytes())
                    .and_then(|()| file.sync_all())
                    .io_context(|| format!("writing {}", path.display()))?;
                return Ok((path, false));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let same = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
                    && std::fs::read_to_string(&path).is_ok_and(|t| t == text);
                if same {
                    return Ok((path, true));
                }
            }
            Err(e) => return Err(e).io_context(|| format!("creating {}", path.display())),
        }
    }
    Err(invalid(format!(
        "{} holds 100 different policies for {server}; clean it up",
        dir.display()
    )))
}

/// A server name as a file name: `[A-Za-z0-9._-]`, no leading dot, bounded.
fn file_stem(server: &str) -> String {
    let mut stem: String = server
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    stem = stem.trim_start_matches('.').to_owned();
    if stem.is_empty() {
        "server".into()
    } else {
        stem
    }
}

/// This binary's path when it is called `ffmcp` and lives somewhere stable
/// (clients start servers with a minimal PATH); else the bare name, with a
/// note: an `npx` cache or a temp folder may be gone tomorrow.
fn guard_command() -> (String, Option<String>) {
    let exe = std::env::current_exe()
        .ok()
        .map(|exe| exe.canonicalize().unwrap_or(exe))
        .filter(|exe| program_name(&exe.to_string_lossy()) == "ffmcp");
    match exe {
        Some(exe) => {
            let text = exe.to_string_lossy().into_owned();
            let transient = text.contains("/_npx/") || writable_place(&text).is_some();
            if transient {
                let note = format!(
                    "note: this ffmcp runs from {text}, which may not last; the entries call `ffmcp` by name, so put ffmcp on the PATH your client uses"
                );
                ("ffmcp".to_owned(), Some(note))
            } else {
                (text, None)
            }
        }
        None => ("ffmcp".to_owned(), None),
    }
}

//! `ffmcp config claude`: Claude Desktop entries for ffmcp servers, printed
//! or merged into the user's `claude_desktop_config.json`.
//!
//! Merging never drops anything: the file is parsed strictly (an invalid
//! file is an error and stays untouched), only the `mcpServers` entries of
//! the chosen servers are added or replaced, the previous file is kept as a
//! timestamped backup, and the new one replaces it atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ffmcp_core::Servers;
use serde_json::{Map, Value, json};

/// Placeholder written where the user must put a secret.
pub const KEY_PLACEHOLDER: &str = "REPLACE_WITH_YOUR_KEY";

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct ClaudeOptions {
    /// Servers to include (all when empty).
    pub servers: Vec<String>,
    /// `npx -y ffmcp@VERSION <server>` instead of this binary's path.
    pub npx: bool,
    /// Add model configuration placeholders to servers with model tools.
    pub model_env: bool,
}

/// The `mcpServers` entries.
pub fn entries(servers: &Servers, options: &ClaudeOptions) -> anyhow::Result<Map<String, Value>> {
    let selected: Vec<&str> = if options.servers.is_empty() {
        servers.names()
    } else {
        for name in &options.servers {
            if servers.get(name).is_none() {
                bail!(
                    "unknown server '{name}'; available: {}",
                    servers.names().join(", ")
                );
            }
        }
        options.servers.iter().map(String::as_str).collect()
    };
    let exe = if options.npx {
        None
    } else {
        let exe = std::env::current_exe().context("finding the path of this ffmcp binary")?;
        Some(exe.canonicalize().unwrap_or(exe))
    };
    let documents = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join("Documents"))
        .filter(|d| d.is_dir());
    let mut out = Map::new();
    for name in selected {
        let mut entry = match &exe {
            Some(exe) => json!({ "command": exe.to_string_lossy(), "args": [name] }),
            None => json!({
                "command": "npx",
                "args": ["-y", format!("ffmcp@{}", env!("CARGO_PKG_VERSION")), name],
            }),
        };
        let mut env = Map::new();
        if name == "docparse"
            && let Some(docs) = &documents
        {
            env.insert("FF_ROOTS".into(), json!(docs.to_string_lossy()));
        }
        if options.model_env && servers.get(name).is_some_and(|s| s.has_models()) {
            env.insert(
                "FF_LLM_PRIMARY".into(),
                json!("anthropic:claude-sonnet-4-5"),
            );
            env.insert("ANTHROPIC_API_KEY".into(), json!(KEY_PLACEHOLDER));
        }
        if !env.is_empty() {
            entry["env"] = Value::Object(env);
        }
        out.insert(name.to_owned(), entry);
    }
    Ok(out)
}

/// The entries as a pasteable `claude_desktop_config.json` fragment.
pub fn fragment(entries: Map<String, Value>) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(&json!({ "mcpServers": entries }))?;
    text.push('\n');
    Ok(text)
}

/// What [`merge_into`] did.
#[derive(Debug)]
pub struct Merged {
    pub path: PathBuf,
    pub backup: Option<PathBuf>,
    pub added: Vec<String>,
    pub replaced: Vec<String>,
    pub kept: usize,
}

impl Merged {
    /// A summary for the terminal.
    pub fn describe(&self) -> String {
        let mut text = format!("updated {}\n", self.path.display());
        if !self.added.is_empty() {
            text.push_str(&format!("  added:    {}\n", self.added.join(", ")));
        }
        if !self.replaced.is_empty() {
            text.push_str(&format!("  replaced: {}\n", self.replaced.join(", ")));
        }
        text.push_str(&format!("  kept:     {} other entries\n", self.kept));
        if let Some(backup) = &self.backup {
            text.push_str(&format!("  backup:   {}\n", backup.display()));
        }
        text.push_str("Restart Claude Desktop to load the servers.\n");
        text
    }
}

/// Merges `entries` into the config file at `path` (created if missing).
pub fn merge_into(path: &Path, entries: Map<String, Value>) -> anyhow::Result<Merged> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut root = match &existing {
        Some(text) if !text.trim().is_empty() => {
            serde_json::from_str::<Value>(text).with_context(|| {
                format!(
                    "{} is not valid JSON; fix it or move it away (nothing was changed)",
                    path.display()
                )
            })?
        }
        _ => json!({}),
    };
    let Some(object) = root.as_object_mut() else {
        bail!(
            "{} is not a JSON object; nothing was changed",
            path.display()
        );
    };
    let servers = object
        .entry("mcpServers")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(servers) = servers.as_object_mut() else {
        bail!(
            "`mcpServers` in {} is not an object; nothing was changed",
            path.display()
        );
    };
    let (mut added, mut replaced) = (Vec::new(), Vec::new());
    for (name, entry) in entries {
        if servers.insert(name.clone(), entry).is_some() {
            replaced.push(name);
        } else {
            added.push(name);
        }
    }
    let kept = servers.len() - added.len() - replaced.len();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let backup = match existing {
        Some(text) => Some(ffmcp_audit::config_file::backup(path, &text)?),
        None => None,
    };
    let mut text = serde_json::to_string_pretty(&root)?;
    text.push('\n');
    ffmcp_audit::config_file::replace_atomically(path, &text)?;
    Ok(Merged {
        path: path.to_path_buf(),
        backup,
        added,
        replaced,
        kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_every_other_entry_and_backs_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Claude/claude_desktop_config.json");
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        let original = r#"{"theme":"dark","mcpServers":{"other":{"command":"other-server"},"docparse":{"command":"old"}}}"#;
        std::fs::write(&path, original).expect("write");
        let mut entries = Map::new();
        entries.insert(
            "docparse".into(),
            json!({"command": "/bin/ffmcp", "args": ["docparse"]}),
        );
        entries.insert(
            "transform".into(),
            json!({"command": "/bin/ffmcp", "args": ["transform"]}),
        );
        let merged = merge_into(&path, entries).expect("merge");
        assert_eq!(merged.added, vec!["transform"]);
        assert_eq!(merged.replaced, vec!["docparse"]);
        assert_eq!(merged.kept, 1);
        let now: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(now["theme"], "dark");
        assert_eq!(now["mcpServers"]["other"]["command"], "other-server");
        assert_eq!(now["mcpServers"]["docparse"]["command"], "/bin/ffmcp");
        let backup = merged.backup.expect("backup");
        assert_eq!(std::fs::read_to_string(backup).expect("backup"), original);
    }

    #[test]
    fn invalid_files_are_left_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("claude_desktop_config.json");
        std::fs::write(&path, "{ not json").expect("write");
        let err = merge_into(&path, Map::new()).expect_err("invalid");
        assert!(
            format!("{err:#}").contains("nothing was changed"),
            "{err:#}"
        );
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "{ not json");
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            1,
            "no backup or temp file"
        );
        // A missing file is created.
        let fresh = dir.path().join("new/claude_desktop_config.json");
        let merged = merge_into(&fresh, Map::new()).expect("create");
        assert!(merged.backup.is_none());
        assert!(fresh.is_file());
    }
}

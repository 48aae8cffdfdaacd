//! Tool arguments and results (their doc comments become the schemas an
//! agent reads) and the validation shared by several tools.

use ffmcp_core::{Render, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    db::{self, ChangeFilter},
    diff::Diff,
    engine::{CheckReport, Settings},
    export,
    feed::ParsedFeed,
};

/// What a URL is watched as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WatchKind {
    /// A feed if the URL is one or an HTML page announces one, else the page.
    #[default]
    Auto,
    Feed,
    Page,
}

/// Arguments of `watch_add`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchAddArgs {
    /// The feed or page URL (http/https). Private and loopback addresses are
    /// refused unless allowed by FF_ALLOW_HOSTS.
    pub url: String,
    /// `auto` (default), `feed` or `page`. A selector implies `page`.
    #[serde(default)]
    pub kind: Option<WatchKind>,
    /// CSS selector of the page region to watch (default: the whole body).
    #[serde(default)]
    pub selector: Option<String>,
    /// CSS selectors of noise inside the region to ignore (timestamps, ads, counters).
    #[serde(default)]
    pub ignore_selectors: Vec<String>,
    /// Seconds between checks (default 600; at least 60, at most 604800).
    #[serde(default)]
    pub interval_secs: Option<i64>,
    /// Labels to filter by later, e.g. `pricing`, `blog`, `careers`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The competitor this watch is about.
    #[serde(default)]
    pub competitor: Option<String>,
}

/// Arguments of `watch_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchListArgs {
    /// Only watches with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// Only watches of this competitor.
    #[serde(default)]
    pub competitor: Option<String>,
}

/// Arguments of `watch_update`; omitted fields are unchanged.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchUpdateArgs {
    /// The watch id (see watch_list).
    pub id: i64,
    /// New CSS selector (page watches); empty for the whole body.
    #[serde(default)]
    pub selector: Option<String>,
    /// New ignore-selectors (replaces the list).
    #[serde(default)]
    pub ignore_selectors: Option<Vec<String>>,
    /// New interval in seconds.
    #[serde(default)]
    pub interval_secs: Option<i64>,
    /// New tags (replaces the list).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// New competitor name; empty to clear.
    #[serde(default)]
    pub competitor: Option<String>,
}

/// Arguments naming one watch.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchIdArgs {
    /// The watch id (see watch_list).
    pub id: i64,
}

/// Arguments of `check_now`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckNowArgs {
    /// The watch to check; every watch when omitted.
    #[serde(default)]
    pub id: Option<i64>,
}

/// Which changes.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesArgs {
    /// Only changes after this cursor (the `next_cursor` of a previous call).
    #[serde(default)]
    pub cursor: Option<i64>,
    /// Only changes detected at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
    #[serde(default)]
    pub since: Option<String>,
    /// Only this watch.
    #[serde(default)]
    pub watch_id: Option<i64>,
    /// Only watches with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// Only this competitor.
    #[serde(default)]
    pub competitor: Option<String>,
    /// At most this many (default and maximum depend on the tool: 500 for changes).
    #[serde(default)]
    pub limit: Option<i64>,
}

impl ChangesArgs {
    /// The filter, with `since` checked and normalised to UTC.
    pub fn filter(self, max: i64) -> Result<ChangeFilter, ToolError> {
        let since = match self.since.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|e| {
                        ToolError::invalid(format!(
                            "'since' must be an RFC 3339 time like 2026-11-01T00:00:00Z; got '{s}' ({e})"
                        ))
                    })?
                    .with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ),
        };
        Ok(ChangeFilter {
            after_id: self.cursor.unwrap_or(0).max(0),
            since,
            watch_id: self.watch_id,
            tag: self.tag,
            competitor: self.competitor,
            limit: self.limit.unwrap_or(max).clamp(1, max),
        })
    }
}

/// Arguments of `diff`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiffArgs {
    pub watch_id: i64,
    /// The older snapshot id (default: the one before the latest).
    #[serde(default)]
    pub from: Option<i64>,
    /// The newer snapshot id (default: the latest).
    #[serde(default)]
    pub to: Option<i64>,
}

/// Arguments of `history`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryArgs {
    pub watch_id: i64,
    /// At most this many snapshots (default 20, max 500).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Include each snapshot's text (default false).
    #[serde(default)]
    pub include_text: Option<bool>,
}

/// Arguments of `summarize_changes`.
// Not deny_unknown_fields: serde cannot combine it with flatten; the
// flattened ChangesArgs rejects unknown fields instead.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SummarizeArgs {
    /// Which changes (at most 200 are summarised).
    #[serde(default, flatten)]
    pub changes: ChangesArgs,
    /// Extra guidance, e.g. "focus on pricing".
    #[serde(default)]
    pub instructions: Option<String>,
    /// Routes for this call, `provider:model[,provider:model…]` (default:
    /// FF_LLM_PRIMARY and FF_LLM_FALLBACKS, or the client's model).
    #[serde(default)]
    pub model: Option<String>,
}

/// Arguments of `parse_feed`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParseFeedArgs {
    /// A feed URL, or an HTML page that announces a feed.
    #[serde(default)]
    pub url: Option<String>,
    /// The feed itself (RSS, Atom or JSON Feed text).
    #[serde(default)]
    pub content: Option<String>,
    /// Return at most this many items (default 100).
    #[serde(default)]
    pub max_items: Option<usize>,
}

/// Arguments of `export_changes`.
// Not deny_unknown_fields: serde cannot combine it with flatten; the
// flattened ChangesArgs rejects unknown fields instead.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExportArgs {
    /// Where to write, under the allowed roots (FF_ROOTS or the client's roots). The name
    /// must end in the format's extension (`.json`, `.csv`, `.atom` or `.xml`); dotfiles are
    /// refused; the file is created 0600.
    pub path: String,
    /// `json`, `csv` or `atom`.
    pub format: export::Format,
    /// Replace `path` if it already exists (default false: an existing file is an error).
    /// Even then a symlink or a file with several hard links is never written.
    #[serde(default)]
    pub overwrite: bool,
    /// Which changes (default: all).
    #[serde(default, flatten)]
    pub changes: ChangesArgs,
}

/// Result of `watch_add`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WatchAdded {
    pub watch: db::Watch,
    /// The feed's title, when the URL is or announces a feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed_title: Option<String>,
    /// The baseline check.
    pub first_check: CheckReport,
}

impl Render for WatchAdded {
    fn render(&self) -> String {
        let w = &self.watch;
        format!(
            "watch {} added: {} ({}{}), every {} s; first check: {}",
            w.id,
            w.url,
            w.kind,
            w.feed_url
                .as_deref()
                .map(|f| format!(", feed {f}"))
                .unwrap_or_default(),
            w.interval_secs,
            self.first_check.outcome
        )
    }
}

/// Result of `watch_list`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WatchList {
    pub watches: Vec<db::Watch>,
}

impl Render for WatchList {
    fn render(&self) -> String {
        if self.watches.is_empty() {
            return "no watches; add one with watch_add".to_owned();
        }
        self.watches
            .iter()
            .map(|w| w.render())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Render for db::Watch {
    fn render(&self) -> String {
        format!(
            "#{} {} [{}] every {} s, last: {}{}",
            self.id,
            self.url,
            self.kind,
            self.interval_secs,
            self.last_outcome.as_deref().unwrap_or("never checked"),
            self.last_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        )
    }
}

/// Result of `watch_remove`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Removed {
    pub id: i64,
    pub removed: bool,
}

impl Render for Removed {
    fn render(&self) -> String {
        format!("watch {} removed", self.id)
    }
}

/// Result of `check_now`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Checked {
    pub reports: Vec<CheckReport>,
    /// New changes found, over all reports.
    pub new_changes: usize,
}

impl Render for Checked {
    fn render(&self) -> String {
        let failed = self
            .reports
            .iter()
            .filter(|r| r.outcome == "failed")
            .count();
        format!(
            "{} watches checked: {} new changes, {failed} failed",
            self.reports.len(),
            self.new_changes
        )
    }
}

/// Result of `changes`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeList {
    pub changes: Vec<db::Change>,
    /// Pass as `cursor` next time for only newer changes.
    pub next_cursor: i64,
}

impl Render for ChangeList {
    fn render(&self) -> String {
        let mut lines: Vec<String> = self
            .changes
            .iter()
            .map(|c| {
                format!(
                    "#{} {} {} {}{}",
                    c.id,
                    c.detected_at,
                    c.kind,
                    c.title.as_deref().unwrap_or(&c.watch_url),
                    c.link
                        .as_deref()
                        .map(|l| format!(" <{l}>"))
                        .unwrap_or_default()
                )
            })
            .collect();
        lines.push(format!("next_cursor: {}", self.next_cursor));
        lines.join("\n")
    }
}

/// Result of `diff`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiffResult {
    pub watch_id: i64,
    #[serde(flatten)]
    pub diff: Diff,
    /// The word-level diff as text: `[-removed-]{+added+}`.
    pub inline: String,
}

impl Render for DiffResult {
    fn render(&self) -> String {
        if self.diff.unified.is_empty() {
            "the snapshots are identical".to_owned()
        } else {
            self.diff.unified.clone()
        }
    }
}

/// Result of `history`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct History {
    pub watch: db::Watch,
    pub snapshots: Vec<db::Snapshot>,
}

impl Render for History {
    fn render(&self) -> String {
        let mut lines = vec![self.watch.render()];
        lines.extend(self.snapshots.iter().map(|s| {
            format!(
                "snapshot {} at {} ({})",
                s.id,
                s.taken_at,
                &s.hash[..12.min(s.hash.len())]
            )
        }));
        lines.join("\n")
    }
}

/// Result of `summarize_changes`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Summary {
    pub summary: String,
    /// Changes summarised, and their id range.
    pub changes: usize,
    pub first_id: i64,
    pub last_id: i64,
    /// The model route that answered.
    pub route: String,
}

impl Render for Summary {
    fn render(&self) -> String {
        self.summary.clone()
    }
}

/// Result of `parse_feed`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ParsedFeedResult {
    /// The URL parsed (after autodiscovery), or `content`.
    pub source: String,
    /// Items in the feed (more than returned when truncated).
    pub total_items: usize,
    #[serde(flatten)]
    pub feed: ParsedFeed,
}

impl Render for ParsedFeedResult {
    fn render(&self) -> String {
        let mut lines = vec![format!(
            "{} feed '{}' with {} items",
            self.feed.kind,
            self.feed.title.as_deref().unwrap_or("untitled"),
            self.total_items
        )];
        lines.extend(self.feed.items.iter().take(20).map(|i| {
            format!(
                "- {} {}",
                i.title.as_deref().unwrap_or("(untitled)"),
                i.link.as_deref().unwrap_or_default()
            )
        }));
        lines.join("\n")
    }
}

/// Result of `export_changes`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Exported {
    pub path: String,
    pub changes: usize,
    pub bytes: usize,
}

impl Render for Exported {
    fn render(&self) -> String {
        format!(
            "{} changes written to {} ({} bytes)",
            self.changes, self.path, self.bytes
        )
    }
}

impl Render for CheckReport {
    fn render(&self) -> String {
        format!("watch {}: {}", self.watch_id, self.outcome)
    }
}

/// An absolute http(s) URL, trimmed.
pub fn check_url(raw: &str) -> Result<String, ToolError> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        ToolError::invalid(format!(
            "'url' must be an absolute http(s) URL like https://example.com/blog; got '{}' ({e})",
            raw.trim()
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ToolError::invalid(format!(
            "'url' must use http or https; got '{}:'",
            url.scheme()
        )));
    }
    Ok(url.to_string())
}

/// The interval in bounds, or the default.
pub fn interval(secs: Option<i64>, settings: &Settings) -> Result<i64, ToolError> {
    let secs = secs.unwrap_or(settings.default_interval.max(settings.min_interval));
    if !(settings.min_interval..=settings.max_interval).contains(&secs) {
        return Err(ToolError::invalid(format!(
            "'interval_secs' must be between {} and {}; got {secs}",
            settings.min_interval, settings.max_interval
        )));
    }
    Ok(secs)
}

/// Tags trimmed, deduplicated, bounded.
pub fn tags(tags: Option<Vec<String>>) -> Result<Vec<String>, ToolError> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags.unwrap_or_default() {
        let tag = tag.trim().to_owned();
        if tag.is_empty() || tag.len() > 64 {
            return Err(ToolError::invalid(format!(
                "each tag must be 1 to 64 characters; got '{tag}'"
            )));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > 32 {
        return Err(ToolError::invalid("at most 32 tags per watch"));
    }
    Ok(out)
}

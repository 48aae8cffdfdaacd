//! Diffs between two snapshots: a unified line diff for people and tools,
//! and word-level segments for pinpointing an edit inside a paragraph.

use std::time::Duration;

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// Longest time spent diffing; past it the diff is coarser, never slower.
const DIFF_TIMEOUT: Duration = Duration::from_secs(2);

/// A diff between an old and a new text.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Diff {
    /// Unified diff (3 lines of context).
    pub unified: String,
    /// Word-level segments: unchanged, inserted and deleted runs, in order.
    pub words: Vec<Segment>,
    pub lines_added: usize,
    pub lines_removed: usize,
}

/// A run of words with the same fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Segment {
    /// `equal`, `insert` or `delete`.
    pub op: String,
    pub text: String,
}

/// Diffs `old` against `new`, labelling the unified headers.
pub fn diff(old: &str, new: &str, old_label: &str, new_label: &str) -> Diff {
    // Snapshots carry no final newline; without one, every diff would end
    // in "\ No newline at end of file".
    let (old_lines, new_lines) = (terminated(old), terminated(new));
    let lines = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old_lines.as_str(), new_lines.as_str());
    let mut lines_added = 0;
    let mut lines_removed = 0;
    for change in lines.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => lines_added += 1,
            ChangeTag::Delete => lines_removed += 1,
            ChangeTag::Equal => {}
        }
    }
    let unified = lines
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string();
    let words = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_words(old, new);
    let mut segments: Vec<Segment> = Vec::new();
    for change in words.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => "equal",
            ChangeTag::Insert => "insert",
            ChangeTag::Delete => "delete",
        };
        match segments.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => segments.push(Segment {
                op: op.to_owned(),
                text: change.value().to_owned(),
            }),
        }
    }
    Diff {
        unified,
        words: segments,
        lines_added,
        lines_removed,
    }
}

fn terminated(text: &str) -> String {
    let mut text = text.to_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The word segments as one line of text: `[-old-]{+new+}` marks.
pub fn inline(words: &[Segment]) -> String {
    words
        .iter()
        .map(|s| match s.op.as_str() {
            "insert" => format!("{{+{}+}}", s.text),
            "delete" => format!("[-{}-]", s.text),
            _ => s.text.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_and_word_level() {
        let old = "Pricing\nPro: $20 per month\nTeam: $50\n";
        let new = "Pricing\nPro: $25 per month\nTeam: $50\n";
        let d = diff(old, new, "a", "b");
        assert!(d.unified.contains("--- a\n+++ b\n"), "{}", d.unified);
        assert!(
            d.unified
                .contains("-Pro: $20 per month\n+Pro: $25 per month")
        );
        assert_eq!((d.lines_added, d.lines_removed), (1, 1));
        assert_eq!(
            inline(&d.words),
            "Pricing\nPro: [-$20-]{+$25+} per month\nTeam: $50\n"
        );
    }

    #[test]
    fn identical_texts_have_no_changes() {
        let d = diff("same\n", "same\n", "a", "b");
        assert!(d.unified.is_empty());
        assert_eq!(d.words.len(), 1);
    }
}

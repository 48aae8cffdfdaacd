//! Text statistics.

use schemars::JsonSchema;
use serde::Serialize;

/// Counts for one text.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TextStats {
    /// Unicode scalar values.
    pub chars: usize,
    /// Whitespace-separated words.
    pub words: usize,
}

/// Computes [`TextStats`] for `text`.
pub fn text_stats(text: &str) -> TextStats {
    TextStats {
        chars: text.chars().count(),
        words: text.split_whitespace().count(),
    }
}

//! Heading-aware chunks for retrieval (RAG).
//!
//! Blocks are packed into chunks of at most `max_tokens` (estimated), never
//! splitting a block unless it alone is too large (then it is split at
//! sentence, then word boundaries). Each chunk carries the heading path it
//! sits under and the pages it spans; a new top-level section starts a new
//! chunk. Consecutive chunks share about `overlap_tokens` of text.

use serde::Serialize;

use crate::{
    model::{Block, Document, inline_text},
    render::{OutputFormat, render_blocks},
};

/// Estimated tokens of `text`: about four characters per token for
/// English prose (the usual rule of thumb across BPE tokenisers), never
/// fewer than the number of words.
pub fn estimate_tokens(text: &str) -> usize {
    let chars = text.chars().count();
    let words = text.split_whitespace().count();
    chars.div_ceil(4).max(words)
}

/// One chunk.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Chunk {
    /// 0-based position.
    pub index: usize,
    /// Headings above this chunk, outermost first.
    pub headings: Vec<String>,
    /// Markdown text (starting with the overlap from the previous chunk).
    pub text: String,
    pub tokens: usize,
    /// First and last page covered, for paged formats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<(u32, u32)>,
}

/// Chunking settings.
#[derive(Debug, Clone, Copy)]
pub struct ChunkOptions {
    pub max_tokens: usize,
    pub overlap_tokens: usize,
    /// Heading levels at or above which a new chunk always starts.
    pub split_level: u8,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            max_tokens: 512,
            overlap_tokens: 64,
            split_level: 2,
        }
    }
}

struct Builder {
    opts: ChunkOptions,
    chunks: Vec<Chunk>,
    parts: Vec<String>,
    tokens: usize,
    headings: Vec<(u8, String)>,
    chunk_headings: Vec<String>,
    page: Option<u32>,
    first_page: Option<u32>,
    overlap: String,
}

impl Builder {
    fn flush(&mut self) {
        if self.parts.is_empty() {
            return;
        }
        let body = self.parts.join("\n\n");
        let text = if self.overlap.is_empty() {
            body.clone()
        } else {
            format!("{}\n\n{body}", self.overlap)
        };
        self.overlap = tail_tokens(&body, self.opts.overlap_tokens);
        let pages = self.first_page.zip(self.page);
        self.chunks.push(Chunk {
            index: self.chunks.len(),
            headings: std::mem::take(&mut self.chunk_headings),
            tokens: estimate_tokens(&text),
            text,
            pages,
        });
        self.parts.clear();
        self.tokens = 0;
        self.first_page = self.page;
    }

    fn push(&mut self, text: String) {
        let tokens = estimate_tokens(&text);
        if self.tokens > 0 && self.tokens + tokens > self.opts.max_tokens {
            self.flush();
        }
        if self.parts.is_empty() {
            self.chunk_headings = self.headings.iter().map(|(_, h)| h.clone()).collect();
            self.first_page = self.first_page.or(self.page);
        }
        if tokens > self.opts.max_tokens {
            for piece in split_text(&text, self.opts.max_tokens) {
                if self.tokens > 0 {
                    self.flush();
                    self.chunk_headings = self.headings.iter().map(|(_, h)| h.clone()).collect();
                }
                self.tokens = estimate_tokens(&piece);
                self.parts.push(piece);
            }
            return;
        }
        self.tokens += tokens;
        self.parts.push(text);
    }
}

/// Splits `doc` into chunks.
pub fn chunk(doc: &Document, opts: ChunkOptions) -> Vec<Chunk> {
    let opts = ChunkOptions {
        max_tokens: opts.max_tokens.max(16),
        overlap_tokens: opts.overlap_tokens.min(opts.max_tokens / 2),
        ..opts
    };
    let mut b = Builder {
        opts,
        chunks: Vec::new(),
        parts: Vec::new(),
        tokens: 0,
        headings: Vec::new(),
        chunk_headings: Vec::new(),
        page: None,
        first_page: None,
        overlap: String::new(),
    };
    for block in &doc.blocks {
        match block {
            Block::PageBreak { number } => {
                b.page = Some(*number);
                if b.parts.is_empty() {
                    b.first_page = Some(*number);
                }
            }
            Block::Heading { level, content } => {
                if *level <= opts.split_level {
                    b.flush();
                    // A new section does not inherit the previous one's tail.
                    b.overlap.clear();
                }
                b.headings.retain(|(l, _)| l < level);
                b.headings
                    .push((*level, inline_text(content).trim().to_owned()));
                let text = render_blocks(std::slice::from_ref(block), OutputFormat::Markdown);
                b.push(text.trim_end().to_owned());
            }
            other => {
                let text = render_blocks(std::slice::from_ref(other), OutputFormat::Markdown);
                let text = text.trim_end();
                if !text.is_empty() {
                    b.push(text.to_owned());
                }
            }
        }
    }
    b.flush();
    b.chunks
}

/// The last ~`tokens` tokens of `text`, starting at a word boundary.
fn tail_tokens(text: &str, tokens: usize) -> String {
    if tokens == 0 {
        return String::new();
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut taken = Vec::new();
    let mut count = 0;
    for word in words.iter().rev() {
        let t = estimate_tokens(word);
        if count + t > tokens {
            break;
        }
        count += t;
        taken.push(*word);
    }
    taken.reverse();
    taken.join(" ")
}

/// Splits an oversized text at sentence ends, then at spaces, then anywhere.
fn split_text(text: &str, max_tokens: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let units = text.split_inclusive(['.', '!', '?', '\n']);
    for unit in units {
        for word in split_long(unit, max_tokens) {
            if !current.is_empty()
                && estimate_tokens(&current) + estimate_tokens(&word) > max_tokens
            {
                pieces.push(std::mem::take(&mut current).trim().to_owned());
            }
            current.push_str(&word);
        }
    }
    if !current.trim().is_empty() {
        pieces.push(current.trim().to_owned());
    }
    pieces
}

/// A unit longer than the budget, cut at spaces (or characters).
fn split_long(unit: &str, max_tokens: usize) -> Vec<String> {
    if estimate_tokens(unit) <= max_tokens {
        return vec![unit.to_owned()];
    }
    let max_chars = max_tokens * 4;
    let mut out = Vec::new();
    let mut current = String::new();
    for word in unit.split_inclusive(' ') {
        if current.chars().count() + word.chars().count() > max_chars && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if word.chars().count() > max_chars {
            let chars: Vec<char> = word.chars().collect();
            for piece in chars.chunks(max_chars) {
                out.push(piece.iter().collect());
            }
        } else {
            current.push_str(word);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Block, Document};

    fn words(n: usize, tag: &str) -> String {
        (0..n)
            .map(|i| format!("{tag}{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn sections_start_chunks_and_carry_their_heading_path() {
        let doc = Document {
            blocks: vec![
                Block::PageBreak { number: 1 },
                Block::heading(1, "Guide"),
                Block::text(words(50, "a")),
                Block::heading(2, "Install"),
                Block::text(words(50, "b")),
                Block::PageBreak { number: 2 },
                Block::heading(3, "Linux"),
                Block::text(words(50, "c")),
            ],
            ..Document::default()
        };
        let chunks = chunk(
            &doc,
            ChunkOptions {
                max_tokens: 1000,
                overlap_tokens: 10,
                split_level: 2,
            },
        );
        assert_eq!(chunks.len(), 2, "{chunks:#?}");
        assert_eq!(chunks[0].headings, vec!["Guide"]);
        assert_eq!(chunks[1].headings, vec!["Guide", "Install"]);
        assert!(
            chunks[1].text.starts_with("## Install"),
            "no overlap across sections"
        );
        assert!(chunks[1].text.contains("### Linux"));
        assert_eq!(chunks[1].pages, Some((1, 2)));
    }

    #[test]
    fn big_blocks_split_within_budget_with_overlap() {
        let doc = Document {
            blocks: vec![Block::text(words(2000, "w"))],
            ..Document::default()
        };
        let chunks = chunk(
            &doc,
            ChunkOptions {
                max_tokens: 200,
                overlap_tokens: 20,
                split_level: 2,
            },
        );
        assert!(chunks.len() > 5);
        for (i, c) in chunks.iter().enumerate() {
            assert!(c.tokens <= 200 + 20 + 5, "chunk {i}: {} tokens", c.tokens);
            assert_eq!(c.index, i);
        }
        // The overlap repeats the previous chunk's last words.
        let last_word = chunks[0].text.split_whitespace().last().expect("word");
        assert!(chunks[1].text.contains(last_word));
    }
}

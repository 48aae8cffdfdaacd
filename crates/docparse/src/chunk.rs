//! Heading-aware chunks for retrieval (RAG).
//!
//! Blocks are packed into chunks whose text, overlap included, never
//! exceeds `max_tokens` as [`estimate_tokens`] counts it (the count every
//! chunk reports): an agent that sizes its context by that number must be
//! able to trust it. A block is split only when it alone is too large, and
//! then at the coarsest boundary that works ([`split`]): tables between
//! rows with the header repeated, code between lines with the fence
//! repeated, prose at line, sentence, then word ends. Each chunk carries the
//! heading path it sits under and the pages it spans; a new top-level
//! section starts a new chunk. Consecutive chunks share up to
//! `overlap_tokens` of whole trailing lines (so a heading in the overlap
//! stays a heading on its own line), never a table row or a code fence,
//! and a heading that would end a chunk moves to the next one.

mod split;

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

/// What [`estimate_tokens`] counts, kept per piece so that the count of
/// pieces put together is known without re-reading them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Count {
    chars: usize,
    words: usize,
    /// The text starts, resp. ends, inside a word (not with whitespace).
    starts_word: bool,
    ends_word: bool,
}

impl Count {
    fn of(text: &str) -> Self {
        Self {
            chars: text.chars().count(),
            words: text.split_whitespace().count(),
            starts_word: text.chars().next().is_some_and(|c| !c.is_whitespace()),
            ends_word: text.chars().next_back().is_some_and(|c| !c.is_whitespace()),
        }
    }

    fn tokens(self) -> usize {
        self.chars.div_ceil(4).max(self.words)
    }

    /// The count of `self`'s text followed directly by `next`'s.
    fn concat(self, next: Count) -> Count {
        if self.chars == 0 {
            return next;
        }
        if next.chars == 0 {
            return self;
        }
        let glued = usize::from(self.ends_word && next.starts_word);
        Count {
            chars: self.chars + next.chars,
            words: self.words + next.words - glued,
            starts_word: self.starts_word,
            ends_word: next.ends_word,
        }
    }
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
    /// Estimated tokens of `text`, overlap included: never more than
    /// `max_tokens`.
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

/// Separator between the parts of a chunk.
const GAP: &str = "\n\n";

/// A part of the chunk being filled.
struct Part {
    text: String,
    count: Count,
    heading: bool,
}

impl Part {
    fn new(piece: split::Piece) -> Self {
        Self {
            count: Count::of(&piece.text),
            text: piece.text,
            heading: piece.heading,
        }
    }
}

struct Builder {
    opts: ChunkOptions,
    chunks: Vec<Chunk>,
    /// The overlap this chunk starts with (text and count), if any.
    overlap: Option<Part>,
    parts: Vec<Part>,
    /// The count of the overlap and parts joined by [`GAP`].
    count: Count,
    /// The previous chunk's text without its overlap: the source of the
    /// next overlap. Empty at a section start.
    previous: String,
    headings: Vec<(u8, String)>,
    chunk_headings: Vec<String>,
    page: Option<u32>,
    first_page: Option<u32>,
}

impl Builder {
    /// Adds one piece, starting a new chunk when it does not fit.
    fn push(&mut self, piece: split::Piece) {
        let fresh = piece.fresh;
        let part = Part::new(piece);
        if fresh {
            self.flush();
        }
        if !self.parts.is_empty() && self.with(&part).tokens() > self.opts.max_tokens {
            // A chunk of headings only gives up its overlap first.
            if self.overlap.is_some() && self.parts.iter().all(|p| p.heading) {
                self.overlap = None;
                self.recount();
            }
        }
        if !self.parts.is_empty() && self.with(&part).tokens() > self.opts.max_tokens {
            // Headings at the end move on with the part they introduce.
            let trailing = self.parts.iter().rev().take_while(|p| p.heading).count();
            let carried_fit = self.parts[self.parts.len() - trailing..]
                .iter()
                .chain(std::iter::once(&part))
                .fold(Count::default(), |c, p| join(c, p.count))
                .tokens()
                <= self.opts.max_tokens;
            let carried = if trailing < self.parts.len() && carried_fit {
                self.parts.split_off(self.parts.len() - trailing)
            } else {
                Vec::new()
            };
            self.flush();
            self.start(&carried, &part, true);
            for p in carried {
                self.append(p);
            }
        } else if self.parts.is_empty() {
            self.start(&[], &part, !fresh);
        }
        self.append(part);
    }

    /// Opens a chunk whose first parts will be `first` and `next`: sets
    /// its heading path and pages, and the overlap that still fits.
    fn start(&mut self, first: &[Part], next: &Part, overlap: bool) {
        self.chunk_headings = self.headings.iter().map(|(_, h)| h.clone()).collect();
        self.first_page = self.first_page.or(self.page);
        self.overlap = None;
        self.count = Count::default();
        if !overlap || self.previous.is_empty() || self.opts.overlap_tokens == 0 {
            return;
        }
        let content = first
            .iter()
            .chain(std::iter::once(next))
            .fold(Count::default(), |c, p| join(c, p.count));
        let room = self
            .opts
            .max_tokens
            .saturating_sub(content.tokens() + 1)
            .min(self.opts.overlap_tokens);
        let text = tail_lines(&self.previous, room);
        if text.is_empty() {
            return;
        }
        let count = Count::of(&text);
        if join(count, content).tokens() <= self.opts.max_tokens {
            self.overlap = Some(Part {
                text,
                count,
                heading: false,
            });
            self.count = count;
        }
    }

    fn append(&mut self, part: Part) {
        self.count = join(self.count, part.count);
        self.parts.push(part);
    }

    /// The count with `part` appended.
    fn with(&self, part: &Part) -> Count {
        join(self.count, part.count)
    }

    fn recount(&mut self) {
        self.count = self
            .overlap
            .iter()
            .chain(&self.parts)
            .fold(Count::default(), |c, p| join(c, p.count));
    }

    fn flush(&mut self) {
        if self.parts.is_empty() {
            self.overlap = None;
            self.count = Count::default();
            return;
        }
        let body = self
            .parts
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join(GAP);
        let text = match self.overlap.take() {
            Some(overlap) => format!("{}{GAP}{body}", overlap.text),
            None => body.clone(),
        };
        self.previous = body;
        let pages = self.first_page.zip(self.page);
        self.chunks.push(Chunk {
            index: self.chunks.len(),
            headings: std::mem::take(&mut self.chunk_headings),
            tokens: estimate_tokens(&text),
            text,
            pages,
        });
        self.parts.clear();
        self.count = Count::default();
        self.first_page = self.page;
    }
}

/// Two counts joined by [`GAP`] (or the second alone after nothing).
fn join(a: Count, b: Count) -> Count {
    if a.chars == 0 {
        b
    } else {
        a.concat(Count::of(GAP)).concat(b)
    }
}

/// Splits `doc` into chunks.
pub fn chunk(doc: &Document, opts: ChunkOptions) -> Vec<Chunk> {
    let max_tokens = opts.max_tokens.max(16);
    let opts = ChunkOptions {
        max_tokens,
        overlap_tokens: opts.overlap_tokens.min(max_tokens / 2),
        ..opts
    };
    // Pieces of a split block leave room for a full overlap before them.
    let budget = max_tokens - opts.overlap_tokens - 1;
    let mut b = Builder {
        opts,
        chunks: Vec::new(),
        overlap: None,
        parts: Vec::new(),
        count: Count::default(),
        previous: String::new(),
        headings: Vec::new(),
        chunk_headings: Vec::new(),
        page: None,
        first_page: None,
    };
    for block in &doc.blocks {
        let kind = match block {
            Block::PageBreak { number } => {
                b.page = Some(*number);
                if b.parts.is_empty() {
                    b.first_page = Some(*number);
                }
                continue;
            }
            Block::Heading { level, content } => {
                if *level <= opts.split_level {
                    b.flush();
                    // A new section does not inherit the previous one's tail.
                    b.previous.clear();
                }
                b.headings.retain(|(l, _)| l < level);
                b.headings
                    .push((*level, inline_text(content).trim().to_owned()));
                split::Kind::Heading
            }
            Block::Table(_) => split::Kind::Table,
            Block::Code { .. } => split::Kind::Code,
            _ => split::Kind::Other,
        };
        let text = render_blocks(std::slice::from_ref(block), OutputFormat::Markdown);
        let text = text.trim_end();
        if text.is_empty() {
            continue;
        }
        for piece in split::pieces(text, kind, max_tokens, budget, opts.overlap_tokens) {
            b.push(piece);
        }
    }
    b.flush();
    b.chunks
}

/// The overlap taken from the end of `text`: its last whole lines that
/// fit in `tokens`, stopping at a table row or a code fence (repeated
/// alone, they would change what follows); when not even the last line
/// fits, the last words of that line if it is prose.
fn tail_lines(text: &str, tokens: usize) -> String {
    if tokens == 0 {
        return String::new();
    }
    let stops = |line: &str| {
        let line = line.trim_start();
        line.starts_with('|') || line.starts_with("```") || line.starts_with("~~~")
    };
    let mut start = text.len();
    let mut count = Count::default();
    for line in text.split_inclusive('\n').rev() {
        if stops(line) {
            break;
        }
        let next = Count::of(line).concat(count);
        if next.tokens() > tokens {
            if start == text.len() {
                return tail_words(line, tokens);
            }
            break;
        }
        count = next;
        start -= line.len();
    }
    text[start..].trim().to_owned()
}

/// The last words of a prose line that fit in `tokens`, not starting
/// with a character that would open a block (a heading, quote or list).
fn tail_words(line: &str, tokens: usize) -> String {
    let line = line.trim();
    if line.starts_with(['#', '|', '>']) {
        return String::new();
    }
    let starts: Vec<usize> = line
        .char_indices()
        .filter(|&(i, c)| {
            !c.is_whitespace()
                && line[..i]
                    .chars()
                    .next_back()
                    .is_none_or(char::is_whitespace)
        })
        .map(|(i, _)| i)
        .collect();
    let mut start = line.len();
    let mut count = Count::default();
    for &i in starts.iter().rev() {
        let next = Count::of(&line[i..start]).concat(count);
        if next.tokens() > tokens {
            break;
        }
        count = next;
        start = i;
    }
    let tail = &line[start..];
    let opens_block = tail.starts_with(['#', '>', '-', '+', '*', '|', '='])
        || tail.split_whitespace().next().is_some_and(|w| {
            w.trim_end_matches(['.', ')'])
                .chars()
                .all(|c| c.is_ascii_digit())
        });
    if opens_block {
        return match tail.split_once(char::is_whitespace) {
            Some((_, rest)) => rest.trim_start().to_owned(),
            None => String::new(),
        };
    }
    tail.to_owned()
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

    #[test]
    fn overlap_keeps_headings_on_their_own_line_and_headings_move_on() {
        let doc = Document {
            blocks: vec![
                Block::heading(1, "Guide"),
                Block::text(words(40, "a")),
                Block::heading(3, "Small"),
                Block::text(words(10, "b")),
                Block::heading(3, "Next"),
                Block::text(words(60, "c")),
            ],
            ..Document::default()
        };
        let chunks = chunk(
            &doc,
            ChunkOptions {
                max_tokens: 80,
                overlap_tokens: 30,
                split_level: 2,
            },
        );
        for c in &chunks {
            assert!(c.tokens <= 80, "{c:#?}");
            for line in c.text.lines() {
                if let Some(at) = line.find("# ") {
                    assert!(line[..at].chars().all(|ch| ch == '#'), "glued: {line}");
                }
            }
            // No chunk ends with a heading: it moves to the text it heads.
            let last = c.text.lines().last().expect("line");
            assert!(!last.starts_with('#'), "{c:#?}");
        }
        // The overlap is whole lines: the second chunk starts with the
        // previous chunk's last heading and paragraph.
        assert!(
            chunks[1].text.starts_with("### Small\n\nb0 b1"),
            "{chunks:#?}"
        );
        assert!(chunks[1].text.contains("### Next\n\nc0"), "{chunks:#?}");
    }
}

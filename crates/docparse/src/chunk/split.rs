//! Cutting one rendered block that is larger than a chunk into pieces that
//! fit, at the coarsest boundary that works: item or line groups, lines,
//! sentence ends (punctuation followed by a space, so `3.14` stays whole),
//! words, and only for a "word" longer than a whole piece, characters.
//! Tables are cut between rows and every piece repeats the header; code is
//! cut between lines and every piece is fenced again.

use super::{Count, estimate_tokens};

/// A piece of a chunk's text.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Piece {
    pub text: String,
    /// A heading line: it is carried to the next chunk rather than left
    /// alone at the end of one.
    pub heading: bool,
    /// Starts a chunk of its own without the generic overlap (a table
    /// piece: it repeats the header and carries its own overlap rows).
    pub fresh: bool,
}

impl Piece {
    pub fn plain(text: String) -> Self {
        Self {
            text,
            heading: false,
            fresh: false,
        }
    }
}

/// What kind of block a rendered text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Heading,
    Table,
    Code,
    Other,
}

/// Pieces of one rendered block: the block itself when it fits in
/// `max`, else pieces of at most `budget` tokens (`max` for tables, whose
/// pieces start chunks of their own), `overlap` being how many tokens of
/// rows a table's continuation repeats.
pub(super) fn pieces(
    text: &str,
    kind: Kind,
    max: usize,
    budget: usize,
    overlap: usize,
) -> Vec<Piece> {
    if estimate_tokens(text) <= max {
        return vec![Piece {
            text: text.to_owned(),
            heading: kind == Kind::Heading,
            fresh: false,
        }];
    }
    match kind {
        Kind::Table => {
            if let Some(pieces) = table_pieces(text, max, overlap) {
                return pieces;
            }
        }
        Kind::Code => {
            if let Some(pieces) = code_pieces(text, budget) {
                return pieces.into_iter().map(Piece::plain).collect();
            }
        }
        Kind::Heading | Kind::Other => {}
    }
    split_text(text, budget, false)
        .into_iter()
        .map(Piece::plain)
        .collect()
}

/// Boundaries tried in order, coarsest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    /// A line with no indentation and the indented lines after it (a
    /// list item with its nested items).
    LineGroups,
    Lines,
    Sentences,
    Words,
    Chars,
}

impl Level {
    fn finer(self) -> Self {
        match self {
            Level::LineGroups => Level::Lines,
            Level::Lines => Level::Sentences,
            Level::Sentences => Level::Words,
            Level::Words | Level::Chars => Level::Chars,
        }
    }
}

/// `text` cut into pieces of at most `budget` tokens each. `code` keeps
/// the first line's indentation (only blank lines are trimmed at the
/// start of a piece).
pub(super) fn split_text(text: &str, budget: usize, code: bool) -> Vec<String> {
    let mut acc = Acc {
        text: String::new(),
        count: Count::default(),
        code,
        out: Vec::new(),
    };
    split_at(text, budget.max(1), Level::LineGroups, &mut acc);
    acc.emit();
    acc.out
}

/// The piece being filled and the pieces already cut.
struct Acc {
    text: String,
    count: Count,
    code: bool,
    out: Vec<String>,
}

impl Acc {
    fn emit(&mut self) {
        let text = std::mem::take(&mut self.text);
        self.count = Count::default();
        let piece = if self.code {
            text.trim_start_matches(['\n', '\r']).trim_end()
        } else {
            text.trim()
        };
        if !piece.is_empty() {
            self.out.push(piece.to_owned());
        }
    }

    fn push(&mut self, unit: &str, count: Count, budget: usize) {
        if !self.text.is_empty() && self.count.concat(count).tokens() > budget {
            self.emit();
        }
        self.text.push_str(unit);
        self.count = self.count.concat(count);
    }
}

fn split_at(text: &str, budget: usize, level: Level, acc: &mut Acc) {
    for unit in units(text, level, budget) {
        let count = Count::of(unit);
        if count.tokens() > budget && level != Level::Chars {
            split_at(unit, budget, level.finer(), acc);
        } else {
            acc.push(unit, count, budget);
        }
    }
}

/// `text` cut at `level`'s boundaries; each unit keeps the separator that
/// follows it, so the units concatenate back to `text`.
fn units(text: &str, level: Level, budget: usize) -> Vec<&str> {
    let mut cuts = Vec::new();
    match level {
        Level::LineGroups => {
            let mut at = 0;
            for line in text.split_inclusive('\n') {
                if at > 0 && !line.starts_with([' ', '\t']) {
                    cuts.push(at);
                }
                at += line.len();
            }
        }
        Level::Lines => {
            let mut at = 0;
            for line in text.split_inclusive('\n') {
                at += line.len();
                cuts.push(at);
            }
        }
        Level::Sentences => {
            let mut prev: Option<char> = None;
            let mut in_space = false;
            for (i, c) in text.char_indices() {
                if c.is_whitespace() {
                    if !in_space && prev.is_some_and(|p| matches!(p, '.' | '!' | '?' | ';')) {
                        in_space = true;
                    }
                } else {
                    if in_space {
                        cuts.push(i);
                    }
                    in_space = false;
                }
                prev = Some(c);
            }
        }
        Level::Words => {
            let mut in_space = false;
            for (i, c) in text.char_indices() {
                if c.is_whitespace() {
                    in_space = true;
                } else if in_space {
                    cuts.push(i);
                    in_space = false;
                }
            }
        }
        Level::Chars => {
            // A run without spaces counts as one word: `4 * budget`
            // characters are `budget` tokens.
            let per = budget.saturating_mul(4).max(1);
            cuts.extend(
                text.char_indices()
                    .map(|(i, _)| i)
                    .enumerate()
                    .filter(|(n, _)| *n > 0 && n % per == 0)
                    .map(|(_, i)| i),
            );
        }
    }
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts {
        if cut > start && cut < text.len() {
            out.push(&text[start..cut]);
            start = cut;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// A pipe table cut between rows; every piece starts with the header (the
/// name, header row and separator) and, after the first, repeats the
/// previous piece's last rows (up to `overlap` tokens). `None` when the
/// text is not a table or its header alone takes half the budget.
fn table_pieces(text: &str, max: usize, overlap: usize) -> Option<Vec<Piece>> {
    let lines: Vec<&str> = text.lines().collect();
    let separator = lines
        .iter()
        .position(|l| l.starts_with("| ---") && l.trim_end().ends_with("--- |"))?;
    let head = lines[..=separator].join("\n");
    let head_count = Count::of(&head);
    if head_count.tokens() > max / 2 {
        return None;
    }
    let rows: Vec<(&str, Count)> = lines[separator + 1..]
        .iter()
        .map(|r| (*r, Count::of(r)))
        .collect();
    let line = |count: Count, row: Count| count.concat(Count::of("\n")).concat(row);
    let mut table = TablePieces {
        head: &head,
        pieces: Vec::new(),
    };
    // Rows of the piece being filled, and its count with the header.
    let mut current: Vec<&str> = Vec::new();
    let mut count = head_count;
    for &(row, row_count) in &rows {
        if line(head_count, row_count).tokens() > max {
            // A row that does not fit under the header: on its own, cut
            // at words only when it is larger than a whole chunk.
            table.emit(&mut current);
            count = head_count;
            let alone = if row_count.tokens() <= max {
                vec![row.to_owned()]
            } else {
                split_text(row, max, false)
            };
            table.pieces.extend(alone.into_iter().map(|text| Piece {
                text,
                heading: false,
                fresh: true,
            }));
            continue;
        }
        if line(count, row_count).tokens() <= max {
            current.push(row);
            count = line(count, row_count);
            continue;
        }
        let previous = std::mem::take(&mut current);
        table.emit(&mut previous.clone());
        // Overlap: the previous piece's last rows that fit before this row.
        let room = max.saturating_sub(line(head_count, row_count).tokens());
        let limit = overlap.min(room);
        let mut kept = Count::default();
        let mut start = previous.len();
        while start > 0 {
            let next = line(kept, Count::of(previous[start - 1]));
            if next.tokens() > limit {
                break;
            }
            kept = next;
            start -= 1;
        }
        count = head_count;
        for row in &previous[start..] {
            count = line(count, Count::of(row));
            current.push(row);
        }
        current.push(row);
        count = line(count, row_count);
    }
    table.emit(&mut current);
    Some(table.pieces)
}

struct TablePieces<'a> {
    head: &'a str,
    pieces: Vec<Piece>,
}

impl TablePieces<'_> {
    fn emit(&mut self, rows: &mut Vec<&str>) {
        if rows.is_empty() {
            return;
        }
        let mut text = self.head.to_owned();
        for row in rows.drain(..) {
            text.push('\n');
            text.push_str(row);
        }
        self.pieces.push(Piece {
            text,
            heading: false,
            fresh: true,
        });
    }
}

/// A fenced code block cut between lines, each piece fenced again.
fn code_pieces(text: &str, budget: usize) -> Option<Vec<String>> {
    let (open, rest) = text.split_once('\n')?;
    let (inner, close) = rest.rsplit_once('\n')?;
    if !(open.starts_with("```") && close.starts_with("```")) {
        return None;
    }
    let overhead = Count::of(open)
        .concat(Count::of("\n"))
        .concat(Count::of("\n"))
        .concat(Count::of(close))
        .tokens();
    let inner_budget = budget.checked_sub(overhead + 1).filter(|b| *b >= 4)?;
    Some(
        split_text(inner, inner_budget, true)
            .into_iter()
            .map(|piece| format!("{open}\n{piece}\n{close}"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_concatenate_back_to_the_text() {
        let text = "- a\n  - b\n- c. Pi is 3.14! Next\nline  two\n";
        for level in [
            Level::LineGroups,
            Level::Lines,
            Level::Sentences,
            Level::Words,
            Level::Chars,
        ] {
            assert_eq!(units(text, level, 1).concat(), text, "{level:?}");
        }
        assert_eq!(
            units(text, Level::LineGroups, 1),
            ["- a\n  - b\n", "- c. Pi is 3.14! Next\n", "line  two\n"]
        );
        assert_eq!(
            units("Pi is 3.14. Yes", Level::Sentences, 1),
            ["Pi is 3.14. ", "Yes"]
        );
    }

    #[test]
    fn pieces_fit_and_numbers_stay_whole() {
        let text = (0..400)
            .map(|i| format!("Value {i}.{i} is 1234567.89; next."))
            .collect::<Vec<_>>()
            .join(" ");
        for budget in [8, 20, 100] {
            let pieces = split_text(&text, budget, false);
            for p in &pieces {
                assert!(estimate_tokens(p) <= budget, "{budget}: {p}");
            }
            let words: Vec<&str> = pieces.iter().flat_map(|p| p.split_whitespace()).collect();
            assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
        }
    }

    #[test]
    fn table_pieces_repeat_the_header_and_keep_rows_whole() {
        let mut text = "| Name | Value |\n| --- | --- |".to_owned();
        for i in 0..100 {
            text.push_str(&format!("\n| row {i} | {}.5 |", i * 1000));
        }
        let pieces = pieces(&text, Kind::Table, 64, 40, 16);
        assert!(pieces.len() > 3, "{pieces:?}");
        let mut seen = Vec::new();
        for p in &pieces {
            assert!(estimate_tokens(&p.text) <= 64, "{}", p.text);
            assert!(p.fresh);
            assert!(
                p.text
                    .starts_with("| Name | Value |\n| --- | --- |\n| row "),
                "{}",
                p.text
            );
            for line in p.text.lines().skip(2) {
                assert!(text.lines().any(|l| l == line), "cut row {line}");
                if !seen.contains(&line) {
                    seen.push(line);
                }
            }
        }
        assert_eq!(seen.len(), 100, "every row once at least");
        // Continuations repeat the previous piece's last row.
        let last = pieces[0].text.lines().last().expect("row");
        assert!(pieces[1].text.lines().any(|l| l == last), "{pieces:?}");
    }

    #[test]
    fn code_pieces_are_fenced() {
        let code = (0..200)
            .map(|i| format!("    let x{i} = {i};"))
            .collect::<Vec<_>>()
            .join("\n");
        let text = format!("```rust\n{code}\n```");
        let pieces = pieces(&text, Kind::Code, 64, 48, 16);
        assert!(pieces.len() > 3);
        for p in &pieces {
            assert!(estimate_tokens(&p.text) <= 48, "{}", p.text);
            assert!(p.text.starts_with("```rust\n    let x"), "{}", p.text);
            assert!(p.text.ends_with("\n```"), "{}", p.text);
        }
    }
}

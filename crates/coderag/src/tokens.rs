//! The code-aware tokenizer, the same at index and at query time.
//!
//! A word is a run of letters, digits and `_`. Each word is kept whole
//! (lowercased) and, when it is a compound, also split into its parts on
//! `_` and on camelCase humps (`parseHTTPHeader` → `parsehttpheader`,
//! `parse`, `http`, `header`). Every term is folded by a light suffix rule
//! (`parsers` → `parser`; `parse`, `parses`, `parsing`, `parsed` → `pars`) so the
//! words of a sentence meet the words of code. One-letter terms are
//! dropped; terms are at most 64 bytes.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Longest term kept, in bytes.
const MAX_TERM: usize = 64;

/// The terms of `text`, in order (repeats kept).
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    each_term(text, |term, _, _| out.push(term));
    out
}

/// Calls `sink(term, byte_from, byte_to)` for every term of `text`.
fn each_term(text: &str, mut sink: impl FnMut(String, usize, usize)) {
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let word_char = c.is_alphanumeric() || c == '_';
        match (start, word_char) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                word_terms(&text[s..i], s, &mut sink);
                start = None;
            }
            _ => {}
        }
    }
}

fn word_terms(word: &str, offset: usize, sink: &mut impl FnMut(String, usize, usize)) {
    let parts = split_word(word);
    let whole = fold(&word.to_lowercase().replace('_', ""));
    let compound = parts.len() > 1;
    if keep(&whole) {
        sink(whole.clone(), offset, offset + word.len());
    }
    if compound {
        for (from, to) in parts {
            let part = fold(&word[from..to].to_lowercase());
            if keep(&part) && part != whole {
                sink(part, offset + from, offset + to);
            }
        }
    }
}

fn keep(term: &str) -> bool {
    term.chars().count() >= 2 && term.len() <= MAX_TERM && !term.chars().all(|c| c == '_')
}

/// Byte ranges of the parts of an identifier: split on `_`, on a lower →
/// upper change, before the last capital of a capital run followed by a
/// lowercase letter (`HTTPServer` → `HTTP`, `Server`).
pub fn split_word(word: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    for (k, &(i, c)) in chars.iter().enumerate() {
        if c == '_' {
            if let Some(s) = start.take() {
                parts.push((s, i));
            }
            continue;
        }
        if let Some(s) = start {
            let prev = chars[k - 1].1;
            let next = chars.get(k + 1).map(|&(_, n)| n);
            let hump = prev.is_lowercase() && c.is_uppercase();
            let acronym_end =
                prev.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase);
            let digit_to_upper = prev.is_ascii_digit() && c.is_uppercase();
            if hump || acronym_end || digit_to_upper {
                parts.push((s, i));
                start = Some(i);
            }
        } else {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        parts.push((s, word.len()));
    }
    parts
}

/// The light suffix rule; see the module docs.
fn fold(term: &str) -> String {
    let mut folded = strip_suffix(term);
    if folded.len() > 4 && folded.is_ascii() && folded.ends_with('e') {
        folded.pop();
    }
    folded
}

fn strip_suffix(term: &str) -> String {
    let n = term.len();
    if !term.is_ascii() {
        return term.to_owned();
    }
    if n > 4 && term.ends_with("ies") {
        return format!("{}y", &term[..n - 3]);
    }
    if n > 5 && term.ends_with("ing") {
        return term[..n - 3].to_owned();
    }
    if n > 4 && term.ends_with("ed") && !term.ends_with("eed") {
        return term[..n - 2].to_owned();
    }
    if n > 3
        && term.ends_with('s')
        && !(term.ends_with("ss") || term.ends_with("us") || term.ends_with("is"))
    {
        return term[..n - 1].to_owned();
    }
    term.to_owned()
}

/// The tokenizer registered with the index as [`NAME`].
#[derive(Debug, Clone, Default)]
pub struct CodeTokenizer {
    tokens: Vec<Token>,
}

/// The name the index knows [`CodeTokenizer`] by.
pub const NAME: &str = "code";

/// The tokens of one text.
#[derive(Debug)]
pub struct CodeTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    /// One past the current token.
    next: usize,
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream<'a> {
        self.tokens.clear();
        let mut position = 0;
        let tokens = &mut self.tokens;
        each_term(text, |term, from, to| {
            tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position,
                text: term,
                position_length: 1,
            });
            position += 1;
        });
        CodeTokenStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl TokenStream for CodeTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1)]
    }

    fn token_mut(&mut self) -> &mut Token {
        let at = self.next.saturating_sub(1);
        &mut self.tokens[at]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_and_whole() {
        for (text, expected) in [
            (
                "parseHTTPHeader",
                vec!["parsehttpheader", "pars", "http", "header"],
            ),
            (
                "parse parses parsing parsed",
                vec!["pars", "pars", "pars", "pars"],
            ),
            ("max_file_bytes", vec!["maxfilebyt", "max", "file", "byte"]),
            ("HTTPServer", vec!["httpserver", "http", "server"]),
            ("sha256Digest", vec!["sha256digest", "sha256", "digest"]),
            ("Returns the parsers.", vec!["return", "the", "parser"]),
            ("a x_y", vec!["xy"]),
        ] {
            assert_eq!(terms(text), expected, "{text}");
        }
    }

    #[test]
    fn token_stream_matches_terms() {
        let mut tokenizer = CodeTokenizer::default();
        let mut stream = tokenizer.token_stream("fooBar baz");
        let mut seen = Vec::new();
        while stream.advance() {
            seen.push(stream.token().text.clone());
        }
        assert_eq!(seen, terms("fooBar baz"));
    }
}

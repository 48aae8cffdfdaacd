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
    each_term(text, &mut Scratch::default(), |term, _, _| {
        out.push(term.to_owned());
    });
    out
}

/// Buffers reused from word to word, so tokenizing allocates nothing once
/// warm (the index tokenizes every field of every chunk with it).
#[derive(Debug, Clone, Default)]
struct Scratch {
    lower: String,
    whole: String,
    part: String,
}

/// Calls `sink(term, byte_from, byte_to)` for every term of `text`.
fn each_term(text: &str, scratch: &mut Scratch, mut sink: impl FnMut(&str, usize, usize)) {
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let word_char = c.is_alphanumeric() || c == '_';
        match (start, word_char) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                word_terms(&text[s..i], s, scratch, &mut sink);
                start = None;
            }
            _ => {}
        }
    }
}

fn word_terms(
    word: &str,
    offset: usize,
    scratch: &mut Scratch,
    sink: &mut impl FnMut(&str, usize, usize),
) {
    lowercase_into(word, true, &mut scratch.lower);
    fold_into(&scratch.lower, &mut scratch.whole);
    if keep(&scratch.whole) {
        sink(&scratch.whole, offset, offset + word.len());
    }
    // Compound: an `_` or a capital after the first character (a lone
    // lowercase word, the common case, needs no split).
    let compound = word.contains('_') || word.chars().skip(1).any(char::is_uppercase);
    if !compound {
        return;
    }
    let parts = split_word(word);
    if parts.len() < 2 {
        return;
    }
    for (from, to) in parts {
        lowercase_into(&word[from..to], false, &mut scratch.lower);
        fold_into(&scratch.lower, &mut scratch.part);
        if keep(&scratch.part) && scratch.part != scratch.whole {
            sink(&scratch.part, offset + from, offset + to);
        }
    }
}

/// `word` lowercased into `out` (`_` dropped when `drop_underscores`).
fn lowercase_into(word: &str, drop_underscores: bool, out: &mut String) {
    out.clear();
    if word.is_ascii() {
        out.extend(
            word.bytes()
                .filter(|&b| !(drop_underscores && b == b'_'))
                .map(|b| char::from(b.to_ascii_lowercase())),
        );
    } else {
        for c in word.chars().filter(|&c| !(drop_underscores && c == '_')) {
            out.extend(c.to_lowercase());
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

/// The light suffix rule (see the module docs), `term` into `out`.
fn fold_into(term: &str, out: &mut String) {
    out.clear();
    if !term.is_ascii() {
        out.push_str(term);
        return;
    }
    let n = term.len();
    if n > 4 && term.ends_with("ies") {
        out.push_str(&term[..n - 3]);
        out.push('y');
    } else if n > 5 && term.ends_with("ing") {
        out.push_str(&term[..n - 3]);
    } else if n > 4 && term.ends_with("ed") && !term.ends_with("eed") {
        out.push_str(&term[..n - 2]);
    } else if n > 3
        && term.ends_with('s')
        && !(term.ends_with("ss") || term.ends_with("us") || term.ends_with("is"))
    {
        out.push_str(&term[..n - 1]);
    } else {
        out.push_str(term);
    }
    if out.len() > 4 && out.ends_with('e') {
        out.pop();
    }
}

/// The tokenizer registered with the index as [`NAME`]. Its tokens and
/// their texts are reused from one field to the next.
#[derive(Debug, Clone, Default)]
pub struct CodeTokenizer {
    tokens: Vec<Token>,
    scratch: Scratch,
}

/// The name the index knows [`CodeTokenizer`] by.
pub const NAME: &str = "code";

/// The tokens of one text.
#[derive(Debug)]
pub struct CodeTokenStream<'a> {
    tokens: &'a mut [Token],
    /// One past the current token.
    next: usize,
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream<'a> {
        let mut n = 0;
        let tokens = &mut self.tokens;
        each_term(text, &mut self.scratch, |term, from, to| {
            match tokens.get_mut(n) {
                Some(token) => {
                    token.text.clear();
                    token.text.push_str(term);
                    token.offset_from = from;
                    token.offset_to = to;
                    token.position = n;
                    token.position_length = 1;
                }
                None => tokens.push(Token {
                    offset_from: from,
                    offset_to: to,
                    position: n,
                    text: term.to_owned(),
                    position_length: 1,
                }),
            }
            n += 1;
        });
        CodeTokenStream {
            tokens: &mut self.tokens[..n],
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

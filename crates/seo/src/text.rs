//! Text measures: word counts, Flesch reading ease, the pixel width of a
//! title in Google's result font (an estimate), and shingle sketches for
//! near-duplicate detection.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
};

/// Word and readability counts of a text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub words: usize,
    /// Flesch reading ease (English formula; higher is easier); `None`
    /// under 100 words, where it says little.
    pub flesch: Option<f64>,
}

/// Counts words, sentences and syllables of `text`.
pub fn stats(text: &str) -> Stats {
    let mut words = 0usize;
    let mut syllables = 0usize;
    let mut sentences = 0usize;
    for raw in text.split_whitespace() {
        let word: String = raw.chars().filter(|c| c.is_alphanumeric()).collect();
        if word.is_empty() {
            continue;
        }
        words += 1;
        syllables += syllable_count(&word);
        if raw.ends_with(['.', '!', '?']) {
            sentences += 1;
        }
    }
    let flesch = (words >= 100).then(|| {
        let sentences = sentences.max(1) as f64;
        let w = words as f64;
        206.835 - 1.015 * (w / sentences) - 84.6 * (syllables as f64 / w)
    });
    Stats { words, flesch }
}

/// Vowel groups, with a silent final `e`; at least one.
fn syllable_count(word: &str) -> usize {
    let lower = word.to_lowercase();
    let mut count = 0;
    let mut previous_vowel = false;
    for c in lower.chars() {
        let vowel = "aeiouyàáâäèéêëìíîïòóôöùúûü".contains(c);
        if vowel && !previous_vowel {
            count += 1;
        }
        previous_vowel = vowel;
    }
    if lower.ends_with('e') && !lower.ends_with("le") && count > 1 {
        count -= 1;
    }
    count.max(1)
}

/// Estimated width of `title` in pixels at Google's 20px Arial title size.
pub fn title_pixels(title: &str) -> u32 {
    title
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '!' | '|' | '.' | ',' | ':' | ';' | '\'' | 'I' => 5,
            'f' | 't' | 'r' | ' ' | '(' | ')' | '[' | ']' | '-' => 7,
            'm' | 'w' => 17,
            'M' | 'W' => 19,
            c if c.is_ascii_uppercase() => 14,
            c if c.is_ascii_digit() => 11,
            c if c.is_ascii() => 11,
            // CJK and other wide scripts
            c if (c as u32) >= 0x2E80 => 20,
            _ => 11,
        })
        .sum()
}

/// Words per shingle.
const SHINGLE: usize = 5;
/// Hashes kept per sketch (bottom-k MinHash).
pub const SKETCH: usize = 64;

/// A bottom-k MinHash sketch of the 5-word shingles of `text`, sorted.
pub fn sketch(text: &str) -> Vec<u64> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let mut hashes: Vec<u64> = if words.len() < SHINGLE {
        if words.is_empty() {
            Vec::new()
        } else {
            vec![hash(&words)]
        }
    } else {
        words.windows(SHINGLE).map(hash).collect()
    };
    hashes.sort_unstable();
    hashes.dedup();
    hashes.truncate(SKETCH);
    // Sketches live as long as the crawl: do not keep the capacity of
    // every shingle of the page.
    hashes.shrink_to_fit();
    hashes
}

fn hash(words: &[String]) -> u64 {
    let mut h = DefaultHasher::new();
    words.hash(&mut h);
    h.finish()
}

/// Estimated Jaccard similarity of the texts behind two sketches.
pub fn similarity(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // Bottom-k of the union, and how many of those are in both.
    let (mut i, mut j, mut taken, mut shared) = (0, 0, 0, 0);
    let k = SKETCH.min(a.len().max(b.len()));
    while taken < k && (i < a.len() || j < b.len()) {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                shared += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), Some(_)) => j += 1,
            (Some(_), None) => i += 1,
            (None, _) => j += 1,
        }
        taken += 1;
    }
    shared as f64 / taken.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readability_and_widths() {
        let easy = "The cat sat on the mat. ".repeat(20);
        let s = stats(&easy);
        assert_eq!(s.words, 120);
        assert!(s.flesch.expect("enough words") > 90.0, "{s:?}");
        let hard = "Institutional interoperability necessitates comprehensive organizational \
                    reconceptualization notwithstanding considerable administrative \
                    complications. "
            .repeat(12);
        assert!(stats(&hard).flesch.expect("enough words") < 0.0);
        assert!(stats("short text").flesch.is_none());
        assert!(title_pixels("iiii") < title_pixels("WWWW"));
    }

    #[test]
    fn near_duplicates_score_high() {
        let base = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi \
                    omicron pi rho sigma tau upsilon phi chi psi omega"
            .repeat(3);
        let tweaked = format!("{base} extra");
        let other = "one two three four five six seven eight nine ten eleven twelve";
        assert!(similarity(&sketch(&base), &sketch(&tweaked)) > 0.9);
        assert!(similarity(&sketch(&base), &sketch(other)) < 0.1);
        assert_eq!(similarity(&[], &sketch(other)), 0.0);
    }
}

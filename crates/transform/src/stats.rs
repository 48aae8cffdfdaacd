//! Text statistics: counts, reading time and a language guess.

use unicode_segmentation::UnicodeSegmentation;

/// Below this many words a language guess is noise (whatlang marks such
/// guesses unreliable) and costs more than everything else here combined.
pub const MIN_WORDS_FOR_LANGUAGE: usize = 5;

/// Words per minute used for reading time (Brysbaert 2019, silent reading of English).
pub const READING_WPM: f64 = 238.0;

/// Counts for one text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextStats {
    pub chars: usize,
    pub bytes: usize,
    pub words: usize,
    pub sentences: usize,
    pub paragraphs: usize,
    pub lines: usize,
    pub avg_words_per_sentence: f64,
    pub reading_time_seconds: u64,
    pub language: Option<Language>,
}

/// A language guess.
#[derive(Debug, Clone, PartialEq)]
pub struct Language {
    /// ISO 639-3 code, e.g. `eng`.
    pub code: &'static str,
    /// English name, e.g. `English`.
    pub name: &'static str,
    pub confidence: f64,
    pub reliable: bool,
}

/// Computes [`TextStats`] for `text`.
pub fn text_stats(text: &str) -> TextStats {
    if text.is_empty() {
        // unicode-segmentation's sentence iterator underflows in `size_hint`
        // on empty input (1.12, 1.13); nothing to count anyway.
        return TextStats {
            chars: 0,
            bytes: 0,
            words: 0,
            sentences: 0,
            paragraphs: 0,
            lines: 0,
            avg_words_per_sentence: 0.0,
            reading_time_seconds: 0,
            language: None,
        };
    }
    let words = text.unicode_words().count();
    let sentences = text
        .unicode_sentences()
        .filter(|s| s.unicode_words().next().is_some())
        .count();
    let paragraphs = text.split("\n\n").filter(|p| !p.trim().is_empty()).count();
    let lines = if text.is_empty() {
        0
    } else {
        text.lines().count()
    };
    let avg = if sentences == 0 {
        0.0
    } else {
        words as f64 / sentences as f64
    };
    TextStats {
        chars: text.chars().count(),
        bytes: text.len(),
        words,
        sentences,
        paragraphs,
        lines,
        avg_words_per_sentence: (avg * 10.0).round() / 10.0,
        reading_time_seconds: (words as f64 / READING_WPM * 60.0).ceil() as u64,
        language: if words >= MIN_WORDS_FOR_LANGUAGE {
            detect_language(text)
        } else {
            None
        },
    }
}

fn detect_language(text: &str) -> Option<Language> {
    let info = whatlang::detect(text)?;
    Some(Language {
        code: info.lang().code(),
        name: info.lang().eng_name(),
        confidence: (info.confidence() * 100.0).round() / 100.0,
        reliable: info.is_reliable(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let cases: &[(&str, usize, usize, usize, usize, usize)] = &[
            // text, chars, words, sentences, paragraphs, lines
            ("", 0, 0, 0, 0, 0),
            ("Hello there. How are you?", 25, 5, 2, 1, 1),
            ("One.\n\nTwo para.\nline", 20, 4, 3, 2, 4),
            ("naïve café, déjà vu!", 20, 4, 1, 1, 1),
            ("日本語のテキスト。二つ目の文。", 15, 10, 2, 1, 1),
        ];
        for (text, chars, words, sentences, paragraphs, lines) in cases {
            let s = text_stats(text);
            assert_eq!(
                (s.chars, s.words, s.sentences, s.paragraphs, s.lines),
                (*chars, *words, *sentences, *paragraphs, *lines),
                "{text:?}"
            );
        }
    }

    #[test]
    fn reading_time_rounds_up() {
        assert_eq!(
            text_stats("word ".repeat(238).as_str()).reading_time_seconds,
            60
        );
        assert_eq!(text_stats("one").reading_time_seconds, 1);
        assert_eq!(text_stats("").reading_time_seconds, 0);
    }

    #[test]
    fn guesses_language() {
        let cases = [
            (
                "The weather was lovely this morning, so we decided to walk to the market and buy \
                 fresh bread, some cheese and a few apples for the picnic in the park.",
                "eng",
            ),
            (
                "Le temps était magnifique ce matin, alors nous avons décidé d'aller au marché pour \
                 acheter du pain frais, du fromage et quelques pommes pour le pique-nique.",
                "fra",
            ),
            (
                "Das Wetter war heute Morgen herrlich, also beschlossen wir, zum Markt zu gehen und \
                 frisches Brot, etwas Käse und ein paar Äpfel für das Picknick zu kaufen.",
                "deu",
            ),
        ];
        for (text, code) in cases {
            let language = text_stats(text).language.expect("a guess");
            assert_eq!(language.code, code, "{text}: {language:?}");
            assert!(language.reliable, "{text}: {language:?}");
        }
        assert_eq!(text_stats("").language, None);
        assert_eq!(
            text_stats("bonjour le monde").language,
            None,
            "too short to guess"
        );
    }
}

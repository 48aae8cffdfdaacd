//! Masks what looks like a credential in text returned to a client: known
//! token shapes (cloud keys, provider API keys, JWTs) and long runs of
//! high-entropy characters mixing letters and digits. Identifiers and
//! ordinary words stay: a run must be 20+ characters long, contain both
//! letters and digits, and carry at least 3.5 bits of entropy per
//! character (a hex digest, a base64 key, a random token).

/// What a masked token is replaced by.
pub const MASK: &str = "[masked]";

/// Shortest run considered.
const MIN_LEN: usize = 20;

/// `text` with every credential-like token replaced by [`MASK`], and how
/// many were replaced.
pub fn mask(text: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut masked = 0;
    let mut start: Option<usize> = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let token_char =
            c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-' | '.');
        match (start, token_char && i < text.len()) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                let run = &text[s..i];
                if is_secret(run) {
                    out.push_str(MASK);
                    masked += 1;
                } else {
                    out.push_str(run);
                }
                start = None;
                if i < text.len() {
                    out.push(c);
                }
            }
            (None, false) => {
                if i < text.len() {
                    out.push(c);
                }
            }
            (Some(_), true) => {}
        }
    }
    (out, masked)
}

/// Whether one run of token characters looks like a credential.
fn is_secret(run: &str) -> bool {
    let run = run.trim_matches(|c| matches!(c, '.' | '-' | '/' | '='));
    if run.len() < MIN_LEN {
        return false;
    }
    let known = [
        "AKIA",
        "ASIA",
        "ghp_",
        "gho_",
        "ghs_",
        "github_pat_",
        "sk-",
        "sk_live_",
        "xox",
        "AIza",
        "glpat-",
        "eyJ",
    ];
    let has_digit = run.chars().any(|c| c.is_ascii_digit());
    let has_alpha = run.chars().any(|c| c.is_ascii_alphabetic());
    if known.iter().any(|k| run.starts_with(k)) && has_digit && has_alpha {
        return true;
    }
    // Paths and dotted names are not tokens.
    let path_part = |p: &str| {
        p.len() < 8
            || p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
    };
    if run.contains('/') && run.split('/').all(|p| p.len() < MIN_LEN && path_part(p)) {
        return false;
    }
    if run.contains('.') && run.split('.').all(|p| p.len() < MIN_LEN) {
        return false;
    }
    // Words joined by separators (`x86_64-unknown-linux-gnu`, a UUID).
    let pieces: Vec<&str> = run.split(['-', '_']).collect();
    if pieces.len() > 2 && pieces.iter().all(|p| p.len() < 16) {
        return false;
    }
    let hex = run.len() >= 32 && run.chars().all(|c| c.is_ascii_hexdigit());
    let floor = if hex { 3.0 } else { 3.5 };
    let mixed_case =
        run.chars().any(|c| c.is_ascii_uppercase()) && run.chars().any(|c| c.is_ascii_lowercase());
    let bits = entropy(run);
    (has_digit && has_alpha && bits >= floor && digits_spread(run))
        || (run.len() >= 30 && mixed_case && has_digit && bits >= 4.0)
}

/// Digits inside the run, not only a numeric suffix (`test_case_1234…`).
fn digits_spread(run: &str) -> bool {
    let digits = run.chars().filter(char::is_ascii_digit).count();
    let trailing = run.chars().rev().take_while(char::is_ascii_digit).count();
    digits > trailing && digits * 10 >= run.len()
}

/// Shannon entropy in bits per character.
fn entropy(run: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in run.bytes() {
        counts[b as usize] += 1;
    }
    let n = run.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_credentials_keeps_code() {
        for secret in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ",
            "sk-proj-4fG7h2Kd9sL3mQ8wE1rT6yU0iO5pA",
            "d41d8cd98f00b204e9800998ecf8427e",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ] {
            let (masked, n) = mask(&format!("key = \"{secret}\";"));
            assert_eq!(n, 1, "{secret}");
            assert_eq!(masked, format!("key = \"{MASK}\";"));
        }
        for code in [
            "fn parse_http_header_value(input: &str) -> Result<Header, Error>",
            "let veryLongIdentifierNameWithoutDigits = 1;",
            "use std::collections::hash_map::DefaultHasher;",
            "test_case_number_1234567",
            "https://example.com/some/long/path/to/a/resource.html",
            "x86_64-unknown-linux-gnu",
        ] {
            let (masked, n) = mask(code);
            assert_eq!((masked.as_str(), n), (code, 0), "{code}");
        }
    }
}

//! Addresses written to dodge scrapers, as team pages do:
//! `jane [at] acme [dot] com`, `jane(at)acme.com`, `jane {at} acme (dot) co
//! (dot) uk`, `jane AT acme DOT com` and the bare `jane at acme dot com`.
//!
//! Bracketed and capitalised markers are deliberate, so they are taken as
//! they stand. The bare lower-case form is also ordinary English ("look at
//! this dot com boom"), so it is taken only when nothing in it reads as
//! prose: no function word as a label, and either a cue before it
//! ("email", "contact", a `:`), an address-like local part (`jane.doe`,
//! `j_doe`, `jd2`), or nothing but punctuation, a capital or the end after
//! it (prose goes on with a lower-case word).

use std::sync::LazyLock;

use regex::Regex;

/// Emails spelled out in `text`, decoded to `local@domain.tld`.
pub(crate) fn emails(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for caps in MARKED.captures_iter(text) {
        if let Some(email) = assemble(&caps[1], &caps[2])
            && !out.contains(&email)
        {
            out.push(email);
        }
    }
    for caps in BARE.captures_iter(text) {
        let whole = caps.get(0).expect("group 0 is the match");
        let (local, domain) = (&caps[1], &caps[2]);
        if bare_is_an_address(text, whole.start(), whole.end(), local, domain)
            && let Some(email) = assemble(local, domain)
            && !out.contains(&email)
        {
            out.push(email);
        }
    }
    out
}

/// `[at]`, `(at)`, `{at}`, `<at>`, or a capitalised ` AT `; the domain's
/// dots as `.`, `[dot]`, `(dot)` or ` DOT `.
static MARKED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \b([a-z0-9A-Z][a-zA-Z0-9._%+-]{0,63})
        (?: \s*[\[({<]\s*(?i:at)\s*[\])}>]\s* | \s+AT\s+ )
        ([a-zA-Z0-9][a-zA-Z0-9-]{0,62}
          (?: (?: \s*[\[({<]\s*(?i:dot)\s*[\])}>]\s* | \s+DOT\s+ | \. ) [a-zA-Z0-9-]{1,63} )+ )
        \b",
    )
    .expect("a valid pattern")
});

/// `jane at acme dot com` (lower or mixed case words, spaces around).
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \b([a-zA-Z0-9][a-zA-Z0-9._%+-]{0,63})
        \s+(?i:at)\s+
        ([a-zA-Z0-9][a-zA-Z0-9-]{0,62} (?: \s+(?i:dot)\s+ [a-zA-Z0-9-]{1,63} )+ )
        \b",
    )
    .expect("a valid pattern")
});

/// Words that make `x at y dot z` prose rather than an address.
const PROSE_WORDS: &[&str] = &[
    "a", "an", "the", "this", "that", "these", "those", "it", "its", "my", "our", "your", "his",
    "her", "their", "me", "us", "him", "them", "you", "we", "they", "look", "looking", "looked",
    "is", "was", "are", "were", "be", "been", "all", "once", "least", "most", "home", "work",
    "night", "noon", "first", "last", "best", "one",
];

/// Words just before an address that announce it.
const CUES: &[&str] = &[
    "email", "e-mail", "mail", "contact", "reach", "write", "address", "courriel", "correo",
];

fn bare_is_an_address(text: &str, start: usize, end: usize, local: &str, domain: &str) -> bool {
    let labels: Vec<String> = split_domain(domain);
    let prose = std::iter::once(local.to_ascii_lowercase())
        .chain(labels.iter().map(|l| l.to_ascii_lowercase()))
        .any(|w| PROSE_WORDS.contains(&w.as_str()));
    if prose {
        return false;
    }
    let before: String = text[..start]
        .chars()
        .rev()
        .take(32)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<String>()
        .to_lowercase();
    let cued = before.trim_end().ends_with(':')
        || before
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .any(|w| CUES.contains(&w));
    let address_like = local.chars().any(|c| matches!(c, '.' | '_' | '%' | '+'))
        || local.chars().any(|c| c.is_ascii_digit());
    let after = text[end..].trim_start();
    let ends_there = after
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric() || c.is_uppercase());
    cued || address_like || ends_there
}

/// Joins `local` and the spelled-out `domain`, if the result looks like an
/// address (a letters-only top-level domain of 2–24 characters).
fn assemble(local: &str, domain: &str) -> Option<String> {
    let labels = split_domain(domain);
    let tld = labels.last()?;
    if labels.len() < 2
        || !(2..=24).contains(&tld.len())
        || !tld.chars().all(|c| c.is_ascii_alphabetic())
        || labels
            .iter()
            .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
    {
        return None;
    }
    let local = local.trim_end_matches('.');
    if local.is_empty() {
        return None;
    }
    Some(format!("{local}@{}", labels.join(".")).to_lowercase())
}

/// The labels of a spelled-out domain.
fn split_domain(domain: &str) -> Vec<String> {
    static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\.").expect("a valid pattern")
    });
    SEPARATOR
        .split(domain)
        .map(|l| l.trim().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::emails;

    #[test]
    fn spelled_out_addresses_are_decoded_and_prose_is_not() {
        let cases: &[(&str, &[&str])] = &[
            ("jane [at] acme [dot] com", &["jane@acme.com"]),
            ("jane(at)acme.com", &["jane@acme.com"]),
            (
                "j.doe (at) example (dot) co (dot) uk",
                &["j.doe@example.co.uk"],
            ),
            ("Email: jane at acme dot com today", &["jane@acme.com"]),
            ("sofia at brightline dot io", &["sofia@brightline.io"]),
            (
                "maria.gonzalez at fabrikam dot com for details",
                &["maria.gonzalez@fabrikam.com"],
            ),
            ("Jane AT acme DOT com", &["jane@acme.com"]),
            ("jane {at} acme {dot} org.", &["jane@acme.org"]),
            ("look at this dot com boom", &[]),
            ("we met at the dot com party", &[]),
            ("arrive at noon dot then leave", &[]),
            ("prices at launch dot matrix printers", &[]),
            ("meet me at 10 (at) the latest", &[]),
            ("jane [at] acme [dot] 123", &[]),
        ];
        for (input, expected) in cases {
            assert_eq!(emails(input), *expected, "{input}");
        }
    }
}

//! Matching guard-policy argument patterns.
//!
//! `*` matches within one path component (never `/`), `**` across
//! components, `?` one character other than `/`. Arguments are normalised
//! lexically first (`.` dropped, `..` resolved, repeated `/` collapsed), and
//! the normalised text is what the server receives, so what was checked is
//! what runs: `/home/me/notes/../.ssh/id_rsa` is `/home/me/.ssh/id_rsa`,
//! which `/home/me/notes/*` does not match.

use std::borrow::Cow;

/// Whether `text` matches `pattern` (see the module docs).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    enum Token {
        Char(char),
        One,
        Star,
        DoubleStar,
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '*' if chars.peek() == Some(&'*') => {
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                Token::DoubleStar
            }
            '*' => Token::Star,
            '?' => Token::One,
            c => Token::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // row[j]: the tokens so far match text[..j]. O(pattern × text) time,
    // O(text) memory: no backtracking blow-up on hostile arguments.
    let mut row = vec![false; text.len() + 1];
    row[0] = true;
    for token in &tokens {
        let mut next = vec![false; text.len() + 1];
        for j in 0..=text.len() {
            next[j] = match token {
                Token::Char(c) => j > 0 && row[j - 1] && text[j - 1] == *c,
                Token::One => j > 0 && row[j - 1] && text[j - 1] != '/',
                Token::Star => row[j] || (j > 0 && next[j - 1] && text[j - 1] != '/'),
                Token::DoubleStar => row[j] || (j > 0 && next[j - 1]),
            };
        }
        row = next;
    }
    row[text.len()]
}

/// `arg` with its path resolved lexically: `.` components dropped, `..`
/// removing the component before it (never above `/` or an option prefix
/// such as `--file=` or `-I`), repeated `/` collapsed. A leading `./`, the
/// `//` after a URL scheme and a trailing `/` are kept. Arguments without
/// `/` are returned as they are.
pub fn normalise_argument(arg: &str) -> Cow<'_, str> {
    if !arg.contains('/') {
        return Cow::Borrowed(arg);
    }
    let mut parts = arg.split('/');
    let head = parts.next().unwrap_or_default();
    let mut stack: Vec<&str> = Vec::new();
    // Components that `..` may not remove.
    let mut fixed = 0;
    let rooted = head.is_empty() || head.starts_with('-') || head.contains('=');
    // `..` at the top is dropped (rooted, URL) rather than kept (relative).
    let mut bounded = rooted;
    let mut rest: Vec<&str> = parts.collect();
    if rooted || head == "." {
        stack.push(head);
        fixed = 1;
    } else if head.ends_with(':') && rest.first() == Some(&"") {
        // scheme://authority/…: keep the `//` and the authority.
        stack.push(head);
        stack.push("");
        rest.remove(0);
        fixed = 2;
        bounded = true;
        if let Some(authority) = (!rest.is_empty()).then(|| rest.remove(0)) {
            stack.push(authority);
            fixed = 3;
        }
    } else {
        rest.insert(0, head);
    }
    for part in rest {
        match part {
            "" | "." => {}
            ".." if stack.len() > fixed && stack.last() != Some(&"..") => {
                stack.pop();
            }
            // Above the root (or a prefix): `/..` is `/`.
            ".." if bounded => {}
            part => stack.push(part),
        }
    }
    let mut out = stack.join("/");
    // `/` alone (or `--file=/`), or a trailing slash the argument had.
    let root_only = rooted && stack.len() == 1;
    let trailing = arg.ends_with('/') && !out.ends_with('/') && !out.is_empty();
    if root_only || trailing {
        out.push('/');
    }
    if out.is_empty() {
        out.push('.');
    }
    if out == arg {
        Cow::Borrowed(arg)
    } else {
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_stays_within_one_component() {
        let cases = [
            ("*", "anything", true),
            ("*", "", true),
            ("*", "a/b", false),
            ("**", "a/b", true),
            ("@scope/pkg@1.*", "@scope/pkg@1.2.3", true),
            ("@scope/pkg@1.*", "@scope/pkg@2.0.0", false),
            ("/data/*", "/data/a", true),
            ("/data/*", "/data/a/b", false),
            ("/data/**", "/data/a/b", true),
            ("/data/*/x", "/data/a/x", true),
            ("/data/*/x", "/data/a/b/x", false),
            ("-?", "-y", true),
            ("-?", "-yy", false),
            ("/data/?", "/data//", false),
            ("/data/*", "/etc/passwd", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(glob_match(pattern, text), expected, "{pattern} vs {text}");
        }
        // Linear, not exponential, on a hostile pattern.
        let text = "a".repeat(20_000);
        assert!(!glob_match("*a*a*a*a*a*a*a*a*b", &text));
    }

    #[test]
    fn arguments_are_resolved_lexically() {
        let cases = [
            ("/home/me/notes/../.ssh/id_rsa", "/home/me/.ssh/id_rsa"),
            ("/home/me/notes/./a//b", "/home/me/notes/a/b"),
            ("/data/x//../../etc/passwd", "/etc/passwd"),
            ("/../../etc", "/etc"),
            ("/data/..", "/"),
            ("--file=/data/../etc/shadow", "--file=/etc/shadow"),
            ("-I/data/../etc", "-I/etc"),
            ("notes/../x", "x"),
            ("a/..", "."),
            ("../x", "../x"),
            ("./pkg", "./pkg"),
            ("./a/../../b", "./../b"),
            ("https://example.com/a/../b", "https://example.com/b"),
            ("https://example.com/..", "https://example.com"),
            ("@scope/pkg@1.2.3", "@scope/pkg@1.2.3"),
            ("/data/dir/", "/data/dir/"),
            ("plain", "plain"),
        ];
        for (arg, expected) in cases {
            assert_eq!(normalise_argument(arg), expected, "{arg}");
        }
    }
}

//! Rule: secrets stored in the config, and their redaction.

use super::*;

// ---------------------------------------------------------------------------
// Rule: secrets stored in the config

/// A secret found in a config value: what kind, and the value itself (kept
/// only to scrub it from output, never printed).
#[derive(Debug, PartialEq)]
pub(super) struct SecretHit {
    pub(super) what: String,
    pub(super) value: String,
    /// High for credential shapes and strong literals; lower for short plain
    /// values; Low for placeholders.
    pub(super) severity: Severity,
    /// `<your-token>`, `changeme`: nothing leaked, the server just lacks it.
    pub(super) placeholder: bool,
}

impl SecretHit {
    fn high(what: impl Into<String>, value: &str) -> Self {
        SecretHit {
            what: what.into(),
            value: value.to_owned(),
            severity: Severity::High,
            placeholder: false,
        }
    }

    /// The finding's rule: `placeholder-secret` or the place's own.
    pub(super) fn rule(&self, place_rule: &'static str) -> &'static str {
        if self.placeholder {
            "placeholder-secret"
        } else {
            place_rule
        }
    }
}

#[derive(Clone, Copy)]
pub(super) enum MapKind {
    Env,
    Headers,
}

pub(super) fn secrets_in_map(
    map: &Map<String, Value>,
    kind: MapKind,
    findings: &mut Vec<Finding>,
    secrets: &mut Vec<String>,
) {
    for (name, value) in map {
        let Some(value) = value.as_str() else {
            continue;
        };
        let mut hits = token_shapes(value);
        // `postgres://user:pass@host/db`: a credential whatever the name.
        if hits.is_empty() && value.contains("://") {
            hits.extend(secrets_in_url(value));
        }
        let by_name = match kind {
            MapKind::Env => sensitive_name(name),
            MapKind::Headers => sensitive_name(name) || name.eq_ignore_ascii_case("authorization"),
        };
        if hits.is_empty() && by_name {
            hits.extend(judge_literal(
                strip_auth_scheme(value.trim()),
                "a literal secret",
            ));
        }
        for hit in hits {
            let (rule, place, fix) = match kind {
                MapKind::Env => (
                    "secret-in-env",
                    format!("env {name}"),
                    format!("Remove the value from the file and rotate it; reference it as `${{{name}}}` if your client expands variables, or start the server through a wrapper that reads it from the OS keychain or a secret manager."),
                ),
                MapKind::Headers => (
                    "secret-in-headers",
                    format!("header {name}"),
                    "Remove the value from the file and rotate it; reference an environment variable (`Bearer ${TOKEN}`) if your client expands variables.".into(),
                ),
            };
            findings.push(hit_finding(&hit, hit.rule(rule), &place, fix));
            secrets.push(hit.value);
        }
    }
}

/// Secrets on the command line (`line[0]` is the command itself).
pub(super) fn secrets_in_args(
    line: &[String],
    findings: &mut Vec<Finding>,
    secrets: &mut Vec<String>,
) {
    let mut seen: std::collections::HashSet<String> = secrets.iter().cloned().collect();
    let mut i = 0;
    while let Some(arg) = line.get(i) {
        let mut hits = token_shapes(arg);
        let mut consumed_next = false;
        if arg.contains("://") {
            hits.extend(secrets_in_url(arg));
        } else if let Some((key, value)) = arg.split_once('=')
            && is_option_name(key)
            && sensitive_name(key)
        {
            // `--api-key=VALUE`, `API_KEY=VALUE` (after `env`)
            let what = format!("a literal value for {}", key.trim_start_matches('-'));
            hits.extend(judge_literal(value, &what));
        } else if let Some((key, value)) = arg.split_once(':')
            && is_option_name(key)
            && (sensitive_name(key) || key.eq_ignore_ascii_case("authorization"))
        {
            // `X-API-Key: VALUE`, `Authorization: Token VALUE`
            let value = strip_auth_scheme(value.trim());
            hits.extend(judge_literal(value, &format!("a literal {key} header")));
        } else if arg.starts_with('-')
            && is_option_name(arg)
            && sensitive_name(arg)
            && let Some(next) = line.get(i + 1)
            && !next.starts_with('-')
        {
            // `--token VALUE`
            if token_shapes(next).is_empty()
                && let Some(hit) = judge_literal(next, &format!("a literal value for {arg}"))
            {
                hits.push(hit);
                consumed_next = true;
            }
        }
        for hit in hits {
            if !seen.insert(hit.value.clone()) {
                continue;
            }
            let place = if i == 0 {
                "the command".to_owned()
            } else {
                format!("argument {i}")
            };
            findings.push(hit_finding(
                &hit,
                hit.rule("secret-in-args"),
                &place,
                "Pass it through `env` instead (command lines are visible to every local user in the process list), keep the value itself out of the file, and rotate it.".into(),
            ));
            secrets.push(hit.value);
        }
        i += if consumed_next { 2 } else { 1 };
    }
}

/// Credentials in a URL: `user:password@` or sensitive query parameters.
pub(super) fn secrets_in_url(url: &str) -> Vec<SecretHit> {
    let mut hits = token_shapes(url);
    let Some((_, rest)) = url.split_once("://") else {
        return hits;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if let Some((userinfo, _)) = authority.rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
        && let Some(mut hit) = judge_literal(password, "a password")
    {
        // Its place says it is a credential, however short it is.
        if !hit.placeholder {
            hit.severity = Severity::High;
        }
        hits.push(hit);
    }
    if let Some((_, query)) = rest.split_once('?') {
        let query = query.split('#').next().unwrap_or("");
        for pair in query.split('&') {
            if let Some((key, value)) = pair.split_once('=')
                && sensitive_name(key)
            {
                hits.extend(judge_literal(
                    value,
                    &format!("a literal `{key}` query parameter"),
                ));
            }
        }
    }
    let mut unique: Vec<SecretHit> = Vec::new();
    for hit in hits {
        if !unique.iter().any(|h| h.value == hit.value) {
            unique.push(hit);
        }
    }
    unique
}

/// An environment variable, option, header or parameter name that usually
/// holds a credential (`API_KEY`, `--auth-token`, `X-Api-Key`), but not one that
/// names where a credential is (`TOKEN_FILE`, `KEY_PATH`) or counts tokens.
pub(super) fn sensitive_name(name: &str) -> bool {
    const WORDS: &str = "key token secret password passwd credential auth";
    const NOT_LAST: &str = "file path dir url uri host port id endpoint mode type env var name enabled \
        region method provider header count limit";
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let Some(last) = words.last() else {
        return false;
    };
    if listed(NOT_LAST, last)
        || words
            .iter()
            .any(|w| matches!(w.as_str(), "tokens" | "max" | "min"))
    {
        return false;
    }
    let joined = words.concat();
    WORDS.split_whitespace().any(|w| joined.contains(w))
}

/// A `--flag`, `NAME` or `Header-Name` (no spaces, slashes or quotes).
pub(super) fn is_option_name(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub(super) fn strip_auth_scheme(value: &str) -> &str {
    for scheme in ["Bearer ", "Basic ", "Token ", "Bot "] {
        if value.len() > scheme.len() && value[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return value[scheme.len()..].trim_start();
        }
    }
    value
}

/// The finding for one hit at `place` (`env API_KEY`, `argument 2`).
pub(super) fn hit_finding(
    hit: &SecretHit,
    rule: &'static str,
    place: &str,
    fix: String,
) -> Finding {
    let shown = redact(&hit.value);
    if hit.placeholder {
        return finding(
            Severity::Low,
            rule,
            format!("{place} holds a placeholder ({shown}) where a credential goes: the server will not authenticate with it"),
            "Provide the real value outside the file: `${NAME}` if your client expands variables, or a wrapper that reads a secret manager.".into(),
        );
    }
    let message = match hit.severity {
        Severity::High => format!("{place} holds {} ({shown}) in plain text", hit.what),
        Severity::Medium => format!(
            "{place} holds a short literal value ({shown}) in plain text; if it is a credential it is both weak and exposed"
        ),
        Severity::Low => format!(
            "{place} holds a plain word ({shown}); if it is a credential, it is weak and should not live in the file"
        ),
    };
    finding(hit.severity, rule, message, fix)
}

/// Judges a value found where a credential is expected: not a literal at
/// all (a reference, a path, a flag word) → None; a placeholder → Low; else
/// by its shape (length, character classes, entropy).
pub(super) fn judge_literal(value: &str, what: &str) -> Option<SecretHit> {
    let value = value.trim();
    if !is_literal_secret(value) {
        return None;
    }
    let placeholder = is_placeholder(value);
    let severity = if placeholder {
        Severity::Low
    } else {
        literal_strength(value)
    };
    Some(SecretHit {
        what: what.to_owned(),
        value: value.to_owned(),
        severity,
        placeholder,
    })
}

/// High for values that look generated (long, mixed, high entropy), Medium
/// for short mixed values (`hunter2`), Low for a short plain word (`hello`).
pub(super) fn literal_strength(value: &str) -> Severity {
    let len = value.chars().count();
    let classes = [
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|c| **c)
    .count();
    let entropy = shannon_bits_per_char(value);
    if (len >= 20 && entropy >= 3.0)
        || (len >= 12 && classes >= 2 && entropy >= 3.0)
        || (len >= 8 && classes >= 3)
    {
        Severity::High
    } else if classes >= 2 || len >= 16 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

fn shannon_bits_per_char(value: &str) -> f64 {
    let chars: Vec<char> = value.chars().collect();
    if chars.is_empty() {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::new();
    for c in &chars {
        *counts.entry(*c).or_insert(0usize) += 1;
    }
    let n = chars.len() as f64;
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// `<your-token>`, `changeme`, `REPLACE_WITH_YOUR_KEY`, `xxxxxxxx`.
pub(super) fn is_placeholder(value: &str) -> bool {
    const WORDS: &str = "changeme changethis replaceme placeholder todo tbd fixme dummy example sample \
        secret password passwd token apikey key xxx none null undefined redacted test demo";
    let lower = value.trim().to_ascii_lowercase();
    // `<your-token>`; not `{…}` or `[…]`: JSON credentials look like that.
    if lower.starts_with('<') && lower.ends_with('>') {
        return true;
    }
    let squashed: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    if listed(WORDS, &squashed) {
        return true;
    }
    let names_a_secret = ["key", "token", "secret", "password", "here", "value"]
        .iter()
        .any(|w| squashed.contains(w));
    let asks = ["your", "replace", "insert", "enter"]
        .iter()
        .any(|p| squashed.starts_with(p));
    if asks && names_a_secret {
        return true;
    }
    // One character repeated: `xxxxxxxx`, `********`, `00000000`.
    let mut chars = lower.chars();
    chars
        .next()
        .is_some_and(|first| lower.len() >= 3 && chars.all(|c| c == first))
}

/// A non-empty literal that is not a reference (`${VAR}`, `$VAR`, `%VAR%`,
/// `op://...`), a path, a boolean or a small number.
pub(super) fn is_literal_secret(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || is_reference(v) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    let plain_word = [
        "true", "false", "yes", "no", "on", "off", "none", "null", "required", "optional",
    ];
    if plain_word.contains(&lower.as_str()) {
        return false;
    }
    if v.len() <= 6 && v.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    !(v.starts_with(['/', '~']) || v.starts_with("./") || v.starts_with("../") || is_absolute(v))
}

pub(super) fn is_reference(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    v.contains("${")
        || lower.starts_with("$env:")
        || lower.starts_with("op://")
        || (v.len() > 1
            && v.starts_with('$')
            && v[1..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        || (v.len() > 2 && v.starts_with('%') && v.ends_with('%'))
        || (v.starts_with("{{") && v.ends_with("}}"))
}

/// Well-known credential shapes anywhere in `text`.
pub(super) fn token_shapes(text: &str) -> Vec<SecretHit> {
    // (prefix, what, allowed tail bytes, minimum tail, exact tail length?)
    type Tail = fn(u8) -> bool;
    let base62: Tail = |b| b.is_ascii_alphanumeric();
    let key_chars: Tail = |b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let pat_chars: Tail = |b| b.is_ascii_alphanumeric() || b == b'_';
    let slack_chars: Tail = |b| b.is_ascii_alphanumeric() || b == b'-';
    let aws_chars: Tail = |b| b.is_ascii_uppercase() || b.is_ascii_digit();
    let shapes: &[(&str, &str, Tail, usize, bool)] = &[
        ("sk-ant-", "an Anthropic API key", key_chars, 20, false),
        ("sk-", "an API key (sk-...)", key_chars, 20, false),
        ("github_pat_", "a GitHub token", pat_chars, 22, false),
        ("ghp_", "a GitHub token", base62, 30, false),
        ("gho_", "a GitHub token", base62, 30, false),
        ("ghu_", "a GitHub token", base62, 30, false),
        ("ghs_", "a GitHub token", base62, 30, false),
        ("ghr_", "a GitHub token", base62, 30, false),
        ("glpat-", "a GitLab token", key_chars, 20, false),
        ("xoxb-", "a Slack token", slack_chars, 10, false),
        ("xoxp-", "a Slack token", slack_chars, 10, false),
        ("xoxa-", "a Slack token", slack_chars, 10, false),
        ("xoxs-", "a Slack token", slack_chars, 10, false),
        ("AKIA", "an AWS access key id", aws_chars, 16, true),
        ("ASIA", "an AWS access key id", aws_chars, 16, true),
        ("AIza", "a Google API key", key_chars, 30, false),
    ];
    let bytes = text.as_bytes();
    let mut hits: Vec<SecretHit> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let mut matched = None;
        if at_boundary {
            for (prefix, what, tail, min, exact) in shapes {
                if !bytes[i..].starts_with(prefix.as_bytes()) {
                    continue;
                }
                let start = i + prefix.len();
                let len = bytes[start..].iter().take_while(|b| tail(**b)).count();
                let tail_bytes = &bytes[start..start + len];
                let ok = if *exact {
                    len == *min
                        && bytes
                            .get(start + len)
                            .is_none_or(|b| !b.is_ascii_alphanumeric())
                } else {
                    // `sk-` also starts ordinary names; real keys contain digits.
                    len >= *min && (*prefix != "sk-" || tail_bytes.iter().any(u8::is_ascii_digit))
                };
                if ok {
                    matched = Some((what.to_string(), i, start + len));
                    break;
                }
            }
            if matched.is_none()
                && bytes.len() >= i + 7
                && bytes[i..i + 7].eq_ignore_ascii_case(b"bearer ")
            {
                let start = i + 7 + bytes[i + 7..].iter().take_while(|b| **b == b' ').count();
                let len = bytes[start..]
                    .iter()
                    .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\''))
                    .count();
                let token = &text[start..start + len];
                if len >= 16 && !is_reference(token) && !token.starts_with('<') {
                    matched = Some(("a bearer token".to_owned(), start, start + len));
                }
            }
        }
        if let Some((what, start, end)) = matched {
            let value = text[start..end].to_owned();
            if !hits.iter().any(|h| h.value == value) {
                hits.push(SecretHit::high(what, &value));
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    hits
}

/// The first four characters and an ellipsis; nothing of a short secret.
pub(super) fn redact(secret: &str) -> String {
    if secret.chars().count() >= 8 {
        let head: String = secret.chars().take(4).collect();
        format!("{head}…")
    } else {
        "…".to_owned()
    }
}

/// Replaces every known secret in a text with its redacted form.
pub(super) struct Scrubber {
    pub(super) secrets: Vec<String>,
}

impl Scrubber {
    pub(super) fn new(mut secrets: Vec<String>) -> Self {
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Scrubber { secrets }
    }

    /// Long secrets are replaced wherever they occur; short ones (`pass`)
    /// only as whole words, so `password` in a message stays readable.
    pub(super) fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if !out.contains(secret.as_str()) {
                continue;
            }
            if secret.chars().count() >= 8 {
                out = out.replace(secret.as_str(), &redact(secret));
                continue;
            }
            let mut replaced = String::with_capacity(out.len());
            let mut rest = out.as_str();
            while let Some(at) = rest.find(secret.as_str()) {
                let end = at + secret.len();
                let before = rest[..at].chars().next_back();
                let after = rest[end..].chars().next();
                let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
                replaced.push_str(&rest[..at]);
                if word(before) || word(after) {
                    replaced.push_str(secret);
                } else {
                    replaced.push_str(&redact(secret));
                }
                rest = &rest[end..];
            }
            replaced.push_str(rest);
            out = replaced;
        }
        out
    }
}

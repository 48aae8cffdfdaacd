//! Making snapshots machine-independent: replace what differs between
//! machines and runs (temporary directories, the home directory, the
//! version) with stable placeholders, so a snapshot changes only when the
//! public surface does.

/// `text` with every `(from, to)` replaced, longest `from` first (so a
/// path inside another path is replaced as part of the longer one).
/// Empty `from`s are skipped.
pub fn redact(text: &str, replacements: &[(&str, &str)]) -> String {
    let mut ordered: Vec<&(&str, &str)> = replacements
        .iter()
        .filter(|(from, _)| !from.is_empty())
        .collect();
    ordered.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    let mut out = text.to_owned();
    for (from, to) in ordered {
        out = out.replace(from, to);
    }
    out
}

//! Input limits shared by every tool, with errors that say what to change.

use crate::tool::ToolError;

/// Default cap on one text argument of a tool, in bytes.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 2 * 1024 * 1024;

/// Refuses `value` when it is larger than `max` bytes, naming the argument.
pub fn check_size(argument: &str, value: &str, max: usize) -> Result<(), ToolError> {
    if value.len() > max {
        return Err(ToolError::invalid(format!(
            "argument '{argument}' is {} bytes; the limit is {max} bytes",
            value.len()
        )));
    }
    Ok(())
}

/// Deepest element nesting accepted in HTML input.
///
/// html5ever's tree builder does work proportional to the depth of the open
/// element stack for every tag, so hostile input such as `<div>` × 100 000
/// costs quadratic time (tens of seconds per 100 KB) and recursive
/// consumers can overflow the stack. Real pages nest a few dozen levels.
pub const MAX_HTML_DEPTH: usize = 1024;

/// Refuses HTML whose element nesting is deeper than `max`.
///
/// A linear pre-scan of the tags, run before any parser sees the input. It
/// is an estimate that errs toward counting deeper: end tags a parser would
/// infer (`<p>`, `<li>`, …) are handled by not counting those elements, and
/// void elements never nest.
pub fn check_html_depth(argument: &str, html: &str, max: usize) -> Result<(), ToolError> {
    let depth = html_depth(html);
    if depth > max {
        return Err(ToolError::invalid(format!(
            "argument '{argument}' nests HTML elements about {depth} levels deep; the limit is {max}"
        )));
    }
    Ok(())
}

/// Deepest container nesting (block quotes and lists) accepted in Markdown.
///
/// Markdown parsers and the HTML they produce do work proportional to the
/// container depth for every line or element, so `>` × 20 000 or `1. ` ×
/// 20 000 costs quadratic time (seconds to minutes); real documents nest a
/// handful of levels.
pub const MAX_MARKDOWN_DEPTH: usize = 100;

/// Refuses Markdown whose block nesting is deeper than `max`, in linear time.
pub fn check_markdown_depth(argument: &str, markdown: &str, max: usize) -> Result<(), ToolError> {
    let depth = markdown_depth(markdown);
    if depth > max {
        return Err(ToolError::invalid(format!(
            "argument '{argument}' nests Markdown block quotes or lists about {depth} levels \
             deep; the limit is {max}"
        )));
    }
    Ok(())
}

/// Estimated maximum container depth of `markdown`: per line, the block
/// quote markers and list markers that open it, plus one level per two
/// columns of indentation before them (nested lists). It errs toward
/// counting deeper (deeply indented code counts too).
pub fn markdown_depth(markdown: &str) -> usize {
    let mut max = 0;
    for line in markdown.lines() {
        let bytes = line.as_bytes();
        let (mut i, mut depth, mut columns) = (0usize, 0usize, 0usize);
        loop {
            // Indentation counts before the first marker only (nested lists
            // on later lines); spaces between markers are just separators.
            let first = depth == 0;
            while let Some(&c) = bytes.get(i) {
                match c {
                    b' ' if first => columns += 1,
                    b'\t' if first => columns += 4,
                    b' ' | b'\t' => {}
                    _ => break,
                }
                i += 1;
            }
            let Some(&c) = bytes.get(i) else { break };
            let spaced = |at: usize| bytes.get(at).is_none_or(|c| matches!(c, b' ' | b'\t'));
            match c {
                b'>' => {
                    depth += 1;
                    i += 1;
                }
                b'-' | b'*' | b'+' if spaced(i + 1) => {
                    depth += 1;
                    i += 1;
                }
                b'0'..=b'9' => {
                    let digits = bytes[i..]
                        .iter()
                        .take(10)
                        .take_while(|c| c.is_ascii_digit())
                        .count();
                    let after = i + digits;
                    if matches!(bytes.get(after), Some(b'.' | b')')) && spaced(after + 1) {
                        depth += 1;
                        i = after + 1;
                    } else {
                        break;
                    }
                }
                _ => break,
            }
        }
        max = max.max(depth + columns / 2);
    }
    max
}

/// Deepest nesting accepted in structured data (JSON, YAML, TOML): the
/// same 128 levels serde_json and yaml_serde enforce while deserializing.
pub const MAX_DATA_DEPTH: usize = 128;

/// Refuses YAML whose flow collections (`[`, `{`) nest deeper than `max`.
///
/// yaml_serde only checks depth after libyaml has scanned the whole
/// document, and libyaml's scanner does work per open flow level for every
/// token: `[` × 2 MiB took 78 s before it was refused. This linear
/// pre-scan refuses it first. Block nesting (`- - - x`) is cheap to scan
/// and left to the parser's own limit.
pub fn check_yaml_depth(argument: &str, yaml: &str, max: usize) -> Result<(), ToolError> {
    let depth = yaml_flow_depth(yaml);
    if depth > max {
        return Err(ToolError::invalid(format!(
            "argument '{argument}' nests YAML flow collections about {depth} levels deep; \
             the limit is {max}"
        )));
    }
    Ok(())
}

/// Refuses TOML whose tables and arrays nest deeper than `max`.
///
/// Dotted keys (`a.a.a… = 1`), headers (`[a.a.a…]`), inline tables and
/// arrays each open a level; the toml crate builds and drops its values
/// recursively, so a 2 MiB dotted key would be a million nested tables.
pub fn check_toml_depth(argument: &str, toml: &str, max: usize) -> Result<(), ToolError> {
    let depth = toml_depth(toml);
    if depth > max {
        return Err(ToolError::invalid(format!(
            "argument '{argument}' nests TOML tables or arrays about {depth} levels deep; \
             the limit is {max}"
        )));
    }
    Ok(())
}

/// Estimated deepest flow nesting of `yaml`. Quoted scalars and comments
/// are skipped; outside a flow collection a bracket opens one only where a
/// value can start (line start, after `:`, `-`, `?` or `,`), so brackets in
/// plain text (`^[a-z]+$`) do not count.
pub fn yaml_flow_depth(yaml: &str) -> usize {
    let bytes = yaml.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    // The last byte that was not a space or tab.
    let mut prev = b'\n';
    while let Some(&c) = bytes.get(i) {
        let at_value_start = matches!(prev, b'\n' | b':' | b'-' | b'?' | b',' | b'[' | b'{');
        match c {
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n') => {
                i += bytes[i..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .unwrap_or(bytes.len() - i);
                continue;
            }
            b'"' | b'\'' if at_value_start => {
                i += 1;
                while let Some(&q) = bytes.get(i) {
                    i += 1;
                    if q == b'\\' && c == b'"' {
                        i += 1;
                    } else if q == c {
                        break;
                    }
                }
                prev = c;
                continue;
            }
            b'[' | b'{' if depth > 0 || at_value_start => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' if depth > 0 => depth -= 1,
            _ => {}
        }
        prev = c;
        i += 1;
    }
    max
}

/// Estimated deepest nesting of `toml`: open brackets plus the dots of the
/// key being read. Strings (basic, literal, multi-line) and comments are
/// skipped.
pub fn toml_depth(toml: &str) -> usize {
    let bytes = toml.as_bytes();
    let (mut max, mut i, mut dots, mut in_key) = (0usize, 0usize, 0usize, true);
    // Open brackets, innermost last: `{` tables read keys after `,`.
    let mut open: Vec<u8> = Vec::new();
    while let Some(&c) = bytes.get(i) {
        match c {
            b'"' | b'\'' => {
                let triple = [c, c, c];
                let quote: &[u8] = if bytes[i..].starts_with(&triple) {
                    &triple
                } else {
                    &triple[..1]
                };
                i += quote.len();
                while i < bytes.len() && !bytes[i..].starts_with(quote) {
                    i += if c == b'"' && bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += quote.len();
                continue;
            }
            b'#' => {
                i += bytes[i..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .unwrap_or(bytes.len() - i);
                continue;
            }
            b'\n' => {
                in_key = open.is_empty();
                dots = 0;
            }
            b'=' => in_key = false,
            b'.' if in_key => dots += 1,
            b'[' | b'{' => {
                in_key = c == b'{' || (open.is_empty() && in_key);
                open.push(c);
                dots = 0;
            }
            b']' | b'}' => {
                open.pop();
            }
            b',' => {
                in_key = open.last() == Some(&b'{');
                dots = 0;
            }
            _ => {}
        }
        max = max.max(open.len() + dots);
        i += 1;
    }
    max
}

/// Estimated maximum element nesting depth of `html`.
pub fn html_depth(html: &str) -> usize {
    const NOT_NESTING: &[&str] = &[
        // void elements
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "param", "keygen", // elements whose end tag is usually implied
        "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rt", "rp", "thead",
        "tbody", "tfoot", "colgroup", "caption",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(offset) = bytes[i..].iter().position(|b| *b == b'<') {
        i += offset + 1;
        if bytes[i..].starts_with(b"!--") {
            match html[i..].find("-->") {
                Some(end) => i += end + 3,
                None => break,
            }
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        if len == 0 {
            continue;
        }
        let name = html[start..start + len].to_ascii_lowercase();
        if NOT_NESTING.contains(&name.as_str()) {
            continue;
        }
        let tag_end = bytes[start..]
            .iter()
            .position(|b| *b == b'>')
            .map(|p| start + p);
        let self_closing = tag_end.is_some_and(|e| e > 0 && bytes[e - 1] == b'/');
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closing {
            depth += 1;
            max = max.max(depth);
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_depth_estimates() {
        let cases: &[(&str, usize)] = &[
            ("", 0),
            ("plain text < 3", 0),
            ("<html><body><div><p>a<p>b</div></body></html>", 3),
            ("<ul><li>a<li>b</ul><br><img src=x>", 1),
            ("<div><!-- <div><div><div> --></div>", 1),
            ("<svg><path/><path/></svg>", 1),
            ("<DIV><Span>x</SPAN></div>", 2),
        ];
        for (html, depth) in cases {
            assert_eq!(html_depth(html), *depth, "{html}");
        }
        let hostile = "<div>".repeat(100_000);
        assert_eq!(html_depth(&hostile), 100_000);
        let err = check_html_depth("html", &hostile, MAX_HTML_DEPTH).expect_err("too deep");
        assert!(
            err.message()
                .contains("100000 levels deep; the limit is 1024"),
            "{err}"
        );
        assert!(check_html_depth("html", "<div><b>ok</b></div>", MAX_HTML_DEPTH).is_ok());
    }

    #[test]
    fn data_depth_estimates() {
        let yaml: &[(&str, usize)] = &[
            ("a: 1\nb: [1, [2, {c: 3}]]\n", 3),
            ("re: ^[a-z]+$\nq: '[[[['\nd: \"[[\\\"[\"\n# [[[[\n", 0),
            ("- [\n  [x],\n  [y]\n]\n", 2),
            ("text: don't [stop]\n", 0),
        ];
        for (text, depth) in yaml {
            assert_eq!(yaml_flow_depth(text), *depth, "{text}");
        }
        let toml: &[(&str, usize)] = &[
            ("a = 1.5\n[t]\nb.c = [1, [2]]\n", 2),
            ("[a.b.c]\nx = \"[[[.\"\ny = '''\n[[[[\n'''\n", 3),
            ("t = {a.b = 1, c = {d = 2.5}}\n", 2),
            ("# [[[[ a.b.c\nk = 1\n", 0),
        ];
        for (text, depth) in toml {
            assert_eq!(toml_depth(text), *depth, "{text}");
        }
        let deep = "[".repeat(1 << 21);
        assert_eq!(yaml_flow_depth(&deep), 1 << 21);
        let err = check_yaml_depth("input", &deep, MAX_DATA_DEPTH).expect_err("too deep");
        assert!(err.message().contains("the limit is 128"), "{err}");
        let dotted = format!("{}a = 1", "a.".repeat(1 << 20));
        let err = check_toml_depth("input", &dotted, MAX_DATA_DEPTH).expect_err("too deep");
        assert!(err.message().contains("the limit is 128"), "{err}");
    }

    #[test]
    fn size_check_names_argument_and_limit() {
        assert!(check_size("text", "abc", 3).is_ok());
        let err = check_size("text", "abcd", 3).expect_err("over the limit");
        assert!(err.message().contains("'text' is 4 bytes; the limit is 3"));
    }
}

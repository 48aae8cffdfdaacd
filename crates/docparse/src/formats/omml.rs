//! Word equations (Office Math Markup, `m:oMath`) to LaTeX, over the math
//! tree and symbol table of `ffmcp_core::math` (which says why the
//! converters are our own). The common constructs are mapped: fractions,
//! sub/superscripts, radicals, n-ary operators, delimiters, matrices and
//! equation arrays, functions, accents, bars, limits and group characters;
//! anything else reads as its children in order, so no text is lost.

use ffmcp_core::math::{
    MAX_MATH_DEPTH, MathNode, accent_command, base, fence, large_operator, symbols, text_command,
    tidy, under_over,
};
use quick_xml::events::BytesStart;

use super::xml::{XmlEvent, XmlReader, unescape};
use crate::DocError;

/// Reads the element `start` has opened (its `Start` already read) into a
/// tree, up to and including its end tag. Deeper than [`MAX_MATH_DEPTH`]
/// only the text is kept.
pub fn read(reader: &mut XmlReader<'_>, start: &BytesStart<'_>) -> Result<MathNode, DocError> {
    let target = reader.depth().saturating_sub(1);
    let mut stack: Vec<MathNode> = vec![element(start)];
    // Elements opened below the depth limit, whose text goes to the
    // deepest kept element.
    let mut flattened = 0usize;
    loop {
        match reader.event()? {
            XmlEvent::Start(e) => {
                if stack.len() >= MAX_MATH_DEPTH {
                    flattened += 1;
                } else {
                    stack.push(element(&e));
                }
            }
            XmlEvent::Empty(e) => {
                if stack.len() < MAX_MATH_DEPTH {
                    push_child(&mut stack, element(&e));
                }
            }
            XmlEvent::Text(t) if flattened > 0 => {
                push_child(&mut stack, ffmcp_core::math::flat_text(t.to_string()));
            }
            XmlEvent::Text(t) => push_child(&mut stack, MathNode::Text(t.to_string())),
            XmlEvent::End(_) => {
                if flattened > 0 {
                    flattened -= 1;
                } else if let Some(done) = stack.pop() {
                    if stack.is_empty() {
                        return Ok(done);
                    }
                    push_child(&mut stack, done);
                }
                if reader.depth() <= target {
                    break;
                }
            }
            XmlEvent::Eof => break,
        }
    }
    // Unclosed at the end of the part: what was read.
    while stack.len() > 1 {
        if let Some(done) = stack.pop() {
            push_child(&mut stack, done);
        }
    }
    Ok(stack.pop().unwrap_or(MathNode::Text(String::new())))
}

fn element(e: &BytesStart<'_>) -> MathNode {
    let name = super::xml::local(e);
    MathNode::Element {
        name: String::from_utf8_lossy(name).into_owned(),
        attrs: e
            .attributes()
            .with_checks(false)
            .flatten()
            .map(|a| {
                let key = a.key.into_inner();
                let key = key.rsplit(':').next().unwrap_or(key);
                (key.to_owned(), unescape(&a.value))
            })
            .collect(),
        children: Vec::new(),
    }
}

fn push_child(stack: &mut [MathNode], child: MathNode) {
    if let Some(MathNode::Element { children, .. }) = stack.last_mut() {
        children.push(child);
    }
}

/// LaTeX of an `m:oMath` or `m:oMathPara` (without `$` delimiters).
pub fn to_latex(math: &MathNode) -> String {
    tidy(&node(math, 0))
}

/// The `m:val` of a property: `<m:fPr><m:type m:val="lin"/></m:fPr>`.
fn prop<'a>(n: &'a MathNode, props: &str, key: &str) -> Option<&'a str> {
    n.child(props)?.child(key)?.attr("val")
}

fn on(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "on" | "true"))
}

fn node(n: &MathNode, depth: usize) -> String {
    let MathNode::Element { name, .. } = n else {
        return String::new();
    };
    if depth > MAX_MATH_DEPTH {
        return symbols(&n.text());
    }
    let d = depth + 1;
    let part = |child: &str| n.child(child).map_or_else(String::new, |c| node(c, d));
    match name.as_str() {
        "oMathPara" => n
            .elements()
            .filter(|c| c.name() == "oMath")
            .map(|c| node(c, d))
            .collect::<Vec<_>>()
            .join(" \\\\ "),
        "r" => run(n),
        "t" | "#text" => symbols(&n.text()),
        "f" => {
            let (num, den) = (part("num"), part("den"));
            match prop(n, "fPr", "type") {
                Some("lin" | "skw") => format!("{}/{}", base(&num), base(&den)),
                Some("noBar") => format!("\\binom{{{num}}}{{{den}}}"),
                _ => format!("\\frac{{{num}}}{{{den}}}"),
            }
        }
        "sSub" => format!("{}_{{{}}}", base(&part("e")), part("sub")),
        "sSup" => format!("{}^{{{}}}", base(&part("e")), part("sup")),
        "sSubSup" => format!(
            "{}_{{{}}}^{{{}}}",
            base(&part("e")),
            part("sub"),
            part("sup")
        ),
        "sPre" => format!(
            "{{}}_{{{}}}^{{{}}}{}",
            part("sub"),
            part("sup"),
            base(&part("e"))
        ),
        "rad" => {
            let deg = part("deg");
            if on(prop(n, "radPr", "degHide")) || deg.is_empty() {
                format!("\\sqrt{{{}}}", part("e"))
            } else {
                format!("\\sqrt[{deg}]{{{}}}", part("e"))
            }
        }
        "nary" => {
            let op = symbols(prop(n, "naryPr", "chr").unwrap_or("∫"));
            let mut out = op;
            let (sub, sup) = (part("sub"), part("sup"));
            if !on(prop(n, "naryPr", "subHide")) && !sub.is_empty() {
                out.push_str(&format!("_{{{sub}}}"));
            }
            if !on(prop(n, "naryPr", "supHide")) && !sup.is_empty() {
                out.push_str(&format!("^{{{sup}}}"));
            }
            format!("{out} {}", part("e"))
        }
        "d" => {
            let chr = |key: &str, default: &'static str| match n
                .child("dPr")
                .and_then(|p| p.child(key))
            {
                Some(c) => c.attr("val").unwrap_or("").to_owned(),
                None => default.to_owned(),
            };
            let sep = symbols(&chr("sepChr", "|"));
            let inner: Vec<String> = n
                .elements()
                .filter(|c| c.name() == "e")
                .map(|c| node(c, d))
                .collect();
            format!(
                "\\left{} {} \\right{}",
                fence(&chr("begChr", "(")),
                inner.join(&format!(" {sep} ")),
                fence(&chr("endChr", ")"))
            )
        }
        "m" => {
            let rows: Vec<String> = n
                .elements()
                .filter(|r| r.name() == "mr")
                .map(|r| {
                    r.elements()
                        .filter(|c| c.name() == "e")
                        .map(|c| node(c, d + 1))
                        .collect::<Vec<_>>()
                        .join(" & ")
                })
                .collect();
            format!("\\begin{{matrix}} {} \\end{{matrix}}", rows.join(" \\\\ "))
        }
        "eqArr" => {
            let rows: Vec<String> = n
                .elements()
                .filter(|c| c.name() == "e")
                .map(|c| node(c, d))
                .collect();
            format!(
                "\\begin{{aligned}} {} \\end{{aligned}}",
                rows.join(" \\\\ ")
            )
        }
        "func" => format!("{} {}", part("fName"), part("e")),
        "acc" => {
            let chr = prop(n, "accPr", "chr").unwrap_or("\u{302}");
            let e = part("e");
            match accent_command(chr) {
                Some(cmd) => format!("{cmd}{{{e}}}"),
                None => format!("\\overset{{{}}}{{{e}}}", symbols(chr)),
            }
        }
        "bar" => {
            if prop(n, "barPr", "pos") == Some("top") {
                format!("\\overline{{{}}}", part("e"))
            } else {
                format!("\\underline{{{}}}", part("e"))
            }
        }
        "limLow" => under_over(&part("e"), Some(part("lim")), None, Some("false")),
        "limUpp" => under_over(&part("e"), None, Some(part("lim")), Some("false")),
        "groupChr" => {
            let top = prop(n, "groupChrPr", "pos") == Some("top")
                || prop(n, "groupChrPr", "chr") == Some("⏞");
            let cmd = if top { "\\overbrace" } else { "\\underbrace" };
            format!("{cmd}{{{}}}", part("e"))
        }
        "phant" if on(prop(n, "phantPr", "show")) || n.child("phantPr").is_none() => part("e"),
        "phant" => String::new(),
        // Properties of every kind (`fPr`, `ctrlPr`, `rPr`, `w:rPr`).
        other if other.ends_with("Pr") => String::new(),
        // oMath, e, num, den, sub, sup, deg, lim, fName, box, borderBox,
        // sGroup and anything unknown: the children in order.
        _ => n
            .elements()
            .map(|c| node(c, d))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A run: its `m:t` text as symbols; a function name as its command;
/// normal (non-math) text as `\text{…}`.
fn run(n: &MathNode) -> String {
    let text: String = n
        .elements()
        .filter(|c| c.name() == "t")
        .map(MathNode::text)
        .collect();
    let normal = n.child("rPr").is_some_and(|p| p.child("nor").is_some());
    if normal {
        return text_command(&text);
    }
    let trimmed = text.trim();
    let command = format!("\\{trimmed}");
    if large_operator(&command) || FUNCTIONS.contains(&trimmed) {
        return command;
    }
    symbols(&text)
}

/// Function names Word writes as plain runs inside `m:fName`.
const FUNCTIONS: &[&str] = &[
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "log", "ln", "lg", "exp", "dim", "ker", "deg", "gcd", "arg",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ParseOptions;

    fn latex(xml: &str) -> String {
        let doc = format!(
            r#"<w:p xmlns:w="w" xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math"><m:oMath>{xml}</m:oMath></w:p>"#
        );
        let options = ParseOptions::default();
        let mut reader = XmlReader::new(doc.as_bytes(), "docx", "test", &options);
        loop {
            match reader.event().expect("xml") {
                XmlEvent::Start(e) if super::super::xml::local(&e) == b"oMath" => {
                    return to_latex(&read(&mut reader, &e).expect("read"));
                }
                XmlEvent::Eof => panic!("no oMath in {xml}"),
                _ => {}
            }
        }
    }

    fn r(text: &str) -> String {
        format!("<m:r><m:t>{text}</m:t></m:r>")
    }

    #[test]
    fn common_constructs() {
        let cases = [
            (
                format!(
                    "<m:f><m:num>{}</m:num><m:den>{}</m:den></m:f>",
                    r("a"),
                    r("b")
                ),
                "\\frac{a}{b}",
            ),
            (
                format!(
                    "<m:sSup><m:e>{}</m:e><m:sup>{}</m:sup></m:sSup>{}{}",
                    r("x"),
                    r("2"),
                    r("+"),
                    r("y")
                ),
                "x^{2} + y",
            ),
            (
                format!(
                    "<m:rad><m:radPr><m:degHide m:val=\"1\"/></m:radPr><m:deg/><m:e>{}</m:e></m:rad>",
                    r("π")
                ),
                "\\sqrt{\\pi}",
            ),
            (
                format!(
                    "<m:nary><m:naryPr><m:chr m:val=\"∑\"/></m:naryPr><m:sub>{}</m:sub><m:sup>{}</m:sup><m:e><m:sSub><m:e>{}</m:e><m:sub>{}</m:sub></m:sSub></m:e></m:nary>",
                    r("i=1"),
                    r("n"),
                    r("x"),
                    r("i")
                ),
                "\\sum_{i=1}^{n} x_{i}",
            ),
            (
                format!(
                    "<m:d><m:dPr><m:begChr m:val=\"[\"/><m:endChr m:val=\"]\"/></m:dPr><m:e>{}</m:e><m:e>{}</m:e></m:d>",
                    r("a"),
                    r("b")
                ),
                "\\left[ a | b \\right]",
            ),
            (
                format!(
                    "<m:m><m:mr><m:e>{}</m:e><m:e>{}</m:e></m:mr><m:mr><m:e>{}</m:e><m:e>{}</m:e></m:mr></m:m>",
                    r("1"),
                    r("0"),
                    r("0"),
                    r("1")
                ),
                "\\begin{matrix} 1 & 0 \\\\ 0 & 1 \\end{matrix}",
            ),
            (
                format!(
                    "<m:func><m:fName>{}</m:fName><m:e>{}</m:e></m:func>",
                    r("sin"),
                    r("θ")
                ),
                "\\sin \\theta",
            ),
            (
                format!(
                    "<m:acc><m:accPr><m:chr m:val=\"⃗\"/></m:accPr><m:e>{}</m:e></m:acc>",
                    r("v")
                ),
                "\\vec{v}",
            ),
            (
                format!(
                    "<m:limLow><m:e>{}</m:e><m:lim>{}</m:lim></m:limLow>",
                    r("lim"),
                    r("n→∞")
                ),
                "\\lim_{n\\to \\infty}",
            ),
            (
                // Unknown elements read as their children.
                format!("<m:newThing><m:e>{}</m:e></m:newThing>", r("z")),
                "z",
            ),
        ];
        for (xml, tex) in cases {
            assert_eq!(latex(&xml), tex, "{xml}");
        }
    }

    #[test]
    fn deep_nesting_keeps_the_text() {
        let xml = format!(
            "{}{}{}",
            "<m:box><m:e>".repeat(200),
            r("x"),
            "</m:e></m:box>".repeat(200)
        );
        assert_eq!(latex(&xml), "x");
    }
}

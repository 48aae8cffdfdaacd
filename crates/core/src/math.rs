//! Math to LaTeX: presentation MathML (HTML pages, EPUB chapters) here,
//! Word's OMML in docparse, both over the small [`MathNode`] tree and the
//! symbol table of this module, so an equation reads the same whichever
//! format it came from. Markdown carries it as `$…$` (inline) or `$$…$$`
//! (display), the convention of pandoc, GitHub and pulldown-cmark.
//!
//! Hand-written because no maintained crate does it: the one crate that
//! claims MathML→LaTeX (`mathml-latex` 0.0.3) is a pre-release with one
//! documented item and a parser-combinator stack of its own, and nothing
//! converts OMML. The common constructs are mapped (tokens, fractions,
//! sub/superscripts, radicals, under/over scripts and large operators,
//! fences, tables as matrices, accents); anything else falls back to its
//! children in order, so text is never lost. A TeX annotation
//! (`<annotation encoding="application/x-tex">`, what LaTeXML and KaTeX
//! write) is used as it is.

/// A math element or text, as read from MathML or OMML. Names are local
/// (any `m:` or `mml:` prefix removed).
#[derive(Debug, Clone, PartialEq)]
pub enum MathNode {
    /// An element.
    Element {
        /// Local name (`mfrac`, `sSup`).
        name: String,
        /// Attributes by local name (`m:val` as `val`).
        attrs: Vec<(String, String)>,
        /// Elements and text in order.
        children: Vec<MathNode>,
    },
    /// Character data.
    Text(String),
}

impl MathNode {
    /// The element's name; empty for text.
    pub fn name(&self) -> &str {
        match self {
            MathNode::Element { name, .. } => name,
            MathNode::Text(_) => "",
        }
    }

    /// An attribute's value.
    pub fn attr(&self, key: &str) -> Option<&str> {
        match self {
            MathNode::Element { attrs, .. } => attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            MathNode::Text(_) => None,
        }
    }

    /// Child elements (text children skipped).
    pub fn elements(&self) -> impl Iterator<Item = &MathNode> {
        self.children()
            .iter()
            .filter(|c| matches!(c, MathNode::Element { .. }))
    }

    /// All children.
    pub fn children(&self) -> &[MathNode] {
        match self {
            MathNode::Element { children, .. } => children,
            MathNode::Text(_) => &[],
        }
    }

    /// The first child element called `name`.
    pub fn child(&self, name: &str) -> Option<&MathNode> {
        self.elements().find(|c| c.name() == name)
    }

    /// All text below, in order (iterative: input can nest deeply).
    pub fn text(&self) -> String {
        let mut out = String::new();
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            match node {
                MathNode::Text(t) => out.push_str(t),
                MathNode::Element { children, .. } => stack.extend(children.iter().rev()),
            }
        }
        out
    }
}

/// Text kept in place of elements nested too deep: an element of its own
/// (`#text`), since the converters read elements, not loose text.
pub fn flat_text(text: String) -> MathNode {
    MathNode::Element {
        name: "#text".to_owned(),
        attrs: Vec::new(),
        children: vec![MathNode::Text(text)],
    }
}

/// Deeper than this, an equation is kept as its text: the converters
/// recurse per level, and real formulas stay far below it.
pub const MAX_MATH_DEPTH: usize = 48;

/// Whether a MathML `<math>` element is displayed as a block.
pub fn is_display(math: &MathNode) -> bool {
    math.attr("display") == Some("block") || math.attr("mode") == Some("display")
}

/// LaTeX of a MathML `<math>` element (without `$` delimiters).
pub fn mathml_to_latex(math: &MathNode) -> String {
    if let Some(tex) = tex_annotation(math) {
        return tex;
    }
    tidy(&node(math, 0))
}

/// The TeX source a `<semantics>` element carries, if any.
fn tex_annotation(math: &MathNode) -> Option<String> {
    let semantics = math.child("semantics")?;
    semantics
        .elements()
        .filter(|c| c.name() == "annotation")
        .find(|a| {
            a.attr("encoding")
                .is_some_and(|e| e.eq_ignore_ascii_case("application/x-tex") || e == "TeX")
        })
        .map(|a| a.text().trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn node(n: &MathNode, depth: usize) -> String {
    let MathNode::Element { name, .. } = n else {
        return String::new();
    };
    if depth > MAX_MATH_DEPTH {
        return escape_text(&n.text());
    }
    let d = depth + 1;
    let kids: Vec<&MathNode> = n.elements().collect();
    let arg = |i: usize| kids.get(i).map_or_else(String::new, |k| node(k, d));
    match name.as_str() {
        "mi" => identifier(&n.text(), n.attr("mathvariant")),
        "mn" | "#text" => symbols(n.text().trim()),
        "mo" => operator(n.text().trim()),
        "mtext" | "ms" => text_command(&n.text()),
        "mspace" => "\\ ".to_owned(),
        "mfrac" => {
            if n.attr("linethickness")
                .is_some_and(|t| t.trim_start_matches('0').is_empty() || t == "0px")
            {
                format!("\\binom{{{}}}{{{}}}", arg(0), arg(1))
            } else {
                format!("\\frac{{{}}}{{{}}}", arg(0), arg(1))
            }
        }
        "msqrt" => format!("\\sqrt{{{}}}", row(&kids, d)),
        "mroot" => format!("\\sqrt[{}]{{{}}}", arg(1), arg(0)),
        "msub" => format!("{}_{{{}}}", base(&arg(0)), arg(1)),
        "msup" => format!("{}^{{{}}}", base(&arg(0)), arg(1)),
        "msubsup" => format!("{}_{{{}}}^{{{}}}", base(&arg(0)), arg(1), arg(2)),
        "munder" => under_over(&arg(0), Some(arg(1)), None, n.attr("accentunder")),
        "mover" => under_over(&arg(0), None, Some(arg(1)), n.attr("accent")),
        "munderover" => under_over(&arg(0), Some(arg(1)), Some(arg(2)), None),
        "mmultiscripts" => multiscripts(&kids, d),
        "mfenced" => {
            let open = n.attr("open").unwrap_or("(");
            let close = n.attr("close").unwrap_or(")");
            let sep = n.attr("separators").unwrap_or(",").trim();
            let sep = sep
                .chars()
                .next()
                .map(|c| c.to_string())
                .unwrap_or_default();
            let inner: Vec<String> = kids.iter().map(|k| node(k, d)).collect();
            format!(
                "\\left{} {} \\right{}",
                fence(open),
                inner.join(&format!("{} ", symbols(&sep))),
                fence(close)
            )
        }
        "mtable" => {
            let rows: Vec<String> = kids
                .iter()
                .filter(|r| matches!(r.name(), "mtr" | "mlabeledtr"))
                .map(|r| {
                    r.elements()
                        .filter(|c| c.name() == "mtd")
                        .map(|c| row(&c.elements().collect::<Vec<_>>(), d + 1))
                        .collect::<Vec<_>>()
                        .join(" & ")
                })
                .collect();
            format!("\\begin{{matrix}} {} \\end{{matrix}}", rows.join(" \\\\ "))
        }
        "menclose" if n.attr("notation") == Some("radical") => {
            format!("\\sqrt{{{}}}", row(&kids, d))
        }
        "semantics" | "maction" => arg(0),
        "annotation" | "annotation-xml" | "mprescripts" | "none" | "mphantom" => String::new(),
        // math, mrow, mstyle, mpadded, menclose, merror and anything
        // unknown: the children in order.
        _ => row(&kids, d),
    }
}

/// Children side by side.
fn row(kids: &[&MathNode], depth: usize) -> String {
    kids.iter()
        .map(|k| node(k, depth))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Pre-scripts after `<mprescripts/>`, post-scripts before, in pairs.
fn multiscripts(kids: &[&MathNode], depth: usize) -> String {
    let Some((first, rest)) = kids.split_first() else {
        return String::new();
    };
    let split = rest.iter().position(|k| k.name() == "mprescripts");
    let (post, pre) = match split {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    let scripts = |pairs: &[&MathNode]| {
        pairs
            .chunks(2)
            .map(|p| {
                let sub = p.first().map_or_else(String::new, |k| node(k, depth));
                let sup = p.get(1).map_or_else(String::new, |k| node(k, depth));
                format!("_{{{sub}}}^{{{sup}}}")
            })
            .collect::<String>()
    };
    let pre = scripts(pre);
    let pre = if pre.is_empty() {
        String::new()
    } else {
        format!("{{}}{pre}")
    };
    format!("{pre}{}{}", base(&node(first, depth)), scripts(post))
}

/// A script's base: braced unless it is one symbol or one command.
pub fn base(tex: &str) -> String {
    let t = tex.trim();
    let single = t.chars().count() == 1
        || (t.starts_with('\\') && t.len() > 1 && t[1..].chars().all(|c| c.is_ascii_alphabetic()));
    if single || t.is_empty() {
        t.to_owned()
    } else {
        format!("{{{t}}}")
    }
}

/// Under- and over-scripts: limits of large operators, accents, or
/// `\underset`/`\overset`.
pub fn under_over(
    base_tex: &str,
    under: Option<String>,
    over: Option<String>,
    accent: Option<&str>,
) -> String {
    let b = base_tex.trim();
    if large_operator(b) {
        let mut out = b.to_owned();
        if let Some(u) = under.filter(|u| !u.is_empty()) {
            out.push_str(&format!("_{{{u}}}"));
        }
        if let Some(o) = over.filter(|o| !o.is_empty()) {
            out.push_str(&format!("^{{{o}}}"));
        }
        return out;
    }
    let mut out = b.to_owned();
    if let Some(o) = over {
        out = match accent_command(o.trim()) {
            Some(cmd) if accent != Some("false") => format!("{cmd}{{{out}}}"),
            _ => format!("\\overset{{{o}}}{{{out}}}"),
        };
    }
    if let Some(u) = under {
        out = match u.trim() {
            "\\underbrace" | "⏟" => format!("\\underbrace{{{out}}}"),
            "\\_" | "-" | "−" | "‾" | "¯" => format!("\\underline{{{out}}}"),
            _ => format!("\\underset{{{u}}}{{{out}}}"),
        };
    }
    out
}

/// The LaTeX accent for an over-script symbol (already converted).
pub fn accent_command(over: &str) -> Option<&'static str> {
    Some(match over {
        "^" | "\\hat{}" | "ˆ" | "\u{302}" | "\\wedge" => "\\hat",
        "¯" | "‾" | "-" | "\\_" | "\u{305}" | "\u{304}" | "−" => "\\overline",
        "\\to" | "\\rightarrow" | "\u{20d7}" => "\\vec",
        "~" | "\\sim" | "˜" | "\u{303}" => "\\tilde",
        "." | "˙" | "\u{307}" | "\\cdot" => "\\dot",
        "¨" | "\u{308}" | ".." => "\\ddot",
        "\\overbrace" | "⏞" => "\\overbrace",
        "ˇ" | "\u{30c}" => "\\check",
        "´" | "\u{301}" => "\\acute",
        "`" | "\u{300}" => "\\grave",
        "˘" | "\u{306}" => "\\breve",
        _ => return None,
    })
}

/// Whether a converted base is a large operator whose scripts are limits.
pub fn large_operator(tex: &str) -> bool {
    matches!(
        tex,
        "\\sum"
            | "\\prod"
            | "\\coprod"
            | "\\int"
            | "\\iint"
            | "\\iiint"
            | "\\oint"
            | "\\bigcup"
            | "\\bigcap"
            | "\\bigoplus"
            | "\\bigotimes"
            | "\\bigvee"
            | "\\bigwedge"
            | "\\lim"
            | "\\max"
            | "\\min"
            | "\\sup"
            | "\\inf"
            | "\\limsup"
            | "\\liminf"
            | "\\det"
    )
}

/// Functions LaTeX has a command for.
const FUNCTIONS: &[&str] = &[
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "coth", "log", "ln", "lg", "exp", "lim", "limsup", "liminf", "max", "min", "sup", "inf", "det",
    "dim", "ker", "deg", "gcd", "arg", "hom", "Pr",
];

/// An identifier: one letter as it is (Greek as commands), a known
/// function as its command, longer names upright.
pub fn identifier(text: &str, variant: Option<&str>) -> String {
    let t = text.trim();
    let tex = if FUNCTIONS.contains(&t) {
        format!("\\{t}")
    } else if t.chars().count() > 1 && t.chars().all(char::is_alphabetic) {
        format!("\\mathrm{{{t}}}")
    } else {
        symbols(t)
    };
    match variant {
        Some("bold") => format!("\\mathbf{{{tex}}}"),
        Some("double-struck") => format!("\\mathbb{{{tex}}}"),
        Some("script") => format!("\\mathcal{{{tex}}}"),
        Some("fraktur") => format!("\\mathfrak{{{tex}}}"),
        Some("normal") if t.chars().count() == 1 && t.chars().all(|c| c.is_ascii_alphabetic()) => {
            format!("\\mathrm{{{tex}}}")
        }
        _ => tex,
    }
}

/// An operator: its command when it has one.
pub fn operator(text: &str) -> String {
    if FUNCTIONS.contains(&text) {
        return format!("\\{text}");
    }
    symbols(text)
}

/// A fence character for `\left`/`\right` (`.` when there is none).
pub fn fence(c: &str) -> String {
    match c.trim() {
        "" => ".".to_owned(),
        "{" => "\\{".to_owned(),
        "}" => "\\}".to_owned(),
        "⟨" | "〈" => "\\langle".to_owned(),
        "⟩" | "〉" => "\\rangle".to_owned(),
        "‖" => "\\|".to_owned(),
        "⌊" => "\\lfloor".to_owned(),
        "⌋" => "\\rfloor".to_owned(),
        "⌈" => "\\lceil".to_owned(),
        "⌉" => "\\rceil".to_owned(),
        other => other.to_owned(),
    }
}

/// `\text{…}` with TeX's special characters escaped.
pub fn text_command(text: &str) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return "\\ ".to_owned();
    }
    format!("\\text{{{}}}", escape_text(&t))
}

fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\backslash "),
            '{' | '}' | '#' | '$' | '%' | '&' | '_' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters mapped to LaTeX: Greek letters, operators, relations,
/// arrows and TeX's special characters; invisible operators vanish.
pub fn symbols(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match symbol(c) {
            Some(cmd) => {
                out.push_str(cmd);
                // A command is kept apart from a letter after it.
                if cmd.starts_with('\\') && cmd[1..].chars().all(|c| c.is_ascii_alphabetic()) {
                    out.push(' ');
                }
            }
            None => out.push(c),
        }
    }
    out.trim_end().to_owned()
}

fn symbol(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2061}' | '\u{2062}' | '\u{2063}' | '\u{2064}' | '\u{200b}' => "",
        '{' => "\\{",
        '}' => "\\}",
        '#' => "\\#",
        '$' => "\\$",
        '%' => "\\%",
        '&' => "\\&",
        '_' => "\\_",
        '\\' => "\\backslash",
        '−' => "-",
        '±' => "\\pm",
        '∓' => "\\mp",
        '×' => "\\times",
        '÷' => "\\div",
        '·' | '⋅' => "\\cdot",
        '∗' => "\\ast",
        '∘' => "\\circ",
        '≤' | '⩽' => "\\leq",
        '≥' | '⩾' => "\\geq",
        '≠' => "\\neq",
        '≈' => "\\approx",
        '≡' => "\\equiv",
        '∼' => "\\sim",
        '≃' => "\\simeq",
        '≅' => "\\cong",
        '∝' => "\\propto",
        '≪' => "\\ll",
        '≫' => "\\gg",
        '∞' => "\\infty",
        '∂' => "\\partial",
        '∇' => "\\nabla",
        '∈' => "\\in",
        '∉' => "\\notin",
        '∋' => "\\ni",
        '⊂' => "\\subset",
        '⊃' => "\\supset",
        '⊆' => "\\subseteq",
        '⊇' => "\\supseteq",
        '∪' => "\\cup",
        '∩' => "\\cap",
        '∅' => "\\emptyset",
        '∀' => "\\forall",
        '∃' => "\\exists",
        '¬' => "\\neg",
        '∧' => "\\wedge",
        '∨' => "\\vee",
        '⊕' => "\\oplus",
        '⊗' => "\\otimes",
        '∖' => "\\setminus",
        '→' => "\\to",
        '←' => "\\leftarrow",
        '↔' => "\\leftrightarrow",
        '⇒' => "\\Rightarrow",
        '⇐' => "\\Leftarrow",
        '⇔' => "\\Leftrightarrow",
        '↦' => "\\mapsto",
        '↑' => "\\uparrow",
        '↓' => "\\downarrow",
        '…' => "\\ldots",
        '⋯' => "\\cdots",
        '⋮' => "\\vdots",
        '⋱' => "\\ddots",
        '∑' => "\\sum",
        '∏' => "\\prod",
        '∐' => "\\coprod",
        '∫' => "\\int",
        '∬' => "\\iint",
        '∭' => "\\iiint",
        '∮' => "\\oint",
        '⋃' => "\\bigcup",
        '⋂' => "\\bigcap",
        '√' => "\\surd",
        '′' => "'",
        '″' => "''",
        '⟨' | '〈' => "\\langle",
        '⟩' | '〉' => "\\rangle",
        '‖' => "\\|",
        '∣' => "\\mid",
        '∥' => "\\parallel",
        '⊥' => "\\perp",
        '∠' => "\\angle",
        '°' => "^{\\circ}",
        '⌊' => "\\lfloor",
        '⌋' => "\\rfloor",
        '⌈' => "\\lceil",
        '⌉' => "\\rceil",
        'ℝ' => "\\mathbb{R}",
        'ℕ' => "\\mathbb{N}",
        'ℤ' => "\\mathbb{Z}",
        'ℚ' => "\\mathbb{Q}",
        'ℂ' => "\\mathbb{C}",
        'ℓ' => "\\ell",
        'ℏ' => "\\hbar",
        'ℵ' => "\\aleph",
        'α' => "\\alpha",
        'β' => "\\beta",
        'γ' => "\\gamma",
        'δ' => "\\delta",
        'ε' => "\\epsilon",
        'ϵ' => "\\epsilon",
        'ζ' => "\\zeta",
        'η' => "\\eta",
        'θ' => "\\theta",
        'ϑ' => "\\vartheta",
        'ι' => "\\iota",
        'κ' => "\\kappa",
        'λ' => "\\lambda",
        'μ' => "\\mu",
        'ν' => "\\nu",
        'ξ' => "\\xi",
        'π' => "\\pi",
        'ρ' => "\\rho",
        'σ' => "\\sigma",
        'ς' => "\\varsigma",
        'τ' => "\\tau",
        'υ' => "\\upsilon",
        'φ' => "\\phi",
        'ϕ' => "\\phi",
        'χ' => "\\chi",
        'ψ' => "\\psi",
        'ω' => "\\omega",
        'Γ' => "\\Gamma",
        'Δ' => "\\Delta",
        'Θ' => "\\Theta",
        'Λ' => "\\Lambda",
        'Ξ' => "\\Xi",
        'Π' => "\\Pi",
        'Σ' => "\\Sigma",
        'Υ' => "\\Upsilon",
        'Φ' => "\\Phi",
        'Ψ' => "\\Psi",
        'Ω' => "\\Omega",
        _ => return None,
    })
}

/// Runs of spaces collapsed, and none inside `{ }` next to the braces.
pub fn tidy(tex: &str) -> String {
    let collapsed = tex.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .replace("{ ", "{")
        .replace(" }", "}")
        .replace(" _{", "_{")
        .replace(" ^{", "^{")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(name: &str, children: Vec<MathNode>) -> MathNode {
        MathNode::Element {
            name: name.into(),
            attrs: Vec::new(),
            children,
        }
    }

    fn tok(name: &str, text: &str) -> MathNode {
        el(name, vec![MathNode::Text(text.into())])
    }

    #[test]
    fn common_constructs() {
        let cases: Vec<(MathNode, &str)> = vec![
            (
                el(
                    "math",
                    vec![
                        tok("mi", "e"),
                        tok("mo", "="),
                        el("msup", vec![tok("mi", "x"), tok("mn", "2")]),
                    ],
                ),
                "e = x^{2}",
            ),
            (
                el(
                    "math",
                    vec![el(
                        "mfrac",
                        vec![tok("mi", "α"), el("msqrt", vec![tok("mi", "π")])],
                    )],
                ),
                "\\frac{\\alpha}{\\sqrt{\\pi}}",
            ),
            (
                el(
                    "math",
                    vec![
                        el(
                            "munderover",
                            vec![
                                tok("mo", "∑"),
                                el("mrow", vec![tok("mi", "i"), tok("mo", "="), tok("mn", "1")]),
                                tok("mi", "n"),
                            ],
                        ),
                        el("msub", vec![tok("mi", "x"), tok("mi", "i")]),
                    ],
                ),
                "\\sum_{i = 1}^{n} x_{i}",
            ),
            (
                el(
                    "math",
                    vec![el("mover", vec![tok("mi", "v"), tok("mo", "→")])],
                ),
                "\\vec{v}",
            ),
            (
                el(
                    "math",
                    vec![tok("mi", "sin"), tok("mo", "\u{2061}"), tok("mi", "θ")],
                ),
                "\\sin \\theta",
            ),
            (
                el(
                    "math",
                    vec![el(
                        "mtable",
                        vec![
                            el(
                                "mtr",
                                vec![
                                    el("mtd", vec![tok("mn", "1")]),
                                    el("mtd", vec![tok("mn", "0")]),
                                ],
                            ),
                            el(
                                "mtr",
                                vec![
                                    el("mtd", vec![tok("mn", "0")]),
                                    el("mtd", vec![tok("mn", "1")]),
                                ],
                            ),
                        ],
                    )],
                ),
                "\\begin{matrix} 1 & 0 \\\\ 0 & 1 \\end{matrix}",
            ),
            (
                el("math", vec![tok("mtext", "if x_1 > 0")]),
                "\\text{if x\\_1 > 0}",
            ),
        ];
        for (math, tex) in cases {
            assert_eq!(mathml_to_latex(&math), tex, "{math:?}");
        }
    }

    #[test]
    fn a_tex_annotation_wins() {
        let math = el(
            "math",
            vec![el(
                "semantics",
                vec![
                    tok("mi", "x"),
                    MathNode::Element {
                        name: "annotation".into(),
                        attrs: vec![("encoding".into(), "application/x-tex".into())],
                        children: vec![MathNode::Text(" x^2 ".into())],
                    },
                ],
            )],
        );
        assert_eq!(mathml_to_latex(&math), "x^2");
    }

    #[test]
    fn deep_nesting_keeps_the_text() {
        let mut math = el("msup", vec![tok("mi", "x"), tok("mn", "2")]);
        for _ in 0..1000 {
            math = el("mrow", vec![math]);
        }
        assert_eq!(mathml_to_latex(&el("math", vec![math])), "x2");
    }
}

//! Every fixture file chunks into its definitions, with scope, kind,
//! signature, doc comment and span.

use ffmcp_coderag::{
    chunk::{Chunk, chunk_file},
    lang::Lang,
};

fn symbols(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(super::fixture().join(path)).expect("fixture");
    let lang = Lang::detect(path);
    chunk_file(lang, &text)
        .iter()
        .filter(|c| c.is_definition() || c.kind == "section")
        .map(|c| {
            format!(
                "{} {} {}-{}",
                c.kind,
                c.symbol(lang),
                c.start_line,
                c.end_line
            )
        })
        .collect()
}

#[test]
fn definitions_of_every_language() {
    for (path, expected) in [
        (
            "src/lib.rs",
            vec![
                "struct Tokenizer 6-8",
                "impl Tokenizer 10-23",
                "method Tokenizer::new 12-14",
                "method Tokenizer::tokenize 17-22",
                "trait Scorer 26-29",
                "method Scorer::score 28-28",
            ],
        ),
        (
            "app/server.py",
            vec![
                "function parse_query_string 6-12",
                "class RequestRouter 15-30",
                "method RequestRouter.__init__ 18-19",
                "method RequestRouter.register 21-23",
                "method RequestRouter.dispatch 25-30",
            ],
        ),
        (
            "web/cart.js",
            vec![
                "function formatPrice 4-4",
                "function computeCartTotal 9-12",
                "class ShoppingCart 14-27",
                "method ShoppingCart.constructor 15-17",
                "method ShoppingCart.addItem 20-22",
                "method ShoppingCart.total 24-26",
            ],
        ),
        (
            "web/invoice.ts",
            vec!["interface Invoice 2-6", "function renderInvoiceLine 9-11"],
        ),
        (
            "web/Badge.tsx",
            vec!["type BadgeProps 1-1", "function NotificationBadge 4-10"],
        ),
        (
            "cmd/cache.go",
            vec![
                "struct Cache 6-10",
                "function NewCache 13-15",
                "method Cache.Get 18-23",
                "function main 25-28",
            ],
        ),
        (
            "java/Ledger.java",
            vec![
                "class Ledger 7-20",
                "method Ledger.transferFunds 11-14",
                "method Ledger.balanceFor 17-19",
            ],
        ),
        (
            "c/ring.c",
            vec!["struct ring_buffer 4-8", "function ring_push 11-18"],
        ),
        (
            "cpp/matrix.cpp",
            vec![
                "module linalg 3-26",
                "class linalg::Matrix 6-14",
                "method linalg::Matrix::Matrix 8-8",
                "method linalg::Matrix::multiply 17-24",
            ],
        ),
        (
            "README.md",
            vec!["section Fixture repository 1-4", "section Caching 5-7"],
        ),
    ] {
        assert_eq!(symbols(path), expected, "{path}");
    }
}

#[test]
fn signatures_docs_and_occurrences() {
    let text = std::fs::read_to_string(super::fixture().join("src/lib.rs")).expect("fixture");
    let chunks = chunk_file(Lang::Rust, &text);
    let tokenize = chunks
        .iter()
        .find(|c| c.name == "tokenize")
        .expect("tokenize");
    assert_eq!(
        tokenize.signature,
        "pub fn tokenize(&self, text: &str) -> Vec<String>"
    );
    assert_eq!(
        tokenize.doc,
        "Splits `text` on whitespace and punctuation into lowercase words."
    );
    assert_eq!(tokenize.name_line, 17);
    assert!(tokenize.occurrences.contains(&(19, "min_len".to_owned())));
    // The impl shows its methods by their first line, not their bodies.
    let implementation = chunks.iter().find(|c| c.kind == "impl").expect("impl");
    assert!(
        implementation
            .text
            .contains("pub fn tokenize(&self, text: &str) -> Vec<String> { …")
    );
    assert!(!implementation.text.contains("to_lowercase"));
    // Identifiers in nested definitions belong to those, not to the impl.
    assert!(
        !implementation
            .occurrences
            .iter()
            .any(|(_, i)| i == "min_len")
    );

    let py = std::fs::read_to_string(super::fixture().join("app/server.py")).expect("fixture");
    let chunks = chunk_file(Lang::Python, &py);
    let dispatch = chunks
        .iter()
        .find(|c| c.name == "dispatch")
        .expect("dispatch");
    assert_eq!(
        dispatch.doc,
        "Call the handler registered for the path with the parsed query."
    );
    assert_eq!(dispatch.signature, "def dispatch(self, path, query=\"\")");
}

#[test]
fn hostile_inputs_end_in_chunks() {
    // Deep nesting, unbalanced braces, NULs and huge lines neither panic nor hang.
    let deep = "fn f() {".repeat(5000) + &"}".repeat(10);
    for (lang, text) in [
        (Lang::Rust, deep.as_str()),
        (Lang::Python, "def (:\n  ]]]\n\0\0"),
        (Lang::Cpp, "class { template < < < ;"),
        (Lang::Text, ""),
        (Lang::Markdown, "#\n#\n#"),
    ] {
        let _ = chunk_file(lang, text);
    }
}

#[test]
fn doc_comments_belong_to_their_definition_not_to_a_code_chunk() {
    let text = "use std::fmt;\n\n/// Formats the ledger balance for display.\n/// Negative amounts get a minus sign.\n#[inline]\npub fn render_balance(x: i64) -> String {\n    x.to_string()\n}\n\n/// A second documented function with a long comment.\nfn other() {}\n";
    let chunks = chunk_file(Lang::Rust, text);
    let code: Vec<&Chunk> = chunks.iter().filter(|c| c.kind == "code").collect();
    assert!(
        code.iter()
            .all(|c| !c.text.contains("ledger") && !c.text.contains("documented")),
        "a doc comment became code between definitions: {code:?}"
    );
    let render = chunks
        .iter()
        .find(|c| c.name == "render_balance")
        .expect("render_balance");
    assert!(
        render.doc.starts_with("Formats the ledger balance"),
        "{render:?}"
    );
    assert_eq!(render.start_line, 6, "the span starts at the item itself");
}

#[test]
fn python_docstrings_are_the_definition_s_doc_whatever_their_quotes() {
    let text = r#"def raw_one(x):
    r"""Split the path into drive and tail.

    More words here.
    """
    return x

def single(x):
    'Return the absolute version of a path.'
    return x

class Ledger:
    u"""Keeps the running balance."""

    def post(self, amount):
        """Adds an entry to the ledger."""
        self.total += amount

def undocumented(x):
    x = "not a docstring"
    return x
"#;
    let chunks = chunk_file(Lang::Python, text);
    let doc = |name: &str| {
        chunks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.doc.clone())
            .unwrap_or_else(|| panic!("no chunk {name}"))
    };
    for (name, expected) in [
        (
            "raw_one",
            "Split the path into drive and tail.\n\nMore words here.",
        ),
        ("single", "Return the absolute version of a path."),
        ("Ledger", "Keeps the running balance."),
        ("post", "Adds an entry to the ledger."),
        ("undocumented", ""),
    ] {
        assert_eq!(doc(name), expected, "{name}");
    }
}

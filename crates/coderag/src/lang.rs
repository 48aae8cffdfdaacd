//! Language detection by file name, and the tree-sitter grammar of each
//! language that has one compiled in. Everything else is plain text.

use serde::{Deserialize, Serialize};

/// A source language. The first eight have a grammar (symbol-level chunks);
/// the others are recognised for filters and statistics and chunked as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Java,
    C,
    Cpp,
    Markdown,
    Text,
}

/// Every language, for listings.
pub const ALL: [Lang; 11] = [
    Lang::Rust,
    Lang::Python,
    Lang::JavaScript,
    Lang::TypeScript,
    Lang::Tsx,
    Lang::Go,
    Lang::Java,
    Lang::C,
    Lang::Cpp,
    Lang::Markdown,
    Lang::Text,
];

impl Lang {
    /// The name used in the index, in filters and in results.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::Go => "go",
            Lang::Java => "java",
            Lang::C => "c",
            Lang::Cpp => "cpp",
            Lang::Markdown => "markdown",
            Lang::Text => "text",
        }
    }

    /// The language named `name` (as [`Lang::name`] spells it).
    pub fn from_name(name: &str) -> Option<Lang> {
        ALL.into_iter()
            .find(|lang| lang.name().eq_ignore_ascii_case(name))
    }

    /// Detects the language of a file from its name.
    pub fn detect(file_name: &str) -> Lang {
        let lower = file_name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map_or("", |(_, ext)| ext);
        match ext {
            "rs" => Lang::Rust,
            "py" | "pyi" => Lang::Python,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "go" => Lang::Go,
            "java" => Lang::Java,
            "c" | "h" => Lang::C,
            "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "h++" | "ipp" | "tpp" => {
                Lang::Cpp
            }
            "md" | "markdown" | "mdx" | "rst" => Lang::Markdown,
            _ => Lang::Text,
        }
    }

    /// The compiled-in grammar, if this language has one.
    pub fn grammar(self) -> Option<tree_sitter::Language> {
        Some(match self {
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
            Lang::Java => tree_sitter_java::LANGUAGE.into(),
            Lang::C => tree_sitter_c::LANGUAGE.into(),
            Lang::Cpp => tree_sitter_cpp::LANGUAGE.into(),
            Lang::Markdown | Lang::Text => return None,
        })
    }

    /// How a symbol path joins scopes: `a::b` in Rust and C++, `a.b` elsewhere.
    pub fn scope_separator(self) -> &'static str {
        match self {
            Lang::Rust | Lang::Cpp => "::",
            _ => ".",
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_extension() {
        for (name, lang) in [
            ("src/main.rs", Lang::Rust),
            ("pkg/x.py", Lang::Python),
            ("a.mjs", Lang::JavaScript),
            ("a.ts", Lang::TypeScript),
            ("A.TSX", Lang::Tsx),
            ("main.go", Lang::Go),
            ("Main.java", Lang::Java),
            ("x.h", Lang::C),
            ("x.hpp", Lang::Cpp),
            ("README.md", Lang::Markdown),
            ("Makefile", Lang::Text),
        ] {
            assert_eq!(Lang::detect(name), lang, "{name}");
        }
        for lang in ALL {
            assert_eq!(Lang::from_name(lang.name()), Some(lang));
        }
    }
}

//! Source text to code units: one chunk per definition (function, method,
//! class, struct, impl, trait, module…) found by tree-sitter, with its
//! enclosing scope path, signature, doc comment and line span; the code
//! between definitions in chunks of its own; plain text in paragraphs or
//! Markdown sections.
//!
//! A container (class, impl, trait, module) is one chunk whose text keeps
//! its own lines and shows each nested definition by its first line only,
//! so a search for a method finds the method, not every class around it.
//! Each chunk lists the identifiers that occur in its own lines (not in
//! nested definitions) with their line numbers: the raw material of
//! `references` and `related`.

use tree_sitter::{Node, Parser};

use crate::lang::Lang;

/// Deepest syntax nesting walked; deeper code stays in its parent's chunk.
const MAX_DEPTH: usize = 200;
/// Longest run of lines between definitions kept in one chunk.
const GAP_LINES: usize = 60;
/// Longest signature kept, in characters.
const MAX_SIGNATURE: usize = 240;

/// One code unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// `function`, `method`, `class`, `struct`, `enum`, `trait`, `impl`,
    /// `interface`, `module`, `type`, `const`, `macro`; `code` for lines
    /// between definitions, `section`/`text` for prose.
    pub kind: &'static str,
    /// The defined name; the heading of a section; empty for code and text.
    pub name: String,
    /// Enclosing scopes joined by the language's separator (`a::b`, `a.b`).
    pub scope: String,
    /// The first line(s) up to the body, whitespace collapsed.
    pub signature: String,
    /// The doc comment or docstring, markers removed.
    pub doc: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    /// Line of the defined name (0 when there is none).
    pub name_line: u32,
    /// The chunk's text (containers: nested definitions shown by their first line).
    pub text: String,
    /// Identifiers in the chunk's own lines: (line, identifier), in order.
    pub occurrences: Vec<(u32, String)>,
}

impl Chunk {
    /// `scope` + separator + `name`, or whichever is present.
    pub fn symbol(&self, lang: Lang) -> String {
        match (self.scope.is_empty(), self.name.is_empty()) {
            (_, true) => self.scope.clone(),
            (true, false) => self.name.clone(),
            (false, false) => format!("{}{}{}", self.scope, lang.scope_separator(), self.name),
        }
    }

    /// Whether this chunk is a definition (not code between them or prose).
    pub fn is_definition(&self) -> bool {
        !matches!(self.kind, "code" | "text" | "section")
    }
}

/// `text` parsed with `lang`'s tree-sitter grammar; `None` for a language
/// without one.
pub fn parse(lang: Lang, text: &str) -> Option<tree_sitter::Tree> {
    let grammar = lang.grammar()?;
    let mut parser = Parser::new();
    parser.set_language(&grammar).ok()?;
    parser.parse(text, None)
}

/// Splits `text` of language `lang` into chunks, ordered by start line.
pub fn chunk_file(lang: Lang, text: &str) -> Vec<Chunk> {
    let Some(tree) = parse(lang, text) else {
        return chunk_prose(lang, text);
    };
    let mut walker = Walker {
        lang,
        src: text,
        chunks: Vec::new(),
        links: std::collections::HashMap::new(),
        doc_rows: std::collections::HashMap::new(),
    };
    let root = tree.root_node();
    let mut scope = Vec::new();
    let nested = walker.visit_children(root, &mut scope, 0);
    // The code between top-level definitions.
    // A definition covers its doc comment too: the comment is the
    // definition's `doc`, not code between definitions of its own.
    let covered: Vec<(usize, usize)> = nested
        .iter()
        .map(|n| {
            let start = n.start_position().row;
            let doc = walker.doc_rows.get(&n.id()).map_or(start, |d| d.0);
            (doc.min(start), n.end_position().row)
        })
        .collect();
    let mut gaps = gap_chunks(text, &covered);
    if !gaps.is_empty() {
        let all = identifiers(root, text, 1, u32::MAX, &nested);
        // `all` is in line order: each gap takes its slice.
        for gap in &mut gaps {
            let from = all.partition_point(|(line, _)| *line < gap.start_line);
            let to = all.partition_point(|(line, _)| *line <= gap.end_line);
            gap.occurrences = all[from..to.max(from)].to_vec();
        }
    }
    walker.chunks.extend(gaps);
    walker
        .chunks
        .sort_by_key(|c| (c.start_line, std::cmp::Reverse(c.end_line)));
    walker.chunks
}

struct Walker<'s, 't> {
    lang: Lang,
    src: &'s str,
    chunks: Vec<Chunk>,
    /// Parent and previous named sibling of every node visited, by node id:
    /// tree-sitter finds a node's parent or previous sibling by walking
    /// down from the root and along the sibling list, which made big files
    /// (thousands of items, each with lines of doc comments) quadratic.
    links: std::collections::HashMap<usize, (Node<'t>, Option<Node<'t>>)>,
    /// First row and byte of each emitted definition's doc comment, by
    /// outer node id.
    doc_rows: std::collections::HashMap<usize, (usize, usize)>,
}

/// A definition found in the tree.
struct Definition<'t> {
    kind: &'static str,
    /// The node carrying the name, fields and body.
    node: Node<'t>,
    /// The node spanning the definition with its wrappers (export,
    /// decorators, template<>, `type (…)`), for the span and the doc comment.
    outer: Node<'t>,
    name: String,
    name_line: u32,
    /// Scope the definition adds for its children (containers) or lives in
    /// (a Go method's receiver, a C++ `A::f`).
    extra_scope: Option<String>,
    container: bool,
}

impl<'s, 't> Walker<'s, 't> {
    /// Visits the children of `node`; returns the outer nodes of the
    /// definitions found directly (not inside another definition).
    fn visit_children(
        &mut self,
        node: Node<'t>,
        scope: &mut Vec<String>,
        depth: usize,
    ) -> Vec<Node<'t>> {
        let mut found = Vec::new();
        if depth > MAX_DEPTH {
            return found;
        }
        let mut cursor = node.walk();
        let mut prev = None;
        for child in node.named_children(&mut cursor) {
            self.links.insert(child.id(), (node, prev));
            prev = Some(child);
            match self.definition(child, !scope.is_empty()) {
                Some(def) => {
                    found.push(def.outer);
                    self.emit(def, scope, depth);
                }
                None => found.extend(self.visit_children(child, scope, depth + 1)),
            }
        }
        found
    }

    fn emit(&mut self, def: Definition<'t>, scope: &mut Vec<String>, depth: usize) {
        let pushed_extra = def.extra_scope.is_some() && !def.container;
        if let Some(extra) = def.extra_scope.as_ref().filter(|_| !def.container) {
            scope.push(extra.clone());
        }
        let scope_text = scope.join(self.lang.scope_separator());
        let nested = if def.container {
            scope.push(def.extra_scope.clone().unwrap_or_else(|| def.name.clone()));
            let nested = self.visit_children(def.node, scope, depth + 1);
            scope.pop();
            nested
        } else {
            Vec::new()
        };
        if pushed_extra {
            scope.pop();
        }
        let outer = def.outer;
        let start = outer.start_byte();
        let end = outer.end_byte();
        // Nested definitions go with their doc comments: a container must
        // not match its methods' documentation in their place.
        let elided: Vec<(usize, Node<'t>)> = nested
            .iter()
            .map(|n| {
                let from = self.doc_rows.get(&n.id()).map_or(n.start_byte(), |d| d.1);
                (from.min(n.start_byte()), *n)
            })
            .collect();
        let text = elide(self.src, start, end, &elided);
        let start_line = outer.start_position().row as u32 + 1;
        let end_line = outer.end_position().row as u32 + 1;
        let (doc, doc_start) = self.doc_comment(&def);
        self.doc_rows.insert(outer.id(), doc_start);
        let kind = match def.kind {
            "function" if !scope_text.is_empty() && self.lang != Lang::Go => "method",
            other => other,
        };
        let kind = if self.lang == Lang::Go && def.extra_scope.is_some() {
            "method"
        } else {
            kind
        };
        self.chunks.push(Chunk {
            kind,
            name: def.name,
            scope: scope_text,
            signature: self.signature(def.node, outer),
            doc,
            start_line,
            end_line,
            name_line: def.name_line,
            text,
            occurrences: identifiers(outer, self.src, start_line, end_line, &nested),
        });
    }

    /// Whether `node` defines something, and what.
    fn definition(&self, node: Node<'t>, in_scope: bool) -> Option<Definition<'t>> {
        let lang = self.lang;
        let (kind, container): (&'static str, bool) = match (lang, node.kind()) {
            (Lang::Rust, "function_item" | "function_signature_item") => ("function", false),
            (Lang::Rust, "struct_item" | "union_item") => ("struct", false),
            (Lang::Rust, "enum_item") => ("enum", false),
            (Lang::Rust, "trait_item") => ("trait", true),
            (Lang::Rust, "impl_item") => ("impl", true),
            (Lang::Rust, "mod_item") if node.child_by_field_name("body").is_some() => {
                ("module", true)
            }
            (Lang::Rust, "const_item" | "static_item") if !in_scope => ("const", false),
            (Lang::Rust, "type_item") => ("type", false),
            (Lang::Rust, "macro_definition") => ("macro", false),
            (Lang::Python, "function_definition") => ("function", false),
            (Lang::Python, "class_definition") => ("class", true),
            (
                Lang::JavaScript | Lang::TypeScript | Lang::Tsx,
                "function_declaration" | "generator_function_declaration",
            ) => ("function", false),
            (Lang::JavaScript | Lang::TypeScript | Lang::Tsx, "method_definition") => {
                ("method", false)
            }
            (
                Lang::JavaScript | Lang::TypeScript | Lang::Tsx,
                "class_declaration" | "abstract_class_declaration",
            ) => ("class", true),
            (Lang::JavaScript | Lang::TypeScript | Lang::Tsx, "variable_declarator")
                if node.child_by_field_name("value").is_some_and(|v| {
                    matches!(
                        v.kind(),
                        "arrow_function" | "function_expression" | "function"
                    )
                }) =>
            {
                ("function", false)
            }
            (Lang::TypeScript | Lang::Tsx, "interface_declaration") => ("interface", false),
            (Lang::TypeScript | Lang::Tsx, "type_alias_declaration") => ("type", false),
            (Lang::TypeScript | Lang::Tsx, "enum_declaration") => ("enum", false),
            (Lang::TypeScript | Lang::Tsx, "internal_module" | "module") => ("module", true),
            (Lang::Go, "function_declaration" | "method_declaration") => ("function", false),
            (Lang::Go, "type_spec") => (
                match node.child_by_field_name("type").map(|t| t.kind()) {
                    Some("struct_type") => "struct",
                    Some("interface_type") => "interface",
                    _ => "type",
                },
                false,
            ),
            (
                Lang::Java,
                "class_declaration" | "record_declaration" | "annotation_type_declaration",
            ) => ("class", true),
            (Lang::Java, "interface_declaration") => ("interface", true),
            (Lang::Java, "enum_declaration") => ("enum", true),
            (Lang::Java, "method_declaration" | "constructor_declaration") => ("method", false),
            (Lang::C | Lang::Cpp, "function_definition") => ("function", false),
            (Lang::C | Lang::Cpp, "struct_specifier" | "union_specifier")
                if node.child_by_field_name("body").is_some() =>
            {
                ("struct", lang == Lang::Cpp)
            }
            (Lang::C | Lang::Cpp, "enum_specifier")
                if node.child_by_field_name("body").is_some() =>
            {
                ("enum", false)
            }
            (Lang::C | Lang::Cpp, "type_definition") => ("type", false),
            (Lang::Cpp, "class_specifier") if node.child_by_field_name("body").is_some() => {
                ("class", true)
            }
            (Lang::Cpp, "namespace_definition") => ("module", true),
            _ => return None,
        };
        let (name_node, extra_scope) = self.name_of(node)?;
        let name = self.text(name_node).to_owned();
        if name.is_empty() || name.len() > 200 {
            return None;
        }
        let (name, extra_scope) = match (lang, kind) {
            // impl blocks are scopes named after their type.
            (Lang::Rust, "impl") => (name.clone(), Some(name)),
            // C++ `A::f`: named f, in scope A.
            (Lang::Cpp, "function") => match name.rsplit_once("::") {
                Some((outer, inner)) => (inner.to_owned(), Some(outer.to_owned())),
                None => (name, extra_scope),
            },
            _ => (name, extra_scope),
        };
        Some(Definition {
            kind,
            node,
            outer: self.outer_node(node),
            name_line: name_node.start_position().row as u32 + 1,
            name,
            extra_scope,
            container,
        })
    }

    /// The node naming `node`, and a scope it implies (a Go receiver).
    fn name_of(&self, node: Node<'t>) -> Option<(Node<'t>, Option<String>)> {
        match (self.lang, node.kind()) {
            (Lang::Rust, "impl_item") => Some((node.child_by_field_name("type")?, None)),
            (Lang::Go, "method_declaration") => {
                let receiver = node
                    .child_by_field_name("receiver")
                    .and_then(|r| last_of_kind(r, "type_identifier"))
                    .map(|t| self.text(t).to_owned());
                Some((node.child_by_field_name("name")?, receiver))
            }
            (Lang::C | Lang::Cpp, "function_definition") => {
                let mut declarator = node.child_by_field_name("declarator")?;
                for _ in 0..16 {
                    match declarator.kind() {
                        "identifier"
                        | "field_identifier"
                        | "qualified_identifier"
                        | "destructor_name"
                        | "operator_name"
                        | "template_function" => return Some((declarator, None)),
                        _ => declarator = declarator.child_by_field_name("declarator")?,
                    }
                }
                None
            }
            (Lang::C | Lang::Cpp, "type_definition") => {
                let mut declarator = node.child_by_field_name("declarator")?;
                for _ in 0..16 {
                    if declarator.kind() == "type_identifier" {
                        return Some((declarator, None));
                    }
                    declarator = declarator.child_by_field_name("declarator")?;
                }
                None
            }
            _ => Some((node.child_by_field_name("name")?, None)),
        }
    }

    fn text(&self, node: Node<'_>) -> &'s str {
        self.src.get(node.byte_range()).unwrap_or_default()
    }

    /// From the definition's start to its body, whitespace collapsed.
    fn signature(&self, node: Node<'_>, outer: Node<'_>) -> String {
        let start = if matches!(node.kind(), "variable_declarator" | "type_spec") {
            outer.start_byte()
        } else {
            node.start_byte()
        };
        let body = node.child_by_field_name("body").or_else(|| {
            node.child_by_field_name("value")
                .and_then(|v| v.child_by_field_name("body"))
        });
        let end = match body {
            Some(body) if body.start_byte() > start => body.start_byte(),
            _ => {
                let rest = self.src.get(start..node.end_byte()).unwrap_or_default();
                start + rest.find('\n').unwrap_or(rest.len())
            }
        };
        let raw = self.src.get(start..end).unwrap_or_default();
        let mut signature = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        loop {
            if let Some(rest) = signature.strip_suffix("=>") {
                signature = rest.trim_end().to_owned();
            } else if signature.ends_with(['{', ':', '=']) {
                signature.pop();
                signature = signature.trim_end().to_owned();
            } else {
                break;
            }
        }
        if signature.chars().count() > MAX_SIGNATURE {
            signature = signature.chars().take(MAX_SIGNATURE).collect::<String>() + "…";
        }
        signature
    }

    /// The node spanning `node` with its wrappers.
    fn outer_node(&self, node: Node<'t>) -> Node<'t> {
        let mut outer = node;
        while let Some(&(parent, _)) = self.links.get(&outer.id()) {
            let wraps = match parent.kind() {
                "export_statement" | "decorated_definition" | "template_declaration" => true,
                "lexical_declaration" | "variable_declaration" | "type_declaration" => {
                    parent.named_child_count() == 1
                }
                _ => false,
            };
            if !wraps {
                break;
            }
            outer = parent;
        }
        outer
    }

    /// A Python docstring's text between its quotes, whatever they are
    /// (`"""`, `'''`, `"`, `'`) and whatever prefix it has (`r`, `u`…).
    fn docstring(&self, string: Node<'_>) -> &'s str {
        let mut cursor = string.walk();
        let children: Vec<Node<'_>> = string.children(&mut cursor).collect();
        match (children.first(), children.last()) {
            (Some(open), Some(close))
                if open.kind() == "string_start" && close.kind() == "string_end" =>
            {
                self.src
                    .get(open.end_byte()..close.start_byte())
                    .unwrap_or_default()
            }
            _ => self.text(string),
        }
    }

    /// The previous named sibling of a visited node.
    fn prev_sibling(&self, node: Node<'t>) -> Option<Node<'t>> {
        self.links.get(&node.id()).and_then(|&(_, prev)| prev)
    }

    /// Comments right above the definition (attributes and decorators
    /// skipped), or a Python docstring; and the first row and byte of the
    /// comments above (the definition's own when there are none).
    fn doc_comment(&self, def: &Definition<'_>) -> (String, (usize, usize)) {
        let own = (def.outer.start_position().row, def.outer.start_byte());
        if let Some(doc) = def
            .node
            .child_by_field_name("body")
            .filter(|_| self.lang == Lang::Python)
            .and_then(|b| b.named_child(0))
            .filter(|s| s.kind() == "expression_statement")
            .and_then(|s| s.named_child(0))
            .filter(|s| s.kind() == "string")
        {
            return (clean_comment(self.docstring(doc)), own);
        }
        let mut parts = Vec::new();
        let mut first = own;
        let mut next_row = own.0;
        let mut sibling = self.prev_sibling(def.outer);
        while let Some(node) = sibling {
            let kind = node.kind();
            let adjacent = node.end_position().row + 1 >= next_row;
            if !adjacent {
                break;
            }
            if kind.contains("comment") {
                parts.push(self.text(node));
                first = (node.start_position().row, node.start_byte());
            } else if !matches!(kind, "attribute_item" | "decorator" | "annotation") {
                break;
            }
            next_row = node.start_position().row;
            sibling = self.prev_sibling(node);
        }
        parts.reverse();
        (clean_comment(&parts.join("\n")), first)
    }
}

fn last_of_kind<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut found = None;
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        if child.kind() == kind {
            found = Some(child);
        } else if let Some(inner) = last_of_kind(child, kind) {
            found = Some(inner);
        }
    }
    found
}

/// The source between `start` and `end`, each nested definition reduced to
/// its first line and an ellipsis.
/// Each nested definition is given with where its elision starts (its doc
/// comment, if any).
fn elide(src: &str, start: usize, end: usize, nested: &[(usize, Node<'_>)]) -> String {
    let mut out = String::new();
    let mut at = start;
    for &(skip_from, node) in nested {
        let (from, to) = (node.start_byte(), node.end_byte());
        if skip_from < at || to > end {
            continue;
        }
        out.push_str(src.get(at..skip_from).unwrap_or_default());
        let body = src.get(from..to).unwrap_or_default();
        match body.split_once('\n') {
            Some((first, _)) => {
                out.push_str(first.trim_end());
                out.push_str(" …");
            }
            None => out.push_str(body),
        }
        at = to;
    }
    out.push_str(src.get(at..end).unwrap_or_default());
    out
}

/// Leaf kinds that are names in some grammar.
fn is_identifier_kind(kind: &str) -> bool {
    matches!(
        kind,
        "identifier"
            | "field_identifier"
            | "type_identifier"
            | "property_identifier"
            | "shorthand_property_identifier"
            | "shorthand_property_identifier_pattern"
            | "private_property_identifier"
            | "namespace_identifier"
            | "package_identifier"
            | "statement_identifier"
            | "constant"
    )
}

/// Identifiers under `node` on lines `first..=last`, outside `nested`.
fn identifiers(
    node: Node<'_>,
    src: &str,
    first: u32,
    last: u32,
    nested: &[Node<'_>],
) -> Vec<(u32, String)> {
    // Nested definitions are siblings: sorted and disjoint.
    let mut skip: Vec<(usize, usize)> = nested
        .iter()
        .map(|n| (n.start_byte(), n.end_byte()))
        .collect();
    skip.sort_unstable();
    let skipped = |from: usize, to: usize| {
        let at = skip.partition_point(|(s, _)| *s <= from);
        at > 0 && to <= skip[at - 1].1
    };
    let mut out = Vec::new();
    let mut cursor = node.walk();
    let mut depth = 0usize;
    'walk: loop {
        let current = cursor.node();
        let line = current.start_position().row as u32 + 1;
        let range = (current.start_byte(), current.end_byte());
        let skipped = skipped(range.0, range.1);
        let in_lines = current.end_position().row as u32 + 1 >= first && line <= last;
        if !skipped && in_lines {
            if current.child_count() == 0 {
                let text = src
                    .get(range.0..range.1)
                    .filter(|t| is_identifier_kind(current.kind()) && (2..=100).contains(&t.len()));
                if let Some(text) = text {
                    out.push((line, text.to_owned()));
                }
            } else if depth < MAX_DEPTH && cursor.goto_first_child() {
                depth += 1;
                continue;
            }
        }
        loop {
            if depth == 0 {
                break 'walk;
            }
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            cursor.goto_parent();
            depth -= 1;
        }
    }
    out
}

/// Chunks of the lines no top-level definition covers (0-based inclusive rows).
fn gap_chunks(text: &str, covered: &[(usize, usize)]) -> Vec<Chunk> {
    let lines: Vec<&str> = text.lines().collect();
    let mut chunks = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let flush = |run: &mut Vec<usize>, chunks: &mut Vec<Chunk>| {
        if run.is_empty() {
            return;
        }
        let body: Vec<&str> = run.iter().map(|&i| lines[i]).collect();
        let meaningful = body
            .iter()
            .map(|l| l.chars().filter(|c| c.is_alphanumeric()).count())
            .sum::<usize>()
            >= 8;
        if meaningful {
            chunks.push(Chunk {
                kind: "code",
                name: String::new(),
                scope: String::new(),
                signature: String::new(),
                doc: String::new(),
                start_line: run[0] as u32 + 1,
                end_line: run[run.len() - 1] as u32 + 1,
                name_line: 0,
                text: body.join("\n"),
                occurrences: Vec::new(),
            });
        }
        run.clear();
    };
    // Covered lines by a sweep: +1 where a definition starts, -1 after it ends.
    let mut delta = vec![0i32; lines.len() + 1];
    for &(s, e) in covered {
        if s < lines.len() {
            delta[s] += 1;
            delta[(e + 1).min(lines.len())] -= 1;
        }
    }
    let mut depth = 0;
    for (i, _) in lines.iter().enumerate() {
        depth += delta[i];
        let is_covered = depth > 0;
        if is_covered || run.len() >= GAP_LINES {
            flush(&mut run, &mut chunks);
        }
        if !is_covered {
            run.push(i);
        }
    }
    flush(&mut run, &mut chunks);
    chunks
}

/// Prose and languages without a grammar: Markdown by heading, other text
/// by paragraphs of up to [`GAP_LINES`] lines.
fn chunk_prose(lang: Lang, text: &str) -> Vec<Chunk> {
    let lines: Vec<&str> = text.lines().collect();
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut heading = String::new();
    let close = |from: usize, to: usize, heading: &str, chunks: &mut Vec<Chunk>| {
        if from >= to {
            return;
        }
        let body = lines[from..to].join("\n");
        if body.trim().is_empty() {
            return;
        }
        let occurrences = lines[from..to]
            .iter()
            .enumerate()
            .flat_map(|(i, line)| {
                words(line)
                    .into_iter()
                    .map(move |w| ((from + i) as u32 + 1, w.to_owned()))
            })
            .collect();
        chunks.push(Chunk {
            kind: if heading.is_empty() {
                "text"
            } else {
                "section"
            },
            name: heading.to_owned(),
            scope: String::new(),
            signature: String::new(),
            doc: String::new(),
            start_line: from as u32 + 1,
            end_line: to as u32,
            name_line: if heading.is_empty() {
                0
            } else {
                from as u32 + 1
            },
            text: body,
            occurrences,
        });
    };
    for (i, line) in lines.iter().enumerate() {
        let is_heading = lang == Lang::Markdown && line.starts_with('#');
        let long = i - start >= GAP_LINES;
        let paragraph_end = line.trim().is_empty() && i - start >= GAP_LINES / 2;
        if is_heading || long || (paragraph_end && lang != Lang::Markdown) {
            close(start, i, &heading, &mut chunks);
            start = i;
            if is_heading {
                heading = line.trim_start_matches('#').trim().to_owned();
            } else if long && lang == Lang::Markdown {
                // The section goes on under the same heading.
            } else {
                heading.clear();
            }
        }
    }
    close(start, lines.len(), &heading, &mut chunks);
    chunks
}

/// Identifier-like words of a line of prose.
fn words(line: &str) -> Vec<&str> {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 2 && w.len() <= 100 && !w.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// A comment or docstring without its markers, one line per line.
pub fn clean_comment(raw: &str) -> String {
    let mut lines = Vec::new();
    for line in raw.lines() {
        let mut l = line.trim();
        for prefix in [
            "///", "//!", "//", "/**", "/*!", "/*", "#", "\"\"\"", "'''", "\"", "'",
        ] {
            if let Some(rest) = l.strip_prefix(prefix) {
                l = rest;
                break;
            }
        }
        for suffix in ["*/", "\"\"\"", "'''"] {
            if let Some(rest) = l.strip_suffix(suffix) {
                l = rest;
            }
        }
        let l = l.trim().trim_start_matches('*').trim();
        lines.push(l);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    lines.join("\n")
}

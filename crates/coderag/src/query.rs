//! Questions asked of one repository's index: ranked search (BM25, or
//! hybrid: BM25 and dense retrieval fused by reciprocal rank), symbol
//! lookup, references, a file's outline, and what relates to what. Plain
//! types in and out; the server merges repositories and presents.

use std::collections::{BTreeMap, HashMap};

use tantivy::{
    Term,
    query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query},
};

use crate::{
    dense::{self, Entry, Vectors},
    index::{FieldName, Hit, IndexError, RepoIndex, filter},
    lang::Lang,
    tokens,
};

/// Chunks read for one `references` question at most.
pub const MAX_REFERENCE_CHUNKS: usize = 2000;

/// A ranked search.
#[derive(Debug, Clone, Default)]
pub struct Search<'a> {
    pub query: &'a str,
    pub k: usize,
    /// Only these languages (none: all).
    pub langs: Vec<Lang>,
    /// Only paths under this prefix (`src`, `src/server.rs`).
    pub path: Option<&'a str>,
}

/// How `search` ranks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Hybrid where the index has vectors from the configured embedding
    /// route, else BM25.
    #[default]
    Auto,
    /// BM25 only.
    Bm25,
    /// BM25 and dense retrieval, fused; an error when it is not possible.
    Hybrid,
}

/// The constant of reciprocal rank fusion: a result's fused score is the
/// sum over retrievers of 1 / (RRF_K + its rank there).
pub const RRF_K: f32 = 60.0;

/// A search result and where each retriever ranked it (1-based).
#[derive(Debug, Clone)]
pub struct Ranked {
    /// The chunk; its `score` is BM25's, or the fused score in hybrid search.
    pub hit: Hit,
    /// Rank among BM25's candidates, if BM25 found it.
    pub bm25: Option<usize>,
    /// Rank among the nearest vectors, if dense retrieval found it.
    pub dense: Option<usize>,
}

/// Candidates each retriever contributes to a fusion of `k` results.
fn candidates(k: usize) -> usize {
    (k * 3).clamp(30, 150)
}

/// BM25 top-N and the N nearest vectors to `query` (unit length, same
/// embedding route as `vectors`), fused by reciprocal rank; the same
/// language and path filters apply to both.
pub fn hybrid(
    index: &RepoIndex,
    search: &Search<'_>,
    vectors: &Vectors,
    query: &[f32],
) -> Result<Vec<Ranked>, IndexError> {
    let n = candidates(search.k);
    let lexical = self::search(
        index,
        &Search {
            k: n,
            ..search.clone()
        },
    )?;
    let files = index.files()?;
    let prefix = search
        .path
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty());
    let keep = |e: &Entry| {
        let in_path = prefix.is_none_or(|p| {
            e.path == p || e.path.strip_prefix(p).is_some_and(|r| r.starts_with('/'))
        });
        let in_lang = search.langs.is_empty()
            || files
                .get(&e.path)
                .is_some_and(|r| search.langs.iter().any(|l| l.name() == r.lang));
        in_path && in_lang
    };
    let near = vectors.nearest(query, n, keep);
    // Read the nearest chunks back, one query per file.
    let mut by_path: HashMap<&str, Vec<Hit>> = HashMap::new();
    let mut semantic = Vec::with_capacity(near.len());
    for (i, _) in &near {
        let entry = &vectors.entries()[*i];
        if !by_path.contains_key(entry.path.as_str()) {
            let hits = index.run(index.term(FieldName::Path, &entry.path), 20_000)?;
            by_path.insert(&entry.path, hits);
        }
        let found = by_path[entry.path.as_str()].iter().find(|h| {
            h.start_line == entry.start_line && dense::text_hash(&h.embed_text()) == entry.hash
        });
        if let Some(hit) = found {
            semantic.push(hit.clone());
        }
    }
    Ok(fuse(lexical, semantic, search.k))
}

/// Reciprocal rank fusion of two ranked lists, best first, at most `k`.
fn fuse(lexical: Vec<Hit>, semantic: Vec<Hit>, k: usize) -> Vec<Ranked> {
    type Key = (String, u32, u32, String);
    let key = |h: &Hit| -> Key { (h.path.clone(), h.start_line, h.end_line, h.symbol.clone()) };
    let mut fused: Vec<Ranked> = Vec::new();
    let mut at: HashMap<Key, usize> = HashMap::new();
    for (rank, hit) in lexical.into_iter().enumerate() {
        at.insert(key(&hit), fused.len());
        fused.push(Ranked {
            hit,
            bm25: Some(rank + 1),
            dense: None,
        });
    }
    for (rank, hit) in semantic.into_iter().enumerate() {
        match at.get(&key(&hit)) {
            Some(&i) if fused[i].dense.is_none() => fused[i].dense = Some(rank + 1),
            Some(_) => {}
            None => {
                at.insert(key(&hit), fused.len());
                fused.push(Ranked {
                    hit,
                    bm25: None,
                    dense: Some(rank + 1),
                });
            }
        }
    }
    for ranked in &mut fused {
        ranked.hit.score = [ranked.bm25, ranked.dense]
            .into_iter()
            .flatten()
            .map(|rank| 1.0 / (RRF_K + rank as f32))
            .sum();
    }
    fused.sort_by(|a, b| {
        b.hit.score.total_cmp(&a.hit.score).then(
            a.bm25
                .unwrap_or(usize::MAX)
                .cmp(&b.bm25.unwrap_or(usize::MAX)),
        )
    });
    fused.truncate(k);
    fused
}

/// BM25 results as reciprocal-rank scores, so that they merge with hybrid
/// results of other repositories.
pub fn rank_only(hits: Vec<Hit>) -> Vec<Ranked> {
    let k = hits.len();
    fuse(hits, Vec::new(), k)
}

/// BM25 over the code-aware terms of `query` in names, symbol paths,
/// signatures, doc comments and bodies; an exact name match ranks first.
pub fn search(index: &RepoIndex, search: &Search<'_>) -> Result<Vec<Hit>, IndexError> {
    let mut terms = tokens::terms(search.query);
    terms.sort();
    terms.dedup();
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for term in &terms {
        for (field, boost) in index.weighted_fields() {
            should.push((Occur::Should, RepoIndex::boosted(field, term, boost)));
        }
    }
    let trimmed = search.query.trim();
    if !trimmed.is_empty() && !trimmed.contains(char::is_whitespace) {
        should.push((
            Occur::Should,
            Box::new(BoostQuery::new(
                index.term(FieldName::NameExact, trimmed),
                8.0,
            )),
        ));
    }
    if should.is_empty() {
        return Ok(Vec::new());
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
    add_filters(index, &mut clauses, &search.langs, search.path);
    index.run(Box::new(BooleanQuery::new(clauses)), search.k)
}

fn add_filters(
    index: &RepoIndex,
    clauses: &mut Vec<(Occur, Box<dyn Query>)>,
    langs: &[Lang],
    path: Option<&str>,
) {
    if !langs.is_empty() {
        let any: Vec<(Occur, Box<dyn Query>)> = langs
            .iter()
            .map(|l| (Occur::Should, index.term(FieldName::Lang, l.name())))
            .collect();
        clauses.push(filter(Box::new(BooleanQuery::new(any))));
    }
    if let Some(prefix) = path.map(|p| p.trim_matches('/')).filter(|p| !p.is_empty()) {
        clauses.push(filter(index.term(FieldName::Dir, prefix)));
    }
}

/// Definitions named `name`: exactly (case-sensitive, then any case), or
/// fuzzily (edit distance, and the parts of the name).
pub fn find_symbol(
    index: &RepoIndex,
    name: &str,
    exact: bool,
    kind: Option<&str>,
    langs: &[Lang],
    limit: usize,
) -> Result<Vec<Hit>, IndexError> {
    let with_kind = |query: Box<dyn Query>| -> Box<dyn Query> {
        let mut clauses = vec![
            (Occur::Must, query),
            (Occur::MustNot, index.term(FieldName::Kind, "section")),
            (Occur::MustNot, index.term(FieldName::Kind, "code")),
            (Occur::MustNot, index.term(FieldName::Kind, "text")),
        ];
        if let Some(kind) = kind {
            clauses.push(filter(index.term(FieldName::Kind, kind)));
        }
        add_filters(index, &mut clauses, langs, None);
        Box::new(BooleanQuery::new(clauses))
    };
    let found = index.run(with_kind(index.term(FieldName::NameExact, name)), limit)?;
    if !found.is_empty() {
        return Ok(found);
    }
    let lower = name.to_lowercase();
    let found = index.run(with_kind(index.term(FieldName::NameLower, &lower)), limit)?;
    if exact || !found.is_empty() {
        return Ok(found);
    }
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let distance = if lower.chars().count() > 6 { 2 } else { 1 };
    should.push((
        Occur::Should,
        Box::new(BoostQuery::new(
            Box::new(FuzzyTermQuery::new(
                Term::from_field_text(index.field(FieldName::NameLower), &lower),
                distance,
                true,
            )),
            2.0,
        )),
    ));
    for term in tokens::terms(name) {
        should.push((
            Occur::Should,
            RepoIndex::boosted(index.field(FieldName::Name), &term, 1.0),
        ));
    }
    index.run(with_kind(Box::new(BooleanQuery::new(should))), limit)
}

/// One place an identifier occurs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub path: String,
    pub line: u32,
    /// The symbol path of the enclosing definition, empty at file level.
    pub in_symbol: String,
    pub kind: String,
    /// This is the name of the definition itself.
    pub definition: bool,
}

/// Where identifier `name` occurs (whole-identifier, case-sensitive), in
/// path and line order, at most `limit`; and whether more were found.
pub fn references(
    index: &RepoIndex,
    name: &str,
    path: Option<&str>,
    limit: usize,
) -> Result<(Vec<Occurrence>, bool), IndexError> {
    let mut clauses = vec![(Occur::Must, index.term(FieldName::Refs, name))];
    add_filters(index, &mut clauses, &[], path);
    let hits = index.run(Box::new(BooleanQuery::new(clauses)), MAX_REFERENCE_CHUNKS)?;
    let mut out = Vec::new();
    for hit in &hits {
        for (line, ident) in &hit.occurrences {
            if ident == name {
                out.push(Occurrence {
                    path: hit.path.clone(),
                    line: *line,
                    in_symbol: hit.symbol.clone(),
                    kind: hit.kind.clone(),
                    definition: hit.name == name && *line == hit.name_line,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    out.dedup_by(|a, b| a.path == b.path && a.line == b.line);
    let more = out.len() > limit;
    out.truncate(limit);
    Ok((out, more))
}

/// The definitions of one file (sections for Markdown), by line.
pub fn outline(index: &RepoIndex, path: &str) -> Result<Vec<Hit>, IndexError> {
    let query = index.term(FieldName::Path, path);
    let mut hits = index.run(query, 20_000)?;
    hits.retain(|h| !matches!(h.kind.as_str(), "code" | "text"));
    hits.sort_by_key(|h| (h.start_line, std::cmp::Reverse(h.end_line)));
    Ok(hits)
}

/// A definition or file that relates to the target, with how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub symbol: String,
    pub kind: String,
    pub path: String,
    pub line: u32,
    /// Occurrences that make the link.
    pub count: usize,
}

/// What the chunks in `targets` use that is defined elsewhere in the index
/// ("uses"), and which definitions use the names `targets` define
/// ("used by"); each list by count, at most `limit`.
pub fn related(
    index: &RepoIndex,
    targets: &[Hit],
    limit: usize,
) -> Result<(Vec<Relation>, Vec<Relation>), IndexError> {
    let own: std::collections::HashSet<(&str, u32)> = targets
        .iter()
        .map(|t| (t.path.as_str(), t.start_line))
        .collect();
    let own_names: std::collections::HashSet<&str> =
        targets.iter().map(|t| t.name.as_str()).collect();
    // Uses: identifiers of the targets that name a definition elsewhere.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for target in targets {
        for (_, ident) in &target.occurrences {
            if !own_names.contains(ident.as_str()) {
                *counts.entry(ident.as_str()).or_default() += 1;
            }
        }
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut uses = Vec::new();
    for (ident, count) in ranked.into_iter().take(400) {
        if uses.len() >= limit {
            break;
        }
        let defs = find_symbol(index, ident, true, None, &[], 3)?;
        let Some(def) = defs
            .into_iter()
            .find(|d| d.name == ident && !own.contains(&(d.path.as_str(), d.start_line)))
        else {
            continue;
        };
        uses.push(relation(&def, count));
    }
    // Used by: enclosing definitions of every reference to the targets' names.
    let mut by_symbol: BTreeMap<(String, String), (Relation, usize)> = BTreeMap::new();
    for name in own_names.iter().filter(|n| !n.is_empty()) {
        let (occurrences, _) = references(index, name, None, 5000)?;
        for occurrence in occurrences {
            if occurrence.definition {
                continue;
            }
            let key = (occurrence.path.clone(), occurrence.in_symbol.clone());
            let entry = by_symbol.entry(key).or_insert_with(|| {
                (
                    Relation {
                        symbol: occurrence.in_symbol.clone(),
                        kind: occurrence.kind.clone(),
                        path: occurrence.path.clone(),
                        line: occurrence.line,
                        count: 0,
                    },
                    0,
                )
            });
            entry.1 += 1;
        }
    }
    let mut used_by: Vec<Relation> = by_symbol
        .into_values()
        .map(|(mut r, n)| {
            r.count = n;
            r
        })
        .filter(|r| !own_names.contains(r.symbol.rsplit(['.', ':']).next().unwrap_or("")))
        .collect();
    used_by.sort_by(|a, b| b.count.cmp(&a.count).then(a.path.cmp(&b.path)));
    used_by.truncate(limit);
    Ok((uses, used_by))
}

fn relation(hit: &Hit, count: usize) -> Relation {
    Relation {
        symbol: hit.symbol.clone(),
        kind: hit.kind.clone(),
        path: hit.path.clone(),
        line: hit.start_line,
        count,
    }
}

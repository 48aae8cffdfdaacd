//! Duplicate leads: the same email (exact), the same name at the same
//! company or domain (exact), and similar names at the same domain
//! (fuzzy: Jaro–Winkler, or an initial matching a first name). Groups are
//! merged into their most complete record; the report says what merged
//! and why.

use schemars::JsonSchema;
use serde::Serialize;

use crate::lead::Lead;

/// One merge: `merged` (input positions) folded into `kept`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Merge {
    /// Input position of the record kept (the most complete one).
    pub kept: usize,
    /// Input positions folded into it.
    pub merged: Vec<usize>,
    /// Why, per merged record: `same email`, `same name and company`, `similar name (0.95) at acme.com`.
    pub reasons: Vec<String>,
}

/// Leads after merging, and what merged.
#[derive(Debug, Clone, Default)]
pub struct Deduped {
    pub leads: Vec<Lead>,
    pub merges: Vec<Merge>,
}

/// Options of [`dedupe`].
#[derive(Debug, Clone, Copy)]
pub struct DedupeOptions {
    /// Merge similar names at the same domain.
    pub fuzzy: bool,
    /// Jaro–Winkler similarity needed for a fuzzy match (0..1).
    pub threshold: f64,
}

impl Default for DedupeOptions {
    fn default() -> Self {
        Self {
            fuzzy: true,
            threshold: 0.92,
        }
    }
}

struct Key {
    emails: Vec<String>,
    name: Option<String>,
    company: Option<String>,
    domain: Option<String>,
}

fn key(lead: &Lead) -> Key {
    let fold = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let domain = lead.company_domain.clone().or_else(|| {
        lead.emails
            .iter()
            .filter_map(|e| e.rsplit_once('@').map(|(_, d)| d.to_lowercase()))
            .find(|d| !crate::enrich::is_free_mail(d))
    });
    Key {
        emails: lead.emails.iter().map(|e| e.to_lowercase()).collect(),
        name: lead.name.as_deref().map(fold).filter(|n| !n.is_empty()),
        company: lead.company.as_deref().map(fold).map(|c| strip_legal(&c)),
        domain,
    }
}

fn strip_legal(company: &str) -> String {
    let mut c = company.trim_end_matches('.').to_owned();
    for suffix in [
        ", inc", " inc", " llc", " ltd", " gmbh", " ag", " sa", " bv", " plc", " corp", " co",
    ] {
        if let Some(stripped) = c.strip_suffix(suffix) {
            c = stripped.trim_end_matches(',').to_owned();
        }
    }
    c
}

/// Why `a` and `b` are the same lead, if they are.
fn same(a: &Key, b: &Key, options: DedupeOptions) -> Option<String> {
    if a.emails.iter().any(|e| b.emails.contains(e)) {
        return Some("same email".to_owned());
    }
    let (Some(na), Some(nb)) = (&a.name, &b.name) else {
        return None;
    };
    let same_company = matches!((&a.company, &b.company), (Some(x), Some(y)) if x == y);
    let same_domain = matches!((&a.domain, &b.domain), (Some(x), Some(y)) if x == y);
    if na == nb && (same_company || same_domain) {
        return Some(if same_company {
            "same name and company".to_owned()
        } else {
            "same name and domain".to_owned()
        });
    }
    if options.fuzzy && (same_domain || same_company) {
        let score = strsim::jaro_winkler(na, nb);
        if score >= options.threshold {
            return Some(format!("similar name ({score:.2}) at the same company"));
        }
        if initial_match(na, nb) {
            return Some("initial matches first name at the same company".to_owned());
        }
    }
    None
}

/// `j. smith` vs `john smith`.
fn initial_match(a: &str, b: &str) -> bool {
    let split = |s: &str| {
        let mut words: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
        let last = words.pop();
        (words, last)
    };
    let ((fa, la), (fb, lb)) = (split(a), split(b));
    if la.is_none() || la != lb || fa.is_empty() || fb.is_empty() {
        return false;
    }
    let (x, y) = (fa[0].trim_end_matches('.'), fb[0].trim_end_matches('.'));
    (x.chars().count() == 1 && y.starts_with(x)) || (y.chars().count() == 1 && x.starts_with(y))
}

/// Merges duplicates in `leads`, keeping input order of the kept records.
pub fn dedupe(leads: Vec<Lead>, options: DedupeOptions) -> Deduped {
    let keys: Vec<Key> = leads.iter().map(key).collect();
    let n = leads.len();
    let mut parent: Vec<usize> = (0..n).collect();
    let mut reason: Vec<Option<String>> = vec![None; n];
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    // Candidate pairs share an email, a name, or a domain/company; this
    // keeps the pass near-linear on large lists.
    let mut buckets: std::collections::HashMap<String, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        for e in &k.emails {
            buckets.entry(format!("e:{e}")).or_default().push(i);
        }
        if let Some(d) = &k.domain {
            buckets.entry(format!("d:{d}")).or_default().push(i);
        }
        if let Some(c) = &k.company {
            buckets.entry(format!("c:{c}")).or_default().push(i);
        }
    }
    let mut bucket_list: Vec<Vec<usize>> = buckets.into_values().collect();
    bucket_list.sort();
    for members in bucket_list {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                if ri == rj {
                    continue;
                }
                if let Some(why) = same(&keys[i], &keys[j], options) {
                    let (root, child) = if ri < rj { (ri, rj) } else { (rj, ri) };
                    parent[child] = root;
                    reason[child] = Some(why);
                }
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> =
        std::collections::BTreeMap::new();
    for i in 0..n {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    let mut out = Deduped::default();
    for (_, members) in groups {
        let kept = *members
            .iter()
            .max_by_key(|i| (leads[**i].completeness(), std::cmp::Reverse(**i)))
            .unwrap_or(&members[0]);
        let mut lead = leads[kept].clone();
        let mut merged = Vec::new();
        let mut reasons = Vec::new();
        for &i in &members {
            if i == kept {
                continue;
            }
            lead.absorb(&leads[i]);
            merged.push(i);
            reasons.push(
                reason[i]
                    .clone()
                    .or_else(|| reason[kept].clone())
                    .unwrap_or_else(|| "same group".to_owned()),
            );
        }
        if !merged.is_empty() {
            out.merges.push(Merge {
                kept,
                merged,
                reasons,
            });
        }
        out.leads.push(lead);
    }
    out
}

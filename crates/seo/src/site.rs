//! Site-level findings, computed from a crawl: broken links, redirect
//! loops, duplicates, orphans, robots/sitemap conflicts, canonical chains
//! and hreflang reciprocity.

use std::collections::HashMap;

use url::Url;

use crate::{
    audit::same_page,
    crawl::Crawl,
    finding::{Finding, shorten},
    robots, text,
};

/// Near-duplicate threshold on the estimated Jaccard similarity.
pub const DUPLICATE_SIMILARITY: f64 = 0.9;
/// Pairs of near-duplicates reported at most.
const MAX_DUPLICATE_PAIRS: usize = 200;

/// Every site-level finding of `crawl`.
pub fn findings(crawl: &Crawl) -> Vec<Finding> {
    let mut out = Vec::new();
    broken_links(crawl, &mut out);
    redirect_chains(crawl, &mut out);
    duplicates(crawl, &mut out);
    sitemap_checks(crawl, &mut out);
    blocked_links(crawl, &mut out);
    canonical_chains(crawl, &mut out);
    hreflang_reciprocity(crawl, &mut out);
    out
}

fn referrers<'a>(crawl: &'a Crawl, url: &str) -> &'a [(String, String)] {
    crawl.linked_from.get(url).map_or(&[], Vec::as_slice)
}

fn broken_links(crawl: &Crawl, out: &mut Vec<Finding>) {
    for page in &crawl.pages {
        let Some(status) = page.status.filter(|s| *s >= 400) else {
            continue;
        };
        let target = page.requested.as_deref().unwrap_or(&page.url);
        for (from, tag) in referrers(crawl, target) {
            out.push(
                Finding::new(
                    "broken-link",
                    format!("links to {target}, which answers HTTP {status}"),
                    format!("Fix or remove the link, or redirect {target} (301) to a live page."),
                )
                .evidence(tag)
                .at(from.clone()),
            );
        }
    }
    for failure in &crawl.failures {
        let target = failure.url.as_str();
        if failure.redirect_loop {
            out.push(
                Finding::new(
                    "redirect-loop",
                    format!("{target} redirects in a loop or too many times"),
                    "Make the URL answer 200, or redirect it once to its final address.",
                )
                .evidence(&failure.reason)
                .at(target),
            );
        }
        for (from, tag) in referrers(crawl, target) {
            out.push(
                Finding::new(
                    "broken-link",
                    format!(
                        "links to {target}, which could not be fetched: {}",
                        shorten(&failure.reason, 160)
                    ),
                    "Fix or remove the link.",
                )
                .evidence(tag)
                .at(from.clone()),
            );
        }
    }
}

fn redirect_chains(crawl: &Crawl, out: &mut Vec<Finding>) {
    // A redirect whose final page was audited under it carries a page-level finding already.
    let audited_as = |r: &crate::crawl::Redirect| {
        crawl
            .pages
            .iter()
            .any(|p| p.requested.as_deref() == Some(r.from.as_str()))
    };
    for r in crawl
        .redirects
        .iter()
        .filter(|r| r.hops.len() >= 2 && !audited_as(r))
    {
        let chain: Vec<&str> = std::iter::once(r.from.as_str())
            .chain(r.hops.iter().map(Url::as_str))
            .collect();
        let last = chain.last().copied().unwrap_or_default();
        let mut f = Finding::new(
            "redirect-chain",
            format!(
                "{} redirects {} times before reaching {last}",
                r.from,
                r.hops.len()
            ),
            format!(
                "Redirect {} straight to {last}, and link to {last} directly.",
                r.from
            ),
        )
        .evidence(chain.join(" → "));
        f.url = Some(r.from.to_string());
        out.push(f);
    }
}

fn duplicates(crawl: &Crawl, out: &mut Vec<Finding>) {
    let mut pages: Vec<_> = crawl
        .pages
        .iter()
        .filter(|p| p.indexable && p.status.is_none_or(|s| s < 300))
        .collect();
    // Crawl order depends on timing; report in URL order.
    pages.sort_by(|a, b| a.url.cmp(&b.url));
    for (id, pick) in [
        (
            "duplicate-title",
            (|p: &crate::audit::PageReport| p.title.clone()) as fn(&_) -> Option<String>,
        ),
        ("duplicate-description", |p| p.description.clone()),
    ] {
        let mut groups: HashMap<String, Vec<&str>> = HashMap::new();
        for p in &pages {
            if let Some(v) = pick(p).filter(|v| !v.trim().is_empty()) {
                groups.entry(v).or_default().push(&p.url);
            }
        }
        let mut groups: Vec<_> = groups.into_iter().filter(|(_, u)| u.len() > 1).collect();
        groups.sort();
        let what = if id == "duplicate-title" {
            "title"
        } else {
            "meta description"
        };
        for (value, urls) in groups {
            for url in &urls {
                let others: Vec<&str> = urls.iter().copied().filter(|u| u != url).collect();
                out.push(
                    Finding::new(
                        id,
                        format!("same {what} as {}", others.join(", ")),
                        format!("Write a unique {what} for each page."),
                    )
                    .evidence(&value)
                    .at(*url),
                );
            }
        }
    }
    let mut pairs = 0;
    'outer: for (i, a) in pages.iter().enumerate() {
        if a.words < 50 {
            continue;
        }
        for b in &pages[i + 1..] {
            if b.words < 50 {
                continue;
            }
            let sim = text::similarity(&a.site.sketch, &b.site.sketch);
            if sim >= DUPLICATE_SIMILARITY {
                out.push(
                    Finding::new(
                        "duplicate-content",
                        format!("body text is {:.0}% similar to {}", sim * 100.0, b.url),
                        "Merge the pages, make their content distinct, or point a canonical from one to the other.",
                    )
                    .evidence(format!("{} ≈ {} (similarity {sim:.2})", a.url, b.url))
                    .at(a.url.clone()),
                );
                pairs += 1;
                if pairs >= MAX_DUPLICATE_PAIRS {
                    break 'outer;
                }
            }
        }
    }
}

fn sitemap_checks(crawl: &Crawl, out: &mut Vec<Finding>) {
    for e in &crawl.sitemap_errors {
        out.push(
            Finding::new(
                "sitemap-error",
                shorten(e, 200),
                "Fix the sitemap so it lists only valid, live, canonical URLs of this site.",
            )
            .evidence(e),
        );
    }
    let by_url: HashMap<&str, &crate::audit::PageReport> = crawl
        .pages
        .iter()
        .flat_map(|p| {
            let mut keys = vec![(p.url.as_str(), p)];
            if let Some(r) = &p.requested {
                keys.push((r.as_str(), p));
            }
            keys
        })
        .collect();
    for url in &crawl.sitemap_urls {
        let key = url.as_str();
        if let Some(txt) = &crawl.robots_txt {
            let verdict = robots::decide(txt, &crawl.options.user_agent, key);
            if !verdict.allowed {
                out.push(
                    Finding::new(
                        "sitemap-blocked",
                        "listed in the sitemap but disallowed by robots.txt",
                        "Remove the URL from the sitemap, or allow it in robots.txt.",
                    )
                    .evidence(format!(
                        "{} (robots.txt line {})",
                        verdict.rule.unwrap_or_default(),
                        verdict.line.unwrap_or(0)
                    ))
                    .at(key),
                );
                continue;
            }
        }
        if let Some(r) = crawl.redirects.iter().find(|r| r.from.as_str() == key) {
            let last = r.hops.last().map(Url::as_str).unwrap_or_default();
            out.push(
                Finding::new(
                    "sitemap-error",
                    format!("the sitemap lists {key}, which redirects to {last}"),
                    "List only final, indexable 200 URLs in the sitemap.",
                )
                .evidence(format!("<loc>{key}</loc>"))
                .at(key),
            );
            continue;
        }
        if crawl.failures.iter().any(|f| f.url.as_str() == key) {
            out.push(
                Finding::new(
                    "sitemap-error",
                    format!("the sitemap lists {key}, which could not be fetched"),
                    "List only live URLs in the sitemap.",
                )
                .evidence(format!("<loc>{key}</loc>"))
                .at(key),
            );
            continue;
        }
        let linked = !referrers(crawl, key).is_empty()
            || same_page(url, &crawl.options.start)
            || by_url
                .get(key)
                .is_some_and(|p| !referrers(crawl, &p.url).is_empty());
        if !linked && crawl.stop == crate::crawl::Stop::Complete {
            out.push(
                Finding::new(
                    "orphan-page",
                    "in the sitemap, but no crawled page links to it",
                    "Link to the page from a related page or a hub (menu, category, breadcrumb).",
                )
                .evidence(format!("sitemap: {key}"))
                .at(key),
            );
        }
        if let Some(page) = by_url.get(key) {
            let problem = match (page.status, page.redirects.is_empty(), page.indexable) {
                (Some(s), _, _) if s >= 300 => Some(format!("answers HTTP {s}")),
                (_, false, _) => Some(format!("redirects to {}", page.url)),
                (_, _, false) => Some("is noindex".to_owned()),
                _ => None,
            };
            if let Some(problem) = problem {
                out.push(
                    Finding::new(
                        "sitemap-error",
                        format!("the sitemap lists {key}, which {problem}"),
                        "List only final, indexable 200 URLs in the sitemap.",
                    )
                    .evidence(format!("<loc>{key}</loc>"))
                    .at(key),
                );
            }
        }
    }
}

/// Internal links to URLs the crawl's robots.txt rules disallow.
fn blocked_links(crawl: &Crawl, out: &mut Vec<Finding>) {
    for url in &crawl.blocked {
        for (from, tag) in referrers(crawl, url.as_str()) {
            out.push(
                Finding::new(
                    "blocked-by-robots",
                    format!(
                        "links to {url}, which robots.txt disallows for {}",
                        crawl.options.user_agent
                    ),
                    "Allow the URL in robots.txt if it should be indexed, or stop linking to it.",
                )
                .evidence(tag)
                .at(from.clone()),
            );
        }
    }
}

fn canonical_chains(crawl: &Crawl, out: &mut Vec<Finding>) {
    let canon: HashMap<&str, &Url> = crawl
        .pages
        .iter()
        .filter_map(|p| Some((p.url.as_str(), p.site.canonical.as_ref()?)))
        .collect();
    for page in &crawl.pages {
        let Some(first) = page.site.canonical.as_ref() else {
            continue;
        };
        let Ok(own) = Url::parse(&page.url) else {
            continue;
        };
        if same_page(first, &own) {
            continue;
        }
        if let Some(second) = canon.get(first.as_str()).filter(|s| !same_page(s, first)) {
            out.push(
                Finding::new(
                    "canonical-chain",
                    format!("canonical {first} itself canonicalises to {second}"),
                    format!("Point the canonical straight to {second}."),
                )
                .evidence(format!("{} → {first} → {second}", page.url))
                .at(page.url.clone()),
            );
        }
    }
}

fn hreflang_reciprocity(crawl: &Crawl, out: &mut Vec<Finding>) {
    let sets: HashMap<&str, &Vec<(String, Url)>> = crawl
        .pages
        .iter()
        .filter(|p| !p.site.hreflangs.is_empty())
        .map(|p| (p.url.as_str(), &p.site.hreflangs))
        .collect();
    for page in &crawl.pages {
        let Ok(own) = Url::parse(&page.url) else {
            continue;
        };
        for (lang, target) in &page.site.hreflangs {
            if same_page(target, &own) {
                continue;
            }
            let Some(page_b) = crawl.pages.iter().find(|p| p.url == target.as_str()) else {
                continue;
            };
            let links_back = sets
                .get(page_b.url.as_str())
                .is_some_and(|set| set.iter().any(|(_, u)| same_page(u, &own)));
            if !links_back {
                out.push(
                    Finding::new(
                        "hreflang-not-reciprocal",
                        format!("hreflang \"{lang}\" points to {target}, which does not link back"),
                        format!("Add <link rel=\"alternate\" hreflang=\"…\" href=\"{own}\"> to {target}."),
                    )
                    .evidence(format!("hreflang=\"{lang}\" href=\"{target}\""))
                    .at(page.url.clone()),
                );
            }
        }
    }
}

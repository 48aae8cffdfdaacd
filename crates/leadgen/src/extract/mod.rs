//! Leads from a page or a text: schema.org JSON-LD and microdata
//! ([`schema`]), hCard and team/about-page cards plus mailto/tel links
//! ([`html`]), and plain-text patterns ([`text`]). Every lead carries the
//! method that found it and an evidence snippet. Leads found twice on one
//! page (the same email, or the same name) are merged here.

mod html;
mod obfuscated;
mod schema;
mod text;

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use crate::lead::{Lead, LeadKind};

/// Deepest HTML nesting parsed (see `ffmcp_core::limits::html_depth`).
pub const MAX_DEPTH: usize = ffmcp_core::limits::MAX_HTML_DEPTH;
/// Evidence snippets are cut to this many characters.
pub const SNIPPET_CHARS: usize = 160;

/// What extraction found.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    pub leads: Vec<Lead>,
    pub warnings: Vec<String>,
}

/// Why nothing could be extracted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    #[error("the HTML nests elements about {depth} levels deep; the limit is {max}")]
    TooDeep { depth: usize, max: usize },
}

/// Leads in an HTML page; `base` resolves relative links and becomes each
/// lead's `source_url`.
pub fn extract_html(html: &str, base: Option<&Url>) -> Result<Extraction, ExtractError> {
    let depth = ffmcp_core::limits::html_depth(html);
    if depth > MAX_DEPTH {
        return Err(ExtractError::TooDeep {
            depth,
            max: MAX_DEPTH,
        });
    }
    let doc = scraper::Html::parse_document(html);
    let mut leads = schema::json_ld(&doc);
    leads.extend(schema::microdata(&doc));
    leads.extend(html::hcards(&doc));
    leads.extend(html::team_cards(&doc));
    leads.extend(html::links_and_text(&doc, &leads));
    Ok(finish(leads, base))
}

/// Leads in plain text (a signature, a list, a pasted page).
pub fn extract_text(input: &str, source: Option<&Url>) -> Extraction {
    finish(text::leads(input), source)
}

/// Resolves links against `base`, merges records of the same lead and drops
/// organisation records that say nothing (no name, email, phone or company:
/// a schema.org `Organization` holding only a logo is not a lead).
fn finish(leads: Vec<Lead>, base: Option<&Url>) -> Extraction {
    let mut merged: Vec<Lead> = Vec::with_capacity(leads.len());
    for mut lead in leads {
        if let Some(base) = base {
            lead.source_url.get_or_insert_with(|| base.to_string());
            lead.profiles = lead
                .profiles
                .iter()
                .map(|p| base.join(p).map_or_else(|_| p.clone(), |u| u.to_string()))
                .collect();
            if let Some(site) = &lead.website {
                lead.website = Some(
                    base.join(site)
                        .map_or_else(|_| site.clone(), |u| u.to_string()),
                );
            }
        }
        match merged.iter_mut().find(|m| same_on_page(m, &lead)) {
            Some(existing) => existing.absorb(&lead),
            None => merged.push(lead),
        }
    }
    merged.retain(|l| {
        l.kind != LeadKind::Organization
            || l.name.is_some()
            || l.company.is_some()
            || !l.emails.is_empty()
            || !l.phones.is_empty()
    });
    let mut warnings = Vec::new();
    if merged.is_empty() {
        warnings.push("no people, organisations or contact details found".to_owned());
    }
    Extraction {
        leads: merged,
        warnings,
    }
}

/// Two records on one page describe the same lead.
fn same_on_page(a: &Lead, b: &Lead) -> bool {
    if a.kind != b.kind {
        return false;
    }
    let shared_email = a
        .emails
        .iter()
        .any(|e| b.emails.iter().any(|f| f.eq_ignore_ascii_case(e)));
    let same_name = match (&a.name, &b.name) {
        (Some(x), Some(y)) => fold(x) == fold(y),
        _ => false,
    };
    let conflicting_names = matches!((&a.name, &b.name), (Some(x), Some(y)) if fold(x) != fold(y));
    same_name || (shared_email && !conflicting_names)
}

/// Lower-case, whitespace-collapsed.
pub(crate) fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Collapses whitespace and trims.
pub(crate) fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9][a-z0-9._%+'-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*\.[a-z]{2,24}\b")
        .expect("a valid pattern")
});

pub(crate) static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+|\b00|\()?\d[\d\s().\u{2011}/-]{5,20}\d(?:\s*(?:x|ext\.?)\s*\d{1,5})?")
        .expect("a valid pattern")
});

/// Emails in `text`, plain and obfuscated (see [`obfuscated`]).
pub(crate) fn emails_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for email in EMAIL
        .find_iter(text)
        .map(|m| m.as_str().to_owned())
        .chain(obfuscated::emails(text))
    {
        if !out.iter().any(|e| e.eq_ignore_ascii_case(&email)) {
            out.push(email);
        }
    }
    out
}

/// Phone-like runs in `text` with 7 to 15 digits.
pub(crate) fn phones_in(text: &str) -> Vec<String> {
    PHONE
        .find_iter(text)
        .map(|m| m.as_str().trim().to_owned())
        .filter(|p| {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            (7..=18).contains(&digits) && !looks_like_date(p)
        })
        .collect()
}

fn looks_like_date(s: &str) -> bool {
    static DATE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
            .expect("a valid pattern")
    });
    DATE.is_match(s.trim())
}

const TITLE_WORDS: &[&str] = &[
    "ceo",
    "cto",
    "cfo",
    "coo",
    "cmo",
    "cio",
    "ciso",
    "cro",
    "chief",
    "founder",
    "co-founder",
    "cofounder",
    "president",
    "vp",
    "vice",
    "director",
    "head",
    "manager",
    "lead",
    "engineer",
    "developer",
    "designer",
    "officer",
    "partner",
    "owner",
    "consultant",
    "analyst",
    "specialist",
    "coordinator",
    "representative",
    "executive",
    "architect",
    "scientist",
    "counsel",
    "accountant",
    "recruiter",
    "associate",
    "intern",
    "administrator",
    "advisor",
    "principal",
    "chair",
    "chairman",
    "chairwoman",
    "secretary",
    "treasurer",
    "editor",
    "researcher",
    "strategist",
    "marketer",
    "attorney",
    "controller",
    "evangelist",
    "sales",
    "marketing",
    "product",
    "operations",
    "support",
    "success",
    "account",
    "board",
    "member",
    "professor",
];

const NOT_NAME_WORDS: &[&str] = &[
    "team",
    "about",
    "contact",
    "our",
    "us",
    "the",
    "and",
    "sales",
    "support",
    "office",
    "inc",
    "llc",
    "ltd",
    "gmbh",
    "company",
    "services",
    "solutions",
    "group",
    "home",
    "news",
    "blog",
    "careers",
    "privacy",
    "policy",
    "terms",
    "email",
    "phone",
    "call",
    "meet",
    "leadership",
    "management",
    "board",
    "info",
    "read",
    "more",
    "learn",
    "view",
    "profile",
    "welcome",
    "get",
    "in",
    "touch",
    "follow",
    "linkedin",
    "twitter",
    "github",
    "department",
    "customer",
    "headquarters",
    "street",
    "avenue",
    "road",
    "suite",
    "copyright",
    "all",
    "rights",
];

/// Whether `s` reads like a person's name: 2–4 capitalised words.
pub(crate) fn looks_like_name(s: &str) -> bool {
    let s = s.trim();
    if s.len() > 60 || s.len() < 3 {
        return false;
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    if !(2..=5).contains(&words.len()) {
        return false;
    }
    let particles = [
        "van", "von", "de", "der", "den", "da", "di", "del", "la", "le", "du", "bin", "al",
    ];
    words.iter().all(|w| {
        let lower = w.trim_end_matches(',').to_lowercase();
        if NOT_NAME_WORDS.contains(&lower.as_str()) || TITLE_WORDS.contains(&lower.as_str()) {
            return false;
        }
        if particles.contains(&lower.as_str()) {
            return true;
        }
        let mut chars = w.chars();
        let first_upper = chars.next().is_some_and(char::is_uppercase);
        first_upper
            && w.chars()
                .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-' | '.'))
    })
}

/// Whether `s` reads like a job title.
pub(crate) fn looks_like_title(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() || s.len() > 90 || s.contains('@') {
        return false;
    }
    s.split(|c: char| !c.is_alphanumeric() && c != '-')
        .any(|w| TITLE_WORDS.contains(&w.to_lowercase().as_str()))
}

/// Whether `url` is a social profile worth keeping.
pub(crate) fn is_profile(url: &str) -> bool {
    const HOSTS: &[&str] = &[
        "linkedin.com/in/",
        "linkedin.com/company/",
        "twitter.com/",
        "x.com/",
        "github.com/",
        "facebook.com/",
        "instagram.com/",
        "xing.com/profile",
        "mastodon.",
        "bsky.app/profile/",
    ];
    let lower = url.to_ascii_lowercase();
    HOSTS.iter().any(|h| lower.contains(h))
}

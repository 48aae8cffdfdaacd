//! The lead record every tool takes and returns.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A person or an organisation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeadKind {
    #[default]
    Person,
    Organization,
}

/// Seniority derived from a job title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Seniority {
    Owner,
    CLevel,
    Vp,
    Director,
    Manager,
    Senior,
    Entry,
    Intern,
}

impl Seniority {
    pub fn name(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::CLevel => "c_level",
            Self::Vp => "vp",
            Self::Director => "director",
            Self::Manager => "manager",
            Self::Senior => "senior",
            Self::Entry => "entry",
            Self::Intern => "intern",
        }
    }
}

/// One lead. Every field but `kind` is optional so that partial records
/// from any source (a page, a CSV row, an agent) can flow through the tools.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Lead {
    /// `person` (default) or `organization`.
    pub kind: LeadKind,
    /// Full name (of the person, or of the organisation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Job title as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Derived from `title` by normalize_leads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seniority: Option<Seniority>,
    /// Business function derived from `title` (engineering, sales, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// The company's domain (`acme.com`), from its website or a work email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_domain: Option<String>,
    /// The company's website.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Industry, when known (used by score_leads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// Employee count, when known (used by score_leads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employees: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    /// E.164 after normalize_leads (`+14155550123`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    /// City, region or country as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Social profile URLs (LinkedIn, X/Twitter, GitHub, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// The page the lead was found on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// How it was found: json-ld, microdata, hcard, team-page, mailto, text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The text the lead was read from (shortened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

impl Lead {
    /// The lead's primary email, if any.
    pub fn email(&self) -> Option<&str> {
        self.emails.first().map(String::as_str)
    }

    /// A one-line label without contact details (safe for progress messages).
    pub fn label(&self) -> String {
        match (&self.name, &self.company) {
            (Some(n), Some(c)) => format!("{n} ({c})"),
            (Some(n), None) => n.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => "unnamed lead".to_owned(),
        }
    }

    /// Fills empty fields of `self` from `other` and unions the lists.
    pub fn absorb(&mut self, other: &Lead) {
        fn fill<T: Clone>(slot: &mut Option<T>, from: &Option<T>) {
            if slot.is_none() {
                slot.clone_from(from);
            }
        }
        fn union(list: &mut Vec<String>, from: &[String]) {
            for item in from {
                if !list.iter().any(|x| x.eq_ignore_ascii_case(item)) {
                    list.push(item.clone());
                }
            }
        }
        fill(&mut self.name, &other.name);
        fill(&mut self.first_name, &other.first_name);
        fill(&mut self.last_name, &other.last_name);
        fill(&mut self.title, &other.title);
        fill(&mut self.seniority, &other.seniority);
        fill(&mut self.function, &other.function);
        fill(&mut self.company, &other.company);
        fill(&mut self.company_domain, &other.company_domain);
        fill(&mut self.website, &other.website);
        fill(&mut self.industry, &other.industry);
        fill(&mut self.employees, &other.employees);
        fill(&mut self.location, &other.location);
        fill(&mut self.source_url, &other.source_url);
        fill(&mut self.method, &other.method);
        fill(&mut self.evidence, &other.evidence);
        union(&mut self.emails, &other.emails);
        union(&mut self.phones, &other.phones);
        union(&mut self.profiles, &other.profiles);
    }

    /// How many fields carry a value (to pick the richest record).
    pub fn completeness(&self) -> usize {
        [
            self.name.is_some(),
            self.title.is_some(),
            self.company.is_some(),
            self.company_domain.is_some(),
            self.location.is_some(),
            !self.emails.is_empty(),
            !self.phones.is_empty(),
            !self.profiles.is_empty(),
        ]
        .iter()
        .filter(|x| **x)
        .count()
    }
}

/// Shortens `text` to at most `max` characters on a char boundary, with `…`.
pub fn snippet(text: &str, max: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max {
        return collapsed;
    }
    let mut out: String = collapsed.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

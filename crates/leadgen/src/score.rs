//! Rule-based fit of a lead against a caller's ideal customer profile,
//! with a reason for every point given or withheld.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::lead::{Lead, Seniority};

/// The ideal customer profile. Empty lists do not count either way.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// Words or phrases a good title contains (`data`, `vp engineering`).
    pub titles: Vec<String>,
    /// Wanted seniorities: owner, c_level, vp, director, manager, senior, entry, intern.
    pub seniorities: Vec<Seniority>,
    /// Wanted functions: engineering, data, sales, marketing, product, design,
    /// finance, hr, operations, customer_success, legal, it, executive.
    pub functions: Vec<String>,
    /// Industries (matched against the lead's industry and company).
    pub industries: Vec<String>,
    /// Countries, regions or cities (matched against location, phone prefix `+49`, or domain TLD `.de`).
    pub geographies: Vec<String>,
    /// Smallest company size (employees) wanted.
    pub min_employees: Option<u64>,
    /// Largest company size (employees) wanted.
    pub max_employees: Option<u64>,
    /// Required: any of `email`, `phone`, `company`, `title`, `work_email`,
    /// `profile`; or `text:WORD` that must appear in the lead.
    pub must_have: Vec<String>,
    /// Disqualifying: `free_mail`, `role_email`, `disposable_email`, or
    /// `text:WORD`/`domain:acme.com`.
    pub must_not: Vec<String>,
}

/// A lead's score.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Score {
    /// 0..=100.
    pub score: u32,
    /// `A` (≥ 75), `B` (≥ 50), `C` (≥ 25), `D`, or `X` (disqualified).
    pub grade: String,
    pub disqualified: bool,
    /// `+30 title matches 'data'`, `-: no seniority match (wanted vp)`, `disqualified: ...`.
    pub reasons: Vec<String>,
}

const WEIGHTS: [(&str, u32); 6] = [
    ("title", 30),
    ("seniority", 20),
    ("function", 20),
    ("industry", 10),
    ("geography", 10),
    ("size", 10),
];

/// Scores `lead` against `profile`. Criteria the profile leaves empty are
/// not counted; the score is the share of counted points earned.
pub fn score(lead: &Lead, profile: &Profile) -> Score {
    let mut reasons = Vec::new();
    let (mut earned, mut possible) = (0u32, 0u32);
    let haystack = lead_text(lead);
    let mut criterion = |name: &str, applies: bool, hit: Option<String>, miss: String| {
        if !applies {
            return;
        }
        let weight = WEIGHTS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, w)| *w);
        possible += weight;
        match hit {
            Some(why) => {
                earned += weight;
                reasons.push(format!("+{weight} {why}"));
            }
            None => reasons.push(format!("+0 {miss}")),
        }
    };
    let title = lead.title.as_deref().unwrap_or_default().to_lowercase();
    criterion(
        "title",
        !profile.titles.is_empty(),
        profile
            .titles
            .iter()
            .find(|t| !t.trim().is_empty() && title.contains(&t.to_lowercase()))
            .map(|t| format!("title matches '{t}'")),
        format!(
            "title does not mention any of {}",
            profile.titles.join(", ")
        ),
    );
    criterion(
        "seniority",
        !profile.seniorities.is_empty(),
        lead.seniority
            .filter(|s| profile.seniorities.contains(s))
            .map(|s| format!("seniority is {}", s.name())),
        format!(
            "seniority is {} (wanted {})",
            lead.seniority.map_or("unknown", Seniority::name),
            profile
                .seniorities
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    criterion(
        "function",
        !profile.functions.is_empty(),
        lead.function
            .as_ref()
            .filter(|f| profile.functions.iter().any(|w| w.eq_ignore_ascii_case(f)))
            .map(|f| format!("function is {f}")),
        format!(
            "function is {} (wanted {})",
            lead.function.as_deref().unwrap_or("unknown"),
            profile.functions.join(", ")
        ),
    );
    let industry = format!(
        "{} {}",
        lead.industry.as_deref().unwrap_or_default(),
        lead.company.as_deref().unwrap_or_default()
    )
    .to_lowercase();
    criterion(
        "industry",
        !profile.industries.is_empty(),
        profile
            .industries
            .iter()
            .find(|i| !i.trim().is_empty() && industry.contains(&i.to_lowercase()))
            .map(|i| format!("industry matches '{i}'")),
        "industry unknown or not wanted".to_owned(),
    );
    criterion(
        "geography",
        !profile.geographies.is_empty(),
        profile
            .geographies
            .iter()
            .find(|g| geo_match(lead, g))
            .map(|g| format!("located in '{g}'")),
        format!(
            "location {} not wanted",
            lead.location.as_deref().unwrap_or("unknown")
        ),
    );
    let sized = profile.min_employees.is_some() || profile.max_employees.is_some();
    criterion(
        "size",
        sized,
        lead.employees
            .filter(|n| {
                profile.min_employees.is_none_or(|m| *n >= m)
                    && profile.max_employees.is_none_or(|m| *n <= m)
            })
            .map(|n| format!("{n} employees in range")),
        format!(
            "company size {} outside the range",
            lead.employees
                .map_or_else(|| "unknown".to_owned(), |n| n.to_string())
        ),
    );
    let mut disqualified = false;
    for need in &profile.must_have {
        if !has(lead, &haystack, need) {
            disqualified = true;
            reasons.push(format!("disqualified: must have {need}"));
        }
    }
    for not in &profile.must_not {
        if is(lead, &haystack, not) {
            disqualified = true;
            reasons.push(format!("disqualified: must not be {not}"));
        }
    }
    let score = if disqualified || possible == 0 {
        0
    } else {
        (earned * 100 + possible / 2) / possible
    };
    if possible == 0 && !disqualified {
        reasons.push("the profile sets no scoring criteria".to_owned());
    }
    let grade = match (disqualified, score) {
        (true, _) => "X",
        (_, 75..) => "A",
        (_, 50..) => "B",
        (_, 25..) => "C",
        _ => "D",
    };
    Score {
        score,
        grade: grade.to_owned(),
        disqualified,
        reasons,
    }
}

fn lead_text(lead: &Lead) -> String {
    serde_json::to_string(lead)
        .unwrap_or_default()
        .to_lowercase()
}

fn geo_match(lead: &Lead, geo: &str) -> bool {
    let g = geo.trim().to_lowercase();
    if g.is_empty() {
        return false;
    }
    if let Some(prefix) = g.strip_prefix('+') {
        return lead
            .phones
            .iter()
            .any(|p| p.starts_with(&format!("+{prefix}")));
    }
    if let Some(tld) = g.strip_prefix('.') {
        return lead
            .company_domain
            .as_deref()
            .is_some_and(|d| d.ends_with(&format!(".{tld}")));
    }
    lead.location
        .as_deref()
        .is_some_and(|l| l.to_lowercase().contains(&g))
}

fn has(lead: &Lead, text: &str, need: &str) -> bool {
    match need.trim().to_lowercase().as_str() {
        "email" => !lead.emails.is_empty(),
        "work_email" => lead.emails.iter().any(|e| {
            e.rsplit_once('@')
                .is_some_and(|(_, d)| !crate::enrich::is_free_mail(d))
        }),
        "phone" => !lead.phones.is_empty(),
        "company" => lead.company.is_some(),
        "title" => lead.title.is_some(),
        "profile" => !lead.profiles.is_empty(),
        other => other
            .strip_prefix("text:")
            .is_some_and(|w| text.contains(w.trim())),
    }
}

fn is(lead: &Lead, text: &str, not: &str) -> bool {
    let domains = || lead.emails.iter().filter_map(|e| e.rsplit_once('@'));
    match not.trim().to_lowercase().as_str() {
        "free_mail" => domains().any(|(_, d)| crate::enrich::is_free_mail(d)),
        "role_email" => domains().any(|(l, _)| crate::enrich::is_role(l)),
        "disposable_email" => domains().any(|(_, d)| crate::enrich::is_disposable(d)),
        other => {
            if let Some(domain) = other.strip_prefix("domain:") {
                let domain = domain.trim();
                lead.company_domain.as_deref() == Some(domain)
                    || domains().any(|(_, d)| d.eq_ignore_ascii_case(domain))
            } else {
                other
                    .strip_prefix("text:")
                    .is_some_and(|w| text.contains(w.trim()))
            }
        }
    }
}

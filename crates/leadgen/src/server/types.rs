//! Argument and result types of the lead tools (their doc comments are
//! the schemas an agent reads).

use ffmcp_core::Render;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    dedupe::Merge,
    enrich::{EmailCheck, SiteCheck},
    lead::Lead,
    score::{Profile, Score},
};

/// Arguments of `extract_leads`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractArgs {
    /// A public http(s) page to read (fetched through the SSRF-safe fetcher).
    #[serde(default)]
    pub url: Option<String>,
    /// HTML to read instead of a URL.
    #[serde(default)]
    pub html: Option<String>,
    /// Plain text to read (signatures, lists, pasted pages).
    #[serde(default)]
    pub text: Option<String>,
    /// The page's address, for relative links and `source_url` (with `html`/`text`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Normalise the leads found (default true).
    #[serde(default)]
    pub normalize: Option<bool>,
    /// Default country for phone numbers without `+` (ISO code, default US).
    #[serde(default)]
    pub region: Option<String>,
}

/// Result of `extract_leads`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Extracted {
    pub source: String,
    pub leads: Vec<Lead>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Render for Extracted {
    fn render(&self) -> String {
        let people = self
            .leads
            .iter()
            .filter(|l| l.kind == crate::LeadKind::Person)
            .count();
        format!(
            "{} leads ({people} people, {} organisations) from {}",
            self.leads.len(),
            self.leads.len() - people,
            self.source
        )
    }
}

/// Arguments of `normalize_leads`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NormalizeArgs {
    /// The leads to clean.
    pub leads: Vec<Lead>,
    /// Default country for phone numbers without `+` (ISO code, default US).
    #[serde(default)]
    pub region: Option<String>,
}

/// Values normalisation refused in one lead.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Rejection {
    /// Position of the lead in the input.
    pub index: usize,
    pub problems: Vec<String>,
}

/// Result of `normalize_leads`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Normalized {
    pub leads: Vec<Lead>,
    /// Emails and phones dropped as invalid, per lead.
    pub rejected: Vec<Rejection>,
}

impl Render for Normalized {
    fn render(&self) -> String {
        let dropped: usize = self.rejected.iter().map(|r| r.problems.len()).sum();
        format!(
            "{} leads normalised; {dropped} invalid values dropped",
            self.leads.len()
        )
    }
}

/// Arguments of `dedupe_leads`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DedupeArgs {
    pub leads: Vec<Lead>,
    /// Also merge similar names at the same company (default true).
    #[serde(default)]
    pub fuzzy: Option<bool>,
    /// Name similarity needed for a fuzzy merge, 0.8..=1 (default 0.92).
    #[serde(default)]
    pub threshold: Option<f64>,
}

/// Result of `dedupe_leads`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Deduped {
    pub leads: Vec<Lead>,
    pub merges: Vec<Merge>,
    pub input_count: usize,
}

impl Render for Deduped {
    fn render(&self) -> String {
        format!(
            "{} leads in, {} out; {} groups merged",
            self.input_count,
            self.leads.len(),
            self.merges.len()
        )
    }
}

/// Arguments of `enrich_leads`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrichArgs {
    pub leads: Vec<Lead>,
    /// Look up MX records of email domains (default true).
    #[serde(default)]
    pub check_mx: Option<bool>,
    /// Check that each lead's website answers (default false; fetches each site once).
    #[serde(default)]
    pub check_website: Option<bool>,
}

/// One enriched lead.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EnrichedLead {
    pub lead: Lead,
    pub emails: Vec<EmailCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<SiteCheck>,
}

/// Result of `enrich_leads`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Enriched {
    pub leads: Vec<EnrichedLead>,
}

impl Render for Enriched {
    fn render(&self) -> String {
        let checks: Vec<&EmailCheck> = self.leads.iter().flat_map(|l| &l.emails).collect();
        let ok = checks.iter().filter(|c| c.deliverable_domain).count();
        format!(
            "{} leads; {ok} of {} emails on domains that accept mail",
            self.leads.len(),
            checks.len()
        )
    }
}

/// Arguments of `score_leads`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreArgs {
    pub leads: Vec<Lead>,
    /// The ideal customer profile.
    pub profile: Profile,
}

/// One scored lead.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScoredLead {
    pub lead: Lead,
    #[serde(flatten)]
    pub score: Score,
}

/// Result of `score_leads`, best first.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Scored {
    pub leads: Vec<ScoredLead>,
}

impl Render for Scored {
    fn render(&self) -> String {
        let grade = |g: &str| self.leads.iter().filter(|l| l.score.grade == g).count();
        format!(
            "{} leads scored: {} A, {} B, {} C, {} D, {} disqualified",
            self.leads.len(),
            grade("A"),
            grade("B"),
            grade("C"),
            grade("D"),
            grade("X")
        )
    }
}

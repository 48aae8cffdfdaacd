//! Plain-text patterns: `Name, Title (at Company)` lines followed by the
//! person's email and phone, and addresses nobody claimed.

use std::sync::LazyLock;

use regex::Regex;

use super::{SNIPPET_CHARS, clean, emails_in, looks_like_name, looks_like_title, phones_in};
use crate::lead::{Lead, LeadKind, snippet};

/// `Jane Doe, VP Sales at Acme` / `Jane Doe – CTO` / `Jane Doe (Head of Data)`.
static NAME_TITLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:[-*•]\s*)?([^,|–—(:]{3,60}?)\s*(?:,|\||–|—| - |\(|:)\s*([^)|,(@]{2,90})")
        .expect("a valid pattern")
});

/// Leads in `input`, in order.
pub(super) fn leads(input: &str) -> Vec<Lead> {
    let mut leads: Vec<Lead> = Vec::new();
    let mut current: Option<usize> = None;
    let mut blank_run = 0;
    for line in input.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            blank_run += 1;
            if blank_run >= 2 {
                current = None;
            }
            continue;
        }
        blank_run = 0;
        if let Some(lead) = person_line(trimmed) {
            leads.push(lead);
            current = Some(leads.len() - 1);
            continue;
        } else if looks_like_name(trimmed) {
            leads.push(Lead {
                kind: LeadKind::Person,
                name: Some(clean(trimmed)),
                method: Some("text".into()),
                evidence: Some(snippet(trimmed, SNIPPET_CHARS)),
                ..Lead::default()
            });
            current = Some(leads.len() - 1);
            continue;
        } else if let Some(i) = current
            && leads[i].title.is_none()
            && looks_like_title(trimmed)
            && emails_in(trimmed).is_empty()
        {
            leads[i].title = Some(clean(trimmed));
            continue;
        }
        let emails = emails_in(trimmed);
        let phones = phones_in(&EMAILS_REMOVED.replace_all(trimmed, " "));
        if emails.is_empty() && phones.is_empty() {
            continue;
        }
        match current {
            Some(i) if leads[i].emails.is_empty() || emails.is_empty() => {
                let lead = &mut leads[i];
                lead.emails.extend(emails);
                lead.phones.extend(phones);
                let evidence = lead.evidence.take().unwrap_or_default();
                lead.evidence = Some(snippet(&format!("{evidence} {trimmed}"), SNIPPET_CHARS));
            }
            _ => {
                for email in emails {
                    leads.push(Lead {
                        kind: LeadKind::Organization,
                        emails: vec![email],
                        phones: phones.clone(),
                        method: Some("text".into()),
                        evidence: Some(snippet(trimmed, SNIPPET_CHARS)),
                        ..Lead::default()
                    });
                }
                current = None;
            }
        }
    }
    // A bare name with nothing attached is not a lead.
    leads.retain(|l| l.title.is_some() || !l.emails.is_empty() || !l.phones.is_empty());
    leads
}

static EMAILS_REMOVED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\S+@\S+").expect("a valid pattern"));

fn person_line(line: &str) -> Option<Lead> {
    let caps = NAME_TITLE.captures(line)?;
    let name = clean(&caps[1]);
    let title = clean(&caps[2]);
    if !looks_like_name(&name) || !looks_like_title(&title) {
        return None;
    }
    let (title, company) = match title.split_once(" at ") {
        Some((t, c)) => (
            t.trim().to_owned(),
            Some(c.trim().trim_end_matches('.').to_owned()),
        ),
        None => (title, None),
    };
    let rest = &line[caps.get(2).map_or(0, |m| m.end())..];
    Some(Lead {
        kind: LeadKind::Person,
        name: Some(name),
        title: Some(title),
        company: company.filter(|c| !c.contains('@')),
        emails: emails_in(rest),
        phones: phones_in(&EMAILS_REMOVED.replace_all(rest, " ")),
        method: Some("text".into()),
        evidence: Some(snippet(line, SNIPPET_CHARS)),
        ..Lead::default()
    })
}

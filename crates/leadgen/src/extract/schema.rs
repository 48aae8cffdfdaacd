//! schema.org Person, Organization and ContactPoint, from JSON-LD scripts
//! and from microdata (`itemscope` / `itemprop`).

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

use super::{SNIPPET_CHARS, clean, is_profile};
use crate::lead::{Lead, LeadKind, snippet};

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

/// Leads from every `application/ld+json` script.
pub(super) fn json_ld(doc: &Html) -> Vec<Lead> {
    let scripts = selector(r#"script[type="application/ld+json"]"#);
    let mut leads = Vec::new();
    for script in doc.select(&scripts) {
        let raw: String = script.text().collect();
        let Ok(value) = serde_json::from_str::<Value>(raw.trim()) else {
            continue;
        };
        walk(&value, None, &mut leads, 0);
    }
    leads
}

fn types(value: &Value) -> Vec<String> {
    match value.get("@type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

const ORG_TYPES: &[&str] = &[
    "Organization",
    "Corporation",
    "LocalBusiness",
    "NGO",
    "EducationalOrganization",
    "GovernmentOrganization",
    "ProfessionalService",
    "Store",
];

fn walk(value: &Value, org: Option<&str>, out: &mut Vec<Lead>, depth: usize) {
    if depth > 32 {
        return;
    }
    match value {
        Value::Array(items) => items.iter().for_each(|v| walk(v, org, out, depth + 1)),
        Value::Object(map) => {
            let kinds = types(value);
            let is_person = kinds.iter().any(|t| t == "Person");
            let is_org = kinds.iter().any(|t| ORG_TYPES.contains(&t.as_str()));
            let mut next_org = org.map(str::to_owned);
            if is_person {
                out.push(person(value, org));
            } else if is_org {
                let lead = organization(value);
                next_org.clone_from(&lead.name);
                out.push(lead);
            }
            for (key, child) in map {
                if key == "@context" || (is_person && key == "worksFor") {
                    continue;
                }
                walk(child, next_org.as_deref(), out, depth + 1);
            }
        }
        _ => {}
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) => Some(clean(s)).filter(|s| !s.is_empty()),
        Value::Array(items) => items.iter().find_map(|v| v.as_str().map(clean)),
        Value::Object(_) => text(value.get(key)?, "name"),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    match value.get(key) {
        Some(Value::String(s)) => vec![clean(s)],
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(clean)).collect(),
        _ => Vec::new(),
    }
}

fn location(value: &Value) -> Option<String> {
    let address = value.get("address").or_else(|| value.get("homeLocation"))?;
    if let Some(s) = address.as_str() {
        return Some(clean(s));
    }
    let parts: Vec<String> = ["addressLocality", "addressRegion", "addressCountry"]
        .iter()
        .filter_map(|k| text(address, k))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn strip_scheme(s: String, scheme: &str) -> String {
    s.strip_prefix(scheme).map(str::to_owned).unwrap_or(s)
}

fn person(value: &Value, org: Option<&str>) -> Lead {
    let given = text(value, "givenName");
    let family = text(value, "familyName");
    let name = text(value, "name").or_else(|| match (&given, &family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        _ => None,
    });
    let works_for = value.get("worksFor");
    let company = works_for
        .and_then(|w| match w {
            Value::String(s) => Some(clean(s)),
            other => text(other, "name"),
        })
        .or_else(|| org.map(str::to_owned));
    let mut lead = Lead {
        kind: LeadKind::Person,
        name,
        first_name: given,
        last_name: family,
        title: text(value, "jobTitle"),
        company,
        website: works_for.and_then(|w| text(w, "url")),
        emails: strings(value, "email")
            .into_iter()
            .map(|e| strip_scheme(e, "mailto:"))
            .collect(),
        phones: strings(value, "telephone")
            .into_iter()
            .map(|t| strip_scheme(t, "tel:"))
            .collect(),
        location: location(value),
        profiles: strings(value, "sameAs")
            .into_iter()
            .filter(|u| is_profile(u))
            .collect(),
        method: Some("json-ld".into()),
        ..Lead::default()
    };
    lead.evidence = Some(snippet(&value.to_string(), SNIPPET_CHARS));
    lead
}

fn organization(value: &Value) -> Lead {
    let mut lead = Lead {
        kind: LeadKind::Organization,
        name: text(value, "name").or_else(|| text(value, "legalName")),
        website: text(value, "url"),
        emails: strings(value, "email")
            .into_iter()
            .map(|e| strip_scheme(e, "mailto:"))
            .collect(),
        phones: strings(value, "telephone")
            .into_iter()
            .map(|t| strip_scheme(t, "tel:"))
            .collect(),
        location: location(value),
        industry: text(value, "industry"),
        employees: value.get("numberOfEmployees").and_then(|n| {
            n.as_u64()
                .or_else(|| n.get("value").and_then(Value::as_u64))
        }),
        profiles: strings(value, "sameAs")
            .into_iter()
            .filter(|u| is_profile(u))
            .collect(),
        method: Some("json-ld".into()),
        evidence: Some(snippet(&value.to_string(), SNIPPET_CHARS)),
        ..Lead::default()
    };
    lead.company.clone_from(&lead.name);
    let points = match value.get("contactPoint") {
        Some(Value::Array(points)) => points.clone(),
        Some(point @ Value::Object(_)) => vec![point.clone()],
        _ => Vec::new(),
    };
    for point in points {
        for email in strings(&point, "email") {
            lead.emails.push(strip_scheme(email, "mailto:"));
        }
        for phone in strings(&point, "telephone") {
            lead.phones.push(strip_scheme(phone, "tel:"));
        }
    }
    lead
}

/// Leads from microdata items typed schema.org Person or Organization.
pub(super) fn microdata(doc: &Html) -> Vec<Lead> {
    let items = selector("[itemscope][itemtype]");
    let mut leads = Vec::new();
    for item in doc.select(&items) {
        let itemtype = item.value().attr("itemtype").unwrap_or_default();
        let kind = if itemtype.ends_with("/Person") {
            LeadKind::Person
        } else if ORG_TYPES
            .iter()
            .any(|t| itemtype.ends_with(&format!("/{t}")))
        {
            LeadKind::Organization
        } else {
            continue;
        };
        // A Person nested in an Organization item is its own lead, and an
        // organisation nested in a Person (worksFor) names the company.
        let props = properties(item);
        let get = |name: &str| {
            props
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let all = |name: &str| -> Vec<String> {
            props
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let mut lead = Lead {
            kind,
            name: get("name"),
            first_name: get("givenName"),
            last_name: get("familyName"),
            title: get("jobTitle"),
            company: get("worksFor"),
            emails: all("email")
                .into_iter()
                .map(|e| strip_scheme(e, "mailto:"))
                .collect(),
            phones: all("telephone")
                .into_iter()
                .map(|t| strip_scheme(t, "tel:"))
                .collect(),
            location: get("addressLocality").or_else(|| get("address")),
            profiles: all("sameAs")
                .into_iter()
                .filter(|u| is_profile(u))
                .collect(),
            website: get("url").filter(|u| !is_profile(u)),
            method: Some("microdata".into()),
            evidence: Some(snippet(&item.text().collect::<String>(), SNIPPET_CHARS)),
            ..Lead::default()
        };
        if lead.name.is_none()
            && let (Some(g), Some(f)) = (&lead.first_name, &lead.last_name)
        {
            lead.name = Some(format!("{g} {f}"));
        }
        if kind == LeadKind::Organization {
            lead.company.clone_from(&lead.name);
        } else if lead.company.is_none() {
            lead.company = enclosing_org(item);
        }
        if lead.name.is_some() || !lead.emails.is_empty() {
            leads.push(lead);
        }
    }
    leads
}

/// `(itemprop, value)` of `item`'s own properties (not those of nested
/// items, except a nested item's `name` for the property that holds it).
fn properties(item: ElementRef<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack: Vec<ElementRef<'_>> = item.child_elements().collect();
    stack.reverse();
    while let Some(el) = stack.pop() {
        let value = el.value();
        let nested = value.attr("itemscope").is_some();
        if let Some(props) = value.attr("itemprop") {
            let v = if nested {
                nested_name(el)
            } else {
                prop_value(el)
            };
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                for prop in props.split_whitespace() {
                    out.push((prop.to_owned(), v.clone()));
                }
            }
        }
        if nested {
            // address items contribute their locality to the parent.
            if value
                .attr("itemprop")
                .is_some_and(|p| p.contains("address"))
            {
                out.extend(
                    properties(el)
                        .into_iter()
                        .filter(|(k, _)| k == "addressLocality"),
                );
            }
            continue;
        }
        let mut children: Vec<ElementRef<'_>> = el.child_elements().collect();
        children.reverse();
        stack.extend(children);
    }
    out
}

fn nested_name(el: ElementRef<'_>) -> Option<String> {
    properties(el)
        .into_iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v)
}

fn prop_value(el: ElementRef<'_>) -> Option<String> {
    let v = el.value();
    let attr = match v.name() {
        "a" | "link" | "area" => v.attr("href"),
        "img" | "audio" | "video" | "source" => v.attr("src"),
        "meta" => v.attr("content"),
        "time" => v.attr("datetime"),
        _ => v.attr("content"),
    };
    match attr {
        Some(a) if !(v.name() == "a" && a.starts_with('#')) => Some(clean(a)),
        _ => Some(clean(&el.text().collect::<String>())),
    }
}

fn enclosing_org(item: ElementRef<'_>) -> Option<String> {
    item.ancestors().filter_map(ElementRef::wrap).find_map(|a| {
        let t = a.value().attr("itemtype")?;
        ORG_TYPES
            .iter()
            .any(|o| t.ends_with(&format!("/{o}")))
            .then(|| nested_name(a))
            .flatten()
    })
}

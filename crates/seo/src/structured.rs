//! Structured data: JSON-LD blocks and microdata items, flattened into
//! schema.org items and checked for the properties Google's rich results
//! need for common types (Article, Product, Organization, BreadcrumbList,
//! FAQPage).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::finding::{Finding, shorten};

/// One schema.org item found on a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Item {
    /// `json-ld` or `microdata`.
    pub syntax: String,
    /// The `@type` / `itemtype` values, without the schema.org prefix.
    pub types: Vec<String>,
    /// Property names present.
    pub properties: Vec<String>,
    /// Required properties absent for the item's type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// The item as JSON (JSON-LD only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// Items and problems found in `json_ld` bodies and `microdata` items.
pub fn analyse(
    json_ld: &[String],
    microdata: &[(String, Vec<String>)],
) -> (Vec<Item>, Vec<Finding>) {
    let mut items = Vec::new();
    let mut findings = Vec::new();
    for (n, block) in json_ld.iter().enumerate() {
        match serde_json::from_str::<Value>(block.trim()) {
            Ok(value) => collect(&value, &mut items, 0),
            Err(e) => findings.push(
                Finding::new(
                    "structured-data-invalid",
                    format!("JSON-LD block {} does not parse: {e}", n + 1),
                    "Fix the JSON syntax (validate it with a JSON linter or Google's Rich Results Test).",
                )
                .evidence(shorten(block, 200)),
            ),
        }
    }
    for (itemtype, props) in microdata {
        let kind = strip_vocab(itemtype);
        let missing = missing_for(std::slice::from_ref(&kind), |p| {
            props.iter().any(|x| x == p)
        });
        items.push(Item {
            syntax: "microdata".into(),
            types: vec![kind],
            properties: props.clone(),
            missing,
            data: None,
        });
    }
    for item in &items {
        if !item.missing.is_empty() {
            findings.push(
                Finding::new(
                    "structured-data-incomplete",
                    format!(
                        "{} item ({}) lacks required properties: {}",
                        item.types.join("/"),
                        item.syntax,
                        item.missing.join(", ")
                    ),
                    format!(
                        "Add {} to the {} item.",
                        item.missing.join(", "),
                        item.types.join("/")
                    ),
                )
                .evidence(match &item.data {
                    Some(d) => shorten(&d.to_string(), 200),
                    None => format!("itemtype={}", item.types.join(" ")),
                }),
            );
        }
    }
    (items, findings)
}

/// Walks arrays, `@graph` and nested typed values (e.g. FAQ questions are
/// checked through their page item, not as items of their own).
fn collect(value: &Value, items: &mut Vec<Item>, depth: usize) {
    if depth > 8 {
        return;
    }
    match value {
        Value::Array(list) => list.iter().for_each(|v| collect(v, items, depth + 1)),
        Value::Object(map) => {
            if let Some(graph) = map.get("@graph") {
                collect(graph, items, depth + 1);
            }
            let types: Vec<String> = match map.get("@type") {
                Some(Value::String(t)) => vec![strip_vocab(t)],
                Some(Value::Array(ts)) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .map(strip_vocab)
                    .collect(),
                _ => return,
            };
            let missing = missing_for(&types, |p| present(map.get(p)));
            let mut missing = missing;
            missing.extend(nested_problems(&types, map));
            items.push(Item {
                syntax: "json-ld".into(),
                types,
                properties: map
                    .keys()
                    .filter(|k| !k.starts_with('@'))
                    .cloned()
                    .collect(),
                missing,
                data: Some(value.clone()),
            });
        }
        _ => {}
    }
}

fn strip_vocab(t: &str) -> String {
    let t = t.trim();
    t.rsplit('/').next().unwrap_or(t).to_owned()
}

fn present(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

/// Required properties of `types` that `has` says are absent. Groups in
/// `a|b` form need any one of their members.
fn missing_for(types: &[String], has: impl Fn(&str) -> bool) -> Vec<String> {
    let mut missing = Vec::new();
    for t in types {
        let required: &[&str] = match t.as_str() {
            "Article" | "NewsArticle" | "BlogPosting" => {
                &["headline", "image", "datePublished", "author"]
            }
            "Product" => &["name", "offers|review|aggregateRating"],
            "Organization" | "Corporation" | "LocalBusiness" => &["name", "url"],
            "BreadcrumbList" => &["itemListElement"],
            "FAQPage" => &["mainEntity"],
            _ => &[],
        };
        for group in required {
            if !group.split('|').any(&has) {
                missing.push(group.replace('|', " or "));
            }
        }
    }
    missing
}

/// Checks inside lists: breadcrumb entries need position and name; FAQ
/// questions need name and acceptedAnswer.text.
fn nested_problems(types: &[String], map: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let as_list = |v: Option<&Value>| -> Vec<Value> {
        match v {
            Some(Value::Array(a)) => a.clone(),
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => Vec::new(),
        }
    };
    if types.iter().any(|t| t == "BreadcrumbList") {
        for (i, entry) in as_list(map.get("itemListElement")).iter().enumerate() {
            for prop in ["position", "name"] {
                let has = present(entry.get(prop))
                    || (prop == "name" && present(entry.get("item").and_then(|i| i.get("name"))));
                if !has {
                    out.push(format!("itemListElement[{i}].{prop}"));
                }
            }
        }
    }
    if types.iter().any(|t| t == "FAQPage") {
        for (i, q) in as_list(map.get("mainEntity")).iter().enumerate() {
            if !present(q.get("name")) {
                out.push(format!("mainEntity[{i}].name"));
            }
            if !present(q.get("acceptedAnswer").and_then(|a| a.get("text"))) {
                out.push(format!("mainEntity[{i}].acceptedAnswer.text"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_properties_by_type() {
        let blocks = vec![
            r#"{"@context":"https://schema.org","@graph":[
                {"@type":"Organization","name":"Acme","url":"https://acme.test/"},
                {"@type":"Product","name":"Widget"},
                {"@type":"BreadcrumbList","itemListElement":[{"@type":"ListItem","position":1,"name":"Home"},{"@type":"ListItem","name":"Shop"}]},
                {"@type":"FAQPage","mainEntity":[{"@type":"Question","name":"Why?","acceptedAnswer":{"@type":"Answer","text":"Because."}},{"@type":"Question","name":"How?"}]}
            ]}"#
            .to_owned(),
            "{not json".to_owned(),
        ];
        let micro = vec![(
            "https://schema.org/Article".to_owned(),
            vec!["headline".to_owned()],
        )];
        let (items, findings) = analyse(&blocks, &micro);
        let missing = |t: &str| {
            items
                .iter()
                .find(|i| i.types[0] == t)
                .map(|i| i.missing.clone())
                .expect(t)
        };
        assert!(missing("Organization").is_empty());
        assert_eq!(
            missing("Product"),
            vec!["offers or review or aggregateRating"]
        );
        assert_eq!(
            missing("BreadcrumbList"),
            vec!["itemListElement[1].position"]
        );
        assert_eq!(
            missing("FAQPage"),
            vec!["mainEntity[1].acceptedAnswer.text"]
        );
        assert_eq!(missing("Article"), vec!["image", "datePublished", "author"]);
        let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids.iter()
                .filter(|i| **i == "structured-data-invalid")
                .count(),
            1
        );
        assert_eq!(
            ids.iter()
                .filter(|i| **i == "structured-data-incomplete")
                .count(),
            4
        );
    }
}

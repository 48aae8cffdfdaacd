//! Fixture pages with known leads: precision and recall per page and overall.

use ffmcp_leadgen::{
    Lead, LeadKind,
    extract::{extract_html, extract_text},
};

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).expect("fixture")
}

/// A lead's identity for matching: its name, else its first email.
fn key(lead: &Lead) -> String {
    lead.name
        .clone()
        .or_else(|| lead.emails.first().cloned())
        .unwrap_or_default()
        .to_lowercase()
}

/// Known leads per fixture.
const CASES: &[(&str, &[&str])] = &[
    (
        "jsonld.html",
        &[
            "acme robotics",
            "dana whitfield",
            "ravi menon",
            "press@acme-robotics.com",
        ],
    ),
    (
        "team.html",
        &[
            "sofia marquez",
            "thomas o'brien",
            "mei-ling chen",
            "jonas van der berg",
            "hello@brightline.io",
        ],
    ),
    (
        "microformats.html",
        &[
            "nordwind logistik gmbh",
            "katrin vogel",
            "peter hansen",
            "lena schmidt",
        ],
    ),
    (
        "startbootstrap-agency.html",
        &["parveen anand", "diana petersen", "larry parker"],
    ),
    (
        "team-contacts.html",
        &["maria gonzalez", "henrik larsson", "amara okafor"],
    ),
    (
        "signature.txt",
        &[
            "maria gonzalez",
            "alex kim",
            "priya natarajan",
            "billing@fabrikam.com",
        ],
    ),
];

fn run(name: &str) -> Vec<Lead> {
    let base = url::Url::parse("https://example.com/team").expect("url");
    let body = fixture(name);
    if name.ends_with(".txt") {
        extract_text(&body, Some(&base)).leads
    } else {
        extract_html(&body, Some(&base)).expect("extracts").leads
    }
}

#[test]
fn fixture_pages_meet_precision_and_recall() {
    let (mut tp, mut found_total, mut expected_total) = (0usize, 0usize, 0usize);
    for (name, expected) in CASES {
        let leads = run(name);
        let keys: Vec<String> = leads.iter().map(key).collect();
        let hits = expected
            .iter()
            .filter(|e| keys.contains(&e.to_string()))
            .count();
        let precision = hits as f64 / keys.len().max(1) as f64;
        let recall = hits as f64 / expected.len() as f64;
        assert!(
            recall >= 0.99 && precision >= 0.79,
            "{name}: precision {precision:.2} recall {recall:.2}; found {keys:?}"
        );
        tp += hits;
        found_total += keys.len();
        expected_total += expected.len();
    }
    let precision = tp as f64 / found_total as f64;
    let recall = tp as f64 / expected_total as f64;
    assert!(precision >= 0.9, "overall precision {precision:.2}");
    assert!(recall >= 0.95, "overall recall {recall:.2}");
}

#[test]
fn fields_and_evidence_are_read() {
    let leads = run("jsonld.html");
    let dana = leads
        .iter()
        .find(|l| l.name.as_deref() == Some("Dana Whitfield"))
        .expect("dana");
    assert_eq!(dana.title.as_deref(), Some("Chief Executive Officer"));
    assert_eq!(dana.company.as_deref(), Some("Acme Robotics"));
    assert_eq!(dana.emails, ["dana@acme-robotics.com"]);
    assert_eq!(dana.location.as_deref(), Some("San Francisco, US"));
    assert_eq!(dana.profiles, ["https://www.linkedin.com/in/danawhitfield"]);
    assert_eq!(dana.method.as_deref(), Some("json-ld"));
    assert_eq!(dana.source_url.as_deref(), Some("https://example.com/team"));
    assert!(
        dana.evidence
            .as_deref()
            .is_some_and(|e| e.contains("Dana Whitfield"))
    );
    let acme = leads
        .iter()
        .find(|l| l.kind == LeadKind::Organization && l.name.is_some())
        .expect("org");
    assert_eq!(acme.employees, Some(120));
    assert!(
        acme.emails.contains(&"sales@acme-robotics.com".to_owned()),
        "{acme:?}"
    );
    assert!(acme.phones.contains(&"+1-415-555-0100".to_owned()));

    let team = run("team.html");
    let tom = team
        .iter()
        .find(|l| l.name.as_deref() == Some("Thomas O'Brien"))
        .expect("tom");
    assert_eq!(tom.title.as_deref(), Some("Head of Data Science"));
    assert_eq!(tom.emails, ["tom.obrien@brightline.io"]);
    assert_eq!(tom.method.as_deref(), Some("team-page"));
    let mei = team
        .iter()
        .find(|l| l.name.as_deref() == Some("Mei-Ling Chen"))
        .expect("mei");
    assert_eq!(mei.phones, ["+442079460958"]);
    assert_eq!(mei.profiles, ["https://github.com/meilingc"]);

    let text = run("signature.txt");
    let maria = text
        .iter()
        .find(|l| l.name.as_deref() == Some("Maria Gonzalez"))
        .expect("maria");
    assert_eq!(maria.title.as_deref(), Some("Director of Procurement"));
    assert_eq!(maria.company.as_deref(), Some("Fabrikam Inc"));
    assert_eq!(maria.emails, ["maria.gonzalez@fabrikam.com"]);
    assert_eq!(maria.phones, ["+1 (212) 555-0187"]);
    let priya = text
        .iter()
        .find(|l| l.name.as_deref() == Some("Priya Natarajan"))
        .expect("priya");
    assert_eq!(
        priya.emails,
        ["priya@fabrikam.com"],
        "obfuscated address decoded"
    );
}

/// A real one-page site (npm `startbootstrap-agency` 7.0.12): the three
/// team cards become people with their titles, and nothing else on the page
/// (services, portfolio, timeline, the contact form) becomes a lead.
#[test]
fn real_team_page_yields_its_people_and_nothing_else() {
    let leads = run("startbootstrap-agency.html");
    let people: Vec<(Option<&str>, Option<&str>)> = leads
        .iter()
        .map(|l| (l.name.as_deref(), l.title.as_deref()))
        .collect();
    assert_eq!(
        people,
        [
            (Some("Parveen Anand"), Some("Lead Designer")),
            (Some("Diana Petersen"), Some("Lead Marketer")),
            (Some("Larry Parker"), Some("Lead Developer")),
        ]
    );
    for lead in &leads {
        assert_eq!(lead.kind, LeadKind::Person);
        assert!(lead.phones.is_empty() && lead.emails.is_empty(), "{lead:?}");
    }
}

/// Minified team cards (no whitespace between blocks) with addresses spelled
/// out three ways and phone numbers written as text: each card's address and
/// phone land on its person, evidence reads with spaces between blocks, and
/// the prose, year ranges and the logo-only Organization make no lead.
#[test]
fn team_cards_read_obfuscated_addresses_and_written_phones() {
    let leads = run("team-contacts.html");
    let by_name = |name: &str| {
        leads
            .iter()
            .find(|l| l.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} in {leads:#?}"))
    };
    let maria = by_name("Maria Gonzalez");
    assert_eq!(maria.title.as_deref(), Some("Chief Revenue Officer"));
    assert_eq!(maria.emails, ["maria@northwind.com"]);
    assert_eq!(maria.phones, ["212.555.0187"], "the year range is no phone");
    let evidence = maria.evidence.as_deref().unwrap_or_default();
    assert!(
        evidence.starts_with("Maria Gonzalez Chief Revenue Officer maria [at]"),
        "{evidence}"
    );
    let henrik = by_name("Henrik Larsson");
    assert_eq!(henrik.emails, ["henrik.larsson@northwind.com"]);
    assert_eq!(henrik.phones, ["+46 8 555 012 34"]);
    let amara = by_name("Amara Okafor");
    assert_eq!(amara.emails, ["amara@northwind.com"]);
    assert_eq!(amara.phones, ["0161 496 0753"]);
    assert_eq!(leads.len(), 3, "nothing but the three people: {leads:#?}");
}

/// Ordinary prose with "at" and "dot" yields no address, and an
/// Organization that names nothing (only a logo and a URL) is not a lead.
#[test]
fn prose_and_empty_organizations_are_not_leads() {
    let page = r#"<html><head><script type="application/ld+json">
        {"@type":"Organization","logo":"https://x.example/l.png","url":"https://x.example/"}
        </script></head><body><p>Look at this dot com boom.</p>
        <p>We met at the dot com party in 2015 - 2019.</p></body></html>"#;
    let found = extract_html(page, None).expect("parses");
    assert!(found.leads.is_empty(), "{:#?}", found.leads);
    assert_eq!(found.warnings.len(), 1);
    let text = extract_text(
        "look at this dot com boom\nwe met at the dot com party",
        None,
    );
    assert!(text.leads.is_empty(), "{:#?}", text.leads);
}

#[test]
fn hostile_nesting_is_refused_before_parsing() {
    let deep = "<div>".repeat(5000);
    let err = extract_html(&deep, None).expect_err("too deep");
    assert!(err.to_string().contains("5000 levels"), "{err}");
    let empty = extract_html("<p>nothing here</p>", None).expect("parses");
    assert!(empty.leads.is_empty());
    assert_eq!(empty.warnings.len(), 1);
}

//! The score table in docs/seo-lighthouse.md matches `CHECKS`.

use ffmcp_seo::CHECKS;

#[test]
fn weight_table_matches_the_checks() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/seo-lighthouse.md"
    ))
    .expect("docs/seo-lighthouse.md");
    let table = doc.split("## Score").nth(1).expect("score section");
    let mut documented = Vec::new();
    for line in table.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(weight) = cells.get(1).and_then(|w| w.parse::<u32>().ok()) else {
            continue;
        };
        for id in cells[2].split(',') {
            documented.push((id.trim().trim_matches('`').to_owned(), weight));
        }
    }
    for check in CHECKS {
        assert!(
            documented.contains(&(check.id.to_owned(), check.weight)),
            "{} (weight {}) is not in the docs' score table",
            check.id,
            check.weight
        );
    }
    assert_eq!(documented.len(), CHECKS.len(), "{documented:?}");
}

//! Normalisation edge cases: phones, emails, names, titles.

use ffmcp_leadgen::{
    Lead, Seniority,
    normalize::{Region, classify_title, email, normalize, person_name, phone},
};

#[test]
fn phones_become_e164_or_are_refused() {
    let us = Region::parse("us").expect("US");
    let de = Region::parse("DE").expect("DE");
    let gb = Region::parse("GB").expect("GB");
    let cases: &[(&str, Region, Result<&str, &str>)] = &[
        ("(415) 555-0142", us, Ok("+14155550142")),
        ("415.555.0142", us, Ok("+14155550142")),
        ("+1 415 555 0142 ext. 12", us, Ok("+14155550142")),
        ("tel:+442079460958", us, Ok("+442079460958")),
        ("0044 20 7946 0958", us, Ok("+442079460958")),
        ("020 7946 0958", gb, Ok("+442079460958")),
        ("040 3290 4410", de, Ok("+494032904410")),
        ("+49 (0)40 3290 4412", us, Ok("+494032904412")),
        ("12345", us, Err("too few digits")),
        ("555-0199-999-999-999", us, Err("")),
        ("+1 000 000 0000", us, Err("")),
    ];
    for (raw, region, expected) in cases {
        match (phone(raw, *region), expected) {
            (Ok(got), Ok(want)) => assert_eq!(&got, want, "{raw}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{raw}: {got}"),
            (got, want) => panic!("{raw}: got {got:?}, want {want:?}"),
        }
    }
    assert!(Region::parse("XX").is_err());
}

#[test]
fn emails_are_checked_and_domains_lowercased() {
    let ok: &[(&str, &str)] = &[
        ("Jane.Doe@ACME.com", "Jane.Doe@acme.com"),
        (
            "mailto:ops+leads@acme.co.uk?subject=Hi",
            "ops+leads@acme.co.uk",
        ),
        (" <sam@example.org>. ", "sam@example.org"),
        (
            "o'neil@xn--bcher-kva.example",
            "o'neil@xn--bcher-kva.example",
        ),
    ];
    for (raw, want) in ok {
        assert_eq!(email(raw).as_deref(), Ok(*want), "{raw}");
    }
    let bad: &[&str] = &[
        "no-at-sign.com",
        "@acme.com",
        "jane..doe@acme.com",
        ".jane@acme.com",
        "jane@localhost",
        "jane@acme",
        "jane@-acme.com",
        "jane@acme.c",
        "logo@2x.png",
        "ja ne@acme.com",
    ];
    for raw in bad {
        assert!(email(raw).is_err(), "{raw} should be refused");
    }
    let long = format!("{}@acme.com", "a".repeat(65));
    assert!(email(&long).is_err());
}

#[test]
fn names_are_split_and_cased() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("JANE DOE", "Jane Doe", "Jane", "Doe"),
        ("doe, jane", "Jane Doe", "Jane", "Doe"),
        ("Dr. Ada Lovelace PhD", "Ada Lovelace", "Ada", "Lovelace"),
        ("patrick o'neil", "Patrick O'Neil", "Patrick", "O'Neil"),
        ("ronald mcdonald", "Ronald McDonald", "Ronald", "McDonald"),
        (
            "LUDWIG VAN BEETHOVEN",
            "Ludwig van Beethoven",
            "Ludwig",
            "van Beethoven",
        ),
        ("Mei-Ling Chen", "Mei-Ling Chen", "Mei-Ling", "Chen"),
        ("John Smith, Jr.", "John Smith", "John", "Smith"),
    ];
    for (raw, full, first, last) in cases {
        let parts = person_name(raw);
        assert_eq!(parts.full, *full, "{raw}");
        assert_eq!(parts.first.as_deref(), Some(*first), "{raw}");
        assert_eq!(parts.last.as_deref(), Some(*last), "{raw}");
    }
}

#[test]
fn titles_map_to_seniority_and_function() {
    let cases: &[(&str, Option<Seniority>, Option<&str>)] = &[
        (
            "Co-Founder & CEO",
            Some(Seniority::Owner),
            Some("executive"),
        ),
        (
            "Chief Technology Officer",
            Some(Seniority::CLevel),
            Some("engineering"),
        ),
        ("VP Engineering", Some(Seniority::Vp), Some("engineering")),
        ("Vice President, Sales", Some(Seniority::Vp), Some("sales")),
        (
            "Head of Data Science",
            Some(Seniority::Director),
            Some("data"),
        ),
        (
            "Marketing Manager",
            Some(Seniority::Manager),
            Some("marketing"),
        ),
        (
            "Senior Account Executive",
            Some(Seniority::Senior),
            Some("sales"),
        ),
        (
            "Software Engineer",
            Some(Seniority::Entry),
            Some("engineering"),
        ),
        (
            "Summer Intern, Finance",
            Some(Seniority::Intern),
            Some("finance"),
        ),
        (
            "Director of Procurement",
            Some(Seniority::Director),
            Some("operations"),
        ),
    ];
    for (title, seniority, function) in cases {
        assert_eq!(classify_title(title), (*seniority, *function), "{title}");
    }
}

#[test]
fn a_lead_is_normalised_whole() {
    let mut lead = Lead {
        name: Some("  MARIA   GONZALEZ ".into()),
        title: Some("Director of Procurement".into()),
        emails: vec![
            "Maria.Gonzalez@Fabrikam.COM".into(),
            "broken@".into(),
            "maria.gonzalez@fabrikam.com".into(),
        ],
        phones: vec!["+1 (212) 555-0187".into(), "12".into()],
        website: Some("https://www.fabrikam.com/about".into()),
        ..Lead::default()
    };
    let fixes = normalize(&mut lead, Region::default());
    assert_eq!(lead.name.as_deref(), Some("Maria Gonzalez"));
    assert_eq!(
        (lead.first_name.as_deref(), lead.last_name.as_deref()),
        (Some("Maria"), Some("Gonzalez"))
    );
    assert_eq!(lead.emails, ["Maria.Gonzalez@fabrikam.com"]);
    assert_eq!(lead.phones, ["+12125550187"]);
    assert_eq!(lead.company_domain.as_deref(), Some("fabrikam.com"));
    assert_eq!(lead.seniority, Some(Seniority::Director));
    assert_eq!(fixes.rejected.len(), 2, "{:?}", fixes.rejected);

    let mut free = Lead {
        emails: vec!["someone@gmail.com".into(), "someone@startup.io".into()],
        ..Lead::default()
    };
    normalize(&mut free, Region::default());
    assert_eq!(
        free.company_domain.as_deref(),
        Some("startup.io"),
        "free mail is not a company"
    );
}

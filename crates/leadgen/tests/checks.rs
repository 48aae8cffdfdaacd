//! dedupe, score and enrich (MX answered by an in-process DNS server).

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use ffmcp_leadgen::{
    Lead, Seniority,
    dedupe::{DedupeOptions, dedupe},
    dns::{self, MxAnswer},
    enrich::{check_email, lookup_domains},
    score::{Profile, score},
};

fn person(name: &str, company: Option<&str>, email: Option<&str>) -> Lead {
    Lead {
        name: Some(name.into()),
        company: company.map(Into::into),
        emails: email.into_iter().map(Into::into).collect(),
        ..Lead::default()
    }
}

#[test]
fn duplicates_merge_with_reasons() {
    let leads = vec![
        person("Jane Doe", Some("Acme"), Some("jane@acme.com")),
        person("Jane Doe", None, Some("JANE@acme.com")),
        Lead {
            phones: vec!["+14155550100".into()],
            ..person("Jane Doe", Some("Acme Inc."), None)
        },
        person("Jon Smith", Some("Globex"), Some("jon@globex.com")),
        person("John Smith", Some("Globex"), None),
        person("J. Smith", None, Some("js@globex.com")),
        person("Jane Doe", Some("Initech"), Some("jane@initech.com")),
        person("Bob Stone", Some("Hooli"), Some("bob@gmail.com")),
        person("Bob Stone", Some("Pied Piper"), Some("bob.s@gmail.com")),
    ];
    let out = dedupe(leads.clone(), DedupeOptions::default());
    let names: Vec<(String, Option<String>)> = out
        .leads
        .iter()
        .map(|l| (l.name.clone().unwrap_or_default(), l.company.clone()))
        .collect();
    assert_eq!(out.leads.len(), 5, "{names:?}\n{:#?}", out.merges);
    let jane = &out.leads[0];
    assert_eq!(jane.phones, ["+14155550100"], "merged fields");
    let reasons: Vec<&str> = out
        .merges
        .iter()
        .flat_map(|m| m.reasons.iter().map(String::as_str))
        .collect();
    assert!(reasons.contains(&"same email"), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.starts_with("same name and")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("similar name")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("initial")),
        "{reasons:?}"
    );

    let exact_only = dedupe(
        leads,
        DedupeOptions {
            fuzzy: false,
            threshold: 0.92,
        },
    );
    assert_eq!(exact_only.leads.len(), 7);
}

#[test]
fn scores_follow_the_profile_with_reasons() {
    let profile: Profile = serde_json::from_value(serde_json::json!({
        "titles": ["engineering", "data"],
        "seniorities": ["vp", "director", "c_level"],
        "functions": ["engineering", "data"],
        "geographies": ["Germany", "+49"],
        "min_employees": 50,
        "must_have": ["work_email"],
        "must_not": ["domain:competitor.com"]
    }))
    .expect("profile");
    let fit = Lead {
        title: Some("VP Engineering".into()),
        seniority: Some(Seniority::Vp),
        function: Some("engineering".into()),
        location: Some("Berlin, Germany".into()),
        employees: Some(200),
        emails: vec!["a@acme.de".into()],
        ..Lead::default()
    };
    let s = score(&fit, &profile);
    assert_eq!(
        (s.score, s.grade.as_str(), s.disqualified),
        (100, "A", false),
        "{s:?}"
    );
    assert!(
        s.reasons
            .iter()
            .any(|r| r == "+30 title matches 'engineering'"),
        "{:?}",
        s.reasons
    );

    let weak = Lead {
        title: Some("Sales Intern".into()),
        seniority: Some(Seniority::Intern),
        function: Some("sales".into()),
        emails: vec!["x@startup.io".into()],
        ..Lead::default()
    };
    let s = score(&weak, &profile);
    assert_eq!(s.score, 0);
    assert_eq!(s.grade, "D");
    assert!(
        s.reasons.iter().any(|r| r.contains("seniority is intern")),
        "{:?}",
        s.reasons
    );

    let free = Lead {
        emails: vec!["x@gmail.com".into()],
        ..fit.clone()
    };
    let s = score(&free, &profile);
    assert!(s.disqualified && s.grade == "X" && s.score == 0, "{s:?}");
    let rival = Lead {
        emails: vec!["x@competitor.com".into()],
        ..fit
    };
    assert!(
        score(&rival, &profile)
            .reasons
            .iter()
            .any(|r| r.contains("must not be domain:competitor.com"))
    );
}

/// The fixture DNS server of `dns.rs`, answering from `zones`.
async fn dns_server(zones: HashMap<String, Option<Vec<(u16, String)>>>) -> SocketAddr {
    crate::dns::start(zones, crate::dns::Behaviour::default())
        .await
        .addr
}

#[tokio::test]
async fn enrichment_reads_mx_and_the_embedded_lists() {
    let zones = HashMap::from([
        (
            "acme.com".to_owned(),
            Some(vec![
                (20, "mx2.acme.com".to_owned()),
                (10, "mx1.acme.com".to_owned()),
            ]),
        ),
        ("nomail.com".to_owned(), Some(vec![])),
        (
            "gmail.com".to_owned(),
            Some(vec![(5, "gmail-smtp-in.l.google.com".to_owned())]),
        ),
        (
            "mailinator.com".to_owned(),
            Some(vec![(10, "mail.mailinator.com".to_owned())]),
        ),
    ]);
    let server = dns_server(zones).await;
    assert_eq!(
        dns::mx(server, "acme.com", Duration::from_secs(2)).await,
        Ok(MxAnswer::Found(vec![
            "mx1.acme.com".into(),
            "mx2.acme.com".into()
        ]))
    );
    let leads = vec![
        person("A", None, Some("jane@acme.com")),
        person("B", None, Some("info@acme.com")),
        person("C", None, Some("x@nomail.com")),
        person("D", None, Some("x@missing.example")),
        person("E", None, Some("bob@gmail.com")),
        person("F", None, Some("tmp@mailinator.com")),
    ];
    let cache = lookup_domains(&leads, Ok(server.into()), Duration::from_secs(2)).await;
    let checks: Vec<_> = leads
        .iter()
        .map(|l| check_email(&l.emails[0], &cache))
        .collect();
    assert_eq!(checks[0].mx, "found");
    assert!(checks[0].deliverable_domain && !checks[0].role && !checks[0].free_mail);
    assert!(checks[1].role);
    assert_eq!(checks[2].mx, "no_mx");
    assert_eq!(checks[3].mx, "no_domain");
    assert!(checks[4].free_mail && checks[4].deliverable_domain);
    assert!(checks[5].disposable && !checks[5].deliverable_domain);
    // A silent server: see dns.rs (silent_server_times_out_with_a_clear_error).
}

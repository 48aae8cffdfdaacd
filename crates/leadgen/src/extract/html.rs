//! Leads from page structure: hCard / h-card microformats, team and about
//! page cards (a name heading with a title line), and mailto/tel links or
//! addresses in the text that no card claimed.

use scraper::{ElementRef, Html, Selector, node::Node};

use super::{
    SNIPPET_CHARS, clean, emails_in, fold, is_profile, looks_like_name, looks_like_title, phones_in,
};
use crate::lead::{Lead, LeadKind, snippet};

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

/// The text of `el`, whitespace collapsed, with a space wherever a block
/// element (or `<br>`) starts or ends: `<h3>Maria</h3><p>CEO</p>` reads
/// "Maria CEO", not "MariaCEO". Scripts and styles are not text.
fn text_of(el: ElementRef<'_>) -> String {
    fn walk(el: ElementRef<'_>, out: &mut String) {
        for child in el.children() {
            match child.value() {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => {
                    let Some(child) = ElementRef::wrap(child) else {
                        continue;
                    };
                    let name = e.name();
                    if matches!(name, "script" | "style" | "template" | "noscript") {
                        continue;
                    }
                    let block = is_block(name);
                    if block {
                        out.push(' ');
                    }
                    walk(child, out);
                    if block {
                        out.push(' ');
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = String::new();
    walk(el, &mut out);
    clean(&out)
}

/// Elements that start a new line when rendered.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "br"
            | "dd"
            | "div"
            | "dl"
            | "dt"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hr"
            | "li"
            | "main"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "table"
            | "td"
            | "th"
            | "tr"
            | "ul"
    )
}

/// Phone numbers written in `card`'s text (not `tel:` links). Each text
/// node is read on its own, so digits in neighbouring lines never join,
/// and a run counts only when it is labelled (`Phone:`, `Tel`, `Mobile`,
/// in the same line or a label-only line just before), starts like a dialled number (`+`,
/// `00`, `(`), or is grouped like one (`212-555-0187`): a year range or
/// an employee count is none of these.
fn card_phones(card: ElementRef<'_>) -> Vec<String> {
    const CUES: &[&str] = &[
        "phone",
        "tel",
        "telephone",
        "mobile",
        "cell",
        "direct",
        "office",
        "call",
        "whatsapp",
        "telefon",
        "téléphone",
        "teléfono",
    ];
    let cued = |s: &str| {
        s.contains('☎')
            || s.contains('📞')
            || s.split(|c: char| !c.is_alphanumeric())
                .any(|w| CUES.contains(&w.to_lowercase().as_str()))
    };
    let mut phones: Vec<String> = Vec::new();
    let mut label_before = false;
    for node in card.text() {
        let line = clean(node);
        if line.is_empty() {
            continue;
        }
        let without_emails: String = line
            .split_whitespace()
            .filter(|w| !w.contains('@'))
            .collect::<Vec<_>>()
            .join(" ");
        let found = phones_in(&without_emails);
        for phone in &found {
            let groups = phone
                .split(|c: char| !c.is_ascii_digit())
                .filter(|g| !g.is_empty())
                .count();
            let dialled =
                phone.starts_with('+') || phone.starts_with("00") || phone.starts_with('(');
            let digits = |p: &str| p.chars().filter(char::is_ascii_digit).collect::<String>();
            if (dialled || groups >= 3 || cued(&line) || label_before)
                && !phones.iter().any(|p| digits(p) == digits(phone))
            {
                phones.push(phone.clone());
            }
        }
        label_before = found.is_empty() && cued(&line);
    }
    phones
}

/// The first match of any of `classes` (as `.class`) inside `el`.
fn first_text(el: ElementRef<'_>, css: &str) -> Option<String> {
    el.select(&selector(css))
        .next()
        .map(|e| {
            if e.value().name() == "abbr" {
                e.value()
                    .attr("title")
                    .map(clean)
                    .unwrap_or_else(|| text_of(e))
            } else {
                text_of(e)
            }
        })
        .filter(|s| !s.is_empty())
}

/// Contact links inside `el`: (emails, phones, profiles).
fn contacts(el: ElementRef<'_>) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut emails, mut phones, mut profiles) = (Vec::new(), Vec::new(), Vec::new());
    for a in el.select(&selector("a[href]")) {
        let href = a.value().attr("href").unwrap_or_default().trim();
        let lower = href.to_ascii_lowercase();
        if lower.starts_with("mailto:") {
            let address = href[7..].split('?').next().unwrap_or_default();
            emails.push(clean(address));
        } else if lower.starts_with("tel:") {
            phones.push(clean(&href[4..]));
        } else if is_profile(href) {
            profiles.push(href.to_owned());
        }
    }
    if emails.is_empty() {
        emails = emails_in(&text_of(el));
    }
    if phones.is_empty() {
        phones = card_phones(el);
    }
    (emails, phones, profiles)
}

/// hCard (`vcard`) and h-card items.
pub(super) fn hcards(doc: &Html) -> Vec<Lead> {
    let mut leads = Vec::new();
    for card in doc.select(&selector(".vcard, .h-card")) {
        let name = first_text(card, ".fn, .p-name");
        let org = first_text(card, ".org, .p-org");
        let (mut emails, mut phones, profiles) = contacts(card);
        if let Some(e) = first_text(card, ".email, .u-email").filter(|e| e.contains('@')) {
            emails.insert(0, e);
        }
        let digits = |p: &str| p.chars().filter(char::is_ascii_digit).collect::<String>();
        if let Some(t) = first_text(card, ".tel, .p-tel")
            && !phones.iter().any(|p| digits(p) == digits(&t))
        {
            phones.push(t);
        }
        let kind = if name.is_none() || name == org {
            LeadKind::Organization
        } else {
            LeadKind::Person
        };
        let location =
            first_text(card, ".locality, .p-locality").or_else(|| first_text(card, ".adr, .p-adr"));
        let lead = Lead {
            kind,
            name: name.clone().or_else(|| org.clone()),
            title: first_text(card, ".title, .p-job-title, .role, .p-role"),
            company: org,
            emails,
            phones,
            location,
            profiles,
            website: card
                .select(&selector("a.url, a.u-url"))
                .next()
                .and_then(|a| a.value().attr("href"))
                .filter(|h| !is_profile(h))
                .map(str::to_owned),
            method: Some("hcard".into()),
            evidence: Some(snippet(&text_of(card), SNIPPET_CHARS)),
            ..Lead::default()
        };
        if lead.name.is_some() || !lead.emails.is_empty() {
            leads.push(lead);
        }
    }
    leads
}

/// Team / about page cards: a name-like heading and a title-like line in a
/// small block, with the block's contact links.
pub(super) fn team_cards(doc: &Html) -> Vec<Lead> {
    let headings = selector("h1, h2, h3, h4, h5, h6, strong, b, dt, [class*=name], [class*=Name]");
    let mut leads = Vec::new();
    let mut seen_cards = Vec::new();
    for heading in doc.select(&headings) {
        let name = text_of(heading);
        if !looks_like_name(&name) {
            continue;
        }
        let Some(card) = card_around(heading) else {
            continue;
        };
        if seen_cards.contains(&card.id()) {
            continue;
        }
        let title = title_in(card, &name);
        let (emails, phones, profiles) = contacts(card);
        if title.is_none() && emails.is_empty() && phones.is_empty() {
            continue;
        }
        seen_cards.push(card.id());
        leads.push(Lead {
            kind: LeadKind::Person,
            name: Some(name),
            title,
            emails,
            phones,
            profiles,
            method: Some("team-page".into()),
            evidence: Some(snippet(&text_of(card), SNIPPET_CHARS)),
            ..Lead::default()
        });
    }
    leads
}

/// The smallest block around `heading` that reads as one person's card.
fn card_around(heading: ElementRef<'_>) -> Option<ElementRef<'_>> {
    for ancestor in heading.ancestors().filter_map(ElementRef::wrap).take(4) {
        let tag = ancestor.value().name();
        if matches!(tag, "body" | "html" | "main") {
            return None;
        }
        let text = text_of(ancestor);
        if text.len() > 700 {
            return None;
        }
        if matches!(
            tag,
            "li" | "article" | "div" | "section" | "td" | "figure" | "dl" | "p"
        ) {
            // A block holding several names is a list, not a card.
            let names = ancestor
                .select(&selector("h2, h3, h4, h5, h6, strong, b, dt"))
                .filter(|h| looks_like_name(&text_of(*h)))
                .count();
            if names > 1 {
                return None;
            }
            return Some(ancestor);
        }
    }
    None
}

/// The first line of `card` that reads like a job title.
fn title_in(card: ElementRef<'_>, name: &str) -> Option<String> {
    if let Some(t) = first_text(
        card,
        "[class*=title], [class*=role], [class*=position], [class*=job]",
    )
    .filter(|t| fold(t) != fold(name))
    {
        return Some(t);
    }
    card.text()
        .map(clean)
        .filter(|t| !t.is_empty() && fold(t) != fold(name))
        .flat_map(|t| {
            t.split(['|', '·', '•'])
                .map(|part| {
                    part.trim()
                        .trim_matches(|c| c == ',' || c == '-')
                        .trim()
                        .to_owned()
                })
                .collect::<Vec<_>>()
        })
        .find(|t| looks_like_title(t))
}

/// mailto/tel links and text addresses that no lead holds yet.
pub(super) fn links_and_text(doc: &Html, found: &[Lead]) -> Vec<Lead> {
    let known = |email: &str| {
        found
            .iter()
            .any(|l| l.emails.iter().any(|e| e.eq_ignore_ascii_case(email)))
    };
    let mut leads: Vec<Lead> = Vec::new();
    for a in doc.select(&selector("a[href]")) {
        let href = a.value().attr("href").unwrap_or_default().trim();
        if !href.to_ascii_lowercase().starts_with("mailto:") {
            continue;
        }
        let email = clean(href[7..].split('?').next().unwrap_or_default());
        if email.is_empty() || known(&email) || leads.iter().any(|l| l.emails.contains(&email)) {
            continue;
        }
        let label = text_of(a);
        let context = a
            .parent()
            .and_then(ElementRef::wrap)
            .map_or_else(|| label.clone(), text_of);
        let name = Some(label.clone()).filter(|l| looks_like_name(l));
        leads.push(Lead {
            kind: if name.is_some() {
                LeadKind::Person
            } else {
                LeadKind::Organization
            },
            name,
            emails: vec![email],
            method: Some("mailto".into()),
            evidence: Some(snippet(&context, SNIPPET_CHARS)),
            ..Lead::default()
        });
    }
    let body = doc
        .select(&selector("body"))
        .next()
        .map(text_of)
        .unwrap_or_default();
    for email in emails_in(&body) {
        if known(&email)
            || leads
                .iter()
                .any(|l| l.emails.iter().any(|e| e.eq_ignore_ascii_case(&email)))
        {
            continue;
        }
        let at = body.find(&email).unwrap_or(0);
        let start = body[..at]
            .char_indices()
            .rev()
            .nth(60)
            .map_or(0, |(i, _)| i);
        let end = (at + email.len() + 60).min(body.len());
        let end = (end..=body.len())
            .find(|i| body.is_char_boundary(*i))
            .unwrap_or(body.len());
        leads.push(Lead {
            kind: LeadKind::Organization,
            emails: vec![email],
            method: Some("text".into()),
            evidence: Some(snippet(&body[start..end], SNIPPET_CHARS)),
            ..Lead::default()
        });
    }
    leads
}

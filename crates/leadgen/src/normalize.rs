//! Clean lead fields: names split and cased, emails checked and their
//! domain lower-cased, phones to E.164 for a default region, the company
//! domain from the website or a work email, and the job title mapped to a
//! seniority and a business function. Problems are reported per lead, and
//! a value that cannot be repaired is dropped from the record (never
//! guessed).

use phonenumber::{Mode, country::Id};
use url::Url;

use crate::{
    enrich::is_free_mail,
    lead::{Lead, LeadKind, Seniority},
};

/// What normalisation changed or refused in one lead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fixes {
    /// Values dropped, with why (`email 'x@': no domain`).
    pub rejected: Vec<String>,
}

/// A default region for phone numbers written without `+country`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(Id);

impl Region {
    /// `US`, `GB`, `DE`, … (ISO 3166-1 alpha-2).
    pub fn parse(code: &str) -> Result<Self, String> {
        code.trim()
            .to_ascii_uppercase()
            .parse::<Id>()
            .map(Self)
            .map_err(|_| format!("'{code}' is not an ISO 3166 country code such as US, GB or DE"))
    }
}

impl Default for Region {
    fn default() -> Self {
        Self(Id::US)
    }
}

/// Normalises `lead` in place. Emails that differ only in case count once.
pub fn normalize(lead: &mut Lead, region: Region) -> Fixes {
    let mut fixes = Fixes::default();
    if let Some(name) = lead.name.take() {
        match lead.kind {
            LeadKind::Person => {
                let parts = person_name(&name);
                lead.name = Some(parts.full);
                if lead.first_name.is_none() {
                    lead.first_name = parts.first;
                }
                if lead.last_name.is_none() {
                    lead.last_name = parts.last;
                }
            }
            LeadKind::Organization => lead.name = Some(collapse(&name)),
        }
    }
    let mut emails = Vec::new();
    for raw in std::mem::take(&mut lead.emails) {
        match email(&raw) {
            Ok(e) if !emails.iter().any(|x: &String| x.eq_ignore_ascii_case(&e)) => emails.push(e),
            Ok(_) => {}
            Err(why) => fixes.rejected.push(format!("email {raw:?}: {why}")),
        }
    }
    lead.emails = emails;
    let mut phones = Vec::new();
    for raw in std::mem::take(&mut lead.phones) {
        match phone(&raw, region) {
            Ok(p) if !phones.contains(&p) => phones.push(p),
            Ok(_) => {}
            Err(why) => fixes.rejected.push(format!("phone {raw:?}: {why}")),
        }
    }
    lead.phones = phones;
    if let Some(title) = lead
        .title
        .take()
        .map(|t| collapse(&t))
        .filter(|t| !t.is_empty())
    {
        let (seniority, function) = classify_title(&title);
        lead.seniority = lead.seniority.or(seniority);
        if lead.function.is_none() {
            lead.function = function.map(str::to_owned);
        }
        lead.title = Some(title);
    }
    if let Some(company) = lead.company.take() {
        lead.company = Some(collapse(&company)).filter(|c| !c.is_empty());
    }
    if lead.company_domain.is_none() {
        lead.company_domain = lead
            .website
            .as_deref()
            .and_then(domain_of_site)
            .or_else(|| {
                lead.emails
                    .iter()
                    .filter_map(|e| e.rsplit_once('@').map(|(_, d)| d))
                    .find(|d| !is_free_mail(d))
                    .map(str::to_owned)
            });
    } else if let Some(domain) = lead.company_domain.take() {
        lead.company_domain = domain_of_site(&domain);
    }
    fixes
}

/// The registrable-looking host of a website (`https://www.acme.com/x` → `acme.com`).
pub fn domain_of_site(site: &str) -> Option<String> {
    let site = site.trim();
    let with_scheme = if site.contains("://") {
        site.to_owned()
    } else {
        format!("https://{site}")
    };
    let host = Url::parse(&with_scheme)
        .ok()?
        .host_str()?
        .to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    host.contains('.').then_some(host)
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A checked email: trimmed, `mailto:` and `?query` removed, domain
/// lower-cased; the local part keeps its case.
pub fn email(raw: &str) -> Result<String, &'static str> {
    let s = raw
        .trim()
        .trim_matches(|c| matches!(c, '<' | '>' | '"' | '\'' | ',' | ';'))
        .trim_end_matches('.')
        .trim_end_matches('>');
    let s = s
        .strip_prefix("mailto:")
        .or_else(|| s.strip_prefix("MAILTO:"))
        .unwrap_or(s);
    let s = s.split('?').next().unwrap_or_default().trim();
    if s.len() > 254 {
        return Err("longer than 254 characters");
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err("no '@'");
    };
    if local.is_empty() || local.len() > 64 {
        return Err("the part before '@' must be 1 to 64 characters");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("dots at the start, the end or doubled before '@'");
    }
    if !local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
    {
        return Err("characters not allowed before '@'");
    }
    let domain = domain.to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("the domain has no dot");
    }
    for label in &labels {
        if label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err("the domain is not a valid host name");
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) && !tld.starts_with("xn--") {
        return Err("the domain has no valid top-level domain");
    }
    if matches!(
        tld,
        "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp" | "css" | "js"
    ) {
        return Err("looks like a file name, not an address");
    }
    Ok(format!("{local}@{domain}"))
}

/// A phone number in E.164 (`+14155550123`), read with `region` as the
/// default country; extensions are dropped.
pub fn phone(raw: &str, region: Region) -> Result<String, &'static str> {
    let s = raw.trim();
    let s = s.strip_prefix("tel:").unwrap_or(s);
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if digits < 6 {
        return Err("too few digits");
    }
    let s = match s.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => s.to_owned(),
    };
    // `+49 (0)40 …`: the bracketed trunk prefix is not dialled from abroad.
    let s = if s.starts_with('+') {
        s.replace("(0)", "")
    } else {
        s
    };
    let number = phonenumber::parse(Some(region.0), &s).map_err(|_| "not a phone number")?;
    if !phonenumber::is_valid(&number) {
        return Err("not a valid number for its country");
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// A person's name, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameParts {
    pub full: String,
    pub first: Option<String>,
    pub last: Option<String>,
}

const HONORIFICS: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame"];
const SUFFIXES: &[&str] = &[
    "jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "esq", "cpa", "msc", "bsc",
];
const PARTICLES: &[&str] = &[
    "van", "von", "de", "der", "den", "da", "di", "del", "la", "le", "du", "dos", "bin",
];

/// Splits and cases a person's name: honorifics and degree suffixes
/// dropped, `Last, First` reordered, ALL-CAPS or all-lower words cased
/// (`o'neil` → `O'Neil`, `mcdonald` → `McDonald`), particles kept lower.
pub fn person_name(raw: &str) -> NameParts {
    let raw = collapse(raw);
    let reordered = match raw.split_once(',') {
        Some((last, first))
            if !first.trim().is_empty()
                && !SUFFIXES
                    .contains(&first.trim().trim_end_matches('.').to_lowercase().as_str()) =>
        {
            format!("{} {}", first.trim(), last.trim())
        }
        _ => raw.replace(',', " "),
    };
    let words: Vec<String> = reordered
        .split_whitespace()
        .filter(|w| {
            let bare = w.trim_end_matches('.').to_lowercase();
            !HONORIFICS.contains(&bare.as_str()) && !SUFFIXES.contains(&bare.as_str())
        })
        .enumerate()
        .map(|(i, w)| case_word(w, i == 0))
        .collect();
    let full = words.join(" ");
    let first = words.first().cloned();
    let last = (words.len() > 1).then(|| words[1..].join(" "));
    NameParts { full, first, last }
}

fn case_word(word: &str, first: bool) -> String {
    let lower = word.to_lowercase();
    if !first && PARTICLES.contains(&lower.as_str()) {
        return lower;
    }
    let mixed = word.chars().any(char::is_uppercase) && word.chars().any(char::is_lowercase);
    if mixed {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len());
    let mut upper_next = true;
    for c in lower.chars() {
        if upper_next {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper_next = matches!(c, '-' | '\'' | '’' | '.');
    }
    if let Some(rest) = out.strip_prefix("Mc").filter(|r| r.len() > 1) {
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            return format!("Mc{}{}", c.to_uppercase(), chars.as_str());
        }
    }
    out
}

/// Seniority and business function of a job title.
pub fn classify_title(title: &str) -> (Option<Seniority>, Option<&'static str>) {
    let lower = format!(
        " {} ",
        title
            .to_lowercase()
            .replace([',', '/', '&', '(', ')', '-'], " ")
    );
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(&format!(" {w} ")));
    let seniority = if has(&["founder", "cofounder", "co founder", "owner"]) {
        Some(Seniority::Owner)
    } else if has(&[
        "ceo",
        "cto",
        "cfo",
        "coo",
        "cmo",
        "cio",
        "ciso",
        "cro",
        "cpo",
        "chief",
        "president",
        "managing director",
        "general manager",
    ]) && !has(&["vice"])
    {
        Some(Seniority::CLevel)
    } else if has(&["vp", "svp", "evp", "vice president"]) {
        Some(Seniority::Vp)
    } else if has(&["director", "head"]) {
        Some(Seniority::Director)
    } else if has(&["manager", "lead", "supervisor", "principal"]) {
        Some(Seniority::Manager)
    } else if has(&["intern", "trainee", "apprentice", "werkstudent"]) {
        Some(Seniority::Intern)
    } else if has(&["senior", "sr", "staff"]) {
        Some(Seniority::Senior)
    } else if has(&[
        "junior",
        "jr",
        "associate",
        "assistant",
        "engineer",
        "developer",
        "analyst",
        "specialist",
        "representative",
        "coordinator",
        "designer",
        "consultant",
        "accountant",
        "recruiter",
    ]) {
        Some(Seniority::Entry)
    } else {
        None
    };
    const FUNCTIONS: &[(&str, &[&str])] = &[
        (
            "engineering",
            &[
                "engineer",
                "engineering",
                "developer",
                "cto",
                "architect",
                "devops",
                "software",
                "technology",
                "technical",
                "sre",
            ],
        ),
        (
            "data",
            &[
                "data",
                "analytics",
                "scientist",
                "machine learning",
                "ml",
                "ai",
            ],
        ),
        (
            "sales",
            &[
                "sales",
                "account executive",
                "business development",
                "bdr",
                "sdr",
                "cro",
                "revenue",
                "partnerships",
            ],
        ),
        (
            "marketing",
            &[
                "marketing",
                "cmo",
                "growth",
                "brand",
                "content",
                "seo",
                "communications",
                "pr",
            ],
        ),
        ("product", &["product", "cpo"]),
        ("design", &["design", "designer", "ux", "ui", "creative"]),
        (
            "finance",
            &[
                "finance",
                "financial",
                "cfo",
                "accountant",
                "accounting",
                "controller",
                "treasurer",
            ],
        ),
        (
            "hr",
            &[
                "hr",
                "human resources",
                "people",
                "talent",
                "recruiter",
                "recruiting",
                "chro",
            ],
        ),
        (
            "operations",
            &[
                "operations",
                "coo",
                "ops",
                "supply chain",
                "logistics",
                "procurement",
            ],
        ),
        (
            "customer_success",
            &[
                "customer success",
                "support",
                "customer service",
                "customer experience",
            ],
        ),
        (
            "legal",
            &["legal", "counsel", "attorney", "lawyer", "compliance"],
        ),
        (
            "it",
            &[
                "it",
                "cio",
                "ciso",
                "security",
                "infrastructure",
                "systems administrator",
            ],
        ),
        (
            "executive",
            &[
                "ceo",
                "founder",
                "cofounder",
                "co founder",
                "president",
                "owner",
                "managing director",
                "general manager",
            ],
        ),
    ];
    let function = FUNCTIONS
        .iter()
        .find(|(_, words)| has(words))
        .map(|(f, _)| *f);
    (seniority, function)
}

//! Checks on a lead's emails and website: MX records of the email domain
//! (through [`crate::dns`]), disposable domains and role addresses from
//! embedded lists, free-mail versus company domains, and, when asked, the
//! website's reachability through `core::fetch`. No SMTP probing.

use std::{collections::HashMap, time::Duration};

use schemars::JsonSchema;
use serde::Serialize;

use crate::{
    dns::{self, MxAnswer, MxResolver, Nameservers},
    lead::Lead,
};

/// What was learnt about one email address.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EmailCheck {
    pub email: String,
    pub domain: String,
    /// `found`, `no_mx` (the domain takes no mail), `no_domain`, or `unknown` (lookup failed).
    pub mx: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mx_hosts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mx_error: Option<String>,
    /// A throwaway-mailbox provider.
    pub disposable: bool,
    /// A shared mailbox (info@, sales@, …) rather than a person.
    pub role: bool,
    /// A free-mail provider (gmail.com, …) rather than a company domain.
    pub free_mail: bool,
    /// MX found, not disposable.
    pub deliverable_domain: bool,
}

/// Whether a website answered.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SiteCheck {
    pub url: String,
    pub reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// MX answers per domain, looked up once per batch.
pub type MxCache = HashMap<String, Result<MxAnswer, dns::DnsError>>;

/// Looks up every distinct email domain of `leads` (at most `concurrency` at a time).
pub async fn lookup_domains(
    leads: &[Lead],
    servers: Result<Nameservers, dns::DnsError>,
    timeout: Duration,
) -> MxCache {
    let mut domains: Vec<String> = leads
        .iter()
        .flat_map(|l| l.emails.iter())
        .filter_map(|e| e.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()))
        .collect();
    domains.sort();
    domains.dedup();
    let mut cache = MxCache::new();
    let resolver = match servers.and_then(|s| MxResolver::new(s, timeout)) {
        Ok(r) => r,
        Err(e) => {
            for d in domains {
                cache.insert(d, Err(e.clone()));
            }
            return cache;
        }
    };
    let mut set = tokio::task::JoinSet::new();
    let mut pending = domains.into_iter();
    loop {
        while set.len() < 16 {
            let Some(domain) = pending.next() else { break };
            let resolver = resolver.clone();
            set.spawn(async move {
                let answer = resolver.mx(&domain).await;
                (domain, answer)
            });
        }
        match set.join_next().await {
            Some(Ok((domain, answer))) => {
                cache.insert(domain, answer);
            }
            Some(Err(_)) => {}
            None => break,
        }
    }
    cache
}

/// The checks of one address, given the MX answers.
pub fn check_email(email: &str, cache: &MxCache) -> EmailCheck {
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let domain = domain.to_ascii_lowercase();
    let (mx, mx_hosts, mx_error) = match cache.get(&domain) {
        Some(Ok(MxAnswer::Found(hosts))) => ("found", hosts.clone(), None),
        Some(Ok(MxAnswer::NoRecords)) => ("no_mx", Vec::new(), None),
        Some(Ok(MxAnswer::NoDomain)) => ("no_domain", Vec::new(), None),
        Some(Err(e)) => ("unknown", Vec::new(), Some(e.to_string())),
        None => ("unknown", Vec::new(), None),
    };
    let disposable = is_disposable(&domain);
    EmailCheck {
        email: email.to_owned(),
        role: is_role(local),
        free_mail: is_free_mail(&domain),
        disposable,
        deliverable_domain: mx == "found" && !disposable,
        mx: mx.to_owned(),
        mx_hosts,
        mx_error,
        domain,
    }
}

/// A free-mail provider's domain.
pub fn is_free_mail(domain: &str) -> bool {
    FREE_MAIL.contains(&domain.to_ascii_lowercase().as_str())
}

/// A disposable-mailbox provider's domain (or a subdomain of one).
pub fn is_disposable(domain: &str) -> bool {
    let domain = domain.to_ascii_lowercase();
    DISPOSABLE
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
}

/// A shared-mailbox local part (`info`, `sales`, `no-reply`, …).
pub fn is_role(local: &str) -> bool {
    let base = local.to_ascii_lowercase();
    let base = base.split('+').next().unwrap_or_default();
    ROLE.contains(&base)
}

const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "yahoo.de",
    "ymail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "hotmail.de",
    "outlook.com",
    "outlook.de",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "t-online.de",
    "mail.com",
    "zoho.com",
    "zohomail.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "126.com",
    "naver.com",
    "hey.com",
    "fastmail.com",
    "tutanota.com",
    "tuta.io",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "virgilio.it",
    "btinternet.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "rediffmail.com",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
];

const DISPOSABLE: &[&str] = &[
    "mailinator.com",
    "guerrillamail.com",
    "guerrillamail.net",
    "guerrillamail.org",
    "sharklasers.com",
    "grr.la",
    "10minutemail.com",
    "10minutemail.net",
    "temp-mail.org",
    "tempmail.com",
    "tempmail.net",
    "tempmailo.com",
    "throwawaymail.com",
    "yopmail.com",
    "yopmail.fr",
    "yopmail.net",
    "getnada.com",
    "nada.email",
    "dispostable.com",
    "maildrop.cc",
    "mailnesia.com",
    "mintemail.com",
    "mohmal.com",
    "trashmail.com",
    "trashmail.de",
    "trashmail.net",
    "fakeinbox.com",
    "spamgourmet.com",
    "mailcatch.com",
    "emailondeck.com",
    "mytemp.email",
    "tempr.email",
    "discard.email",
    "inboxkitten.com",
    "burnermail.io",
    "33mail.com",
    "spambox.us",
    "getairmail.com",
    "moakt.com",
    "tmail.ws",
    "emailfake.com",
    "mail-temp.com",
    "fakemail.net",
    "jetable.org",
    "mailexpire.com",
    "spamex.com",
    "tempinbox.com",
    "mailforspam.com",
    "harakirimail.com",
    "dropmail.me",
    "mail.tm",
    "1secmail.com",
    "1secmail.net",
    "1secmail.org",
    "linshiyouxiang.net",
    "mvrht.com",
    "armyspy.com",
    "cuvox.de",
    "dayrep.com",
    "einrot.com",
    "fleckens.hu",
    "gustr.com",
    "jourrapide.com",
    "rhyta.com",
    "superrito.com",
    "teleworm.us",
];

const ROLE: &[&str] = &[
    "info",
    "sales",
    "support",
    "admin",
    "administrator",
    "contact",
    "hello",
    "hi",
    "office",
    "team",
    "billing",
    "accounts",
    "accounting",
    "careers",
    "jobs",
    "hr",
    "marketing",
    "press",
    "media",
    "pr",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "help",
    "helpdesk",
    "service",
    "enquiries",
    "inquiries",
    "webmaster",
    "postmaster",
    "hostmaster",
    "abuse",
    "security",
    "privacy",
    "legal",
    "compliance",
    "finance",
    "orders",
    "shop",
    "store",
    "newsletter",
    "partners",
    "partnerships",
    "feedback",
    "mail",
    "email",
    "general",
    "reception",
    "recruiting",
    "talent",
    "invoices",
    "it",
    "ops",
    "devops",
    "dev",
    "engineering",
    "team",
];

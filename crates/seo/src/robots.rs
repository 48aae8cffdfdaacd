//! robots.txt for seo: the verdict for a URL and a user agent with the rule
//! that decided it, and the `Sitemap:` lines. Both come from the one parser
//! and matcher core::fetch uses (`ffmcp_core::fetch::robots`: Google's
//! semantics, linear-time patterns), so the verdict seo reports, the rule it
//! quotes and what the fetcher obeys cannot disagree.

use ffmcp_core::fetch::robots::Robots;
use schemars::JsonSchema;
use serde::Serialize;

/// The answer for one URL.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Verdict {
    pub allowed: bool,
    /// The user agent group that applied (`*` when no group names the agent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The rule that decided, e.g. `Disallow: /private` (none: allowed by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// 1-based line of that rule in robots.txt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// Google's verdict for `agent` (its product token decides: `Googlebot`
/// for `Googlebot/2.1 (+…)`) on `url`, with the deciding rule.
pub fn decide(robots_txt: &str, agent: &str, url: &str) -> Verdict {
    let decision = Robots::parse(robots_txt).decide(agent, url);
    Verdict {
        allowed: decision.allowed,
        group: decision.group,
        line: decision.rule.as_ref().map(|r| r.line),
        rule: decision.rule.map(|r| r.text()),
    }
}

/// `Sitemap:` URLs listed in robots.txt.
pub fn sitemaps(robots_txt: &str) -> Vec<String> {
    Robots::parse(robots_txt).sitemaps()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_the_deciding_rule() {
        let txt = "User-agent: *\nDisallow: /private\nAllow: /private/ok\n\n\
                   User-agent: badbot\nDisallow: /\n\nSitemap: https://a.test/sitemap.xml\n";
        type Case<'a> = (&'a str, &'a str, bool, Option<&'a str>, Option<usize>);
        let cases: &[Case] = &[
            (
                "ffmcp",
                "https://a.test/private/x",
                false,
                Some("Disallow: /private"),
                Some(2),
            ),
            (
                "ffmcp",
                "https://a.test/private/ok",
                true,
                Some("Allow: /private/ok"),
                Some(3),
            ),
            ("ffmcp", "https://a.test/public", true, None, None),
            (
                "BadBot/2.1",
                "https://a.test/public",
                false,
                Some("Disallow: /"),
                Some(6),
            ),
        ];
        for (agent, url, allowed, rule, line) in cases {
            let v = decide(txt, agent, url);
            assert_eq!(v.allowed, *allowed, "{agent} {url}");
            assert_eq!(v.rule.as_deref(), *rule, "{agent} {url}");
            assert_eq!(v.line, *line, "{agent} {url}");
        }
        assert_eq!(sitemaps(txt), vec!["https://a.test/sitemap.xml"]);
    }

    /// Where the two old parsers disagreed, one answer now: a group line
    /// with a version (`Googlebot/2.1`) names Googlebot for both the
    /// verdict and the quoted rule, and an `Allow` that wins a tie is the
    /// rule quoted for an allowed URL.
    #[test]
    fn verdict_and_quoted_rule_agree() {
        let txt = "User-agent: *\nDisallow: /\n\nUser-agent: Googlebot/2.1\nDisallow: /x\n\
                   Allow: /x\n";
        let v = decide(txt, "Googlebot", "https://a.test/x");
        assert!(v.allowed);
        assert_eq!(v.group.as_deref(), Some("googlebot"));
        assert_eq!((v.rule.as_deref(), v.line), (Some("Allow: /x"), Some(6)));
        let v = decide(txt, "Googlebot", "https://a.test/y");
        assert!(v.allowed && v.rule.is_none(), "{v:?}");
        let v = decide(txt, "OtherBot", "https://a.test/y");
        assert!(!v.allowed);
        assert_eq!((v.rule.as_deref(), v.line), (Some("Disallow: /"), Some(2)));
    }

    /// The most robots.txt check_robots reads (512 KiB) of wildcard rules
    /// against a 2 KiB URL: both the verdict and the explanation are linear
    /// per rule (~0.1 s debug); Google's matcher port took 2.7 s for one
    /// 40-star rule (see ffmcp_core::fetch::robots).
    #[test]
    fn hostile_wildcards_are_decided_quickly() {
        let rule = format!("Disallow: /{}b$\n", "*a".repeat(500));
        let txt = format!("User-agent: *\n{}", rule.repeat(512 * 1024 / rule.len()));
        let url = format!("https://a.test/{}", "a".repeat(2048));
        let start = std::time::Instant::now();
        let v = decide(&txt, "Googlebot", &url);
        let took = start.elapsed();
        assert!(v.allowed && v.rule.is_none(), "{v:?}");
        assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
        let hit = format!("https://a.test/{}b", "a".repeat(2048));
        assert!(!decide(&txt, "Googlebot", &hit).allowed);
    }
}

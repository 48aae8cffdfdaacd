//! Canonical, hreflang, social, image, link and resource checks.

use url::Url;

use super::{Auditor, GENERIC_LINK_TEXT, LinkCounts, same_page, valid_hreflang};
use crate::{finding::Finding, page};

impl Auditor<'_> {
    /// Returns the resolved canonical, when valid and single.
    pub(super) fn canonical_checks(&mut self, noindex: bool) -> Option<Url> {
        let canonicals = self.facts.canonicals.clone();
        if canonicals.len() > 1 {
            self.push(
                Finding::new(
                    "canonical-multiple",
                    format!(
                        "{} canonical links; search engines ignore them all",
                        canonicals.len()
                    ),
                    "Keep exactly one <link rel=\"canonical\">.",
                )
                .evidence(canonicals.join(" | ")),
            );
            return None;
        }
        let raw = canonicals.first()?;
        let evidence = format!("<link rel=\"canonical\" href=\"{raw}\">");
        let absolute = Url::parse(raw).ok();
        let resolved = match &absolute {
            Some(u) if matches!(u.scheme(), "http" | "https") => Some(u.clone()),
            Some(_) => None,
            None => page::http_url(self.url, raw).filter(|_| !raw.is_empty()),
        };
        let Some(resolved) = resolved else {
            self.push(
                Finding::new(
                    "canonical-invalid",
                    "the canonical href is not a valid http(s) URL",
                    format!(
                        "Point the canonical to the page's absolute URL, e.g. {}.",
                        self.url
                    ),
                )
                .evidence(evidence),
            );
            return None;
        };
        if absolute.is_none() {
            self.push(
                Finding::new(
                    "canonical-relative",
                    "the canonical href is relative",
                    format!("Use the absolute URL: {resolved}."),
                )
                .evidence(&evidence),
            );
        }
        if same_page(&resolved, self.url) {
            return Some(resolved);
        }
        if noindex {
            self.push(
                Finding::new(
                    "canonical-conflict",
                    "the page is noindex and canonicalises to another URL: conflicting signals",
                    "Use either noindex or a canonical to another page, not both.",
                )
                .evidence(&evidence),
            );
        } else if let Some(requested) = self
            .response
            .requested
            .as_ref()
            .filter(|r| !self.response.redirects.is_empty() && same_page(&resolved, r))
        {
            self.push(
                Finding::new(
                    "canonical-conflict",
                    format!(
                        "{requested} redirects here, but this page names {requested} canonical"
                    ),
                    format!("Make the canonical {} (the URL that answers).", self.url),
                )
                .evidence(&evidence),
            );
        } else {
            self.push(
                Finding::new(
                    "canonical-other",
                    format!("the canonical points to another URL ({resolved}); this page will not be indexed itself"),
                    "Fine for duplicates; otherwise make the canonical self-referencing.",
                )
                .evidence(&evidence),
            );
        }
        Some(resolved)
    }

    pub(super) fn hreflang_checks(&mut self) -> Vec<(String, Url)> {
        let mut out = Vec::new();
        let set = self.facts.hreflangs.clone();
        if set.is_empty() {
            return out;
        }
        for (lang, href) in &set {
            let evidence = format!("<link rel=\"alternate\" hreflang=\"{lang}\" href=\"{href}\">");
            if !lang.eq_ignore_ascii_case("x-default") && !valid_hreflang(lang) {
                self.push(
                    Finding::new(
                        "hreflang-invalid",
                        format!("hreflang=\"{lang}\" is not a valid language(-region) code"),
                        "Use an ISO 639-1 language, optionally with an ISO 3166-1 region: en, en-GB, pt-BR, or x-default.",
                    )
                    .evidence(&evidence),
                );
            }
            if Url::parse(href).is_err() {
                self.push(
                    Finding::new(
                        "hreflang-relative",
                        format!("hreflang \"{lang}\" has a relative or invalid href"),
                        "Use absolute URLs in hreflang links.",
                    )
                    .evidence(&evidence),
                );
            }
            if let Some(url) = page::http_url(self.url, href) {
                out.push((lang.to_ascii_lowercase(), url));
            }
        }
        if !out.iter().any(|(_, u)| same_page(u, self.url)) {
            self.push(Finding::new(
                "hreflang-no-self",
                "the hreflang set does not list this page itself",
                format!(
                    "Add <link rel=\"alternate\" hreflang=\"{}\" href=\"{}\">.",
                    self.facts.lang.as_deref().unwrap_or("xx"),
                    self.url
                ),
            ));
        }
        if !set.iter().any(|(l, _)| l.eq_ignore_ascii_case("x-default")) {
            self.push(Finding::new(
                "hreflang-no-x-default",
                "the hreflang set has no x-default",
                "Add hreflang=\"x-default\" pointing to the language chooser or default version.",
            ));
        }
        out
    }

    pub(super) fn social_checks(&mut self) {
        let og = &self.facts.open_graph;
        let missing: Vec<&str> = ["og:title", "og:description", "og:image"]
            .into_iter()
            .filter(|p| !og.iter().any(|(k, v)| k == p && !v.is_empty()))
            .collect();
        if !missing.is_empty() {
            self.push(
                Finding::new(
                    "og-missing",
                    format!("Open Graph tags missing: {}", missing.join(", ")),
                    "Add <meta property=\"og:title|og:description|og:image\" content=\"…\"> for rich link previews.",
                )
                .evidence(missing.join(", ")),
            );
        }
        if !self.facts.twitter.iter().any(|(k, _)| k == "twitter:card") {
            self.push(Finding::new(
                "twitter-card-missing",
                "no twitter:card meta tag",
                "Add <meta name=\"twitter:card\" content=\"summary_large_image\">.",
            ));
        }
    }

    pub(super) fn image_checks(&mut self) {
        for img in &self.facts.images.clone() {
            if img.alt.is_none() {
                self.push(
                    Finding::new(
                        "img-alt-missing",
                        "image without alt attribute",
                        "Add alt text describing the image (alt=\"\" for purely decorative images).",
                    )
                    .evidence(&img.tag),
                );
            }
            if !img.has_dimensions {
                self.push(
                    Finding::new(
                        "img-no-dimensions",
                        "image without width and height: the layout shifts as it loads",
                        "Set width and height attributes (or a CSS aspect-ratio).",
                    )
                    .evidence(&img.tag),
                );
            }
        }
    }

    pub(super) fn link_checks(&mut self) -> (LinkCounts, Vec<(Url, String)>) {
        let mut counts = LinkCounts::default();
        let mut internal = Vec::new();
        for link in &self.facts.links.clone() {
            let href = link.href.as_deref().unwrap_or("");
            let lower = href.to_ascii_lowercase();
            // Lighthouse crawlable-anchors: no href, javascript:, or a bare fragment used as a button.
            let crawlable = match &link.target {
                Some(_) => !lower.starts_with("javascript:"),
                None => {
                    lower.starts_with("mailto:")
                        || lower.starts_with("tel:")
                        || (lower.starts_with('#') && lower.len() > 1)
                }
            };
            if !crawlable {
                counts.not_crawlable += 1;
                self.push(
                    Finding::new(
                        "link-not-crawlable",
                        "anchor that crawlers cannot follow",
                        "Give the link a real URL in href (use a <button> for script actions).",
                    )
                    .evidence(&link.tag),
                );
                continue;
            }
            let Some(target) = &link.target else { continue };
            let is_internal = target.host_str() == self.url.host_str();
            if is_internal {
                counts.internal += 1;
            } else {
                counts.external += 1;
            }
            if link.nofollow {
                counts.nofollow += 1;
                if is_internal {
                    self.push(
                        Finding::new(
                            "link-internal-nofollow",
                            "internal link marked nofollow",
                            "Remove rel=\"nofollow\" from internal links so they pass signals.",
                        )
                        .evidence(&link.tag),
                    );
                }
            }
            let text = link.text.trim().to_lowercase();
            if text.is_empty() {
                self.push(
                    Finding::new(
                        "link-text-empty",
                        "link without text or accessible name",
                        "Put descriptive text in the link, or an aria-label / alt on its image.",
                    )
                    .evidence(&link.tag),
                );
            } else if GENERIC_LINK_TEXT
                .contains(&text.trim_end_matches(['.', '…', '»', '>', ' ']).trim())
            {
                self.push(
                    Finding::new(
                        "link-text-generic",
                        format!("link text \"{}\" does not describe the target", link.text),
                        "Describe the destination in the link text (e.g. \"pricing plans\").",
                    )
                    .evidence(format!("{}{}</a>", link.tag, link.text)),
                );
            }
            if is_internal && !link.nofollow {
                internal.push((target.clone(), link.tag.clone()));
            }
        }
        (counts, internal)
    }

    pub(super) fn resource_checks(&mut self) {
        for tag in &self.facts.insecure_resources.clone() {
            self.push(
                Finding::new(
                    "mixed-content",
                    "https page loads a resource over http",
                    "Load the resource over https (or protocol-relative from an https host).",
                )
                .evidence(tag),
            );
        }
        let blocking: Vec<_> = self
            .facts
            .head_resources
            .iter()
            .filter(|r| r.blocking)
            .cloned()
            .collect();
        for r in blocking.iter().filter(|r| r.is_script) {
            self.push(
                Finding::new(
                    "render-blocking-script",
                    "script in <head> blocks rendering",
                    "Add defer (or async), or move the script to the end of <body>.",
                )
                .evidence(&r.tag),
            );
        }
        let css: Vec<&str> = blocking
            .iter()
            .filter(|r| !r.is_script)
            .map(|r| r.tag.as_str())
            .collect();
        if css.len() >= 3 {
            self.push(
                Finding::new(
                    "render-blocking-css",
                    format!("{} render-blocking stylesheets in <head>", css.len()),
                    "Combine stylesheets, inline critical CSS, and load the rest with media or preload.",
                )
                .evidence(css.join(" ")),
            );
        }
    }
}

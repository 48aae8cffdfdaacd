//! Title, description, headings, language, viewport and text checks.

use super::{Auditor, valid_language_tag};
use crate::{
    finding::{Finding, shorten},
    text,
};

impl Auditor<'_> {
    pub(super) fn title_checks(&mut self) {
        let titles = &self.facts.titles;
        match titles.first().map(String::as_str) {
            None | Some("") => self.push(Finding::new(
                "title-missing",
                "the page has no title",
                "Add a unique, descriptive <title> of 30–60 characters in <head>.",
            )),
            Some(title) => {
                let chars = title.chars().count();
                let px = text::title_pixels(title);
                if chars > 60 || px > 580 {
                    self.push(
                        Finding::new(
                            "title-too-long",
                            format!(
                                "the title is {chars} characters (~{px} px); results show ~580 px"
                            ),
                            "Shorten the title to at most 60 characters, key words first.",
                        )
                        .evidence(format!("<title>{title}</title>")),
                    );
                } else if chars < 10 {
                    self.push(
                        Finding::new(
                            "title-too-short",
                            format!("the title is only {chars} characters"),
                            "Write a descriptive title of 30–60 characters.",
                        )
                        .evidence(format!("<title>{title}</title>")),
                    );
                }
            }
        }
        if titles.len() > 1 {
            self.push(
                Finding::new(
                    "title-multiple",
                    format!("{} <title> elements", titles.len()),
                    "Keep exactly one <title> in <head>.",
                )
                .evidence(titles.join(" | ")),
            );
        }
        let descriptions = &self.facts.descriptions;
        match descriptions.first().map(String::as_str) {
            None | Some("") => self.push(Finding::new(
                "description-missing",
                "the page has no meta description",
                "Add <meta name=\"description\" content=\"…\"> summarising the page in 70–160 characters.",
            )),
            Some(d) => {
                let chars = d.chars().count();
                let evidence = format!("<meta name=\"description\" content=\"{}\">", shorten(d, 200));
                if chars > 160 {
                    self.push(
                        Finding::new(
                            "description-too-long",
                            format!("the meta description is {chars} characters; results cut it near 160"),
                            "Shorten the description to at most 160 characters.",
                        )
                        .evidence(evidence),
                    );
                } else if chars < 50 {
                    self.push(
                        Finding::new(
                            "description-too-short",
                            format!("the meta description is only {chars} characters"),
                            "Write a description of 70–160 characters that answers why to click.",
                        )
                        .evidence(evidence),
                    );
                }
            }
        }
        if descriptions.len() > 1 {
            self.push(
                Finding::new(
                    "description-multiple",
                    format!("{} meta descriptions", descriptions.len()),
                    "Keep exactly one meta description.",
                )
                .evidence(descriptions.join(" | ")),
            );
        }
    }

    pub(super) fn structure_checks(&mut self) {
        let h1: Vec<&String> = self
            .facts
            .headings
            .iter()
            .filter(|(l, _)| *l == 1)
            .map(|(_, t)| t)
            .collect();
        if h1.is_empty() {
            self.push(Finding::new(
                "h1-missing",
                "the page has no <h1>",
                "Add one <h1> stating the page's main topic.",
            ));
        } else if h1.len() > 1 {
            let list: Vec<String> = h1.iter().map(|t| format!("<h1>{t}</h1>")).collect();
            self.push(
                Finding::new(
                    "h1-multiple",
                    format!("{} <h1> elements", h1.len()),
                    "Keep one <h1>; demote the others to <h2>.",
                )
                .evidence(list.join(" ")),
            );
        }
        let mut previous = 0u8;
        for (level, text) in &self.facts.headings.clone() {
            if previous > 0 && *level > previous + 1 {
                self.push(
                    Finding::new(
                        "heading-skip",
                        format!("heading jumps from h{previous} to h{level}"),
                        format!(
                            "Use h{} here, or add the missing level above it.",
                            previous + 1
                        ),
                    )
                    .evidence(format!("<h{level}>{text}</h{level}>")),
                );
            }
            previous = *level;
        }
        match self.facts.lang.as_deref() {
            None | Some("") => self.push(
                Finding::new(
                    "lang-missing",
                    "<html> has no lang attribute",
                    "Declare the language: <html lang=\"en\"> (or the page's language).",
                )
                .evidence("<html>"),
            ),
            Some(lang) if !valid_language_tag(lang) => self.push(
                Finding::new(
                    "lang-invalid",
                    format!("lang=\"{lang}\" is not a valid BCP 47 language tag"),
                    "Use a tag such as en, en-GB or pt-BR (hyphen, ISO 639 language, ISO 3166 region).",
                )
                .evidence(format!("<html lang=\"{lang}\">")),
            ),
            Some(_) => {}
        }
        let viewport_ok = self.facts.viewport.as_deref().is_some_and(|v| {
            v.to_ascii_lowercase()
                .replace(' ', "")
                .contains("width=device-width")
        });
        if !viewport_ok {
            let mut f = Finding::new(
                "viewport-missing",
                "no <meta name=\"viewport\"> with width=device-width: the page is not mobile-friendly",
                "Add <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">.",
            );
            if let Some(v) = &self.facts.viewport {
                f = f.evidence(format!("<meta name=\"viewport\" content=\"{v}\">"));
            }
            self.push(f);
        }
        let words = self.facts.words;
        if words < 200 {
            self.push(
                Finding::new(
                    "thin-content",
                    format!("only {words} words of body text"),
                    "Expand the page with useful, original content (200+ words), or noindex it if it is a utility page.",
                )
                .evidence(format!("{words} words")),
            );
        }
        if let Some(f) = self.facts.flesch.filter(|f| *f < 30.0) {
            self.push(
                Finding::new(
                    "hard-to-read",
                    format!("Flesch reading ease is {f:.0} (very difficult)"),
                    "Use shorter sentences and plainer words.",
                )
                .evidence(format!("{f:.1}")),
            );
        }
    }
}

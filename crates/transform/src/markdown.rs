//! Markdown to sanitized HTML.
//!
//! CommonMark plus GFM extensions via `pulldown-cmark`; the HTML is always
//! passed through `ammonia`, so raw HTML in the Markdown cannot inject
//! scripts, event handlers or `javascript:` URLs.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// One heading of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Heading {
    pub level: u8,
    pub text: String,
}

/// The result of [`markdown_to_html`].
#[derive(Debug, Clone, PartialEq)]
pub struct Html {
    pub html: String,
    pub headings: Vec<Heading>,
}

/// The most HTML one call renders: a few times the input (Markdown's own
/// expansion), never more than 16 MiB. Many tiny nested lists can expand
/// 2 MiB of Markdown into tens of MiB of elements for the sanitizer.
fn max_html_bytes(markdown_len: usize) -> usize {
    (markdown_len.saturating_mul(4)).clamp(1 << 20, 16 << 20)
}

/// Renders Markdown to sanitized HTML and lists its headings; refuses
/// input whose HTML would exceed [`max_html_bytes`].
pub fn markdown_to_html(markdown: &str) -> Result<Html, String> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut headings = Vec::new();
    let mut current: Option<Heading> = None;
    let events = Parser::new_ext(markdown, options).inspect(|event| match event {
        Event::Start(Tag::Heading { level, .. }) => {
            current = Some(Heading {
                level: heading_level(*level),
                text: String::new(),
            });
        }
        Event::Text(text) | Event::Code(text) => {
            if let Some(heading) = current.as_mut() {
                heading.text.push_str(text);
            }
        }
        Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
        _ => {}
    });
    let cap = max_html_bytes(markdown.len());
    let mut raw = Capped {
        text: String::with_capacity(markdown.len() * 3 / 2),
        cap,
    };
    if pulldown_cmark::html::write_html_fmt(&mut raw, events).is_err() {
        return Err(format!(
            "the Markdown expands to more than {} MiB of HTML (the limit for {} KiB of input); \
             split it into smaller documents",
            cap >> 20,
            markdown.len() >> 10
        ));
    }
    let html = ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("td", ["style"])
        .add_tag_attributes("th", ["style"])
        .clean(&raw.text)
        .to_string();
    Ok(Html { html, headings })
}

/// A string that refuses to grow past `cap` (the render stops there).
struct Capped {
    text: String,
    cap: usize,
}

impl std::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.text.len() + s.len() > self.cap {
            return Err(std::fmt::Error);
        }
        self.text.push_str(s);
        Ok(())
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_commonmark_and_gfm() {
        let cases: &[(&str, &str)] = &[
            ("# Hi", "<h1>Hi</h1>\n"),
            (
                "*a* **b** ~~c~~",
                "<p><em>a</em> <strong>b</strong> <del>c</del></p>\n",
            ),
            (
                "| a |\n|---|\n| 1 |",
                "<table><thead><tr><th>a</th></tr></thead><tbody>\n<tr><td>1</td></tr>\n</tbody></table>\n",
            ),
            (
                "- [x] done",
                "<ul>\n<li><input disabled=\"\" type=\"checkbox\" checked=\"\">\ndone</li>\n</ul>\n",
            ),
            (
                "[l](https://x.test)",
                "<p><a href=\"https://x.test\" rel=\"noopener noreferrer\">l</a></p>\n",
            ),
        ];
        for (md, expected) in cases {
            assert_eq!(
                markdown_to_html(md).expect("renders").html,
                *expected,
                "{md}"
            );
        }
    }

    #[test]
    fn hostile_markup_is_sanitized() {
        let cases = [
            "<script>alert(1)</script>",
            "[x](javascript:alert(1))",
            "<img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil.test\"></iframe>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
        ];
        for md in cases {
            let html = markdown_to_html(md).expect("renders").html;
            for bad in ["<script", "javascript:", "onerror", "<iframe", "style="] {
                assert!(!html.contains(bad), "{md} -> {html}");
            }
        }
    }

    #[test]
    fn lists_headings_with_inline_code() {
        let out = markdown_to_html("# One\n\ntext\n\n## Two `code`\n").expect("renders");
        assert_eq!(
            out.headings,
            vec![
                Heading {
                    level: 1,
                    text: "One".into()
                },
                Heading {
                    level: 2,
                    text: "Two code".into()
                },
            ]
        );
    }
}

#[cfg(test)]
mod worst_cases {
    use ffmcp_core::limits::{DEFAULT_MAX_INPUT_BYTES, MAX_MARKDOWN_DEPTH, markdown_depth};

    /// Fills the input limit with `unit`.
    fn fill(unit: &str) -> String {
        unit.repeat(DEFAULT_MAX_INPUT_BYTES / unit.len())
    }

    /// Each hostile shape is either refused by the linear pre-scan or, at
    /// the deepest nesting allowed and the full input limit, rendered within
    /// a budget that leaves a wide margin even in a debug build (the
    /// quadratic shapes took 30 s for 20 KB before the limit).
    #[test]
    fn nesting_is_refused_or_rendered_within_budget() {
        let deep = MAX_MARKDOWN_DEPTH;
        let refused = [
            ">".repeat(20_000),
            "> ".repeat(20_000),
            "1. ".repeat(20_000),
            "> - ".repeat(10_000),
            (0..400)
                .map(|i| format!("{}- a\n", " ".repeat(i * 2)))
                .collect(),
        ];
        for input in &refused {
            assert!(markdown_depth(input) > deep, "{}", &input[..20]);
        }
        // At the full input limit: refused by the output cap, or rendered.
        let mut allowed = vec![
            fill(&format!("{}x\n", ">".repeat(deep))),
            fill(&format!("{}x\n", "1. ".repeat(deep / 2))),
            fill(&format!("{}x\n", "> - ".repeat(deep / 2))),
            fill("**"),
            fill("[a]("),
            fill("|a"),
        ];
        // Linear but sanitizer-heavy (one element per two bytes): a quarter
        // of the limit keeps a debug-build test short.
        allowed.extend(
            ["*a ", "*_", "<"].map(|unit| fill(unit)[..DEFAULT_MAX_INPUT_BYTES / 4].to_owned()),
        );
        let nested_lists = super::markdown_to_html(&allowed[1]).expect_err("output cap");
        assert!(nested_lists.contains("MiB of HTML"), "{nested_lists}");
        for input in &allowed {
            assert!(markdown_depth(input) <= deep, "{}", &input[..20]);
            let started = std::time::Instant::now();
            let _ = super::markdown_to_html(input);
            let took = started.elapsed();
            assert!(
                took < std::time::Duration::from_secs(20),
                "{:?}…: {took:?}",
                &input[..20]
            );
        }
    }
}

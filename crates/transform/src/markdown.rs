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

/// Renders Markdown to sanitized HTML and lists its headings.
pub fn markdown_to_html(markdown: &str) -> Html {
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
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut raw, events);
    let html = ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("td", ["style"])
        .add_tag_attributes("th", ["style"])
        .clean(&raw)
        .to_string();
    Html { html, headings }
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
            assert_eq!(markdown_to_html(md).html, *expected, "{md}");
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
            let html = markdown_to_html(md).html;
            for bad in ["<script", "javascript:", "onerror", "<iframe", "style="] {
                assert!(!html.contains(bad), "{md} -> {html}");
            }
        }
    }

    #[test]
    fn lists_headings_with_inline_code() {
        let out = markdown_to_html("# One\n\ntext\n\n## Two `code`\n");
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

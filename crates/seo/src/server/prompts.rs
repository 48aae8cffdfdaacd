//! seo's prompts: "audit-site-and-rank-fixes" and "compare-pages". Their
//! arguments are URLs the person types, so completion offers only the
//! crawl sizes of `max_pages`.

use ffmcp_core::prompts::{self, ArgSpec, Catalog, PromptSpec};
use rmcp::{
    ErrorData as McpError,
    model::{CompleteRequestParams, CompleteResult, GetPromptRequestParams, GetPromptResponse},
};
use serde_json::json;

/// Pages crawled when the prompt does not say.
const DEFAULT_MAX_PAGES: u64 = 50;

pub(super) static CATALOG: Catalog = Catalog(&[
    PromptSpec {
        name: "audit-site-and-rank-fixes",
        title: "Audit a site and rank the fixes",
        description: "Crawl a site, audit every page, and turn the findings into a ranked list of \
                      fixes (most impact for least effort first).",
        args: &[
            ArgSpec {
                name: "url",
                description: "The site's start URL (public http/https)",
                required: true,
            },
            ArgSpec {
                name: "max_pages",
                description: "Pages to crawl at most (optional; 50 by default)",
                required: false,
            },
        ],
    },
    PromptSpec {
        name: "compare-pages",
        title: "Compare two pages",
        description: "Compare two pages' SEO side by side (titles, headings, content, links, \
                      structured data) and say what the weaker one should change.",
        args: &[
            ArgSpec {
                name: "a",
                description: "The first page's URL (e.g. yours)",
                required: true,
            },
            ArgSpec {
                name: "b",
                description: "The second page's URL (e.g. a competitor's)",
                required: true,
            },
        ],
    },
]);

/// `prompts/get`.
pub(super) fn get(request: &GetPromptRequestParams) -> Result<GetPromptResponse, McpError> {
    let args = CATALOG.arguments(request)?;
    let text = if args.prompt.name == "audit-site-and-rank-fixes" {
        let url = args.required("url");
        let max_pages = match args.get("max_pages") {
            None => DEFAULT_MAX_PAGES,
            Some(n) => n.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                McpError::invalid_params(
                    format!("argument 'max_pages' must be a positive whole number; got '{n}'"),
                    None,
                )
            })?,
        };
        let crawl = json!({ "start_url": url, "max_pages": max_pages });
        format!(
            "Audit the site {url:?} and rank the fixes.\n\n\
             1. Call the seo tool `audit_site` with {crawl}. If it stops early (time or page \
             limit) and returns a `crawl_id`, you may call it again with `resume` set to that id.\n\
             2. Call `check_robots` with {robots} and `parse_sitemap` with {sitemap} to confirm \
             what crawlers may see and what the site asks to be indexed.\n\
             3. For the three lowest-scoring pages, call `audit_page` with {{\"url\": <page>}} \
             for their detailed findings.\n\
             4. Rank the fixes: group findings that share a cause, then order by impact (pages \
             affected × severity) against effort. For each fix give what to change, where \
             (example URLs) and the evidence from the findings. Finish with what is already good.",
            robots = json!({ "url": url }),
            sitemap = json!({ "url": sitemap_guess(url) }),
        )
    } else {
        let (a, b) = (args.required("a"), args.required("b"));
        let call = json!({ "a": { "url": a }, "b": { "url": b } });
        format!(
            "Compare the pages {a:?} and {b:?}.\n\n\
             1. Call the seo tool `compare_pages` with {call}.\n\
             2. Present the differences as a table (title, meta description, headings, word \
             count, internal and external links, images without alt text, structured data, \
             score).\n\
             3. Say which page is stronger for search and list the concrete changes the weaker \
             page should make, most important first. Optionally call `suggest` with \
             {suggest} for title and description rewrites (it needs a model).",
            suggest = json!({ "url": a }),
        )
    };
    Ok(prompts::rendered(args.prompt, text))
}

/// The usual sitemap location of the site `url` is on.
fn sitemap_guess(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => match parsed.join("/sitemap.xml") {
            Ok(sitemap) => sitemap.to_string(),
            Err(_) => url.to_owned(),
        },
        Err(_) => url.to_owned(),
    }
}

/// `completion/complete`.
pub(super) fn complete(request: &CompleteRequestParams) -> Result<CompleteResult, McpError> {
    let (_, argument) = CATALOG.completion_target(request)?;
    let prefix = &request.argument.value;
    Ok(match argument {
        "max_pages" => prompts::complete(["10", "50", "200", "500"], prefix),
        _ => prompts::nothing(),
    })
}

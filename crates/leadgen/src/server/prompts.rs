//! leadgen's prompts: "qualify-leads" (a model classification job, or the
//! review of one already stored) and "find-contacts" (a page to contacts).
//! Job ids complete from the store; categories from common schemes.

use ffmcp_core::prompts::{self, ArgSpec, Catalog, PromptSpec};
use rmcp::{
    ErrorData as McpError,
    model::{CompleteRequestParams, CompleteResult, GetPromptRequestParams, GetPromptResponse},
};
use serde_json::json;

use super::Shared;

/// Category schemes offered for `categories`.
const CATEGORY_SCHEMES: &[&str] = &[
    "hot,warm,cold",
    "qualified,unqualified",
    "decision_maker,influencer,other",
    "customer,partner,competitor,other",
];

pub(super) static CATALOG: Catalog = Catalog(&[
    PromptSpec {
        name: "qualify-leads",
        title: "Qualify leads",
        description: "Classify leads into your categories with a model in a durable job and \
                      report the result per category; or review a job already run.",
        args: &[
            ArgSpec {
                name: "categories",
                description: "Comma-separated categories, e.g. \"hot,warm,cold\"",
                required: true,
            },
            ArgSpec {
                name: "job_id",
                description: "Review this stored job instead of starting one (optional)",
                required: false,
            },
            ArgSpec {
                name: "criteria",
                description: "What makes a lead fit each category (optional)",
                required: false,
            },
        ],
    },
    PromptSpec {
        name: "find-contacts",
        title: "Find contacts on a site",
        description: "Extract the people and organisations a page lists, clean and de-duplicate \
                      them, and check their e-mail domains and websites.",
        args: &[ArgSpec {
            name: "url",
            description: "The page to read (a team, contact or about page; public http/https)",
            required: true,
        }],
    },
]);

/// `prompts/get`.
pub(super) fn get(request: &GetPromptRequestParams) -> Result<GetPromptResponse, McpError> {
    let args = CATALOG.arguments(request)?;
    let text = if args.prompt.name == "qualify-leads" {
        let categories: Vec<&str> = args
            .required("categories")
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        if categories.len() < 2 {
            return Err(McpError::invalid_params(
                "argument 'categories' needs at least two comma-separated categories, e.g. \
                 \"hot,warm,cold\"",
                None,
            ));
        }
        let listed = categories.join(", ");
        match args.get("job_id") {
            Some(job) => format!(
                "Review the lead-qualification job {job:?} (categories: {listed}).\n\n\
                 1. Call the leadgen tool `job_status` with {status}. If it is still running, \
                 call it again with `wait_seconds` until it settles; if it is paused, call \
                 `job_resume` with {id}.\n\
                 2. Call `job_results` with {results} and page on with `offset` until every \
                 result is read.\n\
                 3. Report per category: how many leads, and the leads with their rationale, \
                 highest confidence first; then the leads that failed and why.",
                status = json!({ "job_id": job, "wait_seconds": 30 }),
                id = json!({ "job_id": job }),
                results = json!({ "job_id": job, "offset": 0, "limit": 100 }),
            ),
            None => {
                let mut start = json!({
                    "leads": "<the leads>",
                    "categories": categories
                        .iter()
                        .map(|c| json!({ "name": c }))
                        .collect::<Vec<_>>(),
                });
                if let Some(criteria) = args.get("criteria") {
                    start["instructions"] = json!(criteria);
                }
                format!(
                    "Qualify the leads in this conversation into: {listed}.\n\n\
                     1. If the leads are not yet records, get them with the leadgen tool \
                     `extract_leads` (from a url, html or text), then `normalize_leads` and \
                     `dedupe_leads`.\n\
                     2. Call `job_start` with {start}, putting the lead records in `leads`.\n\
                     3. Call `job_status` with the returned `job_id` and `wait_seconds` 30 until \
                     the job is done, then `job_results` (page with `offset`).\n\
                     4. Report per category: how many leads and which, highest confidence first, \
                     with each rationale; then failures. Remind the user to `job_delete` the job \
                     when the data is no longer needed (it is personal data)."
                )
            }
        }
    } else {
        let url = args.required("url");
        format!(
            "Find the contacts on {url:?}.\n\n\
             1. Call the leadgen tool `extract_leads` with {extract}.\n\
             2. Call `dedupe_leads` with the leads it returned.\n\
             3. Call `enrich_leads` with the result and {checks} to check e-mail domains and \
             websites.\n\
             4. List the contacts as a table (name, title, organisation, e-mail, phone, source \
             link), flagging addresses whose domain has no mail server. Say how many were found \
             and that they come only from the page.",
            extract = json!({ "url": url, "normalize": true }),
            checks = json!({ "check_mx": true, "check_website": true }),
        )
    };
    Ok(prompts::rendered(args.prompt, text))
}

/// `completion/complete`: job ids from the store, category schemes.
pub(super) async fn complete(
    shared: &Shared,
    request: &CompleteRequestParams,
) -> Result<CompleteResult, McpError> {
    let (_, argument) = CATALOG.completion_target(request)?;
    let prefix = &request.argument.value;
    match argument {
        "job_id" => {
            // No database yet means no jobs; completing must not create one.
            if !ffmcp_core::store::Location::from_config(&shared.config).may_hold_data() {
                return Ok(prompts::nothing());
            }
            let engine = shared
                .engine()
                .await
                .map_err(|e| McpError::internal_error(e.to_string(), None))?;
            let limit = prompts::MAX_COMPLETIONS as u64 + 1;
            let ids = engine.ids_with_prefix(prefix, limit).await.map_err(|e| {
                McpError::internal_error(format!("could not read the jobs: {e}"), None)
            })?;
            Ok(prompts::complete(ids, prefix))
        }
        "categories" => Ok(prompts::complete(CATEGORY_SCHEMES.iter().copied(), prefix)),
        _ => Ok(prompts::nothing()),
    }
}

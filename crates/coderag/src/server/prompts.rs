//! coderag's prompts: "find-code" (where is the code that does X) and
//! "explain-symbol" (what a symbol does and who uses it), with the
//! language argument completed from the languages coderag indexes.

use ffmcp_core::prompts::{self, ArgSpec, Catalog, PromptSpec};
use rmcp::{
    ErrorData as McpError,
    model::{CompleteRequestParams, CompleteResult, GetPromptRequestParams, GetPromptResponse},
};
use serde_json::json;

use crate::lang::{ALL, Lang};

pub(super) static CATALOG: Catalog = Catalog(&[
    PromptSpec {
        name: "find-code",
        title: "Find the code that does something",
        description: "Index a repository (incrementally) and find the functions, classes and \
                      modules that answer a question, read whole.",
        args: &[
            ArgSpec {
                name: "repository",
                description: "The repository directory, under the allowed roots",
                required: true,
            },
            ArgSpec {
                name: "question",
                description: "What the code should do, in words or identifiers",
                required: true,
            },
            ArgSpec {
                name: "language",
                description: "Only this language (rust, python, go, …)",
                required: false,
            },
        ],
    },
    PromptSpec {
        name: "explain-symbol",
        title: "Explain a symbol and its users",
        description: "Find a symbol's definition, the code that references it and what it \
                      relates to, and explain it.",
        args: &[
            ArgSpec {
                name: "repository",
                description: "The repository directory, under the allowed roots",
                required: true,
            },
            ArgSpec {
                name: "symbol",
                description: "The symbol's name (function, type, method, …)",
                required: true,
            },
        ],
    },
]);

/// `prompts/get`.
pub(super) fn get(request: &GetPromptRequestParams) -> Result<GetPromptResponse, McpError> {
    let args = CATALOG.arguments(request)?;
    let repository = args.required("repository");
    let index = json!({ "path": repository });
    let text = if args.prompt.name == "find-code" {
        let mut search = json!({ "query": args.required("question"), "k": 10 });
        if let Some(language) = args.get("language") {
            let lang = Lang::from_name(language).ok_or_else(|| {
                McpError::invalid_params(
                    format!(
                        "argument 'language' must be one of {}; got '{language}'",
                        names().collect::<Vec<_>>().join(", ")
                    ),
                    None,
                )
            })?;
            search["language"] = json!([lang.name()]);
        }
        format!(
            "Find the code in {repository} that answers the question.\n\n\
             1. Call the coderag tool `index` with {index} (it only re-reads changed files).\n\
             2. Call `search` with {search}; try the question's identifiers and synonyms too \
             if the first results miss.\n\
             3. Answer with the paths, line spans and symbol paths of the code that does it, \
             quoting only the lines that matter; say when a result is marked stale.",
        )
    } else {
        let symbol = args.required("symbol");
        let find = json!({ "name": symbol });
        format!(
            "Explain the symbol `{symbol}` in {repository}.\n\n\
             1. Call the coderag tool `index` with {index}.\n\
             2. Call `find_symbol` with {find}; if several match, say which you explain.\n\
             3. Call `references` with {find} and `related` for the definition's file.\n\
             4. Explain what it does (from its code and doc comment), who calls it and why, \
             citing paths and line spans.",
        )
    };
    Ok(prompts::rendered(args.prompt, text))
}

fn names() -> impl Iterator<Item = &'static str> {
    ALL.into_iter().map(Lang::name)
}

/// `completion/complete`.
pub(super) fn complete(request: &CompleteRequestParams) -> Result<CompleteResult, McpError> {
    let (_, argument) = CATALOG.completion_target(request)?;
    Ok(match argument {
        "language" => prompts::complete(names(), &request.argument.value),
        _ => prompts::nothing(),
    })
}

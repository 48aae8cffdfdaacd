//! transform's prompts: "summarise-text" and "convert-data", with the
//! enumerated arguments (length, format, data formats) completed.

use ffmcp_core::prompts::{self, ArgSpec, Catalog, PromptSpec};
use rmcp::{
    ErrorData as McpError,
    model::{CompleteRequestParams, CompleteResult, GetPromptRequestParams, GetPromptResponse},
};
use serde_json::json;

/// The data formats `convert` reads and writes.
const FORMATS: &[&str] = &["json", "yaml", "toml", "csv"];
const LENGTHS: &[&str] = &["short", "medium", "long"];
const LAYOUTS: &[&str] = &["paragraph", "bullets", "tldr"];

pub(super) static CATALOG: Catalog = Catalog(&[
    PromptSpec {
        name: "summarise-text",
        title: "Summarise text",
        description: "Summarise a text with a model: short, medium or long; as prose, bullets or \
                      a one-line TL;DR.",
        args: &[
            ArgSpec {
                name: "text",
                description: "The text to summarise",
                required: true,
            },
            ArgSpec {
                name: "length",
                description: "short, medium (default) or long",
                required: false,
            },
            ArgSpec {
                name: "format",
                description: "paragraph (default), bullets or tldr",
                required: false,
            },
        ],
    },
    PromptSpec {
        name: "convert-data",
        title: "Convert data between formats",
        description: "Convert data between JSON, YAML, TOML and CSV and check the result.",
        args: &[
            ArgSpec {
                name: "input",
                description: "The data to convert",
                required: true,
            },
            ArgSpec {
                name: "from",
                description: "Its format: json, yaml, toml or csv",
                required: true,
            },
            ArgSpec {
                name: "to",
                description: "The format to produce: json, yaml, toml or csv",
                required: true,
            },
        ],
    },
]);

/// `prompts/get`.
pub(super) fn get(request: &GetPromptRequestParams) -> Result<GetPromptResponse, McpError> {
    let args = CATALOG.arguments(request)?;
    let text = if args.prompt.name == "summarise-text" {
        let mut call = json!({ "text": args.required("text") });
        for (name, allowed) in [("length", LENGTHS), ("format", LAYOUTS)] {
            if let Some(value) = args.get(name) {
                call[name] = json!(one_of(name, value, allowed)?);
            }
        }
        format!(
            "Summarise the given text.\n\n\
             1. Call the transform tool `summarize` with {call}.\n\
             2. Give the summary as returned; if the tool is unavailable (no model configured), \
             write the summary yourself following the same length and format, using only what \
             the text says.",
        )
    } else {
        let from = one_of("from", args.required("from"), FORMATS)?;
        let to = one_of("to", args.required("to"), FORMATS)?;
        let call = json!({ "input": args.required("input"), "from": from, "to": to });
        format!(
            "Convert the data from {from} to {to}.\n\n\
             1. Call the transform tool `convert` with {call}.\n\
             2. Show the converted data in a {to} code block. If the tool reports an error, quote \
             it, point at the line or field it names, and suggest the fix to the input.",
        )
    };
    Ok(prompts::rendered(args.prompt, text))
}

/// `value`, when it is one of `allowed`; otherwise an error naming both.
fn one_of<'a>(name: &str, value: &str, allowed: &[&'a str]) -> Result<&'a str, McpError> {
    let lower = value.to_ascii_lowercase();
    allowed
        .iter()
        .find(|a| **a == lower)
        .copied()
        .ok_or_else(|| {
            McpError::invalid_params(
                format!(
                    "argument '{name}' must be one of {}; got '{value}'",
                    allowed.join(", ")
                ),
                None,
            )
        })
}

/// `completion/complete`.
pub(super) fn complete(request: &CompleteRequestParams) -> Result<CompleteResult, McpError> {
    let (_, argument) = CATALOG.completion_target(request)?;
    let prefix = &request.argument.value;
    Ok(match argument {
        "from" | "to" => prompts::complete(FORMATS.iter().copied(), prefix),
        "length" => prompts::complete(LENGTHS.iter().copied(), prefix),
        "format" => prompts::complete(LAYOUTS.iter().copied(), prefix),
        _ => prompts::nothing(),
    })
}

//! docparse's prompts: "summarise-document" and "extract-tables", with
//! completion of file paths under the allowed roots.
//!
//! Path completion never looks outside the roots: it lists only
//! directories reached from a root by plain name components (no `..`, no
//! absolute jump elsewhere), re-checks each directory and entry after
//! resolving symlinks, and offers nothing for a prefix that is not under a
//! root. A relative prefix is taken relative to the first root, as
//! `check_read` takes relative paths.

use std::path::{Component, Path};

use ffmcp_core::{
    prompts::{self, ArgSpec, Arguments, Catalog, PromptSpec},
    roots::Roots,
};
use rmcp::{
    ErrorData as McpError, RoleServer,
    model::{CompleteRequestParams, CompleteResult, GetPromptRequestParams, GetPromptResponse},
    service::RequestContext,
};
use serde_json::json;

use super::Shared;

/// Directory entries read per completion request, at most.
const MAX_SCANNED: usize = 10_000;

const SOURCE: ArgSpec = ArgSpec {
    name: "source",
    description: "A file path under the allowed roots, or a public http(s) URL",
    required: true,
};

pub(super) static CATALOG: Catalog = Catalog(&[
    PromptSpec {
        name: "summarise-document",
        title: "Summarise a document",
        description: "Parse a document (path under the roots, or URL) to Markdown and summarise it \
                      with its structure and key facts.",
        args: &[
            SOURCE,
            ArgSpec {
                name: "focus",
                description: "What the summary should concentrate on (optional)",
                required: false,
            },
        ],
    },
    PromptSpec {
        name: "extract-tables",
        title: "Extract the tables of a document",
        description: "Pull every table out of a document as structured rows and explain what each \
                      table holds.",
        args: &[
            SOURCE,
            ArgSpec {
                name: "pages",
                description: "Pages to read, e.g. \"1-3\" or \"5\" (optional; all by default)",
                required: false,
            },
        ],
    },
]);

/// `prompts/get`.
pub(super) fn get(request: &GetPromptRequestParams) -> Result<GetPromptResponse, McpError> {
    let args = CATALOG.arguments(request)?;
    let source = args.required("source");
    let text = match args.prompt.name {
        "summarise-document" => summarise(&args, source),
        _ => tables(&args, source),
    };
    Ok(prompts::rendered(args.prompt, text))
}

/// The tool arguments naming `source`: `url` for http(s), else `path`.
fn source_args(source: &str) -> serde_json::Value {
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        json!({ "url": source })
    } else {
        json!({ "path": source })
    }
}

fn summarise(args: &Arguments, source: &str) -> String {
    let mut parse = source_args(source);
    parse["output"] = json!("markdown");
    let focus = args
        .get("focus")
        .map(|f| format!(" Concentrate on: {f}."))
        .unwrap_or_default();
    format!(
        "Summarise the document {source:?}.\n\n\
         1. Call the docparse tool `metadata` with {meta} to learn its format, title and length.\n\
         2. Call `parse` with {parse}. If the result has a `next_offset`, call `parse` again with \
         the same arguments plus `offset` set to it until the whole document is read.\n\
         3. Write the summary: one paragraph on what the document is and who it is for, then the \
         key points section by section (follow its headings), then any figures, dates, \
         obligations or decisions it states. Quote numbers exactly and say where a page or \
         section was unreadable.{focus}",
        meta = source_args(source),
    )
}

fn tables(args: &Arguments, source: &str) -> String {
    let mut call = source_args(source);
    if let Some(pages) = args.get("pages") {
        call["pages"] = json!(pages);
    }
    format!(
        "Extract the tables of the document {source:?}.\n\n\
         1. Call the docparse tool `extract_tables` with {call}.\n\
         2. For each table returned, give its caption or a one-line description of what it holds, \
         its columns, and the rows as a Markdown table (keep the values exactly as extracted).\n\
         3. If no table is found, call `parse` with {parse} and say whether the document holds \
         tabular data as text (for example aligned columns) that the extraction missed.",
        parse = source_args(source),
    )
}

/// `completion/complete`: paths under the roots for `source`; the page
/// examples for `pages`; nothing for free text.
pub(super) async fn complete(
    shared: &Shared,
    request: &CompleteRequestParams,
    context: &RequestContext<RoleServer>,
) -> Result<CompleteResult, McpError> {
    let (_, argument) = CATALOG.completion_target(request)?;
    let prefix = request.argument.value.clone();
    match argument {
        "source" => {
            let Ok(configured) = &shared.roots else {
                return Ok(prompts::nothing());
            };
            let roots = configured.for_client(&context.peer).await;
            let listed = tokio::task::spawn_blocking(move || paths_under(&roots, &prefix))
                .await
                .map_err(|e| {
                    McpError::internal_error(format!("path completion failed: {e}"), None)
                })?;
            Ok(prompts::complete(listed, &request.argument.value))
        }
        "pages" => Ok(prompts::complete(["1", "1-3", "1-10"], &prefix)),
        _ => Ok(prompts::nothing()),
    }
}

/// Paths under `roots` that start with `prefix`; see the module docs.
pub(crate) fn paths_under(roots: &Roots, prefix: &str) -> Vec<String> {
    if prefix.contains('\0') {
        return Vec::new();
    }
    let mut found = Vec::new();
    if !prefix.starts_with('/') {
        if let Some(root) = roots.iter().next() {
            entries(root, "", prefix, &mut found);
        }
        return found;
    }
    for root in roots.iter() {
        let shown = format!("{}/", root.display());
        if shown.starts_with(prefix) {
            found.push(shown);
        } else if let Some(rest) = prefix.strip_prefix(&shown) {
            entries(root, &shown, rest, &mut found);
        }
    }
    found
}

/// Entries of the directory `rest` names under `root` (up to its last
/// `/`) whose names start with what follows; each shown as
/// `shown + rest's directory + name`, directories with a trailing `/`.
fn entries(root: &Path, shown: &str, rest: &str, found: &mut Vec<String>) {
    let (dir, name) = match rest.rfind('/') {
        Some(i) => (&rest[..=i], &rest[i + 1..]),
        None => ("", rest),
    };
    let relative = Path::new(dir);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return;
    }
    let Ok(directory) = root.join(relative).canonicalize() else {
        return;
    };
    if !directory.starts_with(root) {
        return;
    }
    let Ok(listing) = std::fs::read_dir(&directory) else {
        return;
    };
    let mut names: Vec<(String, bool)> = Vec::new();
    for entry in listing.take(MAX_SCANNED).flatten() {
        let Some(entry_name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if !entry_name.starts_with(name) || (entry_name.starts_with('.') && !name.starts_with('.'))
        {
            continue;
        }
        // Symlinks are followed only when they stay inside the root.
        let Ok(target) = entry.path().canonicalize() else {
            continue;
        };
        if !target.starts_with(root) {
            continue;
        }
        names.push((entry_name, target.is_dir()));
    }
    names.sort();
    found.extend(names.into_iter().map(|(entry_name, is_dir)| {
        let slash = if is_dir { "/" } else { "" };
        format!("{shown}{dir}{entry_name}{slash}")
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_completion_stays_under_the_root() {
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("secret.txt"), "x").expect("write");
        let base = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(base.path().join("docs")).expect("mkdir");
        std::fs::write(base.path().join("docs/report.pdf"), "x").expect("write");
        std::os::unix::fs::symlink(outside.path(), base.path().join("docs/escape"))
            .expect("symlink");
        let roots = Roots::new([base.path()]).expect("roots");
        let root = roots.iter().next().expect("one root").display().to_string();

        assert_eq!(paths_under(&roots, "/"), vec![format!("{root}/")]);
        assert_eq!(
            paths_under(&roots, &format!("{root}/docs/")),
            vec![format!("{root}/docs/report.pdf")]
        );
        assert_eq!(paths_under(&roots, "docs/r"), vec!["docs/report.pdf"]);
        for hostile in [
            "../",
            "docs/../../",
            "/etc/",
            "/etc/pas",
            &format!("{root}/../"),
            &format!("{root}/docs/escape/"),
        ] {
            assert!(
                paths_under(&roots, hostile).is_empty(),
                "{hostile} listed something"
            );
        }
    }
}

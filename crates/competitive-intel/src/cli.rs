//! Command-line commands: `ffmcp competitive-intel export [--format
//! json|csv|atom] [--since TIME] [--cursor N] [--competitor NAME]
//! [--tag TAG] [--watch ID] [--limit N]` prints detected changes.

use crate::{
    db, export,
    server::{ChangesArgs, Shared},
};

const USAGE: &str = "usage: ffmcp competitive-intel export [--format json|csv|atom] \
[--since RFC3339] [--cursor N] [--competitor NAME] [--tag TAG] [--watch ID] [--limit N]";

/// Runs `args` (the words after the server name); returns what to print.
pub(crate) async fn run(shared: &Shared, args: Vec<String>) -> Result<String, String> {
    let (command, rest) = args.split_first().ok_or(USAGE)?;
    if command != "export" {
        return Err(format!("unknown command '{command}'; {USAGE}"));
    }
    let (format, filter) = export_args(rest)?;
    let filter = filter.filter(1_000_000).map_err(|e| e.to_string())?;
    let engine = shared.engine().await.map_err(|e| e.to_string())?;
    let changes = engine
        .db(move |c| db::changes(c, &filter))
        .await
        .map_err(|e| e.to_string())?;
    Ok(export::render(&changes, format))
}

fn export_args(rest: &[String]) -> Result<(export::Format, ChangesArgs), String> {
    let mut format = export::Format::Json;
    let mut filter = ChangesArgs::default();
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
        let number = || {
            value
                .parse::<i64>()
                .map_err(|_| format!("{flag} takes a number, got '{value}'"))
        };
        match flag.as_str() {
            "--format" => {
                format = export::Format::parse(value)
                    .ok_or_else(|| format!("--format is json, csv or atom; got '{value}'"))?;
            }
            "--since" => filter.since = Some(value.clone()),
            "--cursor" => filter.cursor = Some(number()?),
            "--competitor" => filter.competitor = Some(value.clone()),
            "--tag" => filter.tag = Some(value.clone()),
            "--watch" => filter.watch_id = Some(number()?),
            "--limit" => filter.limit = Some(number()?),
            other => return Err(format!("unknown option '{other}'; {USAGE}")),
        }
    }
    Ok((format, filter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_options_parse_and_errors_name_the_option() {
        let args: Vec<String> = ["--format", "csv", "--cursor", "3", "--tag", "blog"]
            .map(String::from)
            .to_vec();
        let (format, filter) = export_args(&args).expect("valid");
        assert_eq!(format, export::Format::Csv);
        assert_eq!(
            (filter.cursor, filter.tag.as_deref()),
            (Some(3), Some("blog"))
        );
        let err = export_args(&["--format".into(), "xlsx".into()]).expect_err("format");
        assert!(err.contains("--format"), "{err}");
        let err = export_args(&["--cursor".into()]).expect_err("value");
        assert!(err.contains("needs a value"), "{err}");
    }
}

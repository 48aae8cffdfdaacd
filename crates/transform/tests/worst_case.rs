//! Worst-case inputs at the tool's input limit (2 MiB) for every parser
//! `convert` and `html_to_markdown` run (issue 14, item 4): each finishes
//! within a generous wall-time budget in a debug build or is refused with
//! an error naming the limit. Times in the test docs are debug builds on
//! a 2-core machine.

use std::time::Duration;

use ffmcp_core::limits::{DEFAULT_MAX_INPUT_BYTES as LIMIT, MAX_HTML_DEPTH, check_html_depth};
use ffmcp_test_support::worst_case::timed_within;
use ffmcp_transform::{
    convert::{ConvertError, Format, Options, convert},
    html::html_to_markdown,
};

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    timed_within(BUDGET, what, f)
}

/// Repeats `unit` until just under the input limit, wrapped in `head`/`tail`.
fn fill(head: &str, unit: &str, tail: &str) -> String {
    ffmcp_test_support::worst_case::fill(head, unit, tail, LIMIT)
}

/// A guard against super-linear blowups (minutes to hours at these sizes),
/// not a speed target: the slowest case takes ~4 s in a debug build on an
/// idle 2-core machine and over 10 s while other builds run.
const BUDGET: Duration = Duration::from_secs(30);

fn run(input: &str, from: Format, to: Format) -> Result<String, ConvertError> {
    convert(input, from, to, &Options::default()).map(|c| c.output)
}

fn refused(what: &str, input: &str, from: Format, to: Format, needle: &str) {
    let result = timed(what, || run(input, from, to));
    let message = result.expect_err(what).to_string();
    assert!(message.contains(needle), "{what}: {message}");
}

/// Deep nesting in every input format is refused: JSON and YAML block
/// nesting by the parsers' own 128-level limit (JSON < 1 ms, YAML `- - -`
/// ~2 s debug), YAML flow and TOML nesting by the linear pre-scans in
/// `ffmcp_core::limits` (~60 ms; YAML `[` × 2 MiB took 78 s in libyaml before).
#[test]
fn deep_nesting_is_refused_quickly() {
    let json_arrays = "[".repeat(LIMIT);
    refused(
        "json [ x 2 MiB",
        &json_arrays,
        Format::Json,
        Format::Yaml,
        "recursion limit",
    );
    let json_objects = fill("", "{\"a\":", "");
    refused(
        "json {\"a\": x 2 MiB",
        &json_objects,
        Format::Json,
        Format::Yaml,
        "recursion limit",
    );
    let yaml_block = fill("", "- ", "x");
    refused(
        "yaml - - - x 2 MiB",
        &yaml_block,
        Format::Yaml,
        Format::Json,
        "recursion limit",
    );
    let yaml_flow = "[".repeat(LIMIT);
    refused(
        "yaml [[[ x 2 MiB",
        &yaml_flow,
        Format::Yaml,
        Format::Json,
        "the limit is 128",
    );
    let yaml_map = fill("", "a: {", "");
    refused(
        "yaml {a: x 2 MiB",
        &yaml_map,
        Format::Yaml,
        Format::Json,
        "the limit is 128",
    );
    let toml_inline = fill("a = ", "{b = ", "");
    refused(
        "toml inline tables",
        &toml_inline,
        Format::Toml,
        Format::Json,
        "the limit is 128",
    );
    let toml_arrays = fill("a = ", "[", "");
    refused(
        "toml arrays x 2 MiB",
        &toml_arrays,
        Format::Toml,
        Format::Json,
        "the limit is 128",
    );
    let dotted = fill("", "a.", "a = 1\n");
    refused(
        "toml 2 MiB dotted key",
        &dotted,
        Format::Toml,
        Format::Json,
        "the limit is 128",
    );
    let header = fill("[", "a.", "a]\n");
    refused(
        "toml 2 MiB table header",
        &header,
        Format::Toml,
        Format::Json,
        "the limit is 128",
    );
}

/// Wide and long inputs are linear: 500k repeated TOML tables (refused as
/// duplicates, ~2 s debug), 2 MiB of YAML aliases to one anchor (~6 s
/// debug), 300k duplicate JSON keys (~0.8 s).
#[test]
fn wide_inputs_stay_linear() {
    let many_tables = fill("", "[t]\n", "");
    let _ = timed("toml [t] x 500k", || {
        run(&many_tables, Format::Toml, Format::Json)
    });
    let aliases = fill("a: &a [1, 2, 3]\nb: [", "*a, ", "*a]\n");
    let _ = timed("yaml 2 MiB of aliases", || {
        run(&aliases, Format::Yaml, Format::Json)
    });
    let keys = fill("{", "\"k\":1,", "\"k\":1}");
    timed("json 300k duplicate keys", || {
        run(&keys, Format::Json, Format::Yaml)
    })
    .expect("valid");
}

/// CSV: one 2 MiB field, 2 MiB of quotes, 1M columns, and the same shapes
/// written back out (~1 s each debug).
#[test]
fn csv_worst_cases_are_linear() {
    let field = format!("h\n{}\n", "x".repeat(LIMIT - 4));
    timed("csv one 2 MiB field", || {
        run(&field, Format::Csv, Format::Json)
    })
    .expect("valid");
    let quotes = format!("h\n\"{}\"\n", "\"\"".repeat((LIMIT - 6) / 2));
    timed("csv 2 MiB of escaped quotes", || {
        run(&quotes, Format::Csv, Format::Json)
    })
    .expect("valid");
    let columns = fill("", "a,", "a\n");
    timed("csv 1M header columns", || {
        run(&columns, Format::Csv, Format::Json)
    })
    .expect("valid");
    let headerless = fill("", "1,", "1\n");
    let options = Options {
        header: false,
        ..Options::default()
    };
    timed("csv 1M cells headerless", || {
        convert(&headerless, Format::Csv, Format::Json, &options)
    })
    .expect("valid");
}

/// A header of ~190k distinct column names followed by ~500k one-cell rows
/// would pad every row to every column (~10^11 cells): refused by the cell
/// limit once 2M cells are read (~5-8 s debug; before, it allocated
/// without bound).
#[test]
fn csv_padding_expansion_is_refused() {
    let mut header = String::new();
    let mut i = 0;
    while header.len() < LIMIT / 2 {
        header.push_str(&format!("c{i},"));
        i += 1;
    }
    header.push_str("end\n");
    let input = fill(&header, "x\n", "");
    // Building the 2M cells before the refusal is linear but slow in debug.
    let result = timed_within(BUDGET * 3, "csv header x rows padding", || {
        run(&input, Format::Csv, Format::Json)
    });
    let message = result.expect_err("too many cells").to_string();
    assert!(message.contains("cells; the limit is"), "{message}");
}

/// JSON → CSV with one object of ~200k distinct keys: the column union was
/// quadratic (`Vec::contains` per key); now linear (~1.9 s debug).
#[test]
fn csv_output_with_many_columns_is_linear() {
    let mut input = String::from("[{");
    let mut i = 0;
    while input.len() < LIMIT - 32 {
        input.push_str(&format!("\"k{i}\":1,"));
        i += 1;
    }
    input.push_str("\"end\":1}]");
    let out = timed("json 200k keys to csv", || {
        run(&input, Format::Json, Format::Csv)
    })
    .expect("valid");
    assert_eq!(out.lines().count(), 2);
    let mut rows = String::from("[");
    let mut i = 0;
    while rows.len() < LIMIT - 32 {
        rows.push_str(&format!("{{\"k{i}\":1}},"));
        i += 1;
    }
    rows.push_str("{}]");
    // Every row a different key: the union is ~150k columns × ~150k rows,
    // refused by the output cell limit rather than written out.
    let message = timed("json 150k rows x distinct keys to csv", || {
        run(&rows, Format::Json, Format::Csv)
    })
    .expect_err("too many cells")
    .to_string();
    assert!(message.contains("cells; the limit is"), "{message}");
}

/// Pretty output of deeply indented data multiplies the input (indentation
/// per element); the output stops at 32 MiB (~2-3 s debug) instead of
/// growing to ~250 MB (11 s).
#[test]
fn output_amplification_is_capped() {
    let head = "[".repeat(120);
    let tail = format!("1{}", "]".repeat(120));
    let input = fill(&head, "1,", &tail);
    refused(
        "pretty json of 1M deep elements",
        &input,
        Format::Json,
        Format::Json,
        "output",
    );
    refused(
        "yaml of 1M deep elements",
        &input,
        Format::Json,
        Format::Yaml,
        "output",
    );
}

/// HTML: nesting beyond the depth limit is refused by the linear pre-scan
/// (~0.4 s debug); 2 MiB of attributes (~2 s), entities (~6 s) and flat
/// elements convert within the budget. 250k adjacent `<b>x</b>` took 12 s
/// (htmd merges such runs quadratically); merged linearly first, ~2.5 s.
#[test]
fn html_worst_cases() {
    let deep = "<div>".repeat(LIMIT / 5);
    let err = timed("html depth pre-scan", || {
        check_html_depth("html", &deep, MAX_HTML_DEPTH)
    })
    .expect_err("too deep");
    assert!(err.message().contains("the limit is 1024"), "{err}");
    let at_limit = format!("{}x", "<div>".repeat(MAX_HTML_DEPTH));
    timed("html at the depth limit", || {
        html_to_markdown(&at_limit, None)
    });
    let attrs = fill("<p ", "a=b ", ">x</p>");
    timed("html one element with 500k attributes", || {
        html_to_markdown(&attrs, None)
    });
    let entities = fill("<p>", "&amp;", "</p>");
    timed("html 400k entities", || html_to_markdown(&entities, None));
    let flat = fill("", "<b>x</b>", "");
    timed("html 250k flat elements", || html_to_markdown(&flat, None));
    let links = fill("", "<a href=x>y</a>", "");
    timed("html 130k links", || html_to_markdown(&links, None));
}

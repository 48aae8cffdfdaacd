//! Conversion between JSON, YAML, TOML and CSV.
//!
//! Everything goes through one in-memory model, `serde_json::Value` with key
//! order preserved. Conversions that would lose information (nested data to
//! CSV, `null` to TOML, a non-table to TOML) are refused with an error that
//! names the place in the data, never done silently.
//!
//! Hostile input stays linear and bounded: YAML flow and TOML nesting are
//! refused by a linear pre-scan before the parsers see them (libyaml's
//! scanner is quadratic in flow depth, the toml crate recursive); JSON and
//! YAML depth is the parsers' own 128 levels; CSV may not expand to more
//! than [`MAX_CELLS`] cells (short rows are padded to the header); output
//! stops at [`MAX_OUTPUT_BYTES`] (pretty-printing deep data multiplies it).

use std::{collections::HashSet, fmt, io};

use ffmcp_core::limits::{MAX_DATA_DEPTH, toml_depth, yaml_flow_depth};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Most cells a CSV conversion reads or writes (rows × columns, counting the
/// cells a short row is padded with). A 2 MiB CSV has at most ~2M cells of
/// its own; padding or a union of distinct keys could otherwise multiply
/// that without bound.
pub const MAX_CELLS: usize = 1 << 21;

/// Largest output written, in bytes.
pub const MAX_OUTPUT_BYTES: usize = 32 << 20;

/// A data format `convert` reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Yaml,
    Toml,
    Csv,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
            Format::Toml => "TOML",
            Format::Csv => "CSV",
        })
    }
}

/// How to convert.
#[derive(Debug, Clone)]
pub struct Options {
    pub pretty: bool,
    pub delimiter: u8,
    /// CSV: the first row names the columns (rows become objects).
    pub header: bool,
    /// CSV input: turn integers, floats and booleans into typed values.
    pub infer_types: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            pretty: true,
            delimiter: b',',
            header: true,
            infer_types: false,
        }
    }
}

/// A finished conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub output: String,
    /// Data rows read from or written to CSV.
    pub records: Option<usize>,
    pub warnings: Vec<String>,
}

/// Why a conversion failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConvertError {
    #[error("input is not valid {format}: {message}")]
    Parse { format: Format, message: String },
    #[error("cannot write {format}: {message}")]
    Unrepresentable { format: Format, message: String },
}

/// Converts `input` from one format to another.
pub fn convert(
    input: &str,
    from: Format,
    to: Format,
    options: &Options,
) -> Result<Converted, ConvertError> {
    let mut warnings = Vec::new();
    let (value, read_records) = parse(input, from, options)?;
    let (output, written_records) = write(&value, to, options, &mut warnings)?;
    Ok(Converted {
        output,
        records: written_records.or(read_records),
        warnings,
    })
}

fn parse(
    input: &str,
    from: Format,
    options: &Options,
) -> Result<(Value, Option<usize>), ConvertError> {
    let parse_err = |message: String| ConvertError::Parse {
        format: from,
        message,
    };
    let depth = match from {
        Format::Yaml => yaml_flow_depth(input),
        Format::Toml => toml_depth(input),
        Format::Json | Format::Csv => 0,
    };
    if depth > MAX_DATA_DEPTH {
        return Err(parse_err(format!(
            "it nests about {depth} levels deep; the limit is {MAX_DATA_DEPTH}"
        )));
    }
    match from {
        Format::Json => serde_json::from_str(input)
            .map(|v| (v, None))
            .map_err(|e| parse_err(e.to_string())),
        Format::Yaml => yaml_serde::from_str(input)
            .map(|v| (v, None))
            .map_err(|e| parse_err(e.to_string())),
        Format::Toml => {
            let table: toml::Table =
                toml::from_str(input).map_err(|e| parse_err(e.to_string().trim().to_owned()))?;
            Ok((toml_to_json(toml::Value::Table(table)), None))
        }
        Format::Csv => read_csv(input, options)
            .map(|(v, n)| (v, Some(n)))
            .map_err(parse_err),
    }
}

fn write(
    value: &Value,
    to: Format,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Result<(String, Option<usize>), ConvertError> {
    let unrepresentable = |message: String| ConvertError::Unrepresentable {
        format: to,
        message,
    };
    match to {
        Format::Json => {
            let mut out = Bounded::default();
            let written = if options.pretty {
                serde_json::to_writer_pretty(&mut out, value)
            } else {
                serde_json::to_writer(&mut out, value)
            };
            out.finish(written.map_err(|e| e.to_string()))
                .map(|t| (t, None))
                .map_err(unrepresentable)
        }
        Format::Yaml => {
            let mut out = Bounded::default();
            let written = yaml_serde::to_writer(&mut out, value);
            out.finish(written.map_err(|e| e.to_string()))
                .map(|t| (t, None))
                .map_err(unrepresentable)
        }
        Format::Toml => {
            let Value::Object(map) = value else {
                return Err(unrepresentable(format!(
                    "TOML needs a table (an object) at the top level, but the input is {}",
                    describe(value)
                )));
            };
            let table = json_object_to_toml(map, "").map_err(unrepresentable)?;
            let text = if options.pretty {
                toml::to_string_pretty(&table)
            } else {
                toml::to_string(&table)
            };
            let text = text.map_err(|e| unrepresentable(e.to_string()))?;
            if text.len() > MAX_OUTPUT_BYTES {
                return Err(unrepresentable(output_too_large()));
            }
            Ok((text, None))
        }
        Format::Csv => write_csv(value, options, warnings)
            .map(|(t, n)| (t, Some(n)))
            .map_err(unrepresentable),
    }
}

fn output_too_large() -> String {
    format!("the output would be larger than {MAX_OUTPUT_BYTES} bytes, the output limit")
}

/// An in-memory writer that fails once [`MAX_OUTPUT_BYTES`] is passed, so
/// serialization stops there instead of growing without bound.
#[derive(Default)]
struct Bounded {
    bytes: Vec<u8>,
    over: bool,
}

impl Bounded {
    fn finish(self, written: Result<(), String>) -> Result<String, String> {
        if self.over {
            return Err(output_too_large());
        }
        written?;
        String::from_utf8(self.bytes).map_err(|e| e.to_string())
    }
}

impl io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.over = true;
            return Err(io::Error::other(output_too_large()));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn too_many_cells(cells: usize) -> String {
    format!("it would have {cells} or more cells; the limit is {MAX_CELLS} cells")
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
    }
}

fn json_object_to_toml(map: &Map<String, Value>, path: &str) -> Result<toml::Table, String> {
    let mut table = toml::Table::new();
    for (key, value) in map {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        table.insert(key.clone(), json_to_toml(value, &here)?);
    }
    Ok(table)
}

fn json_to_toml(value: &Value, path: &str) -> Result<toml::Value, String> {
    Ok(match value {
        Value::Null => {
            return Err(format!(
                "TOML has no null, but '{path}' is null; remove the key or give it a value"
            ));
        }
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                toml::Value::Integer(i)
            } else if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                toml::Value::Float(f)
            } else {
                return Err(format!(
                    "'{path}' is {n}, outside TOML's 64-bit signed integer range"
                ));
            }
        }
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(items) => toml::Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| json_to_toml(item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => toml::Value::Table(json_object_to_toml(map, path)?),
    })
}

fn read_csv(input: &str, options: &Options) -> Result<(Value, usize), String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .has_headers(options.header)
        .flexible(true)
        .from_reader(input.as_bytes());
    let headers: Vec<String> = if options.header {
        reader
            .headers()
            .map_err(|e| e.to_string())?
            .iter()
            .map(str::to_owned)
            .collect()
    } else {
        Vec::new()
    };
    let mut rows = Vec::new();
    let mut cells_read = 0usize;
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| e.to_string())?;
        cells_read += record.len().max(headers.len());
        if cells_read > MAX_CELLS {
            return Err(too_many_cells(cells_read));
        }
        let cells = record
            .iter()
            .map(|cell| cell_value(cell, options.infer_types));
        if options.header {
            if record.len() > headers.len() {
                return Err(format!(
                    "row {} has {} fields but the header names {} columns",
                    index + 1,
                    record.len(),
                    headers.len()
                ));
            }
            let mut object = Map::new();
            for (name, cell) in headers
                .iter()
                .zip(cells.chain(std::iter::repeat(Value::Null)))
            {
                object.insert(name.clone(), cell);
            }
            rows.push(Value::Object(object));
        } else {
            rows.push(Value::Array(cells.collect()));
        }
    }
    let count = rows.len();
    Ok((Value::Array(rows), count))
}

fn cell_value(cell: &str, infer: bool) -> Value {
    if infer {
        if let Ok(i) = cell.parse::<i64>() {
            return Value::from(i);
        }
        if let Some(n) = cell
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
        match cell {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::String(cell.to_owned())
}

fn write_csv(
    value: &Value,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Result<(String, usize), String> {
    let Value::Array(rows) = value else {
        return Err(format!(
            "CSV needs an array of rows (objects or arrays), but the input is {}",
            describe(value)
        ));
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(options.delimiter)
        .flexible(true)
        .from_writer(Bounded::default());
    let all_objects = rows.iter().all(Value::is_object);
    if all_objects && !rows.is_empty() {
        let columns = column_union(rows, warnings);
        let cells = columns.len().saturating_mul(rows.len());
        if cells > MAX_CELLS {
            return Err(too_many_cells(cells));
        }
        if options.header {
            writer.write_record(&columns).map_err(|e| e.to_string())?;
        }
        for (index, row) in rows.iter().enumerate() {
            let Value::Object(object) = row else { continue };
            let cells = columns
                .iter()
                .map(|column| match object.get(column) {
                    Some(value) => cell_text(value, index, column),
                    None => Ok(String::new()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            writer.write_record(&cells).map_err(|e| e.to_string())?;
        }
    } else {
        for (index, row) in rows.iter().enumerate() {
            let Value::Array(items) = row else {
                return Err(format!(
                    "row {} is {}; every row must be an object (or every row an array)",
                    index + 1,
                    describe(row)
                ));
            };
            let cells = items
                .iter()
                .enumerate()
                .map(|(col, value)| cell_text(value, index, &format!("column {}", col + 1)))
                .collect::<Result<Vec<_>, _>>()?;
            writer.write_record(&cells).map_err(|e| e.to_string())?;
        }
    }
    let out = writer.into_inner().map_err(|e| e.to_string())?;
    Ok((out.finish(Ok(()))?, rows.len()))
}

/// Columns in first-seen order; warns when rows disagree.
fn column_union(rows: &[Value], warnings: &mut Vec<String>) -> Vec<String> {
    // A set beside the ordered list: `Vec::contains` per key was quadratic
    // (200k distinct keys took minutes).
    let mut columns: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut uneven = 0usize;
    for row in rows {
        let Value::Object(object) = row else { continue };
        if !columns.is_empty()
            && (object.len() != columns.len() || !object.keys().all(|k| seen.contains(k.as_str())))
        {
            uneven += 1;
        }
        for key in object.keys() {
            if seen.insert(key) {
                columns.push(key.clone());
            }
        }
    }
    if uneven > 0 {
        warnings.push(format!(
            "{uneven} row(s) have different keys from the first; columns are the union of all keys and missing cells are empty"
        ));
    }
    columns
}

fn cell_text(value: &Value, row: usize, column: &str) -> Result<String, String> {
    Ok(match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => {
            return Err(format!(
                "'{column}' in row {} is {} (nested data); CSV cells hold scalars only. \
                 Flatten that field first, or convert to JSON or YAML instead",
                row + 1,
                describe(value)
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str, from: Format, to: Format) -> Result<Converted, ConvertError> {
        convert(input, from, to, &Options::default())
    }

    fn ok(input: &str, from: Format, to: Format) -> String {
        run(input, from, to).expect("conversion succeeds").output
    }

    fn err(input: &str, from: Format, to: Format) -> String {
        run(input, from, to)
            .expect_err("conversion fails")
            .to_string()
    }

    #[test]
    fn successful_conversions() {
        use Format::*;
        let cases: &[(&str, Format, Format, &str)] = &[
            (
                r#"{"b":1,"a":[true,null]}"#,
                Json,
                Yaml,
                "b: 1\na:\n- true\n- null\n",
            ),
            (
                "b: 1\na: x\n",
                Yaml,
                Json,
                "{\n  \"b\": 1,\n  \"a\": \"x\"\n}",
            ),
            (
                r#"{"name":"x","n":{"k":1.5}}"#,
                Json,
                Toml,
                "name = \"x\"\n\n[n]\nk = 1.5\n",
            ),
            (
                "t = 1979-05-27T07:32:00Z\n",
                Toml,
                Json,
                "{\n  \"t\": \"1979-05-27T07:32:00Z\"\n}",
            ),
            (
                r#"[{"a":1,"b":"x,y"},{"a":2,"b":"z"}]"#,
                Json,
                Csv,
                "a,b\n1,\"x,y\"\n2,z\n",
            ),
            ("[[1,2],[3,4]]", Json, Csv, "1,2\n3,4\n"),
            (
                "a,b\n1,x\n",
                Csv,
                Json,
                "[\n  {\n    \"a\": \"1\",\n    \"b\": \"x\"\n  }\n]",
            ),
        ];
        for (input, from, to, expected) in cases {
            assert_eq!(ok(input, *from, *to), *expected, "{from} -> {to}: {input}");
        }
    }

    #[test]
    fn csv_type_inference_is_opt_in() {
        let options = Options {
            infer_types: true,
            pretty: false,
            ..Options::default()
        };
        let out =
            convert("a,b,c\n1,2.5,true\n", Format::Csv, Format::Json, &options).expect("converts");
        assert_eq!(out.output, r#"[{"a":1,"b":2.5,"c":true}]"#);
        assert_eq!(out.records, Some(1));
    }

    #[test]
    fn csv_delimiter_and_headerless_input() {
        let options = Options {
            header: false,
            delimiter: b';',
            pretty: false,
            ..Options::default()
        };
        let out = convert("1;2\n3;4\n", Format::Csv, Format::Json, &options).expect("converts");
        assert_eq!(out.output, r#"[["1","2"],["3","4"]]"#);
    }

    #[test]
    fn uneven_rows_become_a_union_with_a_warning() {
        let out = run(r#"[{"a":1},{"b":2}]"#, Format::Json, Format::Csv).expect("converts");
        assert_eq!(out.output, "a,b\n1,\n,2\n");
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.records, Some(2));
    }

    #[test]
    fn lossy_conversions_are_refused_with_the_place_named() {
        use Format::*;
        let cases: &[(&str, Format, Format, &str)] = &[
            (
                r#"[{"a":1},{"a":{"deep":1}}]"#,
                Json,
                Csv,
                "'a' in row 2 is an object",
            ),
            (r#"{"a":1}"#, Json, Csv, "CSV needs an array"),
            (r#"[1,2]"#, Json, Csv, "row 1 is a number"),
            (r#"[1,2]"#, Json, Toml, "TOML needs a table"),
            (r#"{"a":{"b":null}}"#, Json, Toml, "'a.b' is null"),
            (r#"{"a":[1,null]}"#, Json, Toml, "'a[1]' is null"),
            (
                r#"{"a":18446744073709551615}"#,
                Json,
                Toml,
                "outside TOML's 64-bit",
            ),
            ("{\"a\": ", Json, Yaml, "line 1"),
            ("a: [1, 2\n", Yaml, Json, "not valid YAML"),
            ("a = \n", Toml, Json, "not valid TOML"),
            ("a,b\n1,2,3\n", Csv, Json, "row 1 has 3 fields"),
        ];
        for (input, from, to, needle) in cases {
            let message = err(input, *from, *to);
            assert!(
                message.contains(needle),
                "{from} -> {to} of {input}: {message}"
            );
        }
    }

    #[test]
    fn yaml_alias_bombs_stay_bounded() {
        let bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n\
                    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n\
                    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n\
                    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n\
                    i: [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
        let message = err(bomb, Format::Yaml, Format::Json);
        assert!(message.contains("not valid YAML"), "{message}");
    }
}

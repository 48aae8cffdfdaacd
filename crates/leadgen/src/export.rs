//! Leads (and, for a job, their classifications) as CSV or JSON.

use serde_json::{Value, json};

use crate::{jobs::ItemResult, lead::Lead};

/// One exported record.
#[derive(Debug, Clone)]
pub struct Record {
    pub lead: Lead,
    /// A job's result for the lead, if exporting a job.
    pub result: Option<ItemResult>,
    pub error: Option<String>,
}

const COLUMNS: &[&str] = &[
    "kind",
    "name",
    "first_name",
    "last_name",
    "title",
    "seniority",
    "function",
    "company",
    "company_domain",
    "website",
    "industry",
    "employees",
    "emails",
    "phones",
    "location",
    "profiles",
    "source_url",
    "method",
];
const JOB_COLUMNS: &[&str] = &["label", "confidence", "rationale", "route", "error"];

/// CSV with a header row; list fields joined with `; `. Cells that a
/// spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`,
/// tab or CR, phone numbers included) get a leading `'`
/// ([`ffmcp_core::output::csv_cell`]); the csv crate quotes per RFC 4180.
pub fn csv(records: &[Record], with_job: bool) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = COLUMNS.to_vec();
    if with_job {
        header.extend(JOB_COLUMNS);
    }
    writer.write_record(&header).map_err(|e| e.to_string())?;
    for r in records {
        let l = &r.lead;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let mut row = vec![
            format!("{:?}", l.kind).to_lowercase(),
            opt(&l.name),
            opt(&l.first_name),
            opt(&l.last_name),
            opt(&l.title),
            l.seniority.map(|s| s.name().to_owned()).unwrap_or_default(),
            opt(&l.function),
            opt(&l.company),
            opt(&l.company_domain),
            opt(&l.website),
            opt(&l.industry),
            l.employees.map(|n| n.to_string()).unwrap_or_default(),
            l.emails.join("; "),
            l.phones.join("; "),
            opt(&l.location),
            l.profiles.join("; "),
            opt(&l.source_url),
            opt(&l.method),
        ];
        if with_job {
            let res = r.result.as_ref();
            row.extend([
                res.map(|x| x.label.clone()).unwrap_or_default(),
                res.map(|x| format!("{:.2}", x.confidence))
                    .unwrap_or_default(),
                res.map(|x| x.rationale.clone()).unwrap_or_default(),
                res.map(|x| x.route.clone()).unwrap_or_default(),
                r.error.clone().unwrap_or_default(),
            ]);
        }
        let row: Vec<String> = row.into_iter().map(defuse).collect();
        writer.write_record(&row).map_err(|e| e.to_string())?;
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

fn defuse(cell: String) -> String {
    match ffmcp_core::output::csv_cell(&cell) {
        std::borrow::Cow::Borrowed(_) => cell,
        std::borrow::Cow::Owned(neutralised) => neutralised,
    }
}

/// A JSON array of leads (each with `classification` when exporting a job).
pub fn json(records: &[Record]) -> String {
    let values: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r.lead).unwrap_or(Value::Null);
            if let Some(res) = &r.result {
                v["classification"] = serde_json::to_value(res).unwrap_or(Value::Null);
            }
            if let Some(e) = &r.error {
                v["classification_error"] = json!(e);
            }
            v
        })
        .collect();
    serde_json::to_string_pretty(&values).unwrap_or_else(|_| "[]".into())
}

//! Compact Markdown reports and the CSV report file.

use crate::{
    audit::PageReport,
    finding::{Finding, Severity},
};

/// A Markdown report of one page: score, key facts, findings by severity.
pub fn page_markdown(p: &PageReport) -> String {
    let mut out = format!("## SEO audit: {}\n\nScore **{}/100**", p.url, p.score);
    if let Some(s) = p.status {
        out.push_str(&format!(" · HTTP {s}"));
    }
    if let Some(ms) = p.response_ms {
        out.push_str(&format!(" · {ms} ms"));
    }
    out.push_str(&format!(
        " · {} words · {} internal / {} external links\n",
        p.words, p.links.internal, p.links.external
    ));
    if let Some(t) = &p.title {
        out.push_str(&format!("\nTitle: {t}"));
    }
    if let Some(d) = &p.description {
        out.push_str(&format!("\nDescription: {d}"));
    }
    out.push('\n');
    out.push_str(&findings_markdown(&p.findings, 40));
    out
}

/// Findings grouped by severity, at most `max` listed.
pub fn findings_markdown(findings: &[Finding], max: usize) -> String {
    if findings.is_empty() {
        return "\nNo findings.\n".to_owned();
    }
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.severity);
    let mut out = String::new();
    let mut current = None;
    for f in sorted.iter().take(max) {
        if current != Some(f.severity) {
            current = Some(f.severity);
            let label = match f.severity {
                Severity::Error => "Errors",
                Severity::Warning => "Warnings",
                Severity::Notice => "Notices",
            };
            out.push_str(&format!("\n### {label}\n"));
        }
        out.push_str(&format!("- `{}` {}", f.id, f.message));
        if let Some(e) = &f.evidence {
            out.push_str(&format!(" — `{}`", e.replace('`', "'")));
        }
        out.push_str(&format!(" → {}\n", f.fix));
    }
    if findings.len() > max {
        out.push_str(&format!(
            "\n… and {} more (see structuredContent)\n",
            findings.len() - max
        ));
    }
    out
}

/// Findings as CSV: url,id,severity,message,evidence,fix. Quoted per
/// RFC 4180 by the csv crate; a cell a spreadsheet would run as a formula
/// (the page's own text is in `evidence`) gets a leading `'`.
pub fn findings_csv(findings: &[Finding]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(["url", "id", "severity", "message", "evidence", "fix"]);
    for f in findings {
        let severity = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
        };
        let row = [
            f.url.as_deref().unwrap_or(""),
            &f.id,
            severity,
            &f.message,
            f.evidence.as_deref().unwrap_or(""),
            &f.fix,
        ];
        let _ = out.write_record(
            row.map(ffmcp_core::output::csv_cell)
                .iter()
                .map(|c| c.as_bytes()),
        );
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let f = Finding::new("title-missing", "\tline\r\nnext", "@x").at("-1");
        let csv = findings_csv(&[f]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<_> = reader.records().collect::<Result<_, _>>().expect("csv");
        assert_eq!(&rows[0][0], "'-1");
        assert_eq!(&rows[0][3], "'\tline\r\nnext");
        assert_eq!(&rows[0][5], "'@x");
        let f = Finding::new("title-missing", "a, \"b\"", "=cmd()").at("https://a.test/");
        let csv = findings_csv(&[f]);
        assert_eq!(
            csv.lines().nth(1),
            Some("https://a.test/,title-missing,error,\"a, \"\"b\"\"\",,'=cmd()")
        );
    }
}

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

/// Findings as CSV: url,id,severity,message,evidence,fix.
pub fn findings_csv(findings: &[Finding]) -> String {
    let mut out = String::from("url,id,severity,message,evidence,fix\n");
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
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn csv_cell(value: &str) -> String {
    // A leading =, +, - or @ would run as a formula in spreadsheets.
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let f = Finding::new("title-missing", "a, \"b\"", "=cmd()").at("https://a.test/");
        let csv = findings_csv(&[f]);
        assert_eq!(
            csv.lines().nth(1),
            Some("https://a.test/,title-missing,error,\"a, \"\"b\"\"\",,'=cmd()")
        );
    }
}

//! The report as text for people and as JSON for tools.

use super::*;

pub(super) fn render_json(path: &Path, report: &Report) -> Value {
    let findings: Vec<Value> = report
        .findings()
        .map(|f| {
            let mut obj = json!({
                "severity": f.severity.as_str(),
                "server": f.server,
                "rule": f.rule,
                "message": f.message,
                "fix": f.fix,
            });
            if let (Some(suggestion), Some(map)) = (&f.suggestion, obj.as_object_mut()) {
                map.insert("suggestion".into(), suggestion.clone());
            }
            obj
        })
        .collect();
    json!({
        "config": path.display().to_string(),
        "servers": report.servers.len(),
        "findings": findings,
        "summary": {
            "high": report.count(Severity::High),
            "medium": report.count(Severity::Medium),
            "low": report.count(Severity::Low),
        },
    })
}

pub(super) fn render_text(path: &Path, report: &Report) -> String {
    let count = report.servers.len();
    let plural = if count == 1 { "" } else { "s" };
    let mut out = format!("ffmcp audit: {} ({count} server{plural})\n", path.display());
    if count == 0 {
        out.push_str("no MCP servers found (looked for mcpServers, servers, mcp.servers)\n");
    }
    for server in &report.servers {
        let name = &server.name;
        if server.findings.is_empty() {
            out.push_str(&format!("\n{name}: no findings\n"));
            continue;
        }
        out.push_str(&format!("\n{name}\n"));
        for f in &server.findings {
            let tag = format!("[{}]", f.severity.as_str().to_ascii_uppercase());
            out.push_str(&format!("  {tag:<8} {}: {}\n", f.rule, f.message));
            out.push_str(&format!("           fix: {}\n", f.fix));
        }
        if let Some(suggestion) = server.findings.iter().find_map(|f| f.suggestion.as_ref()) {
            out.push_str(&format!("  suggested entry: {suggestion}\n"));
            out.push_str("  (`ffmcp audit --fix` writes it, with a minimal policy)\n");
        }
    }
    out.push_str(&format!(
        "\n{} high, {} medium, {} low\n",
        report.count(Severity::High),
        report.count(Severity::Medium),
        report.count(Severity::Low)
    ));
    out
}

//! The operator page as HTML: every value escaped, no script, no inline
//! style (the CSP forbids both), one embedded stylesheet.

use std::fmt::Write as _;

use serde_json::Value;

use super::{STYLE_PATH, View};

/// The whole page.
pub fn page(view: &View) -> String {
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>ffmcp operator</title><link rel=\"stylesheet\" href=\"{STYLE_PATH}\"></head>\n<body>\
         <header><h1>ffmcp <span class=\"muted\">{}</span></h1>\
         <p class=\"muted\">Read-only view of this <code>ffmcp serve</code>; reload for fresh figures.</p>\
         <nav><a href=\"#servers\">Servers</a> <a href=\"#models\">Model routes</a> \
         <a href=\"#watches\">Watches</a> <a href=\"#jobs\">Leadgen jobs</a> \
         <a href=\"#crawls\">SEO crawls</a> <a href=\"#errors\">Recent errors</a></nav></header>\n<main>",
        env!("CARGO_PKG_VERSION")
    );
    servers(&mut html, view);
    models(&mut html, view);
    watches(&mut html, view);
    jobs(&mut html, view);
    crawls(&mut html, view);
    errors(&mut html, view);
    html.push_str("</main></body></html>\n");
    html
}

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON value as a short cell text.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => "–".to_owned(),
        Value::String(s) => esc(s),
        Value::Array(items) => esc(&items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", ")),
        other => esc(&other.to_string()),
    }
}

fn table(html: &mut String, id: &str, head: &[&str], rows: &[Vec<String>]) {
    let _ = write!(html, "<table id=\"{id}\"><thead><tr>");
    for h in head {
        let _ = write!(html, "<th>{h}</th>");
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows {
        html.push_str("<tr>");
        for c in row {
            let _ = write!(html, "<td>{c}</td>");
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
}

fn empty(html: &mut String, text: &str) {
    let _ = write!(html, "<p class=\"empty\">{}</p>", esc(text));
}

/// `items` as table `id`, a row each, or the line `none` when there are none.
fn items_table<T>(
    html: &mut String,
    items: &[T],
    none: &str,
    id: &str,
    head: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) {
    if items.is_empty() {
        empty(html, none);
    } else {
        let rows: Vec<Vec<String>> = items.iter().map(row).collect();
        table(html, id, head, &rows);
    }
}

fn servers(html: &mut String, view: &View) {
    html.push_str("<section id=\"servers\"><h2>Servers and tools</h2>");
    for server in &view.servers {
        let _ = write!(
            html,
            "<details class=\"server\"><summary><strong>{}</strong> — {} <span class=\"muted\">({} tools)</span></summary>",
            esc(server.name),
            esc(server.summary),
            server.tools.len()
        );
        let rows: Vec<Vec<String>> = server
            .tools
            .iter()
            .map(|(name, title, description)| {
                vec![
                    format!("<code>{}</code>", esc(name)),
                    esc(title),
                    esc(description),
                ]
            })
            .collect();
        table(
            html,
            &format!("tools-{}", esc(server.name)),
            &["tool", "title", "what it does"],
            &rows,
        );
        html.push_str("</details>");
    }
    html.push_str("</section>\n");
}

fn percentiles(latency: &Value) -> String {
    if latency.is_null() {
        return "–".to_owned();
    }
    format!(
        "{} / {} / {}",
        cell(&latency["p50_ms"]),
        cell(&latency["p95_ms"]),
        cell(&latency["p99_ms"])
    )
}

/// The headings of [`usage`]'s columns.
const USAGE_HEAD: [&str; 3] = ["p50 / p95 / p99 ms", "tokens in / out", "cost"];

/// The usage columns of a route's or a tool's model statistics: latency
/// percentiles, tokens in / out, cost.
fn usage(s: &Value) -> [String; 3] {
    [
        percentiles(&s["latency"]),
        format!(
            "{} / {}",
            cell(&s["input_tokens"]),
            cell(&s["output_tokens"])
        ),
        cost(&s["cost_usd"]),
    ]
}

fn cost(value: &Value) -> String {
    value
        .as_f64()
        .map_or_else(|| "–".to_owned(), |c| format!("${c:.4}"))
}

fn models(html: &mut String, view: &View) {
    html.push_str("<section id=\"models\"><h2>Model routes</h2>");
    let Some(stats) = &view.stats else {
        empty(html, "No server with model tools answered (ffmcp://stats).");
        html.push_str("</section>\n");
        return;
    };
    let routes = stats["routes"].as_array().cloned().unwrap_or_default();
    items_table(
        html,
        &routes,
        "No model route is configured (FF_LLM_PRIMARY, FF_LLM_FALLBACKS); model tools use the client's own model where it offers one.",
        "routes",
        &[
            "route",
            "position",
            "breaker",
            "failures in a row",
            "attempts",
            "answered",
            "failed",
            "skipped (open)",
            USAGE_HEAD[0],
            USAGE_HEAD[1],
            USAGE_HEAD[2],
        ],
        |r| {
            let route = r["route"].as_str().unwrap_or("");
            let s = &stats["stats"]["routes"][route];
            let health = cell(&r["health"]);
            [
                format!("<code>{}</code>", esc(route)),
                cell(&r["position"]),
                format!("<span class=\"health {health}\">{health}</span>"),
                cell(&r["consecutive_failures"]),
                cell(&s["attempts"]),
                cell(&s["successes"]),
                cell(&s["failures"]),
                cell(&s["skipped"]),
            ]
            .into_iter()
            .chain(usage(s))
            .collect()
        },
    );
    if let Some(tools) = stats["stats"]["tools"].as_object()
        && !tools.is_empty()
    {
        html.push_str("<h3>Model calls per tool</h3>");
        let rows: Vec<Vec<String>> = tools
            .iter()
            .map(|(tool, s)| {
                [
                    format!("<code>{}</code>", esc(tool)),
                    cell(&s["calls"]),
                    cell(&s["failures"]),
                    cell(&s["fallbacks"]),
                ]
                .into_iter()
                .chain(usage(s))
                .collect()
            })
            .collect();
        table(
            html,
            "model-tools",
            &[
                "tool",
                "calls",
                "failed",
                "by a fallback",
                USAGE_HEAD[0],
                USAGE_HEAD[1],
                USAGE_HEAD[2],
            ],
            &rows,
        );
    }
    html.push_str("</section>\n");
}

fn watches(html: &mut String, view: &View) {
    html.push_str("<section id=\"watches\"><h2>Competitive-intel watches</h2>");
    items_table(
        html,
        &view.watches,
        "No watches (competitive-intel watch_add).",
        "watch-list",
        &[
            "id",
            "url",
            "kind",
            "competitor",
            "tags",
            "last checked",
            "outcome",
        ],
        |w| {
            vec![
                cell(&w["id"]),
                format!("<code>{}</code>", cell(&w["url"])),
                cell(&w["kind"]),
                cell(&w["competitor"]),
                cell(&w["tags"]),
                cell(&w["last_checked"]),
                cell(&w["last_outcome"]),
            ]
        },
    );
    html.push_str("<h3>Latest changes</h3>");
    items_table(
        html,
        &view.changes,
        "No changes detected yet.",
        "changes",
        &["detected", "watch", "kind", "what", "summary"],
        |c| {
            vec![
                cell(&c["detected_at"]),
                cell(&c["watch_id"]),
                cell(&c["kind"]),
                cell(if c["title"].is_null() {
                    &c["watch_url"]
                } else {
                    &c["title"]
                }),
                cell(&c["summary"]),
            ]
        },
    );
    if let Some((change, diff)) = &view.diff {
        let _ = write!(
            html,
            "<h3>Diff of the latest page change</h3><p class=\"muted\">watch {} — <code>{}</code>, {}: +{} −{} lines</p>",
            cell(&change["watch_id"]),
            cell(&change["watch_url"]),
            cell(&change["detected_at"]),
            cell(&diff["lines_added"]),
            cell(&diff["lines_removed"]),
        );
        side_by_side(html, diff["unified"].as_str().unwrap_or(""));
    }
    html.push_str("</section>\n");
}

/// A unified diff as two columns: before on the left, after on the right.
fn side_by_side(html: &mut String, unified: &str) {
    html.push_str(
        "<table id=\"diff\" class=\"diff\"><thead><tr><th>before</th><th>after</th></tr></thead><tbody>",
    );
    let (mut removed, mut added): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    let flush = |html: &mut String, removed: &mut Vec<&str>, added: &mut Vec<&str>| {
        for i in 0..removed.len().max(added.len()) {
            let left = removed.get(i).map_or_else(
                || "<td class=\"none\"></td>".to_owned(),
                |l| format!("<td class=\"del\">{}</td>", esc(l)),
            );
            let right = added.get(i).map_or_else(
                || "<td class=\"none\"></td>".to_owned(),
                |l| format!("<td class=\"ins\">{}</td>", esc(l)),
            );
            let _ = write!(html, "<tr>{left}{right}</tr>");
        }
        removed.clear();
        added.clear();
    };
    for line in unified.lines() {
        if line.starts_with("---") || line.starts_with("+++") {
            continue;
        }
        if let Some(rest) = line.strip_prefix('-') {
            removed.push(rest);
        } else if let Some(rest) = line.strip_prefix('+') {
            added.push(rest);
        } else {
            flush(html, &mut removed, &mut added);
            if line.starts_with("@@") {
                let _ = write!(
                    html,
                    "<tr class=\"hunk\"><td colspan=\"2\">{}</td></tr>",
                    esc(line)
                );
            } else {
                let text = esc(line.strip_prefix(' ').unwrap_or(line));
                let _ = write!(html, "<tr><td>{text}</td><td>{text}</td></tr>");
            }
        }
    }
    flush(html, &mut removed, &mut added);
    html.push_str("</tbody></table>");
}

fn jobs(html: &mut String, view: &View) {
    html.push_str("<section id=\"jobs\"><h2>Leadgen jobs</h2>");
    items_table(
        html,
        &view.jobs,
        "No classification jobs (leadgen job_start).",
        "job-list",
        &["job", "state", "progress", "failed", "pending"],
        |j| {
            let (done, total) = (
                j["done"].as_u64().unwrap_or(0),
                j["total"].as_u64().unwrap_or(0),
            );
            vec![
                format!("<code>{}</code>", cell(&j["id"])),
                cell(&j["state"]),
                format!(
                    "<progress value=\"{done}\" max=\"{}\">{done} of {total}</progress> {done} of {total}",
                    total.max(1)
                ),
                cell(&j["failed"]),
                cell(&j["pending"]),
            ]
        },
    );
    html.push_str("</section>\n");
}

/// The mean of the pages' scores, when they carry one.
fn mean_score(crawl: &Value) -> String {
    let scores: Vec<f64> = crawl["pages"]
        .as_array()
        .map(|pages| pages.iter().filter_map(|p| p["score"].as_f64()).collect())
        .unwrap_or_default();
    if scores.is_empty() {
        return "–".to_owned();
    }
    format!("{:.0}", scores.iter().sum::<f64>() / scores.len() as f64)
}

fn crawls(html: &mut String, view: &View) {
    html.push_str("<section id=\"crawls\"><h2>SEO crawls</h2>");
    items_table(
        html,
        &view.crawls,
        "No kept crawls (seo audit_site).",
        "crawl-list",
        &[
            "crawl",
            "start",
            "stopped",
            "pages",
            "mean score",
            "failed URLs",
            "queued",
        ],
        |c| {
            vec![
                format!("<code>{}</code>", cell(&c["crawl_id"])),
                format!("<code>{}</code>", cell(&c["start"])),
                cell(&c["stop"]),
                cell(&c["pages_audited"]),
                mean_score(c),
                cell(&c["urls_failed"]),
                cell(&c["urls_queued"]),
            ]
        },
    );
    html.push_str("</section>\n");
}

fn errors(html: &mut String, view: &View) {
    html.push_str("<section id=\"errors\"><h2>Recent errors</h2>");
    let mut rows: Vec<Vec<String>> = Vec::new();
    if let Some(routes) = view.stats.as_ref().and_then(|s| s["routes"].as_array()) {
        for r in routes.iter().filter(|r| r["last_error"].is_string()) {
            rows.push(vec![
                format!("model route <code>{}</code>", cell(&r["route"])),
                cell(&r["last_error"]),
            ]);
        }
    }
    for w in view.watches.iter().filter(|w| w["last_error"].is_string()) {
        rows.push(vec![
            format!("watch {}", cell(&w["id"])),
            cell(&w["last_error"]),
        ]);
    }
    for j in view.jobs.iter().filter(|j| j["last_error"].is_string()) {
        rows.push(vec![
            format!("job <code>{}</code>", cell(&j["id"])),
            cell(&j["last_error"]),
        ]);
    }
    for c in view
        .crawls
        .iter()
        .filter(|c| c["urls_failed"].as_u64().unwrap_or(0) > 0)
    {
        rows.push(vec![
            format!("crawl <code>{}</code>", cell(&c["crawl_id"])),
            format!("{} URLs failed", cell(&c["urls_failed"])),
        ]);
    }
    for problem in &view.problems {
        rows.push(vec!["this page".to_owned(), esc(problem)]);
    }
    if rows.is_empty() {
        empty(html, "None.");
    } else {
        table(html, "error-list", &["where", "error"], &rows);
    }
    html.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_diffs_pair_up() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        let mut html = String::new();
        side_by_side(
            &mut html,
            "--- a\n+++ b\n@@ -1,3 +1,3 @@\n same\n-old <b>\n+new\n+more\n",
        );
        assert!(
            html.contains("<tr><td>same</td><td>same</td></tr>"),
            "{html}"
        );
        assert!(
            html.contains("<td class=\"del\">old &lt;b&gt;</td><td class=\"ins\">new</td>"),
            "{html}"
        );
        assert!(
            html.contains("<td class=\"none\"></td><td class=\"ins\">more</td>"),
            "{html}"
        );
    }
}

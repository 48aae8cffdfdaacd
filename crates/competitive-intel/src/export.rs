//! Detected changes as JSON, CSV or an Atom feed, so a spreadsheet, a
//! script or any feed reader can consume them.

use serde::Deserialize;

use crate::db::Change;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
    Atom,
}

impl Format {
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Self::Json),
            "csv" => Some(Self::Csv),
            "atom" | "xml" => Some(Self::Atom),
            _ => None,
        }
    }

    /// What `core::output` checks the file name against.
    pub fn output_kind(self) -> ffmcp_core::output::Kind {
        match self {
            Self::Json => ffmcp_core::output::Kind::Json,
            Self::Csv => ffmcp_core::output::Kind::Csv,
            Self::Atom => ffmcp_core::output::Kind::Atom,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Atom => "atom",
        }
    }
}

/// Renders `changes` (oldest first) in `format`.
pub fn render(changes: &[Change], format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(changes).unwrap_or_else(|_| "[]".into()),
        Format::Csv => csv(changes),
        Format::Atom => atom(changes),
    }
}

fn csv(changes: &[Change]) -> String {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    let _ = out.write_record([
        "id",
        "detected_at",
        "kind",
        "competitor",
        "tags",
        "watch_url",
        "title",
        "link",
        "summary",
    ]);
    for c in changes {
        let tags = c.tags.join(";");
        let id = c.id.to_string();
        let cells = [
            id.as_str(),
            &c.detected_at,
            &c.kind,
            c.competitor.as_deref().unwrap_or_default(),
            &tags,
            &c.watch_url,
            c.title.as_deref().unwrap_or_default(),
            c.link.as_deref().unwrap_or_default(),
            c.summary.as_deref().unwrap_or_default(),
        ];
        // Titles and summaries come from the watched sites: a cell a
        // spreadsheet would run as a formula gets a leading `'`.
        let _ = out.write_record(
            cells
                .map(ffmcp_core::output::csv_cell)
                .iter()
                .map(|c| c.as_bytes()),
        );
    }
    let bytes = out.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

fn atom(changes: &[Change]) -> String {
    let updated = changes
        .last()
        .map_or_else(crate::engine::now_rfc3339, |c| c.detected_at.clone());
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>ffmcp competitive-intel: detected changes</title>\n\
         <id>urn:ffmcp:competitive-intel:changes</id>\n<updated>{}</updated>\n\
         <generator>ffmcp</generator>\n",
        escape(&updated)
    );
    for c in changes.iter().rev() {
        let what = match c.kind.as_str() {
            "new_item" => "New",
            "edited_item" => "Edited",
            _ => "Page changed",
        };
        let who = c.competitor.as_deref().unwrap_or(&c.watch_url);
        let title = format!(
            "{what} ({who}): {}",
            c.title.as_deref().unwrap_or(&c.watch_url)
        );
        xml.push_str(&format!(
            "<entry>\n<id>urn:ffmcp:competitive-intel:change:{}</id>\n<title>{}</title>\n<updated>{}</updated>\n",
            c.id,
            escape(&title),
            escape(&c.detected_at)
        ));
        if let Some(link) = &c.link {
            xml.push_str(&format!("<link href=\"{}\"/>\n", escape(link)));
        }
        for tag in &c.tags {
            xml.push_str(&format!("<category term=\"{}\"/>\n", escape(tag)));
        }
        if let Some(summary) = &c.summary {
            xml.push_str(&format!("<summary>{}</summary>\n", escape(summary)));
        }
        xml.push_str("</entry>\n");
    }
    xml.push_str("</feed>\n");
    xml
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: i64, title: &str) -> Change {
        Change {
            id,
            watch_id: 1,
            watch_url: "https://acme.example/blog".into(),
            competitor: Some("Acme".into()),
            tags: vec!["blog".into()],
            kind: "new_item".into(),
            title: Some(title.into()),
            link: Some(format!("https://acme.example/p/{id}?a=1&b=2")),
            summary: Some("Line, with \"quotes\"".into()),
            snapshot_id: None,
            previous_snapshot_id: None,
            detected_at: "2026-11-25T10:00:00.000Z".into(),
        }
    }

    #[test]
    fn hostile_titles_land_neutralised_and_quoted_in_csv() {
        let changes = vec![
            change(1, "=HYPERLINK(\"http://evil.example/\",\"click\")"),
            change(2, "$(touch /tmp/pwn)\nsecond line"),
            change(3, "@SUM(1+1)"),
        ];
        let csv = render(&changes, Format::Csv);
        assert!(
            csv.contains("\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"click\"\")\""),
            "{csv}"
        );
        let mut reader = ::csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<_> = reader.records().collect::<Result<_, _>>().expect("csv");
        assert_eq!(
            &rows[0][6],
            "'=HYPERLINK(\"http://evil.example/\",\"click\")"
        );
        assert_eq!(&rows[1][6], "$(touch /tmp/pwn)\nsecond line");
        assert_eq!(&rows[2][6], "'@SUM(1+1)");
    }

    #[test]
    fn every_format_round_trips_through_a_reader() {
        let changes = vec![change(1, "Launch <v2> & more"), change(2, "Second")];
        let json: serde_json::Value =
            serde_json::from_str(&render(&changes, Format::Json)).expect("json");
        assert_eq!(json[0]["title"], "Launch <v2> & more");
        let csv = render(&changes, Format::Csv);
        let mut reader = ::csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<_> = reader.records().collect::<Result<_, _>>().expect("csv");
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][8], "Line, with \"quotes\"");
        let atom = render(&changes, Format::Atom);
        let parsed = crate::feed::parse(atom.as_bytes(), None).expect("our Atom parses");
        assert_eq!(parsed.kind, "atom");
        assert_eq!(parsed.items.len(), 2);
        assert_eq!(
            parsed.items[1].title.as_deref(),
            Some("New (Acme): Launch <v2> & more")
        );
        assert_eq!(
            parsed.items[0].link.as_deref(),
            Some("https://acme.example/p/2?a=1&b=2")
        );
    }
}

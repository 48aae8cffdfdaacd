//! XML sitemaps (sitemaps.org 0.9): urlsets and sitemap indexes, plain or
//! gzip (decompressed with a cap, so a gzip bomb stops at the limit).

use std::io::Read;

use quick_xml::{Reader, events::Event};
use schemars::JsonSchema;
use serde::Serialize;

/// The protocol's limits: 50,000 URLs and 50 MB uncompressed per file.
pub const MAX_URLS: usize = 50_000;
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;
/// Deepest element nesting read. A sitemap nests four levels
/// (`urlset/url/image:image/image:loc`); without a limit 50 MiB of `<x>`
/// kept 17M open element names (about 1 GB).
pub const MAX_DEPTH: usize = 64;

/// What a sitemap file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Urlset,
    Index,
}

/// One `<url>` or `<sitemap>` entry.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Entry {
    pub loc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lastmod: Option<String>,
}

/// A parsed sitemap file with the problems found in it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Sitemap {
    pub kind: Kind,
    pub entries: Vec<Entry>,
    pub errors: Vec<String>,
}

/// Why a file is not a sitemap at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SitemapError {
    #[error("the gzip stream is corrupt: {0}")]
    Gzip(String),
    #[error("the sitemap is larger than {0} bytes uncompressed (the protocol limit)")]
    TooLarge(u64),
    #[error("not XML: {0}")]
    Xml(String),
    #[error("the root element is <{0}>, not <urlset> or <sitemapindex>")]
    NotSitemap(String),
    #[error("elements nest more than {0} levels deep; a sitemap needs four")]
    TooDeep(usize),
}

/// Parses `bytes` (gzip detected by its magic number). `site` is the URL
/// the sitemap came from: entries on other hosts are reported.
pub fn parse(bytes: &[u8], site: Option<&url::Url>) -> Result<Sitemap, SitemapError> {
    let xml = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| SitemapError::Gzip(e.to_string()))?;
        out
    } else {
        bytes.to_vec()
    };
    if xml.len() as u64 > MAX_BYTES {
        return Err(SitemapError::TooLarge(MAX_BYTES));
    }
    let mut reader = Reader::from_reader(xml.as_slice());
    reader.config_mut().trim_text(true);
    let mut kind = None;
    let mut entries = Vec::new();
    let mut seen = 0usize;
    let mut errors = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut current: Option<Entry> = None;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| SitemapError::Xml(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(e) => {
                let name = AsRef::<str>::as_ref(&e.local_name()).to_owned();
                if path.is_empty() {
                    kind = Some(match name.as_str() {
                        "urlset" => Kind::Urlset,
                        "sitemapindex" => Kind::Index,
                        _ => return Err(SitemapError::NotSitemap(name)),
                    });
                }
                if path.len() == 1 && (name == "url" || name == "sitemap") {
                    current = Some(Entry {
                        loc: String::new(),
                        lastmod: None,
                    });
                }
                if path.len() >= MAX_DEPTH {
                    return Err(SitemapError::TooDeep(MAX_DEPTH));
                }
                path.push(name);
            }
            Event::End(_) => {
                if path.len() == 2
                    && let Some(entry) = current.take()
                {
                    if entry.loc.is_empty() {
                        errors.push(format!("entry {} has no <loc>", entries.len() + 1));
                    } else {
                        // Past the protocol's limit only the count is kept.
                        seen += 1;
                        if entries.len() < MAX_URLS {
                            entries.push(entry);
                        }
                    }
                }
                path.pop();
            }
            Event::Text(t) => {
                let text = t.xml10_content().trim().to_owned();
                append(&path, &mut current, &text);
            }
            Event::CData(t) => {
                let text = t.xml10_content().trim().to_owned();
                append(&path, &mut current, &text);
            }
            Event::GeneralRef(r) => {
                // `&amp;` and friends arrive as references between text runs.
                let text = match AsRef::<str>::as_ref(&r) {
                    "amp" => "&".to_owned(),
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    _ => r
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .map(String::from)
                        .unwrap_or_default(),
                };
                append(&path, &mut current, &text);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let Some(kind) = kind else {
        return Err(SitemapError::Xml("no root element".into()));
    };
    if seen > MAX_URLS {
        errors.push(format!(
            "{seen} entries; the protocol allows {MAX_URLS} per file (extra entries ignored)"
        ));
        entries.truncate(MAX_URLS);
    }
    for entry in &entries {
        match url::Url::parse(&entry.loc) {
            Err(_) => errors.push(format!("<loc>{}</loc> is not an absolute URL", entry.loc)),
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                errors.push(format!("<loc>{}</loc> is not http(s)", entry.loc));
            }
            Ok(u) => {
                if let Some(site) = site
                    && u.host_str() != site.host_str()
                {
                    errors.push(format!(
                        "<loc>{}</loc> is on another host than the sitemap ({})",
                        entry.loc,
                        site.host_str().unwrap_or("")
                    ));
                }
            }
        }
    }
    Ok(Sitemap {
        kind,
        entries,
        errors,
    })
}

fn append(path: &[String], current: &mut Option<Entry>, text: &str) {
    let (Some(entry), Some(field)) = (current.as_mut(), path.last()) else {
        return;
    };
    if path.len() != 3 {
        return;
    }
    match field.as_str() {
        "loc" => entry.loc.push_str(text),
        "lastmod" => entry.lastmod.get_or_insert_with(String::new).push_str(text),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const URLSET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://a.test/</loc><lastmod>2026-01-01</lastmod></url>
  <url><loc>https://a.test/p?x=1&amp;y=2</loc></url>
  <url><loc>/relative</loc></url>
  <url><loc>https://other.test/</loc></url>
  <url><lastmod>2026-01-01</lastmod></url>
</urlset>"#;

    #[test]
    fn urlsets_indexes_gzip_and_errors() {
        let site = url::Url::parse("https://a.test/sitemap.xml").expect("url");
        let map = parse(URLSET.as_bytes(), Some(&site)).expect("parses");
        assert_eq!(map.kind, Kind::Urlset);
        let locs: Vec<&str> = map.entries.iter().map(|e| e.loc.as_str()).collect();
        assert_eq!(
            locs,
            [
                "https://a.test/",
                "https://a.test/p?x=1&y=2",
                "/relative",
                "https://other.test/"
            ]
        );
        assert_eq!(map.entries[0].lastmod.as_deref(), Some("2026-01-01"));
        assert_eq!(map.errors.len(), 3, "{:?}", map.errors);

        let index =
            "<sitemapindex><sitemap><loc>https://a.test/s1.xml.gz</loc></sitemap></sitemapindex>";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(index.as_bytes()).expect("gzip");
        let map = parse(&gz.finish().expect("gzip"), None).expect("gz index");
        assert_eq!(map.kind, Kind::Index);
        assert_eq!(map.entries[0].loc, "https://a.test/s1.xml.gz");

        assert!(matches!(
            parse(b"<html></html>", None),
            Err(SitemapError::NotSitemap(_))
        ));
        assert!(
            matches!(parse(b"<urlset><url>", None), Err(SitemapError::Xml(_)))
                || parse(b"<urlset><url>", None).is_ok()
        );
        assert!(matches!(
            parse(&[0x1f, 0x8b, 0, 1, 2], None),
            Err(SitemapError::Gzip(_))
        ));
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let block = vec![b' '; 1 << 20];
        gz.write_all(b"<urlset>").expect("gzip");
        for _ in 0..60 {
            gz.write_all(&block).expect("gzip");
        }
        let bomb = gz.finish().expect("gzip");
        assert!(bomb.len() < 1 << 20);
        assert_eq!(parse(&bomb, None), Err(SitemapError::TooLarge(MAX_BYTES)));
    }
}

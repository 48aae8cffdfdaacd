//! Where a document comes from: a path under the allowed roots, a URL
//! through the SSRF-safe fetcher, or inline base64. Every source is read
//! with the same size limit, and yields bytes plus the hints detection uses
//! (file name, media type, base URL).

use ffmcp_core::{
    ToolError,
    fetch::{FetchRequest, Fetcher},
    roots::Roots,
};
use url::Url;

use crate::Format;

/// A loaded document.
#[derive(Debug)]
pub struct Loaded {
    pub bytes: Vec<u8>,
    /// File name (for detection by extension).
    pub name: Option<String>,
    /// Media type from the server, for URLs.
    pub media_type: Option<String>,
    /// The final URL, for URLs (to resolve relative links).
    pub url: Option<Url>,
    /// What to call the source in results: the path, URL or file name.
    pub label: String,
}

impl Loaded {
    /// The format: magic bytes, then the server's media type, then the name.
    pub fn format(&self) -> Format {
        let detected = crate::detect::detect(&self.bytes, self.name.as_deref());
        if matches!(detected, Format::Text | Format::Unknown)
            && let Some(by_media) = self.media_type.as_deref().and_then(Format::from_media_type)
        {
            return by_media;
        }
        detected
    }
}

/// The source fields every docparse tool takes; exactly one of `path`,
/// `url` and `content_base64` must be set.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub path: Option<&'a str>,
    pub url: Option<&'a str>,
    pub content_base64: Option<&'a str>,
    pub filename: Option<&'a str>,
}

impl Source<'_> {
    /// Reads the document, at most `max_bytes`.
    pub async fn load(
        &self,
        roots: &Roots,
        fetcher: &Fetcher,
        max_bytes: u64,
    ) -> Result<Loaded, ToolError> {
        let given = [self.path, self.url, self.content_base64]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if given != 1 {
            return Err(ToolError::invalid(
                "give exactly one of 'path' (a local file under the allowed roots), 'url' (http or https) or 'content_base64' (with 'filename')",
            ));
        }
        if let Some(path) = self.path {
            return load_path(path, roots, max_bytes).await;
        }
        if let Some(url) = self.url {
            return load_url(url, fetcher, max_bytes).await;
        }
        let encoded = self.content_base64.unwrap_or_default();
        load_base64(encoded, self.filename, max_bytes)
    }
}

async fn load_path(path: &str, roots: &Roots, max_bytes: u64) -> Result<Loaded, ToolError> {
    let allowed = roots.check_read(path)?;
    let path = allowed.as_path().to_path_buf();
    let shown = path.display().to_string();
    let cannot_read = |e: std::io::Error| ToolError::invalid(format!("cannot read '{shown}': {e}"));
    // Opened again beneath its root (no symlink swap between check and
    // open), read with the cap, off the async workers.
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<Result<Vec<u8>, u64>> {
        use std::io::Read;
        let file = allowed.open_read()?;
        let len = file.metadata()?.len();
        if len > max_bytes {
            return Ok(Err(len));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(max_bytes + 1).read_to_end(&mut bytes)?;
        Ok(Ok(bytes))
    })
    .await
    .map_err(|e| ToolError::internal(format!("file read task failed: {e}")))?;
    let bytes = match read.map_err(cannot_read)? {
        Ok(bytes) => bytes,
        Err(len) => return Err(too_large(&shown, len, max_bytes)),
    };
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(
            &path.display().to_string(),
            bytes.len() as u64,
            max_bytes,
        ));
    }
    Ok(Loaded {
        bytes,
        name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
        media_type: None,
        url: None,
        label: path.display().to_string(),
    })
}

async fn load_url(url: &str, fetcher: &Fetcher, max_bytes: u64) -> Result<Loaded, ToolError> {
    let request = FetchRequest::get(url)
        .accept("application/pdf, text/html;q=0.9, */*;q=0.8")
        .max_body_bytes(max_bytes);
    let fetched = fetcher.fetch(request).await.map_err(|e| {
        if e.is_refusal() {
            ToolError::invalid(e.to_string())
        } else {
            ToolError::upstream(e.to_string())
        }
    })?;
    if !fetched.is_success() {
        return Err(ToolError::upstream(format!(
            "{} answered HTTP {}",
            fetched.url, fetched.status
        )));
    }
    let name = fetched
        .url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Ok(Loaded {
        media_type: fetched.media_type(),
        label: fetched.url.to_string(),
        url: Some(fetched.url),
        name,
        bytes: fetched.body,
    })
}

fn load_base64(encoded: &str, filename: Option<&str>, max_bytes: u64) -> Result<Loaded, ToolError> {
    use base64::Engine;
    // 4 characters carry 3 bytes: refuse before decoding anything large.
    let decoded_estimate = (encoded.len() as u64 / 4) * 3;
    if decoded_estimate > max_bytes {
        return Err(too_large("content_base64", decoded_estimate, max_bytes));
    }
    let cleaned: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(cleaned.as_bytes()))
        .map_err(|e| ToolError::invalid(format!("'content_base64' is not valid base64: {e}")))?;
    let label = filename.unwrap_or("content_base64").to_owned();
    Ok(Loaded {
        bytes,
        name: filename.map(str::to_owned),
        media_type: None,
        url: None,
        label,
    })
}

fn too_large(what: &str, size: u64, max: u64) -> ToolError {
    ToolError::invalid(format!(
        "'{what}' is {size} bytes; the limit is {max} bytes (FF_DOCPARSE_MAX_BYTES)"
    ))
}

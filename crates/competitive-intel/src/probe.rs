//! What a URL is: a feed, an HTML page announcing a feed, or a page to
//! watch as it is. One fetch, at `watch_add` and `parse_feed`.

use ffmcp_core::fetch::FetchRequest;

use crate::{
    engine::{Engine, FEED_ACCEPT, IntelError},
    feed,
};

impl Engine {
    /// Fetches `url` once to decide what to watch: a feed as is, an HTML
    /// page's first announced feed (unless `page` is forced), else the page.
    pub async fn probe(&self, url: &str, want: Want) -> Result<Probe, IntelError> {
        let fetched = self
            .fetcher
            .fetch(
                FetchRequest::get(url)
                    .accept(FEED_ACCEPT)
                    .respect_robots(self.settings.robots)
                    .max_body_bytes(self.settings.max_body_bytes),
            )
            .await
            .map_err(|e| {
                if e.is_refusal() {
                    IntelError::Invalid(e.to_string())
                } else {
                    IntelError::Upstream(e.to_string())
                }
            })?;
        if !fetched.is_success() {
            return Err(IntelError::Upstream(format!(
                "{url} answered HTTP {}; check the URL",
                fetched.status
            )));
        }
        let final_url = fetched.url.clone();
        let body = fetched.body;
        tokio::task::spawn_blocking(move || classify(&body, &final_url, want))
            .await
            .map_err(|e| IntelError::Upstream(format!("the parser stopped: {e}")))?
    }
}

/// What `watch_add` was asked to watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Auto,
    Feed,
    Page,
}

/// What a URL turned out to be.
#[derive(Debug, Clone)]
pub struct Probe {
    /// `feed` or `page`.
    pub kind: &'static str,
    /// The feed to fetch when it differs from the URL (autodiscovered).
    pub feed_url: Option<String>,
    pub title: Option<String>,
}

fn classify(body: &[u8], url: &url::Url, want: Want) -> Result<Probe, IntelError> {
    if want != Want::Page && !feed::looks_like_html(body) {
        return match feed::parse(body, Some(url.as_str())) {
            Ok(f) => Ok(Probe {
                kind: "feed",
                feed_url: None,
                title: f.title,
            }),
            Err(e) if want == Want::Feed => Err(IntelError::Invalid(format!("{url}: {e}"))),
            Err(_) => Ok(Probe {
                kind: "page",
                feed_url: None,
                title: None,
            }),
        };
    }
    let html = String::from_utf8_lossy(body);
    if want != Want::Page
        && let Some(found) = feed::discover(&html, url).into_iter().next()
    {
        return Ok(Probe {
            kind: "feed",
            feed_url: Some(found.url),
            title: found.title,
        });
    }
    if want == Want::Feed {
        return Err(IntelError::Invalid(format!(
            "{url} is an HTML page that announces no feed (no <link rel=\"alternate\" type=\"application/rss+xml\">); watch it as a page instead"
        )));
    }
    Ok(Probe {
        kind: "page",
        feed_url: None,
        title: None,
    })
}

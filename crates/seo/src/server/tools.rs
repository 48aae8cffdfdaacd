//! The tools of the seo server.

use super::{types::*, *};
use crate::text;
use ffmcp_core::model::{Call, Request};

const SUGGEST_SYSTEM: &str = "You are an SEO editor. Rewrite page titles and meta descriptions. \
Titles: 30-60 characters, the main topic first, accurate to the page. Descriptions: 70-160 \
characters, say what the page offers and why to click. Use only facts from the page. Reply with \
only JSON matching the schema.";

fn check_range<T: PartialOrd + std::fmt::Display + Copy>(
    name: &str,
    v: T,
    lo: T,
    hi: T,
) -> Result<T, ToolError> {
    if v < lo || v > hi {
        return Err(ToolError::invalid(format!(
            "'{name}' must be between {lo} and {hi}; got {v}"
        )));
    }
    Ok(v)
}

/// The audit of `audit_page`: the HTML checks plus, for fetched pages,
/// the image-size and robots.txt checks that need more requests.
async fn full_audit(shared: &Shared, source: &PageSource) -> Result<PageReport, ToolError> {
    let (mut report, loaded) = source.audit(shared).await?;
    if loaded.response.status.is_some() {
        let (images, blocked) = tokio::join!(
            oversized_images(shared, &report),
            robots_block(shared, &report.url)
        );
        report.findings.extend(images);
        report.findings.extend(blocked);
        report.score = crate::finding::score(&report.findings);
    }
    Ok(report)
}

#[tool_router]
impl Seo {
    /// A server configured from the process environment (tests, tools).
    pub fn new() -> Self {
        let config = Arc::new(ffmcp_core::Config::from_env());
        let router = Arc::new(Router::from_config(&config));
        Self::with_shared(Shared::new(config, router))
    }

    /// A server on state shared with the process's other sessions.
    pub(crate) fn with_shared(shared: Arc<Shared>) -> Self {
        Self {
            tool_router: Arc::new(ffmcp_core::schema::standard_schemas(Self::tool_router())),
            subscriptions: shared.updates.session(),
            shared,
        }
    }

    /// A new session's value from a built template: the tool router is
    /// cloned, the subscriptions are the session's own (a clone would
    /// share the template's, and send one session's updates to another).
    pub(crate) fn for_session(&self) -> Self {
        Self {
            tool_router: self.tool_router.clone(),
            subscriptions: self.shared.updates.session(),
            shared: self.shared.clone(),
        }
    }

    /// Audit one page (a URL, or HTML with its base URL): status, redirects,
    /// response time and SEO headers; title, description, headings,
    /// canonical, robots, lang, viewport, hreflang, Open Graph/Twitter,
    /// structured data, images, links, mixed content, weight,
    /// render-blocking resources, thin content, readability. Each finding
    /// has an id, severity, evidence and a fix; the score is 0–100.
    #[tool(
        title = "Audit a page",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn audit_page(
        &self,
        Parameters(args): Parameters<PageSource>,
    ) -> Result<Json<PageReport>, ToolError> {
        Ok(Json(full_audit(&self.shared, &args).await?))
    }

    /// Crawl a site from a start URL and its sitemap (bounded by pages,
    /// depth and time; robots.txt obeyed) and audit every page, plus
    /// site-level checks: broken links, redirect chains and loops,
    /// duplicate titles/descriptions/content, orphan pages, sitemap errors
    /// and robots conflicts, canonical chains, hreflang reciprocity.
    /// Reports progress per page; a crawl stopped by a limit or a
    /// cancellation continues with `resume`.
    #[tool(
        title = "Audit a site",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn audit_site(
        &self,
        Parameters(args): Parameters<SiteArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<SiteReport>, ToolError> {
        super::site_audit::audit_site(&self.shared, args, ctx)
            .await
            .map(Json)
    }

    /// Is this URL allowed for this user agent by the site's robots.txt,
    /// and which rule (and line) decided? Uses Google's matching rules.
    #[tool(
        title = "Check robots.txt for a URL",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn check_robots(
        &self,
        Parameters(args): Parameters<RobotsArgs>,
    ) -> Result<Json<RobotsAnswer>, ToolError> {
        let url = parse_url("url", &args.url)?;
        let agent = args.user_agent.unwrap_or_else(|| "ffmcp".into());
        let robots_url = format!("{}/robots.txt", url.origin().ascii_serialization());
        let got = fetcher(&self.shared)?
            .fetch(
                FetchRequest::get(&robots_url)
                    .accept("text/plain")
                    .max_body_bytes(512 * 1024),
            )
            .await;
        let (status, verdict, reason, sitemaps) = match got {
            Ok(r) if r.is_success() => {
                let txt = String::from_utf8_lossy(&r.body).into_owned();
                let v = robots::decide(&txt, &agent, url.as_str());
                let reason = match (&v.rule, v.line) {
                    (Some(rule), Some(line)) => format!(
                        "'{rule}' (line {line}) in the {} group",
                        v.group.as_deref().unwrap_or("*")
                    ),
                    _ => "no rule matches, so it is allowed".to_owned(),
                };
                (Some(r.status), v, reason, robots::sitemaps(&txt))
            }
            Ok(r) if (400..500).contains(&r.status) => (
                Some(r.status),
                robots::Verdict {
                    allowed: true,
                    group: None,
                    rule: None,
                    line: None,
                },
                format!(
                    "robots.txt answers HTTP {}: no restrictions (RFC 9309)",
                    r.status
                ),
                Vec::new(),
            ),
            Ok(r) => (
                Some(r.status),
                robots::Verdict {
                    allowed: false,
                    group: None,
                    rule: None,
                    line: None,
                },
                format!(
                    "robots.txt answers HTTP {}: crawlers treat the whole site as disallowed (RFC 9309)",
                    r.status
                ),
                Vec::new(),
            ),
            Err(e) if e.is_refusal() => return Err(fetch_error(e)),
            Err(e) => (
                None,
                robots::Verdict {
                    allowed: false,
                    group: None,
                    rule: None,
                    line: None,
                },
                format!("robots.txt is unreachable ({e}): crawlers treat the site as disallowed"),
                Vec::new(),
            ),
        };
        Ok(Json(RobotsAnswer {
            url: url.to_string(),
            robots_url,
            robots_status: status,
            user_agent: agent,
            verdict,
            reason,
            sitemaps,
        }))
    }

    /// Read a sitemap or sitemap index (plain or .gz): its URLs with
    /// lastmod, and problems (malformed XML, relative or foreign URLs,
    /// over 50,000 URLs or 50 MB).
    #[tool(
        title = "Read a sitemap",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn parse_sitemap(
        &self,
        Parameters(args): Parameters<SitemapArgs>,
    ) -> Result<Json<SitemapReport>, ToolError> {
        let start = parse_url("url", &args.url)?;
        let max_urls = check_range("max_urls", args.max_urls.unwrap_or(1000), 1, 50_000)?;
        let follow = args.follow_index.unwrap_or(true);
        let fetcher = fetcher(&self.shared)?;
        let mut queue = vec![start];
        let (mut files, mut urls, mut total) = (Vec::new(), Vec::new(), 0usize);
        while let Some(url) = queue.pop() {
            if files.len() >= 50 {
                break;
            }
            let mut file = SitemapFile {
                url: url.to_string(),
                kind: None,
                entries: 0,
                errors: Vec::new(),
            };
            let got = fetcher
                .fetch(
                    FetchRequest::get(url.as_str())
                        .accept("application/xml,text/xml,*/*")
                        .max_body_bytes(sitemap::MAX_BYTES),
                )
                .await;
            match got {
                Err(e) if files.is_empty() => return Err(fetch_error(e)),
                Err(e) => file.errors.push(e.to_string()),
                Ok(r) if !r.is_success() => file.errors.push(format!("HTTP {}", r.status)),
                Ok(r) => match sitemap::parse(&r.body, Some(&url)) {
                    Err(e) => file.errors.push(e.to_string()),
                    Ok(map) => {
                        file.kind = Some(map.kind);
                        file.entries = map.entries.len();
                        file.errors = map.errors;
                        for entry in map.entries {
                            match map.kind {
                                sitemap::Kind::Index if follow => {
                                    if let Ok(u) = Url::parse(&entry.loc) {
                                        queue.push(u);
                                    }
                                }
                                sitemap::Kind::Index => {}
                                sitemap::Kind::Urlset => {
                                    total += 1;
                                    if urls.len() < max_urls {
                                        urls.push(entry);
                                    }
                                }
                            }
                        }
                    }
                },
            }
            files.push(file);
        }
        Ok(Json(SitemapReport {
            files,
            truncated: total > urls.len(),
            urls,
            total_urls: total,
        }))
    }

    /// The schema.org items of a page (JSON-LD and microdata), with the
    /// required properties missing for Article, Product, Organization,
    /// BreadcrumbList and FAQPage, and JSON-LD that does not parse.
    #[tool(
        title = "Extract a page's structured data",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn extract_structured_data(
        &self,
        Parameters(args): Parameters<PageSource>,
    ) -> Result<Json<StructuredData>, ToolError> {
        let (report, _) = args.audit(&self.shared).await?;
        let findings = report
            .findings
            .iter()
            .filter(|f| f.id.starts_with("structured-data"))
            .cloned()
            .collect();
        Ok(Json(StructuredData {
            url: report.url,
            items: report.structured_data,
            findings,
        }))
    }

    /// Two pages side by side on the same checks: scores, key facts, and
    /// for every check that fired, how often on each page.
    #[tool(
        title = "Compare two pages",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn compare_pages(
        &self,
        Parameters(args): Parameters<CompareArgs>,
    ) -> Result<Json<Comparison>, ToolError> {
        let (a, b) = tokio::try_join!(
            full_audit(&self.shared, &args.a),
            full_audit(&self.shared, &args.b)
        )?;
        let mut checks: Vec<CheckDiff> = Vec::new();
        for (side, report) in [(0, &a), (1, &b)] {
            for f in &report.findings {
                let idx = match checks.iter().position(|c| c.id == f.id) {
                    Some(i) => i,
                    None => {
                        checks.push(CheckDiff {
                            id: f.id.clone(),
                            severity: f.severity,
                            a: 0,
                            b: 0,
                        });
                        checks.len() - 1
                    }
                };
                if side == 0 {
                    checks[idx].a += 1
                } else {
                    checks[idx].b += 1
                }
            }
        }
        checks.sort_by(|x, y| x.severity.cmp(&y.severity).then(x.id.cmp(&y.id)));
        let better = match a.score.cmp(&b.score) {
            std::cmp::Ordering::Greater => "a",
            std::cmp::Ordering::Less => "b",
            std::cmp::Ordering::Equal => "tie",
        };
        let side = |r: PageReport| Side {
            structured_data_types: r
                .structured_data
                .iter()
                .flat_map(|i| i.types.clone())
                .collect(),
            url: r.url,
            score: r.score,
            status: r.status,
            response_ms: r.response_ms,
            title: r.title,
            description: r.description,
            h1: r.h1,
            words: r.words,
            indexable: r.indexable,
            links: r.links,
        };
        Ok(Json(Comparison {
            a: side(a),
            b: side(b),
            checks,
            better: better.into(),
        }))
    }

    /// Title and meta description rewrites for a page, from the configured
    /// model (FF_LLM_PRIMARY and fallbacks) or the client's model via MCP
    /// sampling. Fails with a clear error when no model is available —
    /// it never makes suggestions up.
    #[tool(
        title = "Suggest a title and description",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn suggest(
        &self,
        Parameters(args): Parameters<SuggestArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Suggestions>, ToolError> {
        let count = check_range("count", args.count.unwrap_or(3), 1, 10)?;
        let call = Call::new("suggest")
            .with_sampler(ffmcp_core::sampling::client(ctx.peer.clone()))
            .with_model_arg(args.model.as_deref())
            .map_err(|e| ToolError::invalid(e.to_string()))?;
        let source = PageSource {
            url: args.url,
            html: args.html,
            base_url: args.base_url,
        };
        let (report, loaded) = source.audit(&self.shared).await?;
        let facts = crate::page::extract(&loaded.html, &loaded.url);
        let body: String = facts.text.chars().take(4000).collect();
        let mut prompt = format!(
            "Page URL: {}\nCurrent title: {}\nCurrent description: {}\nH1: {}\n",
            report.url,
            report.title.as_deref().unwrap_or("(none)"),
            report.description.as_deref().unwrap_or("(none)"),
            report.h1.join(" | ")
        );
        if let Some(k) = args.keywords.as_ref().filter(|k| !k.is_empty()) {
            prompt.push_str(&format!("Target keywords: {}\n", k.join(", ")));
        }
        prompt.push_str(&format!(
            "Give {count} titles and {count} descriptions.\n<page>\n{body}\n</page>"
        ));
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "titles": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "descriptions": {"type": "array", "items": {"type": "string"}, "minItems": 1}
            },
            "required": ["titles", "descriptions"]
        });
        let mut request = Request::new(prompt).with_system(SUGGEST_SYSTEM);
        request.max_tokens = 1024;
        let router = &self.shared.router;
        let reply = router.complete_json(&request, &schema, &call).await?;
        let list = |key: &str, title: bool| -> Vec<Candidate> {
            reply.value[key]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v.as_str())
                .take(count)
                .map(|t| {
                    let chars = t.chars().count();
                    let pixels = text::title_pixels(t);
                    let within_limits = if title {
                        (30..=60).contains(&chars) && pixels <= 580
                    } else {
                        (70..=160).contains(&chars)
                    };
                    Candidate {
                        text: t.to_owned(),
                        chars,
                        pixels,
                        within_limits,
                    }
                })
                .collect()
        };
        Ok(Json(Suggestions {
            url: report.url.clone(),
            current_title: report.title.clone(),
            current_description: report.description.clone(),
            titles: list("titles", true),
            descriptions: list("descriptions", false),
            route: reply.response.route.to_string(),
            input_tokens: reply.response.usage.input_tokens,
            output_tokens: reply.response.usage.output_tokens,
            cost_usd: reply.response.cost_usd,
        }))
    }
}

//! `audit_site`: argument checks, loading and saving crawls in the store
//! (`crate::crawls`), the report file (`core::output`).

use super::{
    types::{PageSummary, SiteArgs, SiteReport},
    *,
};

pub(super) async fn audit_site(
    shared: &Arc<Shared>,
    args: SiteArgs,
    ctx: RequestContext<RoleServer>,
) -> Result<SiteReport, ToolError> {
    let max_pages = range("max_pages", args.max_pages.unwrap_or(100), 1, 5000)?;
    let max_depth = range("max_depth", args.max_depth.unwrap_or(5), 0, 50)?;
    let time_limit = range(
        "time_limit_secs",
        args.time_limit_secs.unwrap_or(120),
        1,
        1800,
    )?;
    let max_concurrency = shared.max_concurrency;
    let concurrency = range(
        "concurrency",
        args.concurrency.unwrap_or(4.min(max_concurrency)),
        1,
        max_concurrency,
    )?;
    let delay = range("delay_ms", args.delay_ms.unwrap_or(0), 0, 60_000)?;
    let format = report_format(args.report_path.as_deref(), args.report_format.as_deref())?;
    let kind = match format {
        ReportFormat::Csv => output::Kind::Csv,
        ReportFormat::Json => output::Kind::Json,
    };
    // A report path that cannot be written is refused before the crawl.
    let report_roots = match &args.report_path {
        None => None,
        Some(path) => {
            let configured = shared
                .roots
                .as_ref()
                .map_err(|e| ToolError::invalid(format!("FF_ROOTS is invalid: {e}")))?;
            let roots = configured.for_client(&ctx.peer).await;
            output::check(&roots, path, kind)?;
            Some(roots)
        }
    };
    let fetcher = fetcher(shared)?;

    // Without a database a new crawl still runs; it just cannot be resumed.
    let store = match store(shared).await {
        Ok(store) => Some(store),
        Err(e) if args.resume.is_none() => {
            tracing::warn!(error = %e.message(), "crawls cannot be kept for resume");
            None
        }
        Err(e) => return Err(e),
    };
    let retention = shared.retention;
    let (mut crawl, running) = match &args.resume {
        Some(id) => {
            let running = Running::claim(shared, id).ok_or_else(|| {
                ToolError::invalid("this crawl is running in another call; wait for it to finish")
            })?;
            let (key, now) = (id.clone(), unix_now());
            let store = store.ok_or_else(|| ToolError::internal("the crawl store is not open"))?;
            let loaded = store
                .run(move |c| crawls::load(c, &key, now, retention))
                .await
                .map_err(|e| ToolError::internal(e.to_string()))?
                .map_err(|e| ToolError::internal(e.to_string()))?;
            let mut crawl = loaded.ok_or_else(|| {
                ToolError::invalid(format!(
                    "no crawl '{id}' is kept (the last {} crawls run within {} days are kept; \
                     {} and {}); start a new one with 'start_url'",
                    retention.max_crawls,
                    retention.max_age.as_secs() / 86_400,
                    crawls::MAX_CRAWLS_ENV,
                    crawls::MAX_AGE_ENV
                ))
            })?;
            crawl.options.time_limit = Duration::from_secs(time_limit);
            crawl.options.concurrency = concurrency;
            crawl.options.delay = Duration::from_millis(delay);
            (crawl, running)
        }
        None => {
            let start = args.start_url.as_deref().ok_or_else(|| {
                ToolError::invalid("give 'start_url' (or 'resume' with a crawl_id)")
            })?;
            let start = parse_url("start_url", start)?;
            let sitemap = args
                .sitemap_url
                .as_deref()
                .map(|s| parse_url("sitemap_url", s))
                .transpose()?;
            let user_agent = args.user_agent.clone().unwrap_or_else(|| "ffmcp".into());
            if user_agent.trim().is_empty() || user_agent.len() > 200 {
                return Err(ToolError::invalid(
                    "'user_agent' must be 1 to 200 characters",
                ));
            }
            let options = crawl::Options {
                start,
                sitemap,
                max_pages,
                max_depth,
                time_limit: Duration::from_secs(time_limit),
                concurrency,
                delay: Duration::from_millis(delay),
                user_agent,
                respect_robots: args.respect_robots.unwrap_or(true),
            };
            let id = new_crawl_id();
            let running = Running::claim(shared, &id)
                .ok_or_else(|| ToolError::internal("a fresh crawl id was already in use"))?;
            (Crawl::new(id, options), running)
        }
    };
    let more_pages = max_pages.min(crawls::MAX_CRAWL_URLS.saturating_sub(crawl.done()));
    if more_pages == 0 && !crawl.frontier.is_empty() {
        return Err(ToolError::invalid(format!(
            "crawl '{}' has fetched {} URLs, the most one crawl may ({}); start a new crawl",
            crawl.id,
            crawl.done(),
            crawls::MAX_CRAWL_URLS
        )));
    }
    let progress = progress_sink(&ctx, &crawl.id);
    let started = Instant::now();
    let before = crawl.pages.len();
    // Run and save in a task of its own: a cancelled call still stores
    // what was crawled, so it can be resumed.
    let ct = ctx.ct.clone();
    let (fetcher, store) = (fetcher.clone(), store.cloned());
    let (updates, kept) = (shared.updates.clone(), store.is_some());
    let task = tokio::spawn(async move {
        crawl.run(&fetcher, more_pages, &ct, &*progress).await;
        let (saved, now) = (Arc::new(crawl), unix_now());
        let state = Arc::clone(&saved);
        let result = match store {
            Some(store) => {
                store
                    .run(move |c| crawls::save(c, &state, now, retention))
                    .await
            }
            None => Ok(Ok(())),
        };
        drop(running);
        // Saved: the crawl's resource changed (or now exists).
        if kept && matches!(result, Ok(Ok(()))) {
            updates.publish(&resources::uri(&saved.id));
        }
        (saved, result)
    });
    let (guard, saved) = task
        .await
        .map_err(|e| ToolError::internal(format!("the crawl task failed: {e}")))?;
    match saved {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(crawl = %guard.id, error = %e, "could not store the crawl"),
        Err(e) => tracing::warn!(crawl = %guard.id, error = %e, "could not store the crawl"),
    }
    let elapsed = started.elapsed();

    let site_findings = site::findings(&guard);
    let page_findings: Vec<Finding> = guard
        .pages
        .iter()
        .flat_map(|p| p.findings.iter().cloned())
        .collect();
    let pages = page_summaries(&guard);
    let average_score = if guard.pages.is_empty() {
        0
    } else {
        (guard.pages.iter().map(|p| u64::from(p.score)).sum::<u64>() / guard.pages.len() as u64)
            as u32
    };
    let audited_now = guard.pages.len() - before;
    let mut report = SiteReport {
        crawl_id: guard.id.clone(),
        stop: guard.stop,
        resumable: !guard.frontier.is_empty(),
        pages_audited: guard.pages.len(),
        urls_failed: guard.failures.len(),
        urls_blocked_by_robots: guard.blocked.len(),
        urls_queued: guard.frontier.len(),
        elapsed_ms: elapsed.as_millis() as u64,
        pages_per_second: (audited_now as f64 / elapsed.as_secs_f64().max(1e-3) * 10.0).round()
            / 10.0,
        average_score,
        finding_counts: count_ids(site_findings.iter().chain(&page_findings)),
        site_findings,
        pages,
        page_findings: None,
        report_file: None,
    };
    if let (Some(path), Some(roots)) = (&args.report_path, report_roots) {
        let contents = match format {
            ReportFormat::Csv => {
                let all: Vec<Finding> = report
                    .site_findings
                    .iter()
                    .chain(&page_findings)
                    .cloned()
                    .collect();
                report::findings_csv(&all)
            }
            ReportFormat::Json => {
                report.page_findings = Some(page_findings.clone());
                let json = serde_json::to_string_pretty(&report).map_err(|e| {
                    ToolError::internal(format!("could not serialise the report: {e}"))
                })?;
                report.page_findings = None;
                json
            }
        };
        let written = output::write_async(
            roots,
            path.clone(),
            kind,
            contents.into_bytes(),
            args.overwrite,
        )
        .await?;
        report.report_file = Some(written.path.display().to_string());
    }
    if args.include_page_findings.unwrap_or(false) {
        let mut findings = page_findings;
        findings.truncate(5000);
        report.page_findings = Some(findings);
    }
    Ok(report)
}

enum ReportFormat {
    Csv,
    Json,
}

fn report_format(path: Option<&str>, format: Option<&str>) -> Result<ReportFormat, ToolError> {
    match format.map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => Ok(ReportFormat::Csv),
        Some("json") => Ok(ReportFormat::Json),
        Some(other) => Err(ToolError::invalid(format!(
            "'report_format' must be csv or json; got '{other}'"
        ))),
        None if path.is_some_and(|p| p.to_ascii_lowercase().ends_with(".csv")) => {
            Ok(ReportFormat::Csv)
        }
        None => Ok(ReportFormat::Json),
    }
}

fn range<T: PartialOrd + std::fmt::Display + Copy>(
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

/// The audited pages, worst score first, at most 1,000 (the report of
/// `audit_site` and the `seo://crawls/{id}` resource).
pub(super) fn page_summaries(crawl: &Crawl) -> Vec<PageSummary> {
    let mut pages: Vec<PageSummary> = crawl
        .pages
        .iter()
        .map(|p| PageSummary {
            url: p.url.clone(),
            status: p.status,
            score: p.score,
            title: p.title.clone(),
            findings: p.findings.len(),
            errors: p
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count(),
        })
        .collect();
    pages.sort_by(|a, b| a.score.cmp(&b.score).then(a.url.cmp(&b.url)));
    pages.truncate(1000);
    pages
}

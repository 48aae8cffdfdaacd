//! The batch-job tools (`job_*`) and `export_leads`.

use std::{sync::Arc, time::Duration};

use ffmcp_core::{Json, Render, ToolError, output};
use rmcp::{
    RoleServer, handler::server::wrapper::Parameters, model::ProgressNotificationParam,
    service::RequestContext, tool, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Leadgen, MAX_LEADS, check_leads};
use crate::{
    export::{self, Record},
    jobs::{Category, ItemResult, JobError, JobSpec, JobState, JobStatus, Observer, Progress},
    lead::Lead,
};

/// Arguments of `job_start`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartArgs {
    /// The leads to classify (up to 10000).
    pub leads: Vec<Lead>,
    /// The labels to choose from (at least two), each with an optional description.
    pub categories: Vec<Category>,
    /// Extra guidance for the model (optional).
    #[serde(default)]
    pub instructions: Option<String>,
    /// Routes for this job, `provider:model[,provider:model…]` (default:
    /// FF_LLM_PRIMARY and FF_LLM_FALLBACKS).
    #[serde(default)]
    pub model: Option<String>,
}

/// Arguments naming a job.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobArgs {
    /// The id `job_start` returned.
    pub job_id: String,
}

/// Arguments of `job_status`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusArgs {
    /// The id `job_start` returned.
    pub job_id: String,
    /// Wait up to this many seconds (max 60) for the job to finish or stop first (default 0).
    #[serde(default)]
    pub wait_seconds: Option<u64>,
}

/// Arguments of `job_results`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultsArgs {
    /// The id `job_start` returned.
    pub job_id: String,
    /// Skip this many finished leads (use `next_offset`).
    #[serde(default)]
    pub offset: Option<u64>,
    /// Results per page (default 100, max 1000).
    #[serde(default)]
    pub limit: Option<u64>,
}

/// Output format of `export_leads`.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Csv,
    Json,
}

/// Arguments of `export_leads`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportArgs {
    /// Leads to export; or give `job_id`.
    #[serde(default)]
    pub leads: Option<Vec<Lead>>,
    /// Export a job's leads with their classifications.
    #[serde(default)]
    pub job_id: Option<String>,
    /// `csv` (default) or `json`.
    #[serde(default)]
    pub format: Option<Format>,
    /// Write to this file (under the allowed roots, FF_ROOTS) instead of returning the content.
    /// It must end in `.csv` or `.json` to match `format`; dotfiles are refused; the file is created 0600.
    #[serde(default)]
    pub path: Option<String>,
    /// Replace `path` if it already exists (default false: an existing file is an error).
    /// Even then a symlink or a file with several hard links is never written.
    #[serde(default)]
    pub overwrite: bool,
}

/// A job's state (result of `job_start`, `job_status`, `job_cancel`, `job_resume`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobReport {
    #[serde(flatten)]
    pub status: JobStatus,
}

impl Render for JobReport {
    fn render(&self) -> String {
        let s = &self.status;
        let mut line = format!(
            "job {}: {} — {} of {} done, {} failed, {} pending",
            s.id,
            s.state.name(),
            s.done,
            s.total,
            s.failed,
            s.pending
        );
        if s.usage.attempts > 0 {
            line.push_str(&format!(
                "\nmodel use: {} input + {} output tokens, ${:.4}, {} attempts, {} leads by a fallback route",
                s.usage.input_tokens,
                s.usage.output_tokens,
                s.usage.cost_usd,
                s.usage.attempts,
                s.usage.fallbacks
            ));
        }
        if let (JobState::Waiting | JobState::Paused, Some(e)) = (s.state, &s.last_error) {
            line.push_str(&format!("\nwhy: {e}"));
        }
        line
    }
}

/// One finished lead of a job.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobItem {
    /// Position of the lead in the job.
    pub index: u32,
    pub lead: Lead,
    /// `done` or `failed`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<ItemResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Result of `job_results`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobResults {
    pub job_id: String,
    pub state: JobState,
    pub total: u64,
    pub results: Vec<JobItem>,
    /// Call again with this offset for more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

impl Render for JobResults {
    fn render(&self) -> String {
        let mut lines = vec![format!(
            "{} results of job {}",
            self.results.len(),
            self.job_id
        )];
        for item in self.results.iter().take(20) {
            let label = item
                .classification
                .as_ref()
                .map_or("failed", |c| c.label.as_str());
            lines.push(format!("{}: {label}", item.index));
        }
        lines.join("\n")
    }
}

/// Result of `job_delete`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Deleted {
    pub job_id: String,
    pub deleted: bool,
}

impl Render for Deleted {
    fn render(&self) -> String {
        format!(
            "job {}: {}",
            self.job_id,
            if self.deleted {
                "deleted with its leads"
            } else {
                "not found"
            }
        )
    }
}

/// Result of `export_leads`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Exported {
    pub format: String,
    pub count: usize,
    /// The export, when no `path` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub bytes: usize,
}

impl Render for Exported {
    fn render(&self) -> String {
        match (&self.path, &self.content) {
            (Some(p), _) => format!("{} leads written to {p} ({} bytes)", self.count, self.bytes),
            (None, Some(c)) => c.chars().take(4000).collect(),
            _ => String::new(),
        }
    }
}

fn job_error(e: JobError) -> ToolError {
    match e {
        JobError::Unknown(_) | JobError::Invalid(_) => ToolError::invalid(e.to_string()),
        other => ToolError::internal(other.to_string()),
    }
}

/// Forwards a job's progress to the caller's progress token, in order.
fn observer(ctx: &RequestContext<RoleServer>) -> Option<Observer> {
    let token = ctx.meta.get_progress_token()?;
    let peer = ctx.peer.clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
    tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            let note = ProgressNotificationParam::new(token.clone(), p.done as f64)
                .with_total(p.total as f64)
                .with_message(format!(
                    "{} of {} leads ({})",
                    p.done,
                    p.total,
                    p.state.name()
                ));
            if peer.notify_progress(note).await.is_err() {
                return;
            }
        }
    });
    Some(Arc::new(move |p: Progress| {
        let _ = tx.send(p);
    }))
}

#[tool_router(router = job_router, vis = "pub(super)")]
impl Leadgen {
    /// Start classifying leads into caller-given categories with the
    /// configured model: returns a job id at once, then reports progress per
    /// lead. Results are stored as they arrive; outages pause the job and it
    /// resumes by itself; a restarted server continues it. Only role and
    /// company fields are sent to the model, never emails or phones.
    #[tool(
        title = "Start a classification job",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn job_start(
        &self,
        Parameters(args): Parameters<StartArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<JobReport>, ToolError> {
        check_leads(&args.leads)?;
        let names: Vec<&str> = args.categories.iter().map(|c| c.name.trim()).collect();
        if names.iter().any(|n| n.is_empty())
            || (1..names.len()).any(|i| names[..i].contains(&names[i]))
        {
            return Err(ToolError::invalid(
                "'categories' need distinct, non-empty names",
            ));
        }
        let call = ffmcp_core::model::Call::new("classify_leads")
            .with_model_arg(args.model.as_deref())
            .map_err(ToolError::from)?;
        let engine = self.shared.engine().await?;
        if let Some(requested) = &call.requested {
            engine
                .router()
                .authorize(requested)
                .map_err(ToolError::from)?;
        }
        if args.model.as_deref().is_none_or(|m| m.trim().is_empty())
            && engine.router().config().routes.is_empty()
        {
            return Err(ToolError::invalid(
                "batch jobs need a configured model: set FF_LLM_PRIMARY (and optionally \
                 FF_LLM_FALLBACKS), or pass 'model'; client sampling cannot survive a restart",
            ));
        }
        let spec = JobSpec {
            categories: args.categories,
            instructions: args.instructions,
            model: args.model,
            leads: args.leads,
        };
        let id = engine
            .start(spec, observer(&ctx))
            .await
            .map_err(job_error)?;
        let status = engine.status(&id).await.map_err(job_error)?;
        Ok(Json(JobReport { status }))
    }

    /// A job's state and counts; with `wait_seconds`, waits for it to
    /// finish or stop first.
    #[tool(
        title = "Show a job's status",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn job_status(
        &self,
        Parameters(args): Parameters<StatusArgs>,
    ) -> Result<Json<JobReport>, ToolError> {
        let engine = self.shared.engine().await?;
        let wait = Duration::from_secs(args.wait_seconds.unwrap_or(0).min(60));
        let status = engine.wait(&args.job_id, wait).await.map_err(job_error)?;
        Ok(Json(JobReport { status }))
    }

    /// Finished leads of a job with their labels, in lead order, a page at a time.
    #[tool(
        title = "Read a job's results",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn job_results(
        &self,
        Parameters(args): Parameters<ResultsArgs>,
    ) -> Result<Json<JobResults>, ToolError> {
        let engine = self.shared.engine().await?;
        let limit = args.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ToolError::invalid("'limit' must be between 1 and 1000"));
        }
        let offset = args.offset.unwrap_or(0);
        let status = engine.status(&args.job_id).await.map_err(job_error)?;
        let rows = engine
            .results(&args.job_id, offset, limit)
            .await
            .map_err(job_error)?;
        let finished = status.done + status.failed;
        let end = offset + rows.len() as u64;
        let results = rows
            .into_iter()
            .map(|(index, lead, status, classification, error)| JobItem {
                index,
                lead,
                status,
                classification,
                error,
            })
            .collect();
        Ok(Json(JobResults {
            job_id: status.id,
            state: status.state,
            total: status.total,
            results,
            next_offset: (end < finished).then_some(end),
        }))
    }

    /// Stop a job. Finished results are kept; `job_resume` continues it.
    #[tool(
        title = "Cancel a job",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn job_cancel(
        &self,
        Parameters(args): Parameters<JobArgs>,
    ) -> Result<Json<JobReport>, ToolError> {
        let status = self
            .shared
            .engine()
            .await?
            .cancel(&args.job_id)
            .await
            .map_err(job_error)?;
        Ok(Json(JobReport { status }))
    }

    /// Continue a cancelled or paused job, or make a waiting job probe its
    /// model routes now.
    #[tool(
        title = "Resume a job",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn job_resume(
        &self,
        Parameters(args): Parameters<JobArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<JobReport>, ToolError> {
        let status = self
            .shared
            .engine()
            .await?
            .resume(&args.job_id, observer(&ctx))
            .await
            .map_err(job_error)?;
        Ok(Json(JobReport { status }))
    }

    /// Delete a job with all its leads and results (personal data purged
    /// from the database file).
    #[tool(
        title = "Delete a job",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn job_delete(
        &self,
        Parameters(args): Parameters<JobArgs>,
    ) -> Result<Json<Deleted>, ToolError> {
        let deleted = self
            .shared
            .engine()
            .await?
            .delete(&args.job_id)
            .await
            .map_err(job_error)?;
        Ok(Json(Deleted {
            job_id: args.job_id,
            deleted,
        }))
    }

    /// Export leads, or a job's leads with their classifications, as CSV or
    /// JSON: returned to the caller, or written to a file under the allowed
    /// roots.
    #[tool(
        title = "Export leads",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn export_leads(
        &self,
        Parameters(args): Parameters<ExportArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Exported>, ToolError> {
        let (records, with_job): (Vec<Record>, bool) = match (args.leads, &args.job_id) {
            (Some(leads), None) => {
                check_leads(&leads)?;
                let records = leads
                    .into_iter()
                    .map(|lead| Record {
                        lead,
                        result: None,
                        error: None,
                    })
                    .collect();
                (records, false)
            }
            (None, Some(id)) => {
                let engine = self.shared.engine().await?;
                let rows = engine
                    .results(id, 0, MAX_LEADS as u64 * 10)
                    .await
                    .map_err(job_error)?;
                let records = rows
                    .into_iter()
                    .map(|(_, lead, _, result, error)| Record {
                        lead,
                        result,
                        error,
                    })
                    .collect();
                (records, true)
            }
            _ => {
                return Err(ToolError::invalid(
                    "give exactly one of 'leads' or 'job_id'",
                ));
            }
        };
        let format = args.format.unwrap_or_default();
        let (name, content) = match format {
            Format::Csv => (
                "csv",
                export::csv(&records, with_job).map_err(ToolError::internal)?,
            ),
            Format::Json => ("json", export::json(&records)),
        };
        let bytes = content.len();
        let Some(path) = args.path else {
            return Ok(Json(Exported {
                format: name.into(),
                count: records.len(),
                content: Some(content),
                path: None,
                bytes,
            }));
        };
        let roots = self
            .shared
            .roots
            .as_ref()
            .map_err(|e| ToolError::invalid(format!("FF_ROOTS is invalid: {e}")))?
            .for_client(&ctx.peer)
            .await;
        let kind = match format {
            Format::Csv => output::Kind::Csv,
            Format::Json => output::Kind::Json,
        };
        let written = output::write_for_call(
            &ctx,
            roots,
            path,
            kind,
            content.into_bytes(),
            args.overwrite,
        )
        .await?;
        Ok(Json(Exported {
            format: name.into(),
            count: records.len(),
            content: None,
            path: Some(written.path.display().to_string()),
            bytes,
        }))
    }
}

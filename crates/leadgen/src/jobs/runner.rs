//! Runs one job: up to `concurrency` model calls in flight, each result
//! committed as it arrives; when every route fails the job waits and
//! probes with one lead at a time, with growing pauses, until a route
//! answers.

use std::{collections::VecDeque, sync::Arc};

use ffmcp_core::{
    model::{Call, ModelError, Request},
    retry::{Backoff, Jitter},
};
use serde_json::{Value, json};
use tokio::{sync::Notify, task::JoinSet};
use tokio_util::sync::CancellationToken;

use super::{Category, Inner, ItemResult, JobState, JobUsage, Progress, db};
use crate::lead::Lead;

const SYSTEM: &str = "You classify sales leads into exactly one of the given categories. \
Judge only from the lead's fields; say briefly why. Reply with only the JSON object.";

/// How one lead's call ended.
enum Outcome {
    /// Committed (`true`) or already committed earlier (`false`).
    Finished(bool),
    /// Every route failed: the lead goes back to the queue.
    Outage(u32, Lead, String),
    /// The job cannot go on without a change (credentials, routes, schema).
    Stop(u32, Lead, String),
    /// The database refused the commit.
    Broken(String),
}

pub(super) async fn run(
    inner: &Arc<Inner>,
    id: &str,
    cancel: CancellationToken,
    wake: Arc<Notify>,
) {
    if let Err(e) = drive(inner, id, &cancel, &wake).await {
        tracing::error!(job = id, error = %e, "leadgen job stopped on a database error");
        let job = id.to_owned();
        let message = format!("stopped on a database error: {e}");
        let _ = inner
            .store
            .call(move |c| {
                db::set_state(
                    c,
                    &job,
                    JobState::Paused,
                    &[JobState::Running, JobState::Waiting],
                    Some(&message),
                )
            })
            .await;
    }
}

async fn drive(
    inner: &Arc<Inner>,
    id: &str,
    cancel: &CancellationToken,
    wake: &Notify,
) -> Result<(), String> {
    let job = id.to_owned();
    let (def, pending) = inner
        .store
        .call(move |c| {
            Ok::<_, String>((
                db::job_def(c, &job).map_err(|e| e.to_string())?,
                db::pending(c, &job).map_err(|e| e.to_string())?,
            ))
        })
        .await
        .map_err(|e| e.to_string())??;
    let Some(def) = def else { return Ok(()) };
    let status = {
        let job = id.to_owned();
        inner
            .store
            .call(move |c| db::status(c, &job))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
    };
    let Some(status) = status else { return Ok(()) };
    let (total, mut done) = (status.total, status.done + status.failed);
    let schema = schema(&def.categories);
    let call = Call::new("classify_leads")
        .with_model_arg(def.model.as_deref())
        .map_err(|e| e.to_string())?;
    let context = Arc::new((
        schema,
        call,
        system(&def.categories, def.instructions.as_deref()),
    ));
    let mut queue: VecDeque<(u32, Lead)> = pending.into();
    let mut inflight: JoinSet<Outcome> = JoinSet::new();
    let mut waiting = false;
    // Probes since every route failed; each pause doubles (±25 % so several
    // jobs do not probe in step) up to the breaker cooldown.
    let mut probes: u32 = 0;
    inner.publish(
        id,
        Progress {
            done,
            total,
            state: JobState::Running,
        },
    );
    loop {
        let limit = if waiting {
            1
        } else {
            inner.settings.concurrency.max(1)
        };
        while inflight.len() < limit {
            let Some((idx, lead)) = queue.pop_front() else {
                break;
            };
            let (inner, job, context) = (Arc::clone(inner), id.to_owned(), Arc::clone(&context));
            inflight.spawn(async move { classify(&inner, &job, idx, lead, &context).await });
        }
        if inflight.is_empty() {
            let job = id.to_owned();
            inner
                .store
                .call(move |c| {
                    db::set_state(
                        c,
                        &job,
                        JobState::Done,
                        &[JobState::Running, JobState::Waiting],
                        None,
                    )
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            inner.publish(
                id,
                Progress {
                    done,
                    total,
                    state: JobState::Done,
                },
            );
            tracing::info!(job = id, total, "leadgen job finished");
            return Ok(());
        }
        let joined = tokio::select! {
            () = cancel.cancelled() => {
                inflight.abort_all();
                inner.publish(id, Progress { done, total, state: JobState::Cancelled });
                return Ok(());
            }
            joined = inflight.join_next() => joined,
        };
        let Some(joined) = joined else { continue };
        let outcome =
            joined.unwrap_or_else(|e| Outcome::Broken(format!("a lead task failed: {e}")));
        match outcome {
            Outcome::Finished(counted) => {
                if counted {
                    done += 1;
                }
                if waiting {
                    waiting = false;
                    probes = 0;
                    set_state(inner, id, JobState::Running, &[JobState::Waiting], None).await?;
                    tracing::info!(
                        job = id,
                        "a model route answered again; leadgen job continues"
                    );
                }
                inner.publish(
                    id,
                    Progress {
                        done,
                        total,
                        state: JobState::Running,
                    },
                );
            }
            Outcome::Outage(idx, lead, why) => {
                queue.push_front((idx, lead));
                if !waiting {
                    waiting = true;
                    set_state(
                        inner,
                        id,
                        JobState::Waiting,
                        &[JobState::Running],
                        Some(&why),
                    )
                    .await?;
                    inner.publish(
                        id,
                        Progress {
                            done,
                            total,
                            state: JobState::Waiting,
                        },
                    );
                    tracing::warn!(
                        job = id,
                        "every model route failed; leadgen job waits and probes"
                    );
                }
                if inflight.is_empty() {
                    let ceiling = inner
                        .settings
                        .retry_max
                        .min(inner.router.config().cooldown)
                        .max(inner.settings.retry_base);
                    probes = probes.saturating_add(1);
                    let pause =
                        Backoff::new(inner.settings.retry_base, ceiling, Jitter::Spread(25))
                            .delay(probes);
                    tokio::select! {
                        () = cancel.cancelled() => {
                            inner.publish(id, Progress { done, total, state: JobState::Cancelled });
                            return Ok(());
                        }
                        () = tokio::time::sleep(pause) => {}
                        () = wake.notified() => {}
                    }
                }
            }
            Outcome::Stop(idx, lead, why) => {
                queue.push_front((idx, lead));
                inflight.abort_all();
                set_state(
                    inner,
                    id,
                    JobState::Paused,
                    &[JobState::Running, JobState::Waiting],
                    Some(&why),
                )
                .await?;
                inner.publish(
                    id,
                    Progress {
                        done,
                        total,
                        state: JobState::Paused,
                    },
                );
                tracing::warn!(
                    job = id,
                    "leadgen job paused: the model layer refused the request"
                );
                return Ok(());
            }
            Outcome::Broken(why) => {
                inflight.abort_all();
                return Err(why);
            }
        }
    }
}

async fn set_state(
    inner: &Inner,
    id: &str,
    state: JobState,
    from: &'static [JobState],
    error: Option<&str>,
) -> Result<(), String> {
    let (job, error) = (id.to_owned(), error.map(str::to_owned));
    inner
        .store
        .call(move |c| db::set_state(c, &job, state, from, error.as_deref()))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok(())
}

async fn classify(
    inner: &Inner,
    id: &str,
    idx: u32,
    lead: Lead,
    context: &(Value, Call, String),
) -> Outcome {
    let (schema, call, system) = context;
    let request = Request::new(prompt(&lead))
        .with_system(system.clone())
        .with_max_tokens(400)
        .with_temperature(0.0);
    let answer = inner.router.complete_json(&request, schema, call).await;
    let mut usage = JobUsage::default();
    let outcome = match answer {
        Ok(reply) => Ok({
            let r = &reply.response;
            usage = JobUsage {
                input_tokens: r.usage.input_tokens,
                output_tokens: r.usage.output_tokens,
                cost_usd: r.cost_usd.unwrap_or(0.0),
                attempts: u64::from(r.attempts),
                fallbacks: u64::from(r.fallbacks > 0),
            };
            ItemResult {
                label: reply.value["label"].as_str().unwrap_or_default().to_owned(),
                confidence: reply.value["confidence"].as_f64().unwrap_or(0.0),
                rationale: reply.value["rationale"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                route: reply.response.route.to_string(),
            }
        }),
        Err(ModelError::AllFailed { failures }) => {
            let why = ModelError::AllFailed { failures }.to_string();
            return Outcome::Outage(idx, lead, why);
        }
        Err(e @ ModelError::InvalidOutput { .. }) => Err(e.to_string()),
        Err(e) => return Outcome::Stop(idx, lead, e.to_string()),
    };
    let job = id.to_owned();
    match inner
        .store
        .call(move |c| db::complete_item(c, &job, idx, &outcome, &usage))
        .await
    {
        Ok(Ok(counted)) => Outcome::Finished(counted),
        Ok(Err(e)) => Outcome::Broken(e.to_string()),
        Err(e) => Outcome::Broken(e.to_string()),
    }
}

fn schema(categories: &[Category]) -> Value {
    let names: Vec<&str> = categories.iter().map(|c| c.name.as_str()).collect();
    json!({
        "type": "object",
        "properties": {
            "label": {"enum": names},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "rationale": {"type": "string"}
        },
        "required": ["label", "confidence", "rationale"],
        "additionalProperties": false
    })
}

fn system(categories: &[Category], instructions: Option<&str>) -> String {
    let mut text = String::from(SYSTEM);
    text.push_str("\n\nCategories:");
    for c in categories {
        text.push_str(&format!("\n- {}", c.name));
        if let Some(d) = &c.description {
            text.push_str(&format!(": {d}"));
        }
    }
    if let Some(i) = instructions.filter(|i| !i.trim().is_empty()) {
        text.push_str("\n\n");
        text.push_str(i.trim());
    }
    text
}

/// What the model sees of a lead: role and company facts only. Contact
/// details (emails, phones, profiles) are never sent.
fn prompt(lead: &Lead) -> String {
    let mut lines = vec!["<lead>".to_owned()];
    let mut add = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            lines.push(format!("{k}: {v}"));
        }
    };
    add("kind", Some(format!("{:?}", lead.kind).to_lowercase()));
    add("title", lead.title.clone());
    add("seniority", lead.seniority.map(|s| s.name().to_owned()));
    add("function", lead.function.clone());
    add("company", lead.company.clone());
    add("company_domain", lead.company_domain.clone());
    add("industry", lead.industry.clone());
    add("employees", lead.employees.map(|n| n.to_string()));
    add("location", lead.location.clone());
    lines.push("</lead>".to_owned());
    lines.join("\n")
}

//! Runs one job in this process: claims leads (with this engine's lease)
//! as model calls free up, up to `concurrency` in flight, and records each
//! result as it arrives; when every route fails the job waits and probes
//! with one lead at a time, with growing pauses, until a route answers.
//! Every heartbeat renews the leases held and reads the job's state, so a
//! cancel, pause or delete made by another process stops this runner too,
//! and leads another process holds are waited for (or taken over when its
//! leases run out).

use std::{collections::VecDeque, sync::Arc, time::Duration};

use ffmcp_core::{
    model::{Call, ModelError, Request},
    retry::{Backoff, Jitter},
};
use serde_json::{Value, json};
use tokio::{sync::Notify, task::JoinSet, time::Interval};
use tokio_util::sync::CancellationToken;

use super::{Category, Inner, ItemResult, JobState, JobUsage, Progress, db};
use crate::lead::Lead;

const SYSTEM: &str = "You classify sales leads into exactly one of the given categories. \
Judge only from the lead's fields; say briefly why. Reply with only the JSON object.";

/// How one lead's call ended.
enum Outcome {
    /// The model answered (or its reply stayed invalid): to record.
    Answered(u32, Result<ItemResult, String>, JobUsage),
    /// Every route failed: the lead goes back to the queue.
    Outage(u32, Lead, String),
    /// The job cannot go on without a change (credentials, routes, schema).
    Stop(u32, Lead, String),
}

pub(super) async fn run(
    inner: &Arc<Inner>,
    id: &str,
    cancel: CancellationToken,
    wake: Arc<Notify>,
) {
    let result = Runner::new(inner, id, &cancel, &wake).drive().await;
    // Whatever ended the run, leads still claimed go back at once.
    let (job, owner) = (id.to_owned(), Arc::clone(&inner.owner));
    let _ = inner.db(move |c| db::release(c, &job, &owner)).await;
    if let Err(e) = result {
        tracing::error!(job = id, error = %e, "leadgen job stopped on a database error");
        let job = id.to_owned();
        let message = format!("stopped on a database error: {e}");
        let _ = inner
            .db(move |c| {
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

/// What a heartbeat found.
enum Beat {
    /// The job goes on.
    Continue,
    /// The job left `running`/`waiting` (another process cancelled, paused
    /// or finished it) or was deleted: stop here.
    Stop,
}

struct Runner<'a> {
    inner: &'a Arc<Inner>,
    id: &'a str,
    cancel: &'a CancellationToken,
    wake: &'a Notify,
    /// Leads with a result, as last known.
    done: u64,
    total: u64,
    heartbeat: Interval,
}

impl<'a> Runner<'a> {
    fn new(
        inner: &'a Arc<Inner>,
        id: &'a str,
        cancel: &'a CancellationToken,
        wake: &'a Notify,
    ) -> Self {
        let mut heartbeat = tokio::time::interval(inner.settings.heartbeat());
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            inner,
            id,
            cancel,
            wake,
            done: 0,
            total: 0,
            heartbeat,
        }
    }

    async fn drive(&mut self) -> Result<(), String> {
        let (inner, id) = (self.inner, self.id);
        let job = id.to_owned();
        let Some(def) = inner
            .db(move |c| db::job_def(c, &job))
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        let Some(standing) = self.standing().await? else {
            return Ok(());
        };
        (self.total, self.done) = (standing.total, standing.finished());
        let call = Call::new("classify_leads")
            .with_model_arg(def.model.as_deref())
            .map_err(|e| e.to_string())?;
        let context = Arc::new((
            schema(&def.categories),
            call,
            system(&def.categories, def.instructions.as_deref()),
        ));
        // Leads claimed by this runner and not in flight.
        let mut queue: VecDeque<(u32, Lead)> = VecDeque::new();
        let mut inflight: JoinSet<Outcome> = JoinSet::new();
        let mut waiting = false;
        // Probes since every route failed; each pause doubles (±25 % so several
        // jobs do not probe in step) up to the breaker cooldown.
        let mut probes: u32 = 0;
        self.publish(JobState::Running);
        loop {
            let limit = if waiting {
                1
            } else {
                inner.settings.concurrency.max(1)
            };
            if queue.is_empty() && inflight.len() < limit {
                queue.extend(self.claim(limit - inflight.len()).await?);
            }
            while inflight.len() < limit {
                let Some((idx, lead)) = queue.pop_front() else {
                    break;
                };
                let (inner, context) = (Arc::clone(inner), Arc::clone(&context));
                inflight.spawn(async move { classify(&inner, idx, lead, &context).await });
            }
            if inflight.is_empty() {
                // Nothing left to claim: finished, stopped elsewhere, or the
                // rest is leased by other processes.
                let Some(standing) = self.standing().await? else {
                    return Ok(());
                };
                self.done = self.done.max(standing.finished());
                if !matches!(standing.state, JobState::Running | JobState::Waiting) {
                    self.publish(standing.state);
                    return Ok(());
                }
                if standing.pending == 0 {
                    let job = id.to_owned();
                    inner
                        .db(move |c| {
                            db::set_state(
                                c,
                                &job,
                                JobState::Done,
                                &[JobState::Running, JobState::Waiting],
                                None,
                            )
                        })
                        .await
                        .map_err(|e| e.to_string())?;
                    self.publish(JobState::Done);
                    tracing::info!(job = id, total = self.total, "leadgen job finished");
                    return Ok(());
                }
                // Wait for them to finish or for their leases to run out.
                tokio::select! {
                    () = self.cancel.cancelled() => {
                        self.publish(JobState::Cancelled);
                        return Ok(());
                    }
                    _ = self.heartbeat.tick() => {}
                    () = self.wake.notified() => {}
                }
                continue;
            }
            let joined = tokio::select! {
                () = self.cancel.cancelled() => {
                    inflight.abort_all();
                    self.publish(JobState::Cancelled);
                    return Ok(());
                }
                _ = self.heartbeat.tick() => {
                    if let Beat::Stop = self.beat().await? {
                        inflight.abort_all();
                        return Ok(());
                    }
                    continue;
                }
                joined = inflight.join_next() => joined,
            };
            let Some(joined) = joined else { continue };
            let outcome = joined.map_err(|e| format!("a lead task failed: {e}"))?;
            match outcome {
                Outcome::Answered(idx, result, usage) => {
                    let (job, owner) = (id.to_owned(), Arc::clone(&inner.owner));
                    let recorded = inner
                        .db(move |c| db::complete_item(c, &job, idx, &owner, &result, &usage))
                        .await
                        .map_err(|e| e.to_string())?;
                    if let Some(finished) = recorded {
                        self.done = self.done.max(finished);
                    }
                    if waiting {
                        waiting = false;
                        probes = 0;
                        self.set_state(JobState::Running, &[JobState::Waiting], None)
                            .await?;
                        tracing::info!(
                            job = id,
                            "a model route answered again; leadgen job continues"
                        );
                    }
                    self.publish(JobState::Running);
                }
                Outcome::Outage(idx, lead, why) => {
                    queue.push_front((idx, lead));
                    if !waiting {
                        waiting = true;
                        self.set_state(JobState::Waiting, &[JobState::Running], Some(&why))
                            .await?;
                        self.publish(JobState::Waiting);
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
                        if let Beat::Stop = self.pause(pause).await? {
                            return Ok(());
                        }
                    }
                }
                Outcome::Stop(idx, lead, why) => {
                    queue.push_front((idx, lead));
                    inflight.abort_all();
                    self.set_state(
                        JobState::Paused,
                        &[JobState::Running, JobState::Waiting],
                        Some(&why),
                    )
                    .await?;
                    self.publish(JobState::Paused);
                    tracing::warn!(
                        job = id,
                        "leadgen job paused: the model layer refused the request"
                    );
                    return Ok(());
                }
            }
        }
    }

    /// Sleeps `pause` (a wake-up or a cancel ends it early), beating on
    /// the way so the leases held outlive the pause.
    async fn pause(&mut self, pause: Duration) -> Result<Beat, String> {
        let until = tokio::time::Instant::now() + pause;
        loop {
            tokio::select! {
                () = self.cancel.cancelled() => {
                    self.publish(JobState::Cancelled);
                    return Ok(Beat::Stop);
                }
                () = tokio::time::sleep_until(until) => return Ok(Beat::Continue),
                () = self.wake.notified() => return Ok(Beat::Continue),
                _ = self.heartbeat.tick() => {
                    if let Beat::Stop = self.beat().await? {
                        return Ok(Beat::Stop);
                    }
                }
            }
        }
    }

    /// Renews this engine's leases on the job and reads where it stands;
    /// progress recorded by other processes is published.
    async fn beat(&mut self) -> Result<Beat, String> {
        let (job, owner) = (self.id.to_owned(), Arc::clone(&self.inner.owner));
        let until = lease_until(self.inner);
        let standing = self
            .inner
            .db(move |c| db::renew(c, &job, &owner, until))
            .await
            .map_err(|e| e.to_string())?;
        let Some(standing) = standing else {
            return Ok(Beat::Stop);
        };
        if !matches!(standing.state, JobState::Running | JobState::Waiting) {
            self.done = self.done.max(standing.finished());
            self.publish(standing.state);
            return Ok(Beat::Stop);
        }
        if standing.finished() > self.done {
            self.done = standing.finished();
            self.publish(standing.state);
        }
        Ok(Beat::Continue)
    }

    async fn claim(&self, limit: usize) -> Result<Vec<(u32, Lead)>, String> {
        let (job, owner) = (self.id.to_owned(), Arc::clone(&self.inner.owner));
        let now = unix_ms();
        let until = lease_until(self.inner);
        self.inner
            .db(move |c| db::claim(c, &job, &owner, now, until, limit))
            .await
            .map_err(|e| e.to_string())
    }

    async fn standing(&self) -> Result<Option<db::Standing>, String> {
        let job = self.id.to_owned();
        self.inner
            .db(move |c| db::standing(c, &job))
            .await
            .map_err(|e| e.to_string())
    }

    async fn set_state(
        &self,
        state: JobState,
        from: &'static [JobState],
        error: Option<&str>,
    ) -> Result<(), String> {
        let (job, error) = (self.id.to_owned(), error.map(str::to_owned));
        self.inner
            .db(move |c| db::set_state(c, &job, state, from, error.as_deref()))
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    fn publish(&self, state: JobState) {
        self.inner.publish(
            self.id,
            Progress {
                done: self.done,
                total: self.total,
                state,
            },
        );
    }
}

/// Unix milliseconds now (leases are compared in them).
fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// When a lease taken or renewed now runs out.
fn lease_until(inner: &Inner) -> i64 {
    let lease = i64::try_from(inner.settings.lease.as_millis()).unwrap_or(i64::MAX);
    unix_ms().saturating_add(lease)
}

async fn classify(inner: &Inner, idx: u32, lead: Lead, context: &(Value, Call, String)) -> Outcome {
    let (schema, call, system) = context;
    let request = Request::new(prompt(&lead))
        .with_system(system.clone())
        .with_max_tokens(400)
        .with_temperature(0.0);
    let answer = inner.router.complete_json(&request, schema, call).await;
    let mut usage = JobUsage::default();
    let result = match answer {
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
    Outcome::Answered(idx, result, usage)
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

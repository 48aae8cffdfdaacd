//! ffmcp-leadgen through its public API: extraction against fixture pages
//! with known leads, normalisation edge cases, dedupe/score/enrich, and
//! durable batches against the model-provider imitation.

mod batch;
mod checks;
mod dns;
mod extract;
mod normalize;
mod replicas;
mod worst_case;

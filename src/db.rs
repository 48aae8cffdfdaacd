//! `ffmcp db migrate` and `ffmcp db status`: every server's schema in the
//! store `FF_DB` names, applied or listed without starting a server.

use ffmcp_core::{
    Config, Servers,
    store::{Location, Schema, SchemaStatus, Store},
};
use serde::Serialize;

/// What `ffmcp db …` found and did.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The SQLite file or the PostgreSQL URL (password masked).
    pub store: String,
    /// `sqlite` or `postgres`, once opened.
    pub backend: Option<ffmcp_core::store::Backend>,
    /// Whether a statement went through.
    pub reachable: bool,
    /// Why not, or why a migration failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Migrations applied by this run, per namespace (`migrate` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<(String, usize)>,
    /// Each namespace's version.
    pub schemas: Vec<SchemaStatus>,
}

impl Report {
    /// Reachable, and every namespace this backend has a schema for is at
    /// its latest version.
    pub fn ok(&self) -> bool {
        self.reachable
            && self.error.is_none()
            && self
                .schemas
                .iter()
                .all(|s| s.latest.is_none_or(|latest| s.applied >= latest))
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn to_text(&self) -> String {
        let backend = self.backend.map_or("unknown", |b| match b {
            ffmcp_core::store::Backend::Sqlite => "SQLite",
            ffmcp_core::store::Backend::Postgres => "PostgreSQL",
        });
        let mut text = format!(
            "store     {} ({backend})\nreachable {}\n",
            self.store,
            if self.reachable { "yes" } else { "no" }
        );
        if let Some(error) = &self.error {
            text.push_str(&format!("error     {error}\n"));
        }
        for (namespace, n) in &self.applied {
            text.push_str(&format!(
                "migrated  {namespace}: {n} migration(s) applied\n"
            ));
        }
        for s in &self.schemas {
            let state = match s.latest {
                None => "no schema for this backend yet (SQLite only)".to_owned(),
                Some(latest) if s.applied >= latest => format!("v{} (current)", s.applied),
                Some(latest) => format!(
                    "v{} of v{latest}: {} pending (ffmcp db migrate)",
                    s.applied,
                    latest - s.applied
                ),
            };
            text.push_str(&format!("  {:<20} {state}\n", s.namespace));
        }
        text
    }
}

/// Every schema this binary knows: core's tasks, then each server's.
fn schemas(servers: &Servers) -> Vec<&'static Schema> {
    std::iter::once(&ffmcp_core::tasks::SCHEMA)
        .chain(servers.iter().filter_map(|spec| spec.own_schema()))
        .collect()
}

/// Opens the store, migrates when asked, and reports every schema.
pub async fn run(servers: &Servers, config: &Config, migrate: bool) -> Report {
    let mut report = Report {
        store: Location::from_config(config).to_string(),
        backend: None,
        reachable: false,
        error: None,
        applied: Vec::new(),
        schemas: Vec::new(),
    };
    let store = match Store::open_default(config) {
        Ok(store) => store,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    report.backend = Some(store.backend());
    if let Err(e) = store.ping().await {
        report.error = Some(e.to_string());
        return report;
    }
    report.reachable = true;
    let all = schemas(servers);
    if migrate {
        for schema in &all {
            let backend_has_it = match store.backend() {
                ffmcp_core::store::Backend::Sqlite => true,
                ffmcp_core::store::Backend::Postgres => schema.postgres.is_some(),
            };
            if !backend_has_it {
                continue;
            }
            match store.migrate(schema).await {
                Ok(n) => report.applied.push((schema.namespace.to_owned(), n)),
                Err(e) => {
                    report.error = Some(e.to_string());
                    break;
                }
            }
        }
    }
    match store.status(all).await {
        Ok(schemas) => report.schemas = schemas,
        Err(e) => report.error = Some(e.to_string()),
    }
    report
}

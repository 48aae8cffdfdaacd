//! The PostgreSQL backend: a `deadpool-postgres` pool of `tokio-postgres`
//! connections, driven from the store's blocking closures.
//!
//! [`super::Store::run`] hands a closure a [`super::Db`] on a blocking
//! thread; for PostgreSQL that thread holds one pooled connection for the
//! closure's length and waits on each statement with the runtime's
//! `Handle::block_on` (allowed on blocking threads; the connection's I/O
//! task runs on the runtime). So the same statement code serves both
//! backends, and a closure is one unit of work on one connection, which is
//! what transactions need.
//!
//! Statements are written once with SQLite's numbered placeholders (`?1`);
//! [`placeholders`] rewrites them to PostgreSQL's (`$1`), and prepared
//! statements are cached per connection.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::{
    config::SslMode,
    types::{IsNull, ToSql, Type, to_sql_checked},
};

use super::{Row, StoreError, Value};

/// Pool settings, read from the configuration by [`super::PoolSettings`].
#[derive(Debug, Clone)]
pub(super) struct PoolOptions {
    pub size: usize,
    pub wait: Duration,
    pub connect: Duration,
    pub password: Option<String>,
    /// `FF_DB_CA_FILE`: the CA certificates TLS trusts instead of the
    /// system's (`sslrootcert=` in the URL wins).
    pub ca_file: Option<std::path::PathBuf>,
}

/// The pool and where it points (password masked).
pub(super) struct Pg {
    pool: Pool,
    /// For connections outside the pool ([`Pg::listen`]).
    config: tokio_postgres::Config,
    connector: super::tls::Connector,
    target: String,
    wait: Duration,
}

impl Pg {
    /// Builds the pool; no connection is made until the first statement.
    pub fn new(url: &str, options: &PoolOptions) -> Result<Self, StoreError> {
        let target = super::mask_password(url);
        let fail = |reason: String| StoreError::Open {
            path: target.clone(),
            reason,
        };
        let (url, tls) = super::tls::split_params(url).map_err(&fail)?;
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| fail(format!("not a PostgreSQL URL: {e}")))?;
        if let Some(password) = &options.password {
            config.password(password.as_str());
        }
        let ca_file = tls
            .root_cert
            .as_deref()
            .map(std::path::Path::new)
            .or(options.ca_file.as_deref());
        // Naming a CA without a mode asks for TLS.
        let mode = tls.mode.unwrap_or(if ca_file.is_some() {
            SslMode::Require
        } else {
            SslMode::Disable
        });
        config.ssl_mode(mode);
        let connector = if mode == SslMode::Disable {
            super::tls::Connector(None)
        } else {
            super::tls::Connector(Some(super::tls::client_config(ca_file).map_err(&fail)?))
        };
        config.connect_timeout(options.connect);
        config.application_name("ffmcp");
        let manager = Manager::from_config(
            config.clone(),
            connector.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.size)
            .wait_timeout(Some(options.wait))
            .create_timeout(Some(options.connect))
            .recycle_timeout(Some(options.connect))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            pool,
            config,
            connector,
            target,
            wait: options.wait,
        })
    }

    /// A dedicated connection (outside the pool) that has run `LISTEN
    /// channel`: the payloads of its notifications, until it ends.
    pub async fn listen(
        &self,
        channel: &'static str,
    ) -> Result<tokio::sync::mpsc::Receiver<String>, StoreError> {
        let fail = |e: tokio_postgres::Error| {
            StoreError::Pool(format!(
                "cannot connect to {}: {}",
                self.target,
                error_chain(&e)
            ))
        };
        let (client, mut connection) = self
            .config
            .connect(self.connector.clone())
            .await
            .map_err(fail)?;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        // The connection is driven by polling its messages; it ends (and
        // the receiver sees `None`) when the server or the network drops
        // it, and is closed when the receiver is dropped.
        let client = std::sync::Arc::new(client);
        let held = std::sync::Arc::clone(&client);
        tokio::spawn(async move {
            let _client = held;
            loop {
                let message = tokio::select! {
                    () = tx.closed() => return,
                    message = std::future::poll_fn(|cx| connection.poll_message(cx)) => message,
                };
                match message {
                    Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                        if tx.send(n.payload().to_owned()).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::debug!("listening connection: {e}");
                        return;
                    }
                    None => return,
                }
            }
        });
        client
            .batch_execute(&format!("LISTEN {channel}"))
            .await
            .map_err(fail)?;
        Ok(rx)
    }

    /// The URL, password masked.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Connections open and idle, and the pool's size.
    pub fn status(&self) -> (usize, usize, usize) {
        let s = self.pool.status();
        (s.size, s.available, s.max_size)
    }

    /// Takes a connection (waiting at most the pool's wait) for one closure.
    pub fn session(&self, rt: &tokio::runtime::Handle) -> Result<Session, StoreError> {
        let client = rt.block_on(self.pool.get()).map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::Pool(format!(
                "cannot connect to {}: {}",
                self.target,
                error_chain(&e)
            )),
            deadpool_postgres::PoolError::Timeout(_) => StoreError::Pool(format!(
                "no PostgreSQL connection from {} within {} ms (FF_DB_POOL_SIZE, \
                 FF_DB_POOL_WAIT_MS, FF_DB_CONNECT_TIMEOUT_MS)",
                self.target,
                self.wait.as_millis()
            )),
            other => StoreError::Pool(format!("{}: {other}", self.target)),
        })?;
        Ok(Session {
            client: Some(client),
            rt: rt.clone(),
            in_transaction: false,
        })
    }
}

/// One pooled connection, held by one closure.
pub(super) struct Session {
    client: Option<Object>,
    rt: tokio::runtime::Handle,
    in_transaction: bool,
}

impl Drop for Session {
    fn drop(&mut self) {
        // A closure that panicked (or returned) inside a transaction must not
        // hand its connection back mid-transaction: detach it from the pool
        // so it closes and the server rolls the transaction back.
        if self.in_transaction
            && let Some(client) = self.client.take()
        {
            drop(Object::take(client));
        }
    }
}

impl Session {
    fn client(&self) -> &Object {
        self.client
            .as_ref()
            .expect("the client is present until the session drops")
    }

    fn statement(&self, sql: &str) -> Result<tokio_postgres::Statement, StoreError> {
        let sql = placeholders(sql);
        self.rt
            .block_on(self.client().prepare_cached(&sql))
            .map_err(StoreError::from)
    }

    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        let refs = refs(params);
        self.rt
            .block_on(self.client().execute(&statement, &refs))
            .map_err(StoreError::from)
    }

    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let statement = self.statement(sql)?;
        let refs = refs(params);
        let rows = self
            .rt
            .block_on(self.client().query(&statement, &refs))
            .map_err(StoreError::from)?;
        rows.iter().map(row).collect()
    }

    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.rt
            .block_on(self.client().batch_execute(sql))
            .map_err(StoreError::from)
    }

    pub fn begin(&mut self) -> Result<(), StoreError> {
        self.batch("BEGIN")?;
        self.in_transaction = true;
        Ok(())
    }

    pub fn end(&mut self, commit: bool) -> Result<(), StoreError> {
        let result = self.batch(if commit { "COMMIT" } else { "ROLLBACK" });
        if result.is_ok() {
            self.in_transaction = false;
        }
        result
    }
}

/// An error and its causes, `: `-separated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Reads a row into values by each column's type.
fn row(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let mut values = Vec::with_capacity(row.len());
    for (index, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let bad = |e: tokio_postgres::Error| {
            StoreError::Value(format!("column {} ({ty}): {e}", column.name()))
        };
        let value = match *ty {
            Type::INT8 => row
                .try_get::<_, Option<i64>>(index)
                .map_err(bad)?
                .map_or(Value::Null, Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(index)
                .map_err(bad)?
                .map_or(Value::Null, |v| Value::Int(i64::from(v))),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(index)
                .map_err(bad)?
                .map_or(Value::Null, |v| Value::Int(i64::from(v))),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(index)
                .map_err(bad)?
                .map_or(Value::Null, |v| Value::Int(i64::from(v))),
            Type::FLOAT8 => row
                .try_get::<_, Option<f64>>(index)
                .map_err(bad)?
                .map_or(Value::Null, Value::Real),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(index)
                .map_err(bad)?
                .map_or(Value::Null, |v| Value::Real(f64::from(v))),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => row
                .try_get::<_, Option<String>>(index)
                .map_err(bad)?
                .map_or(Value::Null, Value::Text),
            Type::BYTEA => row
                .try_get::<_, Option<Vec<u8>>>(index)
                .map_err(bad)?
                .map_or(Value::Null, Value::Blob),
            _ => {
                return Err(StoreError::Value(format!(
                    "column {} has type {ty}, which the store does not read; cast it \
                     (::bigint, ::text) in the statement",
                    column.name()
                )));
            }
        };
        values.push(value);
    }
    Ok(Row::new(values))
}

/// Sends a value as the type PostgreSQL inferred for its parameter.
impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = || -> Box<dyn std::error::Error + Sync + Send> {
            format!("a {self:?} value cannot be sent as {ty}").into()
        };
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(v), &Type::INT8) => v.to_sql(ty, out),
            (Value::Int(v), &Type::INT4) => {
                i32::try_from(*v).map_err(|_| mismatch())?.to_sql(ty, out)
            }
            (Value::Int(v), &Type::INT2) => {
                i16::try_from(*v).map_err(|_| mismatch())?.to_sql(ty, out)
            }
            (Value::Int(v), &Type::BOOL) => (*v != 0).to_sql(ty, out),
            #[allow(clippy::cast_precision_loss)]
            (Value::Int(v), &Type::FLOAT8) => (*v as f64).to_sql(ty, out),
            (Value::Int(v), &Type::TEXT | &Type::VARCHAR) => v.to_string().to_sql(ty, out),
            (Value::Real(v), &Type::FLOAT8) => v.to_sql(ty, out),
            #[allow(clippy::cast_possible_truncation)]
            (Value::Real(v), &Type::FLOAT4) => (*v as f32).to_sql(ty, out),
            (Value::Text(v), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME) => {
                v.as_str().to_sql(ty, out)
            }
            (Value::Text(v), &Type::BYTEA) => v.as_bytes().to_sql(ty, out),
            (Value::Blob(v), &Type::BYTEA) => v.as_slice().to_sql(ty, out),
            _ => Err(mismatch()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// `?1` → `$1` outside quoted literals and identifiers.
pub(super) fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_literals_only() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND \"?3\" = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND \"?3\" = $12"
        );
        assert_eq!(placeholders("a = 'it''s ?1' OR ?2"), "a = 'it''s ?1' OR $2");
    }
}

//! Values crossing the store boundary, the same for both backends: a
//! parameter is a [`Value`], a result row is a [`Row`] of them, read back
//! with [`Row::get`] into plain Rust types ([`FromValue`]).
//!
//! Integers are 64-bit everywhere (`INTEGER` on SQLite, `BIGINT` on
//! PostgreSQL); flags are integers 0/1 on both, text is text, JSON is kept
//! as text. The PostgreSQL side converts a value to the type the server
//! inferred for the parameter (an `Int` bound to an `int4` is sent as one),
//! and refuses, naming both, what it cannot convert.

use super::StoreError;

/// One SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A 64-bit integer (also flags: 0/1).
    Int(i64),
    /// A double.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// The parameters of a statement, converted: `params![a, b, c]`.
#[macro_export]
macro_rules! store_params {
    () => { &[] as &[$crate::store::Value] };
    ($($value:expr),+ $(,)?) => {
        &[$($crate::store::Value::from($value)),+] as &[$crate::store::Value]
    };
}

pub use crate::store_params as params;

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<u16> for Value {
    fn from(v: u16) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Self::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::Real(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Self::Blob(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

impl<T: Clone + Into<Value>> From<&Option<T>> for Value {
    fn from(v: &Option<T>) -> Self {
        v.clone().map_or(Self::Null, Into::into)
    }
}

impl From<&i64> for Value {
    fn from(v: &i64) -> Self {
        Self::Int(*v)
    }
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Self::Null => "NULL",
            Self::Int(_) => "integer",
            Self::Real(_) => "real",
            Self::Text(_) => "text",
            Self::Blob(_) => "blob",
        }
    }
}

/// A Rust type a column can be read into.
pub trait FromValue: Sized {
    /// Converts, or says what the column held instead.
    fn from_value(value: &Value) -> Result<Self, String>;
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(v) => Ok(*v),
            other => Err(format!("expected an integer, found {}", other.kind())),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, String> {
        i64::from_value(value).map(|v| v != 0)
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Real(v) => Ok(*v),
            #[allow(clippy::cast_precision_loss)]
            Value::Int(v) => Ok(*v as f64),
            other => Err(format!("expected a number, found {}", other.kind())),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Text(v) => Ok(v.clone()),
            other => Err(format!("expected text, found {}", other.kind())),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Blob(v) => Ok(v.clone()),
            Value::Text(v) => Ok(v.clone().into_bytes()),
            other => Err(format!("expected bytes, found {}", other.kind())),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    pub(super) fn new(values: Vec<Value>) -> Self {
        Self { values }
    }

    /// Column `index` (from 0) as a `T`; an error names the column and what
    /// it held.
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T, StoreError> {
        let value = self.values.get(index).ok_or_else(|| {
            StoreError::Value(format!(
                "column {index} asked of a row of {}",
                self.values.len()
            ))
        })?;
        T::from_value(value).map_err(|e| StoreError::Value(format!("column {index}: {e}")))
    }

    /// How many columns.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_convert_both_ways_and_mismatches_name_the_column() {
        let row = Row::new(vec![
            Value::from(7_i64),
            Value::from("x"),
            Value::from(None::<String>),
            Value::from(true),
        ]);
        assert_eq!(row.get::<i64>(0).expect("int"), 7);
        assert_eq!(row.get::<String>(1).expect("text"), "x");
        assert_eq!(row.get::<Option<String>>(2).expect("null"), None);
        assert!(row.get::<bool>(3).expect("flag"));
        let err = row.get::<i64>(1).expect_err("text is no integer");
        assert!(err.to_string().contains("column 1"), "{err}");
        assert!(row.get::<i64>(9).is_err());
    }
}

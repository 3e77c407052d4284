//! Decoding script replies (nested arrays of strings and integers) into Rust values.

use super::error::Error;
use redis::Value;

/// The rows of a reply that is an array of arrays.
pub(super) fn rows(v: Value) -> Result<Vec<Vec<Value>>, Error> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|row| match row {
                Value::Array(cells) => Ok(cells),
                other => Err(Error::Reply(format!("expected a row, got {other:?}"))),
            })
            .collect(),
        other => Err(Error::Reply(format!("expected rows, got {other:?}"))),
    }
}

/// Bytes of a cell (nil is empty).
pub(super) fn bytes(v: Value) -> Result<Vec<u8>, Error> {
    match v {
        Value::BulkString(b) => Ok(b),
        Value::SimpleString(s) => Ok(s.into_bytes()),
        Value::Int(i) => Ok(i.to_string().into_bytes()),
        Value::Nil => Ok(Vec::new()),
        other => Err(Error::Reply(format!("expected a string, got {other:?}"))),
    }
}

/// Text of a cell (nil is empty).
pub(super) fn text(v: Value) -> Result<String, Error> {
    String::from_utf8(bytes(v)?).map_err(|e| Error::Reply(format!("not UTF-8: {e}")))
}

/// Text of a cell, `None` for nil.
pub(super) fn opt_text(v: Value) -> Result<Option<String>, Error> {
    match v {
        Value::Nil => Ok(None),
        other => text(other).map(Some),
    }
}

/// An integer cell (a number or its text).
pub(super) fn int(v: Value) -> Result<i64, Error> {
    match v {
        Value::Int(i) => Ok(i),
        Value::Nil => Ok(0),
        other => {
            let t = text(other)?;
            t.parse::<i64>()
                .or_else(|_| t.parse::<f64>().map(|f| f as i64))
                .map_err(|_| Error::Reply(format!("expected an integer, got {t:?}")))
        }
    }
}

/// Takes the cells of a row in order.
pub(super) struct Cells(std::vec::IntoIter<Value>);

impl Cells {
    pub(super) fn new(row: Vec<Value>) -> Cells {
        Cells(row.into_iter())
    }

    pub(super) fn next(&mut self) -> Value {
        self.0.next().unwrap_or(Value::Nil)
    }

    pub(super) fn text(&mut self) -> Result<String, Error> {
        text(self.next())
    }

    pub(super) fn opt_text(&mut self) -> Result<Option<String>, Error> {
        opt_text(self.next())
    }

    /// A fixed word of the model (a status, an outcome), through its parser.
    pub(super) fn word<T>(&mut self, parse: fn(&str) -> Option<T>) -> Result<T, Error> {
        let word = self.text()?;
        parse(&word).ok_or_else(|| Error::Reply(format!("unknown stored word {word:?}")))
    }

    pub(super) fn int(&mut self) -> Result<i64, Error> {
        int(self.next())
    }

    pub(super) fn u32(&mut self) -> Result<u32, Error> {
        let n = self.int()?;
        u32::try_from(n).map_err(|_| Error::Reply(format!("expected a count, got {n}")))
    }

    pub(super) fn bytes(&mut self) -> Result<Vec<u8>, Error> {
        bytes(self.next())
    }
}

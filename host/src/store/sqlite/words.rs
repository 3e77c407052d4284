//! The model's fixed words (and event ids) as SQLite text: written with their stored word, read back through
//! the model's parser, so an unknown word is a conversion error (a corrupt row), never a guess.

use crate::model::{AttemptOutcome, EventId, EventStatus, JobStatus};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

macro_rules! sql_text {
    ($($name:ident),+) => {$(
        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let word = value.as_str()?;
                $name::parse(word).ok_or_else(|| {
                    FromSqlError::Other(format!("unknown {} {word:?}", stringify!($name)).into())
                })
            }
        }
    )+};
}

sql_text!(JobStatus, AttemptOutcome, EventStatus);

/// Event ids as stored: their text.
impl ToSql for EventId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for EventId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(EventId::stored(value.as_str()?.to_owned()))
    }
}

//! Keyset paging of the inspection listings, the same for every backend: a page is cut after
//! `limit` rows (one more is read to know whether another page follows), and the cursor of the
//! next page is `{time}.{key}` of the last row shown, so inserts never shift a page.

use super::StoreError;
use std::fmt::Display;
use std::str::FromStr;

/// The `(time, key)` a cursor names, or `None` for the first page. A cursor that is not
/// `{integer}.{key}` is an error.
pub(crate) fn parse_cursor<K: FromStr>(
    cursor: Option<&str>,
) -> Result<Option<(i64, K)>, StoreError> {
    let Some(text) = cursor.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    text.split_once('.')
        .filter(|(_, key)| !key.is_empty())
        .and_then(|(at, key)| Some((at.parse().ok()?, key.parse().ok()?)))
        .map(Some)
        .ok_or_else(|| StoreError::Corrupt(format!("invalid cursor {text:?}")))
}

/// The first `limit` of `rows` (each with its key), and the cursor of the next page when
/// there were more; `at` is a row's time.
pub(crate) fn cut<T, K: Display>(
    mut rows: Vec<(T, K)>,
    limit: usize,
    at: impl Fn(&T) -> i64,
) -> (Vec<T>, Option<String>) {
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|(row, key)| format!("{}.{key}", at(row)))
    } else {
        None
    };
    (rows.into_iter().map(|(row, _)| row).collect(), next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(
            parse_cursor::<i64>(Some("1700000000000.42")).unwrap(),
            Some((1_700_000_000_000, 42))
        );
        assert_eq!(
            parse_cursor::<String>(Some("1700000000000.j:42")).unwrap(),
            Some((1_700_000_000_000, "j:42".to_owned()))
        );
        assert_eq!(parse_cursor::<i64>(None).unwrap(), None);
        assert_eq!(parse_cursor::<i64>(Some("")).unwrap(), None);
        for bad in ["x.1", "12", "12.", "1.x"] {
            assert!(parse_cursor::<i64>(Some(bad)).is_err(), "{bad}");
        }
        assert!(parse_cursor::<String>(Some("12.")).is_err());
    }

    #[test]
    fn pages_are_cut_after_the_limit_with_the_last_row_as_cursor() {
        let rows = vec![(30, "c"), (20, "b"), (10, "a")];
        assert_eq!(
            cut(rows.clone(), 2, |t| *t),
            (vec![30, 20], Some("20.b".into()))
        );
        assert_eq!(cut(rows, 3, |t| *t), (vec![30, 20, 10], None));
    }
}

//! Column and time codecs of the portable tables: times are fixed-width UTC text there.

use sqlx::any::AnyRow;
use sqlx::Any;

/// Reads a column, naming it in the error.
pub fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, sqlx::Error>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    row.try_get(name)
}

/// Reads a time stored as text (see `time_text`); NULL is `None`.
pub fn time_col(
    row: &AnyRow,
    name: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, sqlx::Error> {
    col::<Option<String>>(row, name)?
        .map(|t| decode_time(&t))
        .transpose()
}

/// Reads a reader's checkpoint stored as `<prefix>_snapshot` (text) and `<prefix>_seq`.
pub fn checkpoint_col(row: &AnyRow, prefix: &str) -> Result<crate::store::Checkpoint, sqlx::Error> {
    let text: String = col(row, &format!("{prefix}_snapshot"))?;
    let seq: i64 = col(row, &format!("{prefix}_seq"))?;
    crate::store::Checkpoint::from_stored(&text, seq).map_err(|e| sqlx::Error::Decode(e.into()))
}

/// `parse_time` for a value read from a table: a bad one is a decode error.
pub fn decode_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, sqlx::Error> {
    parse_time(text).map_err(|e| sqlx::Error::Decode(e.into()))
}

/// The one text form of a time where it is stored as text (SQLite, portable tables):
/// fixed-width UTC, so text order is time order.
pub fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("bad time {text:?}: {e}"))
}

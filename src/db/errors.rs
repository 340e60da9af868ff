//! Database errors as the application sorts them: passing trouble (try again) or not.

/// True for errors that say the database is briefly unable to do the work (unreachable,
/// restarting, deadlock, lock timeout, busy), as opposed to a bug or bad data: trying again
/// later may succeed. The one classifier for the whole application.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            let code = e.code().unwrap_or_default();
            if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLITE_BUSY and SQLITE_LOCKED, including their extended codes.
                code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
            } else {
                // PostgreSQL classes 08 connection, 40 rollback (deadlock, serialization),
                // 53 resources, 57 operator intervention (shutdown), 58 system; 55P03 lock timeout.
                ["08", "40", "53", "57", "58", "55P03"]
                    .iter()
                    .any(|class| code.starts_with(class))
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// A value that could not be written as JSON, as the database error sqlx would give for it.
pub fn encode_error(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(e))
}

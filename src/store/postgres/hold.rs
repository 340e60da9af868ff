//! Stall diagnosis: freightdesk's slow writes and the sessions whose locks its work waits for
//! (see `crate::stall` for the report and how it is explained).

use crate::db::APPLICATION_NAME;
use crate::stall::{HoldReport, Holder, HolderRole, SLOW_TRANSACTION_SECONDS};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

/// One statement, so the sessions and their locks are seen at one moment. It reads the
/// activity view, `pg_blocking_pids` of freightdesk's own sessions and their locks on
/// `events`: cheap enough to run every couple of seconds.
///
/// Holders are freightdesk's write transactions (`backend_xid` set) open for at least $2
/// seconds (those holding `events` are appends), and any other session (or prepared
/// transaction, pid 0) that freightdesk's sessions wait for. A transaction elsewhere that
/// blocks nothing of ours is not a holder: it cannot delay a reader.
const DIAGNOSE_SQL: &str = r#"
WITH activity AS (
    SELECT pid, usename::text AS user_name, datname::text AS database, application_name,
           host(client_addr) AS client_addr, state, xact_start AS started, query_start,
           left(query, 200) AS query, backend_xid IS NOT NULL AS writing
    FROM pg_stat_activity
    WHERE pid <> pg_backend_pid()
    UNION ALL
    SELECT 0, owner::text, database::text, NULL, NULL, 'prepared', prepared, NULL,
           left(format('PREPARE TRANSACTION %L', gid), 200), true
    FROM pg_prepared_xacts
    WHERE database = current_database()
), ours AS (
    SELECT pid, pg_blocking_pids(pid) AS blockers
    FROM activity
    WHERE pid <> 0 AND application_name = $1 AND database = current_database()
), blocking AS (
    SELECT b AS pid, count(*) AS blocks FROM ours, unnest(ours.blockers) AS b GROUP BY b
), waiting AS (
    SELECT count(*) FILTER (WHERE cardinality(blockers) > 0) AS sessions FROM ours
), holders AS (
    SELECT a.*, COALESCE(b.blocks, 0) AS blocks,
           extract(epoch FROM clock_timestamp() - a.started)::float8 AS age,
           a.pid IN (SELECT pid FROM ours) AS own
    FROM activity a LEFT JOIN blocking b ON b.pid = a.pid
)
SELECT w.sessions AS waiting, h.pid, h.user_name, h.database, h.application_name,
       h.client_addr, h.state, h.query_start, h.query, h.age, h.blocks, h.own,
       h.own AND EXISTS (SELECT 1 FROM pg_locks l
                         WHERE l.pid = h.pid AND l.granted AND l.relation = 'events'::regclass
                           AND l.mode = 'RowExclusiveLock') AS appending
FROM waiting w
LEFT JOIN holders h
  ON (h.own AND h.writing AND h.age >= $2) OR (NOT h.own AND h.blocks > 0)
ORDER BY h.started NULLS LAST, h.pid
"#;

/// What slows freightdesk right now.
#[tracing::instrument(skip_all)]
pub(super) async fn diagnose(pool: &PgPool) -> Result<HoldReport, sqlx::Error> {
    let rows = sqlx::query(DIAGNOSE_SQL)
        .bind(APPLICATION_NAME)
        .bind(SLOW_TRANSACTION_SECONDS)
        .fetch_all(pool)
        .await?;
    let Some(first) = rows.first() else {
        return Ok(HoldReport::default());
    };
    Ok(HoldReport {
        waiting_sessions: first.try_get("waiting")?,
        holders: rows
            .iter()
            .filter_map(|row| holder(row).transpose())
            .collect::<Result<_, _>>()?,
    })
}

/// The holder in a row, or `None` for the single row of a report without holders.
fn holder(row: &PgRow) -> Result<Option<Holder>, sqlx::Error> {
    let Some(pid) = row.try_get::<Option<i32>, _>("pid")? else {
        return Ok(None);
    };
    let role = match (row.try_get("own")?, row.try_get("appending")?) {
        (true, true) => HolderRole::SlowAppend,
        (true, false) => HolderRole::SlowBatch,
        (false, _) => HolderRole::Blocker,
    };
    Ok(Some(Holder {
        pid,
        user: row.try_get("user_name")?,
        database: row.try_get("database")?,
        application_name: row.try_get("application_name")?,
        client_addr: row.try_get("client_addr")?,
        state: row.try_get("state")?,
        // Unknown (NULL) when the role may not see the session's start.
        transaction_age_seconds: row
            .try_get::<Option<f64>, _>("age")?
            .unwrap_or(0.0)
            .max(0.0),
        query_started_at: row.try_get::<Option<DateTime<Utc>>, _>("query_start")?,
        query: row.try_get("query")?,
        role,
        blocks: row.try_get("blocks")?,
    }))
}

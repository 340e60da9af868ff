//! Stall diagnosis: which open transactions keep committed events from readers (see
//! `crate::stall` for the report and how it is explained).

use super::APPLICATION_NAME;
use crate::stall::{HoldReport, Holder};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

/// One statement, so the events, the snapshot and pg_stat_activity are seen at one moment.
/// It reads three index probes of `events (tx_id, seq)` and the activity view: cheap enough to
/// run every couple of seconds.
///
/// `backend_xid` and `pg_prepared_xacts.transaction` are 32-bit; `tx_id` is a 64-bit xid8.
/// A running xid lies within 2^31 of the snapshot's xmax, so it is widened to the xid8 nearest
/// to xmax with those low 32 bits (signed distance). Using the epoch of `pg_current_xact_id()`
/// instead would be wrong just after an epoch boundary, and would give this query an xid.
/// Sessions without an xid (read-only, only a `backend_xmin`) are not holders: they do not lower
/// `pg_snapshot_xmin` of other snapshots.
const DIAGNOSE_SQL: &str = r#"
WITH snap AS (
    SELECT pg_snapshot_xmin(s) AS xmin, pg_snapshot_xmax(s)::text::bigint AS ref
    FROM pg_current_snapshot() AS s
), waiting AS (
    SELECT (SELECT count(*) FROM events WHERE tx_id >= snap.xmin) AS unreadable,
           (SELECT recorded_at FROM events WHERE tx_id >= snap.xmin
             ORDER BY tx_id, seq LIMIT 1) AS first_at,
           (SELECT max(tx_id) FROM events WHERE tx_id >= snap.xmin)::text::bigint AS newest_tx,
           snap.ref
    FROM snap
), open_xacts AS (
    SELECT pid, usename::text AS user_name, datname::text AS database, application_name,
           host(client_addr) AS client_addr, state, xact_start AS started, query_start,
           left(query, 200) AS query, backend_xid AS xid
    FROM pg_stat_activity
    WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
    UNION ALL
    SELECT 0, owner::text, database::text, NULL, NULL, 'prepared', prepared, NULL,
           left(format('PREPARE TRANSACTION %L', gid), 200), transaction
    FROM pg_prepared_xacts
), holders AS (
    SELECT o.*, w.ref + (o.xid::text::bigint - w.ref % 4294967296 + 6442450944) % 4294967296
                - 2147483648 AS full_xid
    FROM open_xacts o, waiting w
)
SELECT w.unreadable, w.first_at, h.pid, h.user_name, h.database, h.application_name,
       h.client_addr, h.state, h.query_start, h.query,
       extract(epoch FROM clock_timestamp() - h.started)::float8 AS age
FROM waiting w
LEFT JOIN holders h ON h.full_xid < w.newest_tx
ORDER BY h.started NULLS LAST, h.pid
"#;

/// What holds projections back right now.
#[tracing::instrument(skip_all)]
pub(super) async fn diagnose(pool: &PgPool) -> Result<HoldReport, sqlx::Error> {
    let rows = sqlx::query(DIAGNOSE_SQL).fetch_all(pool).await?;
    let Some(first) = rows.first() else {
        return Ok(HoldReport::default());
    };
    Ok(HoldReport {
        unreadable_events: first.try_get("unreadable")?,
        oldest_unreadable_at: first.try_get("first_at")?,
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
    let application_name: Option<String> = row.try_get("application_name")?;
    Ok(Some(Holder {
        pid,
        user: row.try_get("user_name")?,
        database: row.try_get("database")?,
        own_append: pid != 0 && application_name.as_deref() == Some(APPLICATION_NAME),
        application_name,
        client_addr: row.try_get("client_addr")?,
        state: row.try_get("state")?,
        // Unknown (NULL) when the role may not see the session's start.
        transaction_age_seconds: row
            .try_get::<Option<f64>, _>("age")?
            .unwrap_or(0.0)
            .max(0.0),
        query_started_at: row.try_get::<Option<DateTime<Utc>>, _>("query_start")?,
        query: row.try_get("query")?,
    }))
}

//! What every database user shares, one file per job: the database URL parsed once into a
//! typed value (`url`), the one classifier of passing database trouble (`errors`), the
//! portable-SQL pool and SQLite's write turns (`portable`), column and time codecs (`codec`),
//! and portable SQL building (`sql`). `Database::open` (in `database.rs`) opens both pools.
//!
//! Two pools reach the same database. The event store uses the typed driver of its backend
//! (`PgPool` or `SqlitePool`): its SQL differs per dialect where it must (gap-safe reads,
//! NOTIFY, write locks) and it is the hot path. The projection catalog, the read-model tables,
//! the audit and the node registry are written once in a portable subset of SQL (TEXT, BIGINT,
//! DOUBLE PRECISION; times as fixed-width UTC text) through sqlx's `Any` driver, so each is
//! one piece of code for both backends.

mod codec;
mod errors;
mod portable;
mod sql;
mod url;

/// The `application_name` freightdesk's PostgreSQL pools connect with, so the hold diagnosis
/// (`store/postgres/hold.rs`) can tell its own sessions from others.
pub const APPLICATION_NAME: &str = "freightdesk";

pub use codec::{checkpoint_col, col, decode_time, parse_time, time_col, time_text};
pub use errors::{encode_error, is_transient};
pub use portable::{PortableDb, Tx, WriteTurns};
pub use sql::{json_strings_contain, select_json_rows, BadTableName, SqlBuilder, TableName};
pub use url::{DatabaseUrl, Dialect, UnsupportedUrl};

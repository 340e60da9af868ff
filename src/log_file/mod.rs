//! The event log as a file: one JSON document per line (JSON Lines) holding everything needed
//! to restore an event exactly (`line`), checked line by line before anything is written
//! (`validate`), read out of a store a page at a time in constant memory (`export`), and the
//! summary columns as CSV that is safe to open in a spreadsheet (`csv`).

pub mod csv;
pub mod export;
pub mod line;
pub mod validate;

pub use csv::{csv_row, CSV_HEADER};
pub use export::{export_pages, EXPORT_PAGE_SIZE};
pub use line::LogLine;
pub use validate::{BadLine, LogValidator};

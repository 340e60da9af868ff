//! Read models built from the event log. Each projection version has its own table and its own
//! checkpoint; the daemon keeps them current, exactly once, across restarts and nodes.
//!
//! Shared with the browser: the registered versions (`definition`), their lifecycle as a pure
//! state machine (`lifecycle`) and the status operators see (`status`). Server only: one
//! repository per table (`versions`, `audit`, `nodes`), the lease, the operator actions, the
//! projections themselves, the daemon that orchestrates them, and the reads.

pub mod alerts;
pub mod comparisons;
pub mod definition;
pub mod lifecycle;
pub mod readiness;
pub mod settings;
pub mod skips;
pub mod sort;
pub mod status;

#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
mod board;
#[cfg(feature = "ssr")]
mod board_counts;
#[cfg(feature = "ssr")]
mod daemon;
#[cfg(feature = "ssr")]
mod daily;
#[cfg(feature = "ssr")]
pub mod diff;
#[cfg(feature = "ssr")]
pub mod nodes;
#[cfg(feature = "ssr")]
pub mod operator;
#[cfg(feature = "ssr")]
pub mod queries;
#[cfg(feature = "ssr")]
pub mod rollout;
#[cfg(feature = "ssr")]
pub mod samples;
#[cfg(feature = "ssr")]
mod tables;
#[cfg(feature = "ssr")]
pub mod versions;

pub use definition::{parse_capabilities, Definition};

#[cfg(feature = "ssr")]
pub use board::BoardRow;
#[cfg(feature = "ssr")]
pub use daemon::{Daemon, DaemonHandle, DEFAULT_BATCH_SIZE};
#[cfg(feature = "ssr")]
pub use daily::DayCounts;
#[cfg(feature = "ssr")]
pub use tables::ApplyError;

//! Webhook subscriptions: consumers of the event log whose effect leaves the database (an HTTP
//! POST to a partner system), so they can neither be rolled back nor rebuilt like a table.
//!
//! A subscription reads the log gap-safely from its own checkpoint and writes one delivery row
//! per matching event in the same transaction as the checkpoint (an outbox); a sender then
//! delivers the rows, retrying and finally dead-lettering. Projection rebuilds and blue/green
//! cutovers never touch a subscription's checkpoint, so they never re-send anything; only an
//! admin's rewind does.
//!
//! Shared with the browser: the states, the event selection, the retry policy and what pages
//! show. Server only: one repository per table, signing, target checks, the runner.

mod policy;
mod view;

pub use policy::{judge, AttemptOutcome, RetryPolicy, Verdict};
pub use view::*;

#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod deliveries;
#[cfg(feature = "ssr")]
pub mod operations;
#[cfg(feature = "ssr")]
mod payload;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
mod runner;
#[cfg(feature = "ssr")]
pub mod signing;
#[cfg(feature = "ssr")]
pub mod target;

#[cfg(feature = "ssr")]
pub use runner::{SubscriptionRunner, SubscriptionRunnerHandle};
#[cfg(feature = "ssr")]
pub use target::WebhookConfig;

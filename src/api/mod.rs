//! Server functions, grouped by area: a thin adapter that parses input, calls the store and
//! the projections, and maps their errors to `AppError`. Nothing below this layer imports it.

pub mod auth;
#[cfg(feature = "ssr")]
mod context;
#[cfg(feature = "ssr")]
mod errors;
pub mod events;
pub mod projections;
#[cfg(feature = "ssr")]
pub mod read_your_writes;
pub mod shipments;
pub mod subscriptions;
pub mod users;

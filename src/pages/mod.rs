//! The pages of the app.

mod dispatch;
mod not_found;
mod projections;
mod shipment;

pub use dispatch::DispatchPage;
pub use not_found::NotFound;
pub use projections::ProjectionsPage;
pub use shipment::ShipmentPage;

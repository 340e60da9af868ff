//! The pages of the app.

mod dispatch;
mod events;
mod forbidden;
pub(crate) mod not_found;
mod projections;
mod rollout;
mod shipment;
mod sign_in;
mod subscriptions;
mod users;

pub use dispatch::DispatchPage;
pub use events::EventsPage;
pub use forbidden::Allowed;
pub use not_found::NotFound;
pub use projections::ProjectionsPage;
pub use rollout::RolloutPage;
pub use shipment::ShipmentPage;
pub use sign_in::{AccountPage, LoginPage, SetupPage};
pub use subscriptions::{SubscriptionPage, SubscriptionsPage};
pub use users::UsersPage;

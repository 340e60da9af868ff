//! Webhook subscriptions, for admins: list, create, pause and resume, rewind, send a test
//! event, retry or discard dead letters, delete.

use crate::error::AppError;
pub use crate::subscriptions::{CreatedSubscription, SubscriptionDetail, SubscriptionSummary};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;

#[server(endpoint = "subscriptions/list")]
pub async fn list_subscriptions() -> Result<Vec<SubscriptionSummary>, AppError> {
    let (_, state) = admin(<ListSubscriptions as ServerFn>::PATH)?;
    Ok(ops::list(&state.db, &state.store).await?)
}

#[server(endpoint = "subscriptions/detail")]
pub async fn get_subscription(
    id: i64,
    /// Dead letters after this delivery id (a page's `dead_next`); empty: from the first.
    #[server(default)]
    dead_after: String,
) -> Result<SubscriptionDetail, AppError> {
    let (_, state) = admin(<GetSubscription as ServerFn>::PATH)?;
    let dead_after = match dead_after.trim() {
        "" => 0,
        text => text.parse::<i64>().map_err(|_| AppError::BadRequest {
            message: "dead_after must be a delivery id".into(),
        })?,
    };
    Ok(ops::detail(&state.db, &state.store, id, dead_after).await?)
}

/// `event_types` come from checkboxes named `event_types[i]`; none ticked means all events.
#[server(endpoint = "subscriptions/create")]
pub async fn create_subscription(
    name: String,
    target_url: String,
    #[server(default)] event_types: Vec<String>,
    #[server(default)] place_filter: String,
    #[server(default)] max_attempts: String,
) -> Result<CreatedSubscription, AppError> {
    let (actor, state) = admin(<CreateSubscription as ServerFn>::PATH)?;
    let input = ops::SubscriptionInput {
        name: name.clone(),
        target_url: target_url.clone(),
        event_types,
        place_filter: place_filter.clone(),
        max_attempts: max_attempts.clone(),
    };
    ops::create(&state.db, &state.store, &state.webhooks, &actor, input)
        .await
        .map_err(|e| {
            AppError::from(e).with_attempted(&[
                ("name", &name),
                ("target_url", &target_url),
                ("place_filter", &place_filter),
                ("max_attempts", &max_attempts),
            ])
        })
}

#[server(endpoint = "subscriptions/pause")]
pub async fn pause_subscription(id: i64) -> Result<String, AppError> {
    let (actor, state) = admin(<PauseSubscription as ServerFn>::PATH)?;
    let state_now = crate::subscriptions::SubscriptionState::Paused;
    Ok(ops::set_state(&state.db, &actor, id, state_now).await?)
}

#[server(endpoint = "subscriptions/resume")]
pub async fn resume_subscription(id: i64) -> Result<String, AppError> {
    let (actor, state) = admin(<ResumeSubscription as ServerFn>::PATH)?;
    let state_now = crate::subscriptions::SubscriptionState::Active;
    Ok(ops::set_state(&state.db, &actor, id, state_now).await?)
}

/// `to` is a global position or a UTC time; `confirm` repeats the subscription's name.
#[server(endpoint = "subscriptions/rewind")]
pub async fn rewind_subscription(
    id: i64,
    to: String,
    #[server(default)] confirm: String,
) -> Result<String, AppError> {
    let (actor, state) = admin(<RewindSubscription as ServerFn>::PATH)?;
    ops::rewind(&state.db, &state.store, &actor, id, &to, &confirm)
        .await
        .map_err(|e| AppError::from(e).with_attempted(&[("to", &to)]))
}

#[server(endpoint = "subscriptions/test")]
pub async fn send_test_event(id: i64) -> Result<String, AppError> {
    let (actor, state) = admin(<SendTestEvent as ServerFn>::PATH)?;
    Ok(ops::send_test_event(&state.db, &actor, id).await?)
}

#[server(endpoint = "subscriptions/retry")]
pub async fn retry_delivery(id: i64, delivery: i64) -> Result<String, AppError> {
    let (actor, state) = admin(<RetryDelivery as ServerFn>::PATH)?;
    Ok(ops::retry_delivery(&state.db, &actor, id, delivery).await?)
}

#[server(endpoint = "subscriptions/discard")]
pub async fn discard_delivery(id: i64, delivery: i64) -> Result<String, AppError> {
    let (actor, state) = admin(<DiscardDelivery as ServerFn>::PATH)?;
    Ok(ops::discard_delivery(&state.db, &actor, id, delivery).await?)
}

#[server(endpoint = "subscriptions/delete")]
pub async fn delete_subscription(
    id: i64,
    #[server(default)] confirm: String,
) -> Result<String, AppError> {
    let (actor, state) = admin(<DeleteSubscription as ServerFn>::PATH)?;
    Ok(ops::delete(&state.db, &actor, id, &confirm).await?)
}

/// Every dead letter of subscription `id` back in line; `count` is the number the admin
/// confirmed (refused, with nothing changed, if there are not that many now).
#[server(endpoint = "subscriptions/retry-all")]
pub async fn retry_all_dead(id: i64, count: u64) -> Result<String, AppError> {
    let (actor, state) = admin(<RetryAllDead as ServerFn>::PATH)?;
    Ok(ops::retry_all_dead(&state.db, &actor, id, count).await?)
}

/// Every dead letter of subscription `id` given up for good, `count` confirmed as above.
#[server(endpoint = "subscriptions/discard-all")]
pub async fn discard_all_dead(id: i64, count: u64) -> Result<String, AppError> {
    let (actor, state) = admin(<DiscardAllDead as ServerFn>::PATH)?;
    Ok(ops::discard_all_dead(&state.db, &actor, id, count).await?)
}

#[cfg(feature = "ssr")]
use crate::subscriptions::operations as ops;

/// The signed-in admin's name and the state.
#[cfg(feature = "ssr")]
fn admin(path: &str) -> Result<(String, crate::state::AppState), AppError> {
    let user = crate::auth::require_access(path)?;
    Ok((user.name, super::context::app_state()?))
}

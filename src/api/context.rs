//! What a server function reaches from the request it serves.

use crate::error::AppError;
use crate::state::AppState;
use leptos::prelude::use_context;

pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}

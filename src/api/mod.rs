//! Server functions, grouped by area. Thin: parse input, call the store, map errors.

pub mod projections;
pub mod shipments;
pub mod status;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::error::AppError;
    use crate::server::AppState;
    use crate::store::StoreError;
    use leptos::prelude::*;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::Internal
        })
    }

    /// Logs an unexpected store error and turns it into what the client may see.
    pub fn store_error(e: StoreError) -> AppError {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            AppError::Unavailable
        } else {
            tracing::error!(error = %e, "store error");
            AppError::Internal
        }
    }
}

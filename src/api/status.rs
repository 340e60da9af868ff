//! What the shell shows about the system itself.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogStatus {
    pub backend: String,
    pub events: i64,
    pub head_seq: i64,
}

#[server(endpoint = "status")]
pub async fn system_status() -> Result<LogStatus, AppError> {
    let state = super::ssr::state()?;
    let (head_seq, events) = state.store.head().await.map_err(super::ssr::store_error)?;
    Ok(LogStatus {
        backend: state.store.backend_name().to_string(),
        events,
        head_seq,
    })
}

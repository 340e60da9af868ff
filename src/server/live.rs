//! Live feeds: server-sent events that tell open pages something changed.

use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::sync::broadcast;

/// One message per append to this shipment's stream, from any node.
pub async fn shipment_feed(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return (StatusCode::NOT_FOUND, "no such shipment\n").into_response();
    };
    let appended = state.store.subscribe();
    let updates = futures::stream::unfold(appended, move |mut appended| async move {
        loop {
            match appended.recv().await {
                Ok(a) if a.stream_id == id => {
                    let event = Event::default().data(a.version.to_string());
                    return Some((Ok::<_, std::convert::Infallible>(event), appended));
                }
                Ok(_) => continue,
                // Missed some: say "something changed" and let the page reload.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some((Ok(Event::default().data("?")), appended));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let mut stopping = state.stopping.clone();
    let stopped = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    Sse::new(updates.take_until(Box::pin(stopped)))
        .keep_alive(KeepAlive::default())
        .into_response()
}

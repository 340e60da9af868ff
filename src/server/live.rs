//! Live feeds: server-sent events that tell open pages something changed.

use crate::state::AppState;
use crate::store::Appended;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::sync::broadcast;

/// One message per append to this shipment's stream, from any node: the new version.
pub async fn shipment_feed(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return (StatusCode::NOT_FOUND, "no such shipment\n").into_response();
    };
    feed(state, move |a| (a.stream_id == id).then_some(a.version))
}

/// One message per append to any shipment, from any node: the position of its last event, so
/// the board can ask for a read that reflects it.
pub async fn board_feed(State(state): State<AppState>) -> Response {
    feed(state, |a| Some(a.last_seq))
}

/// The appends `pick` keeps, as events carrying the number it returns, until the server stops.
fn feed(state: AppState, pick: impl Fn(&Appended) -> Option<i64> + Send + 'static) -> Response {
    let appended = state.store.subscribe();
    let updates = futures::stream::unfold((appended, pick), |(mut appended, pick)| async move {
        loop {
            match appended.recv().await {
                Ok(a) => {
                    if let Some(n) = pick(&a) {
                        let event = Event::default().data(n.to_string());
                        return Some((Ok::<_, std::convert::Infallible>(event), (appended, pick)));
                    }
                }
                // Missed some: say "something changed" and let the page look again.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some((Ok(Event::default().data("?")), (appended, pick)));
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

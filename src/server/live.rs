//! Live feeds: server-sent events that tell open pages something changed. Each open feed holds
//! a connection and a broadcast receiver, so they are counted: a session, and the server as a
//! whole, may hold only so many at once.

use crate::auth::session_token;
use crate::state::AppState;
use crate::store::Appended;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::broadcast;

/// One message per append to this shipment's stream, from any node: the new version.
pub async fn shipment_feed(
    State(state): State<AppState>,
    Extension(streams): Extension<LiveStreams>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return (StatusCode::NOT_FOUND, "no such shipment\n").into_response();
    };
    match streams.open(&headers) {
        Ok(permit) => feed(state, permit, move |a| {
            (a.stream_id == id).then_some(a.version)
        }),
        Err(refused) => refused.into_response(),
    }
}

/// One message per append to any shipment, from any node: the position of its last event, so
/// the board can ask for a read that reflects it.
pub async fn board_feed(
    State(state): State<AppState>,
    Extension(streams): Extension<LiveStreams>,
    headers: HeaderMap,
) -> Response {
    match streams.open(&headers) {
        Ok(permit) => feed(state, permit, |a| Some(a.last_seq)),
        Err(refused) => refused.into_response(),
    }
}

/// The appends `pick` keeps, as events carrying the number it returns, until the server stops
/// or the client goes away (which drops the stream, and with it the permit).
fn feed(
    state: AppState,
    permit: LiveStreamPermit,
    pick: impl Fn(&Appended) -> Option<i64> + Send + 'static,
) -> Response {
    let appended = state.store.subscribe();
    let updates = futures::stream::unfold(
        (appended, pick, permit),
        |(mut appended, pick, permit)| async move {
            loop {
                match appended.recv().await {
                    Ok(a) => {
                        if let Some(n) = pick(&a) {
                            let event = Event::default().data(n.to_string());
                            return Some((
                                Ok::<_, std::convert::Infallible>(event),
                                (appended, pick, permit),
                            ));
                        }
                    }
                    // Missed some: say "something changed" and let the page look again.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        return Some((Ok(Event::default().data("?")), (appended, pick, permit)));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    let mut stopping = state.stopping.clone();
    let stopped = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    Sse::new(updates.take_until(Box::pin(stopped)))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The open live feeds, per session and in total.
#[derive(Clone)]
pub struct LiveStreams {
    open: Arc<Mutex<OpenStreams>>,
    per_session: usize,
    total: usize,
}

#[derive(Default)]
struct OpenStreams {
    total: usize,
    /// Keyed by session token; a session's entry goes when its last stream closes.
    by_session: HashMap<String, usize>,
}

/// Why a live feed was not opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveStreamRefused {
    #[error(
        "too many live updates are open for this session (at most {0}); close some tabs of this \
         console and reload"
    )]
    SessionFull(usize),
    #[error("the server has too many live updates open (at most {0}); try again shortly")]
    ServerFull(usize),
}

/// Counts one open feed until dropped.
pub struct LiveStreamPermit {
    streams: LiveStreams,
    session: String,
}

impl LiveStreams {
    pub fn new(per_session: usize, total: usize) -> Self {
        Self {
            open: Arc::default(),
            per_session,
            total,
        }
    }

    /// A permit for one more feed of the request's session, or why not.
    pub fn open(&self, headers: &HeaderMap) -> Result<LiveStreamPermit, LiveStreamRefused> {
        // The policy lets only signed-in requests here, so there is a session token.
        let session = session_token(headers).unwrap_or_default();
        self.open_for(session)
    }

    fn open_for(&self, session: String) -> Result<LiveStreamPermit, LiveStreamRefused> {
        let mut open = self.lock();
        if open.total >= self.total {
            return Err(LiveStreamRefused::ServerFull(self.total));
        }
        if open.by_session.get(&session).copied().unwrap_or(0) >= self.per_session {
            return Err(LiveStreamRefused::SessionFull(self.per_session));
        }
        *open.by_session.entry(session.clone()).or_default() += 1;
        open.total += 1;
        Ok(LiveStreamPermit {
            streams: self.clone(),
            session,
        })
    }

    fn close(&self, session: &str) {
        let mut open = self.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_session.get_mut(session) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.by_session.remove(session);
            }
        }
    }

    /// The counts stay consistent whatever panicked while holding the lock: each change is
    /// a few integer updates.
    fn lock(&self) -> std::sync::MutexGuard<'_, OpenStreams> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for LiveStreamPermit {
    fn drop(&mut self) {
        self.streams.close(&self.session);
    }
}

impl IntoResponse for LiveStreamRefused {
    fn into_response(self) -> Response {
        let status = match self {
            Self::SessionFull(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::ServerFull(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        tracing::info!(reason = %self, "live feed refused");
        let mut response = (status, format!("{self}\n")).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_are_counted_per_session_and_in_total() {
        let streams = LiveStreams::new(2, 3);
        let a1 = streams.open_for("a".into()).unwrap();
        let _a2 = streams.open_for("a".into()).unwrap();
        assert_eq!(
            streams.open_for("a".into()).err(),
            Some(LiveStreamRefused::SessionFull(2))
        );
        let _b1 = streams.open_for("b".into()).unwrap();
        assert_eq!(
            streams.open_for("c".into()).err(),
            Some(LiveStreamRefused::ServerFull(3))
        );
        drop(a1);
        let _a3 = streams.open_for("a".into()).unwrap();
        assert_eq!(streams.lock().total, 3);
        assert!(!streams.lock().by_session.contains_key("c"));
    }
}

//! Shipment streams on top of the event store: load an aggregate for writing, run a command
//! against the version the caller saw, and an opt-in retry for internal callers.

use super::{
    AppendError, Appended, Conflict, EventMetadata, EventStore, ExpectedVersion, NewEvent,
    RecordedEvent, StoreError,
};
use crate::domain::{
    decide, evolve, fold, DomainError, Shipment, ShipmentCommand, ShipmentEvent, ShipmentId,
    SHIPMENT_STREAM_KIND,
};
use uuid::Uuid;

/// The aggregate as of `version` (0 and `None` for a stream that does not exist).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedShipment {
    pub state: Option<Shipment>,
    pub version: i64,
}

/// A stored event together with its decoded form, for timelines.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentRecord {
    pub recorded: RecordedEvent,
    pub event: ShipmentEvent,
}

/// Who issues a command, and the request it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandContext {
    pub actor: String,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
}

impl CommandContext {
    pub fn new(actor: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            correlation_id: Uuid::new_v4(),
            causation_id: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Rejected(#[from] DomainError),
    #[error("shipment {} changed: expected version {}, now {}", .0.stream_id, .0.expected_version, .0.actual_version)]
    Conflict(Conflict),
    /// Only reachable through `save` with no events: a caller's bug, not the user's.
    #[error("nothing to save")]
    NoEvents,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AppendError> for CommandError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Conflict(c) => CommandError::Conflict(c),
            AppendError::StreamAlreadyExists { stream_id } => {
                DomainError::AlreadyExists(ShipmentId::from_uuid(stream_id)).into()
            }
            AppendError::StreamNotFound { .. } => DomainError::NotFound.into(),
            AppendError::NoEvents => CommandError::NoEvents,
            AppendError::Store(e) => CommandError::Store(e),
        }
    }
}

pub fn decode(recorded: RecordedEvent) -> Result<ShipmentRecord, StoreError> {
    let event = ShipmentEvent::from_json(&recorded.event_type, &recorded.data).map_err(|e| {
        StoreError::Corrupt {
            event_id: recorded.id.to_string(),
            message: e.to_string(),
        }
    })?;
    Ok(ShipmentRecord { recorded, event })
}

/// Every event of a shipment, decoded and in version order (empty if it does not exist).
pub async fn load_history(
    store: &EventStore,
    id: ShipmentId,
) -> Result<Vec<ShipmentRecord>, StoreError> {
    store
        .read_stream(id.as_uuid(), 0)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

pub fn fold_history(history: &[ShipmentRecord]) -> LoadedShipment {
    LoadedShipment {
        state: fold(history.iter().map(|r| &r.event)),
        version: history.last().map_or(0, |r| r.recorded.version),
    }
}

/// Where `fetch_for_writing` gets the aggregate from. Both give the same state and version
/// (a property test checks it over random histories); callers cannot tell which was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Fold every event of the stream.
    Live,
    /// Start from the stored snapshot (kept current by every `save`, in the append's own
    /// transaction) and fold only the events after it, if any.
    Snapshot,
}

/// The current state and the version a save must expect.
#[tracing::instrument(skip(store))]
pub async fn fetch_for_writing(
    store: &EventStore,
    id: ShipmentId,
) -> Result<LoadedShipment, StoreError> {
    fetch_from(store, id, Source::Snapshot).await
}

/// `fetch_for_writing` from a chosen source.
pub async fn fetch_from(
    store: &EventStore,
    id: ShipmentId,
    source: Source,
) -> Result<LoadedShipment, StoreError> {
    let start = match source {
        Source::Live => None,
        // A snapshot that no longer decodes (its shape changed) is simply not used.
        Source::Snapshot => store
            .load_snapshot(id.as_uuid())
            .await?
            .and_then(|s| Some((s.version, serde_json::from_value::<Shipment>(s.state).ok()?))),
    };
    let (version, state) = start.map_or((0, None), |(v, state)| (v, Some(state)));
    let tail = store.read_stream(id.as_uuid(), version).await?;
    let mut loaded = LoadedShipment { state, version };
    for recorded in tail {
        let record = decode(recorded)?;
        loaded.state = evolve(loaded.state.take(), &record.event);
        loaded.version = record.recorded.version;
    }
    Ok(loaded)
}

/// Appends `events` decided on `loaded` if the stream is still at its version (0: the stream
/// must be new), storing the resulting state as the stream's snapshot in the same transaction.
pub async fn save(
    store: &EventStore,
    id: ShipmentId,
    loaded: &LoadedShipment,
    events: &[ShipmentEvent],
    metadata: &EventMetadata,
) -> Result<Appended, AppendError> {
    let expected = match loaded.version {
        0 => ExpectedVersion::NoStream,
        v => ExpectedVersion::Exactly(v),
    };
    let new_events: Vec<NewEvent> = events
        .iter()
        .map(|e| NewEvent {
            event_type: e.event_type().to_string(),
            schema_version: ShipmentEvent::current_schema_version(e.event_type()),
            data: e.to_json(),
        })
        .collect();
    let after = events.iter().fold(loaded.state.clone(), evolve);
    let (id, kind) = (id.as_uuid(), SHIPMENT_STREAM_KIND);
    match after.map(serde_json::to_value) {
        Some(Ok(state)) => {
            store
                .append_with_snapshot(id, kind, expected, &new_events, metadata, state)
                .await
        }
        _ => {
            store
                .append_with_expected_version(id, kind, expected, &new_events, metadata)
                .await
        }
    }
}

fn metadata_for(context: &CommandContext, command: &ShipmentCommand) -> EventMetadata {
    EventMetadata {
        actor: context.actor.clone(),
        correlation_id: context.correlation_id,
        causation_id: context.causation_id,
        command: command.kind().name().to_string(),
    }
}

/// The state this process stored last, if it is at `version`: no read needed. If another
/// process moved the stream on since, the append's version check says so.
fn recent(store: &EventStore, id: ShipmentId, version: i64) -> Option<LoadedShipment> {
    let snapshot = store.recent_state(id.as_uuid())?;
    if snapshot.version != version {
        return None;
    }
    let state = serde_json::from_value::<Shipment>(snapshot.state).ok()?;
    Some(LoadedShipment {
        state: Some(state),
        version,
    })
}

/// Runs a command against the version the caller saw (`NoStream` to create a shipment).
/// If the shipment moved on since, that is a conflict, even if the command would still apply:
/// the caller decides whether to re-apply on the new state.
#[tracing::instrument(skip(store, command, context), fields(command = command.kind().name()))]
pub async fn execute(
    store: &EventStore,
    id: ShipmentId,
    expected: ExpectedVersion,
    command: &ShipmentCommand,
    context: &CommandContext,
) -> Result<Appended, CommandError> {
    let loaded = match expected {
        // A new stream has no state to read; the append refuses one that exists.
        ExpectedVersion::NoStream => LoadedShipment {
            state: None,
            version: 0,
        },
        ExpectedVersion::Exactly(seen) => match recent(store, id, seen) {
            Some(loaded) => loaded,
            None => {
                let loaded = fetch_for_writing(store, id).await?;
                if loaded.state.is_none() {
                    return Err(DomainError::NotFound.into());
                }
                if seen != loaded.version {
                    return Err(CommandError::Conflict(Conflict {
                        stream_id: id.as_uuid(),
                        expected_version: seen,
                        actual_version: loaded.version,
                        events_since: store.read_stream(id.as_uuid(), seen).await?,
                    }));
                }
                loaded
            }
        },
    };
    let events = decide(loaded.state.as_ref(), command)?;
    Ok(save(store, id, &loaded, &events, &metadata_for(context, command)).await?)
}

/// For internal callers only (never for a version a user saw): on a conflict, reload and decide
/// again on the fresh state, at most `max_attempts` times in all.
pub async fn execute_with_retry(
    store: &EventStore,
    id: ShipmentId,
    command: &ShipmentCommand,
    context: &CommandContext,
    max_attempts: u32,
) -> Result<Appended, CommandError> {
    execute_counting_attempts(store, id, command, context, max_attempts)
        .await
        .map(|(appended, _)| appended)
}

/// `execute_with_retry`, also saying how many attempts the success took (1: no conflict).
pub async fn execute_counting_attempts(
    store: &EventStore,
    id: ShipmentId,
    command: &ShipmentCommand,
    context: &CommandContext,
    max_attempts: u32,
) -> Result<(Appended, u32), CommandError> {
    let mut attempt = 1;
    loop {
        let loaded = fetch_for_writing(store, id).await?;
        let events = decide(loaded.state.as_ref(), command)?;
        match save(store, id, &loaded, &events, &metadata_for(context, command)).await {
            Err(AppendError::Conflict(_)) if attempt < max_attempts => attempt += 1,
            outcome => return Ok((outcome?, attempt)),
        }
    }
}

//! Shipment commands and queries. Every command takes the shipment id and the version the user
//! saw (`expected_version`); schedule creates a new stream. Arguments arrive as form fields, so
//! they are taken as text and parsed here, where a bad value becomes a clear validation error.

use crate::domain::{CommandKind, Shipment};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

/// The result of an accepted command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandOutcome {
    pub shipment_id: String,
    pub version: i64,
    /// The global sequence number of the last event appended: pass it as `wait_for` to a read
    /// (the `fd_seen` cookie carries it too) to see this command reflected.
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub version: i64,
    /// Global sequence number in the event log.
    pub seq: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub command: String,
    pub summary: String,
    pub data_json: String,
    /// The decoded event, so a page can write its times in the reader's zone.
    pub event: crate::domain::ShipmentEvent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentView {
    pub shipment: Shipment,
    pub version: i64,
    pub timeline: Vec<TimelineEntry>,
}

impl ShipmentView {
    pub fn allowed(&self, kind: CommandKind) -> bool {
        self.shipment.status.allowed_commands().contains(&kind)
    }
}

#[server(endpoint = "shipments/get")]
pub async fn get_shipment(shipment_id: String) -> Result<ShipmentView, AppError> {
    crate::auth::require_access(<GetShipment as ServerFn>::PATH)?;
    let state = super::context::app_state()?;
    execution::shipment_view(&state.store, &shipment_id).await
}

#[server(endpoint = "shipments/schedule")]
pub async fn schedule_shipment(
    origin: String,
    destination: String,
    pickup_at: String,
    /// Optional: a client-chosen id (UUID), so a script can retry safely.
    #[server(default)]
    shipment_id: String,
    /// The zone `pickup_at` is written in (`UTC`, the default, or e.g. `Europe/Amsterdam`).
    #[server(default)]
    zone: String,
    /// Sent by the console's form: a pickup in the past or more than six months ahead is
    /// refused until `pickup_confirmed` is sent too (scripts that omit it are not asked).
    #[server(default)]
    pickup_check: String,
    #[server(default)] pickup_confirmed: String,
) -> Result<CommandOutcome, AppError> {
    use crate::domain::{FieldError, PlaceName, ShipmentCommand, ShipmentId};
    use crate::store::ExpectedVersion;
    use crate::zone::Zone;
    let attempted = [
        ("origin", origin.as_str()),
        ("destination", destination.as_str()),
        ("pickup_at", pickup_at.as_str()),
    ];
    let id = if shipment_id.trim().is_empty() {
        ShipmentId::generate()
    } else {
        ShipmentId::parse(&shipment_id)
            .map_err(|e| AppError::validation(e).with_attempted(&attempted))?
    };
    let origin = PlaceName::parse("origin", &origin);
    let destination = PlaceName::parse("destination", &destination);
    let pickup_at = match zone.trim() {
        "" => Ok(Zone::Utc),
        name => Zone::parse(name)
            .ok_or_else(|| FieldError::new("pickup_at", format!("{name:?} is not a time zone"))),
    }
    .and_then(|zone| zone.parse_form_time("pickup_at", &pickup_at));
    let command = match (origin, destination, pickup_at) {
        (Ok(origin), Ok(destination), Ok(pickup_planned_at)) => {
            let asked = !pickup_check.trim().is_empty() && pickup_confirmed.trim().is_empty();
            let unusual = crate::domain::unusual_pickup(pickup_planned_at, Utc::now());
            if let (true, Some(why)) = (asked, unusual) {
                return Err(super::errors::invalid([
                    Some(FieldError::new("pickup_at", why)),
                    Some(FieldError::new(
                        "pickup_confirmed",
                        "check the date; tick this to schedule it for that time anyway",
                    )),
                ])
                .with_attempted(&attempted));
            }
            ShipmentCommand::Schedule {
                shipment_id: id,
                origin,
                destination,
                pickup_planned_at,
            }
        }
        (origin, destination, pickup_at) => {
            return Err(
                super::errors::invalid([origin.err(), destination.err(), pickup_at.err()])
                    .with_attempted(&attempted),
            )
        }
    };
    execution::run(
        <ScheduleShipment as ServerFn>::PATH,
        id,
        ExpectedVersion::NoStream,
        command,
        &attempted,
    )
    .await
}

#[server(endpoint = "shipments/pick-up")]
pub async fn pick_up_shipment(
    shipment_id: String,
    expected_version: String,
) -> Result<CommandOutcome, AppError> {
    use crate::domain::ShipmentCommand;
    let (id, expected) = execution::target(&shipment_id, &expected_version)?;
    execution::run(
        <PickUpShipment as ServerFn>::PATH,
        id,
        expected,
        ShipmentCommand::PickUp { at: Utc::now() },
        &[],
    )
    .await
}

#[server(endpoint = "shipments/record-location")]
pub async fn record_location(
    shipment_id: String,
    expected_version: String,
    location: String,
    #[server(default)] lat: String,
    #[server(default)] lon: String,
    #[server(default)] notes: String,
) -> Result<CommandOutcome, AppError> {
    use crate::domain::{Coordinates, Notes, PlaceName, ShipmentCommand};
    let (id, expected) = execution::target(&shipment_id, &expected_version)?;
    let attempted = [
        ("location", location.as_str()),
        ("lat", lat.as_str()),
        ("lon", lon.as_str()),
        ("notes", notes.as_str()),
    ];
    let parsed_location = PlaceName::parse("location", &location);
    let position = Coordinates::parse_optional(&lat, &lon);
    let parsed_notes = Notes::parse_optional(&notes);
    let command = match (parsed_location, position, parsed_notes) {
        (Ok(location), Ok(position), Ok(notes)) => ShipmentCommand::RecordLocation {
            location,
            position,
            notes,
            at: Utc::now(),
        },
        (location, position, notes) => {
            return Err(
                super::errors::invalid([location.err(), position.err(), notes.err()])
                    .with_attempted(&attempted),
            )
        }
    };
    execution::run(
        <RecordLocation as ServerFn>::PATH,
        id,
        expected,
        command,
        &attempted,
    )
    .await
}

#[server(endpoint = "shipments/deliver")]
pub async fn deliver_shipment(
    shipment_id: String,
    expected_version: String,
) -> Result<CommandOutcome, AppError> {
    use crate::domain::ShipmentCommand;
    let (id, expected) = execution::target(&shipment_id, &expected_version)?;
    execution::run(
        <DeliverShipment as ServerFn>::PATH,
        id,
        expected,
        ShipmentCommand::Deliver { at: Utc::now() },
        &[],
    )
    .await
}

#[server(endpoint = "shipments/cancel")]
pub async fn cancel_shipment(
    shipment_id: String,
    expected_version: String,
    reason: String,
) -> Result<CommandOutcome, AppError> {
    use crate::domain::{CancelReason, ShipmentCommand};
    let (id, expected) = execution::target(&shipment_id, &expected_version)?;
    let attempted = [("reason", reason.as_str())];
    let parsed = CancelReason::parse(&reason)
        .map_err(|e| AppError::validation(e).with_attempted(&attempted))?;
    let command = ShipmentCommand::Cancel {
        reason: parsed,
        at: Utc::now(),
    };
    execution::run(
        <CancelShipment as ServerFn>::PATH,
        id,
        expected,
        command,
        &attempted,
    )
    .await
}

/// One row of the dispatch board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardEntry {
    pub shipment: Shipment,
    pub version: i64,
    /// Only from board versions that track it (v2 and later).
    pub transit_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardView {
    /// The projection version that answered, e.g. `shipment_board@1`.
    pub served_by: String,
    pub with_locations: bool,
    pub entries: Vec<BoardEntry>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    /// Where the next page starts (`after=`), if there is one.
    pub next_cursor: Option<String>,
    /// Where the previous page ends (`before=`), if there is one.
    pub prev_cursor: Option<String>,
    /// The board had not yet caught up with the reader's latest command when the wait ran out.
    pub catching_up: bool,
}

impl BoardView {
    pub fn pages(&self) -> i64 {
        ((self.total + self.page_size - 1) / self.page_size).max(1)
    }
}

/// The dispatch board: `status` ("" for all), `search` (origin, destination or id), `page`
/// (1-based), and optionally `after` or `before`: the cursor of the page next to this one, as
/// given in `next_cursor` / `prev_cursor`; `sort`: `pickup`, `origin`, `destination` or
/// `status`, `-` first for descending (default `-pickup`). `wait_for` (a command's `position`; the `fd_seen`
/// cookie counts too) makes the read wait, up to 2 s, until the board reflects that command.
#[server(endpoint = "shipments/board")]
pub async fn list_shipments(
    #[server(default)] status: String,
    #[server(default)] search: String,
    #[server(default)] page: String,
    #[server(default)] after: String,
    #[server(default)] before: String,
    #[server(default)] wait_for: String,
    #[server(default)] sort: String,
) -> Result<BoardView, AppError> {
    use crate::projections::definition::SHIPMENT_BOARD;
    use crate::projections::queries::{board, BoardQuery, CursorKey, RawBoardQuery};
    crate::auth::require_access(<ListShipments as ServerFn>::PATH)?;
    let state = super::context::app_state()?;
    let query = BoardQuery::parse(&RawBoardQuery {
        status,
        search,
        page,
        after,
        before,
        sort,
    })
    .map_err(AppError::invalid)?;
    let column = query.sort.column;
    let caught_up = super::read_your_writes::catch_up(&state, SHIPMENT_BOARD, &wait_for).await?;
    let result = board(&state.db, &state.search_counts, &query).await?;
    let next_cursor = result
        .has_next
        .then(|| result.rows.last().map(|r| CursorKey::of_sorted(r, column)))
        .flatten();
    let prev_cursor = result
        .has_previous
        .then(|| result.rows.first().map(|r| CursorKey::of_sorted(r, column)))
        .flatten();
    let with_locations = result.served_by.tracks_locations();
    let now = Utc::now();
    Ok(BoardView {
        served_by: result.served_by.key(),
        with_locations,
        entries: result
            .rows
            .into_iter()
            .map(|r| BoardEntry {
                // Still moving: how long so far (the stored column waits for the arrival).
                transit_seconds: if with_locations {
                    r.time_in_transit(now)
                } else {
                    None
                },
                shipment: r.shipment,
                version: r.version,
            })
            .collect(),
        total: result.total,
        page: result.page,
        page_size: result.page_size,
        next_cursor,
        prev_cursor,
        catching_up: !caught_up,
    })
}

#[cfg(feature = "ssr")]
mod execution {
    use super::{CommandOutcome, ShipmentView, TimelineEntry};
    use crate::domain::{DomainError, FieldError, ShipmentCommand, ShipmentId};
    use crate::error::{AppError, ChangeSummary, ConflictDetail};
    use crate::store::shipments::{self, CommandContext, CommandError};
    use crate::store::{Conflict, EventStore, ExpectedVersion};

    /// Parses the shipment id and the version the user saw.
    pub fn target(
        shipment_id: &str,
        expected_version: &str,
    ) -> Result<(ShipmentId, ExpectedVersion), AppError> {
        let id = ShipmentId::parse(shipment_id);
        let version = expected_version
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                FieldError::new(
                    "expected_version",
                    "must be the version you saw (1 or more)",
                )
            });
        match (id, version) {
            (Ok(id), Ok(v)) => Ok((id, ExpectedVersion::Exactly(v))),
            (id, version) => Err(crate::api::errors::invalid([id.err(), version.err()])),
        }
    }

    /// Runs a command; `attempted` is what the user typed, handed back with a conflict.
    pub async fn run(
        path: &str,
        id: ShipmentId,
        expected: ExpectedVersion,
        command: ShipmentCommand,
        attempted: &[(&str, &str)],
    ) -> Result<CommandOutcome, AppError> {
        // The signed-in user is the actor of every event the command appends.
        let user = crate::auth::require_access(path)?;
        let state = crate::api::context::app_state()?;
        let context = CommandContext::new(user.name);
        match shipments::execute(&state.store, id, expected, &command, &context).await {
            Ok(appended) => {
                crate::api::read_your_writes::remember(&state, appended.last_seq);
                Ok(CommandOutcome {
                    shipment_id: id.to_string(),
                    version: appended.version,
                    position: appended.last_seq,
                })
            }
            Err(e) => Err(command_error(&state.store, id, e, attempted).await),
        }
    }

    async fn command_error(
        store: &EventStore,
        id: ShipmentId,
        error: CommandError,
        attempted: &[(&str, &str)],
    ) -> AppError {
        match error {
            CommandError::Rejected(DomainError::NotFound) => not_found(&id.to_string()),
            CommandError::Rejected(e @ DomainError::AlreadyExists(_)) => AppError::AlreadyExists {
                message: e.to_string(),
            },
            CommandError::Rejected(e @ DomainError::SameOriginAndDestination) => {
                AppError::validation(FieldError::new("destination", e.to_string()))
                    .with_attempted(attempted)
            }
            CommandError::Rejected(e @ DomainError::NotAllowed { status, .. }) => {
                AppError::Rejected {
                    message: e.to_string(),
                    status: Some(status),
                }
            }
            CommandError::Conflict(conflict) => {
                conflict_detail(store, id, conflict, attempted).await
            }
            CommandError::NoEvents => {
                tracing::error!("an accepted command produced no events");
                AppError::Internal
            }
            CommandError::Store(e) => AppError::from(e).while_saving(),
        }
    }

    async fn conflict_detail(
        store: &EventStore,
        id: ShipmentId,
        conflict: Conflict,
        attempted: &[(&str, &str)],
    ) -> AppError {
        let events_since = conflict
            .events_since
            .into_iter()
            .map(|recorded| {
                let summary = shipments::decode(recorded.clone())
                    .map(|r| r.event.summary())
                    .unwrap_or_else(|_| recorded.event_type.clone());
                ChangeSummary {
                    version: recorded.version,
                    event_type: recorded.event_type,
                    actor: recorded.metadata.actor,
                    recorded_at: recorded.recorded_at,
                    summary,
                }
            })
            .collect();
        let current = match shipments::fetch_for_writing(store, id).await {
            Ok(loaded) => loaded.state,
            Err(e) => return e.into(),
        };
        AppError::Conflict(Box::new(ConflictDetail {
            stream_id: conflict.stream_id.to_string(),
            expected_version: conflict.expected_version,
            actual_version: conflict.actual_version,
            events_since,
            current,
            attempted: attempted
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        }))
    }

    fn not_found(shipment_id: &str) -> AppError {
        AppError::NotFound {
            what: format!("shipment {shipment_id}"),
        }
    }

    pub async fn shipment_view(
        store: &EventStore,
        shipment_id: &str,
    ) -> Result<ShipmentView, AppError> {
        let id = ShipmentId::parse(shipment_id).map_err(|_| not_found(shipment_id))?;
        let history = shipments::load_history(store, id)
            .await
            .map_err(AppError::from)?;
        let loaded = shipments::fold_history(&history);
        let shipment = loaded.state.ok_or_else(|| not_found(shipment_id))?;
        let timeline = history
            .into_iter()
            .map(|r| TimelineEntry {
                version: r.recorded.version,
                seq: r.recorded.position.seq,
                event_type: r.recorded.event_type.clone(),
                schema_version: r.recorded.schema_version,
                recorded_at: r.recorded.recorded_at,
                actor: r.recorded.metadata.actor.clone(),
                command: r.recorded.metadata.command.clone(),
                summary: r.event.summary(),
                event: r.event.clone(),
                data_json: serde_json::to_string_pretty(&r.recorded.data)
                    .unwrap_or_else(|_| r.recorded.data.to_string()),
            })
            .collect();
        Ok(ShipmentView {
            shipment,
            version: loaded.version,
            timeline,
        })
    }
}

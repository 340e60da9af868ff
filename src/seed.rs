//! Demo and benchmark data: realistic shipments with full lifecycles over the last 30 days,
//! decided by the domain from their commands and imported whole, many shipments at a time.

use crate::domain::{decide, evolve, CancelReason, Coordinates, PlaceName, Shipment};
use crate::domain::{ShipmentCommand, ShipmentEvent, ShipmentId, SHIPMENT_STREAM_KIND};
use crate::store::shipments::{CommandContext, CommandError};
use crate::store::{EventMetadata, EventStore, ImportedEvent, ImportedStream, NewEvent};
use chrono::{DateTime, Duration, Utc};

const CITIES: &[(&str, f64, f64)] = &[
    ("Rotterdam", 51.92, 4.48),
    ("Hamburg", 53.55, 9.99),
    ("Antwerp", 51.22, 4.40),
    ("Milan", 45.46, 9.19),
    ("Lyon", 45.76, 4.84),
    ("Vienna", 48.21, 16.37),
    ("Warsaw", 52.23, 21.01),
    ("Madrid", 40.42, -3.70),
    ("Porto", 41.15, -8.61),
    ("Prague", 50.08, 14.44),
    ("Munich", 48.14, 11.58),
    ("Basel", 47.56, 7.59),
    ("Gdansk", 54.35, 18.65),
    ("Copenhagen", 55.68, 12.57),
    ("Budapest", 47.50, 19.04),
    ("Marseille", 43.30, 5.37),
];

const CANCEL_REASONS: &[&str] = &[
    "customer withdrew the order",
    "no truck available",
    "goods damaged at the warehouse",
    "duplicate booking",
];

/// A small deterministic generator (xorshift64*): seeding needs no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub shipments: u64,
    pub events: u64,
}

/// How far back seeded shipments begin.
const HISTORY_DAYS: i64 = 30;
/// Shipments written per import transaction.
const SHIPMENTS_PER_IMPORT: usize = 500;

/// The commands of one shipment's life and when each happened, from scheduling to where it
/// stands now: it began within the last 30 days, and only what has happened by `now` is there.
fn lifecycle(
    rng: &mut Rng,
    id: ShipmentId,
    now: DateTime<Utc>,
) -> Vec<(ShipmentCommand, DateTime<Utc>)> {
    let minutes = |rng: &mut Rng, from: i64, to: i64| {
        Duration::minutes(from + rng.below((to - from).max(1) as usize) as i64)
    };
    let booked_at = now - minutes(rng, 10, HISTORY_DAYS * 24 * 60);
    let from = rng.below(CITIES.len());
    let to = (from + 1 + rng.below(CITIES.len() - 1)) % CITIES.len();
    let place =
        |field: &str, name: &str| PlaceName::parse(field, name).expect("city names are valid");
    // Most loads are booked a day or two ahead; some for the same day.
    let pickup_planned_at = booked_at + minutes(rng, 60, 72 * 60);
    let mut commands = vec![(
        ShipmentCommand::Schedule {
            shipment_id: id,
            origin: place("origin", CITIES[from].0),
            destination: place("destination", CITIES[to].0),
            pickup_planned_at,
        },
        booked_at,
    )];
    let cancel = |rng: &mut Rng, at| ShipmentCommand::Cancel {
        reason: CancelReason::parse(CANCEL_REASONS[rng.below(CANCEL_REASONS.len())])
            .expect("reasons are valid"),
        at,
    };
    if rng.chance(6) {
        let at = booked_at + minutes(rng, 5, (pickup_planned_at - booked_at).num_minutes());
        if at <= now {
            commands.push((cancel(rng, at), at));
        }
        return commands;
    }
    // Picked up from an hour early to three hours late.
    let picked_up_at = pickup_planned_at + minutes(rng, -60, 180);
    if picked_up_at > now {
        return commands; // still waiting for pickup
    }
    commands.push((ShipmentCommand::PickUp { at: picked_up_at }, picked_up_at));
    // Six hours to four days on the road, with up to three position reports on the way.
    let transit = minutes(rng, 6 * 60, 96 * 60);
    let reports = rng.below(4) as i32;
    for k in 1..=reports {
        let at = picked_up_at + transit * k / (reports + 1);
        if at > now {
            return commands;
        }
        let (name, lat, lon) = CITIES[rng.below(CITIES.len())];
        let command = ShipmentCommand::RecordLocation {
            location: place("location", name),
            position: Coordinates::new(lat, lon).ok(),
            notes: None,
            at,
        };
        commands.push((command, at));
    }
    let arrived_at = picked_up_at + transit;
    if arrived_at <= now {
        match rng.below(100) {
            0..=92 => commands.push((ShipmentCommand::Deliver { at: arrived_at }, arrived_at)),
            93..=96 => commands.push((cancel(rng, arrived_at), arrived_at)),
            _ => {} // overdue, still on the road
        }
    }
    commands
}

/// One shipment's stream, decided by the domain exactly as the command path would.
fn shipment_stream(
    rng: &mut Rng,
    now: DateTime<Utc>,
    context: &CommandContext,
) -> Result<ImportedStream, CommandError> {
    let id = ShipmentId::generate();
    let mut state: Option<Shipment> = None;
    let mut events = Vec::new();
    for (command, at) in lifecycle(rng, id, now) {
        for event in decide(state.as_ref(), &command)? {
            state = evolve(state, &event);
            events.push(ImportedEvent {
                event: NewEvent {
                    event_type: event.event_type().to_string(),
                    schema_version: ShipmentEvent::current_schema_version(event.event_type()),
                    data: event.to_json(),
                },
                recorded_at: at,
            });
        }
    }
    Ok(ImportedStream {
        stream_id: id.as_uuid(),
        kind: SHIPMENT_STREAM_KIND.to_string(),
        metadata: EventMetadata {
            actor: context.actor.clone(),
            correlation_id: context.correlation_id,
            causation_id: None,
            command: "Seed".to_string(),
        },
        events,
        snapshot: state.map(|s| serde_json::to_value(s).expect("a shipment serializes")),
    })
}

/// Creates `count` shipments with `concurrency` writers. Each shipment's events are decided by
/// the domain from its commands, as the command path does, and whole shipments are written
/// several hundred per transaction, with the times they happened (the last 30 days).
pub async fn seed(
    store: &EventStore,
    count: u64,
    concurrency: u64,
) -> Result<SeedReport, CommandError> {
    let concurrency = concurrency.clamp(1, 64).min(count.max(1));
    let seed = Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1;
    let now = Utc::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let store = store.clone();
        let share = count / concurrency + u64::from(w < count % concurrency);
        workers.push(tokio::spawn(async move {
            let mut rng = Rng(seed.wrapping_add(w.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
            let context = CommandContext::new("seed");
            let mut report = SeedReport::default();
            let mut left = share as usize;
            while left > 0 {
                let n = left.min(SHIPMENTS_PER_IMPORT);
                let streams = (0..n)
                    .map(|_| shipment_stream(&mut rng, now, &context))
                    .collect::<Result<Vec<_>, _>>()?;
                store.import(&streams).await?;
                report.shipments += n as u64;
                report.events += streams.iter().map(|s| s.events.len() as u64).sum::<u64>();
                left -= n;
            }
            Ok::<_, CommandError>(report)
        }));
    }
    let mut total = SeedReport::default();
    for worker in workers {
        let report = worker.await.expect("seed worker panicked")?;
        total.shipments += report.shipments;
        total.events += report.events;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ShipmentStatus;

    #[test]
    fn seeded_lives_are_valid_and_lie_in_the_last_thirty_days() {
        let now = Utc::now();
        let context = CommandContext::new("seed");
        let mut rng = Rng(42);
        let mut statuses = std::collections::HashSet::new();
        for _ in 0..2000 {
            let stream = shipment_stream(&mut rng, now, &context).unwrap();
            let times: Vec<_> = stream.events.iter().map(|e| e.recorded_at).collect();
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
            assert!(times
                .iter()
                .all(|t| *t <= now && *t > now - Duration::days(HISTORY_DAYS)));
            let state: Shipment = serde_json::from_value(stream.snapshot.unwrap()).unwrap();
            if let (Some(start), Some(end)) = (state.picked_up_at, state.delivered_at) {
                assert!(end - start >= Duration::hours(6) && end - start <= Duration::hours(96));
            }
            statuses.insert(state.status);
        }
        for status in [
            ShipmentStatus::Scheduled,
            ShipmentStatus::InTransit,
            ShipmentStatus::Delivered,
            ShipmentStatus::Cancelled,
        ] {
            assert!(statuses.contains(&status), "{status:?} occurs");
        }
    }
}

//! Demo and benchmark data: realistic shipments with full lifecycles, written through the real
//! command path (decide + append with expected version), many shipments at a time.

use crate::domain::{CancelReason, Coordinates, PlaceName, ShipmentCommand, ShipmentId};
use crate::store::shipments::{execute, CommandContext, CommandError};
use crate::store::{EventStore, ExpectedVersion};
use chrono::{Duration, Utc};

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

/// The commands of one shipment's life, from scheduling to where it stops.
fn lifecycle(rng: &mut Rng, id: ShipmentId) -> Vec<ShipmentCommand> {
    let now = Utc::now();
    let from = rng.below(CITIES.len());
    let to = (from + 1 + rng.below(CITIES.len() - 1)) % CITIES.len();
    let place =
        |field: &str, name: &str| PlaceName::parse(field, name).expect("city names are valid");
    let mut commands = vec![ShipmentCommand::Schedule {
        shipment_id: id,
        origin: place("origin", CITIES[from].0),
        destination: place("destination", CITIES[to].0),
        pickup_planned_at: now + Duration::hours(rng.below(240) as i64 - 48),
    }];
    let cancel = |rng: &mut Rng| ShipmentCommand::Cancel {
        reason: CancelReason::parse(CANCEL_REASONS[rng.below(CANCEL_REASONS.len())])
            .expect("reasons are valid"),
        at: now,
    };
    if rng.chance(15) {
        return commands; // still waiting for pickup
    }
    if rng.chance(6) {
        commands.push(cancel(rng));
        return commands;
    }
    commands.push(ShipmentCommand::PickUp { at: now });
    for _ in 0..rng.below(4) {
        let (name, lat, lon) = CITIES[rng.below(CITIES.len())];
        commands.push(ShipmentCommand::RecordLocation {
            location: place("location", name),
            position: Coordinates::new(lat, lon).ok(),
            notes: None,
            at: now,
        });
    }
    match rng.below(100) {
        0..=69 => commands.push(ShipmentCommand::Deliver { at: now }),
        70..=74 => commands.push(cancel(rng)),
        _ => {} // still in transit
    }
    commands
}

/// Creates `count` shipments with `concurrency` writers.
pub async fn seed(
    store: &EventStore,
    count: u64,
    concurrency: u64,
) -> Result<SeedReport, CommandError> {
    let concurrency = concurrency.clamp(1, 64).min(count.max(1));
    let seed = Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1;
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let store = store.clone();
        let share = count / concurrency + u64::from(w < count % concurrency);
        workers.push(tokio::spawn(async move {
            let mut rng = Rng(seed.wrapping_add(w.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
            let context = CommandContext::new("seed");
            let mut report = SeedReport::default();
            for _ in 0..share {
                let id = ShipmentId::generate();
                let mut expected = ExpectedVersion::NoStream;
                for command in lifecycle(&mut rng, id) {
                    let appended = execute(&store, id, expected, &command, &context).await?;
                    expected = ExpectedVersion::Exactly(appended.version);
                    report.events += 1;
                }
                report.shipments += 1;
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

//! Histories to project: commands through the real command path.

use super::{spawn_app, wait_caught_up, Dialect, TestApp};
use freightdesk::domain::*;
use freightdesk::projections::Definition;
use freightdesk::store::shipments::{execute_with_retry, CommandContext};
use freightdesk::store::EventStore;

/// A valid ScheduleShipment command with a pickup planned now.
pub fn schedule_command(id: ShipmentId, origin: &str, destination: &str) -> ShipmentCommand {
    ShipmentCommand::Schedule {
        shipment_id: id,
        origin: PlaceName::parse("origin", origin).unwrap(),
        destination: PlaceName::parse("destination", destination).unwrap(),
        pickup_planned_at: chrono::Utc::now(),
    }
}

/// Random commands over many shipments, through the real command path; refusals are expected
/// and simply leave no event.
pub async fn random_history(store: &EventStore, shipments: usize, commands: usize, seed: u64) {
    let mut rng = seed | 1;
    let mut next = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    let ctx = CommandContext::new("random");
    let ids: Vec<ShipmentId> = (0..shipments).map(|_| ShipmentId::generate()).collect();
    let places = ["Oslo", "Turin", "Graz", "Lille", "Cork"];
    for id in &ids {
        let from = next(places.len());
        let cmd = ShipmentCommand::Schedule {
            shipment_id: *id,
            origin: PlaceName::parse("origin", places[from]).unwrap(),
            destination: PlaceName::parse("destination", places[(from + 1) % places.len()])
                .unwrap(),
            pickup_planned_at: chrono::Utc::now(),
        };
        execute_with_retry(store, *id, &cmd, &ctx, 3).await.unwrap();
    }
    for _ in 0..commands {
        let id = ids[next(ids.len())];
        let at = chrono::Utc::now();
        let cmd = match next(10) {
            0..=2 => ShipmentCommand::PickUp { at },
            3..=6 => ShipmentCommand::RecordLocation {
                location: PlaceName::parse("location", places[next(places.len())]).unwrap(),
                position: None,
                notes: None,
                at,
            },
            7..=8 => ShipmentCommand::Deliver { at },
            _ => ShipmentCommand::Cancel {
                reason: CancelReason::parse("random").unwrap(),
                at,
            },
        };
        let _ = execute_with_retry(store, id, &cmd, &ctx, 3).await;
    }
}

/// A test app with a random history of 40 shipments, every version caught up with it.
pub async fn app_with_history(backend: Dialect) -> TestApp {
    let app = spawn_app(backend).await;
    random_history(&app.store, 40, 300, 0x5eed).await;
    wait_caught_up(&app.store, &app.projections, &Definition::ALL).await;
    app
}

/// The first page of the whole board, unfiltered.
pub fn first_board_page() -> freightdesk::projections::queries::BoardQuery {
    freightdesk::projections::queries::BoardQuery {
        page: 1,
        ..Default::default()
    }
}

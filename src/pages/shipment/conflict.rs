//! The conflict panel: someone else changed the shipment first. It says who changed what since
//! the page was loaded, shows the shipment now, and offers to re-apply or discard.

use super::actions::{command_form, Actions, FormMode};
use crate::components::{RelativeTime, StatusBadge};
use crate::domain::{
    decide, CancelReason, CommandKind, Coordinates, DomainError, Notes, PlaceName, Shipment,
    ShipmentCommand,
};
use crate::error::{AppError, ConflictDetail};
use chrono::Utc;
use leptos::prelude::*;

/// What re-applying `kind` with what the user typed would do on `current`, by the same rules the
/// server applies (`decide`): `Ok` if it would be accepted, or the reason it would be refused.
fn predict(kind: CommandKind, actions: Actions, current: Option<&Shipment>) -> Result<(), String> {
    let at = Utc::now();
    let typed = |s: RwSignal<String>| s.get();
    let command = match kind {
        CommandKind::PickUp => ShipmentCommand::PickUp { at },
        CommandKind::Deliver => ShipmentCommand::Deliver { at },
        CommandKind::RecordLocation => ShipmentCommand::RecordLocation {
            location: PlaceName::parse("location", &typed(actions.location))
                .map_err(|e| e.to_string())?,
            position: Coordinates::parse_optional(&typed(actions.lat), &typed(actions.lon))
                .map_err(|e| e.to_string())?,
            notes: Notes::parse_optional(&typed(actions.notes)).map_err(|e| e.to_string())?,
            at,
        },
        CommandKind::Cancel => ShipmentCommand::Cancel {
            reason: CancelReason::parse(&typed(actions.reason)).map_err(|e| e.to_string())?,
            at,
        },
        CommandKind::Schedule => return Err("a shipment is scheduled only once".into()),
    };
    match decide(current, &command) {
        Ok(_) => Ok(()),
        Err(DomainError::NotAllowed { status, .. }) => {
            Err(format!("the shipment is {}", status.label()))
        }
        Err(e) => Err(e.to_string()),
    }
}

#[component]
pub(super) fn ConflictPanel(actions: Actions, id: String, reload: RwSignal<u32>) -> impl IntoView {
    let conflict = move || {
        actions
            .outcomes()
            .into_iter()
            .find_map(|(kind, r)| match r {
                Err(AppError::Conflict(detail)) => Some((kind, *detail)),
                _ => None,
            })
    };
    move || {
        conflict().map(|(kind, detail)| {
            let discard = move |ev: leptos::ev::MouseEvent| {
                ev.prevent_default();
                actions.clear(kind);
                reload.update(|n| *n += 1);
            };
            let ConflictDetail {
                expected_version,
                actual_version,
                events_since,
                current,
                ..
            } = detail;
            // Decided here, in the browser, by the shared rules: only what can work is offered.
            let prediction = predict(kind, actions, current.as_ref());
            let verb = kind.label().to_lowercase();
            view! {
                <section class="conflict" data-testid="conflict" role="alert" data-outcome="" tabindex="-1">
                    <h2>"This shipment changed since you opened it"</h2>
                    <p>
                        {format!(
                            "You tried to {} on version {expected_version}; it is now at version {actual_version}. Nothing was applied. Changes since you opened it:",
                            kind.label().to_lowercase()
                        )}
                    </p>
                    <crate::components::ScrollBox label="Changes since you opened it">
                    <table>
                        <thead><tr><th>"Version"</th><th>"Event"</th><th>"By"</th><th>"When"</th><th>"What"</th></tr></thead>
                        <tbody>
                            {events_since.into_iter().map(|e| view! {
                                <tr data-testid="conflict-event">
                                    <td class="num">{e.version}</td>
                                    <td title=e.event_type.clone()>{crate::domain::humanize_event_type(&e.event_type)}</td>
                                    <td>{e.actor}</td>
                                    <td><RelativeTime at=e.recorded_at/></td>
                                    <td class="text">{e.summary}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </crate::components::ScrollBox>
                    {current.map(|s| view! {
                        <p data-testid="conflict-current">
                            "Now: " <StatusBadge status=s.status/>
                            {s.last_location.map(|l| format!(" · last seen at {l}"))}
                        </p>
                    })}
                    {match prediction {
                        Ok(()) => view! {
                            <p class="success" data-testid="prediction">
                                {format!("Re-applying {verb} on version {actual_version} will succeed: the rules allow it on the shipment as it is now.")}
                            </p>
                            <div class="form-row">
                                {command_form(kind, actions, id.clone(), actual_version, FormMode::Reapply)}
                                <a href=format!("/shipments/{}", id) on:click=discard class="secondary" data-testid="discard">
                                    "Discard my change"
                                </a>
                            </div>
                        }.into_any(),
                        Err(reason) => view! {
                            <p class="error" data-testid="prediction">
                                {format!("Re-applying {verb} on version {actual_version} would be refused: {reason}. It is not offered.")}
                            </p>
                            <div class="form-row">
                                <a href=format!("/shipments/{}", id) on:click=discard class="secondary" data-testid="discard">
                                    "Discard my change and show the latest"
                                </a>
                            </div>
                        }.into_any(),
                    }}
                </section>
            }
        })
    }
}

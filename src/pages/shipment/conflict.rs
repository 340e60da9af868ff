//! The conflict panel: someone else changed the shipment first. It says who changed what since
//! the page was loaded, shows the shipment now, and offers to re-apply or discard.

use super::actions::{command_form, Actions, FormMode};
use crate::components::{RelativeTime, StatusBadge};
use crate::error::{AppError, ConflictDetail};
use leptos::prelude::*;

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
            view! {
                <section class="conflict" data-testid="conflict" role="alert" data-outcome="" tabindex="-1">
                    <h2>"This shipment changed since you opened it"</h2>
                    <p>
                        {format!(
                            "You tried to {} on version {expected_version}; it is now at version {actual_version}. Nothing was applied. Changes since you opened it:",
                            kind.label().to_lowercase()
                        )}
                    </p>
                    <table>
                        <thead><tr><th>"Version"</th><th>"Event"</th><th>"By"</th><th>"When"</th><th>"What"</th></tr></thead>
                        <tbody>
                            {events_since.into_iter().map(|e| view! {
                                <tr data-testid="conflict-event">
                                    <td>{e.version}</td>
                                    <td>{e.event_type}</td>
                                    <td>{e.actor}</td>
                                    <td><RelativeTime at=e.recorded_at/></td>
                                    <td>{e.summary}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    {current.map(|s| view! {
                        <p data-testid="conflict-current">
                            "Now: " <StatusBadge status=s.status/>
                            {s.last_location.map(|l| format!(" · last seen at {l}"))}
                        </p>
                    })}
                    <div class="form-row">
                        {command_form(kind, actions, id.clone(), actual_version, FormMode::Reapply)}
                        <a href=format!("/shipments/{}", id) on:click=discard class="secondary" data-testid="discard">
                            "Discard my change"
                        </a>
                    </div>
                </section>
            }
        })
    }
}

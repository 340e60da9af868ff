//! The event timeline: every event of the shipment with its version, global position, type,
//! time, actor, a summary and the stored JSON; newer events than the page's state are marked.

use super::actions::Actions;
use crate::api::shipments::ShipmentView;
use crate::components::LocalTime;
use leptos::prelude::*;

#[component]
pub(super) fn Timeline(
    view: ShipmentView,
    seen: i64,
    reload: RwSignal<u32>,
    actions: Actions,
) -> impl IntoView {
    let newer = view.version - seen;
    view! {
        <section class="card timeline">
            <h2>"Event timeline"</h2>
            {(newer > 0).then(|| view! {
                <p class="notice" data-testid="changed-notice">
                    {format!(
                        "{newer} new event{} since you opened this page. Your actions still apply to version {seen} until you ",
                        if newer == 1 { "" } else { "s" }
                    )}
                    <button class="secondary" on:click=move |_| {
                        actions.clear_all_except(None);
                        reload.update(|n| *n += 1);
                    }>"show the latest"</button>
                    "."
                </p>
            })}
            <table data-testid="timeline">
                <thead>
                    <tr><th>"Version"</th><th>"Position"</th><th>"Event"</th><th>"Time"</th><th>"Actor"</th><th>"Details"</th></tr>
                </thead>
                <tbody>
                    {view.timeline.into_iter().map(|e| {
                        let class = if e.version > seen { "new" } else { "" };
                        view! {
                            <tr class=class data-version=e.version>
                                <td>{e.version}</td>
                                <td>{format!("#{}", e.seq)}</td>
                                <td>{e.event_type.clone()}</td>
                                <td><LocalTime at=e.recorded_at/></td>
                                <td>{e.actor}</td>
                                <td>
                                    {e.summary}
                                    <details>
                                        <summary>{format!("JSON (schema v{}, {})", e.schema_version, e.command)}</summary>
                                        <pre>{e.data_json}</pre>
                                    </details>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

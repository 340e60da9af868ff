//! The event timeline: every event of the shipment with its version, global position, type,
//! time, actor, a summary and the stored JSON; newer events than the page's state are marked.

use crate::api::shipments::ShipmentView;
use crate::components::{use_clock, RelativeTime};
use leptos::prelude::*;

#[component]
pub(super) fn Timeline(view: ShipmentView, seen: i64) -> impl IntoView {
    let zone = use_clock().zone;
    view! {
        <section class="card timeline">
            <h2>"Event timeline"</h2>
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
                                <td><RelativeTime at=e.recorded_at/></td>
                                <td>{e.actor}</td>
                                <td>
                                    {move || e.event.summary_with(|t| zone.get().format(t, false))}
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

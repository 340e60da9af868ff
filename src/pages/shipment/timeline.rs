//! The event timeline: every event of the shipment with its version, global position, type,
//! time, actor, a summary and the stored JSON; newer events than the page's state are marked.
//! It reads oldest or newest first, filters by event type, and travels in time: choosing a
//! version shows the shipment as it was then, folded in the browser with the shared `evolve`.

use crate::api::shipments::{ShipmentView, TimelineEntry};
use crate::components::{use_clock, MaybeTime, RelativeTime, StatusBadge};
use crate::domain::{evolve, Shipment, ShipmentEvent};
use leptos::prelude::*;

/// How the reader looks at the timeline. Owned by the page, so it survives the timeline being
/// read again when a live event arrives.
#[derive(Clone, Copy)]
pub(super) struct Lens {
    newest_first: RwSignal<bool>,
    /// An event type, or empty for all.
    only: RwSignal<String>,
    /// The version whose state is shown, when travelling in time.
    viewing: RwSignal<Option<i64>>,
}

impl Lens {
    pub fn new() -> Self {
        Self {
            newest_first: RwSignal::new(false),
            only: RwSignal::new(String::new()),
            viewing: RwSignal::new(None),
        }
    }
}

/// The shipment as it was once the events up to `version` had happened.
fn as_of(timeline: &[TimelineEntry], version: i64) -> Option<Shipment> {
    timeline
        .iter()
        .filter(|e| e.version <= version)
        .fold(None, |state, e| evolve(state, &e.event))
}

#[component]
pub(super) fn Timeline(view: ShipmentView, seen: i64, lens: Lens) -> impl IntoView {
    let zone = use_clock().zone;
    let latest = view.version;
    let entries = StoredValue::new(view.timeline);
    let rows = move || {
        let only = lens.only.get();
        let mut list: Vec<TimelineEntry> = entries
            .get_value()
            .into_iter()
            .filter(|e| only.is_empty() || e.event_type == only)
            .collect();
        if lens.newest_first.get() {
            list.reverse();
        }
        list
    };
    let travel = move || {
        lens.viewing.get().map(|version| {
            let state = entries.with_value(|list| as_of(list, version));
            view! {
                <div class="notice time-travel" role="status" data-testid="time-travel">
                    <p>
                        <strong>{format!("Viewing version {version} of {latest}")}</strong>
                        " — the shipment as it was then, folded in your browser from its events."
                    </p>
                    {state.map(|s| view! { <PastState s/> })}
                    <crate::components::Button weight=crate::components::Weight::Secondary on_click=Callback::new(move |_| lens.viewing.set(None))>
                        "Back to the latest"
                    </crate::components::Button>
                </div>
            }
        })
    };
    view! {
        <section class="card timeline">
            <h2>"Event timeline"</h2>
            <div class="form-row" data-testid="timeline-controls">
                <label>
                    "Order"
                    <select
                        prop:value=move || if lens.newest_first.get() { "newest" } else { "oldest" }
                        on:change=move |ev| lens.newest_first.set(event_target_value(&ev) == "newest")
                    >
                        <option value="oldest">"Oldest first"</option>
                        <option value="newest">"Newest first"</option>
                    </select>
                </label>
                <label>
                    "Event type"
                    <select prop:value=move || lens.only.get() on:change=move |ev| lens.only.set(event_target_value(&ev))>
                        <option value="">"All"</option>
                        {ShipmentEvent::TYPES.into_iter().map(|t| view! { <option value=t>{crate::domain::humanize_event_type(t)}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            <div aria-live="polite">{travel}</div>
            <crate::components::ScrollBox label="Event timeline">
            <table class="cards" data-testid="timeline">
                <thead>
                    <tr><th>"Version"</th><th>"Position"</th><th>"Event"</th><th>"Time"</th><th>"Actor"</th><th>"Details"</th></tr>
                </thead>
                <tbody>
                    {move || rows().into_iter().map(|e| {
                        let version = e.version;
                        let class = move || {
                            let mut class = if version > seen { "new" } else { "" }.to_string();
                            if lens.viewing.get() == Some(version) {
                                class.push_str(" viewing");
                            }
                            class
                        };
                        let event = e.event.clone();
                        view! {
                            <tr class=class data-version=version>
                                <td class="card-title" data-label="Version">
                                    <button
                                        type="button"
                                        class="link"
                                        aria-label=format!("{version}: show the shipment as it was at version {version}")
                                        on:click=move |_| lens.viewing.set(Some(version))
                                    >
                                        {version}
                                    </button>
                                </td>
                                <td class="num" data-label="Position">{format!("#{}", e.seq)}</td>
                                <td class="nowrap" data-label="Event" title=e.event_type.clone()>{crate::domain::humanize_event_type(&e.event_type)}</td>
                                <td data-label="Time"><RelativeTime at=e.recorded_at/></td>
                                <td data-label="Actor">{e.actor}</td>
                                <td class="text" data-label="Details">
                                    {move || event.summary_with(|t| zone.get().format(t, false))}
                                    <details>
                                        <summary>{format!("JSON ({} v{}, {})", e.event_type, e.schema_version, e.command)}</summary>
                                        <pre>{e.data_json}</pre>
                                    </details>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </crate::components::ScrollBox>
        </section>
    }
}

/// The facts of a past state.
#[component]
fn PastState(s: Shipment) -> impl IntoView {
    view! {
        <dl class="facts" data-testid="past-state">
            <dt>"Status"</dt><dd><StatusBadge status=s.status/></dd>
            <dt>"Picked up"</dt><dd><MaybeTime at=s.picked_up_at/></dd>
            <dt>"Delivered"</dt><dd><MaybeTime at=s.delivered_at/></dd>
            <dt>"Last location"</dt>
            <dd data-testid="past-location">{s.last_location.unwrap_or_else(|| "—".into())}</dd>
        </dl>
    }
}

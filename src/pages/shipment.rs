//! The shipment page: current state, the actions its status allows, the live event timeline,
//! and the conflict panel when someone else changed the shipment first.

use crate::api::shipments::{
    get_shipment, CancelShipment, DeliverShipment, PickUpShipment, RecordLocation, ShipmentView,
};
use crate::components::{FieldNote, LocalTime, MaybeTime, StatusBadge};
use crate::domain::CommandKind;
use crate::error::{AppError, ConflictDetail};
use crate::pages::NotFound;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The four commands a shipment page can send, and what the user typed for them. Inputs are
/// signals so they survive a conflict and can be re-applied.
#[derive(Clone, Copy)]
struct Actions {
    pick_up: ServerAction<PickUpShipment>,
    record: ServerAction<RecordLocation>,
    deliver: ServerAction<DeliverShipment>,
    cancel: ServerAction<CancelShipment>,
    location: RwSignal<String>,
    lat: RwSignal<String>,
    lon: RwSignal<String>,
    notes: RwSignal<String>,
    reason: RwSignal<String>,
}

fn label(kind: CommandKind) -> &'static str {
    match kind {
        CommandKind::Schedule => "Schedule",
        CommandKind::PickUp => "Pick up",
        CommandKind::RecordLocation => "Record location",
        CommandKind::Deliver => "Deliver",
        CommandKind::Cancel => "Cancel",
    }
}

impl Actions {
    fn new() -> Self {
        let record = ServerAction::<RecordLocation>::new();
        let cancel = ServerAction::<CancelShipment>::new();
        // After a form post without JavaScript the outcome arrives with the page (from the
        // redirect's query string); a conflict carries back what the user typed.
        let typed = |value: Option<Result<_, AppError>>, field: &str| match value {
            Some(Err(AppError::Conflict(detail))) => {
                detail.attempted(field).unwrap_or_default().to_string()
            }
            _ => String::new(),
        };
        let recorded = record.value().get_untracked();
        Self {
            pick_up: ServerAction::new(),
            record,
            deliver: ServerAction::new(),
            cancel,
            location: RwSignal::new(typed(recorded.clone(), "location")),
            lat: RwSignal::new(typed(recorded.clone(), "lat")),
            lon: RwSignal::new(typed(recorded.clone(), "lon")),
            notes: RwSignal::new(typed(recorded, "notes")),
            reason: RwSignal::new(typed(cancel.value().get_untracked(), "reason")),
        }
    }

    /// Forgets the outcomes of all actions but `keep`: once the page shows a newer state, older
    /// conflicts and refusals no longer describe it.
    fn clear_all_except(&self, keep: Option<CommandKind>) {
        for kind in [
            CommandKind::PickUp,
            CommandKind::RecordLocation,
            CommandKind::Deliver,
            CommandKind::Cancel,
        ] {
            if Some(kind) != keep {
                self.clear(kind);
            }
        }
    }

    /// The last outcome of each action that has one: Ok(new version) or the error.
    fn outcomes(&self) -> Vec<(CommandKind, Result<i64, AppError>)> {
        let version =
            |r: Result<crate::api::shipments::CommandOutcome, AppError>| r.map(|o| o.version);
        [
            (CommandKind::PickUp, self.pick_up.value().get().map(version)),
            (
                CommandKind::RecordLocation,
                self.record.value().get().map(version),
            ),
            (
                CommandKind::Deliver,
                self.deliver.value().get().map(version),
            ),
            (CommandKind::Cancel, self.cancel.value().get().map(version)),
        ]
        .into_iter()
        .filter_map(|(kind, outcome)| outcome.map(|o| (kind, o)))
        .collect()
    }

    fn error_of(&self, kind: CommandKind) -> Signal<Option<AppError>> {
        let this = *self;
        Signal::derive(move || {
            this.outcomes()
                .into_iter()
                .find(|(k, _)| *k == kind)
                .and_then(|(_, r)| r.err())
        })
    }

    fn pending(&self) -> bool {
        self.pick_up.pending().get()
            || self.record.pending().get()
            || self.deliver.pending().get()
            || self.cancel.pending().get()
    }

    fn clear(&self, kind: CommandKind) {
        match kind {
            CommandKind::PickUp => self.pick_up.clear(),
            CommandKind::RecordLocation => self.record.clear(),
            CommandKind::Deliver => self.deliver.clear(),
            CommandKind::Cancel => self.cancel.clear(),
            CommandKind::Schedule => {}
        }
    }
}

#[component]
pub fn ShipmentPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    // `reload` moves the state the user acts on; `live` only refreshes the timeline, so the
    // version the forms send stays the one the user saw until they choose otherwise.
    let reload = RwSignal::new(0u32);
    let live = RwSignal::new(0u32);
    let actions = Actions::new();
    let snapshot = Resource::new(move || (id.get(), reload.get()), |(id, _)| get_shipment(id));
    let timeline = Resource::new(
        move || (id.get(), reload.get(), live.get()),
        |(id, _, _)| get_shipment(id),
    );

    // After an accepted command: show the new state and clear what was typed for it. After a
    // refusal the state the user saw is proven stale, so show the current one too. Either way
    // the other actions' old outcomes no longer apply.
    fn on_outcome<T: 'static>(
        kind: CommandKind,
        value: impl Fn() -> Option<Result<T, AppError>> + 'static,
        inputs: Vec<RwSignal<String>>,
        actions: Actions,
        reload: RwSignal<u32>,
    ) {
        Effect::new(move |_| match value() {
            Some(Ok(_)) => {
                for input in &inputs {
                    input.set(String::new());
                }
                actions.clear_all_except(Some(kind));
                reload.update(|n| *n += 1);
            }
            Some(Err(AppError::Rejected { .. })) => {
                actions.clear_all_except(Some(kind));
                reload.update(|n| *n += 1);
            }
            _ => {}
        });
    }
    let a = actions;
    on_outcome(
        CommandKind::PickUp,
        move || a.pick_up.value().get(),
        vec![],
        a,
        reload,
    );
    on_outcome(
        CommandKind::RecordLocation,
        move || a.record.value().get(),
        vec![a.location, a.lat, a.lon, a.notes],
        a,
        reload,
    );
    on_outcome(
        CommandKind::Deliver,
        move || a.deliver.value().get(),
        vec![],
        a,
        reload,
    );
    on_outcome(
        CommandKind::Cancel,
        move || a.cancel.value().get(),
        vec![a.reason],
        a,
        reload,
    );
    subscribe_live(id, live);

    view! {
        <Transition fallback=|| view! { <p>"Loading the shipment…"</p> }>
            {move || Suspend::new(async move {
                match snapshot.await {
                    Ok(view) => view! { <Detail view actions reload/> }.into_any(),
                    Err(AppError::NotFound { .. }) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let seen = snapshot.await.map(|s| s.version).unwrap_or(0);
                timeline.await.ok().map(|view| view! { <Timeline view seen reload actions/> })
            })}
        </Transition>
    }
}

#[component]
fn Detail(view: ShipmentView, actions: Actions, reload: RwSignal<u32>) -> impl IntoView {
    let s = view.shipment.clone();
    let id = s.id.to_string();
    let version = view.version;
    let allowed = s.status.allowed_commands();
    view! {
        <h1>{format!("{} → {}", s.origin, s.destination)}</h1>
        <p class="muted">
            "Shipment " <code data-testid="shipment-id">{id.clone()}</code>
        </p>
        <section class="card" data-testid="state">
            <dl class="facts">
                <dt>"Status"</dt><dd><StatusBadge status=s.status/></dd>
                <dt>"Version"</dt><dd data-testid="version">{version}</dd>
                <dt>"Planned pickup"</dt><dd><LocalTime at=s.scheduled_at/></dd>
                <dt>"Picked up"</dt><dd><MaybeTime at=s.picked_up_at/></dd>
                <dt>"Delivered"</dt><dd><MaybeTime at=s.delivered_at/></dd>
                {s.cancelled_at.map(|at| view! {
                    <dt>"Cancelled"</dt>
                    <dd><LocalTime at/>{format!(" — {}", s.cancel_reason.clone().unwrap_or_default())}</dd>
                })}
                <dt>"Last location"</dt>
                <dd>{s.last_location.clone().unwrap_or_else(|| "—".into())}
                    {(s.location_count > 0).then(|| format!(" ({} reports)", s.location_count))}
                </dd>
            </dl>
        </section>
        <ConflictPanel actions id=id.clone() reload/>
        <Messages actions/>
        <section class="card">
            <h2>"Actions"</h2>
            {allowed.is_empty().then(|| view! {
                <p class="muted" data-testid="no-actions">
                    {format!("A shipment that is {} allows no further actions.", s.status)}
                </p>
            })}
            <div class="actions">
                {allowed.iter().map(|kind| action_form(*kind, actions, id.clone(), version)).collect_view()}
            </div>
        </section>
    }
}

/// The form for one command against the version the page shows.
fn action_form(kind: CommandKind, a: Actions, id: String, version: i64) -> AnyView {
    let hidden = move || {
        view! {
            <input type="hidden" name="shipment_id" value=id.clone()/>
            <input type="hidden" name="expected_version" value=version.to_string()/>
        }
    };
    let busy = move || a.pending();
    match kind {
        CommandKind::PickUp => view! {
            <ActionForm action=a.pick_up attr:data-testid="pick-up-form">
                {hidden()}
                <button type="submit" disabled=busy>"Pick up"</button>
            </ActionForm>
        }
        .into_any(),
        CommandKind::RecordLocation => {
            let error = a.error_of(CommandKind::RecordLocation);
            view! {
                <ActionForm action=a.record attr:data-testid="record-location-form">
                    {hidden()}
                    <label>"Location"<input name="location" maxlength="120" value=a.location.get_untracked() bind:value=a.location/></label>
                    <FieldNote error field="location"/>
                    <div class="form-row">
                        <label>"Latitude"<input name="lat" inputmode="decimal" size="8" value=a.lat.get_untracked() bind:value=a.lat/></label>
                        <label>"Longitude"<input name="lon" inputmode="decimal" size="8" value=a.lon.get_untracked() bind:value=a.lon/></label>
                    </div>
                    <FieldNote error field="lat"/>
                    <FieldNote error field="lon"/>
                    <label>"Notes"<input name="notes" maxlength="1000" value=a.notes.get_untracked() bind:value=a.notes/></label>
                    <button type="submit" disabled=busy>"Record location"</button>
                </ActionForm>
            }
            .into_any()
        }
        CommandKind::Deliver => view! {
            <ActionForm action=a.deliver attr:data-testid="deliver-form">
                {hidden()}
                <button type="submit" disabled=busy>"Deliver"</button>
            </ActionForm>
        }
        .into_any(),
        CommandKind::Cancel => {
            let error = a.error_of(CommandKind::Cancel);
            view! {
                <ActionForm action=a.cancel attr:data-testid="cancel-form">
                    {hidden()}
                    <label>"Reason"<textarea name="reason" maxlength="500" rows="2" bind:value=a.reason>{a.reason.get_untracked()}</textarea></label>
                    <FieldNote error field="reason"/>
                    <button type="submit" class="danger" disabled=busy>"Cancel shipment"</button>
                </ActionForm>
            }
            .into_any()
        }
        CommandKind::Schedule => ().into_any(),
    }
}

/// Refusals and other errors of the last commands, next to the actions (conflicts have their
/// own panel; field errors sit under their inputs).
#[component]
fn Messages(actions: Actions) -> impl IntoView {
    move || {
        actions
            .outcomes()
            .into_iter()
            .filter_map(|(kind, r)| match r {
                Err(AppError::Conflict(_)) | Ok(_) => None,
                Err(e) => Some(view! {
                    <p class="error" role="alert" data-testid="action-error">
                        {format!("{}: {e}", label(kind))}
                    </p>
                }),
            })
            .collect_view()
    }
}

#[component]
fn ConflictPanel(actions: Actions, id: String, reload: RwSignal<u32>) -> impl IntoView {
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
                <section class="conflict" data-testid="conflict" role="alert">
                    <h2>"This shipment changed since you opened it"</h2>
                    <p>
                        {format!(
                            "You tried to {} on version {expected_version}; it is now at version {actual_version}. Nothing was applied. Changes since you opened it:",
                            label(kind).to_lowercase()
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
                                    <td><LocalTime at=e.recorded_at/></td>
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
                        {reapply_form(kind, actions, id.clone(), actual_version)}
                        <a href=format!("/shipments/{}", id) on:click=discard class="secondary" data-testid="discard">
                            "Discard my change"
                        </a>
                    </div>
                </section>
            }
        })
    }
}

/// Sends the same command again, with the same input, against the version that is current now.
fn reapply_form(kind: CommandKind, a: Actions, id: String, actual_version: i64) -> AnyView {
    let text = format!(
        "Re-apply {} on version {actual_version}",
        label(kind).to_lowercase()
    );
    let hidden = move || {
        view! {
            <input type="hidden" name="shipment_id" value=id.clone()/>
            <input type="hidden" name="expected_version" value=actual_version.to_string()/>
        }
    };
    let button = move || view! { <button type="submit" data-testid="reapply" disabled=move || a.pending()>{text.clone()}</button> };
    match kind {
        CommandKind::PickUp => {
            view! { <ActionForm action=a.pick_up>{hidden()}{button()}</ActionForm> }.into_any()
        }
        CommandKind::Deliver => {
            view! { <ActionForm action=a.deliver>{hidden()}{button()}</ActionForm> }.into_any()
        }
        CommandKind::RecordLocation => view! {
            <ActionForm action=a.record>
                {hidden()}
                <input type="hidden" name="location" value=move || a.location.get()/>
                <input type="hidden" name="lat" value=move || a.lat.get()/>
                <input type="hidden" name="lon" value=move || a.lon.get()/>
                <input type="hidden" name="notes" value=move || a.notes.get()/>
                {button()}
            </ActionForm>
        }
        .into_any(),
        CommandKind::Cancel => view! {
            <ActionForm action=a.cancel>
                {hidden()}
                <input type="hidden" name="reason" value=move || a.reason.get()/>
                {button()}
            </ActionForm>
        }
        .into_any(),
        CommandKind::Schedule => ().into_any(),
    }
}

#[component]
fn Timeline(
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

/// Refreshes the timeline whenever the server reports an append to this shipment.
#[cfg(feature = "hydrate")]
fn subscribe_live(id: Memo<String>, live: RwSignal<u32>) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::prelude::*;
    let current: StoredValue<Option<SendWrapper<web_sys::EventSource>>> = StoredValue::new(None);
    let close = move || {
        if let Some(es) = current.try_update_value(Option::take).flatten() {
            es.close();
        }
    };
    Effect::new(move |_| {
        let url = format!("/live/shipments/{}", id.get());
        close();
        let Ok(es) = web_sys::EventSource::new(&url) else {
            return;
        };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            live.update(|n| *n += 1);
        });
        es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        // Appends between the page render and the feed opening (or during a reconnect) send no
        // message: look again whenever the feed (re)opens.
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            live.update(|n| *n += 1);
        });
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
        current.set_value(Some(SendWrapper::new(es)));
    });
    on_cleanup(close);
}

#[cfg(not(feature = "hydrate"))]
fn subscribe_live(_id: Memo<String>, _live: RwSignal<u32>) {}

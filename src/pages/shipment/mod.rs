//! The shipment page: current state, the actions its status allows, the live event timeline,
//! and the conflict panel when someone else changed the shipment first.

mod actions;
mod conflict;
mod timeline;

use crate::api::shipments::{get_shipment, ShipmentView};
use crate::components::{Button, Confirm, Weight};
use crate::components::{MaybeTime, StatusBadge, ZonedTime};
use crate::domain::{CommandKind, ShipmentStatus};
use crate::error::AppError;
use crate::pages::not_found::NotFoundStatus;
use actions::{command_form, Actions, FormMode, Messages};
use conflict::ConflictPanel;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use timeline::{Lens, Timeline};

#[component]
pub fn ShipmentPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    // `reload` moves the state the user acts on; `live` only refreshes the timeline, so the
    // version the forms send stays the one the user saw until they choose otherwise.
    let reload = RwSignal::new(0u32);
    let live = RwSignal::new(0u32);
    let actions = Actions::new();
    let lens = Lens::new();
    let snapshot = Resource::new(move || (id.get(), reload.get()), |(id, _)| get_shipment(id));
    let timeline = Resource::new(
        move || (id.get(), reload.get(), live.get()),
        |(id, _, _)| get_shipment(id),
    );
    for kind in [
        CommandKind::PickUp,
        CommandKind::RecordLocation,
        CommandKind::Deliver,
        CommandKind::Cancel,
    ] {
        show_outcome(kind, actions, reload);
    }
    crate::components::focus_outcome(actions.pick_up);
    crate::components::focus_outcome(actions.record);
    crate::components::focus_outcome(actions.deliver);
    crate::components::focus_outcome(actions.cancel);
    crate::components::live::follow_feed(
        move || format!("/live/shipments/{}", id.get()),
        move |_| live.update(|n| *n += 1),
    );
    // The newest state heard of. Set only in the browser, after hydration, once the live
    // timeline has been read again, so the server render and the hydrated page agree.
    let latest = RwSignal::new(None::<(i64, ShipmentStatus)>);
    Effect::new(move |_| {
        if let Some(Ok(view)) = timeline.get() {
            latest.set(Some((view.version, view.shipment.status)));
        }
    });

    view! {
        <Transition fallback=|| view! { <p>"Loading the shipment…"</p> }>
            {move || Suspend::new(async move {
                match snapshot.await {
                    Ok(view) => view! { <Detail view actions reload latest/> }.into_any(),
                    Err(AppError::NotFound { .. }) => view! { <NoSuchShipment id=id.get_untracked()/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        // Outside the state above, which a reload replaces: the result keeps its focus.
        <div aria-live="polite">
            <Messages actions/>
        </div>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let seen = snapshot.await.map(|s| s.version).unwrap_or(0);
                timeline.await.ok().map(|view| view! { <Timeline view seen lens/> })
            })}
        </Transition>
    }
}

/// After an accepted command: show the new state and clear what was typed for it. After a
/// refusal the state the user saw is proven stale, so show the current one too. Either way
/// the other commands' old outcomes no longer apply.
fn show_outcome(kind: CommandKind, actions: Actions, reload: RwSignal<u32>) {
    Effect::new(move |_| match actions.outcome(kind) {
        Some(Ok(_)) => {
            for input in actions.inputs(kind) {
                input.set(String::new());
            }
            actions.clear_all_except(Some(kind));
            reload.update(|n| *n += 1);
        }
        Some(Err(AppError::Rejected { .. })) => {
            actions.clear_all_except(Some(kind));
            reload.update(|n| *n += 1);
        }
        // Any other answer replaces the older ones too: one result on the page, this one.
        Some(Err(_)) => actions.clear_all_except(Some(kind)),
        None => {}
    });
}

/// Cancelling ends a shipment for good: its form waits behind a disclosure instead of standing
/// open beside Deliver. It opens by itself when it holds a typed reason or a refusal (after a
/// reload, a conflict, or a form post without JavaScript).
fn cancel_behind_disclosure(kind: CommandKind, actions: Actions, form: AnyView) -> AnyView {
    if kind != CommandKind::Cancel {
        return form;
    }
    let open = !actions.reason.get_untracked().is_empty()
        || actions.outcome(kind).is_some_and(|o| o.is_err());
    view! {
        <Confirm summary="Cancel shipment…" weight=Weight::Danger testid="cancel-disclosure" open=open>
            {form}
        </Confirm>
    }
    .into_any()
}

#[component]
fn Detail(
    view: ShipmentView,
    actions: Actions,
    reload: RwSignal<u32>,
    latest: RwSignal<Option<(i64, ShipmentStatus)>>,
) -> impl IntoView {
    let s = view.shipment.clone();
    let id = s.id.to_string();
    let version = view.version;
    let allowed = s.status.allowed_commands();
    view! {
        <leptos_meta::Title text=format!("{} → {} · Shipment · freightdesk", s.origin, s.destination)/>
        <h1>{format!("{} → {}", s.origin, s.destination)}</h1>
        <p class="muted">
            "Shipment " <code class="nowrap" data-testid="shipment-id">{id.clone()}</code>
        </p>
        <section class="card" data-testid="state">
            <dl class="facts">
                <dt>"Status"</dt><dd><StatusBadge status=s.status/></dd>
                <dt>"Version"</dt><dd data-testid="version">{version}</dd>
                <dt>"Planned pickup"</dt><dd><ZonedTime at=s.scheduled_at/></dd>
                <dt>"Picked up"</dt><dd><MaybeTime at=s.picked_up_at/></dd>
                <dt>"Delivered"</dt><dd><MaybeTime at=s.delivered_at/></dd>
                {s.cancelled_at.map(|at| view! {
                    <dt>"Cancelled"</dt>
                    <dd><ZonedTime at/>{format!(" — {}", s.cancel_reason.clone().unwrap_or_default())}</dd>
                })}
                <dt>"Last location"</dt>
                <dd>{s.last_location.clone().unwrap_or_else(|| "—".into())}
                    {(s.location_count > 0).then(|| format!(" ({})", crate::format::count(s.location_count.into(), "report", "reports")))}
                </dd>
            </dl>
        </section>
        <ConflictPanel actions id=id.clone() reload/>
        <section class="card">
            <h2>"Actions"</h2>
            <div aria-live="polite">
                <ChangedNotice seen=version latest actions reload/>
            </div>
            {allowed.is_empty().then(|| view! {
                <p class="muted" data-testid="no-actions">
                    {format!("A shipment that is {} allows no further actions.", s.status)}
                </p>
            })}
            <div class="actions">
                {allowed
                    .iter()
                    .map(|kind| {
                        let kind = *kind;
                        // What the newest state says about this action, if it no longer allows it.
                        let refused = move || {
                            latest
                                .get()
                                .filter(|(v, s)| *v > version && !s.allowed_commands().contains(&kind))
                                .map(|(_, s)| s)
                        };
                        let reason_id = format!("{}-no-longer", kind.label().to_lowercase().replace(' ', "-"));
                        let describes = reason_id.clone();
                        view! {
                            <fieldset disabled=move || refused().is_some() aria-describedby=describes>
                                {cancel_behind_disclosure(kind, actions, command_form(kind, actions, id.clone(), version, FormMode::Fresh))}
                                <p class="muted" id=reason_id data-testid="no-longer">
                                    {move || refused().map(|s| format!(
                                        "{} is no longer possible: the shipment is now {}.",
                                        kind.label(),
                                        s.label()
                                    ))}
                                </p>
                            </fieldset>
                        }
                    })
                    .collect_view()}
            </div>
        </section>
    }
}

/// Someone else changed the shipment since this page showed it: how, and the way to the latest.
#[component]
fn ChangedNotice(
    seen: i64,
    latest: RwSignal<Option<(i64, ShipmentStatus)>>,
    actions: Actions,
    reload: RwSignal<u32>,
) -> impl IntoView {
    move || {
        latest.get().filter(|(v, _)| *v > seen).map(|(version, status)| {
            let newer = version - seen;
            view! {
                <p class="notice" data-testid="changed-notice">
                    {format!(
                        "{newer} new event{} since you opened this page: the shipment is now {} (version {version}). Your actions still apply to version {seen} until you ",
                        if newer == 1 { "" } else { "s" },
                        status.label()
                    )}
                    <Button weight=Weight::Secondary on_click=Callback::new(move |_| {
                        actions.clear_all_except(None);
                        reload.update(|n| *n += 1);
                    })>"show the latest"</Button>
                    "."
                </p>
            }
        })
    }
}

/// A shipment address that leads nowhere: a malformed id says so and what an id looks like; a
/// well-formed one that names no shipment says that instead. Both answer 404.
#[component]
fn NoSuchShipment(id: String) -> impl IntoView {
    let message = match crate::domain::ShipmentId::parse(&id) {
        Err(_) => format!(
            "“{id}” is not a shipment id. Shipment ids look like 4f9e1c1e-3a55-4c43-9b7f-7f0d8f6b1a11: check the link, or find the shipment on the board."
        ),
        Ok(_) => format!(
            "No shipment has the id {id}. It may have been mistyped, or belong to another system."
        ),
    };
    view! {
        <NotFoundStatus/>
        <leptos_meta::Title text="No such shipment · freightdesk"/>
        <section class="not-found" data-testid="no-such-shipment">
            <h1>"No such shipment"</h1>
            <p>{message}</p>
            <p><a href="/">"Back to the dispatch board"</a></p>
        </section>
    }
}

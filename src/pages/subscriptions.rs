//! `/subscriptions` and `/subscriptions/{id}`, for admins: webhook subscriptions, their
//! deliveries and dead letters, and what an admin can do about them. Refreshed every 2 s.

use crate::api::subscriptions::{
    get_subscription, list_subscriptions, CreateSubscription, DeleteSubscription, DiscardAllDead,
    DiscardDelivery, PauseSubscription, ResumeSubscription, RetryAllDead, RetryDelivery,
    RewindSubscription, SendTestEvent,
};
use crate::components::{
    follow_outcome, last_error, refresh_every, FieldNote, MaybeTime, ZonedTime,
};
use crate::components::{Button, Confirm, Weight};
use crate::domain::ShipmentEvent;
use crate::error::AppError;
use crate::subscriptions::{
    DeliveryStatus, DeliveryView, SubscriptionDetail, SubscriptionState, SubscriptionSummary,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use std::time::Duration;

const REFRESH: Duration = Duration::from_secs(2);

fn success_rate(s: &SubscriptionSummary) -> String {
    s.success_rate()
        .map_or_else(|| "—".to_string(), |r| format!("{:.0}%", r * 100.0))
}

use crate::format::count as plural;

/// The subscription's state as a badge: red "Failing" when its deliveries die.
#[component]
fn HealthBadge(s: SubscriptionSummary) -> impl IntoView {
    let health = s.health();
    view! { <span class=health.class() data-health=health.label()>{health.label()}</span> }
}

/// What the latest test event came to, beside the button that sends one. Test deliveries are
/// checks of the receiver: they count in none of the subscription's figures.
#[component]
fn TestVerdict(recent: Vec<DeliveryView>) -> impl IntoView {
    let latest = recent
        .into_iter()
        .filter(DeliveryView::is_test)
        .max_by_key(|d| d.id);
    latest.map(|d| {
        let answer = d.last_status_code.map(|c| format!(" (HTTP {c})")).unwrap_or_default();
        let verdict = match d.status {
            DeliveryStatus::Delivered => format!("Latest test event: delivered{answer}."),
            DeliveryStatus::Pending if d.attempts == 0 => "Latest test event: being sent…".to_string(),
            DeliveryStatus::Pending => format!(
                "Latest test event: attempt {} failed{}, trying again.",
                d.attempts,
                d.last_error.clone().map(|e| format!(": {e}")).unwrap_or_default()
            ),
            DeliveryStatus::Dead | DeliveryStatus::Discarded => format!(
                "Latest test event: not delivered{}.",
                d.last_error.clone().map(|e| format!(": {e}")).unwrap_or_default()
            ),
        };
        let class = match d.status {
            DeliveryStatus::Delivered => "success",
            DeliveryStatus::Pending => "muted",
            _ => "error",
        };
        view! { <p class=class data-testid="test-verdict" data-status=d.status.as_str()>{verdict}</p> }
    })
}

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let create = ServerAction::<CreateSubscription>::new();
    let tick = RwSignal::new(0u32);
    refresh_every(tick, REFRESH);
    let list = Resource::new(
        move || (tick.get(), create.version().get()),
        |_| list_subscriptions(),
    );
    view! {
        <Title text="Subscriptions · freightdesk"/>
        <h1>"Subscriptions"</h1>
        <p class="muted">"Webhooks: each matching shipment event is POSTed, signed, to the partner system's URL, retried on failure, and kept as a dead letter when it cannot be delivered."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted" data-testid="no-subscriptions">"No subscriptions yet. Add one below to send shipment events to a partner system."</p>
                    }.into_any(),
                    Ok(list) => view! { <SubscriptionTable list/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <CreateForm create/>
    }
}

#[component]
fn SubscriptionTable(list: Vec<SubscriptionSummary>) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label="Subscriptions">
        <table class="deliveries" data-testid="subscriptions">
            <thead><tr>
                <th>"Name"</th><th>"Target"</th><th>"Events"</th><th>"State"</th>
                <th>"Checkpoint"</th><th>"Lag"</th><th>"Delivered"</th><th>"Pending"</th>
                <th>"Dead"</th><th>"Success"</th><th>"Last error"</th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|s| {
                    let href = format!("/subscriptions/{}", s.id);
                    view! {
                        <tr data-subscription=s.name.clone()>
                            <td><a href=href>{s.name.clone()}</a></td>
                            <td class="wrap">{s.target_url.clone()}</td>
                            <td class="wrap">{s.selection.describe()}</td>
                            <td data-testid="subscription-state"><HealthBadge s=s.clone()/></td>
                            <td>{s.checkpoint}</td>
                            <td>{plural(s.lag_events, "event", "events")}</td>
                            <td data-testid="delivered">{s.delivered}</td>
                            <td data-testid="pending">{s.pending}</td>
                            <td data-testid="dead">{s.dead}</td>
                            <td>{success_rate(&s)}</td>
                            <td class="wrap">{s.last_error.clone().map_or_else(|| "—".to_string(), |e| e.message)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

#[component]
fn CreateForm(create: ServerAction<CreateSubscription>) -> impl IntoView {
    let error = last_error(create);
    crate::components::focus_outcome(create);
    // Added: the form empties, ready for the next one (the secret is shown below it).
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    view! {
        <section class="card">
            <h2>"Add a subscription"</h2>
            <ActionForm action=create node_ref=form attr:class="form-stack" attr:data-testid="add-subscription-form">
                <label>"Name"<input name="name" autocomplete="off" required maxlength="64"/><FieldNote error field="name"/></label>
                <label>"Target URL"<input name="target_url" type="url" required maxlength="2000" placeholder="https://partner.example/freight-hooks"/><FieldNote error field="target_url"/></label>
                <fieldset>
                    <legend>"Events (none ticked: every shipment event)"</legend>
                    {ShipmentEvent::TYPES.iter().enumerate().map(|(i, t)| view! {
                        <label class="inline"><input type="checkbox" name=format!("event_types[{i}]") value=*t/>{*t}</label>
                    }).collect_view()}
                </fieldset>
                <FieldNote error field="event_types"/>
                <label>"Only shipments whose origin or destination contains (optional)"<input name="place_filter" maxlength="120"/><FieldNote error field="place_filter"/></label>
                <label>"Attempts per delivery before it becomes a dead letter"<input name="max_attempts" type="number" min="1" max="50" step="1" placeholder="8"/><FieldNote error field="max_attempts"/></label>
                <Button disabled=move || create.pending().get()>"Add subscription"</Button>
            </ActionForm>
            <div aria-live="polite">
                {move || create.value().get().map(|r| match r {
                    Ok(created) => view! {
                        <div class="success" role="status" data-testid="subscription-created">
                            <p>{format!("Added {}. Its signing secret is shown only now: copy it into the receiving system.", created.name)}</p>
                            <p class="form-row">
                                <code data-testid="subscription-secret">{created.secret.clone()}</code>
                                <crate::components::CopyButton text=created.secret.clone() what="secret"/>
                            </p>
                            <p><a href=format!("/subscriptions/{}", created.id)>{format!("Open {}", created.name)}</a></p>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert" data-outcome="" tabindex="-1">{e.headline()}</p> }.into_any(),
                })}
            </div>
        </section>
    }
}

#[derive(Clone, Copy)]
struct DetailActions {
    pause: ServerAction<PauseSubscription>,
    resume: ServerAction<ResumeSubscription>,
    test: ServerAction<SendTestEvent>,
    retry: ServerAction<RetryDelivery>,
    discard: ServerAction<DiscardDelivery>,
    retry_all: ServerAction<RetryAllDead>,
    discard_all: ServerAction<DiscardAllDead>,
    rewind: ServerAction<RewindSubscription>,
    delete: ServerAction<DeleteSubscription>,
}

impl DetailActions {
    fn new() -> Self {
        Self {
            pause: ServerAction::new(),
            resume: ServerAction::new(),
            test: ServerAction::new(),
            retry: ServerAction::new(),
            discard: ServerAction::new(),
            retry_all: ServerAction::new(),
            discard_all: ServerAction::new(),
            rewind: ServerAction::new(),
            delete: ServerAction::new(),
        }
    }

    /// Keeps `latest` on the answer of whichever action answered last.
    fn report_into(&self, latest: RwSignal<Option<Result<String, AppError>>>) {
        follow_outcome(self.pause, latest);
        follow_outcome(self.resume, latest);
        follow_outcome(self.test, latest);
        follow_outcome(self.retry, latest);
        follow_outcome(self.discard, latest);
        follow_outcome(self.retry_all, latest);
        follow_outcome(self.discard_all, latest);
        follow_outcome(self.rewind, latest);
        follow_outcome(self.delete, latest);
    }

    fn versions(&self) -> usize {
        self.pause.version().get()
            + self.resume.version().get()
            + self.test.version().get()
            + self.retry.version().get()
            + self.discard.version().get()
            + self.retry_all.version().get()
            + self.discard_all.version().get()
            + self.rewind.version().get()
            + self.delete.version().get()
    }
}

#[component]
pub fn SubscriptionPage() -> impl IntoView {
    let params = use_params_map();
    let query = leptos_router::hooks::use_query_map();
    let dead_after = Memo::new(move |_| query.read().get("dead_after").unwrap_or_default());
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    });
    let actions = DetailActions::new();
    let latest = RwSignal::new(None);
    actions.report_into(latest);
    let tick = RwSignal::new(0u32);
    refresh_every(tick, REFRESH);
    let detail = Resource::new(
        move || (id.get(), dead_after.get(), tick.get(), actions.versions()),
        |(id, dead_after, _, _)| async move {
            match id {
                Some(id) => get_subscription(id, dead_after).await,
                None => Err(AppError::NotFound {
                    what: "subscription".into(),
                }),
            }
        },
    );
    view! {
        <Title text="Subscription · freightdesk"/>
        <p><a href="/subscriptions">"← All subscriptions"</a></p>
        <div aria-live="polite">
            {move || latest.get().map(|r| match r {
                Ok(m) => view! { <p class="success" role="status" data-testid="subscription-ok">{m}</p> }.into_any(),
                Err(AppError::Validation { .. }) => ().into_any(),
                Err(e) => view! { <p class="error" role="alert" data-testid="subscription-error">{e.to_string()}</p> }.into_any(),
            })}
        </div>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Detail d actions/> }.into_any(),
                    Err(AppError::NotFound { .. }) => view! { <super::NotFound/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Detail(d: SubscriptionDetail, actions: DetailActions) -> impl IntoView {
    let s = d.summary.clone();
    let id = s.id;
    let title = format!("{} · Subscriptions · freightdesk", s.name);
    let rewind_label = format!("Type “{}” to confirm", s.name);
    let delete_label = format!("Type “{}” to delete it and its deliveries", s.name);
    let rewind_error = last_error(actions.rewind);
    let delete_error = last_error(actions.delete);
    view! {
        <Title text=title/>
        <h1>{s.name.clone()}</h1>
        <section class="card" data-testid="subscription-summary">
            <dl class="facts">
                <dt>"State"</dt><dd data-testid="subscription-state"><HealthBadge s=s.clone()/></dd>
                <dt>"Target"</dt><dd class="wrap">{s.target_url.clone()}</dd>
                <dt>"Events"</dt><dd>{s.selection.describe()}</dd>
                <dt>"Checkpoint"</dt><dd data-testid="checkpoint">{format!("position {}", s.checkpoint)}</dd>
                <dt>"Lag"</dt><dd>{plural(s.lag_events, "event", "events")}</dd>
                <dt>"Runs on"</dt><dd>{s.owner.clone().unwrap_or_else(|| "no node yet".into())}</dd>
                <dt>"Deliveries"</dt><dd data-testid="delivery-counts">{format!("{} delivered, {} pending, {} dead (test events not counted)", s.delivered, s.pending, s.dead)}</dd>
                <dt>"Success rate"</dt><dd>{success_rate(&s)}</dd>
                <dt>"Attempts per delivery"</dt><dd>{s.max_attempts}</dd>
                <dt>"Last error"</dt><dd class="wrap" data-testid="last-error">{s.last_error.clone().map(|e| view! {
                    <span>{e.message}" · "<ZonedTime at=e.at/></span>
                })}</dd>
                <dt>"Created"</dt><dd><ZonedTime at=s.created_at/>{format!(" by {}", s.created_by)}</dd>
            </dl>
            <div class="form-row">
                {match s.state {
                    SubscriptionState::Active => view! {
                        <ActionForm action=actions.pause>
                            <input type="hidden" name="id" value=id.to_string()/>
                            <Button weight=Weight::Secondary>"Pause"</Button>
                        </ActionForm>
                    }.into_any(),
                    SubscriptionState::Paused => view! {
                        <ActionForm action=actions.resume>
                            <input type="hidden" name="id" value=id.to_string()/>
                            <Button>"Resume"</Button>
                        </ActionForm>
                    }.into_any(),
                }}
                <ActionForm action=actions.test>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <Button weight=Weight::Secondary>"Send test event"</Button>
                </ActionForm>
            </div>
            <TestVerdict recent=d.recent.clone()/>
        </section>
        <section class="card" data-testid="dead-letters">
            <h2>"Dead letters"</h2>
            {if d.dead.is_empty() {
                view! { <p class="muted">"None: every delivery went through or is still being tried."</p> }.into_any()
            } else {
                view! {
                    <BulkDeadLetters actions subscription=s.id dead=s.dead/>
                    <DeliveryTable list=d.dead.clone() actions=Some(actions) subscription=s.id/>
                }.into_any()
            }}
            // 50 a page, oldest first; the count says how many there are in all.
            <nav class="pager" aria-label="dead letter pages">
                {d.dead_after.map(|_| view! { <a href=format!("/subscriptions/{id}") rel="prev">"← First dead letters"</a> })}
                {d.dead_next.map(|after| view! { <a href=format!("/subscriptions/{id}?dead_after={after}") rel="next" data-testid="dead-next">"More dead letters →"</a> })}
            </nav>
        </section>
        <section class="card" data-testid="recent-deliveries">
            <h2>"Recent deliveries"</h2>
            {if d.recent.is_empty() {
                view! { <p class="muted">"Nothing delivered yet. Matching events recorded from now on are sent here; “Send test event” tries the target at once."</p> }.into_any()
            } else {
                view! { <DeliveryTable list=d.recent.clone() actions=None subscription=s.id/> }.into_any()
            }}
        </section>
        <section class="card">
            <h2>"Rewind"</h2>
            <p class="muted">"Delivers every matching event again from a global position or a UTC time, as new deliveries (new delivery ids). Projection rebuilds and cutovers never do this."</p>
            <ActionForm action=actions.rewind attr:class="form-grid" attr:data-testid="rewind-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <label>"From position or UTC time"<input name="to" required placeholder="1200 or 2026-11-28T14:30"/><FieldNote error=rewind_error field="to"/></label>
                <label>{rewind_label}<input name="confirm" autocomplete="off" required/><FieldNote error=rewind_error field="confirm"/></label>
                <Button weight=Weight::Danger>"Rewind and re-send"</Button>
            </ActionForm>
        </section>
        <section class="card">
            <h2>"Delete"</h2>
            <ActionForm action=actions.delete attr:class="form-grid" attr:data-testid="delete-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <label>{delete_label}<input name="confirm" autocomplete="off" required/><FieldNote error=delete_error field="confirm"/></label>
                <Button weight=Weight::Danger>"Delete subscription"</Button>
            </ActionForm>
        </section>
        <section class="card">
            <h2>"Audit"</h2>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Audit trail">
            <table class="deliveries" data-testid="subscription-audit">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Detail"</th></tr></thead>
                <tbody>
                    {d.audit.into_iter().map(|a| view! {
                        <tr><td><ZonedTime at=a.at/></td><td>{a.actor}</td><td>{a.action}</td><td class="wrap">{a.detail}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </section>
    }
}

/// Retry all / Discard all: each opens a confirmation that names the count; the count goes to
/// the server, which refuses (changing nothing) if the dead letters are no longer that many.
#[component]
fn BulkDeadLetters(actions: DetailActions, subscription: i64, dead: i64) -> impl IntoView {
    let letters = if dead == 1 {
        "dead letter"
    } else {
        "dead letters"
    };
    view! {
        <div class="form-row" data-testid="bulk-dead-letters">
            <Confirm summary=format!("Retry all {dead}…") weight=Weight::Secondary>
                <p>{format!("Send all {dead} {letters} again, attempts starting over?")}</p>
                <ActionForm action=actions.retry_all>
                    <input type="hidden" name="id" value=subscription.to_string()/>
                    <input type="hidden" name="count" value=dead.to_string()/>
                    <Button>{format!("Yes, retry all {dead}")}</Button>
                </ActionForm>
            </Confirm>
            <Confirm summary=format!("Discard all {dead}…") weight=Weight::Danger>
                <p>{format!("Give all {dead} {letters} up for good? They will not be sent.")}</p>
                <ActionForm action=actions.discard_all>
                    <input type="hidden" name="id" value=subscription.to_string()/>
                    <input type="hidden" name="count" value=dead.to_string()/>
                    <Button weight=Weight::Danger>{format!("Yes, discard all {dead}")}</Button>
                </ActionForm>
            </Confirm>
        </div>
    }
}

#[component]
fn DeliveryTable(
    list: Vec<DeliveryView>,
    actions: Option<DetailActions>,
    subscription: i64,
) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label="Deliveries">
        <table class="deliveries">
            // The actions come first, so they are in view however wide the table is.
            <thead><tr>
                {actions.is_some().then(|| view! { <th>"Actions"</th> })}
                <th>"#"</th><th>"Event"</th><th>"Shipment"</th><th>"Status"</th><th>"Attempts"</th>
                <th>"Response"</th><th>"Error"</th><th>"Queued"</th><th>"Finished or next try"</th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|d| {
                    let shipment = (!d.is_test()).then(|| {
                        let short: String = d.stream_id.chars().take(8).collect();
                        view! { <a href=format!("/shipments/{}", d.stream_id)>{short}</a> }
                    });
                    let when = match d.status {
                        DeliveryStatus::Pending => view! { <span>"next "<ZonedTime at=d.next_attempt_at/></span> }.into_any(),
                        _ => view! { <MaybeTime at=d.finished_at/> }.into_any(),
                    };
                    // What a failing receiver said is often the quickest way to the cause.
                    let answer = d
                        .response_excerpt
                        .clone()
                        .filter(|t| !t.trim().is_empty() && d.status != DeliveryStatus::Delivered);
                    let row_actions = actions.map(|a| {
                        let delivery = d.id;
                        view! {
                            <td><div class="form-row">
                                <ActionForm action=a.retry>
                                    <input type="hidden" name="id" value=subscription.to_string()/>
                                    <input type="hidden" name="delivery" value=delivery.to_string()/>
                                    <Button>"Retry"</Button>
                                </ActionForm>
                                <ActionForm action=a.discard>
                                    <input type="hidden" name="id" value=subscription.to_string()/>
                                    <input type="hidden" name="delivery" value=delivery.to_string()/>
                                    <Button weight=Weight::Danger>"Discard"</Button>
                                </ActionForm>
                            </div></td>
                        }
                    });
                    view! {
                        <tr data-delivery=d.delivery_id.clone() data-status=d.status.as_str()>
                            {row_actions}
                            <td>{d.id}</td>
                            <td title=d.event_type.clone()>{crate::domain::humanize_event_type(&d.event_type)}{(d.event_seq > 0).then(|| format!(" @{}", d.event_seq))}</td>
                            <td>{shipment}</td>
                            <td data-testid="delivery-status">{d.status.label()}</td>
                            <td>{d.attempts}</td>
                            <td>{d.last_status_code.map_or_else(|| "—".to_string(), |c| c.to_string())}</td>
                            <td class="wrap">
                                {d.last_error.clone().unwrap_or_default()}
                                {answer.map(|text| view! { <div class="muted" data-testid="response-excerpt">"Answer: "{text}</div> })}
                            </td>
                            <td><ZonedTime at=d.created_at/></td>
                            <td>{when}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

//! `/projections/{name}`: the guided blue/green rollout of one projection. Blue (live) and green
//! (the candidate, or after a cutover the version a rollback returns to) side by side, the
//! readiness checklist the server enforces, the comparison, alerts, skipped events, settings and
//! the audit trail; updated every second.

use crate::api::projections::{
    get_projection_samples, get_rollout, AcceptDifferences, AcknowledgeAlert,
    AcknowledgeSkippedEvents, CompareBoardVersions, CutOverProjection, RebuildProjection,
    RetryProjection, SaveProjectionSettings, SkipPoisonEvent, VersionSeries,
};
use crate::auth::Role;
use crate::components::charts::VersionCharts;
use crate::components::{
    field_described, field_invalid, follow_outcome, last_error, refresh_every, ActionOutcome,
    FieldNote, ZonedTime,
};
use crate::components::{Button, Confirm, Weight};
use crate::error::AppError;
use crate::format::human_duration;
use crate::projections::lifecycle::{action_label, allowed_actions, may_compare, OperatorAction};
use crate::projections::status::{RolloutStatus, VersionStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[derive(Clone, Copy)]
struct RolloutActions {
    cut_over: ServerAction<CutOverProjection>,
    rebuild: ServerAction<RebuildProjection>,
    retry: ServerAction<RetryProjection>,
    compare: ServerAction<CompareBoardVersions>,
    accept: ServerAction<AcceptDifferences>,
    skip: ServerAction<SkipPoisonEvent>,
    ack_skips: ServerAction<AcknowledgeSkippedEvents>,
    ack_alert: ServerAction<AcknowledgeAlert>,
    settings: ServerAction<SaveProjectionSettings>,
}

impl RolloutActions {
    fn new() -> Self {
        Self {
            cut_over: ServerAction::new(),
            rebuild: ServerAction::new(),
            retry: ServerAction::new(),
            compare: ServerAction::new(),
            accept: ServerAction::new(),
            skip: ServerAction::new(),
            ack_skips: ServerAction::new(),
            ack_alert: ServerAction::new(),
            settings: ServerAction::new(),
        }
    }

    /// Keeps `latest` on the answer of whichever action answered last (the background
    /// comparison excepted), so the page shows what the person just did.
    fn report_into(&self, latest: RwSignal<Option<Result<String, AppError>>>) {
        follow_outcome(self.cut_over, latest);
        follow_outcome(self.rebuild, latest);
        follow_outcome(self.retry, latest);
        follow_outcome(self.accept, latest);
        follow_outcome(self.skip, latest);
        follow_outcome(self.ack_skips, latest);
        follow_outcome(self.ack_alert, latest);
        follow_outcome(self.settings, latest);
    }

    fn pending(&self) -> bool {
        self.cut_over.pending().get() || self.rebuild.pending().get() || self.retry.pending().get()
    }
}

#[component]
pub fn RolloutPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let me = crate::components::use_current_user();
    let actions = RolloutActions::new();
    let latest = RwSignal::new(None);
    actions.report_into(latest);
    let tick = RwSignal::new(0u32);
    refresh_every(tick, std::time::Duration::from_secs(1));
    // The page keeps the comparison fresh while it is open (every 10 s, and on load).
    Effect::new(move |_| {
        if tick.get().is_multiple_of(10) {
            actions.compare.dispatch(CompareBoardVersions {});
        }
    });
    // Lag and rate charts: samples come every few seconds, so read them every fifth tick.
    let sample_tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        if tick.get().is_multiple_of(5) {
            sample_tick.update(|n| *n = n.wrapping_add(1));
        }
    });
    let samples = Resource::new(move || sample_tick.get(), |_| get_projection_samples());
    let status = Resource::new(
        move || (name.get(), tick.get()),
        |(name, _)| get_rollout(name),
    );
    view! {
        <Title text=move || format!("{} · Projections · freightdesk", name.get())/>
        <p><a href="/projections">"← All projections"</a></p>
        <h1>{move || format!("{} — blue/green", name.get())}</h1>
        <div aria-live="polite">
            {move || latest.get().map(|r| view! { <ActionOutcome outcome=r testid="rollout"/> })}
        </div>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let admin = me.await.ok().flatten().is_some_and(|u| u.allows(Role::Admin));
                // Awaited with the status, so the cards draw their charts at once (see the
                // projections page). Without samples the cards draw no charts.
                let samples = samples.await.unwrap_or_default();
                match status.await {
                    Ok(s) => view! { <Rollout s admin actions samples/> }.into_any(),
                    Err(AppError::NotFound { .. }) => view! { <super::NotFound/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Rollout(
    s: RolloutStatus,
    admin: bool,
    actions: RolloutActions,
    samples: Vec<VersionSeries>,
) -> impl IntoView {
    let series_of = |v: &VersionStatus| samples.iter().find(|s| s.key == v.key).cloned();
    let rollback = s.rollback_window();
    let ready = s.ready();
    let green_facts = s.green.as_ref().map(|g| s.facts(g));
    let blue_facts = s.blue.as_ref().map(|b| s.facts(b));
    let alerts = s.alerts.clone();
    let name = s.name.clone();
    view! {
        {alerts.into_iter().map(|a| {
            let name = name.clone();
            view! {
                <section class="conflict" role="alert" data-testid="alert">
                    <h2>"Rolled back automatically"</h2>
                    <p>{a.detail.clone()}" · "<ZonedTime at=a.at/></p>
                    {admin.then(|| view! {
                        <ActionForm action=actions.ack_alert>
                            <input type="hidden" name="name" value=name.clone()/>
                            <input type="hidden" name="id" value=a.id.to_string()/>
                            <Button weight=Weight::Secondary>"Acknowledge"</Button>
                        </ActionForm>
                    })}
                </section>
            }
        }).collect_view()}
        <div class="blue-green">
            {s.blue.clone().map(|b| {
                let series = series_of(&b);
                view! { <VersionCard v=b series rows=s.blue_rows role="blue" title="Blue · live"/> }
            })}
            {s.green.clone().map(|g| {
                let title = if rollback { "Green · standby (rollback target)" } else { "Green · candidate" };
                let series = series_of(&g);
                view! { <VersionCard v=g series rows=s.green_rows role="green" title/> }
            })}
        </div>
        {(s.green.is_none()).then(|| view! {
            <p class="muted" data-testid="no-candidate">"No other version is maintained: nothing to cut over to. Rebuild or register a new version to start a rollout."</p>
        })}
        {(!rollback && !s.checklist.is_empty()).then(|| view! { <Checklist s=s.clone()/> })}
        // The server shows no comparison before green has caught up: say when there will be one.
        {s.green.clone().filter(|g| s.comparison.is_none() && may_compare(&s.facts(g)).is_err()).map(|g| view! {
            <section class="card" data-testid="rollout-comparison-pending">
                <h2>"Comparison"</h2>
                <p class="muted">{format!("{} is compared with the live version once it has caught up ({}).", g.key, g.state_phrase())}</p>
            </section>
        })}
        {s.comparison.clone().map(|c| {
            let key = c.candidate.clone();
            let verdict = if c.identical {
                "identical in every shared column".to_string()
            } else {
                format!(
                    "{} {}, {} only in {}, {} only in {}",
                    crate::format::count(c.differing, "row", "rows"),
                    if c.differing == 1 { "differs" } else { "differ" },
                    c.only_live,
                    c.live,
                    c.only_candidate,
                    c.candidate
                )
            };
            view! {
                <section class="card" data-testid="rollout-comparison">
                    <h2>{format!("{} compared with {}", c.candidate, c.live)}</h2>
                    <p>{verdict}" · compared "<ZonedTime at=c.at/></p>
                    {c.acknowledged_by.clone().map(|who| view! { <p class="muted">{format!("Differences accepted by {who}")}</p> })}
                    {(admin && !c.identical && c.acknowledged_by.is_none()).then(|| view! {
                        <ActionForm action=actions.accept>
                            <input type="hidden" name="key" value=key/>
                            <Button weight=Weight::Secondary>"Accept these differences"</Button>
                        </ActionForm>
                    })}
                </section>
            }
        })}
        {admin.then(|| view! {
            <section class="card" data-testid="rollout-actions">
                <h2>"Actions"</h2>
                {green_facts.clone().zip(s.blue.clone()).map(|(g, b)| {
                    let key = g.key.clone();
                    let allowed = allowed_actions(&g).contains(&OperatorAction::CutOver) && (rollback || ready);
                    let what = if rollback {
                        format!("Readers go back to {key} at once; {} stays on standby and current.", b.key)
                    } else {
                        format!("Readers switch from {} to {key} at once; {} stays on standby and current, so a rollback is one click.", b.key, b.key)
                    };
                    let label = action_label(OperatorAction::CutOver, &g);
                    view! {
                        <Confirm summary=format!("{label} ({key})…") weight=if rollback { Weight::Danger } else { Weight::Primary } testid="cut-over">
                            <p>{what}</p>
                            <ActionForm action=actions.cut_over>
                                <input type="hidden" name="key" value=key/>
                                <Button weight=if rollback { Weight::Danger } else { Weight::Primary } disabled=move || !allowed || actions.pending()>
                                    {format!("Confirm: {}", label.to_lowercase())}
                                </Button>
                            </ActionForm>
                            {(!allowed).then(|| view! { <p class="muted">"Not possible now: see the checklist and the versions above."</p> })}
                        </Confirm>
                    }
                })}
                {[green_facts.clone(), blue_facts.clone()].into_iter().flatten().map(|f| {
                    let key = f.key.clone();
                    let allowed = allowed_actions(&f);
                    view! {
                        <div class="form-row">
                            {allowed.contains(&OperatorAction::Retry).then(|| { let key = key.clone(); view! {
                                <ActionForm action=actions.retry>
                                    <input type="hidden" name="key" value=key.clone()/>
                                    <Button>{format!("Retry {key}")}</Button>
                                </ActionForm>
                            }})}
                            {allowed.contains(&OperatorAction::Skip).then(|| { let key = key.clone(); view! {
                                <ActionForm action=actions.skip attr:data-testid="skip-form">
                                    <input type="hidden" name="key" value=key.clone()/>
                                    <label>{format!("Why skip the failing event of {key}?")}
                                        <input name="reason" required maxlength="500"/>
                                    </label>
                                    <Button weight=Weight::Danger>"Skip this event"</Button>
                                </ActionForm>
                            }})}
                            {allowed.contains(&OperatorAction::Rebuild).then(|| {
                                let key = key.clone();
                                // Rebuilding the live version is confirmed: it reads the whole log again.
                                let live = f.state == crate::projections::lifecycle::VersionState::Live;
                                let button = if live { format!("Confirm: rebuild {key}") } else { format!("Rebuild {key}") };
                                let posted = key.clone();
                                let form = view! {
                                    <ActionForm action=actions.rebuild>
                                        <input type="hidden" name="key" value=posted/>
                                        <Button weight=Weight::Secondary>{button}</Button>
                                    </ActionForm>
                                };
                                if live {
                                    view! {
                                        <Confirm summary=format!("Rebuild {key} (live)…") weight=Weight::Secondary testid="rebuild-live">
                                            <p>{format!("A fresh table fills from the first event beside the current one. {key} keeps serving readers from its current table until the new one has caught up; then they are swapped.")}</p>
                                            {form}
                                        </Confirm>
                                    }.into_any()
                                } else {
                                    form.into_any()
                                }
                            })}
                        </div>
                    }
                }).collect_view()}
            </section>
        })}
        <Skipped s=s.clone() admin actions/>
        {admin.then(|| view! { <SettingsForm s=s.clone() actions/> })}
        <section class="card">
            <h2>"Audit trail"</h2>
            <crate::components::ScrollBox label="Audit trail">
            <table data-testid="rollout-audit">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Version"</th><th>"Detail"</th></tr></thead>
                <tbody>
                    {s.audit.into_iter().map(|a| view! {
                        <tr><td><ZonedTime at=a.at/></td><td>{a.actor}</td><td class="nowrap">{a.action.as_str()}</td><td class="nowrap">{a.projection}</td><td class="detail">{a.detail}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            </crate::components::ScrollBox>
        </section>
    }
}

#[component]
fn VersionCard(
    v: VersionStatus,
    series: Option<VersionSeries>,
    rows: Option<i64>,
    role: &'static str,
    title: &'static str,
) -> impl IntoView {
    // One progress figure: the percentage is in the state ("rebuilding 42%"); the bar shows
    // it, and the line under it says how many events and how long.
    let progress = v.build_percent().map(|pct| match &v.rebuild {
        Some(r) => (pct, r.eta_seconds, r.done, r.total),
        None => {
            // A building version catches up on the log itself.
            let eta = (v.events_per_sec > 0.0).then(|| v.lag_events as f64 / v.events_per_sec);
            (pct, eta, v.checkpoint_seq, v.head_seq)
        }
    });
    let retired = v.is_retired();
    view! {
        <section class=format!("card version-card {role}") data-testid=role data-version=v.key.clone()>
            <h2>{title}</h2>
            <p><strong>{v.key.clone()}</strong>" — "{v.description.clone()}</p>
            <dl class="facts">
                <dt>"State"</dt><dd data-testid="state">{v.state_phrase()}</dd>
                <dt>"Checkpoint / head"</dt><dd>{(!retired).then(|| format!("#{} / #{}", v.checkpoint_seq, v.head_seq))}</dd>
                <dt>"Lag"</dt><dd data-testid="lag">{v.lag_phrase()}</dd>
                <dt>"Rate"</dt><dd>{(!retired).then(|| format!("{:.1} events/s", v.events_per_sec))}</dd>
                <dt>"Node"</dt><dd>{(!retired).then(|| v.owner_node.clone().unwrap_or_else(|| "none".into()))}</dd>
                <dt>"Events applied"</dt><dd>{(!retired).then_some(v.events_applied)}</dd>
                <dt>"Rows"</dt><dd data-testid="rows">{rows.map_or_else(|| "—".to_string(), |n| n.to_string())}</dd>
            </dl>
            {progress.map(|(pct, eta, done, total)| view! {
                <div data-testid="progress">
                    <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=format!("{pct:.0}")>
                        <span style=format!("width: {pct:.1}%")></span>
                    </div>
                    {format!("{done} of {total} events{}", eta.map(|s| format!(" · ETA {}", human_duration(s.ceil() as i64))).unwrap_or_default())}
                </div>
            })}
            {v.error.clone().map(|e| view! {
                <p class="error" data-testid="version-error">{e}{v.error_event.clone().map(|ev| format!(" — at event {ev}"))}</p>
            })}
            {series.map(|series| view! { <VersionCharts series/> })}
        </section>
    }
}

#[component]
fn Checklist(s: RolloutStatus) -> impl IntoView {
    let ready = s.ready();
    view! {
        <section class="card" data-testid="checklist" data-ready=ready.to_string()>
            <h2>{if ready { "Ready to cut over" } else { "Not ready to cut over yet" }}</h2>
            <ul class="checklist">
                {s.checklist.into_iter().map(|c| view! {
                    <li class=if c.ok { "ok" } else { "bad" } data-testid=format!("check-{:?}", c.item).to_lowercase() data-ok=c.ok.to_string()>
                        <span aria-hidden="true">{if c.ok { "✔ " } else { "✘ " }}</span>
                        <strong>{c.item.title()}</strong>{if c.ok { " — ok: " } else { " — not yet: " }}{c.reason}
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Skipped(s: RolloutStatus, admin: bool, actions: RolloutActions) -> impl IntoView {
    let unacknowledged = s.skipped.iter().any(|e| e.acknowledged_by.is_none());
    let green = s.green.as_ref().map(|g| g.key.clone());
    (!s.skipped.is_empty()).then(|| view! {
        <section class="card" data-testid="skipped">
            <h2>"Skipped events"</h2>
            <crate::components::ScrollBox label="Skipped events">
            <table>
                <thead><tr><th>"Event"</th><th>"Shipment"</th><th>"Error"</th><th>"Why"</th><th>"Who"</th><th>"When"</th><th>"Acknowledged"</th></tr></thead>
                <tbody>
                    {s.skipped.into_iter().map(|e| view! {
                        <tr>
                            <td class="nowrap">{format!("#{} {}", e.seq, crate::domain::humanize_event_type(&e.event_type))}</td>
                            <td class="nowrap"><a href=format!("/shipments/{}", e.stream_id)>{e.stream_id.chars().take(8).collect::<String>()}</a></td>
                            <td class="text">{e.error}</td>
                            <td class="text">{e.reason}</td>
                            <td>{e.skipped_by}</td>
                            <td><ZonedTime at=e.skipped_at/></td>
                            <td>{e.acknowledged_by.unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </crate::components::ScrollBox>
            <p class="muted">"The rows of these shipments may differ from the other version: compare before cutting over."</p>
            {(admin && unacknowledged).then(|| green.map(|key| view! {
                <ActionForm action=actions.ack_skips>
                    <input type="hidden" name="key" value=key/>
                    <Button weight=Weight::Secondary>"Acknowledge skipped events"</Button>
                </ActionForm>
            }))}
        </section>
    })
}

#[component]
fn SettingsForm(s: RolloutStatus, actions: RolloutActions) -> impl IntoView {
    let settings = s.settings.clone();
    let error = last_error(actions.settings);
    crate::components::focus_outcome(actions.settings);
    view! {
        <section class="card" data-testid="settings">
            <h2>"Settings"</h2>
            <ActionForm action=actions.settings attr:class="form-grid">
                <input type="hidden" name="name" value=s.name.clone()/>
                <label class="inline">
                    <input type="checkbox" name="auto_rollback" checked=settings.auto_rollback/>
                    "Roll back automatically when the live version fails"
                </label>
                // The bounds the server enforces (`save_projection_settings`).
                <label>"Caught up within (events)"
                    <input name="max_lag_events" type="number" min="0" max="1000000" step="1" required
                        aria-invalid=field_invalid(error, "max_lag_events") aria-describedby=field_described(error, "max_lag_events")
                        value=settings.max_lag_events.to_string()/>
                    <FieldNote error field="max_lag_events"/>
                </label>
                <label>"A comparison counts for (minutes)"
                    <input name="comparison_valid_minutes" type="number" min="1" max="10080" step="1" required
                        aria-invalid=field_invalid(error, "comparison_valid_minutes") aria-describedby=field_described(error, "comparison_valid_minutes")
                        value=settings.comparison_valid_minutes.to_string()/>
                    <FieldNote error field="comparison_valid_minutes"/>
                </label>
                <Button weight=Weight::Secondary>"Save settings"</Button>
            </ActionForm>
        </section>
    }
}

//! The operator console for projections: every version with its state, checkpoint against the
//! head of the log, lag, rate, rebuild progress, failures and owning node; the nodes; the audit
//! trail; and the daily counts read model.

use crate::api::projections::{
    compare_board_versions, get_daily_shipments, get_projection_samples, get_projections_overview,
    BoardComparison, CutOverProjection, RebuildProjection, RetireProjection, RetryProjection,
    VersionSeries,
};
use crate::auth::Role;
use crate::components::charts::VersionCharts;
use crate::components::{follow_outcome, refresh_every, ActionOutcome, ScrollBox, ZonedTime};
use crate::components::{ActionLink, Button, Confirm, Weight};
use crate::format::{count, human_duration};
use crate::projections::lifecycle::{
    action_label, allowed_actions, OperatorAction, VersionFacts, VersionState,
};
use crate::projections::status::{ProjectionsOverview, VersionStatus};
use crate::stall::{explain, HoldReport};
use leptos::prelude::*;

/// The operator actions of the page.
#[derive(Clone, Copy)]
struct Operations {
    rebuild: ServerAction<RebuildProjection>,
    retry: ServerAction<RetryProjection>,
    cut_over: ServerAction<CutOverProjection>,
    retire: ServerAction<RetireProjection>,
}

impl Operations {
    fn pending(&self) -> bool {
        self.rebuild.pending().get()
            || self.retry.pending().get()
            || self.cut_over.pending().get()
            || self.retire.pending().get()
    }

    /// Changes whenever any operation completes, so the page re-reads the status.
    fn versions(&self) -> (usize, usize, usize, usize) {
        (
            self.rebuild.version().get(),
            self.retry.version().get(),
            self.cut_over.version().get(),
            self.retire.version().get(),
        )
    }
}

#[component]
pub fn ProjectionsPage() -> impl IntoView {
    let me = crate::components::use_current_user();
    let ops = Operations {
        rebuild: ServerAction::new(),
        retry: ServerAction::new(),
        cut_over: ServerAction::new(),
        retire: ServerAction::new(),
    };
    let tick = RwSignal::new(0u32);
    refresh_every(tick, std::time::Duration::from_secs(2));
    // Lag and rate of every version over the last hour, for the charts in the rows.
    let samples = Resource::new(move || tick.get(), |_| get_projection_samples());
    let overview = Resource::new(
        move || (tick.get(), ops.versions()),
        |_| get_projections_overview(),
    );
    let comparisons = Resource::new(
        move || (tick.get() / 5, ops.versions()),
        |_| compare_board_versions(),
    );
    let daily = Resource::new(
        move || tick.get() / 5,
        |_| get_daily_shipments(String::new()),
    );
    // One result: whichever action answered last.
    let latest = RwSignal::new(None);
    follow_outcome(ops.rebuild, latest);
    follow_outcome(ops.retry, latest);
    follow_outcome(ops.cut_over, latest);
    follow_outcome(ops.retire, latest);
    let outcome = move || {
        latest
            .get()
            .map(|r| view! { <ActionOutcome outcome=r testid="action"/> })
    };
    view! {
        <leptos_meta::Title text="Projections · freightdesk"/>
        <h1>"Projections"</h1>
        {outcome}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let admin = me.await.ok().flatten().is_some_and(|u| u.allows(Role::Admin));
                // Awaited with the overview, so the rows draw their charts at once: the server's
                // HTML and the browser's first render agree (a chart awaiting its own data inside
                // a row fails to hydrate). Without samples the rows draw no charts.
                let samples = samples.await.unwrap_or_default();
                match overview.await {
                    Ok(o) => view! { <Overview o ops admin samples/> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                comparisons.await.ok().map(|list| {
                    list.into_iter().map(|c| view! { <Comparison c/> }).collect_view()
                })
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                daily.await.ok().map(|d| view! {
                    <section class="card">
                        <h2>"Shipments per day (UTC)"</h2>
                        <crate::components::ServedBy served_by=d.served_by/>
                        <ScrollBox label="Shipments per day">
                        <table data-testid="daily">
                            <thead><tr><th>"Day"</th><th>"Scheduled"</th><th>"Picked up"</th><th>"Delivered"</th><th>"Cancelled"</th></tr></thead>
                            <tbody>
                                {d.days.into_iter().map(|r| view! {
                                    <tr><td class="nowrap">{r.day}</td><td class="num">{r.scheduled}</td><td class="num">{r.picked_up}</td><td class="num">{r.delivered}</td><td class="num">{r.cancelled}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        </ScrollBox>
                    </section>
                })
            })}
        </Transition>
    }
}

#[component]
fn Overview(
    o: ProjectionsOverview,
    ops: Operations,
    admin: bool,
    samples: Vec<VersionSeries>,
) -> impl IntoView {
    let rows: Vec<(VersionStatus, VersionFacts, Option<VersionSeries>)> = o
        .versions
        .iter()
        .map(|v| {
            let series = samples.iter().find(|s| s.key == v.key).cloned();
            (v.clone(), o.facts(v), series)
        })
        .collect();
    let hold = match (&o.hold, o.long_hold()) {
        (None, _) => view! {
            <p class="muted" data-testid="hold-sqlite">
                "SQLite runs one writer at a time, so no open transaction can hold the projections back."
            </p>
        }
        .into_any(),
        (Some(_), Some(report)) => view! { <HeldBack report=report.clone()/> }.into_any(),
        (Some(_), None) => ().into_any(),
    };
    view! {
        {hold}
        <p class="muted" data-testid="log-status">
            {format!("{} events in the log on {} (head #{})", o.total_events, o.backend, o.head_seq)}
        </p>
        <ScrollBox label="Versions">
        <table data-testid="versions">
            <thead>
                <tr>
                    <th>"Version"</th><th>"State"</th><th>"Checkpoint / head"</th><th>"Lag"</th>
                    <th>"Rate"</th><th>"Node"</th><th>"Actions"</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|(v, facts, series)| view! { <VersionRow v facts series ops admin/> }).collect_view()}
            </tbody>
        </table>
        </ScrollBox>
        <section class="card">
            <h2>"Nodes"</h2>
            <ScrollBox label="Nodes">
            <table data-testid="nodes">
                <thead><tr><th>"Node"</th><th>"Runs"</th><th>"Started"</th><th>"Last heartbeat"</th></tr></thead>
                <tbody>
                    {o.nodes.into_iter().map(|n| {
                        let alive = n.alive();
                        view! {
                            <tr>
                                <td class="nowrap">{n.name.clone()}</td>
                                <td class="text">{n.capabilities.clone()}</td>
                                <td><ZonedTime at=n.started_at/></td>
                                <td class="nowrap">{format!("{:.0}s ago{}", n.heartbeat_age_seconds, if alive { "" } else { " (gone)" })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </ScrollBox>
        </section>
        <section class="card">
            <h2>"Audit trail"</h2>
            <ScrollBox label="Audit trail">
            <table data-testid="audit">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Version"</th><th>"Detail"</th></tr></thead>
                <tbody>
                    {o.audit.into_iter().map(|a| view! {
                        <tr><td><ZonedTime at=a.at/></td><td>{a.actor}</td><td class="nowrap">{a.action.as_str()}</td><td class="nowrap">{a.projection}</td><td class="detail">{a.detail}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            </ScrollBox>
        </section>
    }
}

#[component]
fn VersionRow(
    v: VersionStatus,
    facts: VersionFacts,
    series: Option<VersionSeries>,
    ops: Operations,
    admin: bool,
) -> impl IntoView {
    let key = v.key.clone();
    let state = v.state_phrase();
    let lag = v.lag_phrase();
    // A retired version is not maintained: no rate, no node, no charts.
    let retired = v.is_retired();
    let series = series.filter(|_| !retired);
    // Exactly the actions the lifecycle allows, for admins; the server checks both again.
    let actions = allowed_actions(&facts)
        .into_iter()
        .filter(|_| admin)
        .map(|action| action_button(action, &facts, ops))
        .collect_view();
    view! {
        <tr data-version=key.clone()>
            <td class="text"><a class="nowrap" href=format!("/projections/{}", v.name)><strong>{key.clone()}</strong></a><br/><span class="muted">{v.description.clone()}</span>
                {series.map(|series| view! { <VersionCharts series/> })}</td>
            <td class="nowrap" data-testid="state">{state}</td>
            <td class="num">{(!retired).then(|| view! {
                {format!("#{} / #{}", v.checkpoint_seq, v.head_seq)}<br/>
                <span class="muted">{format!("{} applied", v.events_applied)}</span>
            })}</td>
            <td class="nowrap" data-testid="lag">{lag}</td>
            <td class="num">{(!retired).then(|| format!("{:.1} ev/s", v.events_per_sec))}</td>
            <td class="nowrap">{(!retired).then(|| v.owner_node.clone().unwrap_or_else(|| "—".into()))}</td>
            <td>
                {v.rebuild.clone().map(|r| view! {
                    <div data-testid="rebuild-progress">
                        <div class="progress"><span style=format!("width: {:.1}%", r.percent())></span></div>
                        {format!(
                            "{} of {} events · {:.0} ev/s{}",
                            r.done, r.total, r.events_per_sec,
                            r.eta_seconds.map(|s| format!(" · ETA {}", human_duration(s.ceil() as i64))).unwrap_or_default()
                        )}
                    </div>
                })}
                {v.error.clone().map(|e| view! {
                    <p class="error" data-testid="version-error">
                        {e}{v.error_event.clone().map(|ev| format!(" — at event {ev}"))}
                    </p>
                })}
                <div class="form-row">{actions}</div>
            </td>
        </tr>
    }
}

/// One operator action's form: a button that posts the version's key.
fn action_button(action: OperatorAction, facts: &VersionFacts, ops: Operations) -> AnyView {
    let key = facts.key.clone();
    let label = action_label(action, facts);
    let busy = move || ops.pending();
    let fields = view! {
        <input type="hidden" name="key" value=key/>
    };
    match action {
        // Dangerous actions open a confirmation that says what will happen (works without
        // JavaScript too).
        OperatorAction::CutOver => {
            let what = if facts.older_than_live {
                format!("Readers go back to {} at once; the live version stays on standby.", facts.key)
            } else {
                format!("Readers switch to {} at once; the live version stays on standby for a rollback.", facts.key)
            };
            view! {
                <Confirm summary=format!("{label}…")>
                    <p>{what}</p>
                    <ActionForm action=ops.cut_over>{fields}<Button disabled=busy>{format!("Confirm: {}", label.to_lowercase())}</Button></ActionForm>
                </Confirm>
            }
            .into_any()
        }
        // Rebuilding the live version reads the whole log again: confirmed, saying that
        // readers are not affected.
        OperatorAction::Rebuild if facts.state == VersionState::Live => {
            let what = format!(
                "A fresh table fills from the first event beside the current one; {} keeps serving readers from its current table until the new one has caught up, then they are swapped.",
                facts.key
            );
            view! {
                <Confirm summary=format!("{label} (live)…") weight=Weight::Secondary testid="rebuild-live">
                    <p>{what}</p>
                    <ActionForm action=ops.rebuild>{fields}<Button weight=Weight::Secondary disabled=busy>"Confirm: rebuild"</Button></ActionForm>
                </Confirm>
            }
            .into_any()
        }
        OperatorAction::Rebuild => view! {
            <ActionForm action=ops.rebuild>{fields}<Button weight=Weight::Secondary disabled=busy>{label}</Button></ActionForm>
        }
        .into_any(),
        OperatorAction::Retry => view! {
            <ActionForm action=ops.retry>{fields}<Button disabled=busy>{label}</Button></ActionForm>
        }
        .into_any(),
        OperatorAction::Retire => {
            let what = format!(
                "{} is no longer kept current and its table is dropped; a rebuild brings it back.",
                facts.key
            );
            view! {
                <Confirm summary=format!("{label}…") weight=Weight::Danger>
                    <p>{what}</p>
                    <ActionForm action=ops.retire>{fields}<Button weight=Weight::Danger disabled=busy>"Confirm: retire"</Button></ActionForm>
                </Confirm>
            }
            .into_any()
        }
        // Skipping needs a typed reason: it is done on the projection's own page.
        OperatorAction::Skip => {
            let name = facts.key.split('@').next().unwrap_or_default().to_string();
            view! { <ActionLink href=format!("/projections/{name}") weight=Weight::Secondary>{format!("{label}…")}</ActionLink> }.into_any()
        }
    }
}

/// The banner shown while something slows the live path: a slow append or projection batch,
/// or a session whose lock freightdesk waits for.
#[component]
fn HeldBack(report: HoldReport) -> impl IntoView {
    let seconds = report.held_for_seconds();
    let holder = report.blocking_holder().cloned();
    view! {
        <section class="conflict" data-testid="held-back" role="alert">
            <h2>{format!("The live path is slowed ({})", human_duration(seconds as i64))}</h2>
            {holder.map(|h| view! {
                <p data-testid="holder">
                    {format!(
                        "Session {} · {} · user {} · application {} · from {} · open {}",
                        h.pid,
                        h.state.clone().unwrap_or_else(|| "state unknown".into()),
                        h.user.clone().unwrap_or_else(|| "unknown".into()),
                        h.application_name.clone().filter(|a| !a.is_empty()).unwrap_or_else(|| "unnamed".into()),
                        h.client_addr.clone().unwrap_or_else(|| "a local socket".into()),
                        human_duration(h.transaction_age_seconds as i64),
                    )}
                </p>
                {h.query.clone().map(|q| view! { <pre data-testid="holder-query">{q}</pre> })}
            })}
            <p>{explain(&report)}</p>
        </section>
    }
}

/// What changes for readers if the candidate goes live.
#[component]
fn Comparison(c: BoardComparison) -> impl IntoView {
    let verdict = if c.identical {
        "Identical in every compared column.".to_string()
    } else {
        format!(
            "{} {}; {} only in {}, {} only in {}.",
            count(c.differing, "row", "rows"),
            if c.differing == 1 {
                "differs"
            } else {
                "differ"
            },
            c.only_live,
            c.live,
            c.only_candidate,
            c.candidate
        )
    };
    let only = |label: String, samples: Vec<String>| {
        (!samples.is_empty())
            .then(|| view! { <p class="muted">{format!("{label}: {}", samples.join(", "))}</p> })
    };
    view! {
        <section class="card" data-testid="comparison" data-candidate=c.candidate.clone()>
            <h2>{format!("{} compared with live {}", c.candidate, c.live)}</h2>
            <p>
                {format!("Rows: {} live, {} candidate. ", c.live_rows, c.candidate_rows)}
                <strong data-testid="verdict">{verdict}</strong>
            </p>
            <p class="muted">"Compared on status, places, times and stream version: the columns both versions have."</p>
            {only(format!("Only in {}", c.live), c.only_live_samples)}
            {only(format!("Only in {}", c.candidate), c.only_candidate_samples)}
            {(!c.samples.is_empty()).then(|| {
                let (live, candidate, samples) = (c.live.clone(), c.candidate.clone(), c.samples);
                view! {
                <ScrollBox label="Sample differences">
                <table>
                    <thead><tr><th>"Shipment"</th><th>"Column"</th><th>{live}</th><th>{candidate}</th></tr></thead>
                    <tbody>
                        {samples.into_iter().map(|d| view! {
                            <tr>
                                <td class="nowrap">{d.shipment_id}</td>
                                <td class="nowrap">{d.field}</td>
                                <td class="text">{d.live.unwrap_or_else(|| "—".into())}</td>
                                <td class="text">{d.candidate.unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </ScrollBox>
                }
            })}
        </section>
    }
}

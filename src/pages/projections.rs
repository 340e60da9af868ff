//! The operator console for projections: every version with its state, checkpoint against the
//! head of the log, lag, rate, rebuild progress, failures and owning node; the nodes; the audit
//! trail; and the daily counts read model.

use crate::api::projections::{
    compare_board_versions, get_daily_shipments, get_projections_overview, BoardComparison,
    CutOverProjection, ProjectionsOverview, RebuildProjection, RetireProjection, RetryProjection,
    VersionStatus,
};
use crate::components::{human_duration, LocalTime};
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
    let ops = Operations {
        rebuild: ServerAction::new(),
        retry: ServerAction::new(),
        cut_over: ServerAction::new(),
        retire: ServerAction::new(),
    };
    let tick = RwSignal::new(0u32);
    refresh_every_two_seconds(tick);
    let overview = Resource::new(
        move || (tick.get(), ops.versions()),
        |_| get_projections_overview(),
    );
    let comparisons = Resource::new(
        move || (tick.get() / 5, ops.versions()),
        |_| compare_board_versions(),
    );
    let daily = Resource::new(move || tick.get() / 5, |_| get_daily_shipments());
    let outcome = move || {
        [
            ops.rebuild.value().get(),
            ops.retry.value().get(),
            ops.cut_over.value().get(),
            ops.retire.value().get(),
        ]
        .into_iter()
        .flatten()
        .map(|r| match r {
            Ok(message) => {
                view! { <p class="success" data-testid="action-ok">{message}</p> }.into_any()
            }
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })
        .collect_view()
    };
    view! {
        <h1>"Projections"</h1>
        {outcome}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! { <Overview o ops/> }.into_any(),
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
                        <p class="served-by">{format!("Served by {}", d.served_by)}</p>
                        <table data-testid="daily">
                            <thead><tr><th>"Day"</th><th>"Scheduled"</th><th>"Picked up"</th><th>"Delivered"</th><th>"Cancelled"</th></tr></thead>
                            <tbody>
                                {d.days.into_iter().map(|r| view! {
                                    <tr><td>{r.day}</td><td>{r.scheduled}</td><td>{r.picked_up}</td><td>{r.delivered}</td><td>{r.cancelled}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                })
            })}
        </Transition>
    }
}

#[component]
fn Overview(o: ProjectionsOverview, ops: Operations) -> impl IntoView {
    let live: Vec<(String, i64)> = o
        .versions
        .iter()
        .filter(|v| v.state == "live")
        .map(|v| (v.name.clone(), v.version))
        .collect();
    view! {
        <p class="muted" data-testid="log-status">
            {format!("{} events in the log on {} (head #{})", o.total_events, o.backend, o.head_seq)}
        </p>
        <table data-testid="versions">
            <thead>
                <tr>
                    <th>"Version"</th><th>"State"</th><th>"Checkpoint / head"</th><th>"Lag"</th>
                    <th>"Rate"</th><th>"Node"</th><th>"Actions"</th>
                </tr>
            </thead>
            <tbody>
                {o.versions.into_iter().map(|v| {
                    let live_version = live.iter().find(|(n, _)| *n == v.name).map(|(_, l)| *l);
                    view! { <VersionRow v live_version ops/> }
                }).collect_view()}
            </tbody>
        </table>
        <section class="card">
            <h2>"Nodes"</h2>
            <table data-testid="nodes">
                <thead><tr><th>"Node"</th><th>"Runs"</th><th>"Started"</th><th>"Last heartbeat"</th></tr></thead>
                <tbody>
                    {o.nodes.into_iter().map(|n| {
                        let alive = n.alive();
                        view! {
                            <tr>
                                <td>{n.name.clone()}</td>
                                <td>{n.capabilities.clone()}</td>
                                <td><LocalTime at=n.started_at/></td>
                                <td>{format!("{:.0}s ago{}", n.heartbeat_age_seconds, if alive { "" } else { " (gone)" })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section class="card">
            <h2>"Audit trail"</h2>
            <table data-testid="audit">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Version"</th><th>"Detail"</th></tr></thead>
                <tbody>
                    {o.audit.into_iter().map(|a| view! {
                        <tr><td><LocalTime at=a.at/></td><td>{a.actor}</td><td>{a.action}</td><td>{a.projection}</td><td>{a.detail}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn VersionRow(v: VersionStatus, live_version: Option<i64>, ops: Operations) -> impl IntoView {
    let key = v.key.clone();
    let failed = v.error.is_some();
    let state = if failed {
        format!("failed ({})", v.state)
    } else {
        v.state.clone()
    };
    let lag = if v.lag_events == 0 {
        "caught up".to_string()
    } else {
        format!(
            "{} events · {}",
            v.lag_events,
            human_duration(v.lag_seconds as i64)
        )
    };
    let busy = move || ops.pending();
    let retry_key = key.clone();
    let rebuild_key = key.clone();
    let cut_over_key = key.clone();
    let retire_key = key.clone();
    let can_cut_over = v.state == "standby" && !failed && v.rebuild.is_none();
    let cut_over_label = if live_version.is_some_and(|l| l > v.version) {
        "Roll back to this version"
    } else {
        "Cut over"
    };
    let can_retire = v.state == "standby" || v.state == "building";
    view! {
        <tr data-version=key.clone()>
            <td><strong>{key.clone()}</strong><br/><span class="muted">{v.description.clone()}</span></td>
            <td data-testid="state">{state}</td>
            <td>{format!("#{} / #{}", v.checkpoint_seq, v.head_seq)}<br/>
                <span class="muted">{format!("{} applied", v.events_applied)}</span></td>
            <td data-testid="lag">{lag}</td>
            <td>{format!("{:.1} ev/s", v.events_per_sec)}</td>
            <td>{v.owner_node.clone().unwrap_or_else(|| "—".into())}</td>
            <td>
                {v.rebuild.clone().map(|r| view! {
                    <div data-testid="rebuild-progress">
                        <div class="progress"><span style=format!("width: {:.1}%", r.percent())></span></div>
                        {format!(
                            "Rebuilding: {} of {} events · {:.0} ev/s{}",
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
                <div class="form-row">
                    {can_cut_over.then(|| view! {
                        <ActionForm action=ops.cut_over>
                            <input type="hidden" name="key" value=cut_over_key/>
                            <button type="submit" disabled=busy>{cut_over_label}</button>
                        </ActionForm>
                    })}
                    <ActionForm action=ops.rebuild>
                        <input type="hidden" name="key" value=rebuild_key/>
                        <button type="submit" class="secondary" disabled=busy>"Rebuild"</button>
                    </ActionForm>
                    {failed.then(|| view! {
                        <ActionForm action=ops.retry>
                            <input type="hidden" name="key" value=retry_key/>
                            <button type="submit" disabled=busy>"Retry"</button>
                        </ActionForm>
                    })}
                    {can_retire.then(|| view! {
                        <ActionForm action=ops.retire>
                            <input type="hidden" name="key" value=retire_key/>
                            <button type="submit" class="danger" disabled=busy>"Retire"</button>
                        </ActionForm>
                    })}
                </div>
            </td>
        </tr>
    }
}

/// What changes for readers if the candidate goes live.
#[component]
fn Comparison(c: BoardComparison) -> impl IntoView {
    let verdict = if c.identical {
        "Identical in every compared column.".to_string()
    } else {
        format!(
            "{} rows differ; {} only in {}, {} only in {}.",
            c.differing, c.only_live, c.live, c.only_candidate, c.candidate
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
            {(!c.samples.is_empty()).then(|| view! {
                <table>
                    <thead><tr><th>"Shipment"</th><th>"Column"</th><th>{c.live.clone()}</th><th>{c.candidate.clone()}</th></tr></thead>
                    <tbody>
                        {c.samples.into_iter().map(|d| view! {
                            <tr>
                                <td>{d.shipment_id}</td>
                                <td>{d.field}</td>
                                <td>{d.live.unwrap_or_else(|| "—".into())}</td>
                                <td>{d.candidate.unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

/// Keeps the page current while it is open in a browser.
#[cfg(feature = "hydrate")]
fn refresh_every_two_seconds(tick: RwSignal<u32>) {
    if let Ok(handle) = set_interval_with_handle(
        move || tick.update(|n| *n = n.wrapping_add(1)),
        std::time::Duration::from_secs(2),
    ) {
        on_cleanup(move || handle.clear());
    }
}

#[cfg(not(feature = "hydrate"))]
fn refresh_every_two_seconds(_tick: RwSignal<u32>) {}

//! The operator console for projections: every version with its state, checkpoint against the
//! head of the log, lag, rate, rebuild progress, failures and owning node; the nodes; the audit
//! trail; and the daily counts read model.

use crate::api::projections::{
    get_daily_shipments, get_projections_overview, ProjectionsOverview, RebuildProjection,
    RetryProjection, VersionStatus,
};
use crate::components::{human_duration, LocalTime};
use leptos::prelude::*;

#[component]
pub fn ProjectionsPage() -> impl IntoView {
    let rebuild = ServerAction::<RebuildProjection>::new();
    let retry = ServerAction::<RetryProjection>::new();
    let tick = RwSignal::new(0u32);
    refresh_every_two_seconds(tick);
    let overview = Resource::new(
        move || (tick.get(), rebuild.version().get(), retry.version().get()),
        |_| get_projections_overview(),
    );
    let daily = Resource::new(move || tick.get() / 5, |_| get_daily_shipments());
    let outcome = move || {
        [rebuild.value().get(), retry.value().get()]
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
                    Ok(o) => view! { <Overview o rebuild retry/> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
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
fn Overview(
    o: ProjectionsOverview,
    rebuild: ServerAction<RebuildProjection>,
    retry: ServerAction<RetryProjection>,
) -> impl IntoView {
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
                {o.versions.into_iter().map(|v| view! { <VersionRow v rebuild retry/> }).collect_view()}
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
fn VersionRow(
    v: VersionStatus,
    rebuild: ServerAction<RebuildProjection>,
    retry: ServerAction<RetryProjection>,
) -> impl IntoView {
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
    let busy = move || rebuild.pending().get() || retry.pending().get();
    let retry_key = key.clone();
    let rebuild_key = key.clone();
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
                    <ActionForm action=rebuild>
                        <input type="hidden" name="key" value=rebuild_key/>
                        <button type="submit" class="secondary" disabled=busy>"Rebuild"</button>
                    </ActionForm>
                    {failed.then(|| view! {
                        <ActionForm action=retry>
                            <input type="hidden" name="key" value=retry_key/>
                            <button type="submit" disabled=busy>"Retry"</button>
                        </ActionForm>
                    })}
                </div>
            </td>
        </tr>
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

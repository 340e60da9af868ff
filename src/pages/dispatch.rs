use crate::api::projections::{get_daily_shipments, DAILY_DAYS};
use crate::api::shipments::{list_shipments, BoardView, ScheduleShipment};
use crate::components::charts::DailyChart;
use crate::components::{
    field_described, field_invalid, last_error, use_clock, FieldNote, MaybeTime, ScrollBox,
    StatusBadge, ZonedTime,
};
use crate::components::{ActionLink, Button, Weight};
use crate::domain::ShipmentStatus;
use crate::format::human_duration;
use crate::projections::sort::{BoardSort, SortColumn};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// The dispatch board: the live `shipment_board` projection, filtered, searched and paged, with
/// the form that schedules a new shipment.
#[component]
pub fn DispatchPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (
            q.get("status").unwrap_or_default(),
            q.get("q").unwrap_or_default(),
            q.get("page").unwrap_or_default(),
            q.get("after").unwrap_or_default(),
            q.get("before").unwrap_or_default(),
            q.get("sort").unwrap_or_default(),
        )
    };
    let schedule = ServerAction::<ScheduleShipment>::new();
    // Appends anywhere (heard over the live feed) read the same page again, waiting until the
    // board reflects the position the feed reported.
    let heard = RwSignal::new((0u32, None::<i64>));
    crate::components::live::follow_feed(
        || "/live/board".to_string(),
        move |position| {
            heard.update(|(n, p)| {
                *n = n.wrapping_add(1);
                *p = position;
            })
        },
    );
    let board = Resource::new(
        move || (params(), schedule.version().get(), heard.get()),
        |((status, search, page, after, before, sort), _, (_, position))| {
            // The `fd_seen` cookie makes the board wait for this user's latest command.
            let wait_for = position.map(|p| p.to_string()).unwrap_or_default();
            list_shipments(status, search, page, after, before, wait_for, sort)
        },
    );
    // Filters apply as soon as they change (the Filter button is for pages without JavaScript).
    let search_input = NodeRef::<leptos::html::Input>::new();
    let apply_filters = {
        let navigate = use_navigate();
        move |status: String| {
            let search = search_input
                .get_untracked()
                .map(|i| i.value())
                .unwrap_or_default();
            navigate(
                &board_link(&status, &search, &params().5),
                Default::default(),
            );
        }
    };
    let on_status = {
        let apply = apply_filters.clone();
        move |ev: leptos::ev::Event| apply(event_target_value(&ev))
    };
    let on_search = {
        let apply = apply_filters.clone();
        move |_: leptos::ev::Event| apply(params().0)
    };
    let on_filter_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        apply_filters(params().0);
    };
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(outcome)) = schedule.value().get() {
            navigate(
                &format!("/shipments/{}", outcome.shipment_id),
                Default::default(),
            );
        }
    });
    let error = last_error(schedule);
    crate::components::focus_outcome(schedule);
    let zone = use_clock().zone;
    // Without JavaScript a refused form comes back as a new page: put back what was typed.
    let typed = {
        let returned = schedule.value().get_untracked();
        move |field: &str| {
            returned
                .as_ref()
                .and_then(|r| r.as_ref().err())
                .and_then(|e| e.attempted(field))
                .unwrap_or_default()
                .to_string()
        }
    };

    view! {
        <leptos_meta::Title text="Dispatch · freightdesk"/>
        <h1>"Dispatch"</h1>
        <section class="card">
            <h2>"Schedule shipment"</h2>
            <ActionForm action=schedule attr:class="form-grid" attr:data-testid="schedule-form">
                <label>
                    "Origin"
                    <input name="origin" aria-invalid=field_invalid(error, "origin") aria-describedby=field_described(error, "origin") maxlength="120" autocomplete="off" value=typed("origin")/>
                    <FieldNote error field="origin"/>
                </label>
                <label>
                    "Destination"
                    <input name="destination" aria-invalid=field_invalid(error, "destination") aria-describedby=field_described(error, "destination") maxlength="120" autocomplete="off" value=typed("destination")/>
                    <FieldNote error field="destination"/>
                </label>
                <label>
                    {move || format!("Planned pickup ({})", zone.get().name())}
                    <input name="pickup_at" aria-invalid=field_invalid(error, "pickup_at") aria-describedby=field_described(error, "pickup_at") type="datetime-local" value=typed("pickup_at")/>
                    <FieldNote error field="pickup_at"/>
                </label>
                // The form takes its time in the zone it names, the one the page shows.
                <input type="hidden" name="zone" value=move || zone.get().name()/>
                // A pickup in the past or far ahead is questioned once (see `unusual_pickup`).
                <input type="hidden" name="pickup_check" value="1"/>
                {move || error.get().and_then(|e| e.field_message("pickup_confirmed")).map(|_| view! {
                    <label class="inline confirm-date">
                        <input type="checkbox" name="pickup_confirmed" value="yes" aria-describedby="pickup_confirmed-error"/>
                        "This date is right"
                        <FieldNote error field="pickup_confirmed"/>
                    </label>
                })}
                <Button disabled=move || schedule.pending().get()>"Schedule"</Button>
            </ActionForm>
            {move || {
                error
                    .get()
                    .filter(|e| !matches!(e, crate::error::AppError::Validation { .. }))
                    .map(|e| view! { <p class="error" role="alert" data-outcome="" tabindex="-1">{e.to_string()}</p> })
            }}
        </section>
        <form method="get" action="/" class="form-row" data-testid="board-filter" on:submit=on_filter_submit>
            <input type="hidden" name="sort" value=move || params().5/>
            <label>
                "Status"
                <select name="status" prop:value=move || params().0 on:change=on_status>
                    <option value="">"All"</option>
                    {ShipmentStatus::ALL
                        .into_iter()
                        .map(|s| {
                            let selected = move || params().0 == s.as_str();
                            view! { <option value=s.as_str() selected=selected>{s.label()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Search"
                <input
                    name="q"
                    type="search"
                    placeholder="origin, destination or id"
                    value=move || params().1
                    prop:value=move || params().1
                    node_ref=search_input
                    on:change=on_search
                />
            </label>
            <Button weight=Weight::Secondary>"Filter"</Button>
            {move || {
                let (status, search, .., sort) = params();
                (!status.is_empty() || !search.is_empty()).then(|| view! {
                    <ActionLink href=board_link("", "", &sort) weight=Weight::Secondary testid="clear-filters">"Clear filters"</ActionLink>
                })
            }}
        </form>
        <Transition fallback=|| view! { <p>"Loading the board…"</p> }>
            {move || Suspend::new(async move {
                match board.await {
                    Ok(view) => view! { <Board view/> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <DailyCounts/>
    }
}

/// The daily counts of the last `DAILY_DAYS` days, read once when the board opens, as a chart.
#[component]
fn DailyCounts() -> impl IntoView {
    let daily = Resource::new(|| (), |_| get_daily_shipments(String::new()));
    view! {
        <section class="card" data-testid="daily-chart">
            <h2>{format!("Shipments per day, last {DAILY_DAYS} days (UTC)")}</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading the daily counts…"</p> }>
                {move || Suspend::new(async move {
                    match daily.await {
                        Ok(d) => {
                            // The server sends the newest day first; time runs left to right.
                            let mut days = d.days;
                            days.reverse();
                            view! {
                                <DailyChart days/>
                                <crate::components::ServedBy served_by=d.served_by class="muted"/>
                            }
                            .into_any()
                        }
                        Err(e) => view! {
                            <p class="muted">{format!("The daily counts are not available: {e}")}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The filters and order a board link keeps.
struct Shown<'a> {
    status: &'a str,
    search: &'a str,
    sort: &'a str,
}

/// A link to a page of the board; `cursor` is `("after" | "before", position)`.
fn page_link(shown: &Shown, page: i64, cursor: Option<(&str, &str)>) -> String {
    let mut link = format!("/?page={page}");
    if let Some((direction, position)) = cursor {
        link.push_str(&format!(
            "&{direction}={}",
            crate::web::encode_component(position)
        ));
    }
    if !shown.status.is_empty() {
        link.push_str(&format!(
            "&status={}",
            crate::web::encode_component(shown.status)
        ));
    }
    if !shown.search.is_empty() {
        link.push_str(&format!(
            "&q={}",
            crate::web::encode_component(shown.search)
        ));
    }
    if !shown.sort.is_empty() {
        link.push_str(&format!(
            "&sort={}",
            crate::web::encode_component(shown.sort)
        ));
    }
    link
}

/// The first page of the board with these filters and this order.
fn board_link(status: &str, search: &str, sort: &str) -> String {
    page_link(
        &Shown {
            status,
            search,
            sort,
        },
        1,
        None,
    )
}

#[component]
fn Board(view: BoardView) -> impl IntoView {
    let query = use_query_map();
    let status = query.read_untracked().get("status").unwrap_or_default();
    let search = query.read_untracked().get("q").unwrap_or_default();
    let sort_param = query.read_untracked().get("sort").unwrap_or_default();
    let sort = BoardSort::parse(&sort_param).unwrap_or_default();
    let shown = Shown {
        status: &status,
        search: &search,
        sort: &sort_param,
    };
    // A column header sorts by its column; a second click turns the order around.
    let header = |column: SortColumn, label: &'static str| {
        let active = sort.column == column;
        let next = BoardSort {
            column,
            descending: if active {
                !sort.descending
            } else {
                column == SortColumn::PlannedPickup
            },
        };
        let aria = match (active, sort.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        };
        let arrow = match (active, sort.descending) {
            (false, _) => "",
            (true, true) => " ↓",
            (true, false) => " ↑",
        };
        let href = board_link(&status, &search, &next.as_param());
        view! {
            <th aria-sort=aria data-sort=column.as_str()>
                <a href=href>{label}{arrow}</a>
            </th>
        }
    };
    let sortable = [
        header(SortColumn::Status, "Status"),
        header(SortColumn::Origin, "Origin"),
        header(SortColumn::Destination, "Destination"),
        header(SortColumn::PlannedPickup, "Planned pickup"),
    ];
    let pages = view.pages();
    // Next/Previous continue from the row next to them; page 1 is simply the start.
    let prev = view.prev_cursor.as_deref().map(|c| {
        let cursor = (view.page > 2).then_some(("before", c));
        page_link(&shown, (view.page - 1).max(1), cursor)
    });
    let next = view
        .next_cursor
        .as_deref()
        .map(|c| page_link(&shown, view.page + 1, Some(("after", c))));
    let with_locations = view.with_locations;
    let empty = view.entries.is_empty();
    let filtered = !status.is_empty() || !search.is_empty();
    let catching_up = view.catching_up.then(|| {
        view! {
            <p class="notice" role="status" data-testid="catching-up">
                "Catching up: your latest change may take a moment to appear"
            </p>
        }
    });
    view! {
        {catching_up}
        <crate::components::ServedBy
            served_by=view.served_by
            detail=format!("{} shipment{}", view.total, if view.total == 1 { "" } else { "s" })
            testid="served-by"
        />
        <ScrollBox label="Shipments">
        <table class="cards" data-testid="board">
            <thead>
                <tr>
                    <th>"Shipment"</th>
                    {sortable}
                    <th>"Picked up"</th>
                    <th>"Delivered"</th>
                    {with_locations.then(|| view! { <th>"Last location"</th><th>"In transit"</th> })}
                    <th>"Version"</th>
                </tr>
            </thead>
            <tbody>
                {view
                    .entries
                    .into_iter()
                    .map(|e| {
                        let id = e.shipment.id.to_string();
                        let short = id[..8].to_string();
                        // Read aloud as the shipment it is, not as a bare hex id.
                        let name = format!(
                            "Shipment {short}: {} to {}, {}",
                            e.shipment.origin,
                            e.shipment.destination,
                            e.shipment.status.label()
                        );
                        view! {
                            <tr data-shipment=id.clone()>
                                <td class="card-title nowrap" data-label="Shipment"><a href=format!("/shipments/{id}") aria-label=name>{short}</a></td>
                                <td data-label="Status"><StatusBadge status=e.shipment.status/></td>
                                <td class="text" data-label="Origin">{e.shipment.origin}</td>
                                <td class="text" data-label="Destination">{e.shipment.destination}</td>
                                <td data-label="Planned pickup"><ZonedTime at=e.shipment.scheduled_at/></td>
                                <td data-label="Picked up"><MaybeTime at=e.shipment.picked_up_at/></td>
                                <td data-label="Delivered"><MaybeTime at=e.shipment.delivered_at/></td>
                                {with_locations.then(|| view! {
                                    <td class="text" data-label="Last location">{e.shipment.last_location.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td class="num" data-label="In transit">{e.transit_seconds.map(human_duration).unwrap_or_else(|| "—".into())}</td>
                                })}
                                <td class="num" data-label="Version">{e.version}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        </ScrollBox>
        {empty.then(|| if filtered {
            view! { <p class="muted" data-testid="board-empty">"No shipments match."</p> }.into_any()
        } else {
            view! { <FirstRun/> }.into_any()
        })}
        <nav class="pager" aria-label="pages">
            {prev.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
            <span data-testid="page-info">{format!("Page {} of {pages}", view.page)}</span>
            {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
        </nav>
    }
}

/// An empty board, unfiltered: how to get the first shipments onto it.
#[component]
fn FirstRun() -> impl IntoView {
    view! {
        <section class="card" data-testid="board-empty">
            <h2>"No shipments yet"</h2>
            <p>
                "Schedule the first one with the form above: origin, destination and the planned pickup. "
                "It appears here as soon as it is saved."
            </p>
            <p>
                "Or load demo data: in the project folder, with the server running or not, run "
                <code>"target/server/debug/freightdesk seed --shipments 1000"</code>
                " (the README's " <code>"freightdesk seed"</code>
                "; add " <code>"--database-url"</code> " for another database)."
            </p>
        </section>
    }
}

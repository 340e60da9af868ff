//! `/events`: the event explorer over the whole log, newest first, filtered by event type,
//! actor, shipment and time (in the reader's zone), a page at a time; each row links to its
//! shipment. The filters are a plain GET form, so they live in the URL and work without
//! JavaScript.

use crate::api::events::{list_events, LogView};
use crate::components::{use_clock, ZonedTime};
use crate::components::{ActionLink, Button, Weight};
use crate::domain::ShipmentEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

const FILTERS: [&str; 6] = ["event_type", "actor", "stream", "from", "to", "zone"];

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |name: &str| query.read().get(name).unwrap_or_default();
    let log = Resource::new(
        move || (FILTERS.map(get), get("before"), get("after")),
        |([event_type, actor, stream, from, to, zone], before, after)| {
            list_events(event_type, actor, stream, from, to, zone, before, after)
        },
    );
    let zone = use_clock().zone;
    view! {
        <leptos_meta::Title text="Event log · freightdesk"/>
        <h1>"Event log"</h1>
        <p class="muted">"Every event of every shipment, newest first."</p>
        <form method="get" action="/events" class="form-row" data-testid="log-filter">
            <label>
                "Event type"
                <select name="event_type">
                    <option value="">"All"</option>
                    {ShipmentEvent::TYPES.into_iter().map(|t| {
                        view! { <option value=t selected=move || get("event_type") == t>{crate::domain::humanize_event_type(t)}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>"Actor"<input name="actor" autocomplete="off" value=move || get("actor")/></label>
            <label>"Shipment id"<input name="stream" autocomplete="off" value=move || get("stream")/></label>
            <label>
                {move || format!("From ({})", zone.get().name())}
                <input name="from" type="datetime-local" value=move || get("from")/>
            </label>
            <label>
                {move || format!("Until ({})", zone.get().name())}
                <input name="to" type="datetime-local" value=move || get("to")/>
            </label>
            <input type="hidden" name="zone" value=move || zone.get().name()/>
            <Button weight=Weight::Secondary>"Filter"</Button>
            <ActionLink href="/events" weight=Weight::Secondary>"Clear filters"</ActionLink>
        </form>
        <Transition fallback=|| view! { <p>"Loading the log…"</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Ok(view) => view! { <Log view/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert" data-testid="log-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A page link that keeps the filters.
fn log_link(filters: &[(&str, String)], cursor: (&str, i64)) -> String {
    with_filters(format!("/events?{}={}", cursor.0, cursor.1), filters)
}

/// The download of everything the filters pass (not just this page), as `format`.
fn download_link(filters: &[(&str, String)], format: &str) -> String {
    with_filters(format!("/events/download?format={format}"), filters)
}

/// `link` (which has a query already) with the non-empty filters added, percent-encoded.
fn with_filters(mut link: String, filters: &[(&str, String)]) -> String {
    for (name, value) in filters.iter().filter(|(_, v)| !v.is_empty()) {
        let encoded: String = value
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        link.push_str(&format!("&{name}={encoded}"));
    }
    link
}

#[component]
fn Log(view: LogView) -> impl IntoView {
    let query = use_query_map();
    let filters: Vec<(&str, String)> = FILTERS
        .iter()
        .map(|f| (*f, query.read_untracked().get(f).unwrap_or_default()))
        .collect();
    let newer = view.newer.map(|seq| log_link(&filters, ("after", seq)));
    let older = view.older.map(|seq| log_link(&filters, ("before", seq)));
    let empty = view.rows.is_empty();
    let zone = use_clock().zone;
    let (jsonl, csv) = (
        download_link(&filters, "jsonl"),
        download_link(&filters, "csv"),
    );
    view! {
        <p class="downloads" data-testid="log-download">
            "Download everything these filters pass: "
            // `download` and rel="external": a file, not a page for the router.
            <a href=jsonl download="" rel="external">"JSON Lines"</a>
            " (the format "<code>"freightdesk events import"</code>" reads) · "
            <a href=csv download="" rel="external">"CSV"</a>
            " (the columns below)"
        </p>
        <crate::components::ScrollBox label="Events">
            <table class="cards" data-testid="log">
                <thead>
                    <tr><th>"Position"</th><th>"Time"</th><th>"Event"</th><th>"Actor"</th><th>"Shipment"</th><th>"Summary"</th></tr>
                </thead>
                <tbody>
                    {view.rows.into_iter().map(|r| {
                        let short = r.shipment_id.chars().take(8).collect::<String>();
                        let label = format!("Shipment {short}, version {}", r.version);
                        let event = r.event;
                        view! {
                            <tr data-seq=r.seq>
                                <td class="num card-title" data-label="Position">{format!("#{}", r.seq)}</td>
                                <td data-label="Time"><ZonedTime at=r.recorded_at/></td>
                                <td class="nowrap" data-label="Event" title=r.event_type.clone()>{crate::domain::humanize_event_type(&r.event_type)}</td>
                                <td data-label="Actor">{r.actor}</td>
                                <td data-label="Shipment"><a href=format!("/shipments/{}", r.shipment_id)>{label}</a></td>
                                <td class="text" data-label="Summary">
                                    {move || event.as_ref().map(|e| e.summary_with(|t| zone.get().format(t, false)))}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </crate::components::ScrollBox>
        {empty.then(|| view! { <p class="muted" data-testid="log-empty">"No events match."</p> })}
        <nav class="pager" aria-label="pages">
            {newer.map(|href| view! { <a href=href rel="prev">"← Newer"</a> })}
            {older.map(|href| view! { <a href=href rel="next">"Older →"</a> })}
        </nav>
    }
}

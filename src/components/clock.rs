//! The reader's clock on the page: the zone times are shown in (from the `fd_clock` cookie,
//! which the server reads when it renders and the browser reads when it hydrates, so both
//! write the same text), the times themselves, and the header control that switches between
//! UTC and the browser's own zone.

use crate::zone::{relative, Zone};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// The zone of this page, and "now" for relative times (ticks in the browser).
#[derive(Clone, Copy)]
pub struct Clock {
    pub zone: RwSignal<Zone>,
    now: RwSignal<DateTime<Utc>>,
}

/// Called once by the shell.
pub fn provide_clock() {
    let clock = Clock {
        zone: RwSignal::new(zone_of_this_reader()),
        now: RwSignal::new(Utc::now()),
    };
    #[cfg(feature = "hydrate")]
    {
        let now = clock.now;
        // "3 min ago" stays true while the page is open.
        set_interval(
            move || now.set(Utc::now()),
            std::time::Duration::from_secs(30),
        );
    }
    provide_context(clock);
}

pub fn use_clock() -> Clock {
    use_context::<Clock>().unwrap_or_else(|| Clock {
        zone: RwSignal::new(Zone::Utc),
        now: RwSignal::new(Utc::now()),
    })
}

/// The server reads the request's cookie.
#[cfg(not(feature = "hydrate"))]
fn zone_of_this_reader() -> Zone {
    let cookies = use_context::<http::request::Parts>()
        .map(|parts| {
            parts
                .headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|h| h.to_str().ok())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    Zone::from_cookie_header(&cookies)
}

/// The browser reads the same cookie from the document.
#[cfg(feature = "hydrate")]
fn zone_of_this_reader() -> Zone {
    use wasm_bindgen::JsCast;
    document()
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()
        .and_then(|d| d.cookie().ok())
        .map(|c| Zone::from_cookie_header(&c))
        .unwrap_or_default()
}

/// The browser's own zone (`Europe/Amsterdam`), as `Intl` reports it.
#[cfg(feature = "hydrate")]
fn browser_zone() -> Zone {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &wasm_bindgen::JsValue::from_str("timeZone"))
        .ok()
        .and_then(|z| z.as_string())
        .and_then(|z| Zone::parse(&z))
        .unwrap_or_default()
}

/// Remembers the choice for a year, for every page of this site. Behind HTTPS (the page's own
/// protocol says so, also behind a proxy that ends TLS) the cookie is `Secure`.
#[cfg(feature = "hydrate")]
fn remember(zone: Zone) {
    use wasm_bindgen::JsCast;
    let https = window()
        .location()
        .protocol()
        .is_ok_and(|protocol| protocol == "https:");
    if let Ok(d) = document().dyn_into::<web_sys::HtmlDocument>() {
        let _ = d.set_cookie(&zone.cookie(https));
    }
}

/// The header control: show times in UTC or in the browser's zone.
#[component]
pub fn ClockChoice() -> impl IntoView {
    let clock = use_clock();
    let choose = move |local: bool| {
        #[cfg(feature = "hydrate")]
        {
            let zone = if local { browser_zone() } else { Zone::Utc };
            remember(zone);
            clock.zone.set(zone);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = local;
    };
    let is_utc = move || clock.zone.get() == Zone::Utc;
    view! {
        <div class="clock" role="group" aria-label="Show times in" data-testid="clock-choice">
            <button type="button" aria-pressed=move || is_utc().to_string() on:click=move |_| choose(false)>"UTC"</button>
            <button type="button" aria-pressed=move || (!is_utc()).to_string() title="Your browser's time zone" on:click=move |_| choose(true)>
                "Local"
            </button>
        </div>
    }
}

/// The exact instant: in the reader's zone and, when that is not UTC, in UTC too.
fn exact(zone: Zone, at: DateTime<Utc>) -> String {
    match zone {
        Zone::Utc => zone.format(at, true),
        _ => format!("{} ({})", zone.format(at, true), Zone::Utc.format(at, true)),
    }
}

fn machine_readable(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A time in the reader's zone, zone named (`2026-12-01 09:00 CET`), the exact instant on hover.
#[component]
pub fn ZonedTime(at: DateTime<Utc>) -> impl IntoView {
    let zone = use_clock().zone;
    view! {
        <time datetime=machine_readable(at) title=move || exact(zone.get(), at)>
            {move || zone.get().format(at, false)}
        </time>
    }
}

/// How long ago (`3 min ago`), the exact instant on hover.
#[component]
pub fn RelativeTime(at: DateTime<Utc>) -> impl IntoView {
    let clock = use_clock();
    view! {
        <time datetime=machine_readable(at) title=move || exact(clock.zone.get(), at)>
            {move || relative(at, clock.now.get())}
        </time>
    }
}

/// An optional time, or a dash.
#[component]
pub fn MaybeTime(at: Option<DateTime<Utc>>) -> impl IntoView {
    match at {
        Some(at) => view! { <ZonedTime at/> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

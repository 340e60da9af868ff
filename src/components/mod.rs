//! Small pieces shared by pages.

pub mod charts;

use crate::auth::CurrentUser;
use crate::domain::ShipmentStatus;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// The error of the last submission of an action, if any.
pub fn last_error<T>(action: ServerAction<T>) -> Signal<Option<AppError>>
where
    T: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    T::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// Who is signed in, as the shell read it once per page load.
pub type CurrentUserResource = Resource<Result<Option<CurrentUser>, AppError>>;

/// The signed-in user of this page (provided by the shell).
pub fn use_current_user() -> CurrentUserResource {
    use_context::<CurrentUserResource>()
        .unwrap_or_else(|| Resource::new(|| (), |_| crate::api::auth::who_am_i()))
}

/// Bumped whenever someone signs in or out on this page, so who-is-signed-in is asked again.
#[derive(Clone, Copy)]
pub struct SignedInChanges(pub RwSignal<u32>);

/// After `action` succeeds (a sign-in, set-up or sign-out), the header reads the user again.
pub fn on_sign_in_change<T>(action: ServerAction<T>)
where
    T: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    T::Output: Clone + Send + Sync + 'static,
{
    let Some(changes) = use_context::<SignedInChanges>() else {
        return;
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            changes.0.update(|n| *n += 1);
        }
    });
}

/// The message for one field of a form, under its input.
#[component]
pub fn FieldNote(
    #[prop(into)] error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|e| e.field_message(field))
            .map(|m| view! { <span class="field-error" data-field=field>{m}</span> })
    }
}

#[component]
pub fn StatusBadge(status: ShipmentStatus) -> impl IntoView {
    view! { <span class=format!("status status-{}", status.as_str()) data-status=status.as_str()>{status.label()}</span> }
}

/// A time in the reader's local time zone, with the UTC instant on hover. The server renders
/// UTC (it does not know the reader's zone); the browser switches to local time after hydration.
#[component]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let utc = at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let iso = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    let shown = {
        let utc = utc.clone();
        let iso = iso.clone();
        move || {
            if in_browser.get() {
                local_time_text(&iso).unwrap_or_else(|| utc.clone())
            } else {
                utc.clone()
            }
        }
    };
    view! { <time datetime=iso title=utc>{shown}</time> }
}

#[cfg(feature = "hydrate")]
fn local_time_text(iso: &str) -> Option<String> {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(iso));
    date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
}

#[cfg(not(feature = "hydrate"))]
fn local_time_text(_iso: &str) -> Option<String> {
    None
}

/// An optional time, or a dash.
#[component]
pub fn MaybeTime(at: Option<DateTime<Utc>>) -> impl IntoView {
    match at {
        Some(at) => view! { <LocalTime at/> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// "3h 12m" for a number of seconds; under a minute, the seconds.
pub fn human_duration(seconds: i64) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    match (d, h) {
        (0, 0) if m == 0 => format!("{}s", seconds.max(0)),
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_naturally() {
        assert_eq!(super::human_duration(59), "59s");
        assert_eq!(super::human_duration(61), "1m");
        assert_eq!(super::human_duration(3 * 3600 + 12 * 60), "3h 12m");
        assert_eq!(super::human_duration(2 * 86_400 + 3600), "2d 1h");
    }
}

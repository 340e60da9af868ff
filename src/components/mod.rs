//! Small pieces shared by pages.

mod action;
pub mod charts;
mod clock;
mod copy;
pub mod live;
mod refresh;
mod served_by;
mod shortcuts;

pub use action::{ActionLink, Button, Confirm, Weight};
pub use clock::{provide_clock, use_clock, ClockChoice, MaybeTime, RelativeTime, ZonedTime};
pub use copy::CopyButton;
pub use refresh::refresh_every;
pub use served_by::ServedBy;
pub use shortcuts::Shortcuts;

use crate::auth::CurrentUser;
use crate::domain::ShipmentStatus;
use crate::error::AppError;
use leptos::prelude::*;

/// Sets `latest` to each answer of `action`, so a page with several actions can show the answer
/// of whichever answered last.
pub fn follow_outcome<T>(
    action: ServerAction<T>,
    latest: RwSignal<Option<Result<String, AppError>>>,
) where
    T: leptos::server_fn::ServerFn<Output = String, Error = AppError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    Effect::new(move |_| {
        if let Some(outcome) = action.value().get() {
            latest.set(Some(outcome));
        }
    });
}

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

/// The message for one field of a form, under its input (`{field}-error`, which the input's
/// `aria-describedby` names while there is a message).
#[component]
pub fn FieldNote(
    #[prop(into)] error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.field_message(field)).map(|m| {
            view! { <span class="field-error" id=format!("{field}-error") data-field=field>{m}</span> }
        })
    }
}

/// `aria-invalid` of a field's input: `true` while the last submission refused it.
pub fn field_invalid(
    error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl Fn() -> Option<&'static str> + Copy + Send + Sync + 'static {
    move || {
        error
            .get()
            .and_then(|e| e.field_message(field))
            .map(|_| "true")
    }
}

/// `aria-describedby` of a field's input: its [`FieldNote`] while that says something.
pub fn field_described(
    error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
    move || {
        error
            .get()
            .and_then(|e| e.field_message(field))
            .map(|_| format!("{field}-error"))
    }
}

/// After each answer to `action`, keyboard focus moves to the first refused field or, failing
/// that, to the first message that reports an outcome (`data-outcome`), so nobody is left on
/// `<body>` wondering what happened.
pub fn focus_outcome<T>(action: ServerAction<T>)
where
    T: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    T::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move |previous: Option<usize>| {
        let answers = action.version().get();
        // Not on the first run: a page that opens is not an answer.
        if previous.is_some_and(|p| p != answers) {
            #[cfg(feature = "hydrate")]
            request_animation_frame(focus_first_outcome);
        }
        answers
    });
}

#[cfg(feature = "hydrate")]
fn focus_first_outcome() {
    use wasm_bindgen::JsCast;
    let found = document()
        .query_selector("[aria-invalid='true'], [data-outcome]")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(element) = found {
        let _ = element.focus();
    }
}

#[component]
pub fn StatusBadge(status: ShipmentStatus) -> impl IntoView {
    view! { <span class=format!("status status-{}", status.as_str()) data-status=status.as_str()>{status.label()}</span> }
}

/// A table's own scrolling box: a wide table scrolls inside it, never the page. It is a named
/// region that takes keyboard focus, so the keyboard can scroll it too.
#[component]
pub fn ScrollBox(#[prop(into)] label: String, children: Children) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label=label>
            {children()}
        </div>
    }
}

/// The result of one action, in the one region beside it: what was done, or why not. Field
/// errors stand beside their fields; for them this says only that the form was not saved.
#[component]
pub fn ActionOutcome(outcome: Result<String, AppError>, testid: &'static str) -> impl IntoView {
    match outcome {
        Ok(message) => view! {
            <p class="success" role="status" data-outcome="" tabindex="-1" data-testid=format!("{testid}-ok")>{message}</p>
        }
        .into_any(),
        Err(e) => view! {
            <p class="error" role="alert" data-outcome="" tabindex="-1" data-testid=format!("{testid}-error")>{e.headline()}</p>
        }
        .into_any(),
    }
}

//! Small pieces shared by pages.

use crate::error::AppError;
use leptos::prelude::*;

/// The error of the last submission of an action, if any.
pub fn last_error<T>(action: ServerAction<T>) -> Signal<Option<AppError>>
where
    T: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    T::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// Shows an error message, if there is one.
#[component]
pub fn ErrorNote(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    }
}

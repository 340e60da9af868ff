use leptos::prelude::*;

/// Shown for unknown paths (with a 404 status on the server-rendered response).
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <leptos_meta::Title text="Page not found · freightdesk"/>
        <NotFoundStatus/>
        <section class="not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <p><a href="/">"Back to the dispatch board"</a></p>
        </section>
    }
}

/// Makes the server-rendered response a 404; renders nothing.
#[component]
pub fn NotFoundStatus() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
}

use crate::auth::policy::{access_for, authorize, Denied};
use crate::auth::Role;
use crate::components::use_current_user;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// Renders its page only for someone the policy table lets see this path; anyone else gets
/// "Not allowed" inside the app's shell (with a 403 on the server-rendered response). The
/// middleware has already refused everything but the page itself, and every server function
/// checks for itself, so this decides what is drawn, not what is reachable. Both the server and
/// the browser decide from the same table and the same signed-in user, so hydration agrees.
#[component]
pub fn Allowed(children: ChildrenFn) -> impl IntoView {
    let me = use_current_user();
    let path = use_location().pathname;
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let user = me.await.ok().flatten();
                    let access = access_for("GET", &path.get_untracked());
                    match access.map(|a| authorize(a, user.as_ref())) {
                        Some(Err(Denied::Forbidden { needed })) => view! {
                            <Forbidden needed yours=user.map(|u| u.role)/>
                        }
                        .into_any(),
                        // Signed out never gets here (the middleware sends them to sign in);
                        // an unreadable session leaves the page to show its own error.
                        _ => children().into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// "Not allowed", with the role the page needs and the one the reader has.
#[component]
pub fn Forbidden(needed: Role, yours: Option<Role>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::FORBIDDEN);
        }
    }
    let yours = yours.map_or_else(
        || "You are not signed in.".to_string(),
        |r| format!("You are signed in as a {}.", r.label().to_lowercase()),
    );
    view! {
        <leptos_meta::Title text="Not allowed · freightdesk"/>
        <section class="not-found" data-testid="forbidden">
            <h1>"Not allowed"</h1>
            <p>{format!("This page is for the {} role. {yours}", needed.label().to_lowercase())}</p>
            <p>"Ask an admin if you need it."</p>
            <p><a href="/">"Back to the dispatch board"</a></p>
        </section>
    }
}

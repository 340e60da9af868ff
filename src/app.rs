//! The shell, the router and the layout every page shares.

use crate::api::auth::{who_am_i, LogOut};
use crate::auth::Role;
use crate::components::{Button, Weight};
use crate::components::{CurrentUserResource, SignedInChanges};
use crate::pages::{
    AccountPage, Allowed, DispatchPage, EventsPage, LoginPage, NotFound, ProjectionsPage,
    RolloutPage, SetupPage, ShipmentPage, SubscriptionPage, SubscriptionsPage, UsersPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    crate::components::provide_clock();
    // Effects only run in the browser, after hydration: tests wait for this marker.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    // Signing in or out bumps this, so the header asks again who is signed in.
    let signed_in_changes = SignedInChanges(RwSignal::new(0));
    provide_context(signed_in_changes);
    let me: CurrentUserResource = Resource::new(move || signed_in_changes.0.get(), |_| who_am_i());
    provide_context(me);
    view! {
        <Stylesheet id="leptos" href="/pkg/freightdesk.css"/>
        // The one formatter for every page's title: see `title_as_head_text`.
        <Title formatter=title_as_head_text text="freightdesk"/>
        <Router>
            <a class="skip-link" href="#main" on:click=skip_to_main>"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">"freightdesk"</a>
                // On a phone the rest folds under a Menu button (a checkbox: no script needed).
                <input type="checkbox" id="menu-toggle" class="menu-toggle" aria-label="Menu"/>
                <label for="menu-toggle" class="menu-button" aria-hidden="true">"Menu"</label>
                <div class="menu">
                    <crate::components::ClockChoice/>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move { view! { <Navigation user=me.await.ok().flatten()/> } })}
                    </Transition>
                </div>
            </header>
            <crate::components::Shortcuts/>
            <main id="main" tabindex="-1">
                // Async: the server sends each page complete, so it reads and works without
                // JavaScript (streamed fallbacks would need the script to be replaced).
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=DispatchPage ssr=SsrMode::Async/>
                    <Route path=path!("/shipments/:id") view=ShipmentPage ssr=SsrMode::Async/>
                    <Route path=path!("/projections") view=ProjectionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/events") view=EventsPage ssr=SsrMode::Async/>
                    <Route path=path!("/projections/:name") view=RolloutPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/users") view=|| view! { <Allowed><UsersPage/></Allowed> } ssr=SsrMode::Async/>
                    <Route path=path!("/subscriptions") view=|| view! { <Allowed><SubscriptionsPage/></Allowed> } ssr=SsrMode::Async/>
                    <Route path=path!("/subscriptions/:id") view=|| view! { <Allowed><SubscriptionPage/></Allowed> } ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// The skip link moves the keyboard focus itself: the router would take a click on `#main` as
/// a navigation (without JavaScript the browser follows the fragment as usual).
fn skip_to_main(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(main) = document()
            .get_element_by_id("main")
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            ev.prevent_default();
            let _ = main.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// A page title as it may stand in the document. leptos_meta 0.8 writes the server-rendered
/// `<title>` without escaping, so a place name holding `</title><meta …>` would end the element
/// and plant markup in the head; on the server the text is escaped here (the browser decodes
/// the entities again). In the browser the title is set as text and needs nothing.
fn title_as_head_text(text: String) -> String {
    if cfg!(feature = "ssr") {
        let mut escaped = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '&' => escaped.push_str("&amp;"),
                '<' => escaped.push_str("&lt;"),
                '>' => escaped.push_str("&gt;"),
                c => escaped.push(c),
            }
        }
        escaped
    } else {
        text
    }
}

/// The links a signed-in person may use, their name and role, and signing out.
#[component]
fn Navigation(user: Option<crate::auth::CurrentUser>) -> impl IntoView {
    let Some(user) = user else {
        return view! { <nav><a href="/login">"Sign in"</a></nav> }.into_any();
    };
    let log_out = ServerAction::<LogOut>::new();
    crate::components::on_sign_in_change(log_out);
    let admin = user.allows(Role::Admin);
    view! {
        <nav>
            <A href="/" exact=true>"Dispatch"</A>
            // Dispatchers may open the projections page (a stall notice links there), but
            // versions are an admin's business, so only admins are offered it.
            {admin.then(|| view! { <A href="/projections">"Projections"</A> })}
            <A href="/events">"Events"</A>
            {admin.then(|| view! { <A href="/subscriptions">"Subscriptions"</A> })}
            {admin.then(|| view! { <A href="/users">"Users"</A> })}
        </nav>
        <div class="user" data-testid="signed-in">
            <a href="/account" data-testid="user-name">{user.display_name.clone()}</a>
            <span class="role" data-testid="user-role">{user.role.label()}</span>
            <ActionForm action=log_out attr:class="inline">
                <Button weight=Weight::Secondary>"Sign out"</Button>
            </ActionForm>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::title_as_head_text;

    #[test]
    fn a_title_cannot_end_its_element() {
        assert_eq!(
            title_as_head_text("</title><meta http-equiv=\"refresh\"> & co".into()),
            "&lt;/title&gt;&lt;meta http-equiv=\"refresh\"&gt; &amp; co"
        );
        assert_eq!(
            title_as_head_text("Rotterdam → Milan".into()),
            "Rotterdam → Milan"
        );
    }
}

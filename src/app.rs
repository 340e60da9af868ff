//! The shell, the router and the layout every page shares.

use crate::pages::{DispatchPage, NotFound, ProjectionsPage, ShipmentPage};
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
    // Effects only run in the browser, after hydration: tests wait for this marker.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/freightdesk.css"/>
        <Title text="freightdesk"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"freightdesk"</a>
                <nav>
                    <A href="/" exact=true>"Dispatch"</A>
                    <A href="/projections">"Projections"</A>
                </nav>
            </header>
            <main>
                // Async: the server sends each page complete, so it reads and works without
                // JavaScript (streamed fallbacks would need the script to be replaced).
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=DispatchPage ssr=SsrMode::Async/>
                    <Route path=path!("/shipments/:id") view=ShipmentPage ssr=SsrMode::Async/>
                    <Route path=path!("/projections") view=ProjectionsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

use crate::api::status::system_status;
use leptos::prelude::*;

#[component]
pub fn ProjectionsPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| system_status());
    view! {
        <h1>"Projections"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                status.await.map(|s| view! {
                    <dl class="facts">
                        <dt>"Database"</dt><dd data-testid="backend">{s.backend}</dd>
                        <dt>"Events in the log"</dt><dd data-testid="event-count">{s.events}</dd>
                        <dt>"Head of the log"</dt><dd>{s.head_seq}</dd>
                    </dl>
                })
            })}
        </Suspense>
    }
}

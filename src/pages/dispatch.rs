use crate::api::shipments::ScheduleShipment;
use crate::api::status::system_status;
use crate::components::{last_error, ErrorNote};
use leptos::prelude::*;

#[component]
pub fn DispatchPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| system_status());
    let schedule = ServerAction::<ScheduleShipment>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(outcome)) = schedule.value().get() {
            navigate(
                &format!("/shipments/{}", outcome.shipment_id),
                Default::default(),
            );
        }
    });
    view! {
        <h1>"Dispatch"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                status.await.map(|s| view! {
                    <p class="muted" data-testid="log-status">
                        {format!("{} events stored on {}", s.events, s.backend)}
                    </p>
                })
            })}
        </Suspense>
        <section class="card">
            <h2>"Schedule shipment"</h2>
            <ActionForm action=schedule attr:class="form-grid">
                <label>"Origin"<input name="origin" required maxlength="120"/></label>
                <label>"Destination"<input name="destination" required maxlength="120"/></label>
                <label>"Planned pickup (UTC)"<input name="pickup_at" type="datetime-local" required/></label>
                <button type="submit" disabled=move || schedule.pending().get()>"Schedule"</button>
            </ActionForm>
            <ErrorNote error=last_error(schedule)/>
        </section>
    }
}

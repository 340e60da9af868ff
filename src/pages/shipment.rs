use crate::api::shipments::get_shipment;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ShipmentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let shipment = Resource::new(id, get_shipment);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match shipment.await {
                    Ok(view) => view! {
                        <h1>{format!("{} → {}", view.shipment.origin, view.shipment.destination)}</h1>
                        <p data-testid="status">{view.shipment.status.as_str()}</p>
                        <p data-testid="version">{view.version}</p>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

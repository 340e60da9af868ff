//! The live feed of a shipment page: the server reports every append to the shipment.

use leptos::prelude::*;

/// Bumps `live` whenever the server reports an append to this shipment.
#[cfg(feature = "hydrate")]
pub(super) fn subscribe_live(id: Memo<String>, live: RwSignal<u32>) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::prelude::*;
    let current: StoredValue<Option<SendWrapper<web_sys::EventSource>>> = StoredValue::new(None);
    let close = move || {
        if let Some(es) = current.try_update_value(Option::take).flatten() {
            es.close();
        }
    };
    Effect::new(move |_| {
        let url = format!("/live/shipments/{}", id.get());
        close();
        let Ok(es) = web_sys::EventSource::new(&url) else {
            return;
        };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            live.update(|n| *n += 1);
        });
        es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        // Appends between the page render and the feed opening (or during a reconnect) send no
        // message: look again whenever the feed (re)opens.
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            live.update(|n| *n += 1);
        });
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
        current.set_value(Some(SendWrapper::new(es)));
    });
    on_cleanup(close);
}

/// The server renders the page once; only the browser listens.
#[cfg(not(feature = "hydrate"))]
pub(super) fn subscribe_live(_id: Memo<String>, _live: RwSignal<u32>) {}

//! Live feeds in the browser: a page listens to one of the server's event streams
//! (`/live/…`) and is told whenever something it shows may have changed.

/// Calls `on_change` with the log position the server reports for each change (`None` when it
/// cannot say, e.g. it missed some), and with `None` whenever the feed (re)opens: changes
/// between the page's render and the feed opening send no message. Follows `url` as it changes.
#[cfg(feature = "hydrate")]
pub fn follow_feed(
    url: impl Fn() -> String + Send + Sync + 'static,
    on_change: impl Fn(Option<i64>) + Copy + Send + Sync + 'static,
) {
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::prelude::*;
    let current: StoredValue<Option<SendWrapper<web_sys::EventSource>>> = StoredValue::new(None);
    let close = move || {
        if let Some(es) = current.try_update_value(Option::take).flatten() {
            es.close();
        }
    };
    Effect::new(move |_| {
        let url = url();
        close();
        let Ok(es) = web_sys::EventSource::new(&url) else {
            return;
        };
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
                on_change(m.data().as_string().and_then(|d| d.parse().ok()));
            });
        es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| on_change(None));
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
        current.set_value(Some(SendWrapper::new(es)));
    });
    on_cleanup(close);
}

/// The server renders the page once; only the browser listens.
#[cfg(not(feature = "hydrate"))]
pub fn follow_feed(
    _url: impl Fn() -> String + Send + Sync + 'static,
    _on_change: impl Fn(Option<i64>) + Copy + Send + Sync + 'static,
) {
}

//! A button that copies a text (a one-time secret) to the clipboard, and says that it did.

use leptos::prelude::*;

#[component]
pub fn CopyButton(text: String, what: &'static str) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let copy = Callback::new(move |_| {
        #[cfg(feature = "hydrate")]
        copied.set(Some(write_to_clipboard(&text)));
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    });
    view! {
        <super::Button weight=super::Weight::Secondary on_click=copy>{format!("Copy {what}")}</super::Button>
        <span role="status" data-testid="copied">
            {move || copied.get().map(|ok| if ok { "Copied." } else { "Copy it by hand: this browser does not allow copying." })}
        </span>
    }
}

/// `navigator.clipboard.writeText(text)`, through `js_sys` (no web-sys features needed);
/// false when the browser has no clipboard for this page (not a secure context).
#[cfg(feature = "hydrate")]
fn write_to_clipboard(text: &str) -> bool {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let get = |target: &JsValue, name: &str| {
        Reflect::get(target, &JsValue::from_str(name))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    };
    let window: JsValue = window().into();
    let Some(clipboard) = get(&window, "navigator").and_then(|n| get(&n, "clipboard")) else {
        return false;
    };
    get(&clipboard, "writeText")
        .and_then(|f| f.dyn_into::<Function>().ok())
        .is_some_and(|write| write.call1(&clipboard, &JsValue::from_str(text)).is_ok())
}

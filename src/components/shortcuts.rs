//! Keyboard shortcuts for every page: `/` focuses the page's search field, `?` lists the
//! shortcuts, Escape closes the list. Keys typed into a field are text, never shortcuts.

use leptos::prelude::*;

/// The shortcuts, as the list shows them.
const SHORTCUTS: [(&str, &str); 3] = [
    ("/", "Focus the search"),
    ("?", "Show these shortcuts"),
    ("Esc", "Close this list"),
];

/// The list of shortcuts while it is open; listens to the keyboard once the page hydrated.
#[component]
pub fn Shortcuts() -> impl IntoView {
    let open = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        // The shell lives as long as the page: the listener is never removed.
        let _listening = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || typing_into_a_field(&ev) {
                return;
            }
            match ev.key().as_str() {
                "/" => {
                    if let Some(search) = search_field() {
                        ev.prevent_default();
                        let _ = search.focus();
                    }
                }
                "?" => {
                    ev.prevent_default();
                    open.update(|o| *o = !*o);
                }
                "Escape" => open.set(false),
                _ => {}
            }
        });
    }
    move || {
        open.get().then(|| {
            view! {
                <div class="shortcuts card" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcuts">
                    <h2>"Keyboard shortcuts"</h2>
                    <dl class="facts">
                        {SHORTCUTS.into_iter().map(|(key, what)| view! { <dt><kbd>{key}</kbd></dt><dd>{what}</dd> }).collect_view()}
                    </dl>
                    <super::Button weight=super::Weight::Secondary on_click=Callback::new(move |_| open.set(false))>"Close"</super::Button>
                </div>
            }
        })
    }
}

#[cfg(feature = "hydrate")]
fn typing_into_a_field(ev: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| {
            matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || e.closest("[contenteditable]").ok().flatten().is_some()
        })
}

/// The page's search field: the first `type=search` input.
#[cfg(feature = "hydrate")]
fn search_field() -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    document()
        .query_selector("main input[type='search']")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
}

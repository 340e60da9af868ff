//! Pages that stay current while open: a tick the page's resources read.

use leptos::prelude::*;

/// Keeps a page current while it is open in a browser: bumps `tick` every `period`.
#[cfg(feature = "hydrate")]
pub fn refresh_every(tick: RwSignal<u32>, period: std::time::Duration) {
    if let Ok(handle) =
        set_interval_with_handle(move || tick.update(|n| *n = n.wrapping_add(1)), period)
    {
        on_cleanup(move || handle.clear());
    }
}

/// The server renders a page once; only the browser refreshes it.
#[cfg(not(feature = "hydrate"))]
pub fn refresh_every(_tick: RwSignal<u32>, _period: std::time::Duration) {}

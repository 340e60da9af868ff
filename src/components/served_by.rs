use super::use_current_user;
use crate::auth::Role;
use leptos::prelude::*;

/// Which projection version answered a read page. Admins run versions, so they read its name
/// ("Served by shipment_board@1 · 53 shipments"); a dispatcher reads only what it says ("53
/// shipments"). The version stays in `data-served-by` for everyone, so support can still ask
/// which one answered.
#[component]
pub fn ServedBy(
    served_by: String,
    /// What the page counts, if anything ("53 shipments").
    #[prop(optional, into)]
    detail: Option<String>,
    #[prop(optional, into)] class: Option<&'static str>,
    #[prop(optional, into)] testid: Option<&'static str>,
) -> impl IntoView {
    let me = use_current_user();
    let is_admin = move || {
        me.get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|u| u.allows(Role::Admin))
    };
    let named = format!("Served by {served_by}");
    let text = move || match (is_admin(), &detail) {
        (true, Some(d)) => format!("{named} · {d}"),
        (true, None) => named.clone(),
        (false, Some(d)) => d.clone(),
        (false, None) => String::new(),
    };
    view! {
        <p class=format!("served-by {}", class.unwrap_or_default()) data-testid=testid data-served-by=served_by>
            {text}
        </p>
    }
}

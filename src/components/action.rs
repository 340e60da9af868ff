//! The one look of an action, wherever it appears: a button that submits a form, a button that
//! acts in the page, a link that leads to an action, or the summary of a confirmation. Three
//! weights, one class each, so a person learns one shape per weight.

use leptos::prelude::*;

/// How much an action weighs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Weight {
    /// The main action of its form.
    #[default]
    Primary,
    /// One of several, or a harmless one.
    Secondary,
    /// Cannot be taken back lightly: always behind a confirmation.
    Danger,
}

impl Weight {
    /// The class every action of this weight carries (`style/main.css`).
    pub fn class(self) -> &'static str {
        match self {
            Weight::Primary => "action primary",
            Weight::Secondary => "action secondary",
            Weight::Danger => "action danger",
        }
    }
}

/// A button. Without `on_click` it submits its form (an `ActionForm`, so it works without
/// JavaScript); with it, it acts in the page.
#[component]
pub fn Button(
    #[prop(optional)] weight: Weight,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional)] on_click: Option<Callback<leptos::ev::MouseEvent>>,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional, into)] label: Option<String>,
    children: Children,
) -> impl IntoView {
    let kind = if on_click.is_some() {
        "button"
    } else {
        "submit"
    };
    view! {
        <button
            type=kind
            class=weight.class()
            disabled=move || disabled.get()
            data-testid=testid
            aria-label=label
            on:click=move |ev| {
                if let Some(on_click) = on_click {
                    on_click.run(ev);
                }
            }
        >
            {children()}
        </button>
    }
}

/// An action that asks first: a disclosure whose summary looks like the action (ending in
/// "…"), opening onto what will happen and the confirming form. Works without JavaScript.
#[component]
pub fn Confirm(
    /// What the closed disclosure says, e.g. "Disable…".
    #[prop(into)]
    summary: String,
    #[prop(optional)] weight: Weight,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional)] open: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <details class="confirm" data-testid=testid open=open>
            <summary class=weight.class()>{summary}</summary>
            <div class="confirm-body">{children()}</div>
        </details>
    }
}

/// A link that leads to an action elsewhere (a form on another page, a filter reset).
#[component]
pub fn ActionLink(
    #[prop(into)] href: String,
    #[prop(optional)] weight: Weight,
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! { <a href=href class=weight.class() data-testid=testid>{children()}</a> }
}

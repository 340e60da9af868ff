//! Signing in, the first-run set-up, and one's own account. Every form works without
//! JavaScript too: it posts to its server function, which redirects back.

use crate::api::auth::{ChangePassword, LogIn, SetUp};
use crate::components::Button;
use crate::components::{field_described, field_invalid, last_error, FieldNote};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/login?next=/where/you/were`
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query.read_untracked().get("next").unwrap_or_default();
    let login = ServerAction::<LogIn>::new();
    crate::components::on_sign_in_change(login);
    let error = last_error(login);
    crate::components::focus_outcome(login);
    view! {
        <Title text="Sign in · freightdesk"/>
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=login attr:class="form-grid" attr:data-testid="login-form">
                <input type="hidden" name="next" value=next/>
                <label>"Name"<input name="name" autocomplete="username" required maxlength="64"/></label>
                <label>"Password"<input name="password" type="password" autocomplete="current-password" required maxlength="1024"/></label>
                <Button disabled=move || login.pending().get()>"Sign in"</Button>
            </ActionForm>
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-outcome="" tabindex="-1" data-testid="login-error">{e.to_string()}</p> })}
        </section>
    }
}

/// `/setup?token=…`: the link the server prints on first start creates the first admin.
#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let token = query.read_untracked().get("token").unwrap_or_default();
    let setup = ServerAction::<SetUp>::new();
    crate::components::on_sign_in_change(setup);
    let error = last_error(setup);
    crate::components::focus_outcome(setup);
    view! {
        <Title text="First admin · freightdesk"/>
        <section class="card narrow">
            <h1>"Create the first admin"</h1>
            <p class="muted">"This link works once, and only while no user exists."</p>
            <ActionForm action=setup attr:class="form-grid" attr:data-testid="setup-form">
                <input type="hidden" name="token" value=token/>
                <label>"Name"<input name="name" aria-invalid=field_invalid(error, "name") aria-describedby=field_described(error, "name") autocomplete="username" required maxlength="64"/><FieldNote error field="name"/></label>
                <label>"Display name"<input name="display_name" aria-invalid=field_invalid(error, "display_name") aria-describedby=field_described(error, "display_name") required maxlength="120"/><FieldNote error field="display_name"/></label>
                <label>"Password"<input name="password" aria-invalid=field_invalid(error, "password") aria-describedby=field_described(error, "password") type="password" autocomplete="new-password" required maxlength="256"/><FieldNote error field="password"/></label>
                <Button disabled=move || setup.pending().get()>"Create admin and sign in"</Button>
            </ActionForm>
            {move || error.get().filter(|e| e.field_message("name").is_none() && e.field_message("display_name").is_none() && e.field_message("password").is_none())
                .map(|e| view! { <p class="error" role="alert" data-outcome="" tabindex="-1">{e.to_string()}</p> })}
        </section>
    }
}

/// `/account`: change one's own password.
#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = last_error(change);
    crate::components::focus_outcome(change);
    let me = crate::components::use_current_user();
    view! {
        <Title text="Account · freightdesk"/>
        <section class="card narrow">
            <h1>"Your account"</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    me.await.ok().flatten().map(|u| view! {
                        <p data-testid="account-user">{format!("Signed in as {} ({}) — {}", u.display_name, u.name, u.role.label())}</p>
                    })
                })}
            </Transition>
            <h2>"Change password"</h2>
            <ActionForm action=change attr:class="form-grid" attr:data-testid="password-form">
                <label>"Current password"<input name="current_password" aria-invalid=field_invalid(error, "current_password") aria-describedby=field_described(error, "current_password") type="password" autocomplete="current-password" required/><FieldNote error field="current_password"/></label>
                <label>"New password"<input name="new_password" aria-invalid=field_invalid(error, "new_password") aria-describedby=field_described(error, "new_password") type="password" autocomplete="new-password" required/><FieldNote error field="new_password"/></label>
                <label>"Repeat new password"<input name="repeat_password" aria-invalid=field_invalid(error, "repeat_password") aria-describedby=field_described(error, "repeat_password") type="password" autocomplete="new-password" required/><FieldNote error field="repeat_password"/></label>
                <Button disabled=move || change.pending().get()>"Change password"</Button>
            </ActionForm>
            {move || change.value().get().map(|r| match r {
                Ok(message) => view! { <p class="success" role="status" data-outcome="" tabindex="-1" data-testid="password-changed">{message}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert" data-outcome="" tabindex="-1">{e.headline()}</p> }.into_any(),
            })}
        </section>
    }
}

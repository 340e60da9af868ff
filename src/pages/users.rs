//! `/users`, for admins: who may sign in, with which role; add, disable (confirmed) and enable
//! again, reset a password, change a role. Each action's result is shown once, in the row it
//! was taken on, and replaces the result before it.

use crate::api::users::{list_users, AddUser, ChangeRole, DisableUser, EnableUser, ResetPassword};
use crate::auth::{Role, UserSummary};
use crate::components::{
    field_described, field_invalid, follow_outcome, last_error, ActionOutcome, FieldNote,
    ScrollBox, ZonedTime,
};
use crate::components::{Button, Confirm, Weight};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

/// The answer of the last row action, with the user it was about.
type RowOutcome = RwSignal<Option<(String, Result<String, AppError>)>>;

#[derive(Clone, Copy)]
struct UserActions {
    add: ServerAction<AddUser>,
    disable: ServerAction<DisableUser>,
    enable: ServerAction<EnableUser>,
    reset: ServerAction<ResetPassword>,
    role: ServerAction<ChangeRole>,
    /// Whichever row action answered last: the only result the table shows.
    latest: RowOutcome,
}

impl UserActions {
    fn new() -> Self {
        let actions = Self {
            add: ServerAction::new(),
            disable: ServerAction::new(),
            enable: ServerAction::new(),
            reset: ServerAction::new(),
            role: ServerAction::new(),
            latest: RwSignal::new(None),
        };
        follow_row(actions.disable, actions.latest, |i| i.name.clone());
        follow_row(actions.enable, actions.latest, |i| i.name.clone());
        follow_row(actions.reset, actions.latest, |i| i.name.clone());
        follow_row(actions.role, actions.latest, |i| i.name.clone());
        actions
    }

    fn versions(&self) -> [usize; 5] {
        [
            self.add.version().get(),
            self.disable.version().get(),
            self.enable.version().get(),
            self.reset.version().get(),
            self.role.version().get(),
        ]
    }
}

/// Keeps `latest` on the answer of `action`, with the user the action was about (an action's
/// input is gone once it answers, so the user is remembered when it is sent).
fn follow_row<T>(action: ServerAction<T>, latest: RowOutcome, user_of: fn(&T) -> String)
where
    T: leptos::server_fn::ServerFn<Output = String, Error = AppError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let sent_for = StoredValue::new(String::new());
    Effect::new(move |_| {
        if let Some(input) = action.input().get() {
            sent_for.set_value(user_of(&input));
        }
    });
    Effect::new(move |_| {
        if let Some(outcome) = action.value().get() {
            latest.set(Some((sent_for.get_value(), outcome)));
        }
    });
    crate::components::focus_outcome(action);
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let actions = UserActions::new();
    let users = Resource::new(move || actions.versions(), |_| list_users());
    let add_error = last_error(actions.add);
    crate::components::focus_outcome(actions.add);
    // The add form's own result, and an empty form after a user was added.
    let added = RwSignal::new(None);
    follow_outcome(actions.add, added);
    let add_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = actions.add.value().get() {
            if let Some(form) = add_form.get_untracked() {
                form.reset();
            }
        }
    });
    view! {
        <Title text="Users · freightdesk"/>
        <h1>"Users"</h1>
        // Without JavaScript the answer comes back on a new page, with no row to stand in.
        {move || actions.latest.get().filter(|(user, _)| user.is_empty()).map(|(_, r)| {
            view! { <ActionOutcome outcome=r testid="user-action"/> }
        })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => view! { <UserTable list actions/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <section class="card">
            <h2>"Add a user"</h2>
            <ActionForm action=actions.add node_ref=add_form attr:class="form-grid" attr:data-testid="add-user-form">
                <label>"Name"<input name="name" aria-invalid=field_invalid(add_error, "name") aria-describedby=field_described(add_error, "name") autocomplete="off" required maxlength="64"/>
                    <FieldNote error=add_error field="name"/></label>
                <label>"Display name"<input name="display_name" aria-invalid=field_invalid(add_error, "display_name") aria-describedby=field_described(add_error, "display_name") maxlength="120"/>
                    <FieldNote error=add_error field="display_name"/></label>
                <label>"Role"
                    <select name="role">
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Password"<input name="password" aria-invalid=field_invalid(add_error, "password") aria-describedby=field_described(add_error, "password") type="password" autocomplete="new-password" required maxlength="256"/>
                    <FieldNote error=add_error field="password"/></label>
                <Button disabled=move || actions.add.pending().get()>"Add user"</Button>
            </ActionForm>
            {move || added.get().map(|r| view! { <ActionOutcome outcome=r testid="user-add"/> })}
        </section>
    }
}

#[component]
fn UserTable(list: Vec<UserSummary>, actions: UserActions) -> impl IntoView {
    view! {
        <ScrollBox label="Users">
        <table data-testid="users">
            <thead><tr><th>"Name"</th><th>"Display name"</th><th>"Role"</th><th>"Since"</th><th>"State"</th><th>"Actions"</th></tr></thead>
            <tbody>
                {list.into_iter().map(|u| view! { <UserRow u actions/> }).collect_view()}
            </tbody>
        </table>
        </ScrollBox>
    }
}

#[component]
fn UserRow(u: UserSummary, actions: UserActions) -> impl IntoView {
    let name = u.name.clone();
    let other_role = match u.role {
        Role::Admin => Role::Dispatcher,
        Role::Dispatcher => Role::Admin,
    };
    let disabled = u.disabled_at.is_some();
    // This row's share of the latest result: only the row the action was taken on shows it.
    let mine = {
        let name = name.clone();
        Signal::derive(move || {
            actions
                .latest
                .get()
                .filter(|(user, _)| *user == name)
                .map(|(_, r)| r)
        })
    };
    let reset_error = Signal::derive(move || mine.get().and_then(Result::err));
    let field = "new_password";
    let (enable_name, role_name, reset_name, disable_name) =
        (name.clone(), name.clone(), name.clone(), name.clone());
    let row_actions = if disabled {
        view! {
            <div class="form-row">
                <ActionForm action=actions.enable>
                    <input type="hidden" name="name" value=enable_name/>
                    <Button weight=Weight::Secondary>"Enable"</Button>
                </ActionForm>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="form-row">
                <ActionForm action=actions.role>
                    <input type="hidden" name="name" value=role_name/>
                    <input type="hidden" name="role" value=other_role.as_str()/>
                    <Button weight=Weight::Secondary>{format!("Make {}", other_role.label().to_lowercase())}</Button>
                </ActionForm>
                <ActionForm action=actions.reset>
                    <input type="hidden" name="name" value=reset_name/>
                    <label class="inline">"New password"
                        <input name="password" type="password" autocomplete="new-password" required maxlength="256"
                            aria-invalid=field_invalid(reset_error, field) aria-describedby=field_described(reset_error, field)/>
                    </label>
                    <Button weight=Weight::Secondary>"Reset password"</Button>
                    <FieldNote error=reset_error field/>
                </ActionForm>
                <Confirm summary="Disable…" weight=Weight::Danger testid="disable">
                    <p>{format!("{disable_name} is signed out at once and can no longer sign in. Enable undoes it.")}</p>
                    <ActionForm action=actions.disable>
                        <Button weight=Weight::Danger>{format!("Confirm: disable {disable_name}")}</Button>
                        <input type="hidden" name="name" value=disable_name/>
                    </ActionForm>
                </Confirm>
            </div>
        }
        .into_any()
    };
    view! {
        <tr data-user=name.clone()>
            <td class="nowrap">{u.name.clone()}</td>
            <td class="text">{u.display_name.clone()}</td>
            <td class="nowrap" data-testid="role">{u.role.label()}</td>
            <td><ZonedTime at=u.created_at/></td>
            <td class="nowrap" data-testid="user-state">{if disabled { "disabled" } else { "active" }}</td>
            <td>
                {row_actions}
                {move || mine.get().map(|r| view! { <ActionOutcome outcome=r testid="user-action"/> })}
            </td>
        </tr>
    }
}

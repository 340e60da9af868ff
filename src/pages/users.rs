//! `/users`, for admins: who may sign in, with which role; add, disable, reset a password,
//! change a role.

use crate::api::users::{list_users, AddUser, ChangeRole, DisableUser, ResetPassword};
use crate::auth::{Role, UserSummary};
use crate::components::{field_described, field_invalid, last_error, FieldNote, ZonedTime};
use leptos::prelude::*;
use leptos_meta::Title;

#[derive(Clone, Copy)]
struct UserActions {
    add: ServerAction<AddUser>,
    disable: ServerAction<DisableUser>,
    reset: ServerAction<ResetPassword>,
    role: ServerAction<ChangeRole>,
}

impl UserActions {
    fn versions(&self) -> (usize, usize, usize, usize) {
        (
            self.add.version().get(),
            self.disable.version().get(),
            self.reset.version().get(),
            self.role.version().get(),
        )
    }

    fn outcome(&self) -> Option<Result<String, crate::error::AppError>> {
        [
            self.disable.value().get(),
            self.reset.value().get(),
            self.role.value().get(),
        ]
        .into_iter()
        .flatten()
        .next()
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let actions = UserActions {
        add: ServerAction::new(),
        disable: ServerAction::new(),
        reset: ServerAction::new(),
        role: ServerAction::new(),
    };
    let users = Resource::new(move || actions.versions(), |_| list_users());
    let add_error = last_error(actions.add);
    crate::components::focus_outcome(actions.add);
    crate::components::focus_outcome(actions.disable);
    crate::components::focus_outcome(actions.reset);
    crate::components::focus_outcome(actions.role);
    view! {
        <Title text="Users · freightdesk"/>
        <h1>"Users"</h1>
        {move || actions.outcome().map(|r| match r {
            Ok(message) => view! { <p class="success" role="status" data-outcome="" tabindex="-1" data-testid="user-action-ok">{message}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert" data-outcome="" tabindex="-1" data-testid="user-action-error">{e.to_string()}</p> }.into_any(),
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
            <ActionForm action=actions.add attr:class="form-grid" attr:data-testid="add-user-form">
                <label>"Name"<input name="name" aria-invalid=field_invalid(add_error, "name") aria-describedby=field_described(add_error, "name") autocomplete="off" required maxlength="64"/></label>
                <FieldNote error=add_error field="name"/>
                <label>"Display name"<input name="display_name" aria-invalid=field_invalid(add_error, "display_name") aria-describedby=field_described(add_error, "display_name") maxlength="120"/></label>
                <FieldNote error=add_error field="display_name"/>
                <label>"Role"
                    <select name="role">
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Password"<input name="password" aria-invalid=field_invalid(add_error, "password") aria-describedby=field_described(add_error, "password") type="password" autocomplete="new-password" required maxlength="256"/></label>
                <FieldNote error=add_error field="password"/>
                <button type="submit" disabled=move || actions.add.pending().get()>"Add user"</button>
            </ActionForm>
            {move || actions.add.value().get().map(|r| match r {
                Ok(message) => view! { <p class="success" role="status" data-outcome="" tabindex="-1" data-testid="user-added">{message}</p> }.into_any(),
                Err(crate::error::AppError::Validation { .. }) => ().into_any(),
                Err(e) => view! { <p class="error" role="alert" data-outcome="" tabindex="-1">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn UserTable(list: Vec<UserSummary>, actions: UserActions) -> impl IntoView {
    view! {
        <div class="table-scroll">
        <table data-testid="users">
            <thead><tr><th>"Name"</th><th>"Display name"</th><th>"Role"</th><th>"Since"</th><th>"State"</th><th>"Actions"</th></tr></thead>
            <tbody>
                {list.into_iter().map(|u| {
                    let name = u.name.clone();
                    let other_role = match u.role { Role::Admin => Role::Dispatcher, Role::Dispatcher => Role::Admin };
                    let disabled = u.disabled_at.is_some();
                    let (role_name, reset_name, disable_name) = (name.clone(), name.clone(), name.clone());
                    view! {
                        <tr data-user=name.clone()>
                            <td>{u.name.clone()}</td>
                            <td>{u.display_name.clone()}</td>
                            <td data-testid="role">{u.role.label()}</td>
                            <td><ZonedTime at=u.created_at/></td>
                            <td data-testid="user-state">{if disabled { "disabled" } else { "active" }}</td>
                            <td>
                                {(!disabled).then(|| view! {
                                    <div class="form-row">
                                        <ActionForm action=actions.role>
                                            <input type="hidden" name="name" value=role_name/>
                                            <input type="hidden" name="role" value=other_role.as_str()/>
                                            <button type="submit" class="secondary">{format!("Make {}", other_role.label().to_lowercase())}</button>
                                        </ActionForm>
                                        <ActionForm action=actions.reset>
                                            <input type="hidden" name="name" value=reset_name/>
                                            <label class="inline">"New password"<input name="password" type="password" autocomplete="new-password" required maxlength="256"/></label>
                                            <button type="submit" class="secondary">"Reset password"</button>
                                        </ActionForm>
                                        <ActionForm action=actions.disable>
                                            <input type="hidden" name="name" value=disable_name/>
                                            <button type="submit" class="danger">"Disable"</button>
                                        </ActionForm>
                                    </div>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

//! The commands a shipment page can send: their server actions, what the user typed for them,
//! the one form that sends a command (fresh or re-applied), and the messages of refusals.

use crate::api::shipments::{
    CancelShipment, CommandOutcome, DeliverShipment, PickUpShipment, RecordLocation,
};
use crate::components::{field_described, field_invalid, FieldNote};
use crate::components::{Button, Weight};
use crate::domain::CommandKind;
use crate::error::AppError;
use leptos::prelude::*;

/// The four commands, and what the user typed for them. Inputs are signals so they survive a
/// conflict and can be re-applied.
#[derive(Clone, Copy)]
pub(super) struct Actions {
    pub pick_up: ServerAction<PickUpShipment>,
    pub record: ServerAction<RecordLocation>,
    pub deliver: ServerAction<DeliverShipment>,
    pub cancel: ServerAction<CancelShipment>,
    pub location: RwSignal<String>,
    pub lat: RwSignal<String>,
    pub lon: RwSignal<String>,
    pub notes: RwSignal<String>,
    pub reason: RwSignal<String>,
}

const KINDS: [CommandKind; 4] = [
    CommandKind::PickUp,
    CommandKind::RecordLocation,
    CommandKind::Deliver,
    CommandKind::Cancel,
];

impl Actions {
    pub fn new() -> Self {
        let record = ServerAction::<RecordLocation>::new();
        let cancel = ServerAction::<CancelShipment>::new();
        // After a form post without JavaScript the outcome arrives with the page (from the
        // redirect's query string); a conflict or a validation error carries back what the
        // user typed.
        let typed = |value: Option<Result<_, AppError>>, field: &str| match value {
            Some(Err(e)) => e.attempted(field).unwrap_or_default().to_string(),
            _ => String::new(),
        };
        let recorded = record.value().get_untracked();
        Self {
            pick_up: ServerAction::new(),
            record,
            deliver: ServerAction::new(),
            cancel,
            location: RwSignal::new(typed(recorded.clone(), "location")),
            lat: RwSignal::new(typed(recorded.clone(), "lat")),
            lon: RwSignal::new(typed(recorded.clone(), "lon")),
            notes: RwSignal::new(typed(recorded, "notes")),
            reason: RwSignal::new(typed(cancel.value().get_untracked(), "reason")),
        }
    }

    /// The inputs a command's form has.
    pub fn inputs(&self, kind: CommandKind) -> Vec<RwSignal<String>> {
        match kind {
            CommandKind::RecordLocation => vec![self.location, self.lat, self.lon, self.notes],
            CommandKind::Cancel => vec![self.reason],
            _ => vec![],
        }
    }

    /// The last outcome of one command, if it has one.
    pub fn outcome(&self, kind: CommandKind) -> Option<Result<i64, AppError>> {
        let version = |r: Result<CommandOutcome, AppError>| r.map(|o| o.version);
        match kind {
            CommandKind::PickUp => self.pick_up.value().get().map(version),
            CommandKind::RecordLocation => self.record.value().get().map(version),
            CommandKind::Deliver => self.deliver.value().get().map(version),
            CommandKind::Cancel => self.cancel.value().get().map(version),
            CommandKind::Schedule => None,
        }
    }

    /// The last outcome of each command that has one: Ok(new version) or the error.
    pub fn outcomes(&self) -> Vec<(CommandKind, Result<i64, AppError>)> {
        KINDS
            .into_iter()
            .filter_map(|kind| self.outcome(kind).map(|o| (kind, o)))
            .collect()
    }

    pub fn error_of(&self, kind: CommandKind) -> Signal<Option<AppError>> {
        let this = *self;
        Signal::derive(move || this.outcome(kind).and_then(Result::err))
    }

    pub fn pending(&self) -> bool {
        self.pick_up.pending().get()
            || self.record.pending().get()
            || self.deliver.pending().get()
            || self.cancel.pending().get()
    }

    pub fn clear(&self, kind: CommandKind) {
        match kind {
            CommandKind::PickUp => self.pick_up.clear(),
            CommandKind::RecordLocation => self.record.clear(),
            CommandKind::Deliver => self.deliver.clear(),
            CommandKind::Cancel => self.cancel.clear(),
            CommandKind::Schedule => {}
        }
    }

    /// Forgets the outcomes of all commands but `keep`: once the page shows a newer state,
    /// older conflicts and refusals no longer describe it.
    pub fn clear_all_except(&self, keep: Option<CommandKind>) {
        for kind in KINDS.into_iter().filter(|k| Some(*k) != keep) {
            self.clear(kind);
        }
    }
}

/// Whether a form sends what the user types now, or re-sends what they typed before a conflict.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FormMode {
    Fresh,
    Reapply,
}

/// The form that sends one command against `version`.
pub(super) fn command_form(
    kind: CommandKind,
    a: Actions,
    id: String,
    version: i64,
    mode: FormMode,
) -> AnyView {
    let targets = view! {
        <input type="hidden" name="shipment_id" value=id/>
        <input type="hidden" name="expected_version" value=version.to_string()/>
    };
    let busy = move || a.pending();
    let fields = match mode {
        FormMode::Fresh => fresh_fields(kind, a),
        // The same input again, carried in hidden fields so it also works without JavaScript.
        FormMode::Reapply => a
            .inputs(kind)
            .into_iter()
            .zip(field_names(kind))
            .map(|(signal, name)| {
                view! { <input type="hidden" name=*name value=move || signal.get()/> }
            })
            .collect_view()
            .into_any(),
    };
    let button = match mode {
        FormMode::Fresh => {
            let weight = if kind == CommandKind::Cancel {
                Weight::Danger
            } else {
                Weight::Primary
            };
            view! { <Button weight disabled=busy>{kind.label()}</Button> }.into_any()
        }
        FormMode::Reapply => {
            let text = format!(
                "Re-apply {} on version {version}",
                kind.label().to_lowercase()
            );
            view! { <Button testid="reapply" disabled=busy>{text}</Button> }.into_any()
        }
    };
    let testid = match mode {
        FormMode::Fresh => format!("{}-form", form_slug(kind)),
        FormMode::Reapply => format!("reapply-{}-form", form_slug(kind)),
    };
    let body = view! { {targets}{fields}{button} };
    match kind {
        CommandKind::PickUp => {
            view! { <ActionForm action=a.pick_up attr:data-testid=testid>{body}</ActionForm> }
                .into_any()
        }
        CommandKind::RecordLocation => {
            view! { <ActionForm action=a.record attr:data-testid=testid>{body}</ActionForm> }
                .into_any()
        }
        CommandKind::Deliver => {
            view! { <ActionForm action=a.deliver attr:data-testid=testid>{body}</ActionForm> }
                .into_any()
        }
        CommandKind::Cancel => {
            view! { <ActionForm action=a.cancel attr:data-testid=testid>{body}</ActionForm> }
                .into_any()
        }
        CommandKind::Schedule => ().into_any(),
    }
}

fn form_slug(kind: CommandKind) -> &'static str {
    match kind {
        CommandKind::Schedule => "schedule",
        CommandKind::PickUp => "pick-up",
        CommandKind::RecordLocation => "record-location",
        CommandKind::Deliver => "deliver",
        CommandKind::Cancel => "cancel",
    }
}

/// The form field names of a command's inputs, in the order of `Actions::inputs`.
fn field_names(kind: CommandKind) -> &'static [&'static str] {
    match kind {
        CommandKind::RecordLocation => &["location", "lat", "lon", "notes"],
        CommandKind::Cancel => &["reason"],
        _ => &[],
    }
}

/// The inputs a person fills in for a fresh command.
fn fresh_fields(kind: CommandKind, a: Actions) -> AnyView {
    match kind {
        CommandKind::RecordLocation => {
            let error = a.error_of(kind);
            view! {
                <label>"Location"<input name="location" aria-invalid=field_invalid(error, "location") aria-describedby=field_described(error, "location") maxlength="120" value=a.location.get_untracked() bind:value=a.location/></label>
                <FieldNote error field="location"/>
                <div class="form-row">
                    <label>"Latitude"<input name="lat" aria-invalid=field_invalid(error, "lat") aria-describedby=field_described(error, "lat") inputmode="decimal" size="8" value=a.lat.get_untracked() bind:value=a.lat/></label>
                    <label>"Longitude"<input name="lon" aria-invalid=field_invalid(error, "lon") aria-describedby=field_described(error, "lon") inputmode="decimal" size="8" value=a.lon.get_untracked() bind:value=a.lon/></label>
                </div>
                <FieldNote error field="lat"/>
                <FieldNote error field="lon"/>
                <label>"Notes"<input name="notes" aria-invalid=field_invalid(error, "notes") aria-describedby=field_described(error, "notes") maxlength="1000" value=a.notes.get_untracked() bind:value=a.notes/></label>
                <FieldNote error field="notes"/>
            }
            .into_any()
        }
        CommandKind::Cancel => {
            let error = a.error_of(kind);
            view! {
                <label>"Reason"<textarea name="reason" aria-invalid=field_invalid(error, "reason") aria-describedby=field_described(error, "reason") maxlength="500" rows="2" bind:value=a.reason>{a.reason.get_untracked()}</textarea></label>
                <FieldNote error field="reason"/>
            }
            .into_any()
        }
        _ => ().into_any(),
    }
}

/// The results of the last commands: what was done, or why not (conflicts have their own
/// panel; field errors sit under their inputs).
#[component]
pub(super) fn Messages(actions: Actions) -> impl IntoView {
    move || {
        actions
            .outcomes()
            .into_iter()
            .filter_map(|(kind, r)| match r {
                Ok(version) => Some(view! {
                    <p class="success" role="status" data-outcome="" tabindex="-1" data-testid="action-result">
                        {format!("{}: done, the shipment is now at version {version}.", kind.label())}
                    </p>
                }.into_any()),
                Err(AppError::Conflict(_)) => None,
                Err(e) => Some(view! {
                    <p class="error" role="alert" data-outcome="" tabindex="-1" data-testid="action-error">
                        {format!("{}: {}", kind.label(), e.headline())}
                    </p>
                }.into_any()),
            })
            .collect_view()
    }
}

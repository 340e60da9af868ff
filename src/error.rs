//! The one error type of server functions and pages. Expected outcomes (bad input, unknown
//! ids, refusals, conflicts) carry what the user needs; unexpected ones are logged where they
//! happen and reach the client only as a generic message.

use crate::domain::{FieldError, Shipment, ShipmentStatus};
use chrono::{DateTime, Utc};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// One event in a conflict report: what another user did since the page was loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeSummary {
    pub version: i64,
    pub event_type: String,
    pub actor: String,
    pub recorded_at: DateTime<Utc>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictDetail {
    pub stream_id: String,
    pub expected_version: i64,
    pub actual_version: i64,
    pub events_since: Vec<ChangeSummary>,
    /// The shipment as it is now, so the user can decide whether to re-apply.
    pub current: Option<Shipment>,
    /// What the user typed for the refused command (field name, text), so a page rendered
    /// without JavaScript can put it back into the form for a re-apply.
    pub attempted: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    #[error("invalid input: {}", join_field_errors(errors))]
    Validation {
        errors: Vec<FieldError>,
        /// What the person typed (field name, text), so a form rendered without JavaScript can
        /// put it back next to the errors.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attempted: Vec<(String, String)>,
    },
    #[error("malformed request: {message}")]
    BadRequest { message: String },
    #[error("{what} not found")]
    NotFound { what: String },
    /// A new shipment was given an id that is already taken.
    #[error("{message}")]
    AlreadyExists { message: String },
    /// A business rule refused the command; the message names the current status.
    #[error("{message}")]
    Rejected {
        message: String,
        status: Option<ShipmentStatus>,
    },
    #[error("this shipment changed since you opened it (you saw version {}, it is now at version {})", .0.expected_version, .0.actual_version)]
    Conflict(Box<ConflictDetail>),
    #[error("{message}")]
    Unauthorized { message: String },
    #[error("{message}")]
    Forbidden { message: String },
    /// The database did not answer. `saving`: the request was a change (a command, an
    /// operator's action), so the message says that nothing of it was saved.
    #[error("{}", if *.saving { "the database is not answering; nothing was saved, please try again shortly" } else { "the database is not answering; please try again shortly" })]
    Unavailable { saving: bool },
    /// Only made in the browser: the request never reached the server.
    #[error("could not reach the server; check the connection and try again")]
    Unreachable,
    #[error("something went wrong on our side; it has been logged")]
    Internal,
}

fn join_field_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    pub fn status_code(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Validation { .. } | AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) | AppError::AlreadyExists { .. } => StatusCode::CONFLICT,
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::Unavailable { .. } | AppError::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn validation(error: FieldError) -> Self {
        AppError::Validation {
            errors: vec![error],
            attempted: Vec::new(),
        }
    }

    /// Several field errors at once, so a form can mark them all.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        AppError::Validation {
            errors,
            attempted: Vec::new(),
        }
    }

    /// Carries what was typed back with a validation error (other errors are left as they are).
    pub fn with_attempted(self, fields: &[(&str, &str)]) -> Self {
        match self {
            AppError::Validation { errors, .. } => AppError::Validation {
                errors,
                attempted: fields
                    .iter()
                    .map(|(name, value)| (name.to_string(), value.to_string()))
                    .collect(),
            },
            other => other,
        }
    }

    /// What was typed into `field` before this error, if the error carries it.
    pub fn attempted(&self, field: &str) -> Option<&str> {
        let fields = match self {
            AppError::Validation { attempted, .. } => attempted,
            AppError::Conflict(detail) => &detail.attempted,
            _ => return None,
        };
        fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value.as_str())
    }

    /// The line a page shows for this error where the action was taken. A refused field is
    /// named beside the field itself, so the line does not repeat it (nor its internal name).
    pub fn headline(&self) -> String {
        match self {
            AppError::Validation { .. } => "Not saved: see the marked fields.".to_string(),
            other => other.to_string(),
        }
    }

    /// The message for one form field, if this is a validation error naming it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation { errors, .. } => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::BadRequest { message }
            }
            // On the server these can only come from what the client sent (a body that is not
            // UTF-8, not the declared encoding, or a method the function does not take).
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::UnsupportedRequestMethod(message) => AppError::BadRequest {
                message: format!("the request body cannot be read: {message}"),
            },
            // The browser could not reach the server at all.
            ServerFnErrorErr::Request(_) => AppError::Unreachable,
            other => {
                tracing::error!(error = %other, "server function plumbing failed");
                AppError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_with_a_kind_tag_clients_can_switch_on() {
        let e = AppError::NotFound {
            what: "shipment 42".into(),
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "not_found");
        let back: AppError = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
        assert_eq!(e.status_code(), http::StatusCode::NOT_FOUND);
    }

    #[test]
    fn args_errors_are_bad_requests() {
        let e =
            AppError::from_server_fn_error(ServerFnErrorErr::Args("missing field `origin`".into()));
        assert_eq!(e.status_code(), http::StatusCode::BAD_REQUEST);
    }
}

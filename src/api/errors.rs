//! How the errors of the layers below become what a client may see: expected outcomes keep
//! their meaning; unexpected ones are logged here and reach the client only as "internal".

use crate::domain::FieldError;
use crate::error::AppError;
use crate::projections::lifecycle::Refusal;
use crate::projections::operator::ActionError;
use crate::projections::queries::QueryError;
use crate::projections::status::OverviewError;
use crate::store::StoreError;
use crate::subscriptions::operations::SubscriptionError;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            AppError::Unavailable { saving: false }
        } else {
            tracing::error!(error = %e, "store error");
            AppError::Internal
        }
    }
}

impl AppError {
    /// The same error met while saving a change: if the database was away, the client is told
    /// that nothing was saved.
    pub fn while_saving(self) -> Self {
        match self {
            AppError::Unavailable { .. } => AppError::Unavailable { saving: true },
            other => other,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e).into()
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Rejected {
            message: refusal.to_string(),
            status: None,
        }
    }
}

impl From<ActionError> for AppError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::Refused(refusal) => refusal.into(),
            // Operator actions change things.
            ActionError::Database(e) => AppError::from(e).while_saving(),
            ActionError::Store(e) => AppError::from(e).while_saving(),
            ActionError::Query(e) => AppError::from(e).while_saving(),
        }
    }
}

impl From<QueryError> for AppError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::NoLiveVersion(name) => AppError::NotFound {
                what: format!("a live version of {name}"),
            },
            QueryError::Database(e) => e.into(),
        }
    }
}

impl From<OverviewError> for AppError {
    fn from(e: OverviewError) -> Self {
        match e {
            OverviewError::Store(e) => e.into(),
            OverviewError::Database(e) => e.into(),
        }
    }
}

impl From<SubscriptionError> for AppError {
    fn from(e: SubscriptionError) -> Self {
        match e {
            SubscriptionError::Invalid(errors) => AppError::invalid(errors),
            SubscriptionError::NotFound(what) => AppError::NotFound { what },
            SubscriptionError::Refused(message) => AppError::Rejected {
                message,
                status: None,
            },
            SubscriptionError::Database(e) => e.into(),
            SubscriptionError::Store(e) => e.into(),
            SubscriptionError::Secret(message) => {
                tracing::error!(%message, "cannot generate a webhook secret");
                AppError::Internal
            }
        }
    }
}

/// One validation error listing every field that failed, so a form can mark them all.
pub fn invalid(errors: impl IntoIterator<Item = Option<FieldError>>) -> AppError {
    AppError::invalid(errors.into_iter().flatten().collect())
}

//! The lifecycle of a projection version as a pure state machine, shared by the server and
//! the browser: the states, what an operator may do in each, and what the audit trail calls
//! every step. The page offers exactly `allowed_actions`; the server checks `transition` again
//! inside the transaction that applies the action.

use crate::text_enum::text_enum;
use serde::{Deserialize, Serialize};
use std::fmt;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum VersionState {
        /// Catching up from the start; not serving reads.
        Building = "building",
        /// Caught up and kept current; not serving reads.
        Standby = "standby",
        /// Serving reads; exactly one per projection.
        Live = "live",
        /// No longer maintained; its table is dropped.
        Retired = "retired",
    }
}

impl VersionState {
    /// Whether the daemon keeps this version current.
    pub fn is_maintained(&self) -> bool {
        *self != VersionState::Retired
    }
}

impl fmt::Display for VersionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an admin can do to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorAction {
    /// Make this version serve reads (a rollback when it is older than the live one).
    CutOver,
    /// Build a fresh table from the first event beside the current one, then swap.
    Rebuild,
    /// Clear a failure and resume from the checkpoint.
    Retry,
    /// Stop maintaining the version and drop its table.
    Retire,
    /// Go on past the event that made it fail, with a recorded reason.
    Skip,
}

impl OperatorAction {
    pub const ALL: [OperatorAction; 5] = [
        OperatorAction::CutOver,
        OperatorAction::Rebuild,
        OperatorAction::Retry,
        OperatorAction::Retire,
        OperatorAction::Skip,
    ];
}

text_enum! {
    /// Every step the audit trail records, by an operator or by the system.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum AuditAction {
        Registered = "registered",
        CaughtUp = "caught up",
        RebuildRequested = "rebuild requested",
        RebuildFinished = "rebuild finished",
        Failed = "failed",
        Retried = "retried",
        CutOver = "cut over",
        RolledBack = "rolled back",
        Retired = "retired",
        EventSkipped = "event skipped",
        Acknowledged = "acknowledged",
        SettingsChanged = "settings changed",
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the lifecycle needs to know about a version to decide an action.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionFacts {
    /// `name@version`, for messages.
    pub key: String,
    pub state: VersionState,
    /// The error that stopped it, if it failed.
    pub failure: Option<String>,
    /// The event that made it fail, if an event did (not the database).
    pub failed_event: Option<i64>,
    /// Events done and in all, while a rebuild runs.
    pub rebuild: Option<(i64, i64)>,
    /// Events in the log it has not applied yet.
    pub behind: i64,
    /// True when the live version of the same projection is newer: going live is a rollback.
    pub older_than_live: bool,
}

/// Why an action is refused, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0} is already live")]
    AlreadyLive(String),
    #[error("{0} is still building; wait until it is on standby")]
    StillBuilding(String),
    #[error("{0} is retired; rebuild it first")]
    IsRetired(String),
    #[error("{key} has failed ({error}); retry or rebuild it first")]
    HasFailed { key: String, error: String },
    #[error("{0} is being rebuilt; wait until it finishes")]
    BeingRebuilt(String),
    #[error("{key} is {behind} events behind; cut over when it has caught up")]
    Behind { key: String, behind: i64 },
    #[error("{key} is already being rebuilt ({done} of {total} events)")]
    AlreadyRebuilding { key: String, done: i64, total: i64 },
    #[error("{0} has not failed")]
    NotFailed(String),
    #[error("{0} is live; cut over to another version before retiring it")]
    RetireLive(String),
    #[error("{0} is already retired")]
    AlreadyRetired(String),
    /// Another operator or node changed the version between the check and the write.
    #[error("{0} changed meanwhile; try again")]
    ChangedMeanwhile(String),
    #[error("{0} did not fail on an event; there is nothing to skip")]
    NothingToSkip(String),
    #[error("{key} is not ready: {item}: {reason}")]
    NotReady {
        key: String,
        item: &'static str,
        reason: String,
    },
    #[error("{0}: say why the event is skipped")]
    ReasonRequired(String),
}

/// The state `action` leads to, or why it may not be taken now.
pub fn transition(v: &VersionFacts, action: OperatorAction) -> Result<VersionState, Refusal> {
    let key = || v.key.clone();
    match action {
        OperatorAction::CutOver => match v.state {
            VersionState::Live => Err(Refusal::AlreadyLive(key())),
            VersionState::Building => Err(Refusal::StillBuilding(key())),
            VersionState::Retired => Err(Refusal::IsRetired(key())),
            VersionState::Standby => {
                if let Some(error) = &v.failure {
                    Err(Refusal::HasFailed {
                        key: key(),
                        error: error.clone(),
                    })
                } else if v.rebuild.is_some() {
                    Err(Refusal::BeingRebuilt(key()))
                } else if v.behind > 0 {
                    Err(Refusal::Behind {
                        key: key(),
                        behind: v.behind,
                    })
                } else {
                    Ok(VersionState::Live)
                }
            }
        },
        OperatorAction::Rebuild => match (v.rebuild, v.state) {
            (Some((done, total)), _) => Err(Refusal::AlreadyRebuilding {
                key: key(),
                done,
                total,
            }),
            // A retired version has no table left to serve from: it builds afresh.
            (None, VersionState::Retired) => Ok(VersionState::Building),
            // Otherwise the new table fills beside the current one, which keeps its state.
            (None, state) => Ok(state),
        },
        OperatorAction::Retry => match v.failure {
            Some(_) => Ok(v.state),
            None => Err(Refusal::NotFailed(key())),
        },
        OperatorAction::Retire => match v.state {
            VersionState::Live => Err(Refusal::RetireLive(key())),
            VersionState::Retired => Err(Refusal::AlreadyRetired(key())),
            VersionState::Building | VersionState::Standby => Ok(VersionState::Retired),
        },
        OperatorAction::Skip => match (&v.failure, v.failed_event) {
            (Some(_), Some(_)) => Ok(v.state),
            (Some(_), None) => Err(Refusal::NothingToSkip(key())),
            (None, _) => Err(Refusal::NotFailed(key())),
        },
    }
}

/// The actions an operator may take now: exactly those `transition` accepts.
pub fn allowed_actions(v: &VersionFacts) -> Vec<OperatorAction> {
    OperatorAction::ALL
        .into_iter()
        .filter(|a| transition(v, *a).is_ok())
        .collect()
}

/// Whether `v` may be compared with the live version, and a comparison's differences accepted:
/// only once it has caught up. Half a table differs from the live one only because it is half
/// built, and accepting that would satisfy the checklist on nothing.
pub fn may_compare(v: &VersionFacts) -> Result<(), Refusal> {
    match (v.state, v.rebuild) {
        (VersionState::Building, _) => Err(Refusal::StillBuilding(v.key.clone())),
        (VersionState::Retired, _) => Err(Refusal::IsRetired(v.key.clone())),
        (_, Some(_)) => Err(Refusal::BeingRebuilt(v.key.clone())),
        (VersionState::Standby | VersionState::Live, None) => Ok(()),
    }
}

/// What a version is doing, in one phrase: its state, or how far its (re)build has come, so a
/// card never says "standby" beside a progress bar.
pub fn state_phrase(state: VersionState, failed: bool, rebuild_percent: Option<f64>) -> String {
    match (failed, state, rebuild_percent) {
        (true, state, _) => format!("failed ({state})"),
        (false, VersionState::Retired, _) => state.to_string(),
        (false, VersionState::Building, Some(p)) => format!("building {p:.0}%"),
        (false, _, Some(p)) => format!("rebuilding {p:.0}%"),
        (false, state, None) => state.to_string(),
    }
}

/// What the audit calls a cutover: going back to an older version is a rollback.
pub fn cut_over_audit_action(older_than_live: bool) -> AuditAction {
    if older_than_live {
        AuditAction::RolledBack
    } else {
        AuditAction::CutOver
    }
}

/// The words on an action's button.
pub fn action_label(action: OperatorAction, v: &VersionFacts) -> &'static str {
    match action {
        OperatorAction::CutOver if v.older_than_live => "Roll back to this version",
        OperatorAction::CutOver => "Cut over",
        OperatorAction::Rebuild => "Rebuild",
        OperatorAction::Retry => "Retry",
        OperatorAction::Retire => "Retire",
        OperatorAction::Skip => "Skip this event",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OperatorAction::*;
    use VersionState::*;

    fn facts(state: VersionState, failed: bool, rebuilding: bool, behind: i64) -> VersionFacts {
        VersionFacts {
            key: "p@2".into(),
            state,
            failure: failed.then(|| "boom".to_string()),
            failed_event: failed.then_some(7),
            rebuild: rebuilding.then_some((3, 10)),
            behind,
            older_than_live: false,
        }
    }

    /// Every (state, failed, rebuilding, behind) × action, with the expected outcome.
    #[test]
    fn every_state_and_action_pair() {
        for state in VersionState::ALL {
            for failed in [false, true] {
                for rebuilding in [false, true] {
                    for behind in [0, 5] {
                        let v = facts(state, failed, rebuilding, behind);
                        for action in OperatorAction::ALL {
                            let want: Result<VersionState, &str> = match (action, state) {
                                (CutOver, Live) => Err("is already live"),
                                (CutOver, Building) => Err("is still building"),
                                (CutOver, Retired) => Err("is retired; rebuild it first"),
                                (CutOver, Standby) if failed => Err("has failed (boom)"),
                                (CutOver, Standby) if rebuilding => Err("is being rebuilt"),
                                (CutOver, Standby) if behind > 0 => Err("is 5 events behind"),
                                (CutOver, Standby) => Ok(Live),
                                (Rebuild, _) if rebuilding => {
                                    Err("is already being rebuilt (3 of 10 events)")
                                }
                                (Rebuild, Retired) => Ok(Building),
                                (Rebuild, s) => Ok(s),
                                (Retry, s) if failed => Ok(s),
                                (Retry, _) => Err("has not failed"),
                                (Retire, Live) => Err("is live; cut over"),
                                (Retire, Retired) => Err("is already retired"),
                                (Retire, _) => Ok(Retired),
                                (Skip, s) if failed => Ok(s),
                                (Skip, _) => Err("has not failed"),
                            };
                            let got = transition(&v, action);
                            match (&got, want) {
                                (Ok(g), Ok(w)) => assert_eq!(*g, w, "{v:?} {action:?}"),
                                (Err(g), Err(w)) => {
                                    let text = g.to_string();
                                    assert!(text.starts_with("p@2 "), "{text}");
                                    assert!(text.contains(w), "{v:?} {action:?}: {text}");
                                }
                                _ => panic!("{v:?} {action:?}: got {got:?}, want {want:?}"),
                            }
                            // What the page offers agrees with what the server accepts.
                            assert_eq!(
                                allowed_actions(&v).contains(&action),
                                got.is_ok(),
                                "{v:?} {action:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn only_a_caught_up_version_is_compared() {
        let cases = [
            (Building, false, Err("is still building")),
            (Standby, true, Err("is being rebuilt")),
            (Live, true, Err("is being rebuilt")),
            (Retired, false, Err("is retired")),
            (Standby, false, Ok(())),
            (Live, false, Ok(())),
        ];
        for (state, rebuilding, want) in cases {
            let got = may_compare(&facts(state, false, rebuilding, 0)).map_err(|r| r.to_string());
            match (got, want) {
                (Ok(()), Ok(())) => {}
                (Err(text), Err(w)) => assert!(text.contains(w), "{state:?}: {text}"),
                (got, want) => panic!("{state:?} rebuilding={rebuilding}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn one_phrase_per_state() {
        let cases = [
            (Live, false, None, "live"),
            (Standby, false, None, "standby"),
            (Standby, false, Some(41.6), "rebuilding 42%"),
            (Live, false, Some(3.0), "rebuilding 3%"),
            (Building, false, Some(50.0), "building 50%"),
            (Building, false, None, "building"),
            (Retired, false, Some(10.0), "retired"),
            (Standby, true, Some(10.0), "failed (standby)"),
        ];
        for (state, failed, percent, want) in cases {
            assert_eq!(state_phrase(state, failed, percent), want);
        }
    }

    #[test]
    fn names_round_trip() {
        for s in VersionState::ALL {
            assert_eq!(VersionState::parse(s.as_str()), Some(s));
        }
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(VersionState::parse("bogus"), None);
    }

    #[test]
    fn going_back_is_a_rollback() {
        let mut v = facts(Standby, false, false, 0);
        assert_eq!(action_label(CutOver, &v), "Cut over");
        v.older_than_live = true;
        assert_eq!(action_label(CutOver, &v), "Roll back to this version");
        assert_eq!(cut_over_audit_action(true), AuditAction::RolledBack);
        assert_eq!(cut_over_audit_action(false), AuditAction::CutOver);
    }
}

//! Whether a candidate version is safe to cut over to: the readiness checklist, as a pure
//! function shared by the server and the browser. The page shows every item with its reason;
//! the server computes the same list again inside the cutover transaction and refuses with the
//! first failing item.

use serde::{Deserialize, Serialize};

/// A node that has not sent a heartbeat for this long does not count as running a version.
pub const RUNNING_WITHIN_SECONDS: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckItem {
    CaughtUp,
    Healthy,
    Compared,
    Running,
}

impl CheckItem {
    pub const ALL: [CheckItem; 4] = [
        CheckItem::CaughtUp,
        CheckItem::Healthy,
        CheckItem::Compared,
        CheckItem::Running,
    ];

    pub fn title(&self) -> &'static str {
        match self {
            CheckItem::CaughtUp => "Caught up",
            CheckItem::Healthy => "Healthy",
            CheckItem::Compared => "Compared with live",
            CheckItem::Running => "Running on a node",
        }
    }
}

/// The latest recorded comparison of the candidate with the live version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonFacts {
    pub age_seconds: f64,
    pub identical: bool,
    pub differing: i64,
    pub only_live: i64,
    pub only_candidate: i64,
    /// Who accepted the differences, if they were accepted.
    pub acknowledged_by: Option<String>,
}

/// What the checklist decides on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadinessFacts {
    pub behind: i64,
    pub max_lag_events: i64,
    pub failure: Option<String>,
    pub rebuilding: bool,
    pub unacknowledged_skips: i64,
    pub comparison: Option<ComparisonFacts>,
    pub comparison_valid_minutes: i64,
    /// Seconds since the heartbeat of the node that runs the candidate, if one does.
    pub owner_heartbeat_age: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub item: CheckItem,
    pub ok: bool,
    /// Why, in words an operator can act on (also when it is fine).
    pub reason: String,
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn check(item: CheckItem, f: &ReadinessFacts) -> Check {
    let (ok, reason) = match item {
        CheckItem::CaughtUp => {
            let ok = f.behind <= f.max_lag_events && !f.rebuilding;
            let reason = if f.rebuilding {
                "a rebuild is still running".to_string()
            } else if ok {
                format!(
                    "{} behind (at most {} allowed)",
                    plural(f.behind, "event", "events"),
                    f.max_lag_events
                )
            } else {
                format!(
                    "{} behind; at most {} allowed",
                    plural(f.behind, "event", "events"),
                    f.max_lag_events
                )
            };
            (ok, reason)
        }
        CheckItem::Healthy => match (&f.failure, f.unacknowledged_skips) {
            (Some(error), _) => (false, format!("failed: {error}")),
            (None, n) if n > 0 => (
                false,
                format!(
                    "{} not acknowledged",
                    plural(n, "skipped event", "skipped events")
                ),
            ),
            (None, _) => (true, "no failure, no unacknowledged skipped event".into()),
        },
        CheckItem::Compared => match &f.comparison {
            None => (false, "not compared with the live version yet".into()),
            Some(c) if c.age_seconds > f.comparison_valid_minutes as f64 * 60.0 => (
                false,
                format!(
                    "last compared {} min ago; compare again (valid {} min)",
                    (c.age_seconds / 60.0).floor(),
                    f.comparison_valid_minutes
                ),
            ),
            Some(c) if c.identical => (true, "identical in every shared column".into()),
            Some(c) => match &c.acknowledged_by {
                Some(who) => (
                    true,
                    format!(
                        "{} rows differ, {} only live, {} only candidate; accepted by {who}",
                        c.differing, c.only_live, c.only_candidate
                    ),
                ),
                None => (
                    false,
                    format!(
                        "{} rows differ, {} only live, {} only candidate; review and accept them",
                        c.differing, c.only_live, c.only_candidate
                    ),
                ),
            },
        },
        CheckItem::Running => match f.owner_heartbeat_age {
            Some(age) if age <= RUNNING_WITHIN_SECONDS => {
                (true, format!("its node's last heartbeat was {age:.0}s ago"))
            }
            Some(age) => (
                false,
                format!("its node's last heartbeat was {age:.0}s ago; no node runs it now"),
            ),
            None => (false, "no node runs it".into()),
        },
    };
    Check { item, ok, reason }
}

/// Every item, in the order the page shows them.
pub fn checklist(f: &ReadinessFacts) -> Vec<Check> {
    CheckItem::ALL.iter().map(|item| check(*item, f)).collect()
}

/// The first item that is not green, if any.
pub fn first_failing(f: &ReadinessFacts) -> Option<Check> {
    checklist(f).into_iter().find(|c| !c.ok)
}

#[cfg(feature = "ssr")]
pub use gather::gather_facts;

/// The facts, read from the catalog and the tables (server only).
#[cfg(feature = "ssr")]
mod gather {
    use super::{ComparisonFacts, ReadinessFacts};
    use crate::db::PortableDb;
    use crate::projections::versions::VersionRow;
    use crate::projections::{comparisons, nodes, settings, skips};
    use chrono::Utc;

    /// What the checklist decides on for `row`, going live in place of `live_version`.
    pub async fn gather_facts(
        db: &PortableDb,
        row: &VersionRow,
        behind: i64,
        live_version: Option<i64>,
    ) -> Result<ReadinessFacts, sqlx::Error> {
        let now = Utc::now();
        let name = row.def.name();
        let settings = settings::load(db, name).await?;
        let comparison = match live_version {
            Some(live) => comparisons::latest(db, name, row.def.version(), live).await?,
            None => None,
        };
        let owner_heartbeat_age = match &row.owner_node {
            Some(node) => nodes::heartbeat_age(db, node, now).await?,
            None => None,
        };
        Ok(ReadinessFacts {
            behind,
            max_lag_events: settings.max_lag_events,
            failure: row.failure.as_ref().map(|f| f.error.clone()),
            rebuilding: row.rebuild.is_some(),
            unacknowledged_skips: skips::unacknowledged(db, row.def).await?,
            comparison: comparison.map(|c| ComparisonFacts {
                age_seconds: (now - c.at).num_milliseconds().max(0) as f64 / 1000.0,
                identical: c.identical,
                differing: c.differing,
                only_live: c.only_live,
                only_candidate: c.only_candidate,
                acknowledged_by: c.acknowledged_by,
            }),
            comparison_valid_minutes: settings.comparison_valid_minutes,
            owner_heartbeat_age,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> ReadinessFacts {
        ReadinessFacts {
            behind: 0,
            max_lag_events: 0,
            failure: None,
            rebuilding: false,
            unacknowledged_skips: 0,
            comparison: Some(ComparisonFacts {
                age_seconds: 30.0,
                identical: true,
                differing: 0,
                only_live: 0,
                only_candidate: 0,
                acknowledged_by: None,
            }),
            comparison_valid_minutes: 15,
            owner_heartbeat_age: Some(1.0),
        }
    }

    /// Each item fails on its own, and says why.
    #[test]
    fn each_item_fails_alone_with_its_reason() {
        let differing = ComparisonFacts {
            identical: false,
            differing: 3,
            ..ready().comparison.unwrap()
        };
        let cases: Vec<(&str, ReadinessFacts, CheckItem, &str)> = vec![
            (
                "lagging",
                ReadinessFacts {
                    behind: 5,
                    ..ready()
                },
                CheckItem::CaughtUp,
                "5 events behind",
            ),
            (
                "rebuilding",
                ReadinessFacts {
                    rebuilding: true,
                    ..ready()
                },
                CheckItem::CaughtUp,
                "rebuild",
            ),
            (
                "failed",
                ReadinessFacts {
                    failure: Some("boom".into()),
                    ..ready()
                },
                CheckItem::Healthy,
                "failed: boom",
            ),
            (
                "skipped",
                ReadinessFacts {
                    unacknowledged_skips: 1,
                    ..ready()
                },
                CheckItem::Healthy,
                "1 skipped event",
            ),
            (
                "never compared",
                ReadinessFacts {
                    comparison: None,
                    ..ready()
                },
                CheckItem::Compared,
                "not compared",
            ),
            (
                "stale comparison",
                ReadinessFacts {
                    comparison: Some(ComparisonFacts {
                        age_seconds: 3600.0,
                        ..ready().comparison.unwrap()
                    }),
                    ..ready()
                },
                CheckItem::Compared,
                "compare again",
            ),
            (
                "differences",
                ReadinessFacts {
                    comparison: Some(differing.clone()),
                    ..ready()
                },
                CheckItem::Compared,
                "accept them",
            ),
            (
                "no node",
                ReadinessFacts {
                    owner_heartbeat_age: None,
                    ..ready()
                },
                CheckItem::Running,
                "no node",
            ),
            (
                "dead node",
                ReadinessFacts {
                    owner_heartbeat_age: Some(30.0),
                    ..ready()
                },
                CheckItem::Running,
                "30s ago",
            ),
        ];
        assert!(first_failing(&ready()).is_none());
        for (name, facts, item, reason) in cases {
            let failing: Vec<Check> = checklist(&facts).into_iter().filter(|c| !c.ok).collect();
            assert_eq!(failing.len(), 1, "{name}: {failing:?}");
            assert_eq!(failing[0].item, item, "{name}");
            assert!(
                failing[0].reason.contains(reason),
                "{name}: {}",
                failing[0].reason
            );
        }
        // Accepted differences and an allowed lag are green.
        let accepted = ComparisonFacts {
            acknowledged_by: Some("ada".into()),
            ..differing
        };
        let f = ReadinessFacts {
            comparison: Some(accepted),
            behind: 2,
            max_lag_events: 5,
            ..ready()
        };
        assert!(first_failing(&f).is_none(), "{:?}", checklist(&f));
    }
}

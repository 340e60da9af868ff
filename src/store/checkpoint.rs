//! How far a reader of the whole log has read: a checkpoint.
//!
//! On SQLite one writer commits at a time, so sequence numbers are commit order and the last
//! `seq` read says everything.
//!
//! On PostgreSQL transactions commit in any order, so a number cannot say it without waiting
//! for every transaction on the server (the old reader did: `tx_id < xmin`). Instead, as
//! Skype's PgQ does, the checkpoint is a transaction snapshot: the reader has read exactly the
//! events whose transaction that snapshot sees. The next read takes the current snapshot and
//! returns the events it sees that the checkpoint's did not: those of transactions in the
//! checkpoint's in-progress list or at/after its `xmax`. Nothing but an event's own open
//! transaction keeps it from the next read, and nothing is read twice.
//!
//! A read larger than one batch pages through a fixed target snapshot (`toward`) in `seq`
//! order, so memory stays flat during a catch-up or rebuild; when the last page is read, the
//! target becomes the seen snapshot.

use std::fmt;
use std::str::FromStr;

/// A PostgreSQL transaction snapshot (`pg_snapshot`): transactions below `xmin` are finished,
/// those from `xmax` on had not started, and those in `xip` were still in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxSnapshot {
    pub xmin: i64,
    pub xmax: i64,
    pub xip: Vec<i64>,
}

impl TxSnapshot {
    /// True when a transaction that committed is visible in this snapshot.
    pub fn sees(&self, tx: i64) -> bool {
        tx < self.xmin || (tx < self.xmax && !self.xip.contains(&tx))
    }
}

/// `pg_snapshot`'s own text form: `xmin:xmax:xip1,xip2`.
impl fmt::Display for TxSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:", self.xmin, self.xmax)?;
        for (i, tx) in self.xip.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{tx}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a checkpoint: {0:?}")]
pub struct BadCheckpoint(String);

impl FromStr for TxSnapshot {
    type Err = BadCheckpoint;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadCheckpoint(s.to_string());
        let mut parts = s.splitn(3, ':');
        let number = |p: Option<&str>| p.and_then(|p| p.parse::<i64>().ok()).ok_or_else(bad);
        let xmin = number(parts.next())?;
        let xmax = number(parts.next())?;
        let xip = match parts.next().ok_or_else(bad)? {
            "" => Vec::new(),
            list => list
                .split(',')
                .map(|t| t.parse().map_err(|_| bad()))
                .collect::<Result<_, _>>()?,
        };
        if xmin > xmax || xip.iter().any(|&t| t < xmin || t >= xmax) {
            return Err(bad());
        }
        Ok(TxSnapshot { xmin, xmax, xip })
    }
}

/// A read in pages toward a fixed snapshot: of the events it sees beyond the seen snapshot,
/// those up to `after_seq` are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toward {
    pub snapshot: TxSnapshot,
    pub after_seq: i64,
}

/// How far a reader of the whole log has read (see the module's comment).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// PostgreSQL: every event whose transaction this snapshot sees is read; `None` before
    /// the first read.
    pub seen: Option<TxSnapshot>,
    /// PostgreSQL: a read under way in pages.
    pub toward: Option<Toward>,
    /// The highest sequence number read. On SQLite this alone is the checkpoint; on
    /// PostgreSQL it is shown to people (how far along), never used to read.
    pub seq: i64,
}

impl Checkpoint {
    /// Nothing read yet.
    pub const START: Checkpoint = Checkpoint {
        seen: None,
        toward: None,
        seq: 0,
    };

    /// True when the event with sequence number `seq`, written by transaction `tx` (PostgreSQL;
    /// `None` on SQLite), is among the events read.
    pub fn includes(&self, tx: Option<i64>, seq: i64) -> bool {
        let Some(tx) = tx else {
            return seq <= self.seq;
        };
        self.seen.as_ref().is_some_and(|s| s.sees(tx))
            || self
                .toward
                .as_ref()
                .is_some_and(|t| t.snapshot.sees(tx) && seq <= t.after_seq)
    }

    /// The stored form of the snapshots (`seq` is stored beside it): empty on SQLite and
    /// before the first read; `seen` alone; or `seen toward target after seq`, with `-` for a
    /// `seen` not taken yet.
    pub fn snapshot_text(&self) -> String {
        let seen = self.seen.as_ref().map(ToString::to_string);
        match (&seen, &self.toward) {
            (None, None) => String::new(),
            (Some(seen), None) => seen.clone(),
            (seen, Some(t)) => format!(
                "{} toward {} after {}",
                seen.as_deref().unwrap_or("-"),
                t.snapshot,
                t.after_seq
            ),
        }
    }

    /// Reads back what `snapshot_text` wrote, with the `seq` stored beside it.
    pub fn from_stored(text: &str, seq: i64) -> Result<Self, BadCheckpoint> {
        let bad = || BadCheckpoint(text.to_string());
        let seen_of = |s: &str| match s {
            "-" => Ok(None),
            s => s.parse().map(Some),
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let (seen, toward) = match words.as_slice() {
            [] => (None, None),
            [seen] => (seen_of(seen)?, None),
            [seen, "toward", target, "after", after] => {
                let toward = Toward {
                    snapshot: target.parse()?,
                    after_seq: after.parse().map_err(|_| bad())?,
                };
                (seen_of(seen)?, Some(toward))
            }
            _ => return Err(bad()),
        };
        Ok(Checkpoint { seen, toward, seq })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(xmin: i64, xmax: i64, xip: &[i64]) -> TxSnapshot {
        TxSnapshot {
            xmin,
            xmax,
            xip: xip.to_vec(),
        }
    }

    #[test]
    fn snapshots_read_and_write_postgres_text_form() {
        let cases = [
            ("727:727:", Some(snap(727, 727, &[]))),
            ("10:20:10,15", Some(snap(10, 20, &[10, 15]))),
            ("10:20:9", None),
            ("10:20:20", None),
            ("20:10:", None),
            ("10:20", None),
            ("a:20:", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<TxSnapshot>().ok(), expected, "{text}");
            if let Some(s) = expected {
                assert_eq!(s.to_string(), text);
            }
        }
    }

    #[test]
    fn a_snapshot_sees_what_finished_before_it() {
        let s = snap(10, 20, &[10, 15]);
        let cases = [
            (9, true),
            (10, false),
            (11, true),
            (15, false),
            (19, true),
            (20, false),
        ];
        for (tx, sees) in cases {
            assert_eq!(s.sees(tx), sees, "tx {tx}");
        }
    }

    #[test]
    fn checkpoints_round_trip_through_their_stored_form() {
        let cases = [
            Checkpoint::START,
            Checkpoint {
                seq: 7,
                ..Checkpoint::START
            },
            Checkpoint {
                seen: Some(snap(10, 20, &[12])),
                toward: None,
                seq: 40,
            },
            Checkpoint {
                seen: None,
                toward: Some(Toward {
                    snapshot: snap(30, 31, &[]),
                    after_seq: 500,
                }),
                seq: 500,
            },
            Checkpoint {
                seen: Some(snap(10, 20, &[12])),
                toward: Some(Toward {
                    snapshot: snap(12, 25, &[21]),
                    after_seq: 9,
                }),
                seq: 44,
            },
        ];
        for c in cases {
            let text = c.snapshot_text();
            assert_eq!(
                Checkpoint::from_stored(&text, c.seq),
                Ok(c.clone()),
                "{text}"
            );
        }
        for bad in ["x", "1:2: toward", "1:2: toward 3:4: after x", "1:2: 3:4:"] {
            assert!(Checkpoint::from_stored(bad, 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_checkpoint_includes_what_it_saw_and_the_pages_read_toward_its_target() {
        let c = Checkpoint {
            seen: Some(snap(10, 20, &[12])),
            toward: Some(Toward {
                snapshot: snap(25, 25, &[]),
                after_seq: 100,
            }),
            seq: 100,
        };
        let cases = [
            // (tx, seq, included)
            (9, 500, true),   // seen
            (12, 90, true),   // in progress when seen, read in a page since
            (12, 101, false), // beyond the page
            (21, 100, true),  // new, within the page
            (25, 1, false),   // after the target
            (30, 1, false),
        ];
        for (tx, seq, included) in cases {
            assert_eq!(c.includes(Some(tx), seq), included, "tx {tx} seq {seq}");
        }
        assert!(Checkpoint::START.includes(None, 0));
        assert!(!Checkpoint::START.includes(None, 1));
        assert!(!Checkpoint::START.includes(Some(3), 1));
    }
}

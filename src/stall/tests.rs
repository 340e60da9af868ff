use super::*;

fn holder(pid: i32, age: f64, role: HolderRole) -> Holder {
    let ours = role != HolderRole::Blocker;
    Holder {
        pid,
        user: Some("alice".into()),
        database: Some("freight".into()),
        application_name: Some(if ours { "freightdesk" } else { "psql" }.into()),
        client_addr: Some("10.0.0.7".into()),
        state: Some("idle in transaction".into()),
        transaction_age_seconds: age,
        query_started_at: None,
        query: Some("UPDATE streams SET ...".into()),
        role,
        blocks: if ours { 0 } else { 2 },
    }
}

fn report(waiting: i64, holders: Vec<Holder>) -> HoldReport {
    HoldReport {
        waiting_sessions: waiting,
        holders,
    }
}

use HolderRole::{Blocker, SlowAppend, SlowBatch};

#[test]
fn held_for_is_the_oldest_holders_age() {
    let cases = [
        ("nothing slow", report(0, vec![]), 0.0),
        (
            "one slow append",
            report(0, vec![holder(1, 1.5, SlowAppend)]),
            1.5,
        ),
        (
            "oldest of several",
            report(2, vec![holder(1, 2.0, Blocker), holder(2, 30.0, SlowBatch)]),
            30.0,
        ),
        (
            "ages hidden",
            report(1, vec![holder(1, -1.0, Blocker)]),
            0.0,
        ),
    ];
    for (name, report, expected) in cases {
        assert_eq!(report.held_for_seconds(), expected, "{name}");
        assert_eq!(report.is_held_back(), !report.holders.is_empty(), "{name}");
    }
}

#[test]
fn the_holder_to_look_at_is_another_session_in_the_way_before_our_own_slow_work() {
    let cases = [
        (vec![], None),
        (vec![holder(1, 2.0, SlowAppend)], Some(1)),
        (
            vec![holder(1, 2.0, SlowAppend), holder(2, 9.0, SlowBatch)],
            Some(2),
        ),
        (
            vec![holder(1, 5.0, Blocker), holder(2, 50.0, Blocker)],
            Some(2),
        ),
        (
            vec![
                holder(1, 500.0, SlowBatch),
                holder(2, 50.0, Blocker),
                holder(3, 5.0, SlowAppend),
            ],
            Some(2),
        ),
    ];
    for (holders, expected) in cases {
        let r = report(1, holders);
        assert_eq!(r.blocking_holder().map(|h| h.pid), expected, "{r:?}");
    }
    let r = report(
        0,
        vec![
            holder(1, 2.0, SlowAppend),
            holder(2, 3.0, SlowAppend),
            holder(3, 1.0, SlowBatch),
        ],
    );
    assert_eq!((r.slow_appends(), r.slow_batches()), (2, 1));
}

#[test]
fn without_query_hides_only_the_statement() {
    let h = holder(7, 1.0, Blocker);
    let hidden = h.clone().without_query();
    assert_eq!(hidden.query, None);
    assert_eq!(
        Holder {
            query: h.query.clone(),
            ..hidden
        },
        h
    );
    let r = report(1, vec![h.clone(), h]).without_queries();
    assert!(r.holders.iter().all(|h| h.query.is_none()));
}

#[test]
fn explain_says_what_is_slow_what_it_delays_and_what_to_do() {
    let hidden = Holder {
        state: None,
        ..holder(9, 0.0, Blocker)
    };
    let prepared = Holder {
        pid: 0,
        application_name: None,
        ..holder(0, 7200.0, Blocker)
    };
    let cases: Vec<(&str, HoldReport, Vec<&str>, Vec<&str>)> = vec![
        (
            "nothing",
            report(0, vec![]),
            vec!["Nothing holds projections back", "does not hold them back"],
            vec!["pg_terminate_backend"],
        ),
        (
            "a blocker",
            report(3, vec![holder(42, 185.0, Blocker)]),
            vec![
                "3 of freightdesk's sessions wait",
                "session 42",
                "psql",
                "10.0.0.7",
                "3 min 5 s",
                "pg_terminate_backend(42)",
                "everything else goes on",
            ],
            vec!["prepared"],
        ),
        (
            "one waits",
            report(
                1,
                vec![Holder {
                    blocks: 1,
                    ..holder(42, 5.0, Blocker)
                }],
            ),
            vec!["1 of freightdesk's session waits"],
            vec![],
        ),
        (
            "details hidden",
            report(1, vec![hidden]),
            vec!["session 9 ", "pg_read_all_stats", "pg_terminate_backend(9)"],
            vec!["open for"],
        ),
        (
            "prepared",
            report(1, vec![prepared]),
            vec![
                "prepared (two-phase) transaction",
                "2 h 0 min",
                "COMMIT PREPARED",
            ],
            vec!["pg_terminate_backend"],
        ),
        (
            "slow append",
            report(0, vec![holder(5, 2.0, SlowAppend)]),
            vec![
                "appends has been open for 2 s",
                "same shipments",
                "other shipments are not held back",
            ],
            vec!["pg_terminate_backend"],
        ),
        (
            "slow batch",
            report(0, vec![holder(6, 12.0, SlowBatch)]),
            vec!["projection batch", "12 s", "--batch-size"],
            vec!["pg_terminate_backend"],
        ),
    ];
    for (name, report, present, absent) in cases {
        let text = explain(&report);
        for p in present {
            assert!(text.contains(p), "{name}: {p:?} missing in {text:?}");
        }
        for a in absent {
            assert!(!text.contains(a), "{name}: {a:?} present in {text:?}");
        }
    }
}

#[test]
fn durations_read_naturally() {
    let cases = [
        (0.004, "4 ms"),
        (0.0, "0 ms"),
        (42.9, "42 s"),
        (185.0, "3 min 5 s"),
        (7800.0, "2 h 10 min"),
        (273_600.0, "3 d 4 h"),
    ];
    for (seconds, expected) in cases {
        assert_eq!(human_duration(seconds), expected);
    }
}

#[test]
fn reports_round_trip_through_json_for_the_browser() {
    let r = report(3, vec![holder(1, 2.5, Blocker), holder(2, 1.5, SlowAppend)]);
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<HoldReport>(&json).unwrap(), r);
}

#[cfg(feature = "ssr")]
#[test]
fn prometheus_text_has_help_type_and_one_gauge_per_version() {
    let versions = vec![
        ("shipment_board".to_string(), 1),
        ("shipment_board".to_string(), 2),
        ("daily \"x\"".to_string(), 1),
    ];
    let cases = [
        (report(0, vec![]), "0.000", [0, 0, 0], "0"),
        (
            report(4, vec![holder(1, 12.5, Blocker)]),
            "12.500",
            [0, 0, 4],
            "1",
        ),
        (
            report(
                0,
                vec![holder(1, 2.0, SlowAppend), holder(2, 3.0, SlowBatch)],
            ),
            "3.000",
            [1, 1, 0],
            "1",
        ),
    ];
    for (report, seconds, [appends, batches, waits], held) in cases {
        let text = prometheus_lines(&report, &versions);
        for line in [
            format!("freightdesk_projections_held_back_seconds {seconds}\n"),
            format!("freightdesk_slow_appends {appends}\n"),
            format!("freightdesk_slow_batches {batches}\n"),
            format!("freightdesk_lock_waits {waits}\n"),
            format!("freightdesk_projection_held_back{{projection=\"shipment_board\",version=\"1\"}} {held}\n"),
            format!("freightdesk_projection_held_back{{projection=\"shipment_board\",version=\"2\"}} {held}\n"),
            format!("freightdesk_projection_held_back{{projection=\"daily \\\"x\\\"\",version=\"1\"}} {held}\n"),
        ] {
            assert!(text.contains(&line), "{line:?} missing in\n{text}");
        }
        for name in [
            "projections_held_back_seconds",
            "slow_appends",
            "slow_batches",
            "lock_waits",
            "projection_held_back",
        ] {
            assert!(
                text.contains(&format!("# HELP freightdesk_{name} ")),
                "{name}"
            );
            assert!(
                text.contains(&format!("# TYPE freightdesk_{name} gauge")),
                "{name}"
            );
        }
    }
    assert!(prometheus_lines(&report(0, vec![]), &[]).ends_with("gauge\n"));
}

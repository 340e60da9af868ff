use super::*;
use chrono::TimeZone;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

fn holder(pid: i32, age: f64, own_append: bool) -> Holder {
    Holder {
        pid,
        user: Some("alice".into()),
        database: Some("reports".into()),
        application_name: Some(if own_append { "freightdesk" } else { "psql" }.into()),
        client_addr: Some("10.0.0.7".into()),
        state: Some("idle in transaction".into()),
        transaction_age_seconds: age,
        query_started_at: Some(at(0)),
        query: Some("UPDATE accounts SET ...".into()),
        own_append,
    }
}

fn report(unreadable: i64, holders: Vec<Holder>) -> HoldReport {
    HoldReport {
        unreadable_events: unreadable,
        oldest_unreadable_at: (unreadable > 0).then(|| at(0)),
        holders,
    }
}

#[test]
fn held_for_is_the_oldest_holders_age_or_else_the_wait_of_the_first_event() {
    let cases = [
        ("not held back", report(0, vec![]), 0.0),
        (
            "not held back, stray holder",
            report(0, vec![holder(1, 9.0, false)]),
            0.0,
        ),
        ("one holder", report(3, vec![holder(1, 9.5, false)]), 9.5),
        (
            "oldest of several, own included",
            report(3, vec![holder(1, 2.0, false), holder(2, 30.0, true)]),
            30.0,
        ),
        (
            "no holder visible: first event's wait",
            report(3, vec![]),
            42.0,
        ),
        (
            "ages hidden: first event's wait",
            report(3, vec![holder(1, 0.0, false)]),
            42.0,
        ),
    ];
    for (name, report, expected) in cases {
        assert_eq!(report.held_for_seconds(at(42)), expected, "{name}");
    }
    let future = HoldReport {
        oldest_unreadable_at: Some(at(60)),
        ..report(1, vec![])
    };
    assert_eq!(
        future.held_for_seconds(at(42)),
        0.0,
        "clock skew never goes negative"
    );
}

#[test]
fn the_blocking_holder_is_the_oldest_that_is_not_our_own_append() {
    let cases = [
        (vec![], None),
        (vec![holder(1, 0.01, true)], None),
        (vec![holder(1, 5.0, false), holder(2, 50.0, false)], Some(2)),
        (
            vec![
                holder(1, 500.0, true),
                holder(2, 50.0, false),
                holder(3, 5.0, false),
            ],
            Some(2),
        ),
    ];
    for (holders, expected) in cases {
        let r = report(3, holders);
        assert_eq!(r.blocking_holder().map(|h| h.pid), expected, "{r:?}");
    }
}

#[test]
fn without_query_hides_only_the_statement() {
    let h = holder(7, 1.0, false);
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
fn explain_says_what_waits_why_and_what_to_do() {
    let hidden = Holder {
        state: None,
        ..holder(9, 0.0, false)
    };
    let prepared = Holder {
        pid: 0,
        application_name: None,
        ..holder(0, 7200.0, false)
    };
    let cases: Vec<(&str, HoldReport, Vec<&str>, Vec<&str>)> = vec![
        ("not held back", report(0, vec![]), vec!["no open transaction holds them back"], vec!["pg_terminate_backend"]),
        ("own appends only", report(2, vec![holder(5, 0.004, true)]), vec!["2 committed events are waiting", "1 of freightdesk's own appends", "milliseconds"], vec!["pg_terminate_backend"]),
        ("holder just ended", report(1, vec![]), vec!["1 committed event is waiting", "just ended", "pg_prepared_xacts"], vec!["pg_terminate_backend"]),
        (
            "forgotten session",
            report(3, vec![holder(5, 0.01, true), holder(4242, 3725.0, false)]),
            vec![
                "3 committed events are waiting",
                "2027-01-15 08:00:00 UTC",
                "miss that event for good",
                "session 4242 (user alice, database reports, application psql, from 10.0.0.7), idle in transaction, open for 1 h 2 min",
                "SELECT pg_terminate_backend(4242);",
                "idle_in_transaction_session_timeout",
                "every database on the server",
            ],
            vec!["UPDATE accounts"],
        ),
        ("details hidden", report(1, vec![hidden]), vec!["session 9 ", "pg_read_all_stats", "pg_terminate_backend(9)"], vec!["open for"]),
        ("prepared transaction", report(1, vec![prepared]), vec!["prepared (two-phase)", "2 h 0 min ago", "ROLLBACK PREPARED"], vec!["pg_terminate_backend"]),
    ];
    for (name, report, present, absent) in cases {
        let text = explain(&report);
        for p in present {
            assert!(text.contains(p), "{name}: {p:?} missing from {text:?}");
        }
        for a in absent {
            assert!(!text.contains(a), "{name}: {a:?} should not be in {text:?}");
        }
        assert!(!text.contains('\n'), "{name}: one paragraph");
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
    let r = report(3, vec![holder(1, 2.5, false)]);
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
        (report(0, vec![]), "0.000", "0"),
        (report(4, vec![holder(1, 12.5, false)]), "12.500", "1"),
        (report(4, vec![]), "42.000", "1"),
    ];
    for (report, seconds, held) in cases {
        let text = server::render(&report, &versions, at(42));
        let expected = format!(
            "# HELP freightdesk_projections_held_back_seconds Age of the oldest open transaction holding projections back (0 when none is).\n\
             # TYPE freightdesk_projections_held_back_seconds gauge\n\
             freightdesk_projections_held_back_seconds {seconds}\n\
             # HELP freightdesk_projection_held_back 1 while committed events wait for an older open transaction before this projection version may read them.\n\
             # TYPE freightdesk_projection_held_back gauge\n\
             freightdesk_projection_held_back{{projection=\"shipment_board\",version=\"1\"}} {held}\n\
             freightdesk_projection_held_back{{projection=\"shipment_board\",version=\"2\"}} {held}\n\
             freightdesk_projection_held_back{{projection=\"daily \\\"x\\\"\",version=\"1\"}} {held}\n"
        );
        assert_eq!(text, expected);
    }
    assert!(prometheus_lines(&report(0, vec![]), &[]).ends_with("gauge\n"));
}

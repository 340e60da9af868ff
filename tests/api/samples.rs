//! The data behind the console's charts: the daemon samples every version's lag and rate (also
//! while it is busy), the samples server function returns the last hour of them, the ring table
//! forgets older samples, and the daily counts cover the last 30 calendar days with zeros.

use crate::both_backends;
use crate::helpers::{eventually, spawn_app, Dialect, TestApp};
use chrono::{TimeDelta, Utc};
use freightdesk::api::projections::{DailyView, VersionSeries};
use freightdesk::projections::samples::{self, Sample};
use freightdesk::projections::Definition;

async fn series(app: &TestApp) -> Vec<VersionSeries> {
    let response = app.post_form("projections/samples", &[]).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("the samples as JSON")
}

/// Asks for the samples until `done` holds for them (test apps sample every half second).
async fn samples_until(
    app: &TestApp,
    what: &str,
    done: impl Fn(&[VersionSeries]) -> bool,
) -> Vec<VersionSeries> {
    eventually(what, async || {
        let all = series(app).await;
        if done(&all) {
            Ok(all)
        } else {
            Err(all)
        }
    })
    .await
}

both_backends!(
    the_daemon_samples_lag_and_rate,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        for origin in ["Rotterdam", "Antwerp", "Hamburg"] {
            app.schedule(origin).await;
        }
        // The board versions applied three events within the last minute: a later sample shows a
        // rate above zero.
        let all = samples_until(
            &app,
            "a sample with the rate of the applied events",
            |all| {
                all.iter().any(|s| {
                    s.key == "shipment_board@1" && s.points.iter().any(|p| p.events_per_sec > 0.0)
                })
            },
        )
        .await;
        let mut keys: Vec<&str> = all.iter().map(|s| s.key.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["daily_shipments@1", "shipment_board@1", "shipment_board@2"]
        );
        for s in &all {
            assert!(!s.points.is_empty(), "{} has no samples", s.key);
            for p in &s.points {
                assert!((0.0..=3600.0).contains(&p.seconds_ago), "{p:?}");
                assert!(p.lag_events >= 0 && p.events_per_sec >= 0.0, "{p:?}");
            }
            let ages: Vec<f64> = s.points.iter().map(|p| p.seconds_ago).collect();
            assert!(
                ages.windows(2).all(|w| w[0] >= w[1]),
                "oldest first: {ages:?}"
            );
        }
    }
);

both_backends!(
    samples_older_than_an_hour_are_forgotten,
    |backend: Dialect| async move {
        let mut app = spawn_app(backend).await;
        // The daemon's own samples prune too: stop it, so only this test's samples count.
        if let Some(daemon) = app.workers.take() {
            daemon.shutdown().await;
        }
        let db = &app.projections;
        let def = Definition::DailyShipmentsV1;
        let now = Utc::now();
        let sample = |at, lag_events| Sample {
            at,
            lag_events,
            events_per_sec: 1.5,
        };
        let old = now - TimeDelta::hours(3);
        samples::record(db, def, &sample(old, 7)).await.unwrap();
        let since = now - TimeDelta::hours(4);
        let recent = samples::recent(db, def, since).await.unwrap();
        assert!(recent.iter().any(|s| s.lag_events == 7));

        samples::record(db, def, &sample(old + TimeDelta::minutes(90), 8))
            .await
            .unwrap();
        let recent = samples::recent(db, def, since).await.unwrap();
        assert!(
            !recent.iter().any(|s| s.lag_events == 7),
            "a sample 90 minutes older than the newest was kept: {recent:?}"
        );
        assert!(recent
            .iter()
            .any(|s| s.lag_events == 8 && s.events_per_sec == 1.5));
        // And the server function shows only the last hour.
        let shown = series(&app).await;
        let daily = shown.iter().find(|s| s.key == def.key()).unwrap();
        assert!(daily.points.iter().all(|p| p.lag_events != 8));
    }
);

both_backends!(
    daily_counts_cover_thirty_calendar_days,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        app.schedule("Rotterdam").await;
        app.schedule("Antwerp").await;
        let view = eventually("a count for today", async || {
            let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
            let response = app.post_form("projections/daily", &[]).await;
            assert_eq!(response.status(), 200);
            let view: DailyView = response.json().await.unwrap();
            if view
                .days
                .first()
                .is_some_and(|d| d.day == today && d.scheduled == 2)
            {
                Ok(view)
            } else {
                Err(view)
            }
        })
        .await;
        assert_eq!(view.days.len(), 30);
        assert_eq!(view.served_by, "daily_shipments@1");
        // One row per calendar day, newest first, without gaps; quiet days are zeros.
        let days: Vec<chrono::NaiveDate> = view
            .days
            .iter()
            .map(|d| chrono::NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").unwrap())
            .collect();
        assert!(days.windows(2).all(|w| w[0] - w[1] == TimeDelta::days(1)));
        for d in &view.days[1..] {
            assert_eq!(
                (d.scheduled, d.picked_up, d.delivered, d.cancelled),
                (0, 0, 0, 0)
            );
        }
    }
);

//! Dead letters in bulk: Retry all and Discard all act on exactly the count the admin
//! confirmed (or refuse, changing nothing), and each is audited once with the count.

use crate::both_backends;
use crate::helpers::{eventually, spawn_app, Dialect, TestApp};
use crate::receiver::{Answer, Receiver};
use crate::subscriptions::{subscribe, whole_journey};
use serde_json::Value;

async fn count(app: &TestApp, status: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = $1")
        .bind(status.to_string())
        .fetch_one(app.projections.read())
        .await
        .unwrap()
}

async fn dead_letters_reach(app: &TestApp, n: i64) {
    eventually("the dead letters", async || {
        match count(app, "dead").await {
            d if d == n => Ok(()),
            d => Err(d),
        }
    })
    .await
}

async fn bulk(app: &TestApp, endpoint: &str, id: i64, confirmed: i64) -> (u16, Value) {
    let (id, confirmed) = (id.to_string(), confirmed.to_string());
    let response = app
        .post_form(endpoint, &[("id", &id), ("count", &confirmed)])
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn bulk_audit(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT action, detail FROM subscription_audit WHERE action LIKE '% all dead letters' ORDER BY id",
    )
    .fetch_all(app.projections.read())
    .await
    .unwrap()
}

both_backends!(
    retry_all_and_discard_all_act_on_the_confirmed_count,
    |backend: Dialect| async move {
        let app = spawn_app(backend).await;
        let receiver = Receiver::start().await;
        receiver.answer(Answer::Status(400));
        let created = subscribe(&app, "bulk", &receiver.url("hook"), &[], "", "").await;
        whole_journey(&app.store, "Oslo").await;
        dead_letters_reach(&app, 4).await;

        // A count that is not the current one changes nothing.
        let (status, refused) = bulk(&app, "subscriptions/retry-all", created.id, 3).await;
        assert_eq!(status, 422, "{refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("4 dead letters now"),
            "{refused}"
        );
        assert_eq!(count(&app, "dead").await, 4);

        let (status, done) = bulk(&app, "subscriptions/discard-all", created.id, 4).await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(count(&app, "discarded").await, 4);
        assert_eq!(count(&app, "dead").await, 0);
        let (status, _) = bulk(&app, "subscriptions/discard-all", created.id, 0).await;
        assert_eq!(status, 422, "nothing to discard");

        whole_journey(&app.store, "Riga").await;
        dead_letters_reach(&app, 4).await;
        receiver.answer(Answer::Ok);
        let (status, done) = bulk(&app, "subscriptions/retry-all", created.id, 4).await;
        assert_eq!(status, 200, "{done}");
        eventually("the retried letters delivered", async || {
            match count(&app, "delivered").await {
                4 => Ok(()),
                n => Err(n),
            }
        })
        .await;
        assert_eq!(
            bulk_audit(&app).await,
            vec![
                (
                    "discarded all dead letters".to_string(),
                    "4 dead letters".to_string()
                ),
                (
                    "retried all dead letters".to_string(),
                    "4 dead letters".to_string()
                ),
            ]
        );
    }
);

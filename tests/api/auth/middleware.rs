//! The policy and cross-site layers in front of a tiny router, signed in through the real login.

use super::{test_auth, with_users, ADMIN_PASSWORD, DAN_PASSWORD};
use crate::both_backends;
use crate::helpers::Dialect;
use axum::routing::{get, post};
use axum::{Extension, Router};
use freightdesk::auth::{enforce_policy, refuse_cross_site, AuthConfig, CurrentUser};
use reqwest::{header, Client, RequestBuilder, Response};
use serde_json::Value;

const METRICS_TOKEN: &str = "scrape-me-please-0123456789";

struct Server {
    base: String,
    client: Client,
}

impl Server {
    fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.base))
    }

    /// A POST as our own pages send it: with this server as the origin.
    fn post(&self, path: &str) -> RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .header(header::ORIGIN, &self.base)
    }
}

async fn serve(router: Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Server {
        base,
        client: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

async fn who(Extension(user): Extension<CurrentUser>) -> String {
    user.name
}

fn cookie(token: &str) -> String {
    format!("freightdesk_session={token}")
}

async fn json(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.expect("a JSON body")
}

both_backends!(
    the_layers_guard_every_route,
    |backend: Dialect| async move {
        let config = AuthConfig {
            metrics_token: Some(METRICS_TOKEN.into()),
            ..AuthConfig::default()
        };
        let t = test_auth(backend, config).await;
        with_users(&t).await;
        let router = Router::new()
            .route("/api/shipments/schedule", post(who))
            .route("/api/projections/cut-over", post(who))
            .route("/", get(who))
            .route("/metrics", get(|| async { "projection_lag 0\n" }))
            .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "no such page") })
            .layer(axum::middleware::from_fn_with_state(
                t.auth.clone(),
                enforce_policy,
            ))
            .layer(axum::middleware::from_fn(refuse_cross_site));
        let s = serve(router).await;
        let (_, dan) = t.auth.login("dan", DAN_PASSWORD, None).await.unwrap();
        let (_, root) = t.auth.login("root", ADMIN_PASSWORD, None).await.unwrap();

        // Nobody signed in: API calls get 401, pages a redirect that comes back.
        let r = s.post("/api/shipments/schedule").send().await.unwrap();
        let body = json(r, 401).await;
        assert_eq!(body["kind"], "unauthorized");
        assert_eq!(body["message"], "sign in first");
        let r = s.get("/?status=scheduled").send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/login?next=%2F%3Fstatus%3Dscheduled"
        );
        let r = s.get("/api/nothing-here").send().await.unwrap();
        assert_eq!(json(r, 404).await["kind"], "not_found");

        // A dispatcher may schedule, and the handler sees who it is; cut-over is not theirs.
        let r = s
            .post("/api/shipments/schedule")
            .header(header::COOKIE, cookie(&dan));
        assert_eq!(r.send().await.unwrap().text().await.unwrap(), "dan");
        let r = s
            .post("/api/projections/cut-over")
            .header(header::COOKIE, cookie(&dan));
        let body = json(r.send().await.unwrap(), 403).await;
        assert_eq!(body["kind"], "forbidden");
        let r = s
            .get("/")
            .header(header::COOKIE, cookie(&dan))
            .send()
            .await
            .unwrap();
        assert_eq!(r.text().await.unwrap(), "dan");

        // An admin may.
        let r = s
            .post("/api/projections/cut-over")
            .header(header::COOKIE, cookie(&root));
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "root");

        // Writes from another site, or of unknown origin, are refused even when signed in.
        let foreign = s
            .client
            .post(format!("{}/api/projections/cut-over", s.base))
            .header(header::COOKIE, cookie(&root));
        let r = foreign
            .try_clone()
            .unwrap()
            .header(header::ORIGIN, "http://evil.example");
        let body = json(r.send().await.unwrap(), 403).await;
        assert_eq!(body["message"], "cross-site request refused");
        let body = json(foreign.try_clone().unwrap().send().await.unwrap(), 403).await;
        assert_eq!(body["kind"], "forbidden");
        let referer = format!("{}/projections", s.base);
        let r = foreign
            .header(header::REFERER, referer)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "a same-site Referer will do when Origin is missing"
        );

        // Metrics: a scraper's bearer token or an admin session.
        assert_eq!(s.get("/metrics").send().await.unwrap().status(), 401);
        let bearer = |token: &str| s.get("/metrics").bearer_auth(token);
        assert_eq!(bearer(METRICS_TOKEN).send().await.unwrap().status(), 200);
        assert_eq!(
            bearer("scrape-me-please-0123456788")
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
        let r = s
            .get("/metrics")
            .header(header::COOKIE, cookie(&root))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = s
            .get("/metrics")
            .header(header::COOKIE, cookie(&dan))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // After signing out the cookie is dead, and the browser is told to drop it.
        t.auth.logout(&dan).await.unwrap();
        let r = s
            .get("/")
            .header(header::COOKIE, cookie(&dan))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let cleared = r.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(cleared.starts_with("freightdesk_session=;"), "{cleared}");
        let r = s
            .post("/api/shipments/schedule")
            .header(header::COOKIE, cookie(&dan));
        assert_eq!(r.send().await.unwrap().status(), 401);
    }
);

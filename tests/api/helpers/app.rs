//! The real server on a free port, built as `serve` builds it, with the test users signed in
//! through the login endpoint.

use super::{fresh_database_url, parse_url, Dialect};
use freightdesk::config::Config;
use freightdesk::db::PortableDb;
use freightdesk::server::Application;
use freightdesk::state::Workers;
use freightdesk::store::EventStore;
use freightdesk::time::{Clock, Intervals};
use serde_json::Value;
use std::time::Duration;
use uuid::Uuid;

/// The bearer token `/metrics` accepts in test apps.
pub const METRICS_TOKEN: &str = "scrape-me-please";

/// The people every test app knows: (name, display name, password).
pub const ADMIN: (&str, &str, &str) = ("ada", "Ada Admin", "correct horse battery");
pub const DISPATCHER: (&str, &str, &str) = ("dan", "Dan Dispatcher", "dispatch me gently");

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub projections: PortableDb,
    /// The projection daemon and the webhook subscriptions of this app's node.
    pub workers: Option<Workers>,
    pub store: EventStore,
    /// This app's "now": a test moves it forward instead of sleeping.
    pub clock: Clock,
    /// Signed in as the admin (who may do everything).
    pub client: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

/// A shipment scheduled through the HTTP API, as the answer tells it.
pub struct Scheduled {
    pub id: String,
    pub version: i64,
    /// Where its event is in the log (what read-your-writes waits for).
    pub position: i64,
    /// The cookies the answer sets (`fd_seen`).
    pub set_cookie: Vec<String>,
}

impl TestApp {
    /// Posts a form to a server function as the admin, as a script would (no `Accept: text/html`).
    pub async fn post_form(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_as(&self.client, endpoint, form).await
    }

    pub async fn post_form_as(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(format!("{}/api/{endpoint}", self.address))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Schedules a shipment from `origin` to Milan as the admin; it must be accepted.
    pub async fn schedule(&self, origin: &str) -> Scheduled {
        self.schedule_as(&self.client, origin).await
    }

    /// Schedules a shipment from `origin` to Milan as `client`; it must be accepted.
    pub async fn schedule_as(&self, client: &reqwest::Client, origin: &str) -> Scheduled {
        let form = [
            ("origin", origin),
            ("destination", "Milan"),
            ("pickup_at", "2026-12-01T08:00"),
        ];
        let response = self.post_form_as(client, "shipments/schedule", &form).await;
        assert_eq!(response.status(), 200, "scheduling from {origin}");
        let set_cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok().map(str::to_string))
            .collect();
        let body: Value = response.json().await.expect("the answer as JSON");
        Scheduled {
            id: body["shipment_id"].as_str().unwrap().to_string(),
            version: body["version"].as_i64().unwrap(),
            position: body["position"]
                .as_i64()
                .expect("the answer carries `position`"),
            set_cookie,
        }
    }

    /// A client of this app's own origin with a cookie jar, not signed in.
    pub fn anonymous(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ORIGIN,
            reqwest::header::HeaderValue::from_str(&self.address).expect("origin"),
        );
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .default_headers(headers)
            .build()
            .expect("client")
    }

    /// A client signed in through the real login endpoint.
    pub async fn signed_in(&self, (name, _, password): (&str, &str, &str)) -> reqwest::Client {
        let client = self.anonymous();
        let response = self
            .post_form_as(
                &client,
                "auth/login",
                &[("name", name), ("password", password)],
            )
            .await;
        assert!(
            response.status().is_success(),
            "sign-in of {name} failed: {}",
            response.status()
        );
        client
    }
}

/// Adds the test users through the same service the CLI and the users page use.
pub async fn add_test_users(auth: &freightdesk::auth::Auth) {
    use freightdesk::auth::Role;
    for ((name, display, password), role) in [(ADMIN, Role::Admin), (DISPATCHER, Role::Dispatcher)]
    {
        auth.add_user(name, display, role, password)
            .await
            .expect("add a test user");
    }
}

/// Test receivers listen on loopback, and retries come quickly so a test sees several.
pub fn test_webhook_config() -> freightdesk::subscriptions::WebhookConfig {
    freightdesk::subscriptions::WebhookConfig {
        allow_private_targets: true,
        timeout: std::time::Duration::from_secs(2),
        retry_base: std::time::Duration::from_millis(50),
        retry_cap: std::time::Duration::from_millis(400),
        concurrency: 4,
    }
}

pub async fn spawn_app(backend: Dialect) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// A test app whose configuration `configure` changes first (short timeouts, secure cookies).
pub async fn spawn_app_with(backend: Dialect, configure: impl FnOnce(&mut Config)) -> TestApp {
    let (database_url, dir) = fresh_database_url(backend).await;
    spawn_app_on_with(database_url, dir, configure).await
}

/// A test app on a given database (e.g. one reached through a proxy the test controls).
pub async fn spawn_app_on(database_url: String, dir: Option<tempfile::TempDir>) -> TestApp {
    spawn_app_on_with(database_url, dir, |_| {}).await
}

/// Test apps sample and look for webhook work more often than production, so a test waits
/// tenths of seconds for them, not seconds. Polls and heartbeats keep production's pace: an
/// append wakes the daemon at once anyway, and more polling only loads a shared machine.
pub fn test_intervals() -> Intervals {
    Intervals {
        projection_sample: Duration::from_millis(500),
        webhook_poll: Duration::from_millis(100),
        webhook_discover: Duration::from_millis(100),
        ..Intervals::default()
    }
}

/// A test app on a database that has its users already (one moved by `freightdesk migrate`):
/// the test users are not added, only signed in.
pub async fn spawn_app_on_populated(database_url: String) -> TestApp {
    spawn_app_on_inner(database_url, None, |_| {}, false).await
}

async fn spawn_app_on_with(
    database_url: String,
    dir: Option<tempfile::TempDir>,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    spawn_app_on_inner(database_url, dir, configure, true).await
}

async fn spawn_app_on_inner(
    database_url: String,
    dir: Option<tempfile::TempDir>,
    configure: impl FnOnce(&mut Config),
    add_users: bool,
) -> TestApp {
    let mut config = Config {
        database_url: parse_url(&database_url),
        addr: "127.0.0.1:0".parse().unwrap(),
        node: format!("test-{}", Uuid::new_v4().simple()),
        capabilities: freightdesk::projections::Definition::ALL.to_vec(),
        batch_size: freightdesk::projections::DEFAULT_BATCH_SIZE,
        auth: freightdesk::auth::AuthConfig {
            metrics_token: Some(METRICS_TOKEN.into()),
            ..Default::default()
        },
        webhooks: test_webhook_config(),
        http: Default::default(),
    };
    configure(&mut config);
    let clock = Clock::movable().with_intervals(test_intervals());
    let app = Application::build(&config, clock.clone())
        .await
        .expect("the test app");
    let state = app.state().clone();
    if add_users {
        add_test_users(&state.auth).await;
    }
    let addr = app.local_addr().expect("the test app's address");
    let (serving, workers) = app.serve_until(std::future::pending());
    tokio::spawn(serving);
    let mut app = TestApp {
        address: format!("http://{addr}"),
        database_url,
        projections: state.db,
        workers: Some(workers),
        store: state.store,
        clock,
        client: reqwest::Client::new(),
        _dir: dir,
    };
    app.client = app.signed_in(ADMIN).await;
    app
}

//! Test set-up: a fresh database per test (a new PostgreSQL database or a new SQLite file), and
//! `spawn_app` that serves the real router on a free port.

use freightdesk::config::Config;
use freightdesk::database::Database;
use freightdesk::db::{DatabaseUrl, PortableDb};
use freightdesk::server;
use freightdesk::state::AppState;
use freightdesk::store::EventStore;
use std::net::SocketAddr;
use uuid::Uuid;

pub fn test_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh PostgreSQL database. Fails loudly when PostgreSQL is not answering: no test skips.
pub async fn fresh_postgres_url() -> String {
    use sqlx::Connection;
    let admin_url = test_database_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL at {admin_url} is not answering ({e}); run `make pg-up` or start it")
        });
    let name = format!("fd_test_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

/// A database of the given backend; the returned guard keeps a SQLite file alive.
pub async fn fresh_database_url(backend: Dialect) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Dialect::Postgres => (fresh_postgres_url().await, None),
        Dialect::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite:{}", dir.path().join("test.db").display());
            (url, Some(dir))
        }
    }
}

pub use freightdesk::db::Dialect;

pub fn parse_url(url: &str) -> DatabaseUrl {
    DatabaseUrl::parse(url).expect("a test database URL")
}

pub struct TestStore {
    pub store: EventStore,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn store(backend: Dialect) -> TestStore {
    let (url, dir) = fresh_database_url(backend).await;
    let store = open(&url).await.store;
    TestStore {
        store,
        url,
        _dir: dir,
    }
}

/// Opens a test database the one way the application does.
pub async fn open(url: &str) -> Database {
    Database::open(&parse_url(url))
        .await
        .expect("open the test database")
}

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
    pub workers: Option<freightdesk::state::Workers>,
    pub store: EventStore,
    /// Signed in as the admin (who may do everything).
    pub client: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
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

async fn spawn_app_on_with(
    database_url: String,
    dir: Option<tempfile::TempDir>,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config {
        database_url: parse_url(&database_url.clone()),
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
    let state = AppState::build(&config).await.expect("app state");
    add_test_users(&state.auth).await;
    let workers = state.start_workers(&config).await.expect("workers");
    let store = state.store.clone();
    let projections = state.db.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = server::router(state, &config.http);
    let http = config.http.clone();
    tokio::spawn(async move {
        server::serve_connections(listener, app, &http, std::future::pending()).await
    });
    let mut app = TestApp {
        address: format!("http://{addr}"),
        database_url,
        projections,
        workers: Some(workers),
        store,
        client: reqwest::Client::new(),
        _dir: dir,
    };
    app.client = app.signed_in(ADMIN).await;
    app
}

/// Runs an async test body once per backend: `both_backends!(name, |backend| async move {...})`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                ($body)($crate::helpers::Dialect::Postgres).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                ($body)($crate::helpers::Dialect::Sqlite).await
            }
        }
    };
}

/// Reads the whole log until `count` events have arrived. On PostgreSQL a read only returns
/// events below the oldest transaction still open anywhere in the cluster, and other tests run
/// beside this one, so the last events may take a moment to become readable.
pub async fn read_all_until(
    store: &EventStore,
    count: usize,
) -> Vec<freightdesk::store::RecordedEvent> {
    use freightdesk::store::Position;
    use std::time::{Duration, Instant};
    let mut position = Position::START;
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} events became readable",
            seen.len()
        );
        let batch = store.read_all(position, 5).await.unwrap();
        if batch.events.is_empty() {
            assert_eq!(batch.next, position, "an empty batch keeps the position");
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        assert!(batch.next > position, "the position moves forward");
        position = batch.next;
        seen.extend(batch.events);
    }
    assert!(
        store.read_all(position, 5).await.unwrap().events.is_empty(),
        "nothing after the end"
    );
    seen
}

/// A valid ScheduleShipment command with a pickup planned now.
pub fn schedule_command(
    id: freightdesk::domain::ShipmentId,
    origin: &str,
    destination: &str,
) -> freightdesk::domain::ShipmentCommand {
    use freightdesk::domain::{PlaceName, ShipmentCommand};
    ShipmentCommand::Schedule {
        shipment_id: id,
        origin: PlaceName::parse("origin", origin).unwrap(),
        destination: PlaceName::parse("destination", destination).unwrap(),
        pickup_planned_at: chrono::Utc::now(),
    }
}

//! A fresh database per test: a new PostgreSQL database or a new SQLite file, opened the one
//! way the application opens it.

use freightdesk::database::Database;
use freightdesk::db::DatabaseUrl;
pub use freightdesk::db::Dialect;
use freightdesk::store::EventStore;
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

//! What the tests share: a fresh database per test (`database`), the real server on a free port
//! (`app`), random histories and the fold they are checked against (`history`, `fold`), and
//! waiting for something to become true (`wait`).

mod app;
mod database;
mod fold;
mod history;
mod wait;

pub use app::*;
pub use database::*;
pub use fold::*;
pub use history::*;
pub use wait::*;

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

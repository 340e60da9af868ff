//! The Rust integration tests: one binary, a fresh database per test.

mod helpers;

mod concurrency;
mod http;
mod projections;
mod store_contract;

//! The Rust integration tests: one binary, a fresh database per test.

mod helpers;

mod auth;
mod board;
mod cli;
mod concurrency;
mod explorer;
mod fuzz;
mod http;
mod nodes;
mod policy;
mod projections;
mod read_your_writes;
mod resilience;
mod rollout;
mod samples;
mod stall;
mod store_contract;

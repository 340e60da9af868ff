//! The Rust integration tests: one binary, a fresh database per test.

mod helpers;

mod auth;
mod behind_https;
mod behind_proxy;
mod board;
mod board_indexes;
mod cli;
mod concurrency;
mod dead_letters;
mod explorer;
mod fuzz;
mod hostile;
mod http;
mod log_moves;
mod migrate;
mod nodes;
mod policy;
mod projections;
mod read_your_writes;
mod receiver;
mod resilience;
mod rollout;
mod samples;
mod slow_clients;
mod stall;
mod static_files;
mod store_contract;
mod subscriptions;
mod upgrade;
mod webhook_targets;

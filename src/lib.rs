// Leptos view types nest deeply; the default limit is too small for the larger pages.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod cli;
mod components;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod database;
#[cfg(feature = "ssr")]
pub mod db;
pub mod domain;
mod error;
mod format;
#[cfg(feature = "ssr")]
mod lease;
#[cfg(feature = "ssr")]
pub mod log_file;
#[cfg(feature = "ssr")]
pub mod migrate;
mod pages;
pub mod projections;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
pub mod server;
pub mod stall;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
pub mod subscriptions;
mod text_enum;
#[cfg(feature = "ssr")]
pub mod time;
mod web;
pub mod zone;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}

//! The Relais server: configuration, storage, sessions and the HTTP stack around the shared
//! Leptos application.

#![recursion_limit = "256"]

pub mod access;
pub mod accounts;
pub mod activity;
pub mod backend;
pub mod client_address;
pub mod config;
pub mod crypto;
pub mod csrf;
pub mod db;
pub mod headers;
pub mod keys;
pub mod oauth;
pub mod page_data;
pub mod senders;
pub mod sessions;
pub mod smtp;
pub mod startup;
pub mod static_files;
pub mod telemetry;
pub mod throttle;

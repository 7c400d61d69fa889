#![recursion_limit = "256"]

//! Integration tests: each starts Relais exactly as `main` does, on port 0 with a fresh SQLite
//! database, and talks HTTP to it.

mod accounts;
mod cross_origin;
mod health;
mod helpers;
mod instances;
mod key_rotation;
mod key_startup;
mod logs;
mod oauth_flow;
mod oauth_harness;
mod oauth_senders;
mod outage;
mod pages;
mod sealed_rows;
mod senders;
mod smtp_harness;
mod smtp_transport;
mod test_database;

#![recursion_limit = "256"]

//! Integration tests: each starts Relais exactly as `main` does, on port 0 with a fresh SQLite
//! database, and talks HTTP to it.

mod accounts;
mod activity;
mod crashes;
mod cross_origin;
mod display_names;
mod fault_peers;
mod field_input;
mod headers;
mod health;
mod helpers;
mod instances;
mod key_rotation;
mod key_startup;
mod logs;
mod mail_faults;
mod oauth_flow;
mod oauth_harness;
mod oauth_senders;
mod outage;
mod pages;
mod plain_forms;
mod raw_message;
mod sealed_rows;
mod secrets;
mod senders;
mod sessions;
mod sign_in_throttle;
mod smtp_harness;
mod smtp_transport;
mod ssrf;
mod static_files;
mod test_database;
mod unicode_addresses;

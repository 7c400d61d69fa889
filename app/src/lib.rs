//! Relais's shared Leptos application: pages, components and server-function declarations.
//! With `ssr` it renders on the server; with `hydrate` it runs in the browser.

#![recursion_limit = "256"]

pub mod account;
pub mod app;
pub mod components;
pub mod error;
pub mod pages;
pub mod senders;
pub mod validation;

#[cfg(feature = "ssr")]
pub mod backend;

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

pub use app::{App, shell};

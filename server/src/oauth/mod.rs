//! Google and Microsoft senders over OAuth 2.0.
//!
//! NOTE: work in progress, not wired into the server yet. The provider configuration and the
//! authorization flow exist. Still to be written: the callback route, token storage and
//! refresh, the sender dialog buttons and "Actualiser".

pub mod flow;
pub mod providers;

//! Google and Microsoft senders over OAuth 2.0: provider settings, the authorization flow, the
//! callback route, grant storage and token refresh.

pub mod callback;
pub mod flow;
pub mod grants;
pub mod providers;
pub mod service;
pub mod tokens;

pub use service::OAuthService;

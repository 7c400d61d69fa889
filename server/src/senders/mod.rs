//! Sender addresses: storage, test sends and the rules that tie saving to a passing test.

pub mod ownership;
mod resolve;
mod service;
pub mod store;
mod test_message;
pub mod test_run;

pub use resolve::secret_context;
pub use service::SenderService;

//! Sender addresses: storage, test sends and the rules that tie saving to a passing test.

mod service;
pub mod store;
mod test_message;

pub use service::SenderService;

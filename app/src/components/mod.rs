mod activity_log;
mod avatar_menu;
mod header;
mod language_switch;
mod senders;
mod signed_in;

pub use activity_log::{ActivityChanged, ActivityLog};
pub use avatar_menu::AvatarMenu;
pub use header::AppHeader;
pub use language_switch::LanguageSwitch;
pub use senders::SenderSection;
pub use signed_in::SignedIn;

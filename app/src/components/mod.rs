mod activity_log;
mod avatar_menu;
mod header;
mod island_language;
mod language_switch;
mod reloadable;
pub(crate) mod senders;
mod signed_in;

pub use activity_log::ActivityChanged;
pub use avatar_menu::AvatarMenu;
pub use header::AppHeader;
pub(crate) use island_language::provide_page_language;
pub use language_switch::LanguageSwitch;
pub(crate) use reloadable::Reloadable;
pub use senders::SenderSettings;
pub use signed_in::SignedIn;

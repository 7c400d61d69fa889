mod not_found;
mod settings;
mod sign_in;
mod sign_up;
mod workspace;

pub use not_found::NotFound;
pub use settings::SettingsPage;
pub use sign_in::SignInPage;
pub use sign_up::SignUpPage;
pub use workspace::WorkspacePage;

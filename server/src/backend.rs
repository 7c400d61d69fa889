//! The server side of the shared server functions.

use app::account::{AccountView, SignUpForm};
use app::backend::Backend;
use app::error::AppError;
use app::senders::SenderList;
use app::senders::SenderView;
use app::senders::activity::{ACTIVITY_PAGE_SIZE, ActivityEntry};
use app::senders::oauth::{OAuthGrantView, OAuthProvider};
use app::senders::settings::SenderForm;
use app::validation::{check_new_password, normalize_display_name, normalize_email};
use async_trait::async_trait;
use axum_login::AuthSession;
use futures::stream::BoxStream;
use http::request::Parts;
use sqlx::AnyPool;

use crate::accounts::{AccountStore, Credentials, NewAccount, StoreError};
use crate::client_address::ClientAddress;
use crate::senders::SenderService;
use crate::throttle;

pub type Session = AuthSession<AccountStore>;

pub struct RelaisBackend {
    pub pool: AnyPool,
    pub accounts: AccountStore,
    pub senders: SenderService,
}

/// Returns the session of a request, which the auth layer puts in every request's extensions.
fn session(request: &Parts) -> Result<Session, AppError> {
    request.extensions.get::<Session>().cloned().ok_or_else(|| {
        tracing::error!("the auth session layer is missing");
        AppError::Internal
    })
}

/// Returns the client address that the `client_address::attach` layer put in the request.
fn client_address(request: &Parts) -> Result<ClientAddress, AppError> {
    request.extensions.get::<ClientAddress>().copied().ok_or_else(|| {
        tracing::error!("the client address layer is missing");
        AppError::Internal
    })
}

fn signed_in(request: &Parts) -> Result<crate::accounts::Account, AppError> {
    session(request)?.user.ok_or(AppError::NotSignedIn)
}

/// Logs an unexpected storage error and returns the error shown to the user.
fn storage_failure(context: &'static str) -> impl FnOnce(StoreError) -> AppError {
    move |error| match error {
        StoreError::EmailTaken => AppError::EmailTaken,
        StoreError::Database(error) => {
            tracing::error!(%error, "{context}");
            AppError::Unavailable
        }
        StoreError::Hashing(error) => {
            tracing::error!(%error, "{context}");
            AppError::Internal
        }
    }
}

fn database_failure(context: &'static str) -> impl FnOnce(sqlx::Error) -> AppError {
    move |error| storage_failure(context)(StoreError::Database(error))
}

fn session_failure(context: &'static str) -> impl FnOnce(axum_login::Error<AccountStore>) -> AppError {
    move |error| {
        tracing::error!(%error, "{context}");
        AppError::Unavailable
    }
}

fn supported_locale(locale: &str) -> Option<&'static str> {
    ["fr", "en"].into_iter().find(|supported| *supported == locale)
}

#[async_trait]
impl Backend for RelaisBackend {
    fn current_account(&self, request: &Parts) -> Result<Option<AccountView>, AppError> {
        Ok(session(request)?.user.map(|account| account.view()))
    }

    async fn sign_up(&self, request: &Parts, form: SignUpForm) -> Result<AccountView, AppError> {
        let display_name = normalize_display_name(&form.display_name)?;
        let email = normalize_email(&form.email)?;
        check_new_password(&form.password)?;
        let locale = supported_locale(&form.locale).unwrap_or("fr").to_string();

        let account = self
            .accounts
            .create(NewAccount {
                display_name,
                email,
                password: form.password,
                locale,
            })
            .await
            .map_err(storage_failure("failed to store the new account"))?;
        let mut session = session(request)?;
        session
            .login(&account)
            .await
            .map_err(session_failure("failed to start the session"))?;

        tracing::info!(account_id = %account.id, "account created");
        Ok(account.view())
    }

    async fn sign_in(&self, request: &Parts, email: &str, password: &str) -> Result<AccountView, AppError> {
        let client_key = client_address(request)?.throttle_key();
        let email_key = normalize_email(email)
            .map_err(|_| AppError::InvalidCredentials)?
            .to_lowercase();
        let now = crate::db::now();

        // Both locks give the same error, so it does not tell which one applies, nor whether
        // the email has an account.
        let mut retry_after_secs = None;
        for key in [&client_key, &email_key] {
            let locked = throttle::retry_after(&self.pool, key, now)
                .await
                .map_err(database_failure("failed to read the sign-in throttle"))?;
            retry_after_secs = retry_after_secs.max(locked);
        }
        if let Some(retry_after_secs) = retry_after_secs {
            tracing::info!(client_key, "sign-in rejected by the throttle");
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }

        let credentials = Credentials {
            email_key: email_key.clone(),
            password: password.to_string(),
        };
        let mut session = session(request)?;
        let Some(account) = session
            .authenticate(credentials)
            .await
            .map_err(session_failure("failed to check credentials"))?
        else {
            throttle::record_failure(&self.pool, &email_key, &throttle::PER_EMAIL, now)
                .await
                .map_err(database_failure("failed to count a failed sign-in"))?;
            throttle::record_failure(&self.pool, &client_key, &throttle::PER_CLIENT, now)
                .await
                .map_err(database_failure("failed to count a failed sign-in"))?;
            tracing::info!("sign-in failed: wrong email or password");
            return Err(AppError::InvalidCredentials);
        };

        // Every sign-in gets a new session id, so an id planted or leaked earlier is worthless.
        // axum-login cycles the id only for a session that was not signed in yet.
        if session.user.is_some() {
            session.session.cycle_id().await.map_err(|error| {
                tracing::error!(%error, "failed to renew the session id");
                AppError::Unavailable
            })?;
        }
        session
            .login(&account)
            .await
            .map_err(session_failure("failed to start the session"))?;
        // The client's counter is kept: one valid account must not let a client reset it
        // between guesses at other accounts.
        throttle::reset(&self.pool, &email_key)
            .await
            .map_err(database_failure("failed to reset the sign-in throttle"))?;

        tracing::info!(account_id = %account.id, "signed in");
        Ok(account.view())
    }

    async fn sign_out(&self, request: &Parts) -> Result<(), AppError> {
        let mut session = session(request)?;
        if let Some(account) = session
            .logout()
            .await
            .map_err(session_failure("failed to end the session"))?
        {
            tracing::info!(account_id = %account.id, "signed out");
        }
        Ok(())
    }

    async fn set_locale(&self, request: &Parts, locale: &str) -> Result<(), AppError> {
        let locale = supported_locale(locale).ok_or(AppError::LocaleUnknown)?;
        if let Some(account) = session(request)?.user {
            self.accounts
                .set_locale(&account.id, locale)
                .await
                .map_err(storage_failure("failed to store the language preference"))?;
        }
        Ok(())
    }

    async fn list_senders(&self, request: &Parts) -> Result<SenderList, AppError> {
        self.senders.list(&signed_in(request)?).await
    }

    async fn save_sender(&self, request: &Parts, form: SenderForm) -> Result<SenderView, AppError> {
        self.senders
            .save(&signed_in(request)?, form, client_address(request)?)
            .await
    }

    async fn delete_sender(&self, request: &Parts, sender_id: &str) -> Result<(), AppError> {
        self.senders
            .delete(&signed_in(request)?, sender_id, client_address(request)?)
            .await
    }

    async fn test_sender(&self, request: &Parts, form: SenderForm) -> BoxStream<'static, Result<String, AppError>> {
        match signed_in(request).and_then(|account| Ok((account, client_address(request)?))) {
            Ok((account, client)) => self.senders.test(account, form, client).await,
            Err(error) => crate::senders::test_run::rejected_test(error),
        }
    }

    async fn start_oauth(
        &self,
        request: &Parts,
        provider: OAuthProvider,
        sender_id: Option<&str>,
    ) -> Result<String, AppError> {
        let session = session(request)?;
        let account = session.user.clone().ok_or(AppError::NotSignedIn)?;
        let session_id = session.session.id().ok_or(AppError::NotSignedIn)?;
        let oauth = &self.senders.oauth;
        if let Some(sender_id) = sender_id {
            let sender = crate::senders::store::find(&self.pool, &account.id, sender_id)
                .await
                .map_err(database_failure("failed to load the sender"))?;
            match sender {
                None => {
                    crate::senders::ownership::warn_not_owned(&self.pool, &account.id, sender_id, "re-authentication")
                        .await;
                    return Err(AppError::SenderNotFound);
                }
                Some(sender) if sender.kind != provider.as_str() => {
                    tracing::warn!(account_id = %account.id, sender_id, kind = sender.kind, "re-authentication with another provider rejected");
                    return Err(AppError::SenderNotFound);
                }
                Some(_) => {}
            }
        }
        let binding = oauth.session_binding(&session_id.to_string());
        oauth.start(&account.id, &binding, provider, sender_id).await
    }

    async fn oauth_grant(&self, request: &Parts, grant_id: &str) -> Result<OAuthGrantView, AppError> {
        let account = signed_in(request)?;
        let grant = crate::oauth::grants::find_pending(&self.pool, &account.id, grant_id)
            .await
            .map_err(database_failure("failed to load the pending grant"))?
            .ok_or(AppError::OAuthGrantExpired)?;
        Ok(OAuthGrantView {
            provider: OAuthProvider::parse(&grant.provider).ok_or(AppError::Internal)?,
            id: grant.id,
            email: grant.email,
        })
    }

    async fn list_activity(&self, request: &Parts) -> Result<Vec<ActivityEntry>, AppError> {
        let account = signed_in(request)?;
        crate::activity::list(&self.pool, &account.id, ACTIVITY_PAGE_SIZE)
            .await
            .map_err(database_failure("failed to list the activity log"))
    }
}

//! Test sends. The test message goes to the account's own address with exactly the values in
//! the dialog, and each stage is streamed back to the browser as it is reached.

use std::sync::Arc;

use app::error::AppError;
use app::senders::activity::{ActivityKind, TestOutcome};
use app::senders::settings::{SenderForm, ValidSender};
use app::senders::test_send::{FailureKind, Stage, TestEvent, TestFailure};
use futures::channel::mpsc::UnboundedSender;
use futures::stream::BoxStream;
use sqlx::AnyPool;

use super::resolve::{SignIn, database_failure};
use super::{SenderService, store, test_message};
use crate::accounts::Account;
use crate::activity;
use crate::client_address::ClientAddress;
use crate::oauth::OAuthService;
use crate::oauth::service::TokenFailure;
use crate::oauth::tokens::RefreshError;
use crate::smtp::{self, SecretString, SmtpCredentials, SmtpSettings, TransportPolicy};

const RATE_WINDOW_SECS: i64 = 10 * 60;

/// Returns the stream of a test send rejected before it starts, as a signed-out request is: its
/// one event carries the error, which the dialog shows like any other rejection.
pub fn rejected_test(error: AppError) -> BoxStream<'static, Result<String, AppError>> {
    Box::pin(futures::stream::once(
        async move { event_line(TestEvent::Refused(error)) },
    ))
}

/// Encodes one event of the test-send stream as a line of JSON.
fn event_line(event: TestEvent) -> Result<String, AppError> {
    let mut line = serde_json::to_string(&event).map_err(|_| AppError::Internal)?;
    line.push('\n');
    Ok(line)
}

impl SenderService {
    pub async fn test(
        &self,
        account: Account,
        form: SenderForm,
        client: ClientAddress,
    ) -> BoxStream<'static, Result<String, AppError>> {
        let (events, receiver) = futures::channel::mpsc::unbounded::<TestEvent>();

        match self.prepare_test(&account, &form, client).await {
            Err(error) => {
                let _ = events.unbounded_send(TestEvent::Refused(error));
            }
            Ok(run) => {
                tokio::spawn(run.execute(account, events));
            }
        }

        Box::pin(futures::StreamExt::map(receiver, event_line))
    }

    async fn prepare_test(
        &self,
        account: &Account,
        form: &SenderForm,
        client: ClientAddress,
    ) -> Result<TestRun, AppError> {
        let resolved = self.resolve(account, form).await?;

        let limit = self.limits.test_sends_per_window;
        if let Some(retry_after_secs) = store::take_test_slot(&self.pool, &account.id, limit, RATE_WINDOW_SECS)
            .await
            .map_err(database_failure(&account.id, "failed to count test sends"))?
        {
            tracing::info!(account_id = %account.id, "test send rejected by the rate limit");
            return Err(AppError::TestRateLimited { retry_after_secs });
        }

        Ok(TestRun {
            pool: self.pool.clone(),
            policy: self.policy.clone(),
            oauth: self.oauth.clone(),
            fingerprint: self.proof_fingerprint(account, &resolved),
            stored_unchanged: resolved.stored_unchanged(form),
            stored_id: resolved.stored.as_ref().map(|row| row.id.clone()),
            client,
            sender: resolved.sender,
            sign_in: resolved.sign_in,
        })
    }
}

struct TestRun {
    pool: AnyPool,
    policy: TransportPolicy,
    oauth: Arc<OAuthService>,
    sender: ValidSender,
    sign_in: SignIn,
    fingerprint: String,
    /// Id of the stored sender whose saved settings this test exercises unchanged, if any.
    stored_unchanged: Option<String>,
    /// Id of the stored sender being edited, if any, changed settings or not.
    stored_id: Option<String>,
    client: ClientAddress,
}

impl TestRun {
    async fn execute(self, account: Account, events: UnboundedSender<TestEvent>) {
        let pool = self.pool.clone();
        let stored_unchanged = self.stored_unchanged.clone();
        let stored_id = self.stored_id.clone();
        let sender_email = self.sender.email.clone();
        let client = self.client;
        let outcome = self.send(account.clone(), events.clone()).await;
        let passed = matches!(outcome, TestEvent::Succeeded { .. });

        if let Some(sender_id) = &stored_unchanged
            && let Err(error) = store::set_test_outcome(&pool, &account.id, sender_id, passed).await
        {
            tracing::error!(%error, account_id = %account.id, sender_id, "failed to record the test outcome");
        }
        // A test refused before it ran (no token configuration, a storage failure) is not
        // logged: only sends that reached a verdict are.
        let test_outcome = match &outcome {
            TestEvent::Succeeded { .. } => Some(TestOutcome::Passed),
            TestEvent::Failed(failure) => Some(TestOutcome::Failed {
                stage: failure.stage,
                kind: failure.kind,
            }),
            TestEvent::Stage(_) | TestEvent::Refused(_) => None,
        };
        if let Some(test_outcome) = test_outcome {
            let event = activity::Event {
                account_id: &account.id,
                kind: ActivityKind::SenderTested,
                sender_id: stored_id.as_deref(),
                sender_email: &sender_email,
                test_outcome: Some(test_outcome),
                client,
            };
            let recorded = match pool.acquire().await {
                Ok(mut connection) => activity::record(&mut connection, &event).await,
                Err(error) => Err(error),
            };
            if let Err(error) = recorded {
                tracing::error!(%error, account_id = %account.id, "failed to record the test send in the activity log");
            }
        }
        // The entry is written before the final event, so a browser that reloads the log on
        // that event finds it.
        let _ = events.unbounded_send(outcome);
    }

    /// Runs the test and returns its final event. It takes its inputs by value, because a future
    /// that borrows them would need a higher-ranked `Send` proof that the compiler cannot make.
    async fn send(self, account: Account, events: UnboundedSender<TestEvent>) -> TestEvent {
        let sender = &self.sender;
        let credentials = match &self.sign_in {
            SignIn::Password(password) => password.clone().map(|password| SmtpCredentials::Password {
                username: sender.username.clone(),
                password,
            }),
            SignIn::OAuth { grant_id, .. } => {
                let _ = events.unbounded_send(TestEvent::Stage(Stage::Authorizing));
                match self.bounded(self.oauth.access_token(grant_id)).await {
                    Ok(access_token) => Some(SmtpCredentials::OAuth2 {
                        username: sender.username.clone(),
                        access_token,
                    }),
                    Err(failure) => return token_failure_event(&account, grant_id, failure),
                }
            }
        };
        let mut settings = SmtpSettings {
            host: sender.smtp_host.clone(),
            port: sender.smtp_port,
            security: sender.security,
            credentials,
        };
        let message = test_message::build(sender, &account.email, &account.locale);

        let report_stage = |stage| {
            let _ = events.unbounded_send(TestEvent::Stage(stage));
        };
        let mut outcome = smtp::send(&settings, &message, &self.policy, report_stage).await;

        // The mail server rejected an access token that had not expired yet, as after the user
        // withdrew access. One refresh shows whether the grant is still valid, and one more try
        // follows with the new token.
        if let (SignIn::OAuth { grant_id, .. }, Err(failure)) = (&self.sign_in, &outcome)
            && failure.kind == FailureKind::OAuthTokenRefused
            && let Some(SmtpCredentials::OAuth2 { username, access_token }) = settings.credentials.clone()
        {
            report_stage(Stage::Authorizing);
            match self
                .bounded(self.oauth.replace_rejected_token(grant_id, &access_token))
                .await
            {
                Ok(access_token) => {
                    settings.credentials = Some(SmtpCredentials::OAuth2 { username, access_token });
                    outcome = smtp::send(&settings, &message, &self.policy, report_stage).await;
                }
                Err(failure @ TokenFailure::Refresh(RefreshError::Revoked)) => {
                    return token_failure_event(&account, grant_id, failure);
                }
                Err(failure) => {
                    tracing::info!(account_id = %account.id, grant_id, ?failure, "no new token after the mail server rejected one");
                }
            }
        }

        match outcome {
            Ok(()) => match store::record_proof(&self.pool, &account.id, &self.fingerprint).await {
                Ok(()) => {
                    tracing::info!(account_id = %account.id, host = %sender.smtp_host, "test send accepted by the server");
                    TestEvent::Succeeded {
                        recipient: account.email.clone(),
                    }
                }
                Err(error) => {
                    tracing::error!(%error, account_id = %account.id, "failed to record the test-send proof");
                    TestEvent::Refused(AppError::Unavailable)
                }
            },
            Err(failure) => {
                tracing::info!(
                    account_id = %account.id,
                    host = %sender.smtp_host,
                    stage = ?failure.stage,
                    kind = ?failure.kind,
                    "test send failed"
                );
                TestEvent::Failed(TestFailure {
                    stage: failure.stage,
                    kind: failure.kind,
                    server_reply: failure.server_reply,
                    certificate_subject: failure.certificate_subject,
                })
            }
        }
    }
}

/// Logs why the test send got no access token and returns the event that reports it.
impl TestRun {
    /// Bounds the wait for an access token by the test-send time limit.
    async fn bounded(
        &self,
        token: impl std::future::Future<Output = Result<SecretString, TokenFailure>>,
    ) -> Result<SecretString, TokenFailure> {
        tokio::time::timeout(self.policy.timeout, token)
            .await
            .unwrap_or(Err(TokenFailure::Refresh(RefreshError::Temporary)))
    }
}

fn token_failure_event(account: &Account, grant_id: &str, failure: TokenFailure) -> TestEvent {
    tracing::info!(account_id = %account.id, grant_id, ?failure, "test send failed: no access token");
    let kind = match failure {
        TokenFailure::Refresh(RefreshError::Revoked) => FailureKind::OAuthGrantRevoked,
        TokenFailure::Refresh(RefreshError::ClientRejected) => FailureKind::OAuthClientRejected,
        TokenFailure::Refresh(RefreshError::Temporary) => FailureKind::OAuthProviderUnavailable,
        TokenFailure::NotConfigured => return TestEvent::Refused(AppError::OAuthNotConfigured),
        TokenFailure::App(error) => return TestEvent::Refused(error),
    };
    TestEvent::Failed(TestFailure {
        stage: Stage::Authorizing,
        kind,
        server_reply: None,
        certificate_subject: None,
    })
}

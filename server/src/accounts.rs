//! Account storage, password hashing and the axum-login backend.

use app::account::AccountView;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use axum_login::{AuthUser, AuthnBackend, UserId};
use sqlx::AnyPool;

/// The account stored in the session. Its password hash ties the session to the current
/// password: changing the password signs out every other session.
#[derive(Clone, sqlx::FromRow)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub locale: String,
    password_hash: String,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Account {
    pub fn view(&self) -> AccountView {
        AccountView {
            id: self.id.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            locale: self.locale.clone(),
        }
    }
}

impl AuthUser for Account {
    type Id = String;

    fn id(&self) -> String {
        self.id.clone()
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

pub struct NewAccount {
    pub display_name: String,
    pub email: String,
    pub password: String,
    pub locale: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an account already uses this email")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

pub struct Credentials {
    pub email_key: String,
    pub password: String,
}

/// The account store; axum-login uses it to sign in and to load the account of a session.
#[derive(Clone)]
pub struct AccountStore {
    pool: AnyPool,
    /// A real hash to verify against when the email is unknown, so both cases take as long.
    unknown_account_hash: String,
}

const ACCOUNT_COLUMNS: &str = "id, email, display_name, locale, password_hash";

impl AccountStore {
    pub fn new(pool: AnyPool) -> Self {
        let unknown_account_hash = hash_password("unknown account placeholder").expect("argon2 hashes a constant");
        Self {
            pool,
            unknown_account_hash,
        }
    }

    pub async fn create(&self, new: NewAccount) -> Result<Account, StoreError> {
        let password = new.password;
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|error| StoreError::Hashing(error.to_string()))??;
        let id = uuid::Uuid::new_v4().to_string();

        let inserted = sqlx::query(
            "INSERT INTO accounts (id, email, email_key, display_name, password_hash, locale, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&new.email)
        .bind(new.email.to_lowercase())
        .bind(&new.display_name)
        .bind(&password_hash)
        .bind(&new.locale)
        .bind(crate::db::now())
        .execute(&self.pool)
        .await;
        match inserted {
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => return Err(StoreError::EmailTaken),
            other => other?,
        };

        Ok(Account {
            id,
            email: new.email,
            display_name: new.display_name,
            locale: new.locale,
            password_hash,
        })
    }

    pub async fn set_locale(&self, account_id: &str, locale: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET locale = $1 WHERE id = $2")
            .bind(locale)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn find_by_email_key(&self, email_key: &str) -> Result<Option<Account>, StoreError> {
        let query = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email_key = $1");
        Ok(sqlx::query_as(&query)
            .bind(email_key)
            .fetch_optional(&self.pool)
            .await?)
    }
}

impl AuthnBackend for AccountStore {
    type User = Account;
    type Credentials = Credentials;
    type Error = StoreError;

    async fn authenticate(&self, credentials: Credentials) -> Result<Option<Account>, StoreError> {
        let account = self.find_by_email_key(&credentials.email_key).await?;
        let hash = match &account {
            Some(account) => account.password_hash.clone(),
            None => self.unknown_account_hash.clone(),
        };

        let password = credentials.password;
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|error| StoreError::Hashing(error.to_string()))?;

        Ok(account.filter(|_| matches))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<Account>, StoreError> {
        let query = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        Ok(sqlx::query_as(&query).bind(id).fetch_optional(&self.pool).await?)
    }
}

/// Hashes with Argon2id and the crate's default cost (19 MiB, 2 passes), the OWASP minimum.
fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| StoreError::Hashing(error.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
    }
}

//! Passwords: the rule a new one must meet, argon2id hashing off the async threads, and reading
//! one from a terminal for the command line (never from arguments, which other users of the
//! machine can see in the process list).

use super::UserName;
use crate::domain::FieldError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::fmt;
use std::io::{BufRead, IsTerminal};

/// A new password that meets the rule. Its `Debug` hides the text, so it never reaches a log.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 256;

    /// 8–256 characters, and not the user's own name. `field` names the form field that is
    /// blamed (`password`, `new_password`).
    pub fn parse(field: &str, input: &str, owner: &UserName) -> Result<Self, FieldError> {
        let chars = input.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(FieldError::new(
                field,
                format!("is too short (at least {} characters)", Self::MIN_CHARS),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("is too long (at most {} characters)", Self::MAX_CHARS),
            ));
        }
        if input.trim().eq_ignore_ascii_case(owner.as_str()) {
            return Err(FieldError::new(field, "may not be the user name"));
        }
        Ok(Self(input.to_string()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Hashing or verifying failed for a reason that is not a wrong password.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// An argon2id PHC string (default parameters: 19 MiB, 2 passes), computed on a blocking thread
/// because it takes tens of milliseconds of CPU.
pub async fn hash(password: &Password) -> Result<String, HashError> {
    let password = password.expose().to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// Whether `password` matches the stored `hash`. A wrong password is `Ok(false)`; a stored
/// hash that cannot be read is an error.
pub async fn verify(password: &str, hash: &str) -> Result<bool, HashError> {
    let password = password.to_string();
    let hash = hash.to_string();
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| HashError(e.to_string()))?;
        match Argon2::default().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::Password) => Ok(false),
            Err(e) => Err(HashError(e.to_string())),
        }
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// A hash of a password no one knows, with the same parameters as real ones: verified against
/// when the name is unknown or disabled, so the answer takes as long as for a real user.
pub(crate) const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2lnbi1pbi1kdW1teS1zYWx0$tLW3p/t+2w1U9FIDnbOTGXy+ZeHzBwe2WU9EMtTeXXA";

/// Reads a password: without echo from a terminal, else one line of standard input (for
/// scripts that pipe it in).
pub fn read_password(prompt: &str) -> std::io::Result<String> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ana() -> UserName {
        UserName::parse("ana").unwrap()
    }

    #[test]
    fn the_rule_bounds_length_and_refuses_the_user_name() {
        assert!(Password::parse("password", "eight ch", &ana()).is_ok());
        assert!(Password::parse("password", &"x".repeat(256), &ana()).is_ok());
        for bad in ["seven c", "", &"x".repeat(257)] {
            let e = Password::parse("password", bad, &ana()).unwrap_err();
            assert_eq!(e.field, "password");
        }
        let long_name = UserName::parse("ana.maria").unwrap();
        let e = Password::parse("new_password", "ANA.MARIA", &long_name).unwrap_err();
        assert_eq!(e.field, "new_password");
    }

    #[test]
    fn debug_output_hides_the_password() {
        let p = Password::parse("password", "correct horse", &ana()).unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let p = Password::parse("password", "correct horse", &ana()).unwrap();
        let h = hash(&p).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h).await.unwrap());
        assert!(!verify("correct horsE", &h).await.unwrap());
        assert!(verify("x", "not a hash").await.is_err());
    }

    #[tokio::test]
    async fn the_dummy_hash_is_readable_and_uses_the_real_parameters() {
        assert!(!verify("anything", DUMMY_HASH).await.unwrap());
        let p = Password::parse("password", "correct horse", &ana()).unwrap();
        let real = hash(&p).await.unwrap();
        let params = |h: &str| h.split('$').take(4).collect::<Vec<_>>().join("$");
        assert_eq!(params(DUMMY_HASH), params(&real));
    }
}

//! GitHub App authentication: the App's JSON Web Token (RS256, signed with the App's private
//! key) that GitHub exchanges for a repository installation's token ("Authenticating as a
//! GitHub App" in GitHub's docs). The bot uses a fresh installation token for every run, so a
//! long-running server never works with an expired one. The token is made by `jsonwebtoken`
//! (RS256 on `ring`, already rustls' crypto), from the key as GitHub issues it.

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::error::Reason;

/// Why the App's key or token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The key file is not a PEM RSA private key.
    #[error("The App's private key is not a PEM RSA private key")]
    BadKey(#[source] Reason),
    /// Signing failed.
    #[error("Cannot sign the App's token")]
    Sign(#[source] Reason),
}

impl crate::error::Hint for AppError {
    fn hints(&self) -> Vec<String> {
        match self {
            AppError::BadKey(_) => vec!["use the .pem file GitHub generated for the App".into()],
            AppError::Sign(_) => Vec::new(),
        }
    }
}

/// A GitHub App: its ID and private key.
pub struct App {
    /// The App ID (the JWT's issuer).
    pub id: String,
    key: EncodingKey,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "App({}, key: ***)", self.id)
    }
}

/// The claims GitHub reads.
#[derive(serde::Serialize)]
struct Claims<'a> {
    iat: i64,
    exp: i64,
    iss: &'a str,
}

impl App {
    /// The App `id` with the private key `pem` (PKCS#1 `RSA PRIVATE KEY`, as GitHub issues
    /// it, or PKCS#8 `PRIVATE KEY`). The key is tried at once, so a bad one stops the server at
    /// its start, not at its first run.
    pub fn new(id: &str, pem: &str) -> Result<App, AppError> {
        // `jsonwebtoken` reads both PEM forms; the block's label makes its error say more.
        // The PEM and JWT crates' errors are known by their text only.
        let bad = |why: String| AppError::BadKey(Reason(why));
        let block = pem::parse(pem).map_err(|e| bad(e.to_string()))?;
        if !matches!(block.tag(), "RSA PRIVATE KEY" | "PRIVATE KEY") {
            return Err(bad(format!("a `{}` block", block.tag())));
        }
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let app = App {
            id: id.to_owned(),
            key,
        };
        app.jwt(0).map_err(|e| match e {
            AppError::Sign(why) | AppError::BadKey(why) => AppError::BadKey(why),
        })?;
        Ok(app)
    }

    /// The App's token at `now` (seconds since the epoch): issued a minute in the past, for
    /// clock drift, and valid nine minutes, under GitHub's ten-minute cap.
    pub fn jwt(&self, now: i64) -> Result<String, AppError> {
        let claims = Claims {
            iat: now - 60,
            exp: now + 540,
            iss: &self.id,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| AppError::Sign(Reason(e.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn key() -> (String, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let (pem, public) = crate::testing::rsa_key(dir.path());
        (std::fs::read_to_string(pem).unwrap(), public)
    }

    #[test]
    fn tokens_are_rs256_and_verify_with_the_public_key() {
        let (pem, public) = key();
        assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let app = App::new("12345", &pem).unwrap();
        let token = app.jwt(1_700_000_000).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |p: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .unwrap()
        };
        let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])).unwrap();
        assert_eq!(header["alg"], "RS256");
        let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(claims["iss"], "12345");
        assert_eq!(claims["iat"], 1_700_000_000 - 60);
        assert_eq!(claims["exp"], 1_700_000_000 + 540);
        let verifier = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            public,
        );
        verifier
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &decode(parts[2]),
            )
            .expect("the signature verifies");
    }

    #[test]
    fn bad_keys_are_clear_errors() {
        let error = crate::error::chain(&App::new("1", "not a key").unwrap_err());
        assert!(
            error.starts_with("The App's private key is not a PEM RSA private key\n  Caused by: ")
        );
        assert!(error.ends_with("\n  hint: use the .pem file GitHub generated for the App"));
        let error = crate::error::chain(
            &App::new(
                "1",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            )
            .unwrap_err(),
        );
        assert!(error.contains("a `CERTIFICATE` block"), "{error}");
    }
}

//! Registry credentials from Docker's `config.json`: `auths`, `credHelpers`, `credsStore`.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use serde::Deserialize;

/// A user name and secret (password or token). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// User name.
    pub username: String,
    /// Password or token.
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credential(***)")
    }
}

/// Docker Hub's key in `config.json`.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

/// The parts of `config.json` that hold credentials.
#[derive(Debug, Default, Deserialize)]
pub struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

/// Errors reading credentials.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// `config.json` is not valid JSON.
    #[error("Cannot read Docker's configuration `{path}`")]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A credential helper failed.
    #[error("The credential helper `docker-credential-{helper}` failed for {registry}: {reason}")]
    Helper {
        /// The helper's name.
        helper: String,
        /// The registry.
        registry: String,
        /// Why (its stderr, trimmed).
        reason: String,
    },
}

/// The keys `config.json` may use for a registry host.
fn keys_for(registry: &str) -> Vec<String> {
    if registry == "docker.io"
        || registry == "index.docker.io"
        || registry == "registry-1.docker.io"
    {
        return vec![
            DOCKER_HUB_KEY.into(),
            "index.docker.io".into(),
            "docker.io".into(),
            "registry-1.docker.io".into(),
        ];
    }
    vec![
        registry.into(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
    ]
}

impl DockerConfig {
    /// Read `config.json` from `dir` (`$DOCKER_CONFIG` or `~/.docker`); `None` when absent.
    pub fn load(dir: &Path) -> Result<Option<DockerConfig>, CredentialError> {
        let path = dir.join("config.json");
        let Ok(bytes) = std::fs::read(&path) else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| CredentialError::Config { path, source })
    }

    /// The default directory: `$DOCKER_CONFIG`, else `~/.docker`.
    pub fn default_dir() -> Option<PathBuf> {
        std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|h| h.join(".docker")))
    }

    /// The credential for `registry`: a per-registry helper, an `auths` entry, then the
    /// default store. Helpers are looked up on `path` (a `PATH`-style list).
    pub fn credential(
        &self,
        registry: &str,
        path: Option<&OsString>,
    ) -> Result<Option<Credential>, CredentialError> {
        let keys = keys_for(registry);
        if let Some(helper) = keys.iter().find_map(|k| self.cred_helpers.get(k)) {
            return run_helper(helper, &keys[0], path);
        }
        for key in &keys {
            if let Some(entry) = self.auths.get(key) {
                if let Some(c) = entry_credential(entry) {
                    return Ok(Some(c));
                }
            }
        }
        if let Some(store) = &self.creds_store {
            return run_helper(store, &keys[0], path);
        }
        Ok(None)
    }
}

fn entry_credential(entry: &AuthEntry) -> Option<Credential> {
    if let Some(token) = &entry.identitytoken {
        return Some(Credential {
            username: "<token>".into(),
            secret: token.clone(),
        });
    }
    if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
        return Some(Credential {
            username: u.clone(),
            secret: p.clone(),
        });
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(entry.auth.as_ref()?.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some(Credential {
        username: u.to_owned(),
        secret: p.to_owned(),
    })
}

/// Run `docker-credential-<helper> get` with the server on stdin; it answers
/// `{"Username": ..., "Secret": ...}` or fails with "credentials not found".
fn run_helper(
    helper: &str,
    server: &str,
    path: Option<&OsString>,
) -> Result<Option<Credential>, CredentialError> {
    let program = format!("docker-credential-{helper}");
    let fail = |reason: String| CredentialError::Helper {
        helper: helper.to_owned(),
        registry: server.to_owned(),
        reason,
    };
    let resolved = match path {
        Some(p) => std::env::split_paths(p)
            .map(|d| d.join(&program))
            .find(|c| c.is_file()),
        None => Some(PathBuf::from(&program)),
    };
    let Some(executable) = resolved else {
        return Err(fail(format!("`{program}` is not on the path")));
    };
    let mut child = Command::new(&executable)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let output = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let said = if stderr.is_empty() { stdout } else { stderr };
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(said));
    }
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let answer: Answer = serde_json::from_slice(&output.stdout)
        .map_err(|e| fail(format!("unreadable answer: {e}")))?;
    Ok(Some(Credential {
        username: answer.username,
        secret: answer.secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reads_auths_in_every_form() {
        let c = config(
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "dXNlcjpzM2NyZXQ="},
                "ghcr.io": {"username": "bot", "password": "ghp_x"},
                "https://registry.example:5000": {"identitytoken": "refresh"}
            }}"#,
        );
        let hub = c.credential("docker.io", None).unwrap().unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.secret.as_str()),
            ("user", "s3cret")
        );
        assert_eq!(
            c.credential("ghcr.io", None).unwrap().unwrap().secret,
            "ghp_x"
        );
        assert_eq!(
            c.credential("registry.example:5000", None)
                .unwrap()
                .unwrap()
                .username,
            "<token>"
        );
        assert!(c.credential("quay.io", None).unwrap().is_none());
        assert_eq!(format!("{hub:?}"), "Credential(***)");
    }

    #[test]
    #[cfg(unix)]
    fn runs_credential_helpers_from_a_given_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("docker-credential-test");
        std::fs::write(
            &script,
            "#!/bin/sh\nread server\nif [ \"$server\" = \"ghcr.io\" ]; then echo '{\"Username\":\"u\",\"Secret\":\"t0k\"}'; else echo 'credentials not found in native keychain' >&2; exit 1; fi\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = OsString::from(dir.path());
        let helpers = config(r#"{"credHelpers": {"ghcr.io": "test"}, "credsStore": "test"}"#);
        let c = helpers.credential("ghcr.io", Some(&path)).unwrap().unwrap();
        assert_eq!(c.secret, "t0k");
        // The default store says "not found": no credential, no error.
        assert!(
            helpers
                .credential("quay.io", Some(&path))
                .unwrap()
                .is_none()
        );
        let missing = config(r#"{"credsStore": "absent"}"#);
        let error = missing.credential("quay.io", Some(&path)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`docker-credential-absent` is not on the path"),
            "{error}"
        );
    }
}

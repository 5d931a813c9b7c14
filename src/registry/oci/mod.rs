//! OCI distribution registries: tag lists, manifest digests, platform manifests.
//!
//! Authentication follows the distribution spec and Docker's token protocol: a `GET /v2/`
//! once per registry tells whether credentials are needed and how (`Bearer` from a token
//! service, scoped per repository and reused until shortly before expiry; or `Basic`).
//! Credentials come from configuration, then Docker's `config.json` (auths, credential
//! helpers). Plain HTTP is used for `localhost`, `127.0.0.0/8` and `::1` (as Docker does) and
//! for registries marked insecure; HTTPS everywhere else.
//!
//! Where credentials go (as Docker's client does: it adds credentials only for the hosts whose
//! challenge it recorded):
//! - the registry's own requests carry them (basic credentials, or the bearer token) to the
//!   registry's origin only; a redirect or a tag-list `Link` to another origin never gets them,
//!   and a `Link` to another origin is refused outright (the tags it lists are not the
//!   registry's);
//! - the registry's basic credentials also go to the token service, but only to the `realm` of
//!   the challenge the registry itself answered on its own origin, and never over plain HTTP
//!   when the registry is reached over HTTPS.
//!
//! Digests: a `HEAD` (which does not count against Docker Hub's pull limits) tells whether a
//! tag moved. A digest repin writes is never taken from a header alone: the manifest is fetched
//! and hashed ([`OciClient::verify`], once per digest), and only the manifest media types repin
//! understands (OCI image index and manifest, Docker manifest list and schema 2 manifest) are
//! accepted.

pub mod auth;
pub mod created;
pub mod credentials;
pub mod manifest;
pub mod tag_list;

use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::Arc;
use std::time::Instant;

use reqwest::header::{ACCEPT, WWW_AUTHENTICATE};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use super::http::{Auth, HttpClient, HttpError, Request, Response};
use super::trust::is_loopback;
use crate::vocab::redact;
pub use auth::{Challenge, Token};
pub use credentials::{Credential, DockerConfig};
pub use manifest::{Manifest, Platform, platforms_changed};

/// How to reach and authenticate to registries.
#[derive(Debug, Clone, Default)]
pub struct OciSettings {
    /// Base URL to use for a registry host (mirrors, pull-through caches, tests).
    pub endpoints: HashMap<String, Url>,
    /// Registries to reach over plain HTTP.
    pub insecure: Vec<String>,
    /// Credentials per registry host (from configuration; they win over Docker's).
    pub credentials: HashMap<String, Credential>,
    /// Docker's configuration, for `auths` and credential helpers.
    pub docker_config: Option<Arc<DockerConfig>>,
    /// Registries whose stored credentials (Docker's `config.json`, helpers) are not used: the
    /// repository moved their endpoint to another origin (a `url`, or plain HTTP), and a
    /// credential stored for a host goes to that host's own origin only.
    pub withhold_stored: Vec<String>,
    /// Registries whose configured credentials were refused, with why: their lookups fail
    /// with it rather than go on without the credentials the repository asked for.
    pub refused: HashMap<String, crate::registry::trust::TrustError>,
    /// Where to look for `docker-credential-*` helpers (`PATH` when `None`).
    pub helper_path: Option<OsString>,
    /// Tags asked for per page (`n=`); 1000 when `None`.
    pub page_size: Option<usize>,
}

/// Why a registry request failed. URLs are redacted.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The repository does not exist (or is hidden without credentials).
    #[error("The repository `{repository}` was not found on {registry}")]
    RepositoryNotFound {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
    },
    /// The tag or digest does not exist.
    #[error("`{repository}:{reference}` was not found on {registry}")]
    ManifestNotFound {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
        /// Tag or digest.
        reference: String,
    },
    /// Credentials are missing or refused.
    #[error("{registry} refused access to `{repository}` (HTTP {status})")]
    Unauthorized {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
        /// The status.
        status: u16,
    },
    /// The registry limits requests (Docker Hub's pull limit, say).
    #[error("{registry} is rate limiting requests: {message}")]
    RateLimited {
        /// Registry host.
        registry: String,
        /// What it said.
        message: String,
    },
    /// The registry sent something that is not what the protocol says.
    #[error("{registry} sent a response repin cannot use: {reason}")]
    BadResponse {
        /// Registry host.
        registry: String,
        /// What was wrong.
        reason: String,
    },
    /// A body did not hash to the digest it was fetched by: a broken or hostile registry.
    #[error("{registry} served `{repository}@{expected}` with a body whose digest is {actual}")]
    DigestMismatch {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
        /// The digest asked for.
        expected: String,
        /// The body's digest.
        actual: String,
    },
    /// A `HEAD`'s `Docker-Content-Digest` is not the digest of the manifest the tag serves.
    #[error(
        "{registry} said `{repository}:{tag}` has the digest {claimed}, but its manifest hashes to {actual}: the digest is not pinned"
    )]
    DigestNotVerified {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
        /// The tag.
        tag: String,
        /// The digest the registry claimed.
        claimed: String,
        /// The manifest's digest.
        actual: String,
    },
    /// A manifest of a media type repin does not understand.
    #[error(
        "{registry} served `{repository}:{reference}` as `{media_type}`, which is not an image manifest or index repin understands"
    )]
    UnsupportedMediaType {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
        /// Tag or digest.
        reference: String,
        /// What it was served as.
        media_type: String,
    },
    /// A tag-list page links its next page on another origin.
    #[error(
        "{registry} linked the next page of the tags of `{repository}` on another origin ({link}): repin does not follow it"
    )]
    CrossOriginLink {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
        /// The link, redacted.
        link: String,
    },
    /// The token realm would receive credentials it must not.
    #[error(
        "{registry} asks for tokens from {realm}, which repin does not send {registry}'s credentials to: {reason}"
    )]
    UntrustedRealm {
        /// Registry host.
        registry: String,
        /// The realm, redacted.
        realm: String,
        /// Why.
        reason: &'static str,
    },
    /// The repository's configuration names credentials the operator did not allow for the
    /// registry's origin.
    #[error("{error}")]
    CredentialRefused {
        /// Registry host.
        registry: String,
        /// The refusal.
        error: Box<crate::registry::trust::TrustError>,
    },
    /// Reading credentials failed.
    #[error("Cannot get credentials")]
    Credentials(#[from] credentials::CredentialError),
    /// The HTTP request failed.
    #[error("Cannot reach {registry}")]
    Http {
        /// Registry host.
        registry: String,
        /// Why.
        #[source]
        source: Box<HttpError>,
    },
}

impl crate::error::Hint for OciError {
    fn hints(&self) -> Vec<String> {
        match self {
            OciError::Unauthorized { registry, .. } => vec![format!(
                "set credentials for {registry} in repin.toml ([registries.\"{registry}\"] username-env/password-env) or run `docker login {registry}`"
            )],
            // The refusal says which grant would allow it.
            OciError::CredentialRefused { error, .. } => error.hint().into_iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// The digest and media type of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestInfo {
    /// `sha256:...`.
    pub digest: String,
    /// The `Content-Type` the registry answered with.
    pub media_type: Option<String>,
}

/// `(registry, repository, digest)`.
type DigestKey = (String, String, String);

/// A verified manifest: its media type and body.
type VerifiedManifest = (String, Arc<Vec<u8>>);

/// A registry client. Cheap to clone; clones share tokens.
#[derive(Debug, Clone)]
pub struct OciClient {
    http: HttpClient,
    settings: Arc<OciSettings>,
    challenges: Arc<Mutex<HashMap<String, Arc<OnceCell<Challenge>>>>>,
    tokens: Arc<Mutex<HashMap<(String, String), Token>>>,
    /// Digests whose manifests were fetched and hashed, by (registry, repository, digest), with
    /// their media types and bodies: a manifest is content-addressed, so one fetched by tag
    /// answers a later request by its digest (an image's build time, after its digest was
    /// verified) without asking again. Only manifests this run fetched, each within the body
    /// limit, are kept.
    verified: Arc<std::sync::Mutex<HashMap<DigestKey, VerifiedManifest>>>,
}

/// Docker Hub's API host.
const DOCKER_HUB_API: &str = "https://registry-1.docker.io";
/// The most tag pages followed.
const MAX_PAGES: usize = 1000;

/// The base URL of a registry's API when nothing moves it: Docker Hub's API host for
/// `docker.io`, plain HTTP for loopback hosts and `insecure` ones, HTTPS otherwise.
pub fn default_endpoint(registry: &str, insecure: bool) -> Result<Url, OciError> {
    let text = if registry == "docker.io" || registry == "index.docker.io" {
        DOCKER_HUB_API.to_owned()
    } else if is_loopback(registry) || insecure {
        format!("http://{registry}")
    } else {
        format!("https://{registry}")
    };
    Url::parse(&text).map_err(|e| OciError::BadResponse {
        registry: registry.to_owned(),
        reason: format!("`{registry}` is not a usable host: {e}"),
    })
}

/// `sha256:<hex>` of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl OciClient {
    /// A client using `http` for every request.
    pub fn new(http: HttpClient, settings: OciSettings) -> Self {
        OciClient {
            http,
            settings: Arc::new(settings),
            challenges: Arc::default(),
            tokens: Arc::default(),
            verified: Arc::default(),
        }
    }

    /// The base URL of a registry's API.
    pub fn endpoint(&self, registry: &str) -> Result<Url, OciError> {
        if let Some(url) = self.settings.endpoints.get(registry) {
            return Ok(url.clone());
        }
        let insecure = self.settings.insecure.iter().any(|r| r == registry);
        default_endpoint(registry, insecure)
    }

    fn credential(&self, registry: &str) -> Result<Option<Credential>, OciError> {
        if let Some(error) = self.settings.refused.get(registry) {
            return Err(OciError::CredentialRefused {
                registry: registry.to_owned(),
                error: Box::new(error.clone()),
            });
        }
        if let Some(c) = self.settings.credentials.get(registry) {
            return Ok(Some(c.clone()));
        }
        if self.settings.withhold_stored.iter().any(|r| r == registry) {
            return Ok(None);
        }
        match &self.settings.docker_config {
            Some(config) => Ok(config.credential(registry, self.settings.helper_path.as_ref())?),
            None => Ok(None),
        }
    }

    fn http_error(registry: &str, error: HttpError) -> OciError {
        match error {
            HttpError::RateLimited { seconds, .. } => OciError::RateLimited {
                registry: registry.to_owned(),
                message: format!("asked to wait {seconds} seconds"),
            },
            // Retries ran out on 429s: say what the registry said (Docker Hub's pull limit).
            HttpError::Status {
                status: 429, body, ..
            } => OciError::RateLimited {
                registry: registry.to_owned(),
                message: body,
            },
            other => OciError::Http {
                registry: registry.to_owned(),
                source: Box::new(other),
            },
        }
    }

    /// How the registry wants to be authenticated (asked once per run).
    async fn challenge(&self, registry: &str) -> Result<Challenge, OciError> {
        let cell = {
            let mut map = self.challenges.lock().await;
            map.entry(registry.to_owned()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            let url = self
                .endpoint(registry)?
                .join("/v2/")
                .expect("a fixed path joins");
            let response = self
                .http
                .send(Request::get(url.clone()).uncached())
                .await
                .map_err(|e| Self::http_error(registry, e))?;
            // A challenge names where credentials go: only the registry's own origin may say.
            if response.status == 401 && !super::http::origin::same(&response.url, &url) {
                return Err(OciError::BadResponse {
                    registry: registry.to_owned(),
                    reason: format!(
                        "its /v2/ redirected to {}, which asked for credentials",
                        redact::url(&response.url)
                    ),
                });
            }
            Ok(match response.status {
                401 => response
                    .header(WWW_AUTHENTICATE.as_str())
                    .and_then(auth::parse_challenge)
                    .unwrap_or(Challenge::Basic),
                _ => Challenge::None,
            })
        })
        .await
        .cloned()
    }

    /// A bearer token for `repository` (pull scope), from the cache or the token service.
    async fn token(
        &self,
        registry: &str,
        repository: &str,
        realm: &str,
        service: Option<&str>,
        refresh: bool,
    ) -> Result<String, OciError> {
        let scope = format!("repository:{repository}:pull");
        let key = (registry.to_owned(), scope.clone());
        if !refresh {
            if let Some(token) = self.tokens.lock().await.get(&key) {
                if token.is_fresh(Instant::now()) {
                    return Ok(token.value.clone());
                }
            }
        }
        let mut url = Url::parse(realm).map_err(|e| OciError::BadResponse {
            registry: registry.to_owned(),
            reason: format!("the token realm `{realm}` is not a URL: {e}"),
        })?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &scope);
        }
        let auth = self.credential(registry)?.map(|c| Auth::Basic {
            username: c.username,
            password: c.secret,
        });
        if auth.is_some() {
            self.check_realm(registry, &url)?;
        }
        let response = self
            .http
            .send(Request::get(url).uncached().auth(auth))
            .await
            .map_err(|e| Self::http_error(registry, e))?;
        if matches!(response.status, 401 | 403) {
            return Err(OciError::Unauthorized {
                registry: registry.to_owned(),
                repository: repository.to_owned(),
                status: response.status,
            });
        }
        let response = response
            .ensure_success()
            .map_err(|e| Self::http_error(registry, e))?;
        let token = Token::from_response(&response.body, Instant::now()).ok_or_else(|| {
            OciError::BadResponse {
                registry: registry.to_owned(),
                reason: "the token service answered without a token".into(),
            }
        })?;
        let value = token.value.clone();
        self.tokens.lock().await.insert(key, token);
        Ok(value)
    }

    /// Whether the registry's basic credentials may go to `realm` (the challenge came from the
    /// registry's own origin, checked in [`Self::challenge`]): not over plain HTTP when the
    /// registry itself is reached over HTTPS, and only to http(s) URLs.
    fn check_realm(&self, registry: &str, realm: &Url) -> Result<(), OciError> {
        let refuse = |reason| OciError::UntrustedRealm {
            registry: registry.to_owned(),
            realm: redact::url(realm),
            reason,
        };
        let endpoint = self.endpoint(registry)?;
        match realm.scheme() {
            "https" => Ok(()),
            "http" if endpoint.scheme() == "http" => Ok(()),
            "http" => Err(refuse(
                "it is plain HTTP while the registry is reached over HTTPS",
            )),
            _ => Err(refuse("it is not an http(s) URL")),
        }
    }

    /// Send an authenticated request about `repository`; a 401 with a cached token refreshes
    /// the token once.
    async fn send(
        &self,
        registry: &str,
        repository: &str,
        request: Request,
    ) -> Result<Response, OciError> {
        let challenge = self.challenge(registry).await?;
        let mut refresh = false;
        loop {
            let auth = match &challenge {
                Challenge::None => None,
                Challenge::Basic => self.credential(registry)?.map(|c| Auth::Basic {
                    username: c.username,
                    password: c.secret,
                }),
                Challenge::Bearer { realm, service } => Some(Auth::Bearer(
                    self.token(registry, repository, realm, service.as_deref(), refresh)
                        .await?,
                )),
            };
            let response = self
                .http
                .send(request.clone().auth(auth))
                .await
                .map_err(|e| Self::http_error(registry, e))?;
            if response.status == 401 && matches!(challenge, Challenge::Bearer { .. }) && !refresh {
                refresh = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// Turn a failed response into the error it means.
    fn failure(
        &self,
        registry: &str,
        repository: &str,
        reference: Option<&str>,
        response: Response,
    ) -> OciError {
        let body = String::from_utf8_lossy(&response.body);
        let code = serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|v| v["errors"][0]["code"].as_str().map(str::to_owned));
        match (response.status, code.as_deref()) {
            (401 | 403, _) => OciError::Unauthorized {
                registry: registry.to_owned(),
                repository: repository.to_owned(),
                status: response.status,
            },
            (429, _) | (_, Some("TOOMANYREQUESTS")) => OciError::RateLimited {
                registry: registry.to_owned(),
                message: redact::excerpt(body.as_bytes()),
            },
            (404, Some("MANIFEST_UNKNOWN" | "TAG_INVALID")) | (404, None)
                if reference.is_some() =>
            {
                OciError::ManifestNotFound {
                    registry: registry.to_owned(),
                    repository: repository.to_owned(),
                    reference: reference.unwrap_or_default().to_owned(),
                }
            }
            (404, _) => OciError::RepositoryNotFound {
                registry: registry.to_owned(),
                repository: repository.to_owned(),
            },
            _ => Self::http_error(
                registry,
                HttpError::Status {
                    url: redact::url(&response.url),
                    status: response.status,
                    body: redact::excerpt(&response.body),
                },
            ),
        }
    }

    /// Every tag of a repository, following `Link` pagination.
    pub async fn tags(&self, registry: &str, repository: &str) -> Result<Vec<String>, OciError> {
        let base = self.endpoint(registry)?;
        let n = self.settings.page_size.unwrap_or(1000);
        let mut url = base
            .join(&format!("/v2/{repository}/tags/list?n={n}"))
            .map_err(|e| OciError::BadResponse {
                registry: registry.to_owned(),
                reason: e.to_string(),
            })?;
        let mut tags = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            if !seen.insert(url.to_string()) {
                break; // a Link loop
            }
            let request = Request::get(url.clone()).max_body(tag_list::MAX_PAGE_BYTES);
            let response = self.send(registry, repository, request).await?;
            if !response.is_success() {
                return Err(self.failure(registry, repository, None, response));
            }
            tag_list::read_page(&response.body, &mut tags).map_err(|e| OciError::BadResponse {
                registry: registry.to_owned(),
                reason: e.to_string(),
            })?;
            match response
                .header("link")
                .and_then(crate::vocab::link::next_link)
            {
                Some(next) => {
                    url = crate::vocab::web_link::resolve(&response.url, &next).map_err(|e| {
                        OciError::BadResponse {
                            registry: registry.to_owned(),
                            reason: format!("bad Link header: {}", e.reason()),
                        }
                    })?;
                    if !super::http::origin::same(&url, &base) {
                        return Err(OciError::CrossOriginLink {
                            registry: registry.to_owned(),
                            repository: repository.to_owned(),
                            link: redact::url(&url),
                        });
                    }
                }
                None => return Ok(tags),
            }
        }
        Ok(tags)
    }

    fn manifest_url(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
    ) -> Result<Url, OciError> {
        self.endpoint(registry)?
            .join(&format!("/v2/{repository}/manifests/{reference}"))
            .map_err(|e| OciError::BadResponse {
                registry: registry.to_owned(),
                reason: e.to_string(),
            })
    }

    /// The digest of a tag (or digest) from `HEAD`, falling back to `GET` and hashing the body
    /// when the registry sends no `Docker-Content-Digest`. A digest from a header only tells
    /// whether a tag moved: [`Self::verify`] it before writing it anywhere.
    pub async fn digest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
    ) -> Result<ManifestInfo, OciError> {
        let url = self.manifest_url(registry, repository, reference)?;
        let head = Request::head(url).header(ACCEPT, manifest::accept());
        let response = self.send(registry, repository, head).await?;
        if !response.is_success() {
            return Err(self.failure(registry, repository, Some(reference), response));
        }
        let media_type = response.header("content-type").map(str::to_owned);
        if let Some(declared) = media_type.as_deref() {
            if !manifest::is_generic(declared) && !manifest::is_supported(declared) {
                return Err(OciError::UnsupportedMediaType {
                    registry: registry.to_owned(),
                    repository: repository.to_owned(),
                    reference: reference.to_owned(),
                    media_type: redact::text(declared),
                });
            }
        }
        if let Some(digest) = response.header("docker-content-digest") {
            if crate::manifest::dockerfile::is_valid_digest(digest) {
                return Ok(ManifestInfo {
                    digest: digest.to_owned(),
                    media_type,
                });
            }
        }
        let (_, digest, media_type) = self.fetch(registry, repository, reference).await?;
        Ok(ManifestInfo {
            digest,
            media_type: Some(media_type),
        })
    }

    /// The digest of a tag by `GET`: the manifest fetched and hashed, so the digest is verified
    /// at once and a later [`Self::verify`] or [`Self::manifest`] of it costs no request. For
    /// a tag whose digest will be written anyway: a `HEAD` first would only add a request.
    pub async fn fetched_digest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
    ) -> Result<ManifestInfo, OciError> {
        let (_, digest, media_type) = self.fetch(registry, repository, reference).await?;
        Ok(ManifestInfo {
            digest,
            media_type: Some(media_type),
        })
    }

    /// Make sure `claimed` (from [`Self::digest`]) is the digest of the manifest `tag` serves:
    /// fetch the manifest and hash it, unless a manifest with that digest was already fetched
    /// and hashed in this run. Returns the manifest's media type.
    pub async fn verify(
        &self,
        registry: &str,
        repository: &str,
        tag: &str,
        claimed: &str,
    ) -> Result<String, OciError> {
        let key = (
            registry.to_owned(),
            repository.to_owned(),
            claimed.to_owned(),
        );
        if let Some(media_type) = self.verified_media_type(&key) {
            return Ok(media_type);
        }
        let reference = if tag.is_empty() { claimed } else { tag };
        let (_, actual, media_type) = self.fetch(registry, repository, reference).await?;
        if actual != claimed {
            return Err(OciError::DigestNotVerified {
                registry: registry.to_owned(),
                repository: repository.to_owned(),
                tag: reference.to_owned(),
                claimed: claimed.to_owned(),
                actual,
            });
        }
        Ok(media_type)
    }

    fn verified_media_type(&self, key: &DigestKey) -> Option<String> {
        self.verified_manifest(key)
            .map(|(media_type, _)| media_type)
    }

    fn verified_manifest(&self, key: &DigestKey) -> Option<VerifiedManifest> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// GET a manifest; returns its body, digest (the hash of the body, checked against
    /// `reference` when that is a digest and against the `Docker-Content-Digest` header) and
    /// media type (one repin understands, or an error). The digest is remembered as verified.
    async fn fetch(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
    ) -> Result<(Vec<u8>, String, String), OciError> {
        if reference.starts_with("sha256:") {
            let key = (
                registry.to_owned(),
                repository.to_owned(),
                reference.to_owned(),
            );
            if let Some((media_type, body)) = self.verified_manifest(&key) {
                return Ok((body.to_vec(), reference.to_owned(), media_type));
            }
        }
        let url = self.manifest_url(registry, repository, reference)?;
        let get = Request::get(url).header(ACCEPT, manifest::accept());
        let response = self.send(registry, repository, get).await?;
        if !response.is_success() {
            return Err(self.failure(registry, repository, Some(reference), response));
        }
        let actual = sha256_digest(&response.body);
        if reference.starts_with("sha256:") && reference != actual {
            return Err(OciError::DigestMismatch {
                registry: registry.to_owned(),
                repository: repository.to_owned(),
                expected: reference.to_owned(),
                actual,
            });
        }
        if let Some(header) = response.header("docker-content-digest") {
            // Only sha256 can be compared (a registry may name another algorithm).
            if header.starts_with("sha256:") && header != actual {
                return Err(OciError::DigestNotVerified {
                    registry: registry.to_owned(),
                    repository: repository.to_owned(),
                    tag: reference.to_owned(),
                    claimed: redact::text(header),
                    actual,
                });
            }
        }
        let media_type = manifest::media_type(response.header("content-type"), &response.body)
            .map_err(|media_type| OciError::UnsupportedMediaType {
                registry: registry.to_owned(),
                repository: repository.to_owned(),
                reference: reference.to_owned(),
                media_type: redact::text(&media_type.to_string()),
            })?;
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                (registry.to_owned(), repository.to_owned(), actual.clone()),
                (media_type.clone(), Arc::new(response.body.clone())),
            );
        Ok((response.body, actual, media_type))
    }

    /// Fetch and parse a manifest (an index with its platforms, or an image manifest).
    pub async fn manifest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
    ) -> Result<Manifest, OciError> {
        let (body, digest, _) = self.fetch(registry, repository, reference).await?;
        Manifest::parse(&body, digest).map_err(|e| OciError::BadResponse {
            registry: registry.to_owned(),
            reason: format!("the manifest is not valid JSON: {e}"),
        })
    }

    /// The body of a manifest and its digest (verified as [`Self::manifest`] verifies it),
    /// for readers that need more of it than [`Manifest`] keeps (an image's layers).
    pub async fn manifest_body(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
    ) -> Result<(Vec<u8>, String), OciError> {
        let (body, digest, _) = self.fetch(registry, repository, reference).await?;
        Ok((body, digest))
    }

    fn blob_url(&self, registry: &str, repository: &str, digest: &str) -> Result<Url, OciError> {
        self.endpoint(registry)?
            .join(&format!("/v2/{repository}/blobs/{digest}"))
            .map_err(|e| OciError::BadResponse {
                registry: registry.to_owned(),
                reason: e.to_string(),
            })
    }

    /// A whole blob of at most `max` bytes (an image's config), its sha256 digest checked.
    pub async fn blob(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
        max: usize,
    ) -> Result<Vec<u8>, OciError> {
        let url = self.blob_url(registry, repository, digest)?;
        let response = self
            .send(registry, repository, Request::get(url).max_body(max))
            .await?;
        if !response.is_success() {
            return Err(self.failure(registry, repository, Some(digest), response));
        }
        let actual = sha256_digest(&response.body);
        if digest.starts_with("sha256:") && actual != digest {
            return Err(OciError::DigestMismatch {
                registry: registry.to_owned(),
                repository: repository.to_owned(),
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(response.body)
    }

    /// Bytes `start..=end` of a blob (a part of an image layer), never cached. A registry that
    /// ignores the range answers with the whole blob (`Ranged::Whole`, bounded by the
    /// client's body limit); a `206` must hold exactly the bytes asked for.
    pub async fn blob_range(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
        start: u64,
        end: u64,
    ) -> Result<super::http::range::Ranged, OciError> {
        use super::http::range::{Ranged, content_range};
        let url = self.blob_url(registry, repository, digest)?;
        let request = Request::get(url)
            .uncached()
            .header(reqwest::header::RANGE, format!("bytes={start}-{end}"));
        let response = self.send(registry, repository, request).await?;
        if response.status == 416 {
            // Asked past the end: the blob is shorter than its descriptor said.
            return Ok(Ranged::Part {
                start,
                total: start,
                body: Vec::new(),
            });
        }
        if !response.is_success() {
            return Err(self.failure(registry, repository, Some(digest), response));
        }
        if response.status != 206 {
            return Ok(Ranged::Whole(response.body));
        }
        let bad = |reason: String| OciError::BadResponse {
            registry: registry.to_owned(),
            reason,
        };
        let (got_start, got_end, total) = response
            .header("content-range")
            .and_then(content_range)
            .ok_or_else(|| bad("a 206 answer without a usable Content-Range".into()))?;
        if got_start != start
            || got_end != end.min(total - 1)
            || response.body.len() as u64 != got_end - got_start + 1
        {
            return Err(bad(format!(
                "asked for bytes {start}-{end} of {digest}, it sent bytes {got_start}-{got_end}/{total} ({} bytes)",
                response.body.len()
            )));
        }
        Ok(Ranged::Part {
            start,
            total,
            body: response.body,
        })
    }
}

#[cfg(test)]
mod tests;

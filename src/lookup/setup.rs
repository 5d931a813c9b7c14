//! Building the clients of a run from `repin.toml`, the environment and Docker's config.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::{Checker, ImageLookups};
use crate::advisory::{OsvApi, OsvApiError};
use crate::config::{Loaded, NetworkLimits};
use crate::registry::http::{CacheMode, HttpClient, HttpConfig, HttpError};
use crate::registry::oci::credentials::CredentialError;
use crate::registry::oci::{Credential, DockerConfig, OciClient, OciSettings, Platform};
use crate::registry::pypi::{ConfiguredIndexes, Environment, IndexResolver, PypiClient, PypiError};
use crate::registry::trust::{AllowList, Author, Origin, Reference};

/// What a run needs besides the configuration file.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The on-disk cache.
    pub cache: CacheMode,
    /// Environment variables and home directory (for pip.conf, netrc, credentials).
    pub environment: Environment,
    /// Docker's configuration directory (`$DOCKER_CONFIG`, `~/.docker`), if any.
    pub docker_config: Option<PathBuf>,
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// The operator's grants: which variables the repository's files and configuration may
    /// have expanded, for which origins.
    pub allow: AllowList,
}

/// Errors setting a run up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The HTTP client could not be built.
    #[error("Cannot set up HTTP")]
    Http(#[from] HttpError),
    /// An index's configuration is wrong (an unset variable, a bad URL).
    #[error("Cannot set up the package indexes")]
    Index(#[from] PypiError),
    /// `[advisories] osv-url` cannot be used.
    #[error("Cannot set up the OSV API client")]
    Osv(#[from] OsvApiError),
    /// Docker's configuration cannot be read.
    #[error("Cannot read Docker's credentials")]
    Docker(#[from] CredentialError),
    /// A registry's configuration is wrong.
    #[error("Invalid configuration for registry `{registry}`: {reason}")]
    Registry {
        /// The registry.
        registry: String,
        /// What is wrong.
        reason: String,
    },
}

/// The HTTP settings of a run: the operator's `defaults`, changed by `[network]`. A repository's
/// `repin.toml` may only tighten them: a hostile repository must not hold the bot's run for
/// longer, nor retry more, than the operator allows, so each of its limits is capped at the
/// operator's. (Concurrency and body limits are not settings of `repin.toml` at all.)
pub fn http_config(network: &NetworkLimits, author: Author, defaults: HttpConfig) -> HttpConfig {
    fn cap<T: Ord + Copy>(asked: Option<T>, default: T, author: Author) -> T {
        match (asked, author) {
            (Some(asked), Author::Operator) => asked,
            (Some(asked), Author::Repository) => asked.min(default),
            (None, _) => default,
        }
    }
    // A deadline the operator leaves unset (`None`) is no limit: the repository may set one.
    fn cap_deadline(
        asked: Option<Duration>,
        default: Option<Duration>,
        author: Author,
    ) -> Option<Duration> {
        match (asked, default, author) {
            (Some(asked), Some(default), Author::Repository) => Some(asked.min(default)),
            (asked, default, _) => asked.or(default),
        }
    }
    HttpConfig {
        timeout: cap(network.timeout, defaults.timeout, author),
        connect_timeout: cap(network.connect_timeout, defaults.connect_timeout, author),
        host_deadline: cap_deadline(network.host_deadline, defaults.host_deadline, author),
        run_deadline: cap_deadline(network.run_deadline, defaults.run_deadline, author),
        retries: cap(network.retries, defaults.retries, author),
        ..defaults
    }
}

impl crate::error::Hint for SetupError {
    fn hints(&self) -> Vec<String> {
        match self {
            SetupError::Index(error) => error.hints(),
            SetupError::Osv(error) => error.hints(),
            SetupError::Http(_) | SetupError::Docker(_) | SetupError::Registry { .. } => Vec::new(),
        }
    }
}

impl Checker {
    /// Build the clients of a run.
    pub fn new(config: Loaded, options: RunOptions) -> Result<Checker, SetupError> {
        let http = HttpClient::new(HttpConfig {
            cache: options.cache.clone(),
            ..http_config(&config.network, config.author, HttpConfig::for_run())
        })?;
        let c = &config.config;
        // Index credentials are named by environment variable; the index resolver expands
        // `${VAR}` references (and says which one is unset, or refused).
        let template = |i: &crate::config::IndexConfig| -> String {
            let url = i.url.get_ref().clone();
            match (&i.username_env, &i.password_env) {
                (Some(u), Some(p)) => url.replacen(
                    "://",
                    &format!("://${{{}}}:${{{}}}@", u.get_ref(), p.get_ref()),
                    1,
                ),
                (None, Some(p)) => url.replacen("://", &format!("://${{{}}}@", p.get_ref()), 1),
                _ => url,
            }
        };
        let configured = ConfiguredIndexes {
            index_url: c.indexes.iter().find(|i| i.primary).map(template),
            extra_index_urls: c
                .indexes
                .iter()
                .filter(|i| !i.primary)
                .map(template)
                .collect(),
            author: config.author,
            places: c
                .indexes
                .iter()
                .zip(&config.index_places)
                .map(|(i, place)| (template(i), place.clone()))
                .collect(),
        };
        let indexes = IndexResolver::new(options.environment.clone(), configured)?
            .with_allow_list(options.allow.clone());
        let mut settings = OciSettings::default();
        for (host, registry) in &c.registries {
            if let Some(url) = &registry.url {
                let parsed = Url::parse(url.get_ref()).map_err(|e| SetupError::Registry {
                    registry: host.clone(),
                    reason: e.to_string(),
                })?;
                settings.endpoints.insert(host.clone(), parsed);
            }
            if registry.insecure {
                settings.insecure.push(host.clone());
            }
            if config.author == Author::Repository {
                // Where this registry's requests go now, and where they would go unmoved.
                let moved = match (&registry.url, registry.insecure) {
                    (None, false) => false,
                    _ => {
                        let endpoint = settings.endpoints.get(host).cloned().map_or_else(
                            || crate::registry::oci::default_endpoint(host, registry.insecure),
                            Ok,
                        );
                        let unmoved = crate::registry::oci::default_endpoint(host, false);
                        match (endpoint, unmoved) {
                            (Ok(e), Ok(u)) => Origin::of(&e) != Origin::of(&u),
                            _ => true,
                        }
                    }
                };
                if moved {
                    settings.withhold_stored.push(host.clone());
                }
                let references: Vec<Reference> = [&registry.username_env, &registry.password_env]
                    .into_iter()
                    .flatten()
                    .map(|name| Reference {
                        name: name.get_ref().clone(),
                        in_host: false,
                    })
                    .collect();
                if !references.is_empty() {
                    let endpoint = match settings.endpoints.get(host) {
                        Some(url) => Ok(url.clone()),
                        None => crate::registry::oci::default_endpoint(host, registry.insecure),
                    };
                    let origin = endpoint.ok().and_then(|e| Origin::of(&e)).ok_or_else(|| {
                        SetupError::Registry {
                            registry: host.clone(),
                            reason: "its endpoint has no http or https origin".into(),
                        }
                    });
                    let what = format!("`[registries.\"{host}\"]` of repin.toml");
                    let place = config.registry_places.get(host).map(String::as_str);
                    match options.allow.check(&references, || origin, &what, place) {
                        Ok(result) => {
                            result?;
                        }
                        Err(refusal) => {
                            settings.refused.insert(host.clone(), refusal);
                            continue;
                        }
                    }
                }
            }
            let var = |name: &Option<toml::Spanned<String>>| -> Result<Option<String>, SetupError> {
                let Some(name) = name else { return Ok(None) };
                options
                    .environment
                    .var(name.get_ref())
                    .map(|v| Some(v.to_owned()))
                    .ok_or_else(|| SetupError::Registry {
                        registry: host.clone(),
                        reason: format!("the environment variable `{}` is not set", name.get_ref()),
                    })
            };
            if let Some(secret) = var(&registry.password_env)? {
                let username = var(&registry.username_env)?.unwrap_or_default();
                // Held from now on: masked in every error, even one no request caused.
                crate::vocab::redact::register_basic(&username, &secret);
                settings
                    .credentials
                    .insert(host.clone(), Credential { username, secret });
            }
        }
        if let Some(dir) = &options.docker_config {
            settings.docker_config = DockerConfig::load(dir)?.map(Arc::new);
        }
        let platforms: Vec<Platform> = c
            .images
            .platforms
            .iter()
            .filter_map(|p| Platform::parse(p))
            .collect();
        let osv_url = c.advisories.osv_url.as_ref().map(|u| u.get_ref().as_str());
        let osv = OsvApi::new(http.clone(), osv_url)?;
        Ok(Checker {
            pypi: PypiClient::new(http.clone()),
            osv,
            indexes,
            images: ImageLookups {
                oci: OciClient::new(http, settings),
                platforms,
            },
            now: options.now,
            release_links: false,
            lock_maintenance: false,
            advisory_db: None,
            build_code: true,
            config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(seconds: u64, retries: u32) -> NetworkLimits {
        let d = Some(Duration::from_secs(seconds));
        NetworkLimits {
            timeout: d,
            connect_timeout: d,
            host_deadline: d,
            run_deadline: d,
            retries: Some(retries),
        }
    }

    #[test]
    fn a_repository_only_tightens_the_operators_network_limits() {
        let defaults = HttpConfig::for_run();
        let raised = http_config(&limits(86_400, 1_000), Author::Repository, defaults.clone());
        assert_eq!(raised.timeout, defaults.timeout);
        assert_eq!(raised.connect_timeout, defaults.connect_timeout);
        assert_eq!(raised.host_deadline, defaults.host_deadline);
        assert_eq!(raised.run_deadline, defaults.run_deadline);
        assert_eq!(raised.retries, defaults.retries);
        assert_eq!(raised.per_host, defaults.per_host);
        assert_eq!(raised.max_body, defaults.max_body);
        let lowered = http_config(&limits(1, 0), Author::Repository, defaults.clone());
        assert_eq!(lowered.timeout, Duration::from_secs(1));
        assert_eq!(lowered.connect_timeout, Duration::from_secs(1));
        assert_eq!(lowered.host_deadline, Some(Duration::from_secs(1)));
        assert_eq!(lowered.run_deadline, Some(Duration::from_secs(1)));
        assert_eq!(lowered.retries, 0);
        // The operator's own configuration file is used as written.
        let operator = http_config(&limits(86_400, 1_000), Author::Operator, defaults.clone());
        assert_eq!(operator.timeout, Duration::from_secs(86_400));
        assert_eq!(operator.run_deadline, Some(Duration::from_secs(86_400)));
        assert_eq!(operator.retries, 1_000);
        // Unset, the defaults hold.
        let unset = http_config(
            &NetworkLimits::default(),
            Author::Repository,
            defaults.clone(),
        );
        assert_eq!(unset.timeout, defaults.timeout);
        assert_eq!(unset.host_deadline, defaults.host_deadline);
    }
}

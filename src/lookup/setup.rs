//! Building the clients of a run from `repin.toml`, the environment and Docker's config.

use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use super::{Checker, ImageLookups};
use crate::advisory::{OsvApi, OsvApiError};
use crate::config::Loaded;
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

impl Checker {
    /// Build the clients of a run.
    pub fn new(config: Loaded, options: RunOptions) -> Result<Checker, SetupError> {
        let network = &config.network;
        let defaults = HttpConfig::for_run();
        let http = HttpClient::new(HttpConfig {
            cache: options.cache.clone(),
            timeout: network.timeout.unwrap_or(defaults.timeout),
            connect_timeout: network.connect_timeout.unwrap_or(defaults.connect_timeout),
            host_deadline: network.host_deadline.or(defaults.host_deadline),
            run_deadline: network.run_deadline.or(defaults.run_deadline),
            retries: network.retries.unwrap_or(defaults.retries),
            ..defaults
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
                crate::registry::http::redact::register_basic(&username, &secret);
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
            config,
        })
    }
}

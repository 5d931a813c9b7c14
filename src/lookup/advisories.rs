//! Advisories for a run, and the releases an audit needs to name fix versions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use futures::StreamExt;

use super::{CONCURRENCY, Checker, failure_message, releases};
use crate::advisory::AdvisoryIndex;
use crate::config::AdvisorySource as SourceName;
use crate::decide::python::Release;
use crate::manifest::workspace::Workspace;
use crate::registry::trust::Author;

/// Advisories by package, and the packages whose advisories could not be fetched.
#[derive(Debug, Default)]
pub struct AdvisoryLookup {
    /// Advisories by normalised package name.
    pub index: AdvisoryIndex,
    /// Packages that could not be checked, with why.
    pub failed: BTreeMap<String, crate::vocab::Message>,
    /// Where the advisories came from, for reports.
    pub source: String,
}

/// Why no advisories could be had at all.
#[derive(Debug, thiserror::Error)]
pub enum AdvisoryError {
    /// The repository's configuration names a database, and the repository is not known.
    #[error(
        "Refused to read the advisory database `{}`: the configuration is the repository's, and its repository is not known",
        .0.display()
    )]
    NoRepository(PathBuf),
    /// The repository's configured database cannot be opened (or leads outside it).
    #[error(transparent)]
    Repository(crate::advisory::offline::OfflineError),
    /// The operator's database cannot be opened or read.
    #[error(transparent)]
    Offline(#[from] crate::advisory::offline::OfflineError),
    /// The task reading the database died.
    #[error("{0}")]
    Task(#[from] tokio::task::JoinError),
    /// Advisories are off in the configuration.
    #[error("advisories are off in repin.toml")]
    Off,
    /// `offline` without a path (a configuration not loaded from a file).
    #[error("`advisories.source = \"offline\"` needs `advisories.path`")]
    NoPath,
}

impl crate::error::Hint for AdvisoryError {
    fn hints(&self) -> Vec<String> {
        use crate::advisory::offline::OfflineError;
        match self {
            AdvisoryError::NoRepository(_) => vec!["pass --advisory-db PATH".into()],
            AdvisoryError::Repository(OfflineError::Refused { .. }) => vec![
                "a repository's `[advisories] path` must be inside the repository; the operator can pass --advisory-db PATH".into(),
            ],
            AdvisoryError::NoPath => {
                vec!["point `path` at an OSV directory or a PyPI all.zip".into()]
            }
            AdvisoryError::Repository(error) | AdvisoryError::Offline(error) => error.hints(),
            AdvisoryError::Task(_)
            | AdvisoryError::Off => Vec::new(),
        }
    }
}

/// What the indexes said about the packages an audit needs releases of.
#[derive(Debug, Default)]
pub struct AuditReleases {
    /// Releases by package name.
    pub releases: BTreeMap<String, Vec<Release>>,
    /// Packages whose lookup failed, with why.
    pub failed: BTreeMap<String, crate::vocab::Message>,
}

impl Checker {
    /// Advisories for `packages`: from `override_db` when given, else as `repin.toml` says.
    pub async fn advisories(
        &self,
        packages: &[String],
        override_db: Option<&Path>,
    ) -> Result<AdvisoryLookup, AdvisoryError> {
        let config = &self.config.config.advisories;
        let configured: Option<PathBuf> = (config.source == SourceName::Offline)
            .then(|| config.path.as_ref().map(|p| p.get_ref().into()))
            .flatten();
        let path = override_db.map(Path::to_path_buf).or(configured.clone());
        if let Some(path) = path {
            let source = match (&configured, override_db, &self.config.root) {
                // The repository's own `path` stays inside the repository.
                (Some(_), None, root) if self.config.author == Author::Repository => {
                    let Some(root) = root else {
                        return Err(AdvisoryError::NoRepository(path));
                    };
                    crate::advisory::offline::open_in_repository(&path, root)
                        .map_err(AdvisoryError::Repository)?
                }
                _ => crate::advisory::offline::open(&path)?,
            };
            let index = tokio::task::spawn_blocking(move || source.load_index()).await??;
            return Ok(AdvisoryLookup {
                index,
                failed: BTreeMap::new(),
                source: format!("offline database {}", path.display()),
            });
        }
        match config.source {
            SourceName::Off => Ok(AdvisoryLookup {
                index: AdvisoryIndex::new(),
                failed: packages
                    .iter()
                    .map(|p| (p.clone(), "advisories are off in repin.toml".into()))
                    .collect(),
                source: "off".into(),
            }),
            SourceName::Osv => Ok(self.osv_advisories(packages).await),
            // Configuration loading refuses `offline` without a path; this is for a config
            // built otherwise.
            SourceName::Offline => Err(AdvisoryError::NoPath),
        }
    }

    /// Advisories for `packages` from the OSV API; a package whose advisories could not all be
    /// fetched is failed, with the error's full text.
    async fn osv_advisories(&self, packages: &[String]) -> AdvisoryLookup {
        let answer = self.osv.lookup(packages).await;
        AdvisoryLookup {
            index: answer.index,
            failed: answer
                .failed
                .into_iter()
                .map(|(package, error)| (package, failure_message(error.as_ref())))
                .collect(),
            source: format!("OSV API at {}", self.osv.base()),
        }
    }

    /// Releases of the packages whose pins a known advisory affects or whose ranges must be
    /// resolved, looked up once per package; the packages whose lookup failed, with why (a fix
    /// version named without them is unconfirmed).
    pub async fn releases_for(
        &self,
        workspace: &Workspace,
        index: &AdvisoryIndex,
    ) -> AuditReleases {
        let mut wanted: BTreeMap<String, Vec<crate::registry::pypi::Index>> = BTreeMap::new();
        // Packages whose indexes cannot be used (a `${VAR}` the operator did not allow for the
        // index's origin, an unset variable): never asked, so a fix named for them is
        // unconfirmed, and says why.
        let mut refused: BTreeMap<String, crate::vocab::Message> = BTreeMap::new();
        for manifest in &workspace.manifests {
            for dependency in &manifest.dependencies {
                let Some(requirement) = dependency.python() else {
                    continue;
                };
                if dependency.skip_reason.is_some() || wanted.contains_key(&dependency.name) {
                    continue;
                }
                let vulnerable = requirement
                    .pinned_version()
                    .is_some_and(|v| !index.affecting(&dependency.name, v).is_empty());
                let range = requirement.pin.is_none() && requirement.specifier.is_some();
                if !(vulnerable || range) {
                    continue;
                }
                match self
                    .indexes
                    .indexes(&requirement.index, Some(manifest.source.path()))
                {
                    Ok(indexes) if indexes.is_empty() => {}
                    Ok(indexes) => {
                        // Another file's usable index answers for the package.
                        refused.remove(&dependency.name);
                        wanted.insert(dependency.name.clone(), indexes);
                    }
                    Err(error) => {
                        refused
                            .entry(dependency.name.clone())
                            .or_insert_with(|| failure_message(&error));
                    }
                }
            }
        }
        let names: BTreeSet<&String> = wanted.keys().collect();
        let answers: Vec<(String, Result<Vec<Release>, _>)> = futures::stream::iter(names)
            .map(|name| async {
                let result = self.pypi.lookup(&wanted[name], name).await;
                // An audit names fix versions; it never needs the files' hashes.
                let result = result.map(|lookup| releases(&lookup, None, false));
                (name.clone(), result)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut out = AuditReleases {
            failed: refused,
            ..AuditReleases::default()
        };
        for (name, result) in answers {
            match result {
                Ok(list) => {
                    out.releases.insert(name, list);
                }
                Err(error) => {
                    out.failed.insert(name, failure_message(&error));
                }
            }
        }
        out
    }
}

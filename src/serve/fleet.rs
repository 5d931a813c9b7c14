//! Which repositories the server serves. Named with `--repo`: those, and only those. As a
//! GitHub App without `--repo`: every repository of every installation of the App, listed when
//! the server starts and again every period (so an installation whose delivery was missed is
//! picked up all the same), and changed at once by `installation` and
//! `installation_repositories` deliveries.

use std::collections::BTreeMap;

use super::webhook::InstallationChange;
use super::{AppAuth, ServeError};

/// One served repository.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// `owner/name` as configured or as GitHub spells it.
    name: String,
    /// The App's installation it comes from; `None` for `--repo`.
    installation: Option<u64>,
}

/// The served repositories, by their lowercased names (GitHub's names are case-insensitive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fleet {
    /// Whether they are the App's installations' (changed by listings and deliveries), not
    /// `--repo`'s.
    discovered: bool,
    by_name: BTreeMap<String, Entry>,
}

/// What a listing of the App's installations found: each installation with its repositories,
/// `None` for one whose repositories could not be listed (what was known of it is kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Installation ID and its repositories.
    pub installations: Vec<(u64, Option<Vec<String>>)>,
}

/// What a change did: the repositories served from now on, and those no longer served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    /// Newly served.
    pub added: Vec<String>,
    /// No longer served.
    pub removed: Vec<String>,
}

impl Fleet {
    /// The repositories named with `--repo`: never changed.
    pub fn fixed(repositories: &[String]) -> Fleet {
        Fleet {
            discovered: false,
            by_name: repositories
                .iter()
                .map(|r| {
                    let entry = Entry {
                        name: r.clone(),
                        installation: None,
                    };
                    (r.to_lowercase(), entry)
                })
                .collect(),
        }
    }

    /// None yet: the App's installations' repositories, once listed.
    pub fn discovered() -> Fleet {
        Fleet {
            discovered: true,
            by_name: BTreeMap::new(),
        }
    }

    /// Whether the repositories are the App's installations'.
    pub fn is_discovered(&self) -> bool {
        self.discovered
    }

    /// `repository` as served (its configured spelling), if it is.
    pub fn get(&self, repository: &str) -> Option<&str> {
        self.by_name
            .get(&repository.to_lowercase())
            .map(|e| e.name.as_str())
    }

    /// The App's installation `repository` comes from (`None` for `--repo`'s, or one not
    /// served).
    pub fn installation_of(&self, repository: &str) -> Option<u64> {
        self.by_name
            .get(&repository.to_lowercase())
            .and_then(|e| e.installation)
    }

    /// Every served repository, by name.
    pub fn names(&self) -> Vec<String> {
        self.by_name.values().map(|e| e.name.clone()).collect()
    }

    /// How many repositories are served.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// What changed from `before` to `after`.
    fn diff(before: &BTreeMap<String, Entry>, after: &BTreeMap<String, Entry>) -> Changed {
        Changed {
            added: after
                .iter()
                .filter(|(k, _)| !before.contains_key(*k))
                .map(|(_, e)| e.name.clone())
                .collect(),
            removed: before
                .iter()
                .filter(|(k, _)| !after.contains_key(*k))
                .map(|(_, e)| e.name.clone())
                .collect(),
        }
    }

    /// Apply a delivery's change of an installation (nothing changes for `--repo`'s set).
    pub fn apply(&mut self, change: &InstallationChange) -> Changed {
        if !self.discovered {
            return Changed::default();
        }
        let before = self.by_name.clone();
        if change.uninstalled {
            self.by_name
                .retain(|_, e| e.installation != Some(change.installation));
        }
        for name in &change.removed {
            self.by_name.remove(&name.to_lowercase());
        }
        for name in &change.added {
            self.by_name.insert(
                name.to_lowercase(),
                Entry {
                    name: name.clone(),
                    installation: Some(change.installation),
                },
            );
        }
        Self::diff(&before, &self.by_name)
    }

    /// Replace the set with what a listing found: an installation no longer listed is gone;
    /// one whose repositories could not be listed keeps those known (nothing changes for
    /// `--repo`'s set).
    pub fn relist(&mut self, listing: &Listing) -> Changed {
        if !self.discovered {
            return Changed::default();
        }
        let mut after = BTreeMap::new();
        for (installation, repositories) in &listing.installations {
            match repositories {
                Some(names) => {
                    for name in names {
                        after.insert(
                            name.to_lowercase(),
                            Entry {
                                name: name.clone(),
                                installation: Some(*installation),
                            },
                        );
                    }
                }
                None => after.extend(
                    self.by_name
                        .iter()
                        .filter(|(_, e)| e.installation == Some(*installation))
                        .map(|(k, e)| (k.clone(), e.clone())),
                ),
            }
        }
        let changed = Self::diff(&self.by_name, &after);
        self.by_name = after;
        changed
    }
}

/// List every installation of the App and the repositories of each (suspended installations
/// have none). An installation whose repositories cannot be listed is logged and listed as
/// unknown; the listing fails only when the installations themselves cannot be listed.
pub async fn list(app: &AppAuth) -> Result<Listing, ServeError> {
    let jwt = app
        .app
        .jwt(jiff::Timestamp::now().as_second())
        .map_err(ServeError::Jwt)?;
    let github = crate::forge::github::GitHub::unbound(app.http.clone(), &app.api, Some(jwt))
        .map_err(|e| ServeError::Installations(Box::new(e)))?;
    let installations = github
        .installations()
        .await
        .map_err(|e| ServeError::Installations(Box::new(e)))?;
    let mut listing = Listing::default();
    for installation in installations {
        if installation.suspended {
            listing
                .installations
                .push((installation.id, Some(Vec::new())));
            continue;
        }
        let repositories = match github.installation_repositories(installation.id).await {
            // Each name goes into a run's remote URL: only what GitHub allows.
            Ok(repositories) => Some(
                repositories
                    .into_iter()
                    .filter(|r| super::webhook::is_repository_name(r))
                    .collect(),
            ),
            Err(error) => {
                super::log::warn(
                    super::log::About::default(),
                    &format!(
                        "the repositories of installation {} ({}) could not be listed; those known stay served: {}",
                        installation.id,
                        installation.account,
                        crate::error::chain(&error)
                    ),
                );
                None
            }
        };
        listing.installations.push((installation.id, repositories));
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(installation: u64, added: &[&str], removed: &[&str]) -> InstallationChange {
        InstallationChange {
            installation,
            added: added.iter().map(std::string::ToString::to_string).collect(),
            removed: removed
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            uninstalled: false,
            why: String::new(),
        }
    }

    fn listing(items: &[(u64, Option<&[&str]>)]) -> Listing {
        Listing {
            installations: items
                .iter()
                .map(|(id, names)| {
                    (
                        *id,
                        names.map(|n| n.iter().map(std::string::ToString::to_string).collect()),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn repo_flags_are_never_changed() {
        let mut fleet = Fleet::fixed(&["Acme/Service".into()]);
        assert_eq!(fleet.get("acme/service"), Some("Acme/Service"));
        assert_eq!(
            fleet.apply(&change(7, &["acme/worker"], &["Acme/Service"])),
            Changed::default()
        );
        assert_eq!(
            fleet.relist(&listing(&[(7, Some(&["acme/worker"]))])),
            Changed::default()
        );
        assert_eq!(fleet.names(), ["Acme/Service"]);
    }

    #[test]
    fn deliveries_add_and_remove_at_once() {
        let mut fleet = Fleet::discovered();
        assert!(fleet.is_empty());
        let changed = fleet.apply(&change(7, &["acme/service", "acme/worker"], &[]));
        assert_eq!(changed.added, ["acme/service", "acme/worker"]);
        fleet.apply(&change(8, &["bolt/tool"], &[]));
        let changed = fleet.apply(&change(7, &[], &["ACME/worker"]));
        assert_eq!(
            changed,
            Changed {
                added: vec![],
                removed: vec!["acme/worker".into()]
            }
        );
        assert_eq!(fleet.get("Acme/Service"), Some("acme/service"));
        assert_eq!(fleet.get("acme/worker"), None);
        // Uninstalled: every repository of the installation goes, listed in the payload or not.
        let mut gone = change(7, &[], &[]);
        gone.uninstalled = true;
        assert_eq!(fleet.apply(&gone).removed, ["acme/service"]);
        assert_eq!(fleet.names(), ["bolt/tool"]);
    }

    #[test]
    fn a_listing_replaces_the_set_but_keeps_what_could_not_be_listed() {
        let mut fleet = Fleet::discovered();
        fleet.relist(&listing(&[
            (7, Some(&["acme/service", "acme/worker"])),
            (8, Some(&["bolt/tool"])),
        ]));
        assert_eq!(fleet.len(), 3);
        // Installation 8 failed to list: its repositories stay; 7 lost one; 9 is new.
        let changed = fleet.relist(&listing(&[
            (7, Some(&["acme/service"])),
            (8, None),
            (9, Some(&["cove/app"])),
        ]));
        assert_eq!(
            changed,
            Changed {
                added: vec!["cove/app".into()],
                removed: vec!["acme/worker".into()]
            }
        );
        assert_eq!(fleet.names(), ["acme/service", "bolt/tool", "cove/app"]);
        // An installation no longer listed is gone, with its repositories.
        fleet.relist(&listing(&[(9, Some(&["cove/app"]))]));
        assert_eq!(fleet.names(), ["cove/app"]);
    }
}

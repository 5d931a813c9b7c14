//! Whether an update of one pin keeps a compiled lock installable.
//!
//! A lock file (pip-compile, uv, `repin lock`) pins a whole resolution: bumping one pin may
//! need another one bumped too (flask 2.3 needs Werkzeug 2.3), or may break what a package
//! that depends on it allows (`# via` parents with an upper bound). pip then refuses the file
//! as a whole. This check reads the new release's requirements and those of its parents'
//! pinned releases, for the service's environment, against the other pins of the same file;
//! an update that does not fit is held back with what to run instead. Pure: the metadata comes
//! from the caller.

use std::collections::BTreeMap;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerEnvironment, Requirement, VerbatimUrl, VersionOrUrl};

use crate::vocab::normalize_name;

/// A pin of the lock: its version and the extras it installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPin {
    /// The pinned version.
    pub version: Version,
    /// The extras written with it (`celery[redis]`).
    pub extras: Vec<ExtraName>,
}

/// A package that depends on the updated one (a `# via` parent), at its pinned release.
#[derive(Debug, Clone)]
pub struct Parent<'a> {
    /// Its normalised name.
    pub name: &'a str,
    /// Its pin in the lock.
    pub pin: &'a LockedPin,
    /// The `Requires-Dist` of that pinned release's metadata.
    pub requires: &'a [Requirement<VerbatimUrl>],
}

fn applies(
    requirement: &Requirement<VerbatimUrl>,
    env: &MarkerEnvironment,
    extras: &[ExtraName],
) -> bool {
    requirement.marker.evaluate(env, extras)
}

fn allows(requirement: &Requirement<VerbatimUrl>, version: &Version) -> bool {
    match &requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => specifiers.contains(version),
        // A URL requirement is satisfied by no index release; None allows any version.
        Some(VersionOrUrl::Url(_)) => false,
        None => true,
    }
}

/// Why `name` at `new` does not fit the lock `pins` (empty when it fits): its own requirements
/// against the other pins, then each parent's requirement on it.
pub fn misfits(
    name: &str,
    new: &Version,
    new_requires: &[Requirement<VerbatimUrl>],
    pins: &BTreeMap<String, LockedPin>,
    parents: &[Parent<'_>],
    env: &MarkerEnvironment,
) -> Vec<String> {
    let mut why = Vec::new();
    let extras = pins.get(name).map_or(&[][..], |p| p.extras.as_slice());
    for requirement in new_requires {
        if !applies(requirement, env, extras) {
            continue;
        }
        let wanted = normalize_name(requirement.name.as_ref());
        if wanted == name {
            continue;
        }
        match pins.get(&wanted) {
            Some(pin) if !allows(requirement, &pin.version) => why.push(format!(
                "`{name}` {new} requires `{requirement}`, and the lock pins `{wanted}` {}",
                pin.version
            )),
            Some(_) => {}
            None => why.push(format!(
                "`{name}` {new} requires `{requirement}`, which the lock does not install"
            )),
        }
    }
    for parent in parents {
        for requirement in parent.requires {
            if normalize_name(requirement.name.as_ref()) != name
                || !applies(requirement, env, &parent.pin.extras)
            {
                continue;
            }
            if !allows(requirement, new) {
                why.push(format!(
                    "`{}` {} (pinned in the lock) requires `{requirement}`",
                    parent.name, parent.pin.version
                ));
            }
        }
    }
    why
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn env() -> MarkerEnvironment {
        crate::lock::target::Target::linux_x86_64("3.12")
            .unwrap()
            .markers
    }

    /// The `Requires-Dist` of `name` `version` (both only say what the caller reads).
    fn meta(_name: &str, _version: &str, requires: &[&str]) -> Vec<Requirement<VerbatimUrl>> {
        requires
            .iter()
            .map(|r| Requirement::from_str(r).unwrap())
            .collect()
    }

    fn pin(version: &str, extras: &[&str]) -> LockedPin {
        LockedPin {
            version: Version::from_str(version).unwrap(),
            extras: extras
                .iter()
                .map(|e| ExtraName::from_str(e).unwrap())
                .collect(),
        }
    }

    fn v(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    fn lock() -> BTreeMap<String, LockedPin> {
        BTreeMap::from([
            ("flask".to_owned(), pin("2.2.2", &[])),
            ("werkzeug".to_owned(), pin("2.2.3", &[])),
            ("jinja2".to_owned(), pin("3.1.2", &[])),
            ("celery".to_owned(), pin("5.3.0", &["redis"])),
            ("redis".to_owned(), pin("4.6.0", &[])),
        ])
    }

    #[test]
    fn a_new_release_needing_a_newer_pin_does_not_fit() {
        // Flask 2.3.3's own metadata: Werkzeug>=2.3.7, Jinja2>=3.1.2.
        let new = meta("Flask", "2.3.3", &["Werkzeug>=2.3.7", "Jinja2>=3.1.2"]);
        let why = misfits("flask", &v("2.3.3"), &new, &lock(), &[], &env());
        assert_eq!(
            why,
            ["`flask` 2.3.3 requires `werkzeug>=2.3.7`, and the lock pins `werkzeug` 2.2.3"]
        );
        // Flask 2.2.5 still takes Werkzeug 2.2.
        let patch = meta("Flask", "2.2.5", &["Werkzeug>=2.2.2", "Jinja2>=3.0"]);
        assert!(misfits("flask", &v("2.2.5"), &patch, &lock(), &[], &env()).is_empty());
    }

    #[test]
    fn markers_and_extras_decide_which_requirements_count() {
        let new = meta(
            "Flask",
            "2.3.3",
            &[
                "Werkzeug>=2.2",
                "colorama; sys_platform == 'win32'",
                "asgiref>=3.2; extra == 'async'",
                "importlib-metadata>=3.6; python_version < '3.10'",
            ],
        );
        // Windows-only, an extra the lock does not install and an old-Python backport: none
        // of them is needed on Linux with Python 3.12.
        assert!(misfits("flask", &v("2.3.3"), &new, &lock(), &[], &env()).is_empty());
        // An extra the lock installs counts.
        let celery = meta("celery", "5.4.0", &["redis>=5.0; extra == 'redis'"]);
        assert_eq!(
            misfits("celery", &v("5.4.0"), &celery, &lock(), &[], &env()),
            [
                "`celery` 5.4.0 requires `redis>=5.0 ; extra == 'redis'`, and the lock pins `redis` 4.6.0"
            ]
        );
    }

    #[test]
    fn a_new_dependency_is_not_in_the_lock() {
        let new = meta("Flask", "3.0.0", &["Werkzeug>=2.2", "blinker>=1.6.2"]);
        assert_eq!(
            misfits("flask", &v("3.0.0"), &new, &lock(), &[], &env()),
            ["`flask` 3.0.0 requires `blinker>=1.6.2`, which the lock does not install"]
        );
    }

    #[test]
    fn a_parent_with_an_upper_bound_holds_the_child() {
        let pins = lock();
        let flask = meta("Flask", "2.2.2", &["Werkzeug>=2.2.2,<2.3", "Jinja2>=3.0"]);
        let parents = [Parent {
            name: "flask",
            pin: &pins["flask"],
            requires: &flask,
        }];
        let werkzeug = meta(
            "Werkzeug",
            "2.3.8",
            &["MarkupSafe>=2.1.1; python_version < '3'"],
        );
        assert_eq!(
            misfits("werkzeug", &v("2.3.8"), &werkzeug, &pins, &parents, &env()),
            ["`flask` 2.2.2 (pinned in the lock) requires `werkzeug>=2.2.2,<2.3`"]
        );
        let patch = meta("Werkzeug", "2.2.9", &[]);
        assert!(misfits("werkzeug", &v("2.2.9"), &patch, &pins, &parents, &env()).is_empty());
    }
}

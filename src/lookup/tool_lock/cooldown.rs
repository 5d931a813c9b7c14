//! The minimum release age (cooldown) of the pins a tool writes. A tool moves a package to the
//! newest release the project allows, not to repin's target: Poetry's `poetry update --lock
//! NAME` and Pipenv take no version, and a re-lock by any of the three may move other pins to
//! releases repin never proposed. So after the run, every pin the new lock moves is held to the
//! minimum release age, as a release repin proposes is; exempt are the versions repin itself
//! proposed (its decision applied the cooldown, or skipped it for a security fix, as the
//! cooldown always does). A release whose index gives no upload time is not held, as in
//! [`crate::decide`].
//!
//! The minimum is the one `[[rules]]` give the pin's update kind ([`minimum_for`]), as for an
//! update repin proposes: a rule limited to major updates holds a pin the tool moved to a new
//! major. Where a move has no kind (a pin new in the lock, or moved down), the longest minimum of
//! any kind is held to, so no rule is escaped by a move repin cannot classify.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::Version;

use crate::manifest::edit::MovedPin;
use crate::registry::pypi::Lookup;
use crate::versioning::UpdateKind;
use crate::versioning::pep440;

/// When each release repin looked up was uploaded (seconds since the Unix epoch, the earliest
/// of its files on any index), by normalised package name, then version.
pub type Uploads = HashMap<String, BTreeMap<Version, i64>>;

/// The upload times of the releases of `lookup`, for [`Uploads`].
pub fn upload_times(lookup: &Lookup) -> BTreeMap<Version, i64> {
    lookup
        .releases
        .iter()
        .filter_map(|(version, sources)| {
            let uploaded = sources.iter().filter_map(|s| s.release.upload_time).min()?;
            Some((version.clone(), uploaded.as_second()))
        })
        .collect()
}

/// A pin a tool wrote at a release younger than the minimum release age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooYoung {
    /// The package.
    pub name: String,
    /// The version written.
    pub version: String,
    /// How old the release is.
    pub age: Duration,
    /// The minimum release age of the package.
    pub minimum: Duration,
}

/// The kinds a move without a kind of its own is held to the longest minimum of.
const KINDS: [UpdateKind; 3] = [UpdateKind::Patch, UpdateKind::Minor, UpdateKind::Major];

/// The minimum release age of `pin` moved to `version`, from `policy` (a package's minimum for
/// an update of a kind): that of the move's kind, measured from the newest version it had
/// below `version`; without one (new in the lock, or moved down), the longest of any kind.
pub fn minimum_for(
    pin: &MovedPin,
    version: &Version,
    policy: impl Fn(&str, UpdateKind) -> Option<Duration>,
) -> Option<Duration> {
    let from = pin
        .from
        .iter()
        .flat_map(|f| f.split(", "))
        .filter_map(|v| Version::from_str(v).ok())
        .filter(|v| v < version)
        .max();
    match from.and_then(|from| pep440::classify(&from, version)) {
        Some(kind) => policy(&pin.name, kind),
        None => longest(&pin.name, policy),
    }
}

/// The longest minimum release age of any kind of update of `name`: whether the package has a
/// minimum at all.
pub fn longest(
    name: &str,
    policy: impl Fn(&str, UpdateKind) -> Option<Duration>,
) -> Option<Duration> {
    KINDS.iter().filter_map(|kind| policy(name, *kind)).max()
}

/// The first pin of `moved` a tool wrote at a release younger than its package's minimum
/// release age for that move ([`minimum_for`] of `policy`), at `now`; `exempt` are the (name,
/// version) pairs repin proposed.
pub fn too_young(
    moved: &[MovedPin],
    exempt: &[(String, String)],
    uploads: &Uploads,
    policy: impl Fn(&str, UpdateKind) -> Option<Duration>,
    now: i64,
) -> Option<TooYoung> {
    for pin in moved {
        let Some(to) = &pin.to else {
            continue;
        };
        // A lock with forks pins a package at several versions: `1.0, 2.0`.
        for version in to.split(", ") {
            let Ok(parsed) = Version::from_str(version) else {
                continue;
            };
            let Some(minimum) = minimum_for(pin, &parsed, &policy) else {
                continue;
            };
            let proposed = exempt.iter().any(|(name, v)| {
                *name == pin.name && Version::from_str(v).is_ok_and(|v| v == parsed)
            });
            if proposed {
                continue;
            }
            let Some(uploaded) = uploads.get(&pin.name).and_then(|u| u.get(&parsed)) else {
                continue;
            };
            let age = crate::decide::elapsed(now, *uploaded);
            if age < minimum {
                return Some(TooYoung {
                    name: pin.name.clone(),
                    version: version.to_owned(),
                    age,
                    minimum,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn pin(name: &str, from: Option<&str>, to: Option<&str>) -> MovedPin {
        MovedPin {
            name: name.into(),
            from: from.map(Into::into),
            to: to.map(Into::into),
            why: String::new(),
        }
    }

    fn uploads(now: i64) -> Uploads {
        let v = |s: &str| Version::from_str(s).unwrap();
        let mut out = Uploads::new();
        out.insert(
            "werkzeug".into(),
            [(v("3.0.6"), now - 30 * DAY), (v("3.0.7"), now - DAY)].into(),
        );
        out.insert("markupsafe".into(), [(v("2.1.5"), now - 2 * DAY)].into());
        out
    }

    #[test]
    fn a_pin_written_younger_than_the_minimum_is_found_unless_repin_proposed_it() {
        let now = 1_000 * DAY;
        let week = |_: &str, _: UpdateKind| Some(Duration::from_secs(7 * 86_400));
        let moved = [pin("werkzeug", Some("3.0.5"), Some("3.0.7"))];
        assert_eq!(
            too_young(&moved, &[], &uploads(now), week, now),
            Some(TooYoung {
                name: "werkzeug".into(),
                version: "3.0.7".into(),
                age: Duration::from_secs(86_400),
                minimum: Duration::from_secs(7 * 86_400),
            })
        );
        // Past the fix repin proposed (3.0.6): still held.
        let fixed = [("werkzeug".to_owned(), "3.0.6".to_owned())];
        assert!(too_young(&moved, &fixed, &uploads(now), week, now).is_some());
        // Exactly what repin proposed (a security fix may be young): not held.
        let proposed = [("werkzeug".to_owned(), "3.0.7".to_owned())];
        assert_eq!(too_young(&moved, &proposed, &uploads(now), week, now), None);
        // Old enough, gone, of unknown age, or without a minimum: not held.
        let old = [pin("werkzeug", Some("3.0.5"), Some("3.0.6"))];
        assert_eq!(too_young(&old, &[], &uploads(now), week, now), None);
        let gone = [pin("werkzeug", Some("3.0.5"), None)];
        assert_eq!(too_young(&gone, &[], &uploads(now), week, now), None);
        let unknown = [pin("click", None, Some("8.1.7"))];
        assert_eq!(too_young(&unknown, &[], &uploads(now), week, now), None);
        assert_eq!(
            too_young(&moved, &[], &uploads(now), |_, _| None, now),
            None
        );
        // A new pin, and one of several versions of a forked lock.
        let added = [
            pin("werkzeug", Some("3.0.5"), Some("3.0.6")),
            pin("markupsafe", Some("2.1.1"), Some("2.1.1, 2.1.5")),
        ];
        assert_eq!(
            too_young(&added, &[], &uploads(now), week, now).map(|y| y.version),
            Some("2.1.5".into())
        );
    }

    #[test]
    fn a_kind_limited_minimum_holds_the_moves_of_its_kind_and_a_move_without_kind_the_longest() {
        let now = 1_000 * DAY;
        // Like `[[rules]] kinds = ["major"], minimum-release-age = "30 days"` over no global one.
        let majors = |_: &str, kind: UpdateKind| {
            (kind == UpdateKind::Major).then(|| Duration::from_secs(30 * 86_400))
        };
        let v = |s: &str| Version::from_str(s).unwrap();
        let mut times = Uploads::new();
        times.insert(
            "werkzeug".into(),
            [(v("3.0.7"), now - DAY), (v("4.0.0"), now - DAY)].into(),
        );
        // A patch: no minimum for it.
        let patch = [pin("werkzeug", Some("3.0.5"), Some("3.0.7"))];
        assert_eq!(too_young(&patch, &[], &times, majors, now), None);
        // A major: held, though no rule without a kind sets a minimum.
        let major = [pin("werkzeug", Some("3.0.5"), Some("4.0.0"))];
        assert_eq!(
            too_young(&major, &[], &times, majors, now).map(|y| y.minimum),
            Some(Duration::from_secs(30 * 86_400))
        );
        // New in the lock, or moved down: the longest minimum of any kind.
        let added = [pin("werkzeug", None, Some("3.0.7"))];
        assert!(too_young(&added, &[], &times, majors, now).is_some());
        let down = [pin("werkzeug", Some("5.0"), Some("4.0.0"))];
        assert!(too_young(&down, &[], &times, majors, now).is_some());
        // A forked pin is measured from its own version below: 3.0.5 → 3.0.7 is a patch.
        let forked = [pin("werkzeug", Some("2.0, 3.0.5"), Some("3.0.7"))];
        assert_eq!(too_young(&forked, &[], &times, majors, now), None);
        assert_eq!(
            longest("werkzeug", majors),
            Some(Duration::from_secs(30 * 86_400))
        );
    }
}

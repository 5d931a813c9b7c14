//! The settings that apply to one dependency and one kind of update, from `repin.toml`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use pep440_rs::VersionSpecifiers;

use crate::config::{FixStrategy, Loaded, MigrationTarget, StrategyName};
use crate::versioning::UpdateKind;
use crate::versioning::pep440::RangeStrategy;

/// Everything the decision rules read from configuration, resolved for one dependency and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `false` when a rule disables the dependency (for this kind).
    pub enabled: bool,
    /// Kinds of update to propose.
    pub kinds: BTreeSet<UpdateKind>,
    /// Only versions in this range are proposed.
    pub allowed: Option<VersionSpecifiers>,
    /// Versions (or tags) never proposed.
    pub ignore_versions: Vec<String>,
    /// Releases younger than this are not proposed (security fixes excepted).
    pub minimum_release_age: Option<Duration>,
    /// How a range is rewritten.
    pub range_strategy: RangeStrategy,
    /// Pre-releases may be proposed.
    pub prereleases: bool,
    /// Add digests to image tags.
    pub pin_digests: bool,
    /// Turn ranges into exact pins.
    pub pin_ranges: bool,
    /// Lowest or highest secure version.
    pub fix_strategy: FixStrategy,
    /// Where end-of-life base images migrate.
    pub migration_target: MigrationTarget,
    /// The pull-request group rules put matching updates in.
    pub group: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::from_config(&Loaded::default(), "", Path::new(""), None)
    }
}

fn strategy(name: StrategyName) -> RangeStrategy {
    match name {
        StrategyName::Auto => RangeStrategy::Auto,
        StrategyName::Pin => RangeStrategy::Pin,
        StrategyName::Bump => RangeStrategy::Bump,
        StrategyName::Widen => RangeStrategy::Widen,
        StrategyName::Replace => RangeStrategy::Replace,
    }
}

impl Policy {
    /// The policy for dependency `name` in `file` and an update of `kind` (`None` before the
    /// kind is known: rules filtered by kind are then left out).
    pub fn from_config(
        config: &Loaded,
        name: &str,
        file: &Path,
        kind: Option<UpdateKind>,
    ) -> Policy {
        let c = &config.config;
        let mut policy = Policy {
            enabled: true,
            kinds: c.update.kinds.iter().copied().collect(),
            allowed: None,
            ignore_versions: Vec::new(),
            minimum_release_age: config.minimum_release_age,
            range_strategy: strategy(c.python.range_strategy),
            prereleases: c.python.prereleases,
            pin_digests: c.update.pin_digests,
            pin_ranges: c.update.pin_ranges,
            fix_strategy: c.update.fix_strategy,
            migration_target: c.images.migration_target,
            group: None,
        };
        let applies = |rule: &crate::config::CompiledRule| match kind {
            Some(k) => rule.matches(name, file, Some(k)),
            // Before the kind is known, only rules without a kind filter count.
            None => rule.rule.kinds.is_empty() && rule.matches(name, file, None),
        };
        for rule in config.rules.iter().filter(|r| applies(r)) {
            if let Some(enabled) = rule.rule.enabled {
                policy.enabled = enabled;
            }
            if let Some(allowed) = &rule.allowed {
                policy.allowed = Some(allowed.clone());
            }
            policy.ignore_versions.extend(
                rule.rule
                    .ignore_versions
                    .iter()
                    .map(|v| v.get_ref().trim().to_owned()),
            );
            if rule.minimum_release_age.is_some() {
                policy.minimum_release_age = rule.minimum_release_age;
            }
            if let Some(s) = rule.rule.range_strategy {
                policy.range_strategy = strategy(s);
            }
            if rule.rule.group.is_some() {
                policy.group.clone_from(&rule.rule.group);
            }
        }
        policy
    }

    /// Whether an update of `kind` may be proposed at all.
    pub fn allows_kind(&self, kind: UpdateKind) -> bool {
        self.enabled && self.kinds.contains(&kind)
    }

    /// Whether `version` (as written) is ignored.
    pub fn ignores(&self, version: &str) -> bool {
        self.ignore_versions.iter().any(|v| v == version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_in_order_and_by_kind() {
        let config = Loaded::from_text(
            "repin.toml",
            r#"
[update]
minimum-release-age = "3 days"
[[rules]]
names = ["django"]
allowed-versions = "<6"
ignore-versions = ["5.1.0"]
[[rules]]
names = ["django"]
kinds = ["major"]
enabled = false
[[rules]]
files = ["legacy/**"]
enabled = false
range-strategy = "widen"
"#,
        )
        .unwrap();
        let file = Path::new("requirements.txt");
        let p = Policy::from_config(&config, "django", file, None);
        assert!(p.enabled);
        assert_eq!(p.allowed.as_ref().unwrap().to_string(), "<6");
        assert!(p.ignores("5.1.0"));
        assert_eq!(p.minimum_release_age, Some(Duration::from_secs(3 * 86_400)));
        assert!(!Policy::from_config(&config, "django", file, Some(UpdateKind::Major)).enabled);
        assert!(Policy::from_config(&config, "django", file, Some(UpdateKind::Minor)).enabled);
        let legacy =
            Policy::from_config(&config, "flask", Path::new("legacy/requirements.txt"), None);
        assert!(!legacy.enabled);
        assert_eq!(legacy.range_strategy, RangeStrategy::Widen);
        assert!(!Policy::default().allows_kind(UpdateKind::Migration));
        assert!(Policy::default().allows_kind(UpdateKind::Patch));
    }
}

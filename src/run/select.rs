//! Which updates a job takes: by dependency name (`--only`) and by update kind (`--kind`).

use std::path::Path;

use super::check::Run;
use crate::decide::Update;
use crate::lookup::Finding;
use crate::versioning::UpdateKind;
use crate::vocab::normalize_name;

/// The dependencies and update kinds a job takes; empty lists take everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only these dependencies (package names, compared normalised, or full image names).
    pub only: Vec<String>,
    /// Only updates of these kinds.
    pub kinds: Vec<UpdateKind>,
}

impl Selection {
    /// Whether a dependency named `name` is selected.
    pub fn names(&self, name: &str) -> bool {
        self.only.is_empty()
            || self
                .only
                .iter()
                .any(|o| o == name || normalize_name(o) == normalize_name(name))
    }

    /// Whether an update of a dependency named `name` is selected.
    pub fn takes(&self, name: &str, update: &Update) -> bool {
        self.names(name) && (self.kinds.is_empty() || self.kinds.contains(&update.kind))
    }

    /// Whether `update` of the dependency of `finding` in `run` is selected.
    pub fn takes_finding(&self, run: &Run, finding: &Finding, update: &Update) -> bool {
        self.takes(dependency_name(run, &finding.file, finding.index), update)
    }
}

/// The name of dependency `index` of `file` as read (empty when there is none).
pub fn dependency_name<'r>(run: &'r Run, file: &Path, index: usize) -> &'r str {
    run.workspace
        .dependency(file, index)
        .map_or("", |(_, d)| d.name.as_str())
}

/// Keep only what `selection` takes: the selected updates, and with `only` just the
/// dependencies it names (their findings and their lookup failures).
pub fn select(run: &mut Run, selection: &Selection) {
    let workspace = &run.workspace;
    let name = |file: &Path, index: usize| {
        workspace
            .dependency(file, index)
            .map_or(String::new(), |(_, d)| d.name.clone())
    };
    run.outcome.findings.retain_mut(|f| {
        let dependency = name(&f.file, f.index);
        f.decision
            .updates
            .retain(|u| selection.takes(&dependency, u));
        selection.names(&dependency)
    });
    run.outcome
        .failures
        .retain(|f| selection.names(&name(&f.file, f.index)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_normalised_and_kinds_filter() {
        let selection = Selection {
            only: vec!["Flask_Login".into()],
            kinds: vec![UpdateKind::Patch],
        };
        assert!(selection.names("flask-login"));
        assert!(!selection.names("flask"));
        assert!(Selection::default().names("anything"));
        let update = |kind| Update {
            kind,
            current: "1.0".into(),
            proposed: "1.0.1".into(),
            change: crate::manifest::edit::Change::PythonVersion {
                version: "1.0.1".into(),
                hashes: None,
            },
            fixes: Vec::new(),
            age: None,
            reason: String::new(),
            unblocks: Vec::new(),
            rides_with: None,
            companions: Vec::new(),
            yanked: None,
        };
        assert!(selection.takes("flask.login", &update(UpdateKind::Patch)));
        assert!(!selection.takes("flask.login", &update(UpdateKind::Major)));
    }
}

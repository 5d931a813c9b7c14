//! PubGrub resolution of requirements into one version per package, for one [`Target`].
//!
//! The graph PubGrub solves has three kinds of node ([`Node`]): the root (the requirements
//! file), packages, and `name[extra]` virtual packages. An extra depends on its package at the
//! same version plus the requirements its `extra == "..."` markers enable, as uv and
//! pip-compile model it. Markers are evaluated for the target, so a dependency a marker
//! excludes on Linux is not part of the graph at all.
//!
//! Version choice, newest first, with:
//! - the version of the existing lock tried first when it still fits (a stable re-lock);
//! - yanked releases only when a requirement pins exactly that version (PEP 592);
//! - pre-releases only with `--pre`, or for a package whose requirement or constraint names
//!   a pre-release, or when pinned exactly;
//! - a release whose `Requires-Python` excludes the target marked unavailable, with that
//!   reason, so PubGrub goes on to older releases and can say why the newest one was passed over;
//! - constraints (`-c`) intersected with every requirement on the package.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, Requirement, VerbatimUrl, VersionOrUrl};
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics,
    PubGrubError, Ranges,
};

use super::source::{Candidate, PackageSource, SourceError, UnusableRelease};
use super::{LockError, Target, report};
use crate::registry::pypi::Metadata;

/// A set of versions.
pub type Range = Ranges<Version>;

/// A node of the graph PubGrub solves.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// The requirements being locked.
    Root,
    /// A package.
    Package(PackageName),
    /// `name[extra]`: the package's extra, a virtual package. Its release `X` depends only on
    /// the package at `X` and on [`Node::ExtraRequires`] at `X`, so trying it needs no
    /// metadata: while the package is decided at another version, that version of the extra
    /// conflicts at once. Walking an extra's releases used to read the metadata of each
    /// (`celery[redis]` walks 170 releases of `kombu[redis]` while kombu stays at 5.7.0), as uv's
    /// own split of an extra avoids.
    Extra(PackageName, ExtraName),
    /// What `name[extra]` adds to the package: the requirements its extra marker enables, read
    /// from the package's metadata. Always at the extra's version; named like the extra in
    /// every message (the link between the two is folded away, see [`super::report`]).
    ExtraRequires(PackageName, ExtraName),
}

impl Node {
    /// The package a package or extra node is about.
    pub fn package(&self) -> Option<&PackageName> {
        match self {
            Node::Root => None,
            Node::Package(name) | Node::Extra(name, _) | Node::ExtraRequires(name, _) => Some(name),
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Root => f.write_str("the requirements"),
            Node::Package(name) => write!(f, "{name}"),
            Node::Extra(name, extra) | Node::ExtraRequires(name, extra) => {
                write!(f, "{name}[{extra}]")
            }
        }
    }
}

/// Why a release cannot be used (PubGrub's custom incompatibility): a kind, so the hints
/// follow it, rendered only in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// Its `Requires-Python` excludes the Python being locked for.
    RequiresPython(VersionSpecifiers),
    /// It depends on a URL (the requirement as written), which repin does not lock.
    UrlDependency(String),
    /// Its source cannot give its metadata.
    Release(UnusableRelease),
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unusable::RequiresPython(spec) => write!(f, "requires Python {spec}"),
            Unusable::UrlDependency(requirement) => write!(
                f,
                "it depends on `{requirement}`, a URL, which repin does not lock"
            ),
            Unusable::Release(unusable) => unusable.fmt(f),
        }
    }
}

/// A requirement of the file being locked, with where it was written.
#[derive(Debug, Clone)]
pub struct Direct {
    /// The requirement.
    pub requirement: Requirement<VerbatimUrl>,
    /// The file it is in, as the `# via -r` annotation names it (`requirements.in`).
    pub origin: String,
}

/// What to lock, and how.
#[derive(Debug, Clone)]
pub struct Request {
    /// The file being locked, as messages name it (`requirements.in`).
    pub label: String,
    /// The requirements (`-r` files included).
    pub requirements: Vec<Direct>,
    /// Constraints (`-c` files, `origin` naming the file): they limit versions, never add
    /// packages.
    pub constraints: Vec<Direct>,
    /// The environment.
    pub target: Target,
    /// `--pre`: pre-releases allowed everywhere.
    pub prereleases: bool,
    /// Versions to keep when they still fit (those of the existing lock).
    pub preferences: BTreeMap<PackageName, Version>,
}

/// Why a package is in the lock: the `# via` annotation, in the order uv and pip-compile
/// sort them (`-c` files, `-r` files, packages).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// A constraint of this file limits it (`-c constraints.txt`).
    Constraint(String),
    /// A requirement of this file (`-r requirements.in`).
    Requirement(String),
    /// A dependency of this package.
    Package(PackageName),
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Constraint(file) => write!(f, "-c {file}"),
            Via::Requirement(file) => write!(f, "-r {file}"),
            Via::Package(name) => write!(f, "{name}"),
        }
    }
}

/// One package of a lock.
#[derive(Debug, Clone, PartialEq)]
pub struct Locked {
    /// The normalised name.
    pub name: PackageName,
    /// The version chosen.
    pub version: Version,
    /// The extras something asked for.
    pub extras: BTreeSet<ExtraName>,
    /// `sha256:<hex>` of every file of the release.
    pub hashes: Vec<String>,
    /// Why it is there.
    pub via: BTreeSet<Via>,
}

/// A successful resolution: every package once, sorted by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The packages.
    pub packages: Vec<Locked>,
    /// What the user should know (an extra a package does not have, newer releases passed
    /// over because their metadata cannot be used), one sentence each.
    pub warnings: Vec<String>,
}

/// Resolve `request` against `source`.
pub fn resolve<S: PackageSource>(source: &S, request: &Request) -> Result<Resolution, LockError> {
    let provider = Provider::new(source, request)?;
    let root = Version::new([0]);
    let solution = match pubgrub::resolve(&provider, Node::Root, root) {
        Ok(solution) => solution,
        Err(PubGrubError::NoSolution(tree)) => {
            let mut tree = report::fold_extra_requires(&tree);
            // Hints read the whole tree; the explanation the collapsed, shorter one.
            let hints = provider.hints(&tree);
            tree.collapse_no_versions();
            let versions = provider
                .candidates
                .borrow()
                .iter()
                .map(|(name, list)| {
                    (
                        name.clone(),
                        list.iter().map(|c| c.version.clone()).collect(),
                    )
                })
                .collect();
            return Err(LockError::Conflict {
                file: request.label.clone(),
                explanation: report::explain(&tree, &request.label, versions),
                hints,
            });
        }
        Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
        | Err(PubGrubError::ErrorChoosingVersion { source, .. })
        | Err(PubGrubError::ErrorInShouldCancel(source)) => return Err(source),
    };
    Ok(provider.resolution(&solution))
}

struct Provider<'a, S> {
    source: &'a S,
    request: &'a Request,
    root: DependencyConstraints<Node, Range>,
    /// Direct requirements' names and the files they are in.
    direct: BTreeMap<PackageName, BTreeSet<String>>,
    constraints: HashMap<PackageName, Range>,
    /// The files that constrain each package (`# via -c`).
    constrained: BTreeMap<PackageName, BTreeSet<String>>,
    pre_allowed: HashSet<PackageName>,
    candidates: RefCell<HashMap<PackageName, Rc<Vec<Candidate>>>>,
    /// The metadata of every release read, once for a package and all of its extras.
    metadata: RefCell<HashMap<(PackageName, Version), Read>>,
    /// The version last chosen for each node, and how many times the resolver walked down from
    /// a usable release of it to an older one (backtracking: the lookahead's trigger).
    choices: RefCell<HashMap<Node, (Version, usize)>>,
    /// Extras asked of a release that does not have them.
    unknown_extras: RefCell<BTreeSet<(PackageName, Version, ExtraName)>>,
    /// Releases passed over because their metadata cannot be used, with why.
    skipped: RefCell<BTreeMap<PackageName, BTreeMap<Version, UnusableRelease>>>,
    /// The packages each chosen node depends on.
    edges: RefCell<HashMap<(Node, Version), Vec<PackageName>>>,
    /// The order nodes were first seen in, for priorities.
    seen: RefCell<HashMap<Node, usize>>,
}

/// A release's metadata as read, or why it cannot be used (shared by its extras).
type Read = Rc<Result<Metadata, Unusable>>;

/// The versions a requirement allows.
fn range_of(requirement: &Requirement<VerbatimUrl>) -> Range {
    match &requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => Range::from(specifiers.clone()),
        _ => Range::full(),
    }
}

fn names_a_prerelease(requirement: &Requirement<VerbatimUrl>) -> bool {
    matches!(&requirement.version_or_url, Some(VersionOrUrl::VersionSpecifier(s))
        if s.iter().any(|spec| spec.version().any_prerelease()))
}

fn insert(map: &mut DependencyConstraints<Node, Range>, node: Node, range: Range) {
    match map.get_mut(&node) {
        Some(existing) => *existing = existing.intersection(&range),
        None => {
            map.insert(node, range);
        }
    }
}

impl<'a, S: PackageSource> Provider<'a, S> {
    fn new(source: &'a S, request: &'a Request) -> Result<Self, LockError> {
        let env = &request.target.markers;
        let unsupported = |r: &Requirement<VerbatimUrl>, reason: &str| LockError::Unsupported {
            requirement: r.to_string(),
            reason: reason.to_owned(),
        };
        let mut constraints: HashMap<PackageName, Range> = HashMap::new();
        let mut constrained: BTreeMap<PackageName, BTreeSet<String>> = BTreeMap::new();
        let mut pre_allowed = HashSet::new();
        for Direct {
            requirement: constraint,
            origin,
        } in &request.constraints
        {
            if !constraint.marker.evaluate(env, &[]) {
                continue;
            }
            if matches!(constraint.version_or_url, Some(VersionOrUrl::Url(_))) {
                return Err(unsupported(
                    constraint,
                    "repin locks index releases only, not URLs",
                ));
            }
            if names_a_prerelease(constraint) {
                pre_allowed.insert(constraint.name.clone());
            }
            let range = range_of(constraint);
            constraints
                .entry(constraint.name.clone())
                .and_modify(|r| *r = r.intersection(&range))
                .or_insert(range);
            constrained
                .entry(constraint.name.clone())
                .or_default()
                .insert(origin.clone());
        }
        let mut root = DependencyConstraints::default();
        let mut direct: BTreeMap<PackageName, BTreeSet<String>> = BTreeMap::new();
        for Direct {
            requirement,
            origin,
        } in &request.requirements
        {
            if !requirement.marker.evaluate(env, &[]) {
                continue;
            }
            if matches!(requirement.version_or_url, Some(VersionOrUrl::Url(_))) {
                return Err(unsupported(
                    requirement,
                    "repin locks index releases only, not URLs",
                ));
            }
            if names_a_prerelease(requirement) {
                pre_allowed.insert(requirement.name.clone());
            }
            let mut range = range_of(requirement);
            if let Some(constraint) = constraints.get(&requirement.name) {
                range = range.intersection(constraint);
            }
            insert(
                &mut root,
                Node::Package(requirement.name.clone()),
                range.clone(),
            );
            for extra in &requirement.extras {
                insert(
                    &mut root,
                    Node::Extra(requirement.name.clone(), extra.clone()),
                    range.clone(),
                );
            }
            direct
                .entry(requirement.name.clone())
                .or_default()
                .insert(origin.clone());
        }
        let provider = Provider {
            source,
            request,
            root,
            direct,
            constraints,
            constrained,
            pre_allowed,
            candidates: RefCell::default(),
            metadata: RefCell::default(),
            choices: RefCell::default(),
            unknown_extras: RefCell::default(),
            skipped: RefCell::default(),
            edges: RefCell::default(),
            seen: RefCell::default(),
        };
        source.prefetch(&wanted(&provider.root));
        Ok(provider)
    }

    /// Every release of `name`, newest first.
    fn candidates(&self, name: &PackageName) -> Result<Rc<Vec<Candidate>>, LockError> {
        if let Some(found) = self.candidates.borrow().get(name) {
            return Ok(found.clone());
        }
        let mut list = self.source.candidates(name).map_err(|e| failed(name, e))?;
        list.sort_by(|a, b| b.version.cmp(&a.version));
        let list = Rc::new(list);
        self.candidates
            .borrow_mut()
            .insert(name.clone(), list.clone());
        Ok(list)
    }

    fn acceptable(&self, name: &PackageName, candidate: &Candidate, range: &Range) -> bool {
        let exact = range.as_singleton() == Some(&candidate.version);
        range.contains(&candidate.version)
            && (!candidate.yanked || exact)
            && (!candidate.version.any_prerelease()
                || exact
                || self.request.prereleases
                || self.pre_allowed.contains(name))
    }

    /// The version to try for `name` (the package itself or `node`, one of its extras).
    fn choose(
        &self,
        node: &Node,
        name: &PackageName,
        range: &Range,
    ) -> Result<Option<Version>, LockError> {
        let candidates = self.candidates(name)?;
        if let Some(preferred) = self.request.preferences.get(name) {
            if let Some(c) = candidates.iter().find(|c| &c.version == preferred) {
                if self.acceptable(name, c, range) {
                    return Ok(Some(c.version.clone()));
                }
            }
        }
        let Some(at) = candidates
            .iter()
            .position(|c| self.acceptable(name, c, range))
        else {
            return Ok(None);
        };
        // Lookahead: a node chosen again at an older version, after a release it could use, is
        // being walked down (backtracking); the metadata of the next versions it may try is
        // fetched concurrently, more each walk. Not a walk: the same version chosen again (after
        // another package's backtrack), nor passing over releases that cannot be used at all
        // (another Python's, as numpy's newest for an older Python: fetching the metadata of
        // 50 older releases then cost a lock of 19 pins 72 needless reads). Counted by node:
        // `pkg[extra]` and `pkg` are chosen once each without any backtracking.
        let python = &self.request.target.python;
        let chosen = &candidates[at].version;
        let walks = {
            let mut choices = self.choices.borrow_mut();
            match choices.get_mut(node) {
                None => {
                    choices.insert(node.clone(), (chosen.clone(), 0));
                    0
                }
                Some((last, walks)) => {
                    if last != chosen && self.was_usable(name, last) {
                        *walks += 1;
                    }
                    chosen.clone_into(last);
                    *walks
                }
            }
        };
        tracing::debug!("chose {chosen} for {node} (walked down {walks} times)");
        if walks >= 1 {
            let batch = (5usize << (walks - 1).min(4)).min(50);
            let next: Vec<Version> = candidates[at + 1..]
                .iter()
                .filter(|c| {
                    self.acceptable(name, c, range)
                        && c.requires_python
                            .as_ref()
                            .is_none_or(|r| r.contains(python))
                })
                .take(batch)
                .map(|c| c.version.clone())
                .collect();
            if !next.is_empty() {
                self.source.prefetch_versions(name, &next);
            }
        }
        Ok(Some(candidates[at].version.clone()))
    }

    /// Whether the metadata of `name==version` was read and the release can be used.
    fn was_usable(&self, name: &PackageName, version: &Version) -> bool {
        self.metadata
            .borrow()
            .get(&(name.clone(), version.clone()))
            .is_some_and(|read| read.is_ok())
    }

    /// The metadata of `name==version`, or why the release cannot be used: read once, for
    /// the package and every extra of it (`pkg[extra]==X` needs no request beyond `pkg==X`).
    fn metadata(&self, name: &PackageName, version: &Version) -> Result<Read, LockError> {
        let key = (name.clone(), version.clone());
        if let Some(found) = self.metadata.borrow().get(&key) {
            return Ok(found.clone());
        }
        let read = Rc::new(self.read_metadata(name, version)?);
        self.metadata.borrow_mut().insert(key, read.clone());
        Ok(read)
    }

    fn read_metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Result<Metadata, Unusable>, LockError> {
        let python = &self.request.target.python;
        let candidates = self.candidates(name)?;
        if let Some(spec) = candidates
            .iter()
            .find(|c| &c.version == version)
            .and_then(|c| c.requires_python.as_ref())
        {
            if !spec.contains(python) {
                return Ok(Err(Unusable::RequiresPython(spec.clone())));
            }
        }
        let metadata = match self.source.metadata(name, version) {
            Ok(metadata) => metadata,
            Err(SourceError::Unusable(unusable)) => {
                self.skipped
                    .borrow_mut()
                    .entry(name.clone())
                    .or_default()
                    .insert(version.clone(), unusable.clone());
                return Ok(Err(Unusable::Release(unusable)));
            }
            Err(error) => return Err(failed(name, error)),
        };
        if let Some(spec) = &metadata.requires_python {
            if !spec.contains(python) {
                return Ok(Err(Unusable::RequiresPython(spec.clone())));
            }
        }
        Ok(Ok(metadata))
    }

    /// Add `requirement` (of `from` at `version`) to `map`. A URL dependency is unusable.
    fn add(
        &self,
        map: &mut DependencyConstraints<Node, Range>,
        from: &Node,
        version: &Version,
        requirement: &Requirement<VerbatimUrl>,
    ) -> Result<(), Unusable> {
        if matches!(requirement.version_or_url, Some(VersionOrUrl::Url(_))) {
            return Err(Unusable::UrlDependency(requirement.to_string()));
        }
        let name = &requirement.name;
        if Some(name) == from.package() {
            // A package depending on its own extras (`foo[all]` needs `foo[a]`): same version.
            for extra in &requirement.extras {
                // Not the extra whose requirements these are.
                if matches!(from, Node::ExtraRequires(_, own) if own == extra) {
                    continue;
                }
                let node = Node::Extra(name.clone(), extra.clone());
                insert(map, node, Range::singleton(version.clone()));
            }
            return Ok(());
        }
        let mut range = range_of(requirement);
        if let Some(constraint) = self.constraints.get(name) {
            range = range.intersection(constraint);
        }
        insert(map, Node::Package(name.clone()), range.clone());
        for extra in &requirement.extras {
            insert(map, Node::Extra(name.clone(), extra.clone()), range.clone());
        }
        Ok(())
    }

    fn dependencies(
        &self,
        node: &Node,
        version: &Version,
    ) -> Result<Dependencies<Node, Range, Unusable>, LockError> {
        let env = &self.request.target.markers;
        let (name, extra) = match node {
            Node::Root => return Ok(Dependencies::Available(self.root.clone())),
            Node::Package(name) => (name, None),
            Node::Extra(name, extra) => {
                let at = Range::singleton(version.clone());
                let mut map = DependencyConstraints::default();
                map.insert(Node::Package(name.clone()), at.clone());
                map.insert(Node::ExtraRequires(name.clone(), extra.clone()), at);
                return Ok(Dependencies::Available(map));
            }
            Node::ExtraRequires(name, extra) => (name, Some(extra)),
        };
        let read = self.metadata(name, version)?;
        let metadata = match read.as_ref() {
            Ok(metadata) => metadata,
            Err(unusable) => return Ok(Dependencies::Unavailable(unusable.clone())),
        };
        let mut map = DependencyConstraints::default();
        let mut extra_enables_something = false;
        for requirement in &metadata.requires_dist {
            let wanted = match extra {
                None => requirement.marker.evaluate(env, &[]),
                Some(extra) => {
                    requirement
                        .marker
                        .evaluate(env, std::slice::from_ref(extra))
                        && !requirement.marker.evaluate(env, &[])
                }
            };
            if !wanted {
                continue;
            }
            extra_enables_something = true;
            if let Err(unusable) = self.add(&mut map, node, version, requirement) {
                return Ok(Dependencies::Unavailable(unusable));
            }
        }
        if let Some(extra) = extra {
            // Old metadata may use an extra in markers without declaring it.
            if !extra_enables_something && !metadata.provides_extra.contains(extra) {
                self.unknown_extras.borrow_mut().insert((
                    name.clone(),
                    version.clone(),
                    extra.clone(),
                ));
            }
        }
        let names: Vec<PackageName> = map
            .keys()
            .filter_map(Node::package)
            .filter(|n| *n != name)
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        self.source.prefetch(&wanted(&map));
        self.edges
            .borrow_mut()
            .insert((node.clone(), version.clone()), names);
        Ok(Dependencies::Available(map))
    }

    /// What the user may change, from the incompatibilities a failure rests on.
    fn hints(&self, tree: &pubgrub::DerivationTree<Node, Range, Unusable>) -> Vec<String> {
        let mut hints: Vec<String> = Vec::new();
        let mut add = |hint: String| {
            if !hints.contains(&hint) {
                hints.push(hint);
            }
        };
        for external in report::externals(tree) {
            match external {
                pubgrub::External::NoVersions(node, range) => {
                    let Some(name) = node.package() else { continue };
                    let candidates = self.candidates.borrow();
                    let Some(list) = candidates.get(name) else {
                        continue;
                    };
                    if list.is_empty() {
                        add(format!(
                            "`{name}` is on none of the indexes: check its name, and the \
                             -i/--extra-index-url options"
                        ));
                    }
                    let in_range = || list.iter().filter(|c| range.contains(&c.version));
                    if in_range().any(|c| c.version.any_prerelease()) {
                        add(format!(
                            "`{name}` has pre-releases there: pass --pre, or name a pre-release \
                             in the requirement, to allow them"
                        ));
                    }
                    let yanked: Vec<String> = in_range()
                        .filter(|c| c.yanked)
                        .map(|c| c.version.to_string())
                        .collect();
                    if !yanked.is_empty() {
                        add(format!(
                            "`{name}` {} yanked: pin one with `==` to use it anyway",
                            if yanked.len() == 1 {
                                format!("{} is", yanked[0])
                            } else {
                                format!("{} are", yanked.join(", "))
                            }
                        ));
                    }
                }
                pubgrub::External::Custom(
                    node,
                    _,
                    Unusable::Release(UnusableRelease::NeedsBuild(_)),
                ) => {
                    if let Some(name) = node.package() {
                        add(format!(
                            "repin never runs build backends: require a release of `{name}` \
                             that has a wheel, or one whose sdist has metadata 2.2 or later"
                        ));
                    }
                }
                pubgrub::External::Custom(_, _, Unusable::RequiresPython(_)) => {
                    add(format!(
                        "the lock is for Python {}: pass --python, or set `[python] version` in \
                         repin.toml, to lock for another",
                        self.request.target.python_label()
                    ));
                }
                _ => {}
            }
        }
        if hints.is_empty() {
            // --upgrade-package frees a version kept from an existing lock: only then is it a
            // way out.
            hints.push(if self.request.preferences.is_empty() {
                "loosen a requirement or a constraint named above".into()
            } else {
                "loosen a requirement or a constraint named above; a version kept from the \
                 existing lock moves with --upgrade-package NAME"
                    .into()
            });
        }
        hints
    }

    fn resolution(&self, solution: &pubgrub::SelectedDependencies<Self>) -> Resolution {
        let mut packages: BTreeMap<PackageName, Locked> = BTreeMap::new();
        for (node, version) in solution {
            let Node::Package(name) = node else { continue };
            let hashes = self
                .candidates
                .borrow()
                .get(name)
                .and_then(|list| list.iter().find(|c| &c.version == version))
                .map(|c| c.hashes.clone())
                .unwrap_or_default();
            let via = self
                .direct
                .get(name)
                .into_iter()
                .flatten()
                .map(|file| Via::Requirement(file.clone()))
                .chain(
                    self.constrained
                        .get(name)
                        .into_iter()
                        .flatten()
                        .map(|file| Via::Constraint(file.clone())),
                )
                .collect();
            packages.insert(
                name.clone(),
                Locked {
                    name: name.clone(),
                    version: version.clone(),
                    extras: BTreeSet::new(),
                    hashes,
                    via,
                },
            );
        }
        let edges = self.edges.borrow();
        let unknown_extras = self.unknown_extras.borrow();
        let mut warnings = Vec::new();
        for (node, version) in solution {
            let Some(parent) = node.package() else {
                continue;
            };
            if let Node::Extra(name, extra) = node {
                if unknown_extras.contains(&(name.clone(), version.clone(), extra.clone())) {
                    // As uv says it; the extra is not written into the lock.
                    warnings.push(format!(
                        "The package `{name}=={version}` does not have an extra named `{extra}`"
                    ));
                } else if let Some(locked) = packages.get_mut(name) {
                    locked.extras.insert(extra.clone());
                }
            }
            for child in edges
                .get(&(node.clone(), version.clone()))
                .into_iter()
                .flatten()
            {
                if let Some(locked) = packages.get_mut(child) {
                    locked.via.insert(Via::Package(parent.clone()));
                }
            }
        }
        warnings.sort();
        warnings.extend(self.passed_over(&packages));
        Resolution {
            packages: packages.into_values().collect(),
            warnings,
        }
    }

    /// Releases newer than the one locked that were passed over because their metadata
    /// cannot be used, grouped by reason: a lock that is not the newest says why.
    fn passed_over(&self, packages: &BTreeMap<PackageName, Locked>) -> Vec<String> {
        let skipped = self.skipped.borrow();
        let mut out = Vec::new();
        for (name, locked) in packages {
            let Some(releases) = skipped.get(name) else {
                continue;
            };
            // Grouped by what the user reads: releases refused alike share one line.
            let mut by_reason: BTreeMap<String, Vec<&Version>> = BTreeMap::new();
            for (version, unusable) in releases.iter().rev() {
                if version > &locked.version {
                    by_reason
                        .entry(unusable.to_string())
                        .or_default()
                        .push(version);
                }
            }
            for (reason, versions) in by_reason {
                let list: Vec<String> = versions.iter().map(ToString::to_string).collect();
                out.push(format!(
                    "`{name}` {} passed over for {}: {reason}",
                    if list.len() == 1 {
                        format!("{} was", list[0])
                    } else {
                        format!("{} were", list.join(", "))
                    },
                    locked.version
                ));
            }
        }
        out
    }
}

/// The packages of a node's dependencies with the versions they allow (an extra's range is
/// its package's), for [`PackageSource::prefetch`].
fn wanted(map: &DependencyConstraints<Node, Range>) -> Vec<(PackageName, Range)> {
    let mut out: BTreeMap<PackageName, Range> = BTreeMap::new();
    for (node, range) in map {
        if let Some(name) = node.package() {
            out.entry(name.clone())
                .and_modify(|r| *r = r.intersection(range))
                .or_insert_with(|| range.clone());
        }
    }
    out.into_iter().collect()
}

fn failed(name: &PackageName, error: SourceError) -> LockError {
    LockError::Source {
        package: name.to_string(),
        source: match error {
            SourceError::Failed(source) => source,
            SourceError::Unusable(unusable) => unusable.error().clone(),
        },
    }
}

impl<S: PackageSource> DependencyProvider for Provider<'_, S> {
    type P = Node;
    type V = Version;
    type VS = Range;
    type M = Unusable;
    type Err = LockError;
    /// Exact pins first, then the order packages were met in (breadth first).
    type Priority = (bool, bool, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Node,
        range: &Range,
        _conflicts: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let mut seen = self.seen.borrow_mut();
        let next = seen.len();
        let order = *seen.entry(package.clone()).or_insert(next);
        (
            *package == Node::Root,
            range.as_singleton().is_some(),
            Reverse(order),
        )
    }

    fn choose_version(&self, package: &Node, range: &Range) -> Result<Option<Version>, LockError> {
        match package {
            Node::Root => Ok(Some(Version::new([0]))),
            Node::Package(name) | Node::Extra(name, _) | Node::ExtraRequires(name, _) => {
                self.choose(package, name, range)
            }
        }
    }

    fn get_dependencies(
        &self,
        package: &Node,
        version: &Version,
    ) -> Result<Dependencies<Node, Range, Unusable>, LockError> {
        self.dependencies(package, version)
    }
}

/// Parse a PEP 508 requirement (tests build requests with it).
#[cfg(test)]
pub(crate) fn requirement(text: &str) -> Requirement<VerbatimUrl> {
    <Requirement<VerbatimUrl> as std::str::FromStr>::from_str(text).expect("a valid requirement")
}

#[cfg(test)]
mod tests;

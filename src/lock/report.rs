//! A failed resolution, explained: PubGrub's derivation tree as sentences in PEP 440 terms.
//!
//! The sentences come from PubGrub's own reporter (`DefaultStringReporter`) with repin's
//! formatter: requirements written as pip writes them (`werkzeug>=3.0`, `flask==3.0.3`), the
//! root named after the file, each sentence capitalised and without a trailing period, so the
//! front end can print them as `Caused by:` lines.

use std::collections::{Bound, HashMap};

use pep440_rs::Version;
use pep508_rs::PackageName;

use pubgrub::{
    DefaultStringReporter, DerivationTree, Derived, External, Map, ReportFormatter, Reporter, Term,
};

use super::resolve::{Node, Range, Unusable};

/// The explanation of `tree`, one sentence per item; `root` names the requirements file and
/// `versions` are the known releases of each package (to name a range by the one release in
/// it, when that is shorter).
pub fn explain(
    tree: &DerivationTree<Node, Range, Unusable>,
    root: &str,
    versions: HashMap<PackageName, Vec<Version>>,
) -> Vec<String> {
    let mut versions = versions;
    for list in versions.values_mut() {
        list.sort();
    }
    let formatter = Formatter {
        root: root.to_owned(),
        versions,
    };
    let mut text = DefaultStringReporter::report_with_formatter(tree, &formatter);
    // A tree collapsed to one dependency: what it rests on is that nothing fits it.
    if let DerivationTree::External(External::FromDependencyOf(_, _, dependency, range)) = tree {
        text = format!(
            "because {text} and there is no usable release of {}, the requirements of {} \
             cannot be satisfied",
            formatter.term(dependency, range),
            formatter.root
        );
    }
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| capitalise(line, root))
        .collect()
}

/// A capital first letter, unless the sentence starts with the file's name.
fn capitalise(line: &str, root: &str) -> String {
    if line.starts_with(root) {
        return line.to_owned();
    }
    let mut chars = line.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A version range as PEP 440 specifiers, as uv writes them: `>=1.0,<2.0`; several as
/// `==1.0 or >=2.0`.
pub fn specifiers(range: &Range) -> String {
    let segment = |(low, high): (&Bound<pep440_rs::Version>, &Bound<pep440_rs::Version>)| {
        let low_text = match low {
            Bound::Included(v) => Some(format!(">={v}")),
            Bound::Excluded(v) => Some(format!(">{v}")),
            Bound::Unbounded => None,
        };
        let high_text = match high {
            Bound::Included(v) => Some(format!("<={v}")),
            Bound::Excluded(v) => Some(format!("<{v}")),
            Bound::Unbounded => None,
        };
        match (low, high) {
            (Bound::Included(a), Bound::Included(b)) if a == b => format!("=={a}"),
            _ => match (low_text, high_text) {
                (Some(l), Some(h)) => format!("{l},{h}"),
                (Some(one), None) | (None, Some(one)) => one,
                (None, None) => String::new(),
            },
        }
    };
    let parts: Vec<String> = range.iter().map(segment).collect();
    parts.join(" or ")
}

struct Formatter {
    root: String,
    /// Every known release of each package, ascending.
    versions: HashMap<PackageName, Vec<Version>>,
}

impl Formatter {
    /// A union of ranges (what PubGrub derives: `>=3.0.0,<3.1.0 or >3.1.0,<3.1.1`) as the
    /// releases it holds, as uv simplifies it: each run of consecutive known releases as
    /// `>=first,<=last` (open-ended at the oldest or newest known release, `==v` for one);
    /// `None` when the range is one interval already or holds no known release.
    fn simplified(&self, node: &Node, range: &Range) -> Option<String> {
        if range.iter().count() <= 1 {
            return None;
        }
        let known = self.versions.get(node.package()?)?;
        let inside: Vec<usize> = (0..known.len())
            .filter(|i| range.contains(&known[*i]))
            .collect();
        let last = known.len().checked_sub(1)?;
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for i in inside {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == i => *end = i,
                _ => runs.push((i, i)),
            }
        }
        let text: Vec<String> = runs
            .iter()
            .map(|&(a, b)| match (a, b) {
                (0, b) if b == last => String::new(),
                (a, b) if a == b => format!("=={}", known[a]),
                (0, b) => format!("<={}", known[b]),
                (a, b) if b == last => format!(">={}", known[a]),
                (a, b) => format!(">={},<={}", known[a], known[b]),
            })
            .collect();
        match text.as_slice() {
            [] => None,
            [one] => Some(format!("{node}{one}")),
            many => Some(format!("{node} ({})", many.join(" or "))),
        }
    }

    /// `flask>=3.0`, `flask==3.0.3`, `flask>=3.0.0,<=3.0.3`; `flask` for any version.
    fn term(&self, node: &Node, range: &Range) -> String {
        if *node == Node::Root {
            return self.root.clone();
        }
        if range == &Range::full() {
            return node.to_string();
        }
        if range == &Range::empty() {
            return format!("no version of {node}");
        }
        if let Some(simple) = self.simplified(node, range) {
            return simple;
        }
        let text = specifiers(range);
        if range.iter().count() > 1 {
            format!("{node} ({text})")
        } else {
            format!("{node}{text}")
        }
    }

    /// As the subject of a sentence: "every version of flask" for any version.
    fn subject(&self, node: &Node, range: &Range) -> String {
        if *node != Node::Root && range == &Range::full() {
            format!("every version of {node}")
        } else {
            self.term(node, range)
        }
    }

    fn signed(&self, node: &Node, term: &Term<Range>) -> String {
        match term {
            Term::Positive(range) => self.term(node, range),
            Term::Negative(range) => format!("not {}", self.term(node, range)),
        }
    }
}

impl ReportFormatter<Node, Range, Unusable> for Formatter {
    type Output = String;

    fn format_external(&self, external: &External<Node, Range, Unusable>) -> String {
        match external {
            External::NotRoot(node, _) => format!("{node} is what is being locked"),
            External::NoVersions(node, range) if range == &Range::full() => {
                format!("there is no usable release of {node} on the indexes")
            }
            // The complement of a few releases: "no other".
            External::NoVersions(node, range)
                if range
                    .complement()
                    .iter()
                    .all(|(low, high)| matches!((low, high), (Bound::Included(a), Bound::Included(b)) if a == b)) =>
            {
                format!("there is no other release of {node}")
            }
            External::NoVersions(node, range) => {
                format!("there is no usable release of {}", self.term(node, range))
            }
            External::Custom(node, range, reason) => {
                format!("{} cannot be used: {reason}", self.subject(node, range))
            }
            External::FromDependencyOf(Node::Root, _, dependency, range) => {
                format!("{} requires {}", self.root, self.term(dependency, range))
            }
            External::FromDependencyOf(node, range, dependency, dependency_range) => {
                if let (Node::Extra(name, _), Node::Package(dep)) = (node, dependency) {
                    if name == dep {
                        // An extra's link to its own package says nothing worth reading.
                        return format!(
                            "{} is {}",
                            self.subject(node, range),
                            self.term(dependency, dependency_range)
                        );
                    }
                }
                format!(
                    "{} depends on {}",
                    self.subject(node, range),
                    self.term(dependency, dependency_range)
                )
            }
        }
    }

    fn format_terms(&self, terms: &Map<Node, Term<Range>>) -> String {
        let mut terms: Vec<(&Node, &Term<Range>)> = terms.iter().collect();
        terms.sort_by(|a, b| a.0.cmp(b.0));
        // The root always holds: with other terms, it says nothing.
        if terms.len() > 1 {
            terms.retain(|(node, term)| {
                !(**node == Node::Root && matches!(term, Term::Positive(_)))
            });
        }
        match terms.as_slice() {
            [] => "no versions satisfy the requirements".into(),
            [(Node::Root, Term::Positive(_))] => {
                format!("the requirements of {} cannot be satisfied", self.root)
            }
            [(node, Term::Positive(range))] if range == &Range::full() => {
                format!("no version of {node} can be used")
            }
            [(node, Term::Positive(range))] => {
                format!("{} cannot be used", self.term(node, range))
            }
            [(node, Term::Negative(range))] => {
                format!("{} is needed", self.term(node, range))
            }
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))]
            | [(p2, Term::Negative(r2)), (p1, Term::Positive(r1))] => self.format_external(
                &External::FromDependencyOf((*p1).clone(), r1.clone(), (*p2).clone(), r2.clone()),
            ),
            many => {
                let parts: Vec<String> = many.iter().map(|(n, t)| self.signed(n, t)).collect();
                format!("{} cannot all hold", parts.join(", "))
            }
        }
    }

    fn explain_both_external(
        &self,
        external1: &External<Node, Range, Unusable>,
        external2: &External<Node, Range, Unusable>,
        current_terms: &Map<Node, Term<Range>>,
    ) -> String {
        format!(
            "because {} and {}, {}",
            self.format_external(external1),
            self.format_external(external2),
            self.format_terms(current_terms)
        )
    }

    fn explain_both_ref(
        &self,
        ref_id1: usize,
        derived1: &Derived<Node, Range, Unusable>,
        ref_id2: usize,
        derived2: &Derived<Node, Range, Unusable>,
        current_terms: &Map<Node, Term<Range>>,
    ) -> String {
        format!(
            "because {} ({ref_id1}) and {} ({ref_id2}), {}",
            self.format_terms(&derived1.terms),
            self.format_terms(&derived2.terms),
            self.format_terms(current_terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        ref_id: usize,
        derived: &Derived<Node, Range, Unusable>,
        external: &External<Node, Range, Unusable>,
        current_terms: &Map<Node, Term<Range>>,
    ) -> String {
        format!(
            "because {} ({ref_id}) and {}, {}",
            self.format_terms(&derived.terms),
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_external(
        &self,
        external: &External<Node, Range, Unusable>,
        current_terms: &Map<Node, Term<Range>>,
    ) -> String {
        format!(
            "and because {}, {}",
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_ref(
        &self,
        ref_id: usize,
        derived: &Derived<Node, Range, Unusable>,
        current_terms: &Map<Node, Term<Range>>,
    ) -> String {
        format!(
            "and because {} ({ref_id}), {}",
            self.format_terms(&derived.terms),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_prior_and_external(
        &self,
        prior_external: &External<Node, Range, Unusable>,
        external: &External<Node, Range, Unusable>,
        current_terms: &Map<Node, Term<Range>>,
    ) -> String {
        format!(
            "and because {} and {}, {}",
            self.format_external(prior_external),
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }
}

/// Every external incompatibility of a tree, for hints.
pub fn externals(
    tree: &DerivationTree<Node, Range, Unusable>,
) -> Vec<&External<Node, Range, Unusable>> {
    let mut out = Vec::new();
    let mut stack = vec![tree];
    while let Some(node) = stack.pop() {
        match node {
            DerivationTree::External(external) => out.push(external),
            DerivationTree::Derived(derived) => {
                stack.push(derived.cause1.as_ref());
                stack.push(derived.cause2.as_ref());
            }
        }
    }
    out
}

/// `tree` with every [`Node::ExtraRequires`] read as the extra it belongs to, and the link
/// between the two (an extra's release depends on its requirements' release) folded away: it
/// is how repin splits an extra, not a reason anyone can act on. The incompatibility derived
/// from that link and another is the other one, renamed; where the derived one was shared (the
/// report refers back to it by number), the other keeps its number, so it is still explained
/// once.
pub fn fold_extra_requires(
    tree: &DerivationTree<Node, Range, Unusable>,
) -> DerivationTree<Node, Range, Unusable> {
    match tree {
        DerivationTree::External(external) => DerivationTree::External(fold_external(external)),
        DerivationTree::Derived(derived) => {
            for (link, other) in [
                (&derived.cause1, &derived.cause2),
                (&derived.cause2, &derived.cause1),
            ] {
                if is_extra_link(link) {
                    let mut folded = fold_extra_requires(other);
                    if let (DerivationTree::Derived(kept), Some(id)) =
                        (&mut folded, derived.shared_id)
                    {
                        kept.shared_id.get_or_insert(id);
                    }
                    return folded;
                }
            }
            let mut terms: Map<Node, Term<Range>> = Map::default();
            for (node, term) in &derived.terms {
                let node = extra_of(node);
                let term = match terms.remove(&node) {
                    Some(before) => intersection(&before, term),
                    None => term.clone(),
                };
                terms.insert(node, term);
            }
            DerivationTree::Derived(Derived {
                terms,
                shared_id: derived.shared_id,
                cause1: std::sync::Arc::new(fold_extra_requires(&derived.cause1)),
                cause2: std::sync::Arc::new(fold_extra_requires(&derived.cause2)),
            })
        }
    }
}

/// An extra's link to its own requirements.
fn is_extra_link(tree: &DerivationTree<Node, Range, Unusable>) -> bool {
    matches!(
        tree,
        DerivationTree::External(External::FromDependencyOf(
            Node::Extra(name, extra), _, Node::ExtraRequires(to, to_extra), _
        )) if name == to && extra == to_extra
    )
}

fn extra_of(node: &Node) -> Node {
    match node {
        Node::ExtraRequires(name, extra) => Node::Extra(name.clone(), extra.clone()),
        other => other.clone(),
    }
}

fn fold_external(external: &External<Node, Range, Unusable>) -> External<Node, Range, Unusable> {
    match external {
        External::NotRoot(node, version) => External::NotRoot(extra_of(node), version.clone()),
        External::NoVersions(node, range) => External::NoVersions(extra_of(node), range.clone()),
        External::FromDependencyOf(node, range, dependency, dependency_range) => {
            External::FromDependencyOf(
                extra_of(node),
                range.clone(),
                extra_of(dependency),
                dependency_range.clone(),
            )
        }
        External::Custom(node, range, reason) => {
            External::Custom(extra_of(node), range.clone(), reason.clone())
        }
    }
}

/// Both terms at once (PubGrub keeps its own `intersection` private).
fn intersection(a: &Term<Range>, b: &Term<Range>) -> Term<Range> {
    match (a, b) {
        (Term::Positive(a), Term::Positive(b)) => Term::Positive(a.intersection(b)),
        (Term::Positive(p), Term::Negative(n)) | (Term::Negative(n), Term::Positive(p)) => {
            Term::Positive(p.intersection(&n.complement()))
        }
        (Term::Negative(a), Term::Negative(b)) => Term::Negative(a.union(b)),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn v(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    #[test]
    fn unions_print_as_the_releases_they_hold_as_uv_prints_them() {
        let flask = PackageName::from_str("flask").unwrap();
        let known: Vec<Version> = [
            "2.3.0", "3.0.0", "3.0.1", "3.0.2", "3.0.3", "3.1.0", "3.1.1", "3.2.0",
        ]
        .iter()
        .map(|t| v(t))
        .collect();
        let formatter = Formatter {
            root: "requirements.in".into(),
            versions: HashMap::from([(flask.clone(), known)]),
        };
        let node = Node::Package(flask);
        // What PubGrub derives: >=3.0.0,<3.1.0 or >3.1.0,<3.1.1.
        let union = Range::between(v("3.0.0"), v("3.1.0")).union(
            &Range::strictly_higher_than(v("3.1.0"))
                .intersection(&Range::strictly_lower_than(v("3.1.1"))),
        );
        assert_eq!(formatter.term(&node, &union), "flask>=3.0.0,<=3.0.3");
        let open_ended =
            Range::between(v("3.0.0"), v("3.1.0")).union(&Range::higher_than(v("3.1.1")));
        assert_eq!(
            formatter.term(&node, &open_ended),
            "flask (>=3.0.0,<=3.0.3 or >=3.1.1)"
        );
        let one = Range::strictly_lower_than(v("2.3.0")).union(&Range::singleton(v("3.1.0")));
        assert_eq!(formatter.term(&node, &one), "flask==3.1.0");
        // One interval is printed as written.
        assert_eq!(
            formatter.term(&node, &Range::between(v("3.0.0"), v("3.1.0"))),
            "flask>=3.0.0,<3.1.0"
        );
    }

    #[test]
    fn a_shared_incompatibility_folded_into_another_keeps_its_number() {
        let name = PackageName::from_str("kombu").unwrap();
        let extra = pep508_rs::ExtraName::from_str("redis").unwrap();
        let all = Range::full();
        let external = |node: Node| DerivationTree::External(External::NotRoot(node, v("1.0")));
        // What the link is derived with: itself derived, shared with no number of its own.
        let other = DerivationTree::Derived(Derived {
            terms: Map::default(),
            shared_id: None,
            cause1: std::sync::Arc::new(external(Node::Package(name.clone()))),
            cause2: std::sync::Arc::new(external(Node::Package(name.clone()))),
        });
        let link = DerivationTree::External(External::FromDependencyOf(
            Node::Extra(name.clone(), extra.clone()),
            all.clone(),
            Node::ExtraRequires(name.clone(), extra.clone()),
            all,
        ));
        let shared = DerivationTree::Derived(Derived {
            terms: Map::default(),
            shared_id: Some(7),
            cause1: std::sync::Arc::new(link),
            cause2: std::sync::Arc::new(other),
        });
        let DerivationTree::Derived(folded) = fold_extra_requires(&shared) else {
            panic!("the other cause is derived");
        };
        assert_eq!(folded.shared_id, Some(7));
        assert!(matches!(&*folded.cause1, DerivationTree::External(_)));
    }
}

use std::collections::BTreeMap;

use super::*;
use crate::decide::Update;
use crate::manifest::edit::Change;
use crate::plan::{Item, Options, plan};
use crate::versioning::UpdateKind;

fn item(name: &str, from: &str, to: &str, security: bool) -> Item {
    Item {
        file: "requirements.txt".into(),
        index: name.len(),
        line: name.len(),
        name: name.into(),
        image: false,
        update: Update {
            kind: UpdateKind::Patch,
            current: from.into(),
            proposed: to.into(),
            change: Change::PythonVersion {
                version: to.into(),
                hashes: None,
            },
            fixes: if security {
                vec!["GHSA-x".into()]
            } else {
                Vec::new()
            },
            age: None,
            reason: String::new(),
            unblocks: Vec::new(),
            rides_with: None,
            companions: Vec::new(),
            yanked: None,
        },
        group: None,
        link: None,
        companions: Vec::new(),
        rides_with: None,
    }
}

fn pr(number: u64, branch: &Branch, open: bool, merged: bool) -> PullRequest {
    PullRequest {
        number,
        open,
        merged,
        title: branch.title.clone(),
        body: branch.body.clone(),
        head: branch.name.clone(),
        base: "main".into(),
        labels: Vec::new(),
        url: format!("https://github.invalid/pull/{number}"),
        created_at: 0,
    }
}

fn branches(items: &[Item]) -> Vec<Branch> {
    plan(items, &BTreeMap::new(), &Options::default())
}

fn kinds(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::Create { branch } => format!("create {branch}"),
            Action::Refresh { branch, pr } => format!("refresh {branch} #{}", pr.number),
            Action::Close { pr, reason } => format!("close #{}: {reason}", pr.number),
            Action::Ignored { branch, pr } => format!("ignored {branch} #{}", pr.number),
            Action::HeldBack { branch, why } => format!("held {branch}: {why}"),
            Action::Unrecognised { pr } => format!("unrecognised #{}", pr.number),
        })
        .collect()
}

fn none(_: &str, _: &str) -> Vec<String> {
    vec!["old".into()]
}

#[test]
fn new_branches_are_created_and_open_ones_refreshed() {
    let planned = branches(&[
        item("flask", "1", "2", false),
        item("idna", "1", "2", false),
    ]);
    let open = vec![pr(7, &planned[0], true, false)];
    let actions = decide(
        &planned,
        &open,
        &BTreeMap::new(),
        &[],
        Limits::default(),
        &none,
    );
    assert_eq!(kinds(&actions), ["refresh 0 #7", "create 1"]);
}

#[test]
fn a_version_closed_unmerged_is_ignored_unless_it_changed_or_is_a_security_fix() {
    let planned = branches(&[item("flask", "1", "2", false)]);
    let mut closed = BTreeMap::new();
    closed.insert(
        planned[0].name.clone(),
        vec![pr(3, &planned[0], false, false)],
    );
    let actions = decide(&planned, &[], &closed, &[], Limits::default(), &none);
    assert_eq!(kinds(&actions), ["ignored 0 #3"]);

    // A newer release: a new pull request.
    let newer = branches(&[item("flask", "1", "3", false)]);
    let actions = decide(&newer, &[], &closed, &[], Limits::default(), &none);
    assert_eq!(kinds(&actions), ["create 0"]);

    // Merged before (and due again, e.g. reverted): not an ignore.
    let mut merged = BTreeMap::new();
    merged.insert(
        planned[0].name.clone(),
        vec![pr(4, &planned[0], false, true)],
    );
    let actions = decide(&planned, &[], &merged, &[], Limits::default(), &none);
    assert_eq!(kinds(&actions), ["create 0"]);

    // A security fix the user closed is still proposed.
    let fix = branches(&[item("flask", "1", "2", true)]);
    let mut closed_fix = BTreeMap::new();
    closed_fix.insert(fix[0].name.clone(), vec![pr(5, &fix[0], false, false)]);
    let actions = decide(&fix, &[], &closed_fix, &[], Limits::default(), &none);
    assert_eq!(kinds(&actions), ["create 0"]);
}

#[test]
fn pull_requests_no_longer_planned_are_closed_with_the_reason() {
    let old = branches(&[
        item("flask", "1", "2", false),
        item("idna", "1", "2", false),
        item("six", "1", "2", false),
        item("jinja2", "1", "2", false),
    ]);
    let open: Vec<PullRequest> = old
        .iter()
        .enumerate()
        .map(|(n, b)| pr(n as u64 + 1, b, true, false))
        .collect();
    // Now: flask removed, idna updated by hand to 2, six superseded by a security fix,
    // jinja2 no longer due for another reason.
    let planned = branches(&[item("six", "1", "3", true)]);
    let current = |_: &str, name: &str| -> Vec<String> {
        match name {
            "flask" => Vec::new(),
            "idna" => vec!["2".into()],
            _ => vec!["1".into()],
        }
    };
    let actions = decide(
        &planned,
        &open,
        &BTreeMap::new(),
        &[],
        Limits::default(),
        &current,
    );
    let mut got = kinds(&actions);
    got.sort();
    assert_eq!(
        got,
        [
            "close #1: `flask` is no longer in `requirements.txt`",
            "close #2: `idna` is already at `2` in `requirements.txt`",
            "close #3: `jinja2` 2 in `requirements.txt` is no longer due (held back or ignored by configuration, or the release was withdrawn)",
            "close #4: `six` 2 is superseded by `3` (repin/security/six)",
            "create 0",
        ]
    );
}

#[test]
fn limits_hold_back_routine_updates_but_never_security_fixes() {
    let planned = branches(&[
        item("a", "1", "2", false),
        item("b", "1", "2", false),
        item("c", "1", "2", true),
    ]);
    let limits = Limits {
        max_open: 1,
        max_per_hour: 0,
        now: 10_000,
    };
    let actions = decide(&planned, &[], &BTreeMap::new(), &[], limits, &none);
    let got = kinds(&actions);
    // The security fix comes first and does not count against the limit's exemption.
    assert_eq!(got[0], "create 2");
    assert_eq!(
        got[1..],
        [
            "held 0: at most 1 pull requests open at once",
            "held 1: at most 1 pull requests open at once"
        ]
    );

    let hourly = Limits {
        max_open: 0,
        max_per_hour: 1,
        now: 10_000,
    };
    let actions = decide(&planned, &[], &BTreeMap::new(), &[], hourly, &none);
    assert_eq!(
        kinds(&actions),
        [
            "create 2",
            "held 0: at most 1 pull requests opened per hour",
            "held 1: at most 1 pull requests opened per hour"
        ]
    );
}

#[test]
fn pull_requests_without_the_marker_are_left_alone() {
    let planned = branches(&[item("flask", "1", "2", false)]);
    let mut edited = pr(9, &planned[0], true, false);
    edited.body = "the user rewrote this".into();
    let actions = decide(
        &planned,
        &[edited],
        &BTreeMap::new(),
        &[],
        Limits::default(),
        &none,
    );
    assert_eq!(kinds(&actions), ["unrecognised #9", "create 0"]);
}

/// Issue 17: the way off a yanked pin is not held back by a limit, as a security fix is not.
#[test]
fn limits_never_hold_back_the_way_off_a_yanked_pin() {
    let mut yanked = item("y", "1", "2", false);
    yanked.update.yanked = Some("broken".into());
    let planned = branches(&[
        item("a", "1", "2", false),
        item("b", "1", "2", false),
        yanked,
    ]);
    let y = planned
        .iter()
        .position(|b| b.items.iter().any(|i| i.name == "y"))
        .unwrap();
    assert!(planned[y].is_urgent() && !planned[y].is_security());
    let limits = Limits {
        max_open: 1,
        max_per_hour: 0,
        now: 10_000,
    };
    let got = kinds(&decide(&planned, &[], &BTreeMap::new(), &[], limits, &none));
    assert!(got.contains(&format!("create {y}")), "{got:?}");
    assert_eq!(
        got.iter().filter(|a| a.starts_with("held")).count(),
        1,
        "{got:?}"
    );
}

/// A box ticked on the dashboard opens its branch whatever the limits and a closed pull request
/// of the same updates say.
#[test]
fn a_ticked_branch_is_created_over_limits_and_ignores() {
    let planned = branches(&[item("aaa", "1", "2", false), item("bbb", "1", "2", false)]);
    let mut closed = BTreeMap::new();
    closed.insert(
        planned[0].name.clone(),
        vec![pr(3, &planned[0], false, false)],
    );
    let limits = Limits {
        max_open: 1,
        ..Limits::default()
    };
    let untouched = kinds(&decide(&planned, &[], &closed, &[], limits, &none));
    assert_eq!(untouched, ["ignored 0 #3", "create 1"]);
    let ticked = [planned[0].name.clone()];
    let got = kinds(&decide(&planned, &[], &closed, &ticked, limits, &none));
    assert_eq!(
        got,
        ["create 0", "held 1: at most 1 pull requests open at once"]
    );
}

/// A pull request closed by `@repin ignore this major version` holds every release of that
/// major version, and no other.
#[test]
fn an_ignore_scope_in_a_closed_marker_holds_its_range() {
    let planned = branches(&[item("flask", "2.0", "2.2", false)]);
    let mut closed_pr = pr(3, &planned[0], false, false);
    let marker = Marker {
        ignore: Some(crate::vocab::IgnoreScope::Major),
        ..planned[0].marker()
    };
    closed_pr.body = marker.replace_in(&closed_pr.body);
    let mut closed = BTreeMap::new();
    closed.insert(planned[0].name.clone(), vec![closed_pr]);
    let later = branches(&[item("flask", "2.0", "2.9.1", false)]);
    let got = kinds(&decide(&later, &[], &closed, &[], Limits::default(), &none));
    assert_eq!(got, ["ignored 0 #3"]);
    let next_major = branches(&[item("flask", "2.0", "3.0", false)]);
    let got = kinds(&decide(
        &next_major,
        &[],
        &closed,
        &[],
        Limits::default(),
        &none,
    ));
    assert_eq!(got, ["create 0"]);
}

//! What someone with write access can ask of one of repin's pull requests: `@repin rebase`,
//! `@repin recreate`, or `@repin ignore this minor version` / `major version` / `dependency`.
//! The webhook reads it from a comment, the job queue stores it, `repin pr` takes it as a flag
//! and publishing acts on it, so the word is shared here.

use std::fmt;
use std::str::FromStr;

/// A command for one pull request's branch, ordered from the weakest to the strongest: of two
/// commands given for one branch before a run, the stronger is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BranchCommand {
    /// Rebase the branch on the base branch now, whatever the rebase policy says. Refused when
    /// someone else pushed to the branch: their commits would be lost.
    Rebase,
    /// Make the branch again from the base branch, overwriting anyone's commits on it.
    Recreate,
    /// Close the pull request, and propose no release its updates' versions share this much
    /// with again (a security fix excepted).
    Ignore(IgnoreScope),
}

/// Which releases `@repin ignore` leaves out, ordered from the narrowest to the broadest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum IgnoreScope {
    /// Releases of the proposed minor version (`3.1.*` for `3.1.2`).
    Minor,
    /// Releases of the proposed major version (`3.*` for `3.1.2`).
    Major,
    /// Every release of the dependency.
    Dependency,
}

impl IgnoreScope {
    /// How many leading release numbers two versions share to fall under the scope (`None`:
    /// every version does).
    pub fn shared_numbers(self) -> Option<usize> {
        match self {
            IgnoreScope::Minor => Some(2),
            IgnoreScope::Major => Some(1),
            IgnoreScope::Dependency => None,
        }
    }

    /// Whether `version` falls under the scope of an ignore given on `ignored` (both versions
    /// or tags: their leading dot-separated numbers are compared, so `3.12-slim` is of major
    /// version 3).
    pub fn covers(self, ignored: &str, version: &str) -> bool {
        let Some(count) = self.shared_numbers() else {
            return true;
        };
        let numbers = |v: &str| -> Vec<u64> {
            v.trim_start_matches(['v', 'V'])
                .split(|c: char| !c.is_ascii_digit() && c != '.')
                .next()
                .unwrap_or("")
                .split('.')
                .map_while(|n| n.parse().ok())
                .take(count)
                .collect()
        };
        let (a, b) = (numbers(ignored), numbers(version));
        a.len() == count && a == b
    }
}

impl BranchCommand {
    /// The word (`rebase`, `recreate`, `ignore-major`...), as stored and as the flag of
    /// `repin pr` (`--rebase`, `--ignore-major`...).
    pub fn word(self) -> &'static str {
        match self {
            BranchCommand::Rebase => "rebase",
            BranchCommand::Recreate => "recreate",
            BranchCommand::Ignore(IgnoreScope::Minor) => "ignore-minor",
            BranchCommand::Ignore(IgnoreScope::Major) => "ignore-major",
            BranchCommand::Ignore(IgnoreScope::Dependency) => "ignore-dependency",
        }
    }

    /// The command as written in a comment.
    pub fn text(self) -> &'static str {
        match self {
            BranchCommand::Rebase => "@repin rebase",
            BranchCommand::Recreate => "@repin recreate",
            BranchCommand::Ignore(IgnoreScope::Minor) => "@repin ignore this minor version",
            BranchCommand::Ignore(IgnoreScope::Major) => "@repin ignore this major version",
            BranchCommand::Ignore(IgnoreScope::Dependency) => "@repin ignore this dependency",
        }
    }

    /// The command a comment's line gives (case and spacing aside), `None` when it is none.
    pub fn from_line(line: &str) -> Option<BranchCommand> {
        let words: Vec<String> = line.split_whitespace().map(str::to_lowercase).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["@repin", "rebase"] => Some(BranchCommand::Rebase),
            ["@repin", "recreate"] => Some(BranchCommand::Recreate),
            ["@repin", "ignore", "this", "minor", "version"] => {
                Some(BranchCommand::Ignore(IgnoreScope::Minor))
            }
            ["@repin", "ignore", "this", "major", "version"] => {
                Some(BranchCommand::Ignore(IgnoreScope::Major))
            }
            ["@repin", "ignore", "this", "dependency"] => {
                Some(BranchCommand::Ignore(IgnoreScope::Dependency))
            }
            _ => None,
        }
    }

    /// The stronger of two commands for the same branch: a recreate does what a rebase does
    /// and more, an ignore closes the pull request, and a broader ignore covers a narrower one.
    pub fn and(self, other: BranchCommand) -> BranchCommand {
        self.max(other)
    }
}

impl fmt::Display for BranchCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A word that is no command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a command: write rebase, recreate, ignore-minor, ignore-major or ignore-dependency"
)]
pub struct UnknownCommand(pub String);

impl FromStr for BranchCommand {
    type Err = UnknownCommand;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        let word_lower = word.to_ascii_lowercase();
        ALL.into_iter()
            .find(|c| c.word() == word_lower)
            .ok_or_else(|| UnknownCommand(word.to_owned()))
    }
}

/// Every command.
pub const ALL: [BranchCommand; 5] = [
    BranchCommand::Rebase,
    BranchCommand::Recreate,
    BranchCommand::Ignore(IgnoreScope::Minor),
    BranchCommand::Ignore(IgnoreScope::Major),
    BranchCommand::Ignore(IgnoreScope::Dependency),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_comment_lines_read_back_and_the_stronger_wins() {
        for command in ALL {
            assert_eq!(command.word().parse::<BranchCommand>(), Ok(command));
            assert_eq!(BranchCommand::from_line(command.text()), Some(command));
            assert_eq!(
                BranchCommand::from_line(&command.text().to_uppercase().replace(' ', "  ")),
                Some(command)
            );
        }
        assert_eq!("ReBase".parse::<BranchCommand>(), Ok(BranchCommand::Rebase));
        assert!("merge".parse::<BranchCommand>().is_err());
        assert_eq!(BranchCommand::from_line("@repin ignore this version"), None);
        assert_eq!(BranchCommand::from_line("please @repin rebase"), None);
        let major = BranchCommand::Ignore(IgnoreScope::Major);
        let minor = BranchCommand::Ignore(IgnoreScope::Minor);
        assert_eq!(
            BranchCommand::Rebase.and(BranchCommand::Recreate),
            BranchCommand::Recreate
        );
        assert_eq!(BranchCommand::Recreate.and(minor), minor);
        assert_eq!(major.and(minor), major);
        assert_eq!(
            major.and(BranchCommand::Ignore(IgnoreScope::Dependency)),
            BranchCommand::Ignore(IgnoreScope::Dependency)
        );
    }

    #[test]
    fn ignore_scopes_compare_leading_release_numbers() {
        assert!(IgnoreScope::Major.covers("3.0.0", "3.1.4"));
        assert!(!IgnoreScope::Major.covers("3.0.0", "4.0.0"));
        assert!(IgnoreScope::Minor.covers("3.1.0", "3.1.9"));
        assert!(!IgnoreScope::Minor.covers("3.1.0", "3.2.0"));
        assert!(IgnoreScope::Major.covers("3.12-slim", "3.13-slim-bookworm"));
        assert!(IgnoreScope::Minor.covers("v1.2.3", "1.2.7"));
        assert!(IgnoreScope::Dependency.covers("1.0", "9.9"));
        // A value without the numbers the scope compares covers nothing but itself by name.
        assert!(!IgnoreScope::Minor.covers("3", "3.1"));
        assert!(!IgnoreScope::Major.covers("latest", "latest"));
        assert!(!IgnoreScope::Major.covers("sha256:abc", "sha256:def"));
    }
}

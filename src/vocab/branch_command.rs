//! What someone with write access can ask of one of repin's pull requests: `@repin rebase` or
//! `@repin recreate`. The webhook reads it from a comment, the job queue stores it, `repin pr`
//! takes it as a flag and publishing acts on it, so the word is shared here.

use std::fmt;
use std::str::FromStr;

/// A command for one pull request's branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BranchCommand {
    /// Rebase the branch on the base branch now, whatever the rebase policy says. Refused when
    /// someone else pushed to the branch: their commits would be lost.
    Rebase,
    /// Make the branch again from the base branch, overwriting anyone's commits on it.
    Recreate,
}

impl BranchCommand {
    /// The word (`rebase`, `recreate`), as stored and as given to `repin pr`.
    pub fn word(self) -> &'static str {
        match self {
            BranchCommand::Rebase => "rebase",
            BranchCommand::Recreate => "recreate",
        }
    }

    /// The command as written in a comment.
    pub fn text(self) -> &'static str {
        match self {
            BranchCommand::Rebase => "@repin rebase",
            BranchCommand::Recreate => "@repin recreate",
        }
    }

    /// The stronger of two commands for the same branch: a recreate does what a rebase does
    /// and more, so asking for both is asking for a recreate.
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
#[error("`{0}` is not a command: write rebase or recreate")]
pub struct UnknownCommand(pub String);

impl FromStr for BranchCommand {
    type Err = UnknownCommand;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        match word.to_ascii_lowercase().as_str() {
            "rebase" => Ok(BranchCommand::Rebase),
            "recreate" => Ok(BranchCommand::Recreate),
            _ => Err(UnknownCommand(word.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_back_and_recreate_wins() {
        for command in [BranchCommand::Rebase, BranchCommand::Recreate] {
            assert_eq!(command.word().parse::<BranchCommand>(), Ok(command));
            assert_eq!(command.text(), format!("@repin {command}"));
        }
        assert_eq!("ReBase".parse::<BranchCommand>(), Ok(BranchCommand::Rebase));
        assert!("merge".parse::<BranchCommand>().is_err());
        assert_eq!(
            BranchCommand::Rebase.and(BranchCommand::Recreate),
            BranchCommand::Recreate
        );
        assert_eq!(
            BranchCommand::Recreate.and(BranchCommand::Rebase),
            BranchCommand::Recreate
        );
        assert_eq!(
            BranchCommand::Rebase.and(BranchCommand::Rebase),
            BranchCommand::Rebase
        );
    }
}

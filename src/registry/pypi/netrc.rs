//! `~/.netrc`: credentials by host, the way pip (through requests and Python's `netrc`) reads it.
//!
//! Tokens are separated by whitespace and may be double-quoted; `machine NAME` starts an entry,
//! `default` the fallback entry; `login`, `password` and `account` fill the current entry;
//! `macdef` bodies (up to a blank line) and `#` comments are skipped. A later entry for the
//! same machine replaces an earlier one, as in Python. Parsing is lenient: requests ignores a
//! malformed file, so an unknown token is skipped, never an error.

use std::fmt;
use std::path::Path;

/// Credentials for one machine.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NetrcEntry {
    /// `login` (or `account` when there is no login, as requests does).
    pub login: String,
    /// `password`; empty when absent.
    pub password: String,
}

impl fmt::Debug for NetrcEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A login is often a token itself: print neither.
        f.write_str("NetrcEntry(***)")
    }
}

/// A parsed netrc file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netrc {
    machines: Vec<(String, NetrcEntry)>,
    default: Option<NetrcEntry>,
}

impl Netrc {
    /// Read a netrc file; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> std::io::Result<Option<Netrc>> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(Netrc::parse(&String::from_utf8_lossy(&bytes)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Parse netrc text.
    pub fn parse(text: &str) -> Netrc {
        let mut netrc = Netrc::default();
        let mut tokens = Tokens::new(text);
        // Which entry the `login`/`password` tokens fill: a machine, the default, or none yet.
        enum Target {
            None,
            Machine(String),
            Default,
        }
        let mut target = Target::None;
        let mut entry = RawEntry::default();
        let flush = |netrc: &mut Netrc, target: &Target, entry: &mut RawEntry| {
            let done = std::mem::take(entry).finish();
            match target {
                Target::None => {}
                Target::Machine(host) => {
                    netrc
                        .machines
                        .retain(|(h, _)| !h.eq_ignore_ascii_case(host));
                    netrc.machines.push((host.clone(), done));
                }
                Target::Default => netrc.default = Some(done),
            }
        };
        while let Some(token) = tokens.next() {
            match token.as_str() {
                "machine" => {
                    flush(&mut netrc, &target, &mut entry);
                    target = match tokens.next() {
                        Some(host) => Target::Machine(host),
                        None => Target::None,
                    };
                }
                "default" => {
                    flush(&mut netrc, &target, &mut entry);
                    target = Target::Default;
                }
                "login" => entry.login = tokens.next(),
                "password" => entry.password = tokens.next(),
                "account" => entry.account = tokens.next(),
                "macdef" => {
                    flush(&mut netrc, &target, &mut entry);
                    target = Target::None;
                    tokens.skip_macro();
                }
                _ => {}
            }
        }
        flush(&mut netrc, &target, &mut entry);
        netrc
    }

    /// The credentials for `host` (case-insensitive), else the `default` entry.
    pub fn lookup(&self, host: &str) -> Option<&NetrcEntry> {
        self.machine(host).or(self.default.as_ref())
    }

    /// The credentials of the `machine` entry for `host` (case-insensitive) only: never the
    /// `default` entry, which is meant for whatever host the operator connects to and so must
    /// not go to one a repository chose.
    pub fn machine(&self, host: &str) -> Option<&NetrcEntry> {
        self.machines
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
            .map(|(_, e)| e)
    }
}

#[derive(Default)]
struct RawEntry {
    login: Option<String>,
    password: Option<String>,
    account: Option<String>,
}

impl RawEntry {
    fn finish(self) -> NetrcEntry {
        NetrcEntry {
            login: self.login.or(self.account).unwrap_or_default(),
            password: self.password.unwrap_or_default(),
        }
    }
}

/// Whitespace-separated tokens, `"quoted"` ones with `\` escapes, `#` comments to end of line.
struct Tokens<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Tokens {
            chars: text.chars().peekable(),
        }
    }

    /// Skip a `macdef` body: to the end of its line, then up to the first empty line.
    fn skip_macro(&mut self) {
        let mut previous_newline = false;
        for c in self.chars.by_ref() {
            if c == '\n' {
                if previous_newline {
                    return;
                }
                previous_newline = true;
            } else if c != '\r' {
                previous_newline = false;
            }
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            while self.chars.next_if(|c| c.is_whitespace()).is_some() {}
            match self.chars.peek()? {
                '#' => while self.chars.next_if(|c| *c != '\n').is_some() {},
                '"' => {
                    self.chars.next();
                    let mut token = String::new();
                    while let Some(c) = self.chars.next() {
                        match c {
                            '"' => break,
                            '\\' => token.extend(self.chars.next()),
                            c => token.push(c),
                        }
                    }
                    return Some(token);
                }
                _ => {
                    let mut token = String::new();
                    while let Some(c) = self.chars.next_if(|c| !c.is_whitespace()) {
                        if c == '\\' {
                            token.extend(self.chars.next());
                        } else {
                            token.push(c);
                        }
                    }
                    return Some(token);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(login: &str, password: &str) -> NetrcEntry {
        NetrcEntry {
            login: login.into(),
            password: password.into(),
        }
    }

    #[test]
    fn reads_machines_default_quotes_comments_and_macros() {
        let netrc = Netrc::parse(
            "# a comment line\n\
             machine pypi.example login alice password s3cret\n\
             machine Other.Example\n  login \"bob smith\"\n  password \"p\\\"w d\" # trailing\n\
             macdef init\n  cd /pub\n  machine evil.example login x password y\n\n\
             machine token.example password tok\n\
             machine acct.example account acc password pw\n\
             machine pypi.example login alice2 password newer\n\
             default login anon password anon@\n",
        );
        assert_eq!(
            netrc.lookup("pypi.example"),
            Some(&entry("alice2", "newer"))
        );
        assert_eq!(
            netrc.lookup("other.example"),
            Some(&entry("bob smith", "p\"w d"))
        );
        assert_eq!(netrc.lookup("token.example"), Some(&entry("", "tok")));
        assert_eq!(netrc.lookup("acct.example"), Some(&entry("acc", "pw")));
        // Inside a macro body: not a machine; the default answers instead.
        assert_eq!(netrc.lookup("evil.example"), Some(&entry("anon", "anon@")));
        assert_eq!(
            netrc.lookup("unknown.example"),
            Some(&entry("anon", "anon@"))
        );
    }

    #[test]
    fn lenient_on_garbage_and_never_prints_secrets() {
        let netrc = Netrc::parse("login orphan password x\nmachine\n");
        assert_eq!(netrc.lookup("anything"), None);
        let netrc = Netrc::parse("machine a.example login u password \"unterminated");
        assert_eq!(netrc.lookup("a.example"), Some(&entry("u", "unterminated")));
        let shown = format!("{netrc:?}");
        assert!(
            !shown.contains("unterminated") && !shown.contains("\"u\""),
            "{shown}"
        );
        assert_eq!(Netrc::parse(""), Netrc::default());
    }

    #[test]
    fn a_missing_file_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Netrc::load(&dir.path().join("none")).unwrap(), None);
        let path = dir.path().join("netrc");
        std::fs::write(&path, "machine h login l password p").unwrap();
        assert_eq!(
            Netrc::load(&path).unwrap().unwrap().lookup("h"),
            Some(&entry("l", "p"))
        );
    }
}

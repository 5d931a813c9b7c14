//! `pip install` pins inside `RUN`: tokenising the shell command and finding requirements.
//!
//! Recognised: `pip`, `pip3`, `pip3.12`, any path ending in one of those, `python -m pip`,
//! `python3.12 -m pip`, and `uv pip`, with the subcommands `install`, `wheel` and `download`,
//! in shell form (commands separated by `&&`, `||`, `;`, `|`) and exec form
//! (`RUN ["pip", "install", "x==1"]`). Options and their values are skipped; every other
//! argument is a requirement, scanned like a requirements-file line.

use crate::manifest::python::IndexOptions;
use crate::text::Mapped;
use crate::text::shell_words::{self, Kind, Syntax};

/// A shell token with its place in the `RUN` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellToken {
    /// The text with quotes and escapes removed.
    pub text: String,
    /// Range of the value in the arguments when it is verbatim there (the token unquoted, or
    /// wholly inside one pair of quotes with no escape); `None` otherwise.
    pub verbatim: Option<(usize, usize)>,
    /// Range of the raw token.
    pub raw: (usize, usize),
    /// Whether this is an operator (`&&`, `||`, `;`, `|`, `&`, `(`, `)`, a redirection) or a
    /// `#` comment: either ends a command's arguments.
    pub operator: bool,
}

/// Tokenise shell text ([`Syntax::SHELL`]): whitespace separates, quotes group, the backslash
/// keeps the next character, operators and comments end commands (a comment is an operator
/// here: what follows it on the line is no argument).
pub fn shell_tokens(text: &str) -> Vec<ShellToken> {
    shell_words::split(text, 0, Syntax::SHELL)
        .tokens
        .into_iter()
        .map(|token| ShellToken {
            verbatim: token.verbatim(text).map(|s| (s.start, s.end)),
            raw: (token.raw.start, token.raw.end),
            operator: token.kind != Kind::Word,
            text: token.value,
        })
        .collect()
}

/// Tokens of an exec-form `["pip", "install", ...]`, or `None` when the text is not a JSON
/// array of strings.
pub fn exec_tokens(text: &str) -> Option<Vec<ShellToken>> {
    let trimmed = text.trim();
    if !trimmed.starts_with('[') || !trimmed.ends_with(']') {
        return None;
    }
    let values: Vec<String> = serde_json::from_str(trimmed).ok()?;
    // Find each string's place: search forward for its JSON encoding.
    let mut out = Vec::new();
    let mut cursor = text.find('[')? + 1;
    for value in values {
        let encoded = serde_json::to_string(&value).ok()?;
        let at = cursor + text[cursor..].find(&encoded)?;
        let verbatim = (encoded.len() == value.len() + 2).then_some((at + 1, at + 1 + value.len()));
        out.push(ShellToken {
            text: value,
            verbatim,
            raw: (at, at + encoded.len()),
            operator: false,
        });
        cursor = at + encoded.len();
    }
    Some(out)
}

/// A requirement argument of a pip command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipArgument {
    /// The token.
    pub token: ShellToken,
    /// Index options given on the same command (`-i`, `--extra-index-url`, ...).
    pub index: IndexOptions,
}

/// Options of `pip install`/`wheel`/`download` (and `uv pip install`) that take a value.
const VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--src",
    "--upgrade-strategy",
    "--python-version",
    "--platform",
    "--implementation",
    "--abi",
    "--progress-bar",
    "--report",
    "-w",
    "--wheel-dir",
    "-d",
    "--dest",
    "--no-binary",
    "--only-binary",
    "--config-settings",
    "-C",
    "--global-option",
    "--trusted-host",
    "--cache-dir",
    "--log",
    "--proxy",
    "--timeout",
    "--retries",
    "--cert",
    "--client-cert",
    "--exists-action",
    "--python",
    "-p",
    "--index-strategy",
    "--keyring-provider",
    "--resolution",
    "--prerelease",
    "--build-constraint",
    "-b",
    "--extra",
    "--override",
    "--exclude-newer",
    "--python-platform",
    "--default-index",
    "--index",
];

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn is_pip(word: &str) -> bool {
    let b = basename(word);
    b == "pip" || (b.starts_with("pip") && b[3..].chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn is_python(word: &str) -> bool {
    let b = basename(word);
    b == "python"
        || (b.starts_with("python") && b[6..].chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The simple commands of `tokens`: split at operators and at the words `}` and `)` that end
/// a group, with `VAR=value` prefixes, wrappers and reserved words that open a group or a
/// clause (`{`, `then`, `do`, ...) left out.
fn commands(tokens: &[ShellToken]) -> Vec<&[ShellToken]> {
    tokens
        .split(|t| t.operator || t.text == "}")
        .map(|command| {
            let mut i = 0;
            while i < command.len() {
                let w = command[i].text.as_str();
                let prefix = (w.contains('=') && !w.starts_with('-'))
                    || matches!(
                        w,
                        "sudo"
                            | "exec"
                            | "command"
                            | "env"
                            | "{"
                            | "!"
                            | "then"
                            | "do"
                            | "else"
                            | "time"
                            | "nohup"
                    );
                if !prefix {
                    break;
                }
                i += 1;
            }
            &command[i..]
        })
        .collect()
}

/// The requirements files of every `pip install -r`/`-c`, `uv pip install -r`, `pip-sync` and
/// `uv pip sync` among `tokens`, as written.
pub fn installed_files(tokens: &[ShellToken]) -> Vec<String> {
    let mut out = Vec::new();
    for command in commands(tokens) {
        let words: Vec<&str> = command.iter().map(|t| t.text.as_str()).collect();
        let sync = match words.as_slice() {
            [first, ..] if basename(first) == "pip-sync" => Some(1),
            [first, "pip", "sync", ..] if basename(first) == "uv" => Some(3),
            _ => None,
        };
        if let Some(start) = sync {
            out.extend(
                words[start..]
                    .iter()
                    .filter(|w| !w.starts_with('-'))
                    .map(|w| (*w).to_owned()),
            );
            continue;
        }
        let Some(j) = subcommand(&words) else {
            continue;
        };
        let mut k = j + 1;
        while k < words.len() {
            let word = words[k];
            let attached = ["-r", "--requirement", "-c", "--constraint"]
                .iter()
                .find_map(|o| word.strip_prefix(o).and_then(|v| v.strip_prefix('=')));
            if let Some(v) = attached {
                out.push(v.to_owned());
            } else if matches!(word, "-r" | "--requirement" | "-c" | "--constraint") {
                if let Some(v) = words.get(k + 1) {
                    out.push((*v).to_owned());
                }
                k += 1;
            } else if let Some(v) = word.strip_prefix("-r").filter(|v| !v.is_empty()) {
                out.push(v.to_owned());
            }
            k += 1;
        }
    }
    out
}

/// The index of the `install`/`wheel`/`download` subcommand of a pip command, or `None` when
/// `words` is not one.
fn subcommand(words: &[&str]) -> Option<usize> {
    let i = 0;
    let program_end = if i < words.len() && is_pip(words[i]) {
        i + 1
    } else if i < words.len() && is_python(words[i]) {
        // python [-X opts] -m pip
        let mut j = i + 1;
        while j < words.len()
            && words[j].starts_with('-')
            && words[j] != "-m"
            && words[j] != "-mpip"
        {
            j += 1;
        }
        match (words.get(j), words.get(j + 1)) {
            (Some(&"-m"), Some(&"pip")) => j + 2,
            (Some(&"-mpip"), _) => j + 1,
            _ => return None,
        }
    } else if i + 1 < words.len() && basename(words[i]) == "uv" && words[i + 1] == "pip" {
        i + 2
    } else {
        return None;
    };
    // Global options may come before the subcommand.
    let mut j = program_end;
    while j < words.len() && words[j].starts_with('-') {
        j += if VALUE_OPTIONS.contains(&words[j]) {
            2
        } else {
            1
        };
    }
    matches!(words.get(j), Some(&"install" | &"wheel" | &"download")).then_some(j)
}

/// Find the requirement arguments of every pip command among `tokens`.
pub fn pip_requirements(tokens: &[ShellToken]) -> Vec<PipArgument> {
    let mut out = Vec::new();
    for command in commands(tokens) {
        let words: Vec<&str> = command.iter().map(|t| t.text.as_str()).collect();
        let Some(j) = subcommand(&words) else {
            continue;
        };
        let mut index = IndexOptions::default();
        let mut requirements = Vec::new();
        let mut k = j + 1;
        while k < words.len() {
            let word = words[k];
            if word.starts_with('-') && word.len() > 1 {
                let (name, attached) = match word.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (word, None),
                };
                let takes_value = VALUE_OPTIONS.contains(&name);
                let value = if takes_value && attached.is_none() {
                    k += 1;
                    words.get(k).map(|v| (*v).to_owned())
                } else {
                    attached
                };
                match (name, value) {
                    ("-i" | "--index-url" | "--default-index", Some(v)) => {
                        index.index_url = Some(v);
                    }
                    ("--extra-index-url" | "--index", Some(v)) => index.extra_index_urls.push(v),
                    ("-f" | "--find-links", Some(v)) => index.find_links.push(v),
                    ("--trusted-host", Some(v)) => index.trusted_hosts.push(v),
                    ("--no-index", _) => index.no_index = true,
                    ("--pre", _) => index.pre = true,
                    _ => {}
                }
                k += 1;
                continue;
            }
            requirements.push(command[k].clone());
            k += 1;
        }
        out.extend(requirements.into_iter().map(|token| PipArgument {
            token,
            index: index.clone(),
        }));
    }
    out
}

/// Where a token's verbatim value is in the file, if it sits in one place.
pub fn token_file_span(args: &Mapped, token: &ShellToken) -> Option<crate::text::Span> {
    let (start, end) = token.verbatim?;
    args.file_span(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirements(text: &str) -> Vec<String> {
        pip_requirements(&shell_tokens(text))
            .into_iter()
            .map(|a| a.token.text)
            .collect()
    }

    #[test]
    fn finds_requirements_in_every_spelling() {
        assert_eq!(
            requirements(
                r#"pip install --no-cache-dir --upgrade "pip==24.0" 'setuptools==69.2.0' wheel"#
            ),
            vec!["pip==24.0", "setuptools==69.2.0", "wheel"]
        );
        assert_eq!(
            requirements("apt-get update && python3 -m pip install -U flask==3.1.0; echo done"),
            vec!["flask==3.1.0"]
        );
        assert_eq!(
            requirements("/usr/local/bin/pip3.12 install -r requirements.txt gunicorn==23.0.0"),
            vec!["gunicorn==23.0.0"]
        );
        assert_eq!(
            requirements("uv pip install --system -i https://x/simple psycopg[binary]"),
            vec!["psycopg[binary]"]
        );
        assert_eq!(
            requirements("pip wheel --wheel-dir /w minio==7.2.20 \"psycopg[c]\" -r r.txt"),
            vec!["minio==7.2.20", "psycopg[c]"]
        );
        assert_eq!(
            requirements("PIP_NO_CACHE=1 pip -q install x==1"),
            vec!["x==1"]
        );
        assert!(requirements("pip freeze > r.txt && pip list").is_empty());
        assert!(requirements("echo pip install x==1").is_empty());
        // The shell reads a `#` at the start of a word as a comment to the end of the line.
        assert_eq!(
            requirements("pip install flask==3.1.0 # not gunicorn==1\npip install x#y==1"),
            vec!["flask==3.1.0", "x#y==1"]
        );
        // Quoted digits are a word, not the file descriptor of a redirection.
        assert_eq!(requirements("pip install \"2\">log"), vec!["2"]);
    }

    #[test]
    fn index_options_travel_with_the_command() {
        let args = pip_requirements(&shell_tokens(
            "pip install -i https://a/simple --extra-index-url=https://b/simple x==1",
        ));
        assert_eq!(args[0].index.index_url.as_deref(), Some("https://a/simple"));
        assert_eq!(args[0].index.extra_index_urls, vec!["https://b/simple"]);
    }

    #[test]
    fn verbatim_ranges_point_inside_quotes() {
        let text = r#"pip install "flask==3.1.0" req\ uests"#;
        let tokens = shell_tokens(text);
        let (s, e) = tokens[2].verbatim.unwrap();
        assert_eq!(&text[s..e], "flask==3.1.0");
        assert_eq!(tokens[3].text, "req uests");
        assert_eq!(tokens[3].verbatim, None);
    }

    #[test]
    fn reads_exec_form() {
        let text = r#" ["pip", "install", "flask==3.1.0"]"#;
        let tokens = exec_tokens(text).unwrap();
        assert_eq!(pip_requirements(&tokens).len(), 1);
        let (s, e) = tokens[2].verbatim.unwrap();
        assert_eq!(&text[s..e], "flask==3.1.0");
        assert!(exec_tokens("pip install x").is_none());
    }

    /// Issue 10, item 3: the exec form is read with `serde_json`, whose default recursion limit
    /// (128; repin does not enable `unbounded_depth`) makes a deep array an error, not a stack
    /// overflow, even on a small stack.
    #[test]
    fn deeply_nested_exec_forms_are_not_read() {
        let deep = 100_000;
        let text = format!("{}\"pip\"{}", "[".repeat(deep), "]".repeat(deep));
        let tokens = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                // Any JSON a future manifest kind reads (Pipfile.lock) goes through the same
                // limit: a value of any shape, not only this array of strings.
                let value = serde_json::from_str::<serde_json::Value>(&text).map(|_| ());
                (
                    exec_tokens(&text).map(|t| t.len()),
                    value.map_err(|e| e.to_string()),
                )
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert_eq!(tokens.0, None);
        let error = tokens.1.unwrap_err();
        assert!(error.contains("recursion limit exceeded"), "{error}");
    }
}

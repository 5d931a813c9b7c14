//! Text from outside made inert in GitHub Markdown.
//!
//! An index's yanked reason, an advisory's summary, a server's words quoted in an error and a
//! project's release-notes URL reach pull request bodies and the dashboard issue, which GitHub
//! renders and acts on as the bot: `@name` and `@org/team` notify people, `owner/repo#1` and an
//! issue's URL leave a reference in another repository, `[text](url)`, `![](url)` and HTML show
//! links and images under the bot's name. Whoever runs an index or an advisory service could
//! make every repository the bot serves ping or phish for them (Renovate breaks mentions in
//! release notes for the same reason). So such text goes through [`inline`] (or [`cell`]), and
//! a URL through [`link`].
//!
//! What [`inline`] keeps is code spans (backtick runs paired as CommonMark pairs them): in one,
//! nothing is markup, mention or reference, so repin's own messages keep their `` `name` ``.
//! Everything else has its Markdown punctuation backslash-escaped, and a zero-width space
//! (U+200B) breaks each `@` and `#` from the name or number after it, and each
//! `://` and `www.` that GitHub would make a link: it reads the same and does nothing.

/// A zero-width space: invisible, but it breaks a mention, a reference or an autolink.
const BREAK: char = '\u{200B}';

/// The most characters of one text shown, then `…`: a yanked reason or a summary is a sentence,
/// and a hostile one of megabytes would make the issue or pull request too long for GitHub.
const MAX_CHARS: usize = 500;

/// `text` as one line of inert Markdown (see the module's documentation): its first 500
/// characters (then `…`), line breaks and other control characters made spaces, code spans
/// kept, and the rest rendered as written without links, images, HTML, emphasis, mentions or
/// references.
pub fn inline(text: &str) -> String {
    let long = text.chars().nth(MAX_CHARS).is_some();
    let mut line: Vec<char> = text
        .chars()
        .take(MAX_CHARS)
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect();
    if long {
        line.push('…');
    }
    let mut out = String::with_capacity(line.len() * 2);
    let mut i = 0;
    while i < line.len() {
        if line[i] == '`' {
            let run = run_at(&line, i);
            // A run closes a code span only when a later run has the very same length.
            match closing(&line, i + run, run) {
                Some(end) => {
                    out.extend(&line[i..end + run]);
                    i = end + run;
                }
                None => {
                    for _ in 0..run {
                        out.push_str("\\`");
                    }
                    i += run;
                }
            }
            continue;
        }
        let c = line[i];
        match c {
            '@' => {
                out.push('@');
                out.push(BREAK);
            }
            '#' => {
                out.push_str("\\#");
                out.push(BREAK);
            }
            ':' if follows(&line, i + 1, "//") => {
                out.push(':');
                out.push(BREAK);
            }
            '.' if i >= 3 && line[i - 3..i].iter().all(|w| w.eq_ignore_ascii_case(&'w')) => {
                out.push(BREAK);
                out.push('.');
            }
            '\\' | '*' | '_' | '[' | ']' | '(' | ')' | '<' | '>' | '!' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// [`inline`] for a table cell: a `|` inside a code span is escaped too (GitHub's tables split
/// cells at it even there, and render `\|` in a code span of a cell as `|`).
pub fn cell(text: &str) -> String {
    let inert = inline(text);
    let mut out = String::with_capacity(inert.len());
    let mut escaped = false;
    for c in inert.chars() {
        if c == '|' && !escaped {
            out.push('\\');
        }
        escaped = c == '\\' && !escaped;
        out.push(c);
    }
    out
}

/// `url` as a Markdown autolink (`<https://…>`) when it is an `https` URL without user or
/// password; `None` otherwise (then no link is shown).
pub fn link(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    if parsed.scheme() != "https"
        || parsed.host_str().is_none()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return None;
    }
    // The serialisation percent-encodes spaces, controls and angle brackets in every part, so
    // nothing in it ends the autolink early; checked all the same.
    let text = parsed.as_str();
    (!text.contains(['<', '>', ' '])).then(|| format!("<{text}>"))
}

/// The length of the backtick run that starts at `start`.
fn run_at(line: &[char], start: usize) -> usize {
    line[start..].iter().take_while(|&&c| c == '`').count()
}

/// Where the run of exactly `run` backticks that closes a code span opened before `from`
/// starts, if there is one.
fn closing(line: &[char], from: usize, run: usize) -> Option<usize> {
    let mut i = from;
    while i < line.len() {
        if line[i] == '`' {
            let length = run_at(line, i);
            if length == run {
                return Some(i);
            }
            i += length;
        } else {
            i += 1;
        }
    }
    None
}

/// Whether `line` has `text` at `at`.
fn follows(line: &[char], at: usize, text: &str) -> bool {
    let wanted: Vec<char> = text.chars().collect();
    line.get(at..at + wanted.len()) == Some(&wanted[..])
}

#[cfg(test)]
mod tests;

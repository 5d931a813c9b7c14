use super::*;

/// Text a hostile index, advisory service or server could send: mentions, references, links,
/// images, HTML, emphasis, entities, line breaks and backticks that try to leave a code span.
const HOSTILE: &[&str] = &[
    "@everyone please update",
    "ping @org/security-team now",
    "see owner/repo#12, #34 and GH-5",
    "[click here](https://evil.example/phish)",
    "![x](https://tracker.example/p.gif)",
    "<img src=x onerror=alert(1)> <b>bold</b>",
    "<!-- repin:open repin/x -->",
    "**bold** _em_ ~~del~~ *star*",
    "https://github.com/owner/repo/issues/1 and www.example.com",
    "mail a@b.example",
    "x` @everyone [a](https://e.example) `y",
    "`code` with `@mention` inside",
    "``double ` tick`` then @x",
    "unbalanced ` tick @x [a](https://e.example)",
    "&#64;everyone &amp; &lt;b&gt;",
    "line\nbreak\r- [x] <!-- repin:open repin/x -->\u{2028}@y",
    "\\[escaped\\] and a trailing backslash \\",
    "Ünïcödé — ok #",
    "a | b | `c | d`",
];

/// The rendering of each Markdown text by GitHub's own cmark-gfm (PyPI `cmarkgfm`, with the
/// extensions GitHub uses and raw HTML let through, so that any would show).
fn github_html(markdown: &[String]) -> Vec<String> {
    let python = std::env::var("REPIN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import cmarkgfm, json, sys\n\
        opts = cmarkgfm.Options.CMARK_OPT_UNSAFE\n\
        print(json.dumps([cmarkgfm.github_flavored_markdown_to_html(t, options=opts) for t in json.load(sys.stdin)]))";
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{python} does not run ({e}): set REPIN_PYTHON to a Python 3.11+")
        });
    serde_json::to_writer(child.stdin.take().unwrap(), markdown).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "cmark-gfm did not render: {}\n  hint: `pip install cmarkgfm` into REPIN_PYTHON's environment (`scripts/test` installs scripts/python-requirements.txt)",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The HTML's tags, and its text with entities decoded.
fn tags_and_text(html: &str) -> (Vec<String>, String) {
    let mut tags = Vec::new();
    let mut text = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let end = rest[start..]
            .find('>')
            .map_or(rest.len(), |e| start + e + 1);
        tags.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    text.push_str(rest);
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    (tags, text)
}

/// What GitHub would act on in text outside code: `@` before a name, `#` before a number, an
/// address it links.
fn actionable(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        if c == '@' && next.is_alphanumeric() {
            return Some(format!("a mention at {i}: {text}"));
        }
        if c == '#' && next.is_ascii_digit() {
            return Some(format!("a reference at {i}: {text}"));
        }
    }
    (text.contains("://") || text.to_ascii_lowercase().contains("www."))
        .then(|| format!("an address: {text}"))
}

/// The oracle: GitHub's renderer turns each hostile text, made inline, into one paragraph of
/// the same words (spaces aside), with no tag but code and no mention, reference or address
/// outside code; and each made a cell into exactly one cell of a table row.
#[test]
fn github_renders_inert_text_as_written_and_nothing_else() {
    let inline: Vec<String> = HOSTILE.iter().map(|t| inline(t)).collect();
    for ((hostile, markdown), html) in HOSTILE.iter().zip(&inline).zip(github_html(&inline)) {
        let (tags, text) = tags_and_text(&html);
        let allowed = ["<p>", "</p>", "<code>", "</code>"];
        assert!(
            tags.iter().all(|t| allowed.contains(&t.as_str())),
            "{hostile:?} -> {markdown:?} -> {html}"
        );
        // The words, without the zero-width spaces (which a reader does not see) and backticks
        // (a code span's delimiters are not shown).
        let words = |s: &str| {
            s.replace([BREAK, '`'], "")
                .split_whitespace()
                .collect::<String>()
        };
        assert_eq!(words(&text), words(hostile), "{markdown:?} -> {html}");
        let mut outside = String::new();
        for (i, part) in html.split("<code>").enumerate() {
            outside.push_str(if i == 0 {
                part
            } else {
                part.split_once("</code>").map_or("", |(_, after)| after)
            });
        }
        let (_, outside) = tags_and_text(&outside);
        assert_eq!(
            actionable(&outside),
            None,
            "{hostile:?} -> {markdown:?} -> {html}"
        );
    }

    let rows: Vec<String> = HOSTILE
        .iter()
        .map(|t| format!("| a | b |\n|---|---|\n| x | {} |\n", cell(t)))
        .collect();
    for ((hostile, row), html) in HOSTILE.iter().zip(&rows).zip(github_html(&rows)) {
        let cells = html.matches("<td>").count() + html.matches("<td ").count();
        assert_eq!(cells, 2, "{hostile:?} -> {row:?} -> {html}");
    }
}

#[test]
fn inline_keeps_code_spans_and_plain_words_as_they_are() {
    assert_eq!(
        inline("Cannot look up `flask` in `requirements.txt`"),
        "Cannot look up `flask` in `requirements.txt`"
    );
    assert_eq!(
        inline("Yanked for CVE-2024-1 (see notes)"),
        "Yanked for CVE-2024-1 \\(see notes\\)"
    );
    assert_eq!(inline("@a #1 x#2"), "@\u{200B}a \\#\u{200B}1 x\\#\u{200B}2");
    assert_eq!(inline("https://x.example"), "https:\u{200B}//x.example");
    assert_eq!(inline("a ` b"), "a \\` b");
    assert_eq!(inline("two\nlines"), "two lines");
    assert_eq!(cell("`a|b` | c"), "`a\\|b` \\| c");
}

/// A text of megabytes (here a million backtick runs of growing length that never pair, the
/// worst case of the pairing) is cut to its first 500 characters before anything else.
#[test]
fn a_long_text_is_cut_first() {
    let mut hostile = String::new();
    let mut run = 1;
    while hostile.len() < 4 << 20 {
        hostile.push_str(&"`".repeat(run));
        hostile.push('a');
        run += 1;
    }
    let shown = inline(&hostile);
    assert!(shown.ends_with('…'), "{shown}");
    assert_eq!(shown.replace("\\`", "`").chars().count(), 501, "{shown}");
    assert_eq!(inline(&"x".repeat(500)), "x".repeat(500));
}

#[test]
fn link_takes_https_urls_without_credentials_only() {
    assert_eq!(
        link("https://flask.palletsprojects.com/changes/").as_deref(),
        Some("<https://flask.palletsprojects.com/changes/>")
    );
    assert_eq!(
        link("https://x.example/a b<c>?q=<d>").as_deref(),
        Some("<https://x.example/a%20b%3Cc%3E?q=%3Cd%3E>")
    );
    assert_eq!(link("http://x.example/"), None);
    assert_eq!(link("javascript:alert(1)"), None);
    assert_eq!(link("https://user:secret@x.example/"), None);
    assert_eq!(link("not a url"), None);
}

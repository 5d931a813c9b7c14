//! PEP 503 HTML project pages: one `<a>` per file, with the PEP 503/592/658/714 data attributes.
//!
//! The page is read by a small lenient scanner rather than an HTML5 parser: a simple-API page
//! is a flat list of anchors, and a full parser (html5ever and friends) would add a dozen
//! crates to read `href` and four attributes. The scanner knows just enough HTML to be right
//! on real pages: comments, `<script>`/`<style>` bodies, quoted, unquoted and bare attributes,
//! character references (`&gt;=3.8`), `<base href>`, and the PEP 629
//! `<meta name="pypi:repository-version">`. It never panics: anything malformed ends the tag
//! or the page, and what was read so far is kept.

use std::borrow::Cow;

use url::Url;

use super::error::PypiError;
use super::model::{
    CoreMetadata, DistFile, FileSink, Page, RequiresPythonCache, check_api_version, clean_hashes,
};

/// Hash algorithms accepted in an `href` fragment (`#sha256=...`), as pip accepts them.
const FRAGMENT_HASHES: &[&str] = &["sha1", "sha224", "sha384", "sha256", "sha512", "md5"];

/// The most text of one anchor kept (its text only names a file whose URL ends in `/`).
const MAX_ANCHOR_TEXT: usize = 1024;

/// Parse an HTML project page fetched from `page_url` (the final URL, after redirects).
/// `name` is only used in errors.
pub fn parse(body: &[u8], page_url: &Url, name: &str) -> Result<Page, PypiError> {
    let mut page = Page::default();
    parse_into(body, page_url, name, &mut page)?;
    Ok(page)
}

/// [`parse`], sending each file to `sink` as soon as its anchor ends.
///
/// Two passes over the text: the first finds the page's `<base href>` and its declared API
/// version, which apply to every link wherever they stand; the second turns each anchor into a
/// file as soon as it ends, so no list of anchors is ever built.
pub fn parse_into(
    body: &[u8],
    page_url: &Url,
    name: &str,
    sink: &mut dyn FileSink,
) -> Result<(), PypiError> {
    let text = String::from_utf8_lossy(body);
    let mut base: Option<Url> = None;
    for tag in Scanner::new(&text) {
        let Item::Open {
            name: tag_name,
            attributes,
        } = tag
        else {
            continue;
        };
        match tag_name.as_str() {
            // The first `<base href>` counts, as in browsers and pip.
            "base" if base.is_none() => {
                base = attribute(&attributes, "href")
                    .and_then(|h| crate::vocab::web_link::resolve(page_url, h).ok());
            }
            "meta" => {
                let is_version = attribute(&attributes, "name")
                    .is_some_and(|n| n.eq_ignore_ascii_case("pypi:repository-version"));
                if let (true, Some(version)) = (is_version, attribute(&attributes, "content")) {
                    check_api_version(version, page_url, name)?;
                    sink.api_version(version.to_owned());
                }
            }
            _ => {}
        }
    }
    let base = base.as_ref().unwrap_or(page_url);
    let mut requires_python = RequiresPythonCache::default();
    let mut finish = |anchor: Anchor, sink: &mut dyn FileSink| {
        if let Some(file) = anchor.into_file(base, &mut requires_python, sink) {
            sink.file(file);
        }
    };
    let mut open: Option<Anchor> = None;
    for tag in Scanner::new(&text) {
        if sink.is_full() {
            return Ok(());
        }
        match tag {
            Item::Open {
                name: tag_name,
                attributes,
            } if tag_name == "a" => {
                if let Some(previous) = open.take() {
                    finish(previous, sink);
                }
                open = Some(Anchor {
                    attributes,
                    text: String::new(),
                });
            }
            Item::Close { name: tag_name } if tag_name == "a" => {
                if let Some(anchor) = open.take() {
                    finish(anchor, sink);
                }
            }
            Item::Text(t) => {
                if let Some(anchor) = open.as_mut() {
                    let room = MAX_ANCHOR_TEXT.saturating_sub(anchor.text.len());
                    anchor.text.extend(t.chars().take(room));
                }
            }
            _ => {}
        }
    }
    if let Some(anchor) = open.take() {
        finish(anchor, sink);
    }
    Ok(())
}

struct Anchor {
    attributes: Vec<(String, String)>,
    text: String,
}

impl Anchor {
    fn into_file(
        self,
        base: &Url,
        requires_python: &mut RequiresPythonCache,
        sink: &mut dyn FileSink,
    ) -> Option<DistFile> {
        let href = attribute(&self.attributes, "href")?.trim();
        let mut url = match crate::vocab::web_link::resolve(base, href) {
            Ok(url) => url,
            Err(e) => {
                sink.warning(format!(
                    "Skipped the link `{}`: {}",
                    crate::vocab::redact::text(href),
                    e.reason()
                ));
                return None;
            }
        };
        let mut hashes = Vec::new();
        if let Some(fragment) = url.fragment() {
            for pair in fragment.split('&') {
                if let Some((algo, hex)) = pair.split_once('=') {
                    if FRAGMENT_HASHES.contains(&algo.to_ascii_lowercase().as_str()) {
                        hashes.push((algo.to_owned(), hex.to_owned()));
                    }
                }
            }
        }
        url.set_fragment(None);
        // The file name is the URL's last segment, as pip takes it; the anchor text (which PEP
        // 503 says must be the same) is the fallback for a URL ending in `/`.
        let from_url = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .unwrap_or_default();
        let filename = if from_url.is_empty() {
            self.text.trim().to_owned()
        } else {
            from_url
        };
        if filename.is_empty() {
            return None;
        }
        let mut file = DistFile::new(filename, url);
        file.hashes = clean_hashes(hashes.iter().map(|(a, h)| (a.as_str(), h.as_str())));
        file.requires_python = requires_python.parse(
            attribute(&self.attributes, "data-requires-python"),
            &file.filename,
            sink,
        );
        if let Some(reason) = attribute(&self.attributes, "data-yanked") {
            file.yanked = true;
            let reason = crate::vocab::redact::plain_line(reason, super::MAX_YANKED_REASON);
            file.yanked_reason = (!reason.is_empty()).then_some(reason);
        }
        // PEP 714: `data-core-metadata` is the name; `data-dist-info-metadata` the old one.
        let metadata = attribute(&self.attributes, "data-core-metadata")
            .or_else(|| attribute(&self.attributes, "data-dist-info-metadata"));
        file.core_metadata = match metadata.map(str::trim) {
            None => CoreMetadata::Absent,
            Some(v) if v.eq_ignore_ascii_case("false") => CoreMetadata::Absent,
            Some(v) => CoreMetadata::Present {
                hashes: clean_hashes(v.split_once('=')),
            },
        };
        Some(file)
    }
}

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A piece of the page.
#[derive(Debug, PartialEq)]
enum Item<'a> {
    /// `<name attr=value ...>`, name lowercased, attribute names lowercased, values decoded.
    Open {
        name: String,
        attributes: Vec<(String, String)>,
    },
    /// `</name>`.
    Close { name: String },
    /// Text between tags, decoded (borrowed from the page when it has no references).
    Text(Cow<'a, str>),
}

/// Iterates over the tags and text of a page. Every index it slices at is the position of an
/// ASCII byte (or the end), so slicing never splits a UTF-8 character.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner { text, at: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    /// Move past the next `needle` (ASCII, case-insensitive), or to the end.
    fn skip_past(&mut self, needle: &str) {
        let rest = self.rest().as_bytes();
        let found = rest
            .windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()));
        self.at = match found {
            Some(p) => self.at + p + needle.len(),
            None => self.text.len(),
        };
    }

    fn tag(&mut self) -> Option<Item<'a>> {
        let rest = self.rest();
        if rest.starts_with("<!--") {
            self.skip_past("-->");
            return None;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            self.skip_past(">");
            return None;
        }
        let bytes = rest.as_bytes();
        let closing = bytes.get(1) == Some(&b'/');
        let name_start = if closing { 2 } else { 1 };
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 {
            // A `<` that starts no tag is text (`a < b`).
            self.at += 1;
            return Some(Item::Text(Cow::Borrowed("<")));
        }
        let name = rest[name_start..name_start + name_len].to_ascii_lowercase();
        self.at += name_start + name_len;
        if closing {
            self.skip_past(">");
            return Some(Item::Close { name });
        }
        let attributes = self.attributes();
        if name == "script" || name == "style" {
            // Their bodies are not HTML: an `<a` inside a script is no link.
            self.skip_past(&format!("</{name}"));
            self.skip_past(">");
        }
        Some(Item::Open { name, attributes })
    }

    /// Attributes up to and including the tag's `>` (or the end of the page).
    fn attributes(&mut self) -> Vec<(String, String)> {
        let mut attributes = Vec::new();
        let bytes = self.text.as_bytes();
        loop {
            while self.at < bytes.len()
                && (bytes[self.at].is_ascii_whitespace() || bytes[self.at] == b'/')
            {
                self.at += 1;
            }
            if self.at >= bytes.len() {
                return attributes;
            }
            if bytes[self.at] == b'>' {
                self.at += 1;
                return attributes;
            }
            let start = self.at;
            while self.at < bytes.len()
                && !bytes[self.at].is_ascii_whitespace()
                && !matches!(bytes[self.at], b'=' | b'>' | b'/')
            {
                self.at += 1;
            }
            if self.at == start {
                // A lone `=`: skip it, or this loop would not advance.
                self.at += 1;
                continue;
            }
            let name = self.text[start..self.at].to_ascii_lowercase();
            while self.at < bytes.len() && bytes[self.at].is_ascii_whitespace() {
                self.at += 1;
            }
            let mut value = String::new();
            if bytes.get(self.at) == Some(&b'=') {
                self.at += 1;
                while self.at < bytes.len() && bytes[self.at].is_ascii_whitespace() {
                    self.at += 1;
                }
                match bytes.get(self.at) {
                    Some(&quote @ (b'"' | b'\'')) => {
                        let value_start = self.at + 1;
                        let end = bytes[value_start..]
                            .iter()
                            .position(|b| *b == quote)
                            .map_or(bytes.len(), |p| value_start + p);
                        value = decode_entities(&self.text[value_start..end]).into_owned();
                        self.at = (end + 1).min(bytes.len());
                    }
                    _ => {
                        let value_start = self.at;
                        while self.at < bytes.len()
                            && !bytes[self.at].is_ascii_whitespace()
                            && bytes[self.at] != b'>'
                        {
                            self.at += 1;
                        }
                        value = decode_entities(&self.text[value_start..self.at]).into_owned();
                    }
                }
            }
            // HTML keeps the first of duplicated attributes.
            if !attributes.iter().any(|(n, _)| *n == name) {
                attributes.push((name, value));
            }
        }
    }
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        while self.at < self.text.len() {
            let rest = self.rest();
            if rest.starts_with('<') {
                if let Some(item) = self.tag() {
                    return Some(item);
                }
                continue;
            }
            let len = rest.find('<').unwrap_or(rest.len());
            self.at += len;
            return Some(Item::Text(decode_entities(&rest[..len])));
        }
        None
    }
}

/// Decode HTML character references: the named ones a simple-API page uses (with or without
/// the `;` the legacy forms may omit) and every numeric one. Unknown references stay as text.
pub fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    const NAMED: &[(&str, char)] = &[
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("nbsp", '\u{a0}'),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(numeric) = rest.strip_prefix('#') {
            let (digits, radix) = match numeric.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (numeric, 10),
            };
            let len = digits.chars().take_while(|c| c.is_digit(radix)).count();
            let decoded = u32::from_str_radix(&digits[..len], radix)
                .ok()
                .and_then(char::from_u32);
            if let Some(c) = decoded {
                out.push(c);
                let after = &digits[len..];
                rest = after.strip_prefix(';').unwrap_or(after);
                continue;
            }
        } else if let Some((name, c)) = NAMED.iter().find(|(name, _)| {
            // Compare bytes: slicing `rest` could split a character.
            rest.as_bytes()
                .get(..name.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(name.as_bytes()))
        }) {
            out.push(*c);
            let after = &rest[name.len()..];
            rest = after.strip_prefix(';').unwrap_or(after);
            continue;
        }
        out.push('&');
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_url() -> Url {
        Url::parse("https://pypi.example/simple/demo/").unwrap()
    }

    fn parse_ok(html: &str) -> Page {
        parse(html.as_bytes(), &page_url(), "demo").unwrap()
    }

    #[test]
    fn decodes_character_references() {
        let cases = [
            ("&gt;=3.8", ">=3.8"),
            ("&gt=3.8", ">=3.8"),
            ("&GT;=3.8", ">=3.8"),
            ("&#62;=3.8,&#x3C;4", ">=3.8,<4"),
            ("&#X3c;4", "<4"),
            ("a &amp;&amp; b", "a && b"),
            ("&quot;x&quot; &apos;y&apos;", "\"x\" 'y'"),
            ("&unknown; & &#; &#xZZ; &", "&unknown; & &#; &#xZZ; &"),
            ("&#1114112;", "&#1114112;"),
            ("plain", "plain"),
            ("é&amp;ü", "é&ü"),
            ("&ampé", "&é"),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_entities(input), expected, "{input}");
        }
    }

    #[test]
    fn reads_anchors_with_hashes_and_data_attributes() {
        let page = parse_ok(
            r#"<!DOCTYPE html>
<html><head><meta name="pypi:repository-version" content="1.1"><title>Links for demo</title></head>
<body>
<h1>Links for demo</h1>
<!-- <a href="commented-1.0.tar.gz">commented</a> -->
<a href="../../packages/demo-1.0.tar.gz#sha256=ABCDEF" data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a><br/>
<A HREF='https://user:s3cret@files.example/p/demo-1.0-py3-none-any.whl#md5=11&amp;sha256=22' DATA-YANKED>demo-1.0-py3-none-any.whl</A><br>
<a href=demo-2.0rc1.tar.gz data-yanked="Bad &quot;rc&quot;" data-core-metadata="sha256=beef" data-dist-info-metadata=true>demo-2.0rc1.tar.gz</a>
<a href="/root/demo-0.9.zip#egg=demo" data-dist-info-metadata="true">x</a>
<a href="demo%2B1.1.tar.gz" data-requires-python="&gt;=3.x">demo+1.1.tar.gz</a>
<a href="sub/" >demo-0.1.tar.gz</a>
<a>no href</a>
<script>var s = '<a href="script-1.0.tar.gz">';</script>
</body></html>"#,
        );
        assert_eq!(page.api_version.as_deref(), Some("1.1"));
        let names: Vec<&str> = page.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(
            names,
            [
                "demo-1.0.tar.gz",
                "demo-1.0-py3-none-any.whl",
                "demo-2.0rc1.tar.gz",
                "demo-0.9.zip",
                "demo+1.1.tar.gz",
                "demo-0.1.tar.gz"
            ]
        );
        let [sdist, wheel, rc, zip, plus, dir] = &page.files[..] else {
            unreachable!()
        };
        assert_eq!(
            sdist.url.as_str(),
            "https://pypi.example/packages/demo-1.0.tar.gz"
        );
        assert_eq!(sdist.sha256(), Some("abcdef"));
        assert_eq!(sdist.requires_python.as_ref().unwrap().to_string(), ">=3.8");
        assert!(!sdist.yanked);
        assert_eq!(sdist.core_metadata, CoreMetadata::Absent);

        assert_eq!(
            wheel.url.as_str(),
            "https://files.example/p/demo-1.0-py3-none-any.whl"
        );
        // Credentials in a link are dropped: nothing can print them.
        assert!(!format!("{page:?}").contains("s3cret"));
        assert_eq!(wheel.hashes.len(), 2);
        assert_eq!(wheel.sha256(), Some("22"));
        assert!(wheel.yanked && wheel.yanked_reason.is_none());

        assert_eq!(
            rc.url.as_str(),
            "https://pypi.example/simple/demo/demo-2.0rc1.tar.gz"
        );
        assert_eq!(rc.yanked_reason.as_deref(), Some("Bad \"rc\""));
        assert_eq!(
            rc.core_metadata,
            CoreMetadata::Present {
                hashes: [("sha256".to_owned(), "beef".to_owned())].into()
            }
        );

        assert_eq!(zip.url.as_str(), "https://pypi.example/root/demo-0.9.zip");
        assert!(zip.hashes.is_empty());
        assert_eq!(
            zip.core_metadata,
            CoreMetadata::Present {
                hashes: Default::default()
            }
        );

        assert!(plus.requires_python.is_none());
        assert_eq!(dir.url.as_str(), "https://pypi.example/simple/demo/sub/");
        assert_eq!(page.warnings.len(), 1, "{:?}", page.warnings);
    }

    #[test]
    fn base_href_changes_where_relative_links_point() {
        let page = parse_ok(
            r#"<html><head><base href="/mirror/"><base href="/ignored/"></head>
               <a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a></html>"#,
        );
        assert_eq!(
            page.files[0].url.as_str(),
            "https://pypi.example/mirror/demo-1.0.tar.gz"
        );
    }

    #[test]
    fn links_and_bases_to_other_schemes_than_http_are_passed_over() {
        // Found by the `simple_html` fuzz target: a `file:` base then `../..` tripped a debug
        // assertion of the `url` crate; such a URL is never built now.
        let page = parse_ok(
            "<base href=file:sF=&https://u:\u{0}\u{5}\u{0}\u{0}\u{1}>\n<a href=\"../..\">x</a>\n\
             <a href=\"FILE:///etc/passwd#sha256=aa\">demo-1.0.tar.gz</a>\n\
             <a href=\"demo-1.1.tar.gz\">demo-1.1.tar.gz</a>",
        );
        // The `file:` base is ignored: relative links resolve against the page.
        let urls: Vec<&str> = page.files.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://pypi.example/",
                "https://pypi.example/simple/demo/demo-1.1.tar.gz"
            ]
        );
        assert!(
            page.warnings.iter().any(|w| w
                == "Skipped the link `FILE:///etc/passwd#sha256=aa`: only http and https are followed, not `file:`"),
            "{:?}",
            page.warnings
        );
    }

    #[test]
    fn refuses_an_unknown_major_repository_version() {
        let error = parse(
            br#"<meta name="pypi:repository-version" content="2.0"><a href="x-1.tar.gz">x</a>"#,
            &page_url(),
            "demo",
        )
        .unwrap_err();
        assert!(
            matches!(error, PypiError::UnsupportedApiVersion { .. }),
            "{error}"
        );
    }

    #[test]
    fn malformed_html_never_panics_and_keeps_what_it_read() {
        let page =
            parse_ok(r#"<a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a><a href="demo-2.0.tar.gz"#);
        assert_eq!(page.files.len(), 2);
        assert_eq!(page.files[1].filename, "demo-2.0.tar.gz");
        let nasty = [
            "",
            "<",
            "<<<>>>",
            "<a",
            "<a href",
            "<a href=",
            "<a href='",
            "<a =x href=demo-1.tar.gz>",
            "</",
            "<!--",
            "<!doctype",
            "<script>",
            "<a href=\"é\u{1F600}\">ü</a>",
            "<a href=\"http://[::1\">bad</a>",
            "&#x",
            "&",
            "<a\u{0}href=1>",
            "<é>",
            "a < b > c",
        ];
        for html in nasty {
            let _ = parse(html.as_bytes(), &page_url(), "demo");
        }
        // Every prefix of a real page: truncated downloads must not panic either.
        let real = r#"<html><!-- c --><a href="../../p/demo-1.0.tar.gz#sha256=aa" data-yanked='x &amp; y' data-requires-python="&gt;=3">demo</a></html>"#;
        for end in 0..=real.len() {
            let _ = parse(&real.as_bytes()[..end], &page_url(), "demo");
        }
        let invalid_utf8 = b"<a href=\"demo-1.0.tar.gz\">\xff\xfe</a>";
        assert_eq!(
            parse(invalid_utf8, &page_url(), "demo")
                .unwrap()
                .files
                .len(),
            1
        );
        let lone_eq = parse_ok("<a =x href=demo-1.tar.gz>");
        assert_eq!(lone_eq.files[0].filename, "demo-1.tar.gz");
    }
}

//! PEP 691 JSON project pages (`application/vnd.pypi.simple.v1+json`), with the PEP 700 fields
//! (`versions`, `upload-time`, `size`) and PEP 714 `core-metadata`.
//!
//! The page is read as a stream: each entry of `files` becomes a [`DistFile`] and goes to a
//! [`FileSink`] before the next is read, with its strings borrowed from the body where it can,
//! so a page of a hundred thousand files never exists twice in memory.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use url::Url;

use super::error::PypiError;
use super::model::{
    CoreMetadata, DistFile, FileSink, Page, RequiresPythonCache, check_api_version, clean_hashes,
};
use crate::vocab::redact;

#[derive(Deserialize, Default)]
struct Meta {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

#[derive(Deserialize)]
struct JsonFile<'a> {
    #[serde(borrow)]
    filename: Cow<'a, str>,
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(default, borrow)]
    hashes: Pairs<'a>,
    #[serde(rename = "requires-python", default, borrow)]
    requires_python: Option<Cow<'a, str>>,
    #[serde(default)]
    yanked: Option<Flag>,
    #[serde(rename = "upload-time", default, borrow)]
    upload_time: Option<Cow<'a, str>>,
    #[serde(rename = "core-metadata", default)]
    core_metadata: Option<MetadataFlag>,
    /// The PEP 658 name, still sent by some indexes; PEP 714 prefers `core-metadata`.
    #[serde(rename = "dist-info-metadata", default)]
    dist_info_metadata: Option<MetadataFlag>,
    /// The misspelling PyPI's JSON shipped with for a while (next to `core-metadata`).
    #[serde(rename = "data-dist-info-metadata", default)]
    data_dist_info_metadata: Option<MetadataFlag>,
    #[serde(default)]
    size: Option<u64>,
}

/// A JSON object of strings, as pairs in document order (no map built per file).
#[derive(Default)]
struct Pairs<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for PairsVisitor<'a> {
            type Value = Pairs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Pairs<'a>, M::Error> {
                let mut pairs = Vec::new();
                while let Some((k, v)) = map.next_entry::<Cow<'de, str>, Cow<'de, str>>()? {
                    pairs.push((k, v));
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor(std::marker::PhantomData))
    }
}

/// `yanked`: `false`, `true`, or a reason string (which means yanked).
#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Reason(String),
}

/// `core-metadata`: `false`, `true`, or a dictionary of hashes (which means present).
#[derive(Deserialize)]
#[serde(untagged)]
enum MetadataFlag {
    Bool(bool),
    Hashes(BTreeMap<String, String>),
}

impl MetadataFlag {
    fn into_core_metadata(self) -> CoreMetadata {
        match self {
            MetadataFlag::Bool(false) => CoreMetadata::Absent,
            MetadataFlag::Bool(true) => CoreMetadata::Present {
                hashes: Default::default(),
            },
            MetadataFlag::Hashes(hashes) => CoreMetadata::Present {
                hashes: clean_hashes(hashes.iter().map(|(a, h)| (a.as_str(), h.as_str()))),
            },
        }
    }
}

/// Parse a JSON project page fetched from `page_url` (the final URL, after redirects: relative
/// file URLs are resolved against it). `name` is only used in errors.
pub fn parse(body: &[u8], page_url: &Url, name: &str) -> Result<Page, PypiError> {
    let mut page = Page::default();
    parse_into(body, page_url, name, &mut page)?;
    Ok(page)
}

/// [`parse`], sending each file to `sink` as soon as it is read.
pub fn parse_into(
    body: &[u8],
    page_url: &Url,
    name: &str,
    sink: &mut dyn FileSink,
) -> Result<(), PypiError> {
    let mut state = State {
        page_url,
        name,
        sink,
        requires_python: RequiresPythonCache::default(),
        failure: None,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let result = (&mut state)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    if let Some(failure) = state.failure {
        return Err(failure);
    }
    if state.sink.is_full() {
        return Ok(());
    }
    result.map_err(|source| PypiError::InvalidJson {
        name: name.to_owned(),
        url: redact::url(page_url),
        source,
    })
}

struct State<'a> {
    page_url: &'a Url,
    name: &'a str,
    sink: &'a mut dyn FileSink,
    requires_python: RequiresPythonCache,
    /// An error that is not the JSON's (an unsupported API version), stopping the parse.
    failure: Option<PypiError>,
}

impl State<'_> {
    fn file(&mut self, file: JsonFile<'_>) {
        let url = match crate::vocab::web_link::resolve(self.page_url, &file.url) {
            Ok(url) => url,
            Err(e) => {
                self.sink.warning(format!(
                    "Skipped `{}` at `{}`: {}",
                    file.filename,
                    redact::text(&file.url),
                    e.reason()
                ));
                return;
            }
        };
        let mut dist = DistFile::new(file.filename.into_owned(), url);
        dist.url.set_fragment(None);
        dist.hashes = clean_hashes(file.hashes.0.iter().map(|(a, h)| (&**a, &**h)));
        dist.requires_python =
            self.requires_python
                .parse(file.requires_python.as_deref(), &dist.filename, self.sink);
        match file.yanked {
            None | Some(Flag::Bool(false)) => {}
            Some(Flag::Bool(true)) => dist.yanked = true,
            Some(Flag::Reason(reason)) => {
                dist.yanked = true;
                let reason = crate::vocab::redact::plain_line(&reason, super::MAX_YANKED_REASON);
                dist.yanked_reason = (!reason.is_empty()).then_some(reason);
            }
        }
        if let Some(text) = file.upload_time {
            match text.parse() {
                Ok(time) => dist.upload_time = Some(time),
                Err(error) => self.sink.warning(format!(
                    "Ignored the invalid upload-time `{text}` of `{}`: {error}",
                    dist.filename
                )),
            }
        }
        dist.core_metadata = file
            .core_metadata
            .or(file.dist_info_metadata)
            .or(file.data_dist_info_metadata)
            .map(MetadataFlag::into_core_metadata)
            .unwrap_or_default();
        dist.size = file.size;
        self.sink.file(dist);
    }
}

impl<'de> DeserializeSeed<'de> for &mut State<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(DocumentVisitor(self))
    }
}

struct DocumentVisitor<'s, 'a>(&'s mut State<'a>);

impl<'de> Visitor<'de> for DocumentVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a simple-API project page object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        let state = self.0;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "meta" => {
                    let meta: Meta = map.next_value()?;
                    if let Some(version) = meta.api_version {
                        if let Err(error) = check_api_version(&version, state.page_url, state.name)
                        {
                            state.failure = Some(error);
                            return Err(de::Error::custom("unsupported API version"));
                        }
                        state.sink.api_version(version);
                    }
                }
                "files" => map.next_value_seed(FilesSeed(&mut *state))?,
                // PEP 700 (api-version 1.1+).
                "versions" => map.next_value_seed(VersionsSeed(&mut *state))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct FilesSeed<'s, 'a>(&'s mut State<'a>);

impl<'de> DeserializeSeed<'de> for FilesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FilesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of files")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(file) = seq.next_element::<JsonFile<'de>>()? {
            self.0.file(file);
            if self.0.sink.is_full() {
                return Err(de::Error::custom(FULL));
            }
        }
        Ok(())
    }
}

/// The error that stops a parse whose sink is full (not reported: the sink says why).
const FULL: &str = "the page lists more than repin reads";

/// `versions`: `null` or a list of strings, each sent on as it is read.
struct VersionsSeed<'s, 'a>(&'s mut State<'a>);

impl<'de> DeserializeSeed<'de> for VersionsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for VersionsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of versions")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(text) = seq.next_element::<Cow<'de, str>>()? {
            self.0.sink.version(&text);
            if self.0.sink.is_full() {
                return Err(de::Error::custom(FULL));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_url() -> Url {
        Url::parse("https://pypi.example/simple/demo/").unwrap()
    }

    fn parse_ok(json: &str) -> Page {
        parse(json.as_bytes(), &page_url(), "demo").unwrap()
    }

    #[test]
    fn reads_every_field_form() {
        let page = parse_ok(
            r#"{
              "meta": {"api-version": "1.1", "_last-serial": 7},
              "name": "demo",
              "versions": ["1.0", "2.0rc1", "weird-version"],
              "files": [
                {"filename": "demo-1.0.tar.gz", "url": "../../files/demo-1.0.tar.gz#sha256=ignored",
                 "hashes": {"SHA256": "ABCDEF", "md5": ""}, "requires-python": ">=3.8",
                 "yanked": false, "upload-time": "2024-03-01T10:20:30.123456Z",
                 "core-metadata": {"sha256": "0011"}, "dist-info-metadata": true, "size": 1234},
                {"filename": "demo-1.0-py3-none-any.whl", "url": "https://cdn.example/demo-1.0-py3-none-any.whl",
                 "hashes": {}, "yanked": true, "dist-info-metadata": {"sha256": "22"}},
                {"filename": "demo-2.0rc1.tar.gz", "url": "demo-2.0rc1.tar.gz",
                 "hashes": {"sha256": "99"}, "yanked": "Broken build", "core-metadata": false,
                 "requires-python": null, "upload-time": null},
                {"filename": "demo-0.1.tar.gz", "url": "/x", "hashes": {}, "yanked": "",
                 "core-metadata": true, "gpg-sig": false}
              ]
            }"#,
        );
        assert_eq!(page.api_version.as_deref(), Some("1.1"));
        assert_eq!(
            page.versions.as_deref(),
            Some(&["1.0".to_owned(), "2.0rc1".into(), "weird-version".into()][..])
        );
        assert!(page.warnings.is_empty(), "{:?}", page.warnings);
        let [sdist, wheel, rc, old] = &page.files[..] else {
            panic!("{:?}", page.files)
        };
        assert_eq!(
            sdist.url.as_str(),
            "https://pypi.example/files/demo-1.0.tar.gz"
        );
        assert_eq!(sdist.hashes.len(), 1);
        assert_eq!(sdist.sha256(), Some("abcdef"));
        assert_eq!(sdist.requires_python.as_ref().unwrap().to_string(), ">=3.8");
        assert!(!sdist.yanked);
        assert_eq!(
            sdist.upload_time.unwrap().to_string(),
            "2024-03-01T10:20:30.123456Z"
        );
        // `core-metadata` wins over the older `dist-info-metadata`.
        assert_eq!(
            sdist.core_metadata,
            CoreMetadata::Present {
                hashes: [("sha256".to_owned(), "0011".to_owned())].into()
            }
        );
        assert_eq!(sdist.size, Some(1234));

        assert_eq!(
            wheel.url.as_str(),
            "https://cdn.example/demo-1.0-py3-none-any.whl"
        );
        assert!(wheel.yanked && wheel.yanked_reason.is_none());
        assert!(wheel.hashes.is_empty());
        assert_eq!(
            wheel.core_metadata,
            CoreMetadata::Present {
                hashes: [("sha256".to_owned(), "22".to_owned())].into()
            }
        );
        assert!(wheel.requires_python.is_none() && wheel.upload_time.is_none());
        assert!(wheel.size.is_none());

        assert_eq!(
            rc.url.as_str(),
            "https://pypi.example/simple/demo/demo-2.0rc1.tar.gz"
        );
        assert!(rc.yanked);
        assert_eq!(rc.yanked_reason.as_deref(), Some("Broken build"));
        assert_eq!(rc.core_metadata, CoreMetadata::Absent);

        assert!(old.yanked && old.yanked_reason.is_none());
        assert_eq!(
            old.core_metadata,
            CoreMetadata::Present {
                hashes: Default::default()
            }
        );
        assert_eq!(old.url.as_str(), "https://pypi.example/x");
    }

    #[test]
    fn missing_optional_fields_and_meta_are_fine() {
        let page = parse_ok(r#"{"files": [{"filename": "demo-1.0.zip", "url": "demo-1.0.zip"}]}"#);
        assert!(page.api_version.is_none() && page.versions.is_none());
        let file = &page.files[0];
        assert!(file.hashes.is_empty() && !file.yanked && file.size.is_none());
        assert_eq!(file.core_metadata, CoreMetadata::Absent);
        assert!(
            parse_ok(r#"{"meta": {"api-version": "1.0"}}"#)
                .files
                .is_empty()
        );
    }

    #[test]
    fn pypis_data_dist_info_metadata_spelling_is_understood() {
        let page = parse_ok(
            r#"{"files": [{"filename": "demo-1.0.zip", "url": "demo-1.0.zip",
                "data-dist-info-metadata": {"sha256": "77"}, "provenance": null}]}"#,
        );
        assert_eq!(
            page.files[0].core_metadata,
            CoreMetadata::Present {
                hashes: [("sha256".to_owned(), "77".to_owned())].into()
            }
        );
    }

    #[test]
    fn bad_values_become_warnings_not_errors() {
        let page = parse_ok(
            r#"{"meta": {"api-version": "1.3"}, "files": [
              {"filename": "a-1.tar.gz", "url": "a-1.tar.gz", "requires-python": ">=3.x",
               "upload-time": "yesterday"},
              {"filename": "a-2.tar.gz", "url": "http://[::1/bad"}
            ]}"#,
        );
        assert_eq!(page.files.len(), 1);
        assert_eq!(page.warnings.len(), 3, "{:?}", page.warnings);
        assert!(page.warnings[0].starts_with("Ignored the invalid requires-python `>=3.x`"));
        assert!(page.warnings[1].starts_with("Ignored the invalid upload-time `yesterday`"));
        assert!(page.warnings[2].starts_with("Skipped `a-2.tar.gz`"));
    }

    #[test]
    fn truncated_wrong_typed_and_future_pages_are_clear_errors() {
        let truncated = parse(
            br#"{"meta": {"api-version": "1.1"}, "files": [{"filen"#,
            &page_url(),
            "demo",
        )
        .unwrap_err();
        assert!(matches!(truncated, PypiError::InvalidJson { .. }));
        assert_eq!(
            truncated.to_string(),
            "The index page for `demo` at https://pypi.example/simple/demo/ is not valid simple-API JSON"
        );
        let cause = std::error::Error::source(&truncated).unwrap().to_string();
        assert!(cause.contains("EOF while parsing"), "{cause}");

        let wrong = parse(
            br#"{"files": [{"filename": 3, "url": "x"}]}"#,
            &page_url(),
            "demo",
        );
        assert!(matches!(wrong, Err(PypiError::InvalidJson { .. })));
        let yanked_number = parse(
            br#"{"files": [{"filename": "a", "url": "x", "yanked": 1}]}"#,
            &page_url(),
            "demo",
        );
        assert!(matches!(yanked_number, Err(PypiError::InvalidJson { .. })));
        assert!(matches!(
            parse(b"<html></html>", &page_url(), "demo"),
            Err(PypiError::InvalidJson { .. })
        ));

        let future = parse(
            br#"{"meta": {"api-version": "2.0"}, "files": []}"#,
            &page_url(),
            "demo",
        )
        .unwrap_err();
        assert!(
            future
                .to_string()
                .ends_with("uses simple API version 2.0, which repin does not support"),
            "{future}"
        );
    }
}

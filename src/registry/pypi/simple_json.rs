//! PEP 691 JSON project pages (`application/vnd.pypi.simple.v1+json`), with the PEP 700 fields
//! (`versions`, `upload-time`, `size`) and PEP 714 `core-metadata`.

use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

use super::error::PypiError;
use super::model::{
    CoreMetadata, DistFile, Page, check_api_version, clean_hashes, parse_requires_python,
};
use crate::registry::http::redact;

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    meta: Meta,
    #[serde(default)]
    files: Vec<JsonFile>,
    /// PEP 700 (api-version 1.1+).
    #[serde(default)]
    versions: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct Meta {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    #[serde(rename = "requires-python", default)]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: Option<Flag>,
    #[serde(rename = "upload-time", default)]
    upload_time: Option<String>,
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
                hashes: BTreeMap::new(),
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
    let document: Document =
        serde_json::from_slice(body).map_err(|source| PypiError::InvalidJson {
            name: name.to_owned(),
            url: redact::url(page_url),
            source,
        })?;
    if let Some(version) = &document.meta.api_version {
        check_api_version(version, page_url, name)?;
    }
    let mut page = Page {
        versions: document.versions,
        api_version: document.meta.api_version,
        ..Page::default()
    };
    for file in document.files {
        let Ok(url) = page_url.join(&file.url) else {
            page.warnings.push(format!(
                "Skipped `{}`: its URL `{}` is not valid",
                file.filename,
                redact::text(&file.url)
            ));
            continue;
        };
        let mut dist = DistFile::new(file.filename, url);
        dist.url.set_fragment(None);
        dist.hashes = clean_hashes(file.hashes.iter().map(|(a, h)| (a.as_str(), h.as_str())));
        dist.requires_python = parse_requires_python(
            file.requires_python.as_deref(),
            &dist.filename,
            &mut page.warnings,
        );
        match file.yanked {
            None | Some(Flag::Bool(false)) => {}
            Some(Flag::Bool(true)) => dist.yanked = true,
            Some(Flag::Reason(reason)) => {
                dist.yanked = true;
                let reason = reason.trim();
                dist.yanked_reason = (!reason.is_empty()).then(|| reason.to_owned());
            }
        }
        if let Some(text) = file.upload_time {
            match text.parse() {
                Ok(time) => dist.upload_time = Some(time),
                Err(error) => page.warnings.push(format!(
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
        page.files.push(dist);
    }
    Ok(page)
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
                hashes: BTreeMap::new()
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

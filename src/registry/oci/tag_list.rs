//! Tag-list pages (`GET /v2/<name>/tags/list`), read tag by tag into a list with a bound: a
//! hostile registry's page of millions of one-letter tags never becomes millions of strings.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The most tags a repository may have across its pages (Docker Hub's `python` has about
/// ten thousand).
pub const MAX_TAGS: usize = 100_000;

/// The largest tag-list page read, in bytes (a page of a thousand tags is about 20 kB).
pub const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TagPageError {
    /// Not JSON of the documented shape.
    #[error("the tag list is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// Not UTF-8, which JSON must be (RFC 8259, 8.1).
    #[error("the tag list is not UTF-8: {0}")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// More tags than [`MAX_TAGS`].
    #[error("the repository lists more than {MAX_TAGS} tags, more than repin reads")]
    TooMany,
}

/// Add the `tags` of one page (`{"name": ..., "tags": [...]}`, `tags` may be `null`) to `into`.
///
/// The whole page must be JSON, UTF-8 included: `serde_json` checks the UTF-8 of the strings it
/// keeps, not of those it skips (`name`, unknown keys), so a page with a broken `name` was read
/// while any JSON parser refuses it. A registry that sends such a page is broken or hostile; its
/// tags are not trusted.
pub fn read_page(body: &[u8], into: &mut Vec<String>) -> Result<(), TagPageError> {
    let body = std::str::from_utf8(body).map_err(TagPageError::NotUtf8)?;
    let mut full = false;
    let mut deserializer = serde_json::Deserializer::from_str(body);
    let result = PageSeed {
        into: &mut *into,
        full: &mut full,
    }
    .deserialize(&mut deserializer)
    .and_then(|()| deserializer.end());
    if full {
        return Err(TagPageError::TooMany);
    }
    result.map_err(TagPageError::Json)
}

struct PageSeed<'a> {
    into: &'a mut Vec<String>,
    full: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a tag list object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "tags" {
                map.next_value_seed(TagsSeed {
                    into: &mut *self.into,
                    full: &mut *self.full,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct TagsSeed<'a> {
    into: &'a mut Vec<String>,
    full: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for TagsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for TagsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of tags")
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
        while let Some(tag) = seq.next_element::<Cow<'de, str>>()? {
            if self.into.len() >= MAX_TAGS {
                *self.full = true;
                return Err(de::Error::custom("too many tags"));
            }
            self.into.push(tag.into_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags_and_stops_at_the_limit() {
        let mut tags = Vec::new();
        read_page(
            br#"{"name":"library/python","tags":["3.12","3.13"]}"#,
            &mut tags,
        )
        .unwrap();
        read_page(br#"{"name":"library/python","tags":null}"#, &mut tags).unwrap();
        read_page(br#"{"name":"x"}"#, &mut tags).unwrap();
        assert_eq!(tags, ["3.12", "3.13"]);
        assert!(matches!(
            read_page(br#"{"tags":["1""#, &mut tags),
            Err(TagPageError::Json(_))
        ));
        let many = format!(r#"{{"tags":[{}]}}"#, vec!["\"a\""; MAX_TAGS].join(","));
        let mut tags = vec!["first".to_owned()];
        let error = read_page(many.as_bytes(), &mut tags).unwrap_err();
        assert!(matches!(error, TagPageError::TooMany), "{error}");
        assert_eq!(tags.len(), MAX_TAGS);
    }

    #[test]
    fn a_page_that_is_not_utf8_is_refused_whole() {
        // Found by the `tag_list` fuzz target: invalid UTF-8 in `name`, which no tag needs.
        let mut tags = Vec::new();
        let error = read_page(
            b"{\"name\":\"lib\xc3ary/python\",\"tags\":[\"3.12\",\"latest\"]}",
            &mut tags,
        )
        .unwrap_err();
        assert!(matches!(error, TagPageError::NotUtf8(_)), "{error}");
        assert!(tags.is_empty());
    }

    /// Found by the `tag_list` fuzz target (a property of the target, not a defect): JSON's
    /// grammar allows an unpaired surrogate escape (RFC 8259, section 8.2), so a page with one in
    /// a key repin skips is read, as Python's `json` reads it; a tag with one is refused, since
    /// no tag can hold it.
    #[test]
    fn an_unpaired_surrogate_is_skipped_where_unread_and_refused_in_a_tag() {
        let mut tags = Vec::new();
        read_page(br#"{"":["\udaaa\ueeee",4],"tags":["3.12"]}"#, &mut tags).unwrap();
        assert_eq!(tags, ["3.12"]);
        let mut tags = Vec::new();
        let error = read_page(br#"{"tags":["3.12","\udaaa"]}"#, &mut tags).unwrap_err();
        assert!(matches!(error, TagPageError::Json(_)), "{error}");
    }
}

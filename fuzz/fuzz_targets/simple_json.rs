//! PEP 691 JSON project pages: the reader never panics on any bytes, never keeps a credential
//! in a file URL, and the streaming path the client uses (`parse_into` a `ProjectBuilder`)
//! finds the same releases as parsing the whole page then grouping it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::registry::pypi::{IndexUrl, PageFormat, Project, ProjectBuilder, simple_json};
use url::Url;

fuzz_target!(|data: &[u8]| {
    let page_url = Url::parse("https://user:secret@example.org/simple/demo/").unwrap();
    let index = IndexUrl::new(Url::parse("https://example.org/simple/").unwrap());
    let Ok(page) = simple_json::parse(data, &page_url, "demo") else {
        return;
    };
    for file in &page.files {
        assert!(
            file.url.username().is_empty(),
            "a user name kept in {}",
            file.url
        );
        assert!(
            file.url.password().is_none(),
            "a password kept in {}",
            file.url
        );
        assert!(
            file.url.fragment().is_none(),
            "a fragment kept in {}",
            file.url
        );
    }
    let mut builder = ProjectBuilder::new("demo", index.clone(), PageFormat::Json);
    simple_json::parse_into(data, &page_url, "demo", &mut builder).unwrap();
    let streamed = builder.finish();
    let grouped = Project::from_page("demo", index, PageFormat::Json, page);
    assert_eq!(streamed.releases, grouped.releases);
    assert_eq!(streamed.unparsed_versions, grouped.unparsed_versions);
});

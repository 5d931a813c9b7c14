use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use super::*;
use crate::lock::Via;
use crate::registry::pypi::{DistFile, Release, filename};
use crate::target::Libc;

fn file(project: &str, name: &str, hex: &str) -> DistFile {
    let url = url::Url::parse(&format!("https://files.example/packages/{name}")).unwrap();
    let mut file = DistFile::new(name.to_owned(), url);
    file.hashes = [("sha256", hex)].into_iter().collect();
    file.kind = filename::parse(name, project).unwrap().kind;
    file
}

fn locked(name: &str, version: &str, hashes: &[&str]) -> Locked {
    Locked {
        name: pep508_rs::PackageName::from_str(name).unwrap(),
        version: version.parse().unwrap(),
        extras: BTreeSet::new(),
        hashes: hashes.iter().map(|h| format!("sha256:{h}")).collect(),
        via: BTreeSet::from([Via::Requirement("requirements.in".into())]),
    }
}

fn release(version: &str, files: Vec<DistFile>) -> Release {
    Release {
        version: version.parse().unwrap(),
        files,
        yanked: false,
        yanked_reason: None,
        requires_python: None,
        upload_time: None,
    }
}

fn amd64() -> Vec<Platform> {
    vec![Platform::new((3, 12), "linux/amd64", Libc::Glibc).unwrap()]
}

fn names(files: &PackageFiles) -> Vec<&str> {
    files
        .sdist
        .iter()
        .chain(&files.wheels)
        .map(|f| f.name.as_str())
        .collect()
}

#[test]
fn the_wheels_of_the_locks_platforms_and_one_sdist_that_the_resolver_saw() {
    let mut yanked = file("pkg", "pkg-1.0-cp312-cp312-musllinux_1_2_x86_64.whl", "e5");
    yanked.yanked = true;
    let listed = release(
        "1.0",
        vec![
            file("pkg", "pkg-1.0.zip", "a1"),
            file("pkg", "pkg-1.0.tar.gz", "a2"),
            file("pkg", "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", "b1"),
            file(
                "pkg",
                "pkg-1.0-cp312-cp312-manylinux_2_17_aarch64.whl",
                "b2",
            ),
            file("pkg", "pkg-1.0-cp312-cp312-macosx_11_0_arm64.whl", "b3"),
            file("pkg", "pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "b4"),
            // Uploaded after the resolution: its hash was never seen, so it is not written.
            file("pkg", "pkg-1.0-py3-none-any.whl", "c1"),
            yanked,
        ],
    );
    let pin = locked("pkg", "1.0", &["a1", "a2", "b1", "b2", "b3", "b4", "e5"]);
    let files = files_of(&pin, "https://index.example/simple/", &listed, &amd64()).unwrap();
    assert_eq!(
        names(&files),
        [
            "pkg-1.0.tar.gz",
            "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"
        ]
    );
    assert_eq!(files.index, "https://index.example/simple/");

    let mut both = amd64();
    both.push(Platform::new((3, 12), "linux/arm64", Libc::Glibc).unwrap());
    let files = files_of(&pin, "https://index.example/simple/", &listed, &both).unwrap();
    assert_eq!(
        names(&files),
        [
            "pkg-1.0.tar.gz",
            "pkg-1.0-cp312-cp312-manylinux_2_17_aarch64.whl",
            "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        ]
    );
}

#[test]
fn a_yanked_release_pinned_so_keeps_its_files() {
    let mut wheel = file("old", "old-1.0-py3-none-any.whl", "d1");
    wheel.yanked = true;
    let mut listed = release("1.0", vec![wheel]);
    listed.yanked = true;
    let files = files_of(&locked("old", "1.0", &["d1"]), "i", &listed, &amd64()).unwrap();
    assert_eq!(names(&files), ["old-1.0-py3-none-any.whl"]);
}

#[test]
fn a_release_with_nothing_for_the_platforms_is_an_error_naming_them() {
    let listed = release(
        "2.0",
        vec![file(
            "mac",
            "mac-2.0-cp312-cp312-macosx_11_0_arm64.whl",
            "f1",
        )],
    );
    let error = files_of(&locked("mac", "2.0", &["f1"]), "i", &listed, &amd64()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`mac` 2.0 has no sdist and no wheel for CPython 3.12 on linux/amd64 (glibc) with a sha256"
    );
}

fn one_package() -> (Resolution, BTreeMap<String, PackageFiles>) {
    let resolution = Resolution {
        packages: vec![locked("flask", "3.0.3", &["aa", "bb"])],
        warnings: Vec::new(),
    };
    let files = BTreeMap::from([(
        "flask".to_owned(),
        PackageFiles {
            index: "https://pypi.org/simple/".into(),
            sdist: Some(LockedFile {
                name: "flask-3.0.3.tar.gz".into(),
                url: "https://files.example/flask-3.0.3.tar.gz".into(),
                size: Some(676_315),
                upload_time: Some("2024-04-07T19:26:08Z".into()),
                sha256: "aa".into(),
            }),
            wheels: vec![LockedFile {
                name: "flask-3.0.3-py3-none-any.whl".into(),
                // An index may write anything in a URL: it is escaped, not trusted.
                url: "https://files.example/a\"b\\c".into(),
                size: None,
                upload_time: None,
                sha256: "bb".into(),
            }],
        },
    )]);
    (resolution, files)
}

fn header() -> Header {
    Header {
        python: "3.12".into(),
        command: "repin lock requirements.in -o pylock.toml".into(),
    }
}

#[test]
fn pep_751_layout() {
    let (resolution, files) = one_package();
    let target = Target::linux_x86_64("3.12").unwrap();
    let text = render(&header(), &target, &resolution, &files);
    let expected = format!(
        r#"# This file is autogenerated by repin {} with Python 3.12
# by the following command:
#
#    repin lock requirements.in -o pylock.toml
#
lock-version = "1.0"
environments = ["sys_platform == 'linux' and platform_python_implementation == 'CPython'"]
requires-python = "==3.12.*"
created-by = "repin"

[[packages]]
name = "flask"
version = "3.0.3"
index = "https://pypi.org/simple/"
sdist = {{ name = "flask-3.0.3.tar.gz", url = "https://files.example/flask-3.0.3.tar.gz", upload-time = 2024-04-07T19:26:08Z, size = 676315, hashes = {{ sha256 = "aa" }} }}
wheels = [
    {{ name = "flask-3.0.3-py3-none-any.whl", url = "https://files.example/a\"b\\c", hashes = {{ sha256 = "bb" }} }},
]
"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(text, expected);
    verify(Path::new("pylock.toml"), &text, &resolution, &files).unwrap();

    let patch = Target::linux_x86_64("3.11.7").unwrap();
    assert!(
        render(&header(), &patch, &resolution, &files)
            .contains("\nrequires-python = \"==3.11.7\"\n")
    );
}

#[test]
fn a_text_that_differs_from_its_resolution_is_not_read_back() {
    let (resolution, files) = one_package();
    let target = Target::linux_x86_64("3.12").unwrap();
    let text = render(&header(), &target, &resolution, &files);
    let path = Path::new("pylock.toml");
    let cases = [
        (
            text.replace("sha256 = \"bb\"", "sha256 = \"cc\""),
            "the hashes of `flask` are not read back",
        ),
        (
            text.replace("version = \"3.0.3\"", "version = \"3.0.4\""),
            "`flask` is not read back as ==3.0.3",
        ),
        (
            text.replace("name = \"flask\"", "name = \"quart\""),
            "`flask` is not read back",
        ),
    ];
    for (changed, expected) in cases {
        let error = verify(path, &changed, &resolution, &files).unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
    let broken = text.replace("lock-version = \"1.0\"", "lock-version = \"2.0\"");
    assert!(matches!(
        verify(path, &broken, &resolution, &files),
        Err(ReadBackError::Diagnostic(_))
    ));
}

#[test]
fn strings_are_toml_basic_strings() {
    for text in [
        "plain",
        "quote\"back\\slash",
        "tab\tnew\nline\u{7}bell",
        "ünï",
    ] {
        let document: toml_edit::DocumentMut = format!("key = {}", string(text)).parse().unwrap();
        assert_eq!(document["key"].as_str(), Some(text));
    }
}

#[test]
fn a_url_with_a_credential_is_never_written() {
    crate::vocab::redact::register_secret("index-path-token-0815");
    let pin = locked("pkg", "1.0", &["a1"]);
    let listed = release("1.0", vec![file("pkg", "pkg-1.0-py3-none-any.whl", "a1")]);
    let files = files_of(&pin, "https://index.example/simple/", &listed, &amd64());
    assert!(files.is_ok());
    let error = files_of(
        &pin,
        "https://index.example/index-path-token-0815/simple/",
        &listed,
        &amd64(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`pkg` 1.0 is served from a URL with a credential in it (https://index.example/***/simple/)"
    );
    let mut signed = file("pkg", "pkg-1.0-py3-none-any.whl", "a1");
    signed.url =
        url::Url::parse("https://files.example/pkg-1.0-py3-none-any.whl?token=abc").unwrap();
    let error = files_of(
        &pin,
        "https://index.example/simple/",
        &release("1.0", vec![signed]),
        &amd64(),
    )
    .unwrap_err();
    assert!(matches!(error, PylockError::Credential { .. }), "{error}");
}

#[test]
fn upload_times_are_whole_seconds_and_sizes_kept() {
    let mut wheel = file("pkg", "pkg-1.0-py3-none-any.whl", "a1");
    wheel.upload_time = Some("2026-08-31T09:39:02.298565Z".parse().unwrap());
    wheel.size = Some(306_115);
    let listed = release("1.0", vec![wheel]);
    let files = files_of(
        &locked("pkg", "1.0", &["a1"]),
        "https://i.example/simple/",
        &listed,
        &amd64(),
    )
    .unwrap();
    assert_eq!(
        files.wheels[0].upload_time.as_deref(),
        Some("2026-08-31T09:39:02Z")
    );
    assert_eq!(files.wheels[0].size, Some(306_115));
}

#[test]
fn hostile_names_and_urls_stay_inside_their_strings() {
    let (resolution, mut files) = one_package();
    let hostile_url = "https://files.example/\"\n\u{0}\u{1b}[31m\u{2028}";
    let flask = files.get_mut("flask").unwrap();
    // What an index page may hold: a name and URL that try to close the string and the table
    // and start another package.
    flask.wheels[0].name = "x\"}]\n[[packages]]\nname = \"evil\"\nversion = \"6.6.6\"\n#".into();
    flask.wheels[0].url = hostile_url.into();
    let target = Target::linux_x86_64("3.12").unwrap();
    let text = render(&header(), &target, &resolution, &files);
    verify(Path::new("pylock.toml"), &text, &resolution, &files).unwrap();
    let document: toml_edit::DocumentMut = text.parse().unwrap();
    let packages = document["packages"].as_array_of_tables().unwrap();
    assert_eq!(packages.len(), 1);
    let wheel = packages.get(0).unwrap()["wheels"]
        .as_array()
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(
        wheel.as_inline_table().unwrap()["url"].as_str(),
        Some(hostile_url)
    );
}

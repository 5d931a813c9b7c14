use super::*;
use crate::registry::pypi::{IndexSource, IndexUrl};

fn index(url: &str) -> Index {
    Index::new(
        IndexUrl::new(url::Url::parse(url).unwrap()),
        IndexSource::Config,
    )
}

/// CPython 3.11 on `oci` (`linux/amd64`), glibc.
fn platforms(oci: &str) -> Vec<Platform> {
    super::super::wheels::platforms_for(&Version::from_str("3.11").unwrap(), None, &[oci.into()])
}

/// A release of `app` 1.0 with an x86_64 wheel (size, upload time, PEP 658 metadata), an
/// aarch64 one and a yanked sdist.
fn release() -> Release {
    let wheel_name = "app-1.0-cp311-cp311-manylinux_2_17_x86_64.whl";
    let mut wheel = DistFile::new(
        wheel_name.into(),
        url::Url::parse(&format!("https://files.example/{wheel_name}")).unwrap(),
    );
    wheel.hashes = [("sha256".to_owned(), "aa".repeat(32))].into();
    wheel.size = Some(1234);
    wheel.upload_time = Some("2024-04-07T19:26:08Z".parse().unwrap());
    wheel.core_metadata = CoreMetadata::Present {
        hashes: [("sha256".to_owned(), "bb".repeat(32))].into(),
    };
    wheel.kind = filename::parse(wheel_name, "app").unwrap().kind;
    let mut sdist = DistFile::new(
        "app-1.0.tar.gz".into(),
        url::Url::parse("https://files.example/app-1.0.tar.gz").unwrap(),
    );
    sdist.hashes = [("sha256".to_owned(), "cc".repeat(32))].into();
    sdist.yanked = true;
    sdist.kind = filename::parse("app-1.0.tar.gz", "app").unwrap().kind;
    let arm_name = "app-1.0-cp311-cp311-manylinux_2_17_aarch64.whl";
    let mut arm = DistFile::new(
        arm_name.into(),
        url::Url::parse(&format!("https://files.example/{arm_name}")).unwrap(),
    );
    arm.hashes = [("sha256".to_owned(), "dd".repeat(32))].into();
    arm.kind = filename::parse(arm_name, "app").unwrap().kind;
    Release {
        version: Version::from_str("1.0").unwrap(),
        files: vec![wheel, arm, sdist],
        yanked: false,
        yanked_reason: None,
        requires_python: None,
        upload_time: None,
    }
}

/// A store in a fresh directory (kept alive by the caller), answering any age when `offline`.
fn store(offline: bool) -> (tempfile::TempDir, ListingStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ListingStore {
        dir: dir.path().to_path_buf(),
        offline,
    };
    (dir, store)
}

/// What a `pylock.toml` writes of a file, as text: every field the round trip must keep.
fn described(release: &Release) -> Vec<String> {
    release
        .files
        .iter()
        .map(|f| {
            format!(
                "{} {} {:?} {:?} {:?} {} {:?} {:?}",
                f.filename,
                f.url,
                f.sha256(),
                f.size,
                f.upload_time,
                f.yanked,
                f.core_metadata,
                f.kind
            )
        })
        .collect()
}

/// Every file of a release a `pylock.toml` for the platforms lists, kept and read back (through
/// the store's JSON), is the file the page listed: name, URL, sha256, size, upload time, yank,
/// metadata and kind, on its index; a wheel for another platform is not kept.
#[test]
fn a_release_s_files_survive_the_store() {
    let indexes = [
        index("https://one.example/simple/"),
        index("https://two.example/simple/"),
    ];
    let (_dir, store) = store(false);
    let version = Version::from_str("1.0").unwrap();
    let amd64 = platforms("linux/amd64");
    let original = release();
    let files = ListedFiles::of(&original, 1, &amd64);
    store.put_files(&indexes, ("app", &version), &amd64, 42, &files);
    let kept = store
        .get_files(&indexes, ("app", &version), &amd64, 42)
        .unwrap();
    let sourced = kept.sourced("app", &version, &indexes).unwrap();
    assert_eq!(sourced.index, indexes[1].url);
    let mut expected = described(&original);
    expected.remove(1);
    assert_eq!(described(&sourced.release), expected);
    assert_eq!(expected.len(), 2);
}

/// Files are only read back with the listing and the platforms they were kept with: another
/// listing of the same project (fresh until another second), other platforms, another
/// version, other indexes, or an index position the indexes do not have, find nothing.
#[test]
fn files_kept_with_another_listing_are_not_used() {
    let indexes = [index("https://one.example/simple/")];
    let (_dir, store) = store(true);
    let version = Version::from_str("1.0").unwrap();
    let amd64 = platforms("linux/amd64");
    let files = ListedFiles::of(&release(), 0, &amd64);
    store.put_files(&indexes, ("app", &version), &amd64, 42, &files);
    let get = |indexes: &[Index], version: &str, platforms: &[Platform], fresh_until: u64| {
        let version = Version::from_str(version).unwrap();
        store.get_files(indexes, ("app", &version), platforms, fresh_until)
    };
    assert!(get(&indexes, "1.0", &amd64, 42).is_some());
    assert!(get(&indexes, "1.0", &amd64, 43).is_none());
    assert!(get(&indexes, "1.0", &platforms("linux/arm64"), 42).is_none());
    assert!(get(&indexes, "1.0.1", &amd64, 42).is_none());
    assert!(get(&[index("https://other.example/simple/")], "1.0", &amd64, 42).is_none());
    let beyond = ListedFiles::of(&release(), 3, &amd64);
    assert!(beyond.sourced("app", &version, &indexes).is_none());
}

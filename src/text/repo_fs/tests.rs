use std::path::{Path, PathBuf};

use super::*;

/// A repository in a temporary directory, with a sibling directory outside it.
struct Fixture {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    outside: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(repo.join("deep/er")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(repo.join("deep/er/file.txt"), "inside\n").unwrap();
    std::fs::write(outside.join("token.txt"), "canary-secret\n").unwrap();
    Fixture {
        _dir: dir,
        repo,
        outside,
    }
}

#[cfg(unix)]
fn link(target: impl AsRef<Path>, at: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, at).unwrap();
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo (coreutils) runs")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn reads_inside_and_refuses_paths_that_leave() {
    let f = fixture();
    let root = RepoRoot::new(&f.repo).unwrap();
    assert_eq!(
        root.read(&f.repo.join("deep/er/file.txt")).unwrap(),
        b"inside\n"
    );
    // `..` that stays inside is fine; one that leaves is not, however it is spelled.
    assert_eq!(
        root.read(&f.repo.join("deep/../deep/er/file.txt")).unwrap(),
        b"inside\n"
    );
    for path in [
        f.repo.join("../outside/token.txt"),
        f.repo.join("deep/../../outside/token.txt"),
        f.outside.join("token.txt"),
        PathBuf::from("/etc/passwd"),
        PathBuf::from("/proc/self/environ"),
    ] {
        let error = root.read(&path).unwrap_err();
        assert!(
            matches!(error, RepoFsError::Outside { .. }),
            "{path:?}: {error}"
        );
        assert!(error.is_refused());
        assert!(error.hint().unwrap().contains("repository root"));
        assert!(!error.to_string().contains("canary"));
    }
    // A missing file is not a refusal.
    let missing = root.read(&f.repo.join("nope.txt")).unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    let missing_dir = root.read(&f.repo.join("no/such/file.txt")).unwrap_err();
    assert!(missing_dir.is_not_found(), "{missing_dir}");
}

#[cfg(unix)]
#[test]
fn follows_links_that_stay_inside_and_refuses_links_that_leave() {
    let f = fixture();
    link("deep/er", f.repo.join("short"));
    link(f.repo.join("deep/er/file.txt"), f.repo.join("absolute.txt"));
    link("../er/file.txt", f.repo.join("deep/er/sibling.txt"));
    link(&f.outside, f.repo.join("escape"));
    link("../../outside/token.txt", f.repo.join("deep/up.txt"));
    link("/proc/self/environ", f.repo.join("environ"));
    link("loop-b", f.repo.join("loop-a"));
    link("loop-a", f.repo.join("loop-b"));
    let root = RepoRoot::new(&f.repo).unwrap();
    for inside in ["short/file.txt", "absolute.txt", "deep/er/sibling.txt"] {
        assert_eq!(
            root.read(&f.repo.join(inside)).unwrap(),
            b"inside\n",
            "{inside}"
        );
    }
    let real = root.resolve(&f.repo.join("short/file.txt")).unwrap();
    assert_eq!(
        real.path,
        f.repo.canonicalize().unwrap().join("deep/er/file.txt")
    );
    for leaving in ["escape/token.txt", "deep/up.txt", "environ"] {
        let error = root.read(&f.repo.join(leaving)).unwrap_err();
        assert!(
            matches!(error, RepoFsError::LinkLeaves { .. }),
            "{leaving}: {error}"
        );
        assert!(error.to_string().contains("symbolic link"), "{error}");
    }
    let looping = root.read(&f.repo.join("loop-a")).unwrap_err();
    assert!(
        matches!(looping, RepoFsError::TooManyLinks { .. }),
        "{looping}"
    );
}

#[cfg(unix)]
#[test]
fn never_opens_fifos_devices_directories_or_system_files() {
    let f = fixture();
    mkfifo(&f.repo.join("pipe.txt"));
    link("/dev/zero", f.repo.join("zero.txt"));
    let root = RepoRoot::new(&f.repo).unwrap();
    // Would block forever if it were opened for reading without O_NONBLOCK.
    let fifo = root.read(&f.repo.join("pipe.txt")).unwrap_err();
    assert!(
        matches!(fifo, RepoFsError::NotRegular { kind: "a FIFO", .. }),
        "{fifo}"
    );
    let dir = root.read(&f.repo.join("deep")).unwrap_err();
    assert!(
        matches!(
            dir,
            RepoFsError::NotRegular {
                kind: "a directory",
                ..
            }
        ),
        "{dir}"
    );
    assert!(matches!(
        root.read(&f.repo.join("zero.txt")).unwrap_err(),
        RepoFsError::LinkLeaves { .. }
    ));
    // With the whole machine as the root, the system file systems are still refused.
    let everything = RepoRoot::new(Path::new("/")).unwrap();
    for system in [
        "/proc/self/environ",
        "/dev/zero",
        "/sys/kernel/mm/transparent_hugepage/enabled",
    ] {
        let error = everything.read(Path::new(system)).unwrap_err();
        assert!(
            matches!(error, RepoFsError::System { .. }),
            "{system}: {error}"
        );
    }
    assert!(matches!(
        read_regular(Path::new("/proc/self/environ"), MAX_FILE_SIZE).unwrap_err(),
        RepoFsError::System { .. }
    ));
    assert!(matches!(
        read_regular(&f.repo.join("pipe.txt"), MAX_FILE_SIZE).unwrap_err(),
        RepoFsError::NotRegular { .. }
    ));
}

#[test]
fn refuses_files_over_the_limit() {
    let f = fixture();
    let big = f.repo.join("big.txt");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(MAX_FILE_SIZE + 1)
        .unwrap();
    let root = RepoRoot::new(&f.repo).unwrap();
    let error = root.read(&big).unwrap_err();
    assert!(matches!(error, RepoFsError::TooLarge { .. }), "{error}");
    std::fs::write(&big, "small").unwrap();
    assert_eq!(read_regular(&big, 5).unwrap(), b"small");
    assert!(matches!(
        read_regular(&big, 4).unwrap_err(),
        RepoFsError::TooLarge { limit: 4, .. }
    ));
}

#[cfg(unix)]
#[test]
fn writes_the_target_of_a_link_inside_and_refuses_everything_else() {
    let f = fixture();
    link("deep/er/file.txt", f.repo.join("requirements.txt"));
    link(f.outside.join("token.txt"), f.repo.join("out.txt"));
    mkfifo(&f.repo.join("pipe.txt"));
    let root = RepoRoot::new(&f.repo).unwrap();
    root.write(&f.repo.join("requirements.txt"), b"edited\n")
        .unwrap();
    assert!(
        std::fs::symlink_metadata(f.repo.join("requirements.txt"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert_eq!(
        std::fs::read(f.repo.join("deep/er/file.txt")).unwrap(),
        b"edited\n"
    );
    // A new file inside is fine.
    root.write(&f.repo.join("deep/new.txt"), b"new\n").unwrap();
    assert_eq!(
        std::fs::read(f.repo.join("deep/new.txt")).unwrap(),
        b"new\n"
    );
    for (refused, what) in [
        ("out.txt", "symbolic link"),
        ("pipe.txt", "a FIFO"),
        ("deep", "a directory"),
        ("../outside/new.txt", "outside the repository"),
    ] {
        let error = root.write(&f.repo.join(refused), b"x").unwrap_err();
        assert!(error.to_string().contains(what), "{refused}: {error}");
    }
    assert_eq!(
        std::fs::read(f.outside.join("token.txt")).unwrap(),
        b"canary-secret\n"
    );
    assert!(!f.outside.join("new.txt").exists());
    let error = root.write(Path::new("/dev/null"), b"x").unwrap_err();
    assert!(matches!(error, RepoFsError::Outside { .. }), "{error}");
    assert!(
        !std::fs::metadata("/dev/null").unwrap().is_file(),
        "/dev/null is still a device"
    );
}

#[test]
fn the_root_of_a_path_is_its_git_work_tree_else_the_path() {
    let f = fixture();
    let plain = RepoRoot::of(&f.repo.join("deep/er")).unwrap();
    assert_eq!(plain.path(), f.repo.join("deep/er").canonicalize().unwrap());
    let of_file = RepoRoot::of(&f.repo.join("deep/er/file.txt")).unwrap();
    assert_eq!(of_file.path(), plain.path());
    std::fs::create_dir(f.repo.join(".git")).unwrap();
    let git = RepoRoot::of(&f.repo.join("deep/er/file.txt")).unwrap();
    assert_eq!(git.path(), f.repo.canonicalize().unwrap());
    // A worktree's `.git` is a file.
    std::fs::write(f.repo.join("deep/.git"), "gitdir: elsewhere\n").unwrap();
    let worktree = RepoRoot::of(&f.repo.join("deep/er")).unwrap();
    assert_eq!(worktree.path(), f.repo.join("deep").canonicalize().unwrap());
}

#[test]
fn a_path_stays_within_its_directory_only_relative_and_without_parents() {
    for within in ["packages/a", "./packages/a/", ".", "", "a/./b"] {
        assert!(stays_within(Path::new(within)), "{within}");
    }
    for leaves in ["../a", "packages/../../a", "a/..", "/a", "/"] {
        assert!(!stays_within(Path::new(leaves)), "{leaves}");
    }
}

#[test]
fn normalises_lexically_keeping_unmatched_parents() {
    let cases = [
        ("../../common/base.txt", "../../common/base.txt"),
        ("services/api/../../common/base.txt", "common/base.txt"),
        ("./a/./b/../c", "a/c"),
        ("a/../..", ".."),
        ("/../etc/./passwd", "/etc/passwd"),
        ("", ""),
    ];
    for (input, expected) in cases {
        assert_eq!(normalise(Path::new(input)), Path::new(expected), "{input}");
    }
}

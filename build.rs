//! Build facts for `repin --version`: the commit and its date, from git when this is a git
//! checkout, else from `REPIN_BUILD_COMMIT` and `REPIN_BUILD_DATE` (the image's build passes
//! them as build arguments, since its context has no `.git`), else none.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs git in `dir`. The checkout is trusted whoever owns it (a CI runner's clone may belong to
/// another user, and git then refuses it for "dubious ownership"): this build already runs
/// the checkout's own code, so its git configuration adds no risk.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let safe = format!("safe.directory={}", dir.display());
    let out = Command::new("git")
        .arg("-c")
        .arg(safe)
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn from_env(name: &str) -> Option<String> {
    println!("cargo:rerun-if-env-changed={name}");
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    // Symbolic links resolved: git names the top level by its real path.
    let manifest_dir = std::fs::canonicalize(&manifest_dir).unwrap_or(manifest_dir);
    // Only a checkout of repin itself counts: a crate unpacked inside another repository
    // (a vendored copy) must not report that repository's commit.
    let in_checkout = git(&manifest_dir, &["rev-parse", "--show-toplevel"])
        .is_some_and(|top| std::fs::canonicalize(&top).is_ok_and(|top| top == manifest_dir));
    let (mut commit, mut date) = (None, None);
    if in_checkout {
        commit = git(&manifest_dir, &["rev-parse", "--short=12", "HEAD"]);
        date = git(
            &manifest_dir,
            &["log", "-1", "--format=%cd", "--date=short"],
        );
        // Rebuild the version when HEAD moves: HEAD itself, the branch it names, packed refs.
        let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
        watched.extend(git(&manifest_dir, &["symbolic-ref", "-q", "HEAD"]));
        for name in watched {
            if let Some(path) = git(&manifest_dir, &["rev-parse", "--git-path", &name]) {
                let path = manifest_dir.join(path);
                if path.exists() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
    } else {
        // Not a checkout (the image's build context, a vendored copy): this output must not
        // be taken for a checkout's. The target directory may be shared with one (CI's image
        // check compiles the context into the repository's), and cargo's fingerprint of this
        // script does not include the source's path, so `build.rs` alone would look unchanged
        // there. A watched path that does not exist is stale on every build: the next build
        // runs this script again, wherever it is.
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(".git").display()
        );
    }
    let commit = commit.or_else(|| from_env("REPIN_BUILD_COMMIT"));
    let date = date.or_else(|| from_env("REPIN_BUILD_DATE"));
    let version = env!("CARGO_PKG_VERSION");
    let long = match (commit, date) {
        (Some(c), Some(d)) => format!("{version} ({c} {d})"),
        (Some(c), None) => format!("{version} ({c})"),
        _ => version.to_owned(),
    };
    println!("cargo:rustc-env=REPIN_LONG_VERSION={long}");
    println!("cargo:rerun-if-changed=build.rs");
}

//! The one way repin replaces a file: a temporary file in the same directory, then a rename.
//!
//! A crash at any point leaves either the old or the new content, never a truncated file. The
//! replaced file's mode is kept, and its owner when repin runs as root (a new file gets the
//! usual `0666` less the umask). Callers check what they write to (a regular file inside the
//! repository: [`super::repo_fs::RepoRoot::write`]); this only replaces it.

use std::io::Write;
use std::path::Path;

/// Whether a write must survive a power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The user's files: the data and the directory entry are synced before returning.
    Durable,
    /// A cache entry: the rename keeps it whole, but a lost entry is only fetched again, so
    /// no sync is paid for (a run writes thousands).
    Cache,
}

/// Replace `path` with `bytes` atomically.
pub fn write(path: &Path, bytes: &[u8], durability: Durability) -> std::io::Result<()> {
    write_with(path, durability, |file| file.write_all(bytes))
}

/// Replace `path` atomically with what `fill` writes (streamed: a large cache entry is never
/// held whole in memory).
pub fn write_with(
    path: &Path,
    durability: Durability,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "repin".into(), |n| n.to_string_lossy().into_owned());
    let existing = std::fs::metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file);
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{name}.");
    builder.prefix(&prefix).suffix(".repin-tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A new file: the mode `open` would give it (0666 less the umask), not tempfile's 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(dir)?;
    {
        let mut buffered = std::io::BufWriter::new(temp.as_file_mut());
        fill(&mut buffered)?;
        buffered.flush()?;
    }
    if let Some(meta) = &existing {
        temp.as_file().set_permissions(meta.permissions())?;
        #[cfg(unix)]
        keep_owner(temp.as_file(), meta)?;
    }
    if durability == Durability::Durable {
        temp.as_file().sync_all()?;
    }
    temp.persist(path).map_err(|e| e.error)?;
    if durability == Durability::Durable {
        // The rename itself is durable once the directory is synced; not every file system
        // lets a directory be opened for that, and the data is already safe.
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// Give the new file the replaced file's owner and group. Only root may give a file away; for
/// anyone else a replaced file becomes theirs, as with any editor that writes by renaming.
#[cfg(unix)]
fn keep_owner(file: &std::fs::File, meta: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let new = file.metadata()?;
    if (new.uid(), new.gid()) == (meta.uid(), meta.gid()) {
        return Ok(());
    }
    match std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid())) {
        Ok(()) => Ok(()),
        // SAFETY: `geteuid` only reads the process's effective user id.
        Err(error) if unsafe { libc::geteuid() } == 0 => Err(error),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_keeps_the_mode_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requirements.txt");
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        write(&path, b"new", Durability::Durable).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
        // A new file, without sync (the cache's way).
        let fresh = dir.path().join("new.txt");
        write(&fresh, b"x", Durability::Cache).unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
            assert_ne!(
                mode & 0o044,
                0,
                "a new file is readable as `open` would make it"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_owner_when_running_as_root() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requirements.txt");
        std::fs::write(&path, "old").unwrap();
        // SAFETY: reads the effective user id.
        let root = unsafe { libc::geteuid() } == 0;
        // Only root can give a file to someone else; anyone else keeps their own file.
        let owner = if root {
            std::os::unix::fs::chown(&path, Some(1234), Some(4321)).unwrap();
            (1234, 4321)
        } else {
            let meta = std::fs::metadata(&path).unwrap();
            (meta.uid(), meta.gid())
        };
        write(&path, b"new", Durability::Durable).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), owner);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }
}

//! Offline advisory databases: a directory of records, or an OSV ecosystem zip.
//!
//! - [`DirectorySource`]: the PyPA advisory-database layout (`vulns/<package>/<ID>.yaml`; the
//!   path may be the repository root, its `vulns/` folder, or one package's folder) or any
//!   directory of OSV `.json`/`.yaml`/`.yml` files, searched recursively. Other files
//!   (`README.md`, `LICENSE`) and hidden entries (`.git`) are ignored.
//! - [`ZipSource`]: an OSV export such as `https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip`,
//!   a zip of `<ID>.json` files.
//!
//! A record that cannot be read is skipped with a diagnostic naming its file (and line, when the
//! parser knows it); it never stops the others from loading. Records are parsed on all cores: the
//! full PyPI export holds some 15,000 records.

use std::fs;
use std::io::{Cursor, Read};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use super::model::{ModelError, RecordFormat};
use super::{AdvisorySource, LoadedRecord, RecordBatch};
use crate::text::{
    Diagnostic, Encoding, RepoRoot, Severity as DiagnosticSeverity, SourceFile, Span,
};

/// A record bigger than this is refused: real ones are a few kilobytes (the largest PyPA record
/// is under 100 KB), and a zip entry must not be able to inflate without bound.
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// The largest advisory zip read from inside a repository (the whole PyPI export is some tens
/// of megabytes).
const MAX_REPOSITORY_ZIP_BYTES: u64 = 256 << 20;

/// How deep a directory source is searched (the PyPA layout needs 2); guards symlink loops.
const MAX_DEPTH: usize = 16;

/// Why an offline database could not be read as a whole.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    /// The path does not exist.
    #[error("Advisory database `{path}` does not exist")]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The directory or zip file could not be read.
    #[error("Cannot read advisory database `{path}`")]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a readable zip archive.
    #[error("Cannot open advisory archive `{path}`")]
    Zip {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: zip::result::ZipError,
    },
    /// A database the repository's configuration names leads outside the repository, or is not
    /// a regular file or directory.
    #[error(
        "Refused to read the advisory database `{path}` named by the repository's configuration"
    )]
    Refused {
        /// The path as configured.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::text::RepoFsError,
    },
    /// The path is a file that is not a zip archive.
    #[error("Advisory database `{path}` is neither a directory nor a .zip file")]
    Unsupported {
        /// The path given.
        path: PathBuf,
    },
}

/// The offline source for `path`: a zip file when it ends in `.zip`, else a directory.
pub fn open(
    path: impl Into<PathBuf>,
) -> Result<Box<dyn AdvisorySource + Send + Sync>, OfflineError> {
    let path = path.into();
    let metadata = fs::metadata(&path).map_err(|source| not_found_or_read(&path, source))?;
    if metadata.is_dir() {
        Ok(Box::new(DirectorySource::new(path)))
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        Ok(Box::new(ZipSource::new(path)))
    } else {
        Err(OfflineError::Unsupported { path })
    }
}

/// The offline source for a `path` the repository's own configuration names: resolved inside
/// the repository `repo` (a relative path from its root), and refused when it leads outside it
/// (through `..`, an absolute path or a symbolic link). A directory's records are read through
/// the repository too, so a link inside it that leaves the repository is skipped with a
/// diagnostic, never followed.
pub fn open_in_repository(
    path: &Path,
    repo: &RepoRoot,
) -> Result<Box<dyn AdvisorySource + Send + Sync>, OfflineError> {
    let refused = |source| OfflineError::Refused {
        path: path.to_path_buf(),
        source,
    };
    let joined = repo.given().join(path);
    let resolved = repo.resolve(&joined).map_err(refused)?;
    if !resolved.exists {
        return Err(OfflineError::NotFound {
            path: path.to_path_buf(),
        });
    }
    let metadata =
        fs::metadata(&resolved.path).map_err(|source| not_found_or_read(path, source))?;
    if metadata.is_dir() {
        let mut source = DirectorySource::new(resolved.path);
        source.confine = Some(repo.clone());
        return Ok(Box::new(source));
    }
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        return Err(OfflineError::Unsupported {
            path: path.to_path_buf(),
        });
    }
    let file = repo.regular_file(&joined).map_err(refused)?;
    let mut source = ZipSource::new(file);
    source.limit = Some(MAX_REPOSITORY_ZIP_BYTES);
    Ok(Box::new(source))
}

fn not_found_or_read(path: &Path, source: std::io::Error) -> OfflineError {
    if source.kind() == std::io::ErrorKind::NotFound {
        OfflineError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        OfflineError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A directory of OSV records (the PyPA advisory-database layout, or flat JSON files).
#[derive(Debug, Clone)]
pub struct DirectorySource {
    path: PathBuf,
    /// The repository every record and folder must stay inside (a database the repository
    /// named), or `None` (the operator's).
    confine: Option<RepoRoot>,
}

impl DirectorySource {
    /// A source reading `path`. Nothing is read until [`AdvisorySource::load`].
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DirectorySource {
            path: path.into(),
            confine: None,
        }
    }

    /// The directory searched: `path/vulns` when it exists (a checkout of the PyPA database),
    /// else `path`.
    pub fn root(&self) -> PathBuf {
        let vulns = self.path.join("vulns");
        if vulns.is_dir() {
            vulns
        } else {
            self.path.clone()
        }
    }
}

impl AdvisorySource for DirectorySource {
    fn describe(&self) -> String {
        format!("advisory directory {}", self.root().display())
    }

    fn load(&self) -> Result<RecordBatch, OfflineError> {
        let root = self.root();
        let mut files = Vec::new();
        let mut diagnostics = Vec::new();
        let entries = fs::read_dir(&root).map_err(|source| not_found_or_read(&root, source))?;
        let confine = self.confine.as_ref();
        collect_files(entries, &root, 0, confine, &mut files, &mut diagnostics);
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let results = parallel_map(
            files,
            || (),
            |(), (path, format)| {
                let read = match confine {
                    Some(repo) => repo.read(&path).map_err(|e| e.to_string()),
                    None => fs::read(&path).map_err(|e| e.to_string()),
                };
                let bytes = read.map_err(|err| {
                    Box::new(
                        Diagnostic::file(
                            &path,
                            DiagnosticSeverity::Error,
                            "Cannot read the record",
                        )
                        .caused_by(err),
                    )
                })?;
                parse_record(path, &bytes, format).map(Some)
            },
        );
        Ok(into_batch(results, diagnostics))
    }
}

/// Gather every record file below `dir` (already opened as `entries`).
fn collect_files(
    entries: fs::ReadDir,
    dir: &Path,
    depth: usize,
    confine: Option<&RepoRoot>,
    files: &mut Vec<(PathBuf, RecordFormat)>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let warn = |path: &Path, message: &str, err: std::io::Error| {
        Diagnostic::file(path, DiagnosticSeverity::Error, message).caused_by(err.to_string())
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                diagnostics.push(warn(dir, "Cannot list the directory", err));
                continue;
            }
        };
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if let Some(repo) = confine {
            // A link that leaves the repository is never followed (nor listed from).
            if let Err(error) = repo.resolve(&path) {
                diagnostics.push(
                    Diagnostic::file(
                        &path,
                        DiagnosticSeverity::Error,
                        "Refused to read the entry",
                    )
                    .caused_by(error.to_string()),
                );
                continue;
            }
        }
        // `fs::metadata` follows symlinks, so a linked database is read like a real one.
        let metadata = match fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(err) => {
                diagnostics.push(warn(&path, "Cannot read the entry", err));
                continue;
            }
        };
        if metadata.is_dir() {
            if depth + 1 >= MAX_DEPTH {
                diagnostics.push(Diagnostic::file(
                    &path,
                    DiagnosticSeverity::Warning,
                    format!("Directory nested more than {MAX_DEPTH} levels deep is not searched"),
                ));
                continue;
            }
            match fs::read_dir(&path) {
                Ok(inner) => collect_files(inner, &path, depth + 1, confine, files, diagnostics),
                Err(err) => diagnostics.push(warn(&path, "Cannot list the directory", err)),
            }
        } else if let Some(format) = RecordFormat::from_path(&path) {
            files.push((path, format));
        }
    }
}

/// An OSV ecosystem export: a zip of `<ID>.json` records.
#[derive(Debug, Clone)]
pub struct ZipSource {
    path: PathBuf,
    /// The most bytes read (a zip the repository named); `None`: no limit (the operator's).
    limit: Option<u64>,
}

impl ZipSource {
    /// A source reading the zip file at `path`. Nothing is read until [`AdvisorySource::load`].
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ZipSource {
            path: path.into(),
            limit: None,
        }
    }

    /// The zip file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AdvisorySource for ZipSource {
    fn describe(&self) -> String {
        format!("advisory archive {}", self.path.display())
    }

    fn load(&self) -> Result<RecordBatch, OfflineError> {
        // Read whole: the PyPI export is tens of megabytes, and an in-memory archive can be
        // cloned cheaply, one per worker thread.
        let bytes = match self.limit {
            Some(limit) => {
                crate::text::repo_fs::read_regular(&self.path, limit).map_err(|source| {
                    OfflineError::Refused {
                        path: self.path.clone(),
                        source,
                    }
                })?
            }
            None => fs::read(&self.path).map_err(|source| not_found_or_read(&self.path, source))?,
        };
        let archive =
            ZipArchive::new(Cursor::new(bytes.as_slice())).map_err(|source| OfflineError::Zip {
                path: self.path.clone(),
                source,
            })?;
        let results = parallel_map(
            (0..archive.len()).collect(),
            || archive.clone(),
            |archive, index| read_zip_entry(&self.path, archive, index),
        );
        Ok(into_batch(results, Vec::new()))
    }
}

/// A record that could not be read: the diagnostic that replaces it (boxed: it is the rare
/// case, and large).
type Skipped = Box<Diagnostic>;

/// Read and parse entry `index`; `Ok(None)` for entries that are not records (folders,
/// `README`).
fn read_zip_entry(
    zip_path: &Path,
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    index: usize,
) -> Result<Option<LoadedRecord>, Skipped> {
    let entry_error = |origin: &Path, message: &str, cause: String| {
        Box::new(Diagnostic::file(origin, DiagnosticSeverity::Error, message).caused_by(cause))
    };
    let mut entry = archive.by_index(index).map_err(|err| {
        entry_error(
            zip_path,
            &format!("Cannot read entry {index} of the archive"),
            err.to_string(),
        )
    })?;
    // Appended, not joined: `Path::join` would let an absolute entry name replace the path.
    let mut origin = zip_path.as_os_str().to_owned();
    origin.push("/");
    origin.push(entry.name());
    let origin = PathBuf::from(origin);
    let Some(format) = RecordFormat::from_path(Path::new(entry.name())) else {
        return Ok(None);
    };
    if entry.is_dir() {
        return Ok(None);
    }
    if entry.size() > MAX_RECORD_BYTES {
        return Err(entry_error(
            &origin,
            "The record is too large",
            format!(
                "{} bytes uncompressed, more than the {MAX_RECORD_BYTES} allowed",
                entry.size()
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    // `take` as well: the size in the header is what the archive claims, not a promise.
    (&mut entry)
        .take(MAX_RECORD_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|err| entry_error(&origin, "Cannot read the record", err.to_string()))?;
    parse_record(origin, &bytes, format).map(Some)
}

/// Decode and parse one record; a failure is a diagnostic pointing at the problem.
fn parse_record(
    origin: PathBuf,
    bytes: &[u8],
    format: RecordFormat,
) -> Result<LoadedRecord, Skipped> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|err| {
        Box::new(
            Diagnostic::file(
                &origin,
                DiagnosticSeverity::Error,
                "The record is not valid UTF-8",
            )
            .caused_by(err.to_string()),
        )
    })?;
    match format.parse(text) {
        Ok(record) => Ok(LoadedRecord { origin, record }),
        Err(err) => Err(Box::new(parse_diagnostic(&origin, text, &err))),
    }
}

fn parse_diagnostic(origin: &Path, text: &str, err: &ModelError) -> Diagnostic {
    let message = format!("{err}; it is skipped");
    let diagnostic = match err.position() {
        Some((line, column)) => {
            let offset = offset_of(text, line, column);
            let file = SourceFile::from_text(origin, Encoding::Utf8, text.to_owned());
            Diagnostic::error(&file, Span::empty(offset), message)
        }
        None => Diagnostic::file(origin, DiagnosticSeverity::Error, message),
    };
    let cause = match err {
        ModelError::Json { source, .. } => source.to_string(),
        ModelError::Yaml { source, .. } => source.to_string(),
    };
    diagnostic.caused_by(cause)
}

/// The byte offset of 1-based `line` and `column` (in characters), clamped to the text.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &text[start.min(text.len())..];
    let line_text = rest.split('\n').next().unwrap_or("");
    let within = line_text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_text.trim_end_matches('\r').len(), |(at, _)| at);
    (start + within).min(text.len())
}

fn into_batch(
    results: Vec<Result<Option<LoadedRecord>, Skipped>>,
    mut diagnostics: Vec<Diagnostic>,
) -> RecordBatch {
    let mut records = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(Some(record)) => records.push(record),
            Ok(None) => {}
            Err(diagnostic) => diagnostics.push(*diagnostic),
        }
    }
    RecordBatch {
        records,
        diagnostics,
    }
}

/// Map `items` on all cores, keeping their order. Each worker gets its own state from `init`
/// (a clone of the zip archive, which needs `&mut` to read).
fn parallel_map<T: Send, S, R: Send>(
    items: Vec<T>,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, T) -> R + Sync,
) -> Vec<R> {
    // Below a few hundred records threads cost more than they save.
    const PER_THREAD: usize = 256;
    let threads = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(items.len().div_ceil(PER_THREAD))
        .max(1);
    let run = |chunk: Vec<T>| {
        let mut state = init();
        chunk
            .into_iter()
            .map(|item| work(&mut state, item))
            .collect::<Vec<R>>()
    };
    if threads == 1 {
        return run(items);
    }
    let chunk_len = items.len().div_ceil(threads);
    let mut chunks = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let chunk: Vec<T> = items.by_ref().take(chunk_len).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(|| run(chunk)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(results) => results,
                // A panic in a parser is a bug; surface it rather than lose records silently.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

impl crate::error::Hint for OfflineError {}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::str::FromStr;

    use pep440_rs::Version;
    use zip::write::SimpleFileOptions;

    use super::*;
    use crate::advisory::AdvisoryIndex;

    const FLASK_YAML: &str = "id: PYSEC-2023-62\nmodified: '2023-06-01T00:00:00Z'\naffected:\n- package:\n    name: flask\n    ecosystem: PyPI\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 2.2.5\n";

    const DJANGO_JSON: &str = r#"{"id": "GHSA-1111-2222-3333", "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "Django"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "4.2"}, {"fixed": "4.2.8"}]}]}]}"#;

    /// A record whose `affected` is a string: valid YAML, invalid OSV (line 3).
    const BAD_YAML: &str = "id: PYSEC-BAD\nmodified: '2023-01-01T00:00:00Z'\naffected: nope\n";

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn v(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    /// A PyPA-style checkout: root with README and `vulns/<package>/<ID>.yaml`.
    fn pypa_checkout(dir: &Path) {
        write(&dir.join("README.md"), "# advisory database\n");
        write(&dir.join(".git/config"), "not a record\n");
        write(&dir.join("vulns/flask/PYSEC-2023-62.yaml"), FLASK_YAML);
        write(
            &dir.join("vulns/django/GHSA-1111-2222-3333.json"),
            DJANGO_JSON,
        );
        write(&dir.join("vulns/broken/PYSEC-BAD.yaml"), BAD_YAML);
        write(&dir.join("vulns/flask/notes.txt"), "ignored\n");
    }

    #[test]
    fn directory_source_accepts_the_root_the_vulns_folder_and_a_package_folder() {
        let tmp = tempfile::tempdir().unwrap();
        pypa_checkout(tmp.path());
        for (path, records) in [
            (tmp.path().to_path_buf(), 2),
            (tmp.path().join("vulns"), 2),
            (tmp.path().join("vulns/flask"), 1),
        ] {
            let batch = DirectorySource::new(&path).load().unwrap();
            assert_eq!(batch.records.len(), records, "{}", path.display());
        }
        let source = DirectorySource::new(tmp.path());
        assert_eq!(source.root(), tmp.path().join("vulns"));
        assert!(source.describe().starts_with("advisory directory "));
        let index = source.load_index().unwrap();
        assert_eq!(index.affecting("flask", &v("2.2.4")).len(), 1);
        assert_eq!(index.affecting("django", &v("4.2.7")).len(), 1);
        assert!(index.affecting("django", &v("4.2.8")).is_empty());
    }

    #[test]
    fn a_bad_record_is_a_diagnostic_naming_its_file_and_line() {
        let tmp = tempfile::tempdir().unwrap();
        pypa_checkout(tmp.path());
        let batch = DirectorySource::new(tmp.path()).load().unwrap();
        // Sorted by path: broken/ < django/ < flask/.
        let origins: Vec<_> = batch
            .records
            .iter()
            .map(|r| r.origin.strip_prefix(tmp.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            origins,
            [
                Path::new("vulns/django/GHSA-1111-2222-3333.json"),
                Path::new("vulns/flask/PYSEC-2023-62.yaml"),
            ]
        );
        let [diagnostic] = batch.diagnostics.as_slice() else {
            panic!("expected one diagnostic: {:?}", batch.diagnostics);
        };
        assert_eq!(
            diagnostic.path,
            tmp.path().join("vulns/broken/PYSEC-BAD.yaml")
        );
        assert_eq!((diagnostic.line, diagnostic.column), (3, 11));
        let shown = diagnostic.to_string();
        assert!(
            shown.contains(
                "error: Invalid OSV record (YAML); it is skipped\n  affected: nope\n            ^"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("Caused by: affected: invalid type: string \"nope\""),
            "{shown}"
        );
        // The index keeps the load diagnostics.
        let index = AdvisoryIndex::from_batch(batch);
        assert_eq!(index.diagnostics().len(), 1);
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn not_utf8_and_json_syntax_errors_are_diagnostics_too() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("A.json"), b"{\"id\": \"A\xff\"}").unwrap();
        fs::write(
            tmp.path().join("B.json"),
            "{\"id\": \"B\",\n \"affected\": [}\n",
        )
        .unwrap();
        // A UTF-8 byte-order mark is allowed.
        fs::write(
            tmp.path().join("C.json"),
            [b"\xEF\xBB\xBF".as_slice(), br#"{"id": "C"}"#].concat(),
        )
        .unwrap();
        let batch = DirectorySource::new(tmp.path()).load().unwrap();
        assert_eq!(batch.records.len(), 1);
        assert_eq!(batch.records[0].record.id, "C");
        let messages: Vec<(String, usize)> = batch
            .diagnostics
            .iter()
            .map(|d| (d.message.clone(), d.line))
            .collect();
        assert_eq!(
            messages,
            [
                ("The record is not valid UTF-8".to_owned(), 0),
                ("Invalid OSV record (JSON); it is skipped".to_owned(), 2),
            ]
        );
    }

    fn build_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            if name.ends_with('/') {
                zip.add_directory(*name, options).unwrap();
            } else {
                zip.start_file(*name, options).unwrap();
                zip.write_all(bytes).unwrap();
            }
        }
        zip.finish().unwrap();
    }

    #[test]
    fn zip_source_reads_deflated_json_records() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("all.zip");
        let flask_json =
            serde_json::to_string(&crate::advisory::OsvRecord::from_yaml(FLASK_YAML).unwrap())
                .unwrap();
        build_zip(
            &path,
            &[
                ("PYSEC-2023-62.json", flask_json.as_bytes()),
                ("GHSA-1111-2222-3333.json", DJANGO_JSON.as_bytes()),
                ("PYSEC-BROKEN.json", b"{\"id\": "),
                ("README", b"not a record"),
                ("sub/", b""),
            ],
        );
        let source = ZipSource::new(&path);
        assert_eq!(
            source.describe(),
            format!("advisory archive {}", path.display())
        );
        let batch = source.load().unwrap();
        let ids: Vec<&str> = batch.records.iter().map(|r| r.record.id.as_str()).collect();
        assert_eq!(ids, ["PYSEC-2023-62", "GHSA-1111-2222-3333"]);
        assert_eq!(batch.records[0].origin, path.join("PYSEC-2023-62.json"));
        let [diagnostic] = batch.diagnostics.as_slice() else {
            panic!("expected one diagnostic: {:?}", batch.diagnostics);
        };
        assert_eq!(diagnostic.path, path.join("PYSEC-BROKEN.json"));
        let index = AdvisoryIndex::from_batch(batch);
        assert_eq!(index.affecting("Flask", &v("2.0")).len(), 1);
        assert_eq!(index.affecting("django", &v("4.2.1")).len(), 1);
    }

    #[test]
    fn zip_loading_keeps_order_across_worker_threads() {
        // Enough entries to use several threads: order and count must survive the split.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("many.zip");
        let records: Vec<(String, String)> = (0..1000)
            .map(|i| {
                let id = format!("TEST-{i:04}");
                let json = format!(
                    r#"{{"id": "{id}", "affected": [{{"package": {{"ecosystem": "PyPI", "name": "pkg{}"}},
                        "versions": ["1.{i}"]}}]}}"#,
                    i % 7
                );
                (format!("{id}.json"), json)
            })
            .collect();
        let entries: Vec<(&str, &[u8])> = records
            .iter()
            .map(|(name, json)| (name.as_str(), json.as_bytes()))
            .collect();
        build_zip(&path, &entries);
        let batch = ZipSource::new(&path).load().unwrap();
        assert!(batch.diagnostics.is_empty());
        let ids: Vec<String> = batch.records.iter().map(|r| r.record.id.clone()).collect();
        let expected: Vec<String> = (0..1000).map(|i| format!("TEST-{i:04}")).collect();
        assert_eq!(ids, expected);
        let index = AdvisoryIndex::from_batch(batch);
        assert_eq!(index.len(), 1000);
        assert_eq!(index.affecting("pkg3", &v("1.10")).len(), 1);
        assert_eq!(index.affecting("pkg3", &v("1.10"))[0].id(), "TEST-0010");
    }

    #[test]
    fn open_picks_the_source_and_reports_bad_paths() {
        let tmp = tempfile::tempdir().unwrap();
        pypa_checkout(tmp.path());
        let source = open(tmp.path()).unwrap();
        assert!(source.describe().starts_with("advisory directory"));
        let zip_path = tmp.path().join("PyPI.zip");
        build_zip(&zip_path, &[("A.json", br#"{"id": "A"}"#)]);
        assert!(
            open(&zip_path)
                .unwrap()
                .describe()
                .starts_with("advisory archive")
        );

        let missing = tmp.path().join("missing");
        assert_eq!(
            open(&missing).err().unwrap().to_string(),
            format!("Advisory database `{}` does not exist", missing.display())
        );
        let text = tmp.path().join("README.md");
        assert!(matches!(open(&text), Err(OfflineError::Unsupported { .. })));
        // A directory source on a missing path fails as a whole.
        assert!(matches!(
            DirectorySource::new(&missing).load(),
            Err(OfflineError::NotFound { .. })
        ));
        // A file named .zip that is not an archive.
        let fake = tmp.path().join("fake.zip");
        fs::write(&fake, "not a zip").unwrap();
        let err = ZipSource::new(&fake).load().unwrap_err();
        assert!(matches!(err, OfflineError::Zip { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("Cannot open advisory archive `{}`", fake.display())
        );
    }

    #[test]
    fn offsets_from_line_and_column() {
        let text = "ab\ncdé\r\nf";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 3), 5);
        assert_eq!(offset_of(text, 2, 99), 7); // end of the line, before the CR
        assert_eq!(offset_of(text, 3, 1), 9);
        assert_eq!(offset_of(text, 9, 9), text.len());
    }
}

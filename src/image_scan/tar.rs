//! A push parser for the tar streams of image layers: bytes go in as they arrive (after
//! decompression), entries come out, and only the contents of wanted files are kept.
//!
//! Layers are written by Docker, BuildKit, kaniko, Bazel, apko...: POSIX ustar with PAX
//! extended headers (`path`, `linkpath`, `size`), GNU long names (`L`, `K`) and base-256 sizes
//! all occur. Nothing here allocates more than one wanted file's content (bounded by the
//! caller) and one extended header (bounded by [`MAX_HEADER_BYTES`]).

/// The largest PAX or GNU long-name header accepted.
pub const MAX_HEADER_BYTES: u64 = 1024 * 1024;

const BLOCK: usize = 512;

/// Why a layer's tar stream cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TarError {
    /// A header's checksum does not match: the stream is not tar, or is damaged.
    #[error("Entry header at byte {offset} of the layer is not a valid tar header")]
    BadHeader {
        /// Offset of the header in the uncompressed stream.
        offset: u64,
    },
    /// A size field cannot be read.
    #[error("Entry at byte {offset} of the layer has an unreadable size")]
    BadSize {
        /// Offset of the header in the uncompressed stream.
        offset: u64,
    },
    /// An extended header is larger than [`MAX_HEADER_BYTES`].
    #[error("Extended header at byte {offset} of the layer is {size} bytes, more than repin reads")]
    HugeHeader {
        /// Offset of the header.
        offset: u64,
        /// Its size.
        size: u64,
    },
    /// A wanted file is larger than the caller allows.
    #[error("`{path}` in the layer is {size} bytes, more than the {limit} bytes repin reads")]
    HugeFile {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or a hard link, whose content is elsewhere: reported as a link).
    File,
    /// A symbolic link to `target`.
    Symlink(String),
    /// A hard link to `target` (a path in the same layer).
    HardLink(String),
    /// A directory.
    Directory,
    /// Anything else (devices, FIFOs).
    Other,
}

/// One entry's header, its path normalised (no leading `./` or `/`, no trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path, relative to the root.
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Content size.
    pub size: u64,
}

/// What the consumer of a tar stream does with entries.
pub trait Visitor {
    /// An entry's header: return the most bytes of its content to keep (`None`: skip it).
    fn entry(&mut self, entry: &Entry) -> Result<Option<u64>, TarError>;
    /// The content of an entry kept by [`Visitor::entry`].
    fn content(&mut self, entry: &Entry, content: Vec<u8>);
}

/// A path as written in a tar header, normalised; `None` for paths that climb out of the
/// root (`..`), which no layer writer produces and which are ignored.
pub fn normalise(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

enum State {
    /// Reading a 512-byte header.
    Header,
    /// Reading an extended header's content (`L`, `K`, `x`) of `size` bytes.
    Extended { flag: u8, size: u64 },
    /// Keeping `size` bytes of content for the visitor.
    Keep { entry: Entry, size: u64 },
    /// Skipping `left` bytes (content not wanted, or padding).
    Skip { left: u64 },
    /// Two zero blocks seen, or an error: everything after is ignored.
    End,
}

/// The parser. Feed it with [`TarStream::push`].
pub struct TarStream {
    state: State,
    buf: Vec<u8>,
    /// Uncompressed bytes seen.
    offset: u64,
    /// Overrides from extended headers, for the next entry.
    long_name: Option<String>,
    long_link: Option<String>,
    pax_size: Option<u64>,
    zero_blocks: u8,
    error: Option<TarError>,
}

impl Default for TarStream {
    fn default() -> Self {
        Self::new()
    }
}

fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64) * BLOCK as u64
}

fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

fn octal(field: &[u8]) -> Option<u64> {
    // Base-256 (GNU): the high bit of the first byte set.
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut n: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            n = n.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(n);
    }
    let digits = text(field);
    let digits = digits.trim_matches(|c: char| c == ' ' || c == '\0');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

impl TarStream {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        TarStream {
            state: State::Header,
            buf: Vec::with_capacity(BLOCK),
            offset: 0,
            long_name: None,
            long_link: None,
            pax_size: None,
            zero_blocks: 0,
            error: None,
        }
    }

    /// Whether the end of the archive was reached (or an error stopped it).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::End)
    }

    /// The error that stopped the stream, if one did.
    pub fn error(&self) -> Option<&TarError> {
        self.error.as_ref()
    }

    /// Uncompressed bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn fail(&mut self, error: TarError) {
        self.error = Some(error);
        self.state = State::End;
    }

    /// Feed bytes; entries and kept contents go to `visitor`.
    pub fn push(&mut self, mut data: &[u8], visitor: &mut dyn Visitor) {
        while !data.is_empty() {
            match &mut self.state {
                State::End => return,
                State::Skip { left } => {
                    let n = (*left).min(data.len() as u64) as usize;
                    *left -= n as u64;
                    data = &data[n..];
                    self.offset += n as u64;
                    if *left == 0 {
                        self.state = State::Header;
                    }
                }
                State::Header => {
                    let n = (BLOCK - self.buf.len()).min(data.len());
                    self.buf.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    self.offset += n as u64;
                    if self.buf.len() == BLOCK {
                        let block = std::mem::take(&mut self.buf);
                        self.header(&block, visitor);
                        self.buf = block;
                        self.buf.clear();
                    }
                }
                State::Extended { size, .. } | State::Keep { size, .. } => {
                    let want = *size as usize - self.buf.len();
                    let n = want.min(data.len());
                    self.buf.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    self.offset += n as u64;
                    if self.buf.len() as u64 == *size {
                        let content = std::mem::take(&mut self.buf);
                        let pad = padded(*size) - *size;
                        let state = std::mem::replace(&mut self.state, State::Header);
                        match state {
                            State::Extended { flag, .. } => self.extended(flag, &content),
                            State::Keep { entry, .. } => visitor.content(&entry, content),
                            _ => unreachable!("matched above"),
                        }
                        self.buf = Vec::with_capacity(BLOCK);
                        if pad > 0 {
                            self.state = State::Skip { left: pad };
                        }
                    }
                }
            }
        }
    }

    fn extended(&mut self, flag: u8, content: &[u8]) {
        match flag {
            b'L' => self.long_name = Some(text(content)),
            b'K' => self.long_link = Some(text(content)),
            // PAX: records `LEN key=value\n`.
            _ => {
                let mut rest = content;
                while !rest.is_empty() {
                    let Some(space) = rest.iter().position(|&b| b == b' ') else {
                        break;
                    };
                    let Some(len) = std::str::from_utf8(&rest[..space])
                        .ok()
                        .and_then(|l| l.parse::<usize>().ok())
                        .filter(|&l| l > space + 1 && l <= rest.len())
                    else {
                        break;
                    };
                    let record = &rest[space + 1..len - 1];
                    if let Some(eq) = record.iter().position(|&b| b == b'=') {
                        let value = String::from_utf8_lossy(&record[eq + 1..]).into_owned();
                        match &record[..eq] {
                            b"path" => self.long_name = Some(value),
                            b"linkpath" => self.long_link = Some(value),
                            b"size" => self.pax_size = value.parse().ok(),
                            _ => {}
                        }
                    }
                    rest = &rest[len..];
                }
            }
        }
    }

    fn header(&mut self, block: &[u8], visitor: &mut dyn Visitor) {
        let at = self.offset - BLOCK as u64;
        if block.iter().all(|&b| b == 0) {
            self.zero_blocks += 1;
            if self.zero_blocks == 2 {
                self.state = State::End;
            }
            return;
        }
        self.zero_blocks = 0;
        let stored = octal(&block[148..156]);
        let sum: u64 = block
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        if stored != Some(sum) {
            return self.fail(TarError::BadHeader { offset: at });
        }
        let Some(header_size) = octal(&block[124..136]) else {
            return self.fail(TarError::BadSize { offset: at });
        };
        let flag = block[156];
        if matches!(flag, b'L' | b'K' | b'x' | b'g') {
            if header_size > MAX_HEADER_BYTES {
                return self.fail(TarError::HugeHeader {
                    offset: at,
                    size: header_size,
                });
            }
            if flag == b'g' {
                // Global PAX headers change nothing repin reads.
                self.state = skip(header_size);
                return;
            }
            self.state = if header_size == 0 {
                State::Header
            } else {
                State::Extended {
                    flag,
                    size: header_size,
                }
            };
            return;
        }
        let size = self.pax_size.take().unwrap_or(header_size);
        let name = self.long_name.take().unwrap_or_else(|| {
            let name = text(&block[0..100]);
            let prefix = if &block[257..262] == b"ustar" {
                text(&block[345..500])
            } else {
                String::new()
            };
            if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            }
        });
        let link = self
            .long_link
            .take()
            .unwrap_or_else(|| text(&block[157..257]));
        let kind = match flag {
            b'0' | 0 | b'7' => EntryKind::File,
            b'1' => EntryKind::HardLink(link),
            b'2' => EntryKind::Symlink(link),
            b'5' => EntryKind::Directory,
            _ => EntryKind::Other,
        };
        // Only regular files carry content (a hard link's size is 0).
        let content = if kind == EntryKind::File { size } else { 0 };
        let Some(path) = normalise(&name) else {
            self.state = skip(content);
            return;
        };
        let entry = Entry { path, kind, size };
        match visitor.entry(&entry) {
            Err(error) => self.fail(error),
            Ok(Some(limit)) if content > 0 => {
                if content > limit {
                    return self.fail(TarError::HugeFile {
                        path: entry.path,
                        size: content,
                        limit,
                    });
                }
                self.state = State::Keep {
                    entry,
                    size: content,
                };
            }
            Ok(Some(_)) => visitor.content(&entry, Vec::new()),
            Ok(None) => self.state = skip(content),
        }
    }
}

fn skip(size: u64) -> State {
    match padded(size) {
        0 => State::Header,
        left => State::Skip { left },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tar archive of `(path, content or symlink target, kind)` entries, as layer writers
    /// produce them (ustar; a PAX `path` header for long names).
    pub(crate) fn archive(entries: &[(&str, &str, u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for &(path, data, flag) in entries {
            if path.len() > 99 {
                let record = format!("path={path}\n");
                let len = (1..10)
                    .map(|d| record.len() + 1 + d)
                    .find(|len| len.to_string().len() + 1 + record.len() == *len)
                    .unwrap();
                let pax = format!("{len} {record}");
                out.extend(header("PaxHeaders/x", pax.len() as u64, b'x', ""));
                out.extend(pad(pax.as_bytes()));
                out.extend(header(
                    "long",
                    if flag == b'0' { data.len() as u64 } else { 0 },
                    flag,
                    data,
                ));
            } else {
                out.extend(header(
                    path,
                    if flag == b'0' { data.len() as u64 } else { 0 },
                    flag,
                    data,
                ));
            }
            if flag == b'0' {
                out.extend(pad(data.as_bytes()));
            }
        }
        out.extend([0u8; 1024]);
        out
    }

    fn pad(data: &[u8]) -> Vec<u8> {
        let mut v = data.to_vec();
        v.resize(padded(data.len() as u64) as usize, 0);
        v
    }

    fn header(path: &str, size: u64, flag: u8, link: &str) -> Vec<u8> {
        let mut h = vec![0u8; BLOCK];
        h[..path.len()].copy_from_slice(path.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = flag;
        if flag == b'2' || flag == b'1' {
            h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        }
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    #[derive(Default)]
    struct Collect {
        seen: Vec<Entry>,
        kept: Vec<(String, Vec<u8>)>,
    }

    impl Visitor for Collect {
        fn entry(&mut self, entry: &Entry) -> Result<Option<u64>, TarError> {
            self.seen.push(entry.clone());
            Ok(entry.path.ends_with("status").then_some(1 << 20))
        }
        fn content(&mut self, entry: &Entry, content: Vec<u8>) {
            self.kept.push((entry.path.clone(), content));
        }
    }

    #[test]
    fn entries_and_wanted_content_in_any_chunking() {
        let long = format!("var/lib/{}/status", "d".repeat(120));
        let tar = archive(&[
            ("./etc/", "", b'5'),
            ("./etc/os-release", "../usr/lib/os-release", b'2'),
            ("usr/lib/os-release", "ID=debian\n", b'0'),
            ("var/lib/dpkg/status", "Package: a\n", b'0'),
            (&long, "Package: b\n", b'0'),
        ]);
        for chunk in [1, 7, 511, 512, 513, 4096] {
            let mut parser = TarStream::new();
            let mut collect = Collect::default();
            for part in tar.chunks(chunk) {
                parser.push(part, &mut collect);
            }
            assert!(parser.is_done(), "chunk {chunk}");
            assert_eq!(parser.error(), None);
            let paths: Vec<&str> = collect.seen.iter().map(|e| e.path.as_str()).collect();
            assert_eq!(
                paths,
                [
                    "etc",
                    "etc/os-release",
                    "usr/lib/os-release",
                    "var/lib/dpkg/status",
                    long.as_str()
                ]
            );
            assert_eq!(
                collect.seen[1].kind,
                EntryKind::Symlink("../usr/lib/os-release".into())
            );
            assert_eq!(
                collect.kept,
                [
                    ("var/lib/dpkg/status".to_owned(), b"Package: a\n".to_vec()),
                    (long.clone(), b"Package: b\n".to_vec())
                ]
            );
        }
    }

    #[test]
    fn damaged_headers_and_huge_files_stop_the_stream() {
        let mut tar = archive(&[("var/lib/dpkg/status", "x", b'0')]);
        tar[0] = b'X';
        let mut parser = TarStream::new();
        parser.push(&tar, &mut Collect::default());
        assert_eq!(parser.error(), Some(&TarError::BadHeader { offset: 0 }));

        struct Small;
        impl Visitor for Small {
            fn entry(&mut self, _: &Entry) -> Result<Option<u64>, TarError> {
                Ok(Some(2))
            }
            fn content(&mut self, _: &Entry, _: Vec<u8>) {}
        }
        let tar = archive(&[("var/lib/dpkg/status", "abc", b'0')]);
        let mut parser = TarStream::new();
        parser.push(&tar, &mut Small);
        assert!(matches!(
            parser.error(),
            Some(TarError::HugeFile {
                size: 3,
                limit: 2,
                ..
            })
        ));
    }

    #[test]
    fn paths_are_normalised_and_climbing_paths_ignored() {
        assert_eq!(normalise("./var//lib/"), Some("var/lib".into()));
        assert_eq!(normalise("/etc/os-release"), Some("etc/os-release".into()));
        assert_eq!(normalise("../etc/passwd"), None);
    }
}

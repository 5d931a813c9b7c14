//! A wheel's `*.dist-info/METADATA`, read with HTTP range requests: the end of the file (the
//! zip's end-of-central-directory record, usually with the central directory and the
//! metadata itself), then whatever of the central directory and of the one member is still
//! missing; as pip's `lazy_wheel` and uv do. A wheel of any size costs a few kilobytes.
//!
//! The zip is read by hand (it is a small, well-specified format): the end record (and its
//! ZIP64 variant), central directory entries (with ZIP64 extra fields), one local header, and
//! the member stored or deflated, checked against its CRC-32. Every offset and length comes
//! from the server and is bounds-checked before use.

use std::io::Read;

use crate::registry::http::range::{ByteRange, Ranged};
use crate::registry::http::{HttpClient, HttpError, Request};

/// The first request: the last 16 KiB, which for most wheels hold the end record and the
/// central directory, often `METADATA` too (the `.dist-info` directory is written last).
pub const TAIL: u64 = 16 * 1024;

/// What reading by ranges came to.
#[derive(Debug)]
pub enum Outcome {
    /// The metadata text's bytes.
    Metadata(Vec<u8>),
    /// The server ignored `Range` and sent the whole file (within the body limit).
    WholeFile(Vec<u8>),
}

/// Why a wheel could not be read by ranges.
#[derive(Debug, thiserror::Error)]
pub enum RangeError {
    /// A request failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The bytes are not a zip, or not one repin can read.
    #[error("{0}")]
    Zip(String),
}

fn zip_error(reason: impl Into<String>) -> RangeError {
    RangeError::Zip(reason.into())
}

/// The parts of the file fetched so far.
struct Sparse<'a> {
    http: &'a HttpClient,
    request: Request,
    total: u64,
    pieces: Vec<(u64, Vec<u8>)>,
    limit: u64,
}

impl Sparse<'_> {
    /// `len` bytes from `start`, fetched unless already there.
    async fn bytes(&mut self, start: u64, len: u64) -> Result<&[u8], RangeError> {
        let end = start
            .checked_add(len)
            .filter(|end| *end <= self.total)
            .ok_or_else(|| zip_error(format!("a record points past the end ({start}+{len})")))?;
        if len > self.limit {
            return Err(zip_error(format!(
                "a record of {len} bytes is more than the {} bytes repin reads",
                self.limit
            )));
        }
        let found = self
            .pieces
            .iter()
            .position(|(s, b)| *s <= start && end <= s + b.len() as u64);
        let index = match found {
            Some(i) => i,
            None if len == 0 => return Ok(&[]),
            None => {
                let answer = self
                    .http
                    .get_range(
                        self.request.clone(),
                        ByteRange::Span {
                            start,
                            end: end - 1,
                        },
                    )
                    .await?;
                match answer {
                    Ranged::Part { start, body, .. } => self.pieces.push((start, body)),
                    Ranged::Whole(_) => {
                        return Err(zip_error("the server stopped serving byte ranges"));
                    }
                }
                self.pieces.len() - 1
            }
        };
        let (s, b) = &self.pieces[index];
        let from = (start - s) as usize;
        Ok(&b[from..from + len as usize])
    }
}

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(bytes)
}

/// Where the central directory is.
#[derive(Debug, PartialEq, Eq)]
struct Directory {
    offset: u64,
    size: u64,
}

const EOCD: &[u8] = &[0x50, 0x4b, 0x05, 0x06];
const ZIP64_LOCATOR: &[u8] = &[0x50, 0x4b, 0x06, 0x07];
const ZIP64_EOCD: &[u8] = &[0x50, 0x4b, 0x06, 0x06];
const CENTRAL: &[u8] = &[0x50, 0x4b, 0x01, 0x02];
const LOCAL: &[u8] = &[0x50, 0x4b, 0x03, 0x04];

/// The end-of-central-directory record in `tail` (the file's last bytes):
/// the central directory's place, or where the ZIP64 end record is (to be read next).
fn end_record(tail: &[u8]) -> Result<(Directory, Option<u64>), RangeError> {
    if tail.len() < 22 {
        return Err(zip_error("the file is too short to be a zip"));
    }
    // The record is 22 bytes plus a comment of up to 65535 bytes, at the very end.
    let earliest = tail.len().saturating_sub(22 + 65_535);
    let at = (earliest..=tail.len().saturating_sub(22))
        .rev()
        .find(|&i| &tail[i..i + 4] == EOCD && i + 22 + u16_at(tail, i + 20) as usize == tail.len())
        .ok_or_else(|| zip_error("there is no zip end-of-central-directory record"))?;
    let size = u32_at(tail, at + 12);
    let offset = u32_at(tail, at + 16);
    let entries = u16_at(tail, at + 10);
    if size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF || entries == 0xFFFF {
        // ZIP64: a locator right before the record says where the ZIP64 end record is.
        let locator = at
            .checked_sub(20)
            .filter(|l| &tail[*l..*l + 4] == ZIP64_LOCATOR)
            .ok_or_else(|| zip_error("a ZIP64 archive without its locator"))?;
        return Ok((Directory { offset, size }, Some(u64_at(tail, locator + 8))));
    }
    Ok((Directory { offset, size }, None))
}

/// The central directory's place from a ZIP64 end record.
fn zip64_end_record(record: &[u8]) -> Result<Directory, RangeError> {
    if &record[0..4] != ZIP64_EOCD {
        return Err(zip_error(
            "the ZIP64 end record is not where its locator says",
        ));
    }
    Ok(Directory {
        size: u64_at(record, 40),
        offset: u64_at(record, 48),
    })
}

/// One central directory entry: what is needed to read the member.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    name: String,
    method: u64,
    crc: u32,
    compressed: u64,
    uncompressed: u64,
    local_offset: u64,
}

/// Every entry of a central directory.
fn members(directory: &[u8]) -> Result<Vec<Member>, RangeError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 46 <= directory.len() {
        if &directory[at..at + 4] != CENTRAL {
            return Err(zip_error("a damaged central directory entry"));
        }
        let method = u16_at(directory, at + 10);
        let crc = u32_at(directory, at + 16) as u32;
        let mut compressed = u32_at(directory, at + 20);
        let mut uncompressed = u32_at(directory, at + 24);
        let name_len = u16_at(directory, at + 28) as usize;
        let extra_len = u16_at(directory, at + 30) as usize;
        let comment_len = u16_at(directory, at + 32) as usize;
        let mut local_offset = u32_at(directory, at + 42);
        let name_at = at + 46;
        let extra_at = name_at + name_len;
        let next = extra_at + extra_len + comment_len;
        if next > directory.len() {
            return Err(zip_error("a central directory entry runs past its end"));
        }
        let extra = &directory[extra_at..extra_at + extra_len];
        // ZIP64 extended information (0x0001): the 64-bit values of the saturated fields, in
        // this order.
        let mut e = 0;
        while e + 4 <= extra.len() {
            let id = u16_at(extra, e);
            let len = u16_at(extra, e + 2) as usize;
            let data = extra
                .get(e + 4..e + 4 + len)
                .ok_or_else(|| zip_error("an extra field runs past its entry"))?;
            if id == 1 {
                let mut d = 0;
                for field in [&mut uncompressed, &mut compressed, &mut local_offset] {
                    if *field == 0xFFFF_FFFF {
                        if d + 8 > data.len() {
                            return Err(zip_error("a short ZIP64 extra field"));
                        }
                        *field = u64_at(data, d);
                        d += 8;
                    }
                }
            }
            e += 4 + len;
        }
        out.push(Member {
            name: String::from_utf8_lossy(&directory[name_at..extra_at]).into_owned(),
            method,
            crc,
            compressed,
            uncompressed,
            local_offset,
        });
        at = next;
    }
    Ok(out)
}

/// The wheel's top-level `*.dist-info/METADATA`: when there are several, the one named after
/// the wheel's project and version (`filename`'s first two parts).
fn choose<'m>(members: &'m [Member], filename: &str) -> Option<&'m Member> {
    let prefix = filename
        .split('-')
        .take(2)
        .collect::<Vec<_>>()
        .join("-")
        .to_ascii_lowercase();
    let candidates: Vec<&Member> = members
        .iter()
        .filter(|m| {
            let mut parts = m.name.split('/');
            matches!(
                (parts.next(), parts.next(), parts.next()),
                (Some(dir), Some("METADATA"), None) if dir.ends_with(".dist-info")
            )
        })
        .collect();
    candidates
        .iter()
        .find(|m| {
            m.name
                .to_ascii_lowercase()
                .starts_with(&format!("{prefix}.dist-info/"))
        })
        .or(candidates.first())
        .copied()
}

/// Decompress a member's data and check its CRC and size.
fn inflate(member: &Member, data: &[u8], limit: u64) -> Result<Vec<u8>, RangeError> {
    if member.uncompressed > limit {
        return Err(zip_error(format!(
            "{} is {} bytes, more than the {limit} bytes repin reads",
            member.name, member.uncompressed
        )));
    }
    let out = match member.method {
        0 => data.to_vec(),
        8 => {
            let mut out = Vec::with_capacity(member.uncompressed as usize);
            flate2::read::DeflateDecoder::new(data)
                .take(member.uncompressed + 1)
                .read_to_end(&mut out)
                .map_err(|e| zip_error(format!("{} does not inflate: {e}", member.name)))?;
            out
        }
        other => {
            return Err(zip_error(format!(
                "{} is compressed with method {other}, which repin does not read",
                member.name
            )));
        }
    };
    let mut crc = flate2::Crc::new();
    crc.update(&out);
    if out.len() as u64 != member.uncompressed || crc.sum() != member.crc {
        return Err(zip_error(format!(
            "{} does not match its size and CRC-32",
            member.name
        )));
    }
    Ok(out)
}

/// Read `filename`'s `METADATA` from the wheel at `request`'s URL with range requests; a
/// server that ignores ranges hands back the whole file instead. `limit` bounds every read.
pub async fn read(
    http: &HttpClient,
    request: Request,
    filename: &str,
    limit: u64,
) -> Result<Outcome, RangeError> {
    let (tail_start, total, tail) = match http
        .get_range(request.clone(), ByteRange::Suffix(TAIL))
        .await?
    {
        Ranged::Whole(body) => return Ok(Outcome::WholeFile(body)),
        Ranged::Part { start, total, body } => (start, total, body),
    };
    let (mut directory, zip64) = end_record(&tail)?;
    let mut file = Sparse {
        http,
        request,
        total,
        pieces: vec![(tail_start, tail)],
        limit,
    };
    if let Some(at) = zip64 {
        let record = file.bytes(at, 56).await?.to_vec();
        directory = zip64_end_record(&record)?;
    }
    let listing = file.bytes(directory.offset, directory.size).await?.to_vec();
    let all = members(&listing)?;
    drop(listing);
    let member = choose(&all, filename)
        .ok_or_else(|| zip_error("there is no *.dist-info/METADATA"))?
        .clone();
    drop(all);
    // The local header repeats the name and may carry its own extra field: read the fixed
    // part with the data after it (most local extras are short), then exactly what is missing.
    let guess = 30 + member.name.len() as u64 + 64 + member.compressed;
    let guess = guess.min(total - member.local_offset.min(total));
    let header = file.bytes(member.local_offset, guess.max(30)).await?;
    if &header[0..4] != LOCAL {
        return Err(zip_error(format!(
            "{} has no local header where the directory says",
            member.name
        )));
    }
    let data_at = member.local_offset + 30 + u16_at(header, 26) + u16_at(header, 28);
    let data = file.bytes(data_at, member.compressed).await?;
    inflate(&member, data, limit).map(Outcome::Metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip with `entries` (name, data, deflate?) in the layout the `zip` crate writes.
    fn zip(entries: &[(&str, &[u8], bool)], comment: &str) -> Vec<u8> {
        use std::io::Write;
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut writer = zip::ZipWriter::new(&mut out);
            for (name, data, deflate) in entries {
                let method = if *deflate {
                    zip::CompressionMethod::Deflated
                } else {
                    zip::CompressionMethod::Stored
                };
                let options = zip::write::SimpleFileOptions::default().compression_method(method);
                writer.start_file(*name, options).unwrap();
                writer.write_all(data).unwrap();
            }
            writer.set_comment(comment);
            writer.finish().unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn finds_the_directory_and_the_metadata_member() {
        let metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n".repeat(20);
        let bytes = zip(
            &[
                ("demo/__init__.py", b"x = 1\n", true),
                ("other-2.0.dist-info/METADATA", b"wrong", false),
                ("demo-1.0.dist-info/METADATA", &metadata, true),
                ("demo-1.0.dist-info/RECORD", b"", false),
            ],
            "a comment",
        );
        let (directory, zip64) = end_record(&bytes).unwrap();
        assert_eq!(zip64, None);
        let start = directory.offset as usize;
        let all = members(&bytes[start..start + directory.size as usize]).unwrap();
        assert_eq!(all.len(), 4);
        let member = choose(&all, "demo-1.0-py3-none-any.whl").unwrap();
        assert_eq!(member.name, "demo-1.0.dist-info/METADATA");
        let at = member.local_offset as usize;
        let data_at = at + 30 + u16_at(&bytes, at + 26) as usize + u16_at(&bytes, at + 28) as usize;
        let data = &bytes[data_at..data_at + member.compressed as usize];
        assert_eq!(inflate(member, data, 1 << 20).unwrap(), metadata);
        assert!(inflate(member, data, 10).is_err(), "bounded by the limit");
        let mut damaged = data.to_vec();
        let last = damaged.len() - 1;
        damaged[last] ^= 0xff;
        assert!(inflate(member, &damaged, 1 << 20).is_err(), "CRC checked");
    }

    #[test]
    fn damaged_archives_are_errors_not_panics() {
        assert!(end_record(b"not a zip at all, not even close").is_err());
        assert!(end_record(b"").is_err());
        assert!(members(b"PK\x01\x02 too short but long enough to be read as an entry..").is_err());
        let bytes = zip(&[("a-1.dist-info/METADATA", b"x", false)], "");
        let (directory, _) = end_record(&bytes).unwrap();
        let start = directory.offset as usize;
        let mut listing = bytes[start..start + directory.size as usize].to_vec();
        // A name length pointing past the directory.
        listing[28] = 0xff;
        listing[29] = 0xff;
        assert!(members(&listing).is_err());
    }
}

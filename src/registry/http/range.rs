//! HTTP range requests (RFC 9110 §14): a part of a file instead of all of it.
//!
//! Used to read a wheel's `METADATA` from its zip central directory without downloading the
//! wheel, as pip and uv do. A server that ignores `Range` answers `200` with the whole file:
//! that is reported as [`Ranged::Whole`] (bounded by the client's body limit like any body),
//! never mistaken for the part asked for.

use reqwest::header::RANGE;

use super::{HttpClient, HttpError, Request};
use crate::vocab::redact;

/// Which bytes to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=START-END`, both inclusive.
    Span {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// `bytes=-N`: the last N bytes (the whole file when it is shorter).
    Suffix(u64),
}

impl ByteRange {
    fn header(self) -> String {
        match self {
            ByteRange::Span { start, end } => format!("bytes={start}-{end}"),
            ByteRange::Suffix(n) => format!("bytes=-{n}"),
        }
    }
}

/// What a range request brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranged {
    /// `206 Partial Content`: `body` holds the bytes from `start` of a file of `total` bytes.
    Part {
        /// Offset of the first byte of `body` in the file.
        start: u64,
        /// The file's size.
        total: u64,
        /// The bytes.
        body: Vec<u8>,
    },
    /// `200 OK`: the server does not serve ranges and sent the whole file.
    Whole(Vec<u8>),
}

/// Parse `Content-Range: bytes START-END/TOTAL` (a `*` total is not accepted: the caller
/// needs the file's size).
pub fn content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (span, total) = rest.split_once('/')?;
    let (start, end) = span.trim().split_once('-')?;
    let (start, end, total) = (
        start.trim().parse::<u64>().ok()?,
        end.trim().parse::<u64>().ok()?,
        total.trim().parse::<u64>().ok()?,
    );
    (start <= end && end < total).then_some((start, end, total))
}

/// Why a range answer is unusable.
fn invalid(request: &Request, reason: String) -> HttpError {
    HttpError::InvalidRequest {
        url: redact::url(&request.url),
        reason,
    }
}

impl HttpClient {
    /// `GET` `range` of `request`'s URL, never from or into the cache (its key does not hold
    /// the range). A `206` must say which bytes it holds, and hold them; a `200` is the whole
    /// file. Any other status is an [`HttpError::Status`].
    pub async fn get_range(&self, request: Request, range: ByteRange) -> Result<Ranged, HttpError> {
        let request = request.uncached().header(RANGE, range.header());
        let response = self.send(request.clone()).await?.ensure_success()?;
        if response.status != 206 {
            return Ok(Ranged::Whole(response.body));
        }
        let Some((start, end, total)) = response.header("content-range").and_then(content_range)
        else {
            return Err(invalid(
                &request,
                "a 206 answer without a usable Content-Range".into(),
            ));
        };
        let asked = match range {
            ByteRange::Span { start: s, end: e } => start == s && end == e.min(total - 1),
            ByteRange::Suffix(n) => end == total - 1 && start == total.saturating_sub(n),
        };
        if !asked || response.body.len() as u64 != end - start + 1 {
            return Err(invalid(
                &request,
                format!(
                    "asked for {}, the server sent bytes {start}-{end}/{total} ({} bytes)",
                    range.header(),
                    response.body.len()
                ),
            ));
        }
        Ok(Ranged::Part {
            start,
            total,
            body: response.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(content_range("bytes 168-197/198"), Some((168, 197, 198)));
        assert_eq!(content_range("bytes  0-0/1"), Some((0, 0, 1)));
        for bad in [
            "bytes 5-4/10",
            "bytes 0-10/10",
            "bytes 0-1/*",
            "bytes */10",
            "items 0-1/2",
            "",
        ] {
            assert_eq!(content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn range_headers() {
        assert_eq!(ByteRange::Suffix(10).header(), "bytes=-10");
        assert_eq!(ByteRange::Span { start: 1, end: 2 }.header(), "bytes=1-2");
    }
}

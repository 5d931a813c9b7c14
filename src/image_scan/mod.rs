//! Reading an image's OS packages from its registry, without pulling or running it.
//!
//! For one platform of an image: its manifest (through the index when there is one), its
//! config (to refuse what is not a Linux image), then its layers from the top down, each read by
//! HTTP range requests of growing size, decompressed and parsed as it arrives
//! ([`tar::TarStream`]), and left as soon as what is needed has been seen ([`layers`]): dpkg's
//! or apk's database and the distribution. A layer read to its end has its digest checked; a
//! layer left early cannot be (its prefix is used as served). What a layer holds is cached by
//! registry and layer digest in repin's cache directory: layers are shared across tags and
//! images, so most lookups after the first are cache hits and fetch nothing but manifests.
//!
//! Bounds: [`MAX_IMAGE_BYTES`] fetched per image, [`MAX_LAYER_TAR_BYTES`] decompressed per
//! layer (a compression bomb stops there), [`layers::MAX_FILE_BYTES`] per file kept,
//! [`MAX_LAYERS`] layers.

pub mod layers;
pub mod packages;
pub mod tar;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::registry::http::CacheMode;
use crate::registry::http::range::Ranged;
use crate::registry::oci::{Manifest, OciClient, OciError, Platform};
use layers::{LayerFindings, LayerVisitor, Merged};
pub use packages::{Installed, OsRelease, PackageManager};
use tar::{TarError, TarStream};

/// The most compressed bytes fetched for one image.
pub const MAX_IMAGE_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The most bytes one layer may decompress to before repin stops reading it.
pub const MAX_LAYER_TAR_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// The most layers an image may have.
pub const MAX_LAYERS: usize = 256;
/// The largest image manifest or config read.
const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;
/// The first range asked of a layer; each next one is twice as big, up to [`LAST_CHUNK`].
const FIRST_CHUNK: u64 = 256 * 1024;
const LAST_CHUNK: u64 = 8 * 1024 * 1024;

/// Why an image's packages cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The registry failed.
    #[error("Cannot read `{image}` from its registry")]
    Registry {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: OciError,
    },
    /// A manifest or config is not what the OCI image specification says.
    #[error("`{image}` has a manifest or config repin cannot read: {reason}")]
    BadManifest {
        /// The image.
        image: String,
        /// What is wrong.
        reason: String,
    },
    /// The index has no manifest for the platform.
    #[error("`{image}` has no image for {platform}")]
    NoPlatform {
        /// The image.
        image: String,
        /// The platform.
        platform: String,
    },
    /// Not a Linux image.
    #[error("`{image}` is a {os} image; repin reads the packages of Linux images only")]
    NotLinux {
        /// The image.
        image: String,
        /// Its `os`.
        os: String,
    },
    /// A layer compressed with something repin does not decompress.
    #[error(
        "Layer {layer} of `{image}` is compressed with {compression}, which repin does not read"
    )]
    Compression {
        /// The image.
        image: String,
        /// The layer's digest.
        layer: String,
        /// What it is.
        compression: &'static str,
    },
    /// A layer's compressed stream is damaged.
    #[error("Layer {layer} of `{image}` is not a valid {compression} stream")]
    Decompress {
        /// The image.
        image: String,
        /// The layer's digest.
        layer: String,
        /// `gzip`, `zstd`, or `tar` when uncompressed.
        compression: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A layer's tar stream is damaged or too big.
    #[error("Layer {layer} of `{image}` cannot be read")]
    Tar {
        /// The image.
        image: String,
        /// The layer's digest.
        layer: String,
        /// Why.
        #[source]
        source: TarError,
    },
    /// A layer read to its end does not hash to its digest.
    #[error("Layer {layer} of `{image}` hashes to {actual}: the registry served other bytes")]
    LayerDigest {
        /// The image.
        image: String,
        /// The layer's digest.
        layer: String,
        /// What it hashed to.
        actual: String,
    },
    /// An image bigger than repin reads.
    #[error("`{image}` needs more than {limit} bytes read to find its packages, more than repin reads", limit = MAX_IMAGE_BYTES)]
    TooLarge {
        /// The image.
        image: String,
    },
    /// Offline, and a layer is not in the cache.
    #[error("Layer {layer} of `{image}` is not in the cache, and the run is offline")]
    NotCached {
        /// The image.
        image: String,
        /// The layer's digest.
        layer: String,
    },
}

impl crate::error::Hint for ScanError {
    fn hints(&self) -> Vec<String> {
        match self {
            ScanError::Registry { source, .. } => source.hints(),
            ScanError::Compression { .. } => {
                vec!["repin reads gzip, zstd and uncompressed layers".into()]
            }
            ScanError::NotCached { .. } => {
                vec!["run once online to cache what the image's layers hold".into()]
            }
            _ => Vec::new(),
        }
    }
}

/// What was read of one image for one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageScan {
    /// The image as asked (`registry/repository:tag` or `@digest`).
    pub image: String,
    /// The digest of the platform's manifest.
    pub manifest: String,
    /// The platform read.
    pub platform: String,
    /// `os-release`, when the layers read had it.
    pub os_release: Option<OsRelease>,
    /// The distribution: `os-release`, else what the package database's release package says.
    pub distribution: Option<OsRelease>,
    /// The package manager whose database was found (`None`: no OS packages, as in `scratch`
    /// images or static distroless ones without a database).
    pub manager: Option<PackageManager>,
    /// Installed packages, sorted.
    pub packages: Vec<Installed>,
    /// The image's layers.
    pub layers: usize,
    /// Layers read from the registry in this scan.
    pub layers_fetched: usize,
    /// Layers answered by the cache.
    pub layers_cached: usize,
    /// Compressed bytes fetched from the registry in this scan.
    pub bytes_fetched: u64,
}

/// Totals over a run, for `--verbose` summaries and benchmarks.
#[derive(Debug, Default)]
pub struct ScanStats {
    /// Compressed layer bytes fetched.
    pub bytes: AtomicU64,
    /// Layers read from registries.
    pub layers_fetched: AtomicU64,
    /// Layers answered by the cache.
    pub layers_cached: AtomicU64,
}

/// Reads images' packages. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ImageScanner {
    oci: OciClient,
    /// Where layer findings are cached, and whether the run is offline.
    cache: Option<(PathBuf, bool)>,
    stats: Arc<ScanStats>,
}

#[derive(Deserialize)]
struct RawManifest {
    config: Option<RawDescriptor>,
    #[serde(default)]
    layers: Vec<RawDescriptor>,
}

/// A layer or config descriptor. Its media type is not trusted: a layer's compression is told
/// by its first bytes.
#[derive(Deserialize)]
struct RawDescriptor {
    digest: String,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
}

/// A layer's bytes on their way to the tar parser: decompressed first when gzipped or
/// zstd-compressed (told by the stream's first bytes, whatever the media type says).
enum Decoder {
    Gzip(Box<flate2::write::MultiGzDecoder<Sink>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, Sink>>),
    Plain(Box<Sink>),
}

impl Decoder {
    fn sink(&self) -> &Sink {
        match self {
            Decoder::Gzip(d) => d.get_ref(),
            Decoder::Zstd(d) => d.get_ref(),
            Decoder::Plain(s) => s,
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Decoder::Gzip(d) => d.write_all(bytes),
            Decoder::Zstd(d) => d.write_all(bytes),
            Decoder::Plain(s) => s.write_all(bytes),
        }
    }

    fn compression(&self) -> &'static str {
        match self {
            Decoder::Gzip(_) => "gzip",
            Decoder::Zstd(_) => "zstd",
            Decoder::Plain(_) => "tar",
        }
    }
}

/// The tar parser and the layer's findings, with what the layers above already settled.
struct Sink {
    tar: TarStream,
    visitor: LayerVisitor,
    above: Merged,
    /// Findings count at the last settled check.
    checked: usize,
    settled: bool,
    written: u64,
}

impl Sink {
    fn stopped(&self) -> bool {
        self.settled || self.tar.is_done()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.stopped() {
            return Ok(buf.len());
        }
        self.written += buf.len() as u64;
        if self.written > MAX_LAYER_TAR_BYTES {
            return Err(std::io::Error::other(format!(
                "it decompresses to more than {MAX_LAYER_TAR_BYTES} bytes"
            )));
        }
        self.tar.push(buf, &mut self.visitor);
        let found = self.visitor.findings.files.len() + self.visitor.findings.hidden.len();
        if found != self.checked {
            self.checked = found;
            let mut merged = self.above.clone();
            merged.absorb(&self.visitor.findings);
            self.settled = merged.is_settled();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ImageScanner {
    /// A scanner over `oci`, caching layer findings as `cache` says (under `image-layers/` in
    /// the cache directory).
    pub fn new(oci: OciClient, cache: &CacheMode) -> Self {
        let cache = match cache {
            CacheMode::Disabled => None,
            CacheMode::Enabled(c) => Some((c.dir().join("image-layers"), false)),
            CacheMode::Offline(c) => Some((c.dir().join("image-layers"), true)),
        };
        ImageScanner {
            oci,
            cache,
            stats: Arc::default(),
        }
    }

    /// Totals of the run so far.
    pub fn stats(&self) -> &ScanStats {
        &self.stats
    }

    /// Read the packages of `registry/repository` at `reference` (a tag or digest) for
    /// `platform`.
    pub async fn scan(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
        platform: &Platform,
    ) -> Result<ImageScan, ScanError> {
        let sep = if reference.starts_with("sha256:") {
            '@'
        } else {
            ':'
        };
        let image = format!("{registry}/{repository}{sep}{reference}");
        let registry_error = |source| ScanError::Registry {
            image: image.clone(),
            source,
        };
        let bad = |reason: String| ScanError::BadManifest {
            image: image.clone(),
            reason,
        };
        let (body, digest) = self
            .oci
            .manifest_body(registry, repository, reference)
            .await
            .map_err(registry_error)?;
        let (body, digest) = match Manifest::parse(&body, digest).map_err(|e| bad(e.to_string()))? {
            Manifest::Index { .. } => {
                let index =
                    Manifest::parse(&body, String::new()).map_err(|e| bad(e.to_string()))?;
                let Some(entry) = index.for_platform(platform) else {
                    return Err(ScanError::NoPlatform {
                        image,
                        platform: platform.to_string(),
                    });
                };
                let entry = entry.to_owned();
                self.oci
                    .manifest_body(registry, repository, &entry)
                    .await
                    .map_err(registry_error)?
            }
            Manifest::Image { digest, .. } => (body, digest),
        };
        let raw: RawManifest = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
        if let Some(config) = &raw.config {
            let bytes = self
                .oci
                .blob(registry, repository, &config.digest, MAX_CONFIG_BYTES)
                .await
                .map_err(registry_error)?;
            let config: RawConfig =
                serde_json::from_slice(&bytes).map_err(|e| bad(format!("config: {e}")))?;
            if !config.os.is_empty() && config.os != "linux" {
                return Err(ScanError::NotLinux {
                    image,
                    os: config.os,
                });
            }
            let _ = config.architecture;
        }
        if raw.layers.len() > MAX_LAYERS {
            return Err(bad(format!("it has {} layers", raw.layers.len())));
        }
        let mut merged = Merged::default();
        let mut scan = ImageScan {
            image: image.clone(),
            manifest: digest,
            platform: platform.to_string(),
            os_release: None,
            distribution: None,
            manager: None,
            packages: Vec::new(),
            layers: raw.layers.len(),
            layers_fetched: 0,
            layers_cached: 0,
            bytes_fetched: 0,
        };
        let mut settled = false;
        for layer in raw.layers.iter().rev() {
            let findings = match self.cached(registry, &layer.digest, &merged) {
                Some(findings) => {
                    scan.layers_cached += 1;
                    self.stats.layers_cached.fetch_add(1, Ordering::Relaxed);
                    findings
                }
                None => {
                    if self.cache.as_ref().is_some_and(|(_, offline)| *offline) {
                        return Err(ScanError::NotCached {
                            image,
                            layer: layer.digest.clone(),
                        });
                    }
                    let findings = self
                        .read_layer(registry, repository, &image, layer, &merged, &mut scan)
                        .await?;
                    self.store(registry, &layer.digest, &findings);
                    findings
                }
            };
            merged.absorb(&findings);
            if merged.is_settled() {
                settled = true;
                break;
            }
        }
        let contents = merged.finish(!settled);
        scan.distribution = contents
            .os_release
            .clone()
            .or_else(|| layers::release_from_packages(contents.manager, &contents.packages));
        scan.os_release = contents.os_release;
        scan.manager = contents.manager;
        scan.packages = contents.packages;
        Ok(scan)
    }

    fn cache_path(&self, registry: &str, layer: &str) -> Option<PathBuf> {
        let (dir, _) = self.cache.as_ref()?;
        // By registry too: a layer read only in part is used as served, so one registry's
        // answer is never taken for another's.
        let key = hex::encode(Sha256::digest(format!("{registry}\n{layer}").as_bytes()));
        Some(dir.join(format!("{key}.json")))
    }

    /// A cached layer's findings, when they are enough for this image: complete, or a prefix
    /// that settles it as it settled the image it was read for.
    fn cached(&self, registry: &str, layer: &str, above: &Merged) -> Option<LayerFindings> {
        let path = self.cache_path(registry, layer)?;
        let bytes = std::fs::read(path).ok()?;
        let findings: LayerFindings = serde_json::from_slice(&bytes).ok()?;
        if findings.complete {
            return Some(findings);
        }
        let mut merged = above.clone();
        merged.absorb(&findings);
        merged.is_settled().then_some(findings)
    }

    fn store(&self, registry: &str, layer: &str, findings: &LayerFindings) {
        let Some(path) = self.cache_path(registry, layer) else {
            return;
        };
        // A cache that cannot be written only costs a fetch next time.
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(bytes) = serde_json::to_vec(findings) {
            let _ =
                crate::text::atomic::write(&path, &bytes, crate::text::atomic::Durability::Cache);
        }
    }

    async fn read_layer(
        &self,
        registry: &str,
        repository: &str,
        image: &str,
        layer: &RawDescriptor,
        above: &Merged,
        scan: &mut ImageScan,
    ) -> Result<LayerFindings, ScanError> {
        scan.layers_fetched += 1;
        self.stats.layers_fetched.fetch_add(1, Ordering::Relaxed);
        let sink = Sink {
            above: above.clone(),
            ..empty_sink()
        };
        let mut decoder: Option<Decoder> = None;
        let mut pending = Some(sink);
        let mut hasher = Sha256::new();
        let mut offset: u64 = 0;
        let mut chunk = FIRST_CHUNK;
        let mut reached_end = false;
        loop {
            let ranged = self
                .oci
                .blob_range(
                    registry,
                    repository,
                    &layer.digest,
                    offset,
                    offset + chunk - 1,
                )
                .await
                .map_err(|source| ScanError::Registry {
                    image: image.to_owned(),
                    source,
                })?;
            let (body, total) = match ranged {
                // A registry that ignores ranges sent it all, from the start.
                Ranged::Whole(body) => {
                    let len = body.len() as u64;
                    let rest = body.get(offset as usize..).unwrap_or_default().to_vec();
                    (rest, len)
                }
                Ranged::Part { total, body, .. } => (body, total),
            };
            let fetched = body.len() as u64;
            scan.bytes_fetched += fetched;
            self.stats.bytes.fetch_add(fetched, Ordering::Relaxed);
            if scan.bytes_fetched > MAX_IMAGE_BYTES {
                return Err(ScanError::TooLarge {
                    image: image.to_owned(),
                });
            }
            hasher.update(&body);
            if decoder.is_none() {
                let sink = pending.take().expect("the sink waits for the first bytes");
                decoder = Some(match body.get(..4) {
                    Some([0x1f, 0x8b, ..]) => {
                        Decoder::Gzip(Box::new(flate2::write::MultiGzDecoder::new(sink)))
                    }
                    Some([0x28, 0xb5, 0x2f, 0xfd]) => {
                        let decoder =
                            zstd::stream::write::Decoder::new(sink).map_err(|source| {
                                ScanError::Decompress {
                                    image: image.to_owned(),
                                    layer: layer.digest.clone(),
                                    compression: "zstd",
                                    source,
                                }
                            })?;
                        Decoder::Zstd(Box::new(decoder))
                    }
                    Some([0xfd, b'7', b'z', b'X']) | Some([b'B', b'Z', b'h', _]) => {
                        return Err(ScanError::Compression {
                            image: image.to_owned(),
                            layer: layer.digest.clone(),
                            compression: if body[0] == 0xfd { "xz" } else { "bzip2" },
                        });
                    }
                    _ => Decoder::Plain(Box::new(sink)),
                });
            }
            let decoder_ref = decoder.as_mut().expect("set above");
            if let Err(source) = decoder_ref.write_all(&body) {
                return Err(ScanError::Decompress {
                    image: image.to_owned(),
                    layer: layer.digest.clone(),
                    compression: decoder_ref.compression(),
                    source,
                });
            }
            offset += fetched;
            if fetched == 0 || offset >= total {
                reached_end = true;
                break;
            }
            if decoder_ref.sink().stopped() {
                break;
            }
            chunk = (chunk * 2).min(LAST_CHUNK);
        }
        let Some(decoder) = decoder else {
            return Ok(LayerFindings {
                complete: true,
                ..LayerFindings::default()
            });
        };
        let sink = match decoder {
            Decoder::Gzip(d) => {
                let mut d = *d;
                if reached_end && !d.get_ref().stopped() {
                    d.try_finish().map_err(|source| ScanError::Decompress {
                        image: image.to_owned(),
                        layer: layer.digest.clone(),
                        compression: "gzip",
                        source,
                    })?;
                }
                // Taken out, not `finish`ed: a stream left early is incomplete on purpose.
                std::mem::replace(d.get_mut(), empty_sink())
            }
            Decoder::Zstd(d) => {
                let mut d = *d;
                if reached_end && !d.get_ref().stopped() {
                    d.flush().map_err(|source| ScanError::Decompress {
                        image: image.to_owned(),
                        layer: layer.digest.clone(),
                        compression: "zstd",
                        source,
                    })?;
                }
                d.into_inner()
            }
            Decoder::Plain(s) => *s,
        };
        if let Some(error) = sink.tar.error() {
            return Err(ScanError::Tar {
                image: image.to_owned(),
                layer: layer.digest.clone(),
                source: error.clone(),
            });
        }
        if reached_end {
            let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
            if layer.digest.starts_with("sha256:") && actual != layer.digest {
                return Err(ScanError::LayerDigest {
                    image: image.to_owned(),
                    layer: layer.digest.clone(),
                    actual,
                });
            }
        }
        let mut findings = sink.visitor.findings;
        findings.complete = reached_end || (sink.tar.is_done() && !sink.settled);
        Ok(findings)
    }
}

/// A sink that holds nothing, left in a decoder whose sink is taken out.
fn empty_sink() -> Sink {
    Sink {
        tar: TarStream::new(),
        visitor: LayerVisitor::new(),
        above: Merged::default(),
        checked: 0,
        settled: false,
        written: 0,
    }
}

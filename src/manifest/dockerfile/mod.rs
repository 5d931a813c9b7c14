//! Dockerfiles: the parts that hold pins. Base images in `FROM`, images in `COPY --from` and
//! `RUN --mount=from=`, `ARG` defaults that supply them, and `pip install` pins inside `RUN`.

mod image_ref;

use serde::Serialize;

pub use image_ref::{ImageRef, ImageRefError};

use super::Manifest;
use crate::text::{SourceFile, Span};

/// Where in a Dockerfile an image is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum ImageContext {
    /// `FROM image [AS alias]`, the `stage`-th (0-based) `FROM` of the file.
    From {
        /// 0-based index of the stage.
        stage: usize,
        /// The `AS` name, as written.
        alias: Option<String>,
    },
    /// `COPY --from=image`.
    CopyFrom,
    /// `RUN --mount=...,from=image`.
    RunMount,
}

/// An image reference found in a Dockerfile, with the spans an edit needs.
#[derive(Debug, Clone)]
pub struct ImageDependency {
    /// The reference after `ARG` substitution.
    pub reference: ImageRef,
    /// The reference as written in the instruction, before substitution (`${BASE}`).
    pub written: String,
    /// Where it is used.
    pub context: ImageContext,
    /// `--platform=...` of the `FROM`, as written.
    pub platform: Option<String>,
    /// Where the whole reference text is in the file: in the instruction, or in the `ARG`
    /// default that supplies it.
    pub reference_span: Span,
    /// Where the tag text is (without `:`), when there is a tag and it sits in one place.
    pub tag_span: Option<Span>,
    /// Where the digest text is (`sha256:...`, without `@`).
    pub digest_span: Option<Span>,
    /// Where `@sha256:...` is inserted to add a digest pin, when there is no digest yet.
    pub digest_insert_at: Option<usize>,
    /// The `ARG` whose default supplies the reference or its tag, if any.
    pub from_arg: Option<String>,
}

/// A build stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// The `AS` name as written, if any.
    pub name: Option<String>,
    /// The base as written after `FROM` (before substitution).
    pub base: String,
    /// Span of the whole `FROM` instruction.
    pub span: Span,
}

/// An `ARG` instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildArg {
    /// The name.
    pub name: String,
    /// The default value as written, unquoted, if any.
    pub default: Option<String>,
    /// Where the default's text is.
    pub default_span: Option<Span>,
    /// Declared before the first `FROM` (usable in `FROM` lines).
    pub global: bool,
}

/// Facts about a whole Dockerfile.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DockerfileInfo {
    /// `# syntax=` directive value.
    pub syntax: Option<String>,
    /// The escape character (`\` unless `# escape=` says otherwise).
    pub escape: char,
    /// Every stage in order.
    pub stages: Vec<Stage>,
    /// Every `ARG` in order.
    pub args: Vec<BuildArg>,
}

/// Parse a Dockerfile.
pub fn parse(source: SourceFile) -> Manifest {
    let _ = source;
    unimplemented!("the Dockerfile parser")
}

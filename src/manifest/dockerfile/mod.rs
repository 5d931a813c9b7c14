//! Dockerfiles: the parts that hold pins. Base images in `FROM`, images in `COPY --from` and
//! `RUN --mount=from=`, `ARG` defaults that supply them, and `pip install` pins inside `RUN`.
//!
//! The file is split into instructions as BuildKit does ([`instructions`]); `ARG` declarations
//! are tracked in scopes (global before the first `FROM`, then per stage) and substituted into
//! image references with their provenance ([`args`]), so an image whose tag an `ARG` supplies
//! is edited in the `ARG` line. Stage references and `scratch` are listed, not updated.

pub mod args;
mod image_ref;
pub mod instructions;
pub mod pip;

use serde::Serialize;

pub use image_ref::{DOCKER_HUB, ImageRef, ImageRefError, Parts, is_valid_digest};

use super::python;
use super::{
    Dependency, DependencyDetail, DependencyKind, Manifest, ManifestDetails, ManifestKind,
    SkipReason,
};
use crate::text::{Diagnostic, Mapped, SourceFile, Span};
use args::{Budget, Scope, Word};
use instructions::Instruction;

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
    /// `COPY --from=image` (or `ADD --from`).
    CopyFrom,
    /// `RUN --mount=...,from=image`.
    RunMount,
    /// The `# syntax=` parser directive: the BuildKit frontend image that reads the file.
    Syntax,
}

/// An image reference found in a Dockerfile, with what an edit needs.
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
    /// The substituted reference text, mapped to where each part of it is in the file.
    pub resolved: Mapped,
    /// Where name, tag and digest are in `resolved`.
    pub parts: Parts,
    /// Span of the reference as written in the instruction.
    pub reference_span: Span,
    /// Where the tag text is (without `:`), when it sits verbatim in one place.
    pub tag_span: Option<Span>,
    /// Where the digest text is (`sha256:...`, without `@`), when it sits in one place.
    pub digest_span: Option<Span>,
    /// Where `@sha256:...` is inserted to add a digest pin, when there is no digest yet.
    pub digest_insert_at: Option<usize>,
    /// The first `ARG` used in the reference, if any.
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
    /// `--platform=...` of the `FROM`, as written.
    pub platform: Option<String>,
    /// What the stage copies from the build context (`COPY`/`ADD` without `--from`), in order.
    pub copies: Vec<ContextCopy>,
    /// Requirements files the stage installs: the `-r`/`-c` files of `pip install`,
    /// `uv pip install`, and the files of `pip-sync` and `uv pip sync`, as written.
    pub installs: Vec<String>,
}

/// Files a stage takes from the build context: `COPY src... dest`, or
/// `RUN --mount=type=bind,source=src,target=dest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextCopy {
    /// The sources as written (relative to the build context; may be globs or `.`).
    pub sources: Vec<String>,
    /// The destination as written (a directory when it ends in `/` or there are several
    /// sources).
    pub destination: String,
}

/// An `ARG` instruction's declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildArg {
    /// The name.
    pub name: String,
    /// The default value after substitution, if any.
    pub default: Option<String>,
    /// Where the default's text is, when it sits verbatim in one place.
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
    /// Every `ARG` declaration in order.
    pub args: Vec<BuildArg>,
}

/// Parse a Dockerfile.
pub fn parse(source: SourceFile) -> Manifest {
    let mut parser = Parser {
        source: &source,
        info: DockerfileInfo::default(),
        dependencies: Vec::new(),
        diagnostics: Vec::new(),
        global: Scope::default(),
        stage_scope: Scope::default(),
        in_stage: false,
        budget: Budget::for_text(source.text().len()),
        stage_names: std::collections::HashMap::new(),
        env_names: std::collections::HashSet::new(),
    };
    parser.run();
    let Parser {
        info,
        dependencies,
        diagnostics,
        ..
    } = parser;
    Manifest {
        source,
        kind: ManifestKind::Dockerfile,
        dependencies,
        diagnostics,
        details: ManifestDetails::Dockerfile(info),
    }
}

struct Parser<'s> {
    source: &'s SourceFile,
    info: DockerfileInfo,
    dependencies: Vec<Dependency>,
    diagnostics: Vec<Diagnostic>,
    global: Scope,
    stage_scope: Scope,
    in_stage: bool,
    /// What `ARG` substitution may still copy in this file (linear in its size).
    budget: Budget,
    /// The index of the first stage of each `AS` name, lowercased.
    stage_names: std::collections::HashMap<String, usize>,
    /// Names an `ENV` has set so far: a `RUN` sees the `ENV` value over an `ARG` of that name.
    env_names: std::collections::HashSet<String>,
}

impl Parser<'_> {
    fn run(&mut self) {
        let lexed = instructions::lex(self.source.text());
        self.info.syntax = lexed.directives.syntax.clone();
        self.info.escape = lexed.directives.escape;
        if let (Some(syntax), Some(span)) = (&lexed.directives.syntax, lexed.directives.syntax_span)
        {
            self.syntax(syntax, span);
        }
        for stray in &lexed.strays {
            let line = self.source.slice(stray.span).trim();
            let message =
                if line.starts_with("{%") || line.starts_with("{{") || line.starts_with("{#") {
                    "Template line skipped".to_owned()
                } else {
                    let word = line.split_whitespace().next().unwrap_or("");
                    format!("Unknown instruction `{word}` skipped")
                };
            self.diagnostics
                .push(Diagnostic::warning(self.source, stray.span, message));
        }
        for span in &lexed.unterminated_heredocs {
            self.diagnostics.push(Diagnostic::warning(
                self.source,
                Span::empty(span.start),
                "A heredoc is never terminated; the rest of the file was read as its body",
            ));
        }
        for instruction in &lexed.instructions {
            match instruction.keyword.as_str() {
                "ARG" => self.arg(instruction),
                "FROM" => self.from(instruction),
                "COPY" | "ADD" => self.copy(instruction),
                "RUN" => self.run_instruction(instruction),
                "ENV" => self.env(instruction),
                _ => {}
            }
        }
    }

    /// The `# syntax=` directive names an image (`docker/dockerfile:1.4`), updated like any
    /// other. A directive is never substituted, so no `ARG` reaches it.
    fn syntax(&mut self, value: &str, span: Span) {
        let mut args = Mapped::new();
        args.push_file(value, span.start);
        let directive = Instruction {
            keyword: "SYNTAX".to_owned(),
            keyword_span: span,
            args: args.clone(),
            span,
        };
        let word = Word {
            value: args,
            start: 0,
            end: value.len(),
        };
        self.image(
            &directive,
            &word,
            &Scope::default(),
            ImageContext::Syntax,
            None,
        );
    }

    fn words(&self, instruction: &Instruction) -> Vec<Word> {
        args::words(&instruction.args, self.info.escape)
    }

    fn arg(&mut self, instruction: &Instruction) {
        let words = self.words(instruction);
        let global = !self.in_stage;
        // A stage's `ARG NAME` without default takes the global value.
        let declared = if global {
            args::declare_all(&words, &mut self.global, &mut self.budget)
        } else {
            // Declared in place: a copy of the scope per `ARG` made long stages quadratic.
            let declared = args::declare_all(&words, &mut self.stage_scope, &mut self.budget);
            for (d, _) in &declared {
                if d.default.is_none() {
                    self.stage_scope.inherit(&d.name, &self.global);
                }
            }
            declared
        };
        for (d, _) in declared {
            let default_span = d.default.as_ref().and_then(|v| v.file_span(0, v.len()));
            self.info.args.push(BuildArg {
                name: d.name,
                default: d.default.map(|v| v.text().to_owned()),
                default_span,
                global,
            });
        }
    }

    /// `ENV A=1 B=2`, or the legacy `ENV A 1`: only the names matter (see `env_names`).
    fn env(&mut self, instruction: &Instruction) {
        let words = self.words(instruction);
        for (i, word) in words.iter().enumerate() {
            match word.value.text().split_once('=') {
                Some((name, _)) => {
                    self.env_names.insert(name.to_owned());
                }
                None if i == 0 => {
                    self.env_names.insert(word.value.text().to_owned());
                    break;
                }
                None => {}
            }
        }
    }

    fn stage_index(&self, name: &str) -> Option<usize> {
        if let Ok(n) = name.parse::<usize>() {
            return (n < self.info.stages.len()).then_some(n);
        }
        // By name in a map: a scan of every stage for each image made 50,000 stages quadratic.
        self.stage_names.get(&name.to_ascii_lowercase()).copied()
    }

    fn from(&mut self, instruction: &Instruction) {
        let words = self.words(instruction);
        let mut platform = None;
        let mut rest = Vec::new();
        for word in &words {
            let text = word.value.text();
            if rest.is_empty() && text.starts_with("--") {
                if let Some(p) = text.strip_prefix("--platform=") {
                    platform = Some(p.to_owned());
                }
                continue;
            }
            rest.push(word);
        }
        let Some(image) = rest.first() else {
            self.diagnostics.push(Diagnostic::error(
                self.source,
                instruction.keyword_span,
                "`FROM` needs an image",
            ));
            return;
        };
        let alias = match (rest.get(1), rest.get(2)) {
            (Some(kw), Some(name)) if kw.value.text().eq_ignore_ascii_case("as") => {
                Some(name.value.text().to_owned())
            }
            (Some(kw), None) if kw.value.text().eq_ignore_ascii_case("as") => {
                let span = instruction.args.cover(kw.start, kw.end);
                self.diagnostics.push(Diagnostic::error(
                    self.source,
                    span,
                    "`AS` needs a stage name",
                ));
                None
            }
            _ => None,
        };
        let stage = self.info.stages.len();
        // FROM sees only global ARGs. Taken, not copied (a copy per `FROM` was quadratic), and
        // put back below.
        let scope = std::mem::take(&mut self.global);
        self.image(
            instruction,
            image,
            &scope,
            ImageContext::From {
                stage,
                alias: alias.clone(),
            },
            platform,
        );
        self.global = scope;
        if let Some(name) = &alias {
            // The first stage of a name is the one a reference means.
            self.stage_names
                .entry(name.to_ascii_lowercase())
                .or_insert(stage);
        }
        self.info.stages.push(Stage {
            name: alias,
            base: image.value.text().to_owned(),
            span: instruction.span,
            platform: words
                .iter()
                .take_while(|w| w.value.text().starts_with("--"))
                .find_map(|w| {
                    w.value
                        .text()
                        .strip_prefix("--platform=")
                        .map(str::to_owned)
                }),
            copies: Vec::new(),
            installs: Vec::new(),
        });
        self.in_stage = true;
        self.stage_scope = Scope::default();
    }

    fn copy(&mut self, instruction: &Instruction) {
        let words = self.words(instruction);
        let from_context = !words
            .iter()
            .take_while(|w| w.value.text().starts_with("--"))
            .any(|w| w.value.text().starts_with("--from="));
        let paths: Vec<String> = words
            .iter()
            .skip_while(|w| w.value.text().starts_with("--"))
            .map(|w| w.value.text().to_owned())
            .collect();
        // The exec form (`COPY ["a", "b"]`) is rare for requirements files; only the shell form
        // is followed.
        if let (true, Some((destination, sources)), Some(stage)) = (
            from_context,
            paths.split_last(),
            self.info.stages.last_mut(),
        ) {
            if !sources.is_empty() {
                stage.copies.push(ContextCopy {
                    sources: sources.to_vec(),
                    destination: destination.clone(),
                });
            }
        }
        for word in words {
            let text = word.value.text();
            if !text.starts_with("--") {
                break;
            }
            if let Some(eq) = text.strip_prefix("--from=").map(|v| text.len() - v.len()) {
                let value = word.value.slice(eq, text.len());
                let sub = Word {
                    value,
                    start: word.start + eq,
                    end: word.end,
                };
                let scope = std::mem::take(&mut self.stage_scope);
                self.image(instruction, &sub, &scope, ImageContext::CopyFrom, None);
                self.stage_scope = scope;
            }
        }
    }

    fn run_instruction(&mut self, instruction: &Instruction) {
        let words = self.words(instruction);
        let mut command_start = 0;
        for word in &words {
            let text = word.value.text();
            if !text.starts_with("--") {
                command_start = word.start;
                break;
            }
            command_start = word.end;
            if let Some(mount) = text.strip_prefix("--mount=") {
                self.bind_mount(mount);
                let offset = text.len() - mount.len();
                let mut at = offset;
                for field in mount.split(',') {
                    if let Some(value) = field.strip_prefix("from=") {
                        let start = at + 5;
                        let sub = Word {
                            value: word.value.slice(start, start + value.len()),
                            start: word.start,
                            end: word.end,
                        };
                        let scope = std::mem::take(&mut self.stage_scope);
                        self.image(instruction, &sub, &scope, ImageContext::RunMount, None);
                        self.stage_scope = scope;
                    }
                    at += field.len() + 1;
                }
            }
        }
        self.pip_installs(instruction, command_start);
    }

    /// `--mount=type=bind,source=x,target=y` without `from=`: the stage sees `x` of the build
    /// context at `y` for this `RUN`.
    fn bind_mount(&mut self, mount: &str) {
        let (mut bind, mut from, mut source, mut target) = (false, false, None, None);
        for field in mount.split(',') {
            match field.split_once('=') {
                Some(("type", "bind")) => bind = true,
                Some(("from", _)) => from = true,
                Some(("source" | "src", v)) => source = Some(v.to_owned()),
                Some(("target" | "dst" | "destination", v)) => target = Some(v.to_owned()),
                _ => {}
            }
        }
        if let (true, false, Some(source), Some(stage)) =
            (bind, from, source, self.info.stages.last_mut())
        {
            stage.copies.push(ContextCopy {
                sources: vec![source],
                destination: target.unwrap_or_default(),
            });
        }
    }

    /// Add the image dependency for `word` (a reference, a stage, `scratch`).
    fn image(
        &mut self,
        instruction: &Instruction,
        word: &Word,
        scope: &Scope,
        context: ImageContext,
        platform: Option<String>,
    ) {
        let written = word.value.text().to_owned();
        let reference_span = instruction.args.cover(word.start, word.end);
        let expanded = args::expand(&word.value, scope, &mut self.budget);
        let resolved = expanded.value;
        let text = resolved.text().to_owned();
        let from_arg = expanded.used.first().cloned();
        let is_from = matches!(context, ImageContext::From { .. });
        let mut skip = None;
        if text.eq_ignore_ascii_case("scratch") && is_from {
            skip = Some(SkipReason::Scratch);
        } else if self.stage_index(&text).is_some() {
            skip = Some(SkipReason::StageReference);
        } else if let Some(why) = &expanded.unsupported {
            skip = Some(SkipReason::ComplexInterpolation);
            if expanded.halted {
                self.diagnostics.push(Diagnostic::warning(
                    self.source,
                    reference_span,
                    format!("The image was not evaluated: {why}"),
                ));
            }
        } else if !expanded.unresolved.is_empty() {
            skip = Some(SkipReason::UnresolvedArg);
        }
        let parsed = if skip.is_none() {
            Some(ImageRef::parse_with_parts(&text))
        } else {
            None
        };
        let (reference, parts) = match parsed {
            Some(Ok(parsed)) => parsed,
            failed => {
                let reason = match failed {
                    Some(Err(error)) => {
                        let span = match &error {
                            ImageRefError::Digest(d) => {
                                let at = text.rfind(d.as_str()).unwrap_or(0);
                                resolved
                                    .first_span(at, text.len())
                                    .unwrap_or(reference_span)
                            }
                            _ => reference_span,
                        };
                        self.diagnostics.push(Diagnostic::error(
                            self.source,
                            span,
                            error.to_string(),
                        ));
                        SkipReason::InvalidReference
                    }
                    _ => {
                        let reason = skip.unwrap_or(SkipReason::InvalidReference);
                        if reason == SkipReason::UnresolvedArg {
                            let names = expanded.unresolved.join("`, `");
                            self.diagnostics.push(
                                Diagnostic::warning(
                                    self.source,
                                    reference_span,
                                    format!("The image comes from `{names}`, which has no default"),
                                )
                                .with_hint("give the ARG a default so repin can pin and update it"),
                            );
                        }
                        reason
                    }
                };
                self.push_unparsed(
                    written,
                    text,
                    reference_span,
                    context,
                    platform,
                    resolved,
                    reason,
                    from_arg,
                );
                return;
            }
        };
        self.warn_on_tag_like_repository(&reference, &parts, reference_span);
        let tag_span = parts
            .tag
            .as_ref()
            .and_then(|r| resolved.file_span(r.start, r.end));
        let digest_span = parts
            .digest
            .as_ref()
            .and_then(|r| resolved.file_span(r.start, r.end));
        // A digest goes right after the tag. When the reference ends in text an `ARG` supplies,
        // it goes after the variable in the instruction instead (`FROM ${BASE}@sha256:...`):
        // the digest belongs to this image, and the ARG may feed other images too.
        let digest_insert_at = if parts.digest.is_none() {
            let after = parts.tag.as_ref().map_or(parts.name.end, |r| r.end);
            resolved
                .insertion_point(after)
                .filter(|at| reference_span.start <= *at && *at <= reference_span.end)
                .or(Some(reference_span.end).filter(|_| after == text.len()))
        } else {
            None
        };
        // The dependency's place: the tag where it is written (an ARG default, maybe), else the
        // whole reference.
        let span = parts
            .tag
            .as_ref()
            .and_then(|r| resolved.first_span(r.start, r.end))
            .or_else(|| {
                parts
                    .digest
                    .as_ref()
                    .and_then(|r| resolved.first_span(r.start, r.end))
            })
            .unwrap_or(reference_span);
        let current = match (&reference.tag, &reference.digest) {
            (Some(t), Some(d)) => format!("{t}@{d}"),
            (Some(t), None) => t.clone(),
            (None, Some(d)) => format!("@{d}"),
            (None, None) => "latest".to_owned(),
        };
        let name = reference.name();
        self.dependencies.push(Dependency {
            name,
            kind: DependencyKind::Image,
            current,
            span,
            skip_reason: None,
            detail: DependencyDetail::Image(ImageDependency {
                reference,
                written,
                context,
                platform,
                resolved,
                parts,
                reference_span,
                tag_span,
                digest_span,
                digest_insert_at,
                from_arg,
            }),
        });
    }

    /// `FROM 3.10-windowsservercore-1809` is valid grammar but almost surely a tag written
    /// without its image: say so.
    fn warn_on_tag_like_repository(&mut self, reference: &ImageRef, parts: &Parts, span: Span) {
        let repo = reference
            .repository
            .strip_prefix("library/")
            .unwrap_or(&reference.repository);
        if reference.is_docker_hub()
            && parts.tag.is_none()
            && repo.starts_with(|c: char| c.is_ascii_digit())
            && repo.contains('.')
        {
            self.diagnostics.push(
                Diagnostic::warning(
                    self.source,
                    span,
                    format!("`{repo}` looks like a tag written without its image"),
                )
                .with_hint(format!("did you mean `python:{repo}`?")),
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_unparsed(
        &mut self,
        written: String,
        text: String,
        reference_span: Span,
        context: ImageContext,
        platform: Option<String>,
        resolved: Mapped,
        reason: SkipReason,
        from_arg: Option<String>,
    ) {
        let name = if reason == SkipReason::StageReference || reason == SkipReason::Scratch {
            text.clone()
        } else {
            written.clone()
        };
        self.dependencies.push(Dependency {
            name,
            kind: DependencyKind::Image,
            current: text.clone(),
            span: reference_span,
            skip_reason: Some(reason),
            detail: DependencyDetail::Image(ImageDependency {
                reference: ImageRef {
                    registry: String::new(),
                    repository: text,
                    tag: None,
                    digest: None,
                },
                written,
                context,
                platform,
                parts: Parts {
                    name: 0..resolved.len(),
                    tag: None,
                    digest: None,
                },
                resolved,
                reference_span,
                tag_span: None,
                digest_span: None,
                digest_insert_at: None,
                from_arg,
            }),
        });
    }

    /// The pip argument `token` (ranges in `args`) with the stage's `ARG` defaults substituted,
    /// mapped to the file, when the shell would read exactly that: the argument is not in
    /// single quotes, and every variable in it is an `ARG` of the stage with a default that no
    /// `ENV` and nothing in the same `RUN` sets otherwise. Else why not: `unresolved-arg` for
    /// an `ARG` without default, `environment-variable` for anything else.
    fn resolve_pip_argument(
        &mut self,
        args: &Mapped,
        token: &pip::ShellToken,
        tokens: &[pip::ShellToken],
        command_start: usize,
    ) -> Result<Mapped, SkipReason> {
        let Some((start, end)) = token.verbatim else {
            return Err(SkipReason::EnvironmentVariable);
        };
        // In single quotes the shell substitutes nothing.
        if args.text()[token.raw.0..token.raw.1].starts_with('\'') {
            return Err(SkipReason::EnvironmentVariable);
        }
        let expanded = args::expand(&args.slice(start, end), &self.stage_scope, &mut self.budget);
        let mut used = expanded.used.clone();
        used.sort();
        used.dedup();
        // Set by `ENV`, or by the command itself (`V=2 pip ...`, `export V`, `for V in`): the
        // `ARG` default is not what the shell reads.
        let set_here = |name: &str| {
            tokens.iter().any(|t| {
                t.raw.0 + command_start != token.raw.0
                    && (t.text == name
                        || t.text
                            .strip_prefix(name)
                            .is_some_and(|rest| rest.starts_with('=')))
            })
        };
        let shadowed: Vec<&str> = used
            .iter()
            .map(String::as_str)
            .filter(|name| self.env_names.contains(*name) || set_here(name))
            .collect();
        if !shadowed.is_empty() {
            self.diagnostics.push(
                Diagnostic::warning(
                    self.source,
                    args.cover(token.raw.0, token.raw.1),
                    format!(
                        "The version comes from `{}`, which is set in more than one way here (an `ENV`, or the command itself)",
                        shadowed.join("`, `")
                    ),
                )
                .with_hint("give it one `ARG` default so repin can read and update it"),
            );
            return Err(SkipReason::EnvironmentVariable);
        }
        let undeclared = used.iter().any(|name| self.stage_scope.get(name).is_none());
        if undeclared || expanded.unsupported.is_some() {
            return Err(SkipReason::EnvironmentVariable);
        }
        if !expanded.unresolved.is_empty() {
            return Err(SkipReason::UnresolvedArg);
        }
        if expanded.value.text().contains('$') {
            return Err(SkipReason::EnvironmentVariable);
        }
        Ok(expanded.value)
    }

    /// Requirements of `pip install` commands in a `RUN`.
    fn pip_installs(&mut self, instruction: &Instruction, command_start: usize) {
        let args = &instruction.args;
        let command = &args.text()[command_start..];
        let tokens = match pip::exec_tokens(command) {
            Some(tokens) => tokens,
            None => pip::shell_tokens(command),
        };
        // Token ranges are relative to `command`; shift them to the whole arguments.
        let shift = |r: (usize, usize)| (r.0 + command_start, r.1 + command_start);
        if let Some(stage) = self.info.stages.last_mut() {
            stage.installs.extend(pip::installed_files(&tokens));
        }
        for argument in pip::pip_requirements(&tokens) {
            let mut token = argument.token.clone();
            token.raw = shift(token.raw);
            token.verbatim = token.verbatim.map(shift);
            let text = token.text.clone();
            let file_span = pip::token_file_span(args, &token);
            // `flask==${VERSION}`: the shell takes `VERSION` from the stage's `ARG`, whose
            // default is read as image tags are, and edited where it is written.
            let (resolved, arg_skip) = if text.contains('$') && !argument.index.no_index {
                match self.resolve_pip_argument(args, &token, &tokens, command_start) {
                    Ok(resolved) => (Some(resolved), None),
                    Err(reason) => (None, Some(reason)),
                }
            } else {
                (None, None)
            };
            let (scanned, split) = match (&resolved, file_span) {
                (Some(resolved), _) => (python::scan(resolved.text(), 0), false),
                (None, Some(span)) => (python::scan(&text, span.start), false),
                (None, None) => (python::scan(&text, 0), true),
            };
            let mut requirement = scanned.requirement;
            requirement.origin = python::RequirementOrigin::PipInstall;
            requirement.index = argument.index.clone();
            // Where each index URL is, for errors about it (a refused `${VAR}` names it).
            let urls: Vec<String> = requirement
                .index
                .index_url
                .iter()
                .chain(&requirement.index.extra_index_urls)
                .chain(&requirement.index.find_links)
                .cloned()
                .collect();
            for url in urls {
                if let Some(at) = command.find(url.as_str()) {
                    let span = args.cover(command_start + at, command_start + at + url.len());
                    let place =
                        crate::text::place(self.source.path(), self.source.position(span.start));
                    requirement.index.note_place(&url, &place);
                }
            }
            let mut skip_reason = scanned.skip_reason;
            let mut error_span = scanned.error.as_ref().map(|e| e.span);
            if let Some(resolved) = &resolved {
                let cover = args.cover(token.raw.0, token.raw.1);
                if !remap_resolved(&mut requirement, resolved, cover) {
                    skip_reason.get_or_insert(SkipReason::ComplexInterpolation);
                }
                error_span =
                    error_span.map(|e| resolved.file_span(e.start, e.end).unwrap_or(cover));
            }
            if skip_reason.is_none() && requirement.index.no_index {
                // A local install: pip never asks an index, so neither does repin.
                skip_reason = Some(SkipReason::NoIndex);
            } else if resolved.is_none() && text.contains('$') {
                skip_reason = Some(arg_skip.unwrap_or(SkipReason::EnvironmentVariable));
            } else if let Some(error) = scanned.error {
                if !split {
                    let span = error_span.unwrap_or(error.span);
                    let mut diagnostic = Diagnostic::error(self.source, span, error.message);
                    if let Some(cause) = error.cause {
                        diagnostic =
                            diagnostic.caused_by(cause.lines().next().unwrap_or("").to_owned());
                    }
                    self.diagnostics.push(diagnostic);
                }
            }
            let cover = args.cover(token.raw.0, token.raw.1);
            if split {
                // The value is quoted with escapes or split by a continuation: list it, but no
                // span inside it can be trusted for an edit.
                // The parts keep their values (for reports), not their places.
                skip_reason.get_or_insert(SkipReason::SplitValue);
                requirement.name_span = Span::empty(cover.start);
                requirement.specifier = None;
                requirement.pin = None;
                requirement.marker = None;
                requirement.parsed_marker = None;
                requirement.url_span = Some(cover);
                requirement.entry_span = cover;
            }
            let mut dependency = Dependency::from_python(requirement, skip_reason);
            if split {
                dependency.current = self.source.slice(cover).to_owned();
                dependency.span = cover;
            } else if dependency.name.is_empty() {
                dependency.name = text;
            }
            self.dependencies.push(dependency);
        }
    }
}

/// Point the spans of `requirement`, scanned from `resolved` (offsets into its text), at the
/// file: each part that sits in one place keeps it; one assembled from several places claims
/// nothing (an empty span at `cover`, the argument as written). False when the pin's version
/// does not sit in one place, so no edit could change it.
fn remap_resolved(
    requirement: &mut python::PythonRequirement,
    resolved: &Mapped,
    cover: Span,
) -> bool {
    let place = |span: Span| {
        resolved
            .file_span(span.start, span.end)
            .unwrap_or(Span::empty(cover.start))
    };
    requirement.name_span = place(requirement.name_span);
    requirement.entry_span = cover;
    if let Some(spec) = &mut requirement.specifier {
        spec.span = place(spec.span);
    }
    if let Some((_, span)) = &mut requirement.marker {
        *span = place(*span);
    }
    if let Some(span) = &mut requirement.url_span {
        *span = place(*span);
    }
    match &mut requirement.pin {
        Some(pin) => match resolved.file_span(pin.span.start, pin.span.end) {
            Some(span) => {
                pin.span = span;
                true
            }
            None => {
                pin.span = Span::empty(cover.start);
                false
            }
        },
        None => true,
    }
}

#[cfg(test)]
mod tests;

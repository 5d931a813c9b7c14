//! Running inside GitHub Actions: error annotations in the workflow-command format, a Markdown
//! job summary (`$GITHUB_STEP_SUMMARY`) and step outputs (`$GITHUB_OUTPUT`).
//!
//! Formats follow GitHub's "Workflow commands for GitHub Actions" documentation: properties and
//! messages are escaped (`%`, `\r`, `\n`, and in properties also `:` and `,`), and multi-line
//! outputs use the `name<<DELIMITER` form with a delimiter that cannot occur in the value.

use std::io::Write;
use std::path::Path;

/// Whether this process runs as a GitHub Actions step.
pub fn is_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// The severity of an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `::error`
    Error,
    /// `::warning`
    Warning,
    /// `::notice`
    Notice,
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One annotation line: `::error file=F,line=L,col=C,title=T::message`.
pub fn annotation(
    level: Level,
    file: Option<&Path>,
    line: usize,
    column: usize,
    title: &str,
    message: &str,
) -> String {
    let command = match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Notice => "notice",
    };
    let mut properties = Vec::new();
    if let Some(file) = file {
        properties.push(format!("file={}", escape_property(&file.to_string_lossy())));
        if line > 0 {
            properties.push(format!("line={line}"));
        }
        if column > 0 {
            properties.push(format!("col={column}"));
        }
    }
    if !title.is_empty() {
        properties.push(format!("title={}", escape_property(title)));
    }
    format!(
        "::{command} {}::{}",
        properties.join(","),
        escape_data(message)
    )
}

/// Append Markdown to the job summary, when there is one.
pub fn append_summary(markdown: &str) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    file.write_all(markdown.as_bytes())
}

/// The text appended to `$GITHUB_OUTPUT` for a (possibly multi-line) output.
pub fn output_record(name: &str, value: &str) -> String {
    let mut delimiter = "repin_EOF".to_owned();
    while value.lines().any(|l| l == delimiter) {
        delimiter.push('_');
    }
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// Set a step output, when running as a step.
pub fn set_output(name: &str, value: &str) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_OUTPUT") else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    file.write_all(output_record(name, value).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_properties_and_messages() {
        let line = annotation(
            Level::Error,
            Some(Path::new("reqs/a,b:c.txt")),
            3,
            8,
            "repin: lookup failed",
            "Cannot reach pypi.org\n  Caused by: 100% broken",
        );
        assert_eq!(
            line,
            "::error file=reqs/a%2Cb%3Ac.txt,line=3,col=8,title=repin%3A lookup failed::Cannot reach pypi.org%0A  Caused by: 100%25 broken"
        );
        assert_eq!(
            annotation(Level::Notice, None, 0, 0, "", "done"),
            "::notice ::done"
        );
    }

    #[test]
    fn multi_line_outputs_use_a_delimiter_not_in_the_value() {
        assert_eq!(
            output_record("updates", "[1,\n2]"),
            "updates<<repin_EOF\n[1,\n2]\nrepin_EOF\n"
        );
        assert_eq!(
            output_record("x", "repin_EOF"),
            "x<<repin_EOF_\nrepin_EOF\nrepin_EOF_\n"
        );
    }
}

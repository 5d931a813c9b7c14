//! Terminal styling: colour only when wanted and supported.

use anstyle::{AnsiColor, Style};

use super::ColorChoice;

/// Apply the user's colour choice to everything written through `anstream`.
pub fn init(choice: ColorChoice) {
    match choice {
        ColorChoice::Auto => {}
        ColorChoice::Always => anstream::ColorChoice::Always.write_global(),
        ColorChoice::Never => anstream::ColorChoice::Never.write_global(),
    }
}

/// File headings.
pub const HEADING: Style = Style::new().bold();
/// Positions and other secondary text.
pub const DIM: Style = Style::new().dimmed();
/// Errors and security updates.
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
/// Proposed new values.
pub const NEW: Style = AnsiColor::Green.on_default();
/// Update kinds.
pub const KIND: Style = AnsiColor::Cyan.on_default();
/// Skipped dependencies.
pub const SKIPPED: Style = AnsiColor::Yellow.on_default();

/// `text` in `style` (the reset is added; `anstream` strips both when colour is off).
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

//! The `repin` command.

fn main() -> std::process::ExitCode {
    repin::cli::main()
}

//! `sessiongate`: see `sessiongate --help`.

fn main() -> std::process::ExitCode {
    sessiongate::cli::main()
}

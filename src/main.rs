//! `sessiongate`: see `sessiongate --help`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sessiongate::cli::main()
}

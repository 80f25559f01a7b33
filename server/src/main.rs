//! `pannier`: self-hosted file sharing. See `pannier --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    server::cli::main()
}

//! `cargo xtask mock`: the workspace's mock server, built in release and run with the arguments
//! given, so that a manual run or a demo needs no path to a binary.
//!
//! The server itself lives in the `mock-server/` crate (package `cloudflare-security-center-mock`); this only
//! spells the cargo command.

use std::ffi::OsString;
use std::process::Command;

use crate::workspace_root;

/// The command that builds and runs the mock server with `args` (those of
/// `target/release/mock-server --help`), from the workspace root.
pub fn command(args: &[OsString]) -> Command {
    // Cargo tells the programs it runs which cargo it is.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args([
            "run",
            "--quiet",
            "--release",
            "--package",
            "cloudflare-security-center-mock",
            "--",
        ])
        .args(args);
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_the_release_mock_server_with_the_arguments_as_given() {
        let args: Vec<OsString> = ["--port", "8787", "--entries", "100000", "--fault", "html:5"]
            .map(OsString::from)
            .to_vec();
        let command = command(&args);
        let passed: Vec<_> = command.get_args().collect();
        assert_eq!(
            passed,
            [
                "run",
                "--quiet",
                "--release",
                "--package",
                "cloudflare-security-center-mock",
                "--",
                "--port",
                "8787",
                "--entries",
                "100000",
                "--fault",
                "html:5",
            ]
        );
        assert_eq!(command.get_current_dir(), Some(workspace_root().as_path()));
    }
}

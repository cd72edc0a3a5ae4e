//! `cargo xtask`: the workspace's command line (see `cargo xtask --help`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::files::Outcome;
use xtask::regenerate::{self, COMMAND};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Workspace automation", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the typed client from spec/ into generated-client/src/generated.rs.
    Regenerate {
        /// Write nothing; fail with a diff if the generated file is stale.
        #[arg(long)]
        check: bool,
        /// Generate from another copy of the upstream-shaped spec (YAML or JSON).
        #[arg(long, value_name = "FILE")]
        spec: Option<PathBuf>,
        /// Write (or check) this file instead.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Regenerate { check, spec, out } => {
            let options = regenerate::Options { check, spec, out };
            match regenerate::run(&options) {
                Ok(report) => {
                    match &report.outcome {
                        Outcome::Fresh => eprintln!("{} is up to date", report.output),
                        Outcome::Written => eprintln!("wrote {}", report.output),
                        Outcome::Stale(diff) => {
                            print!("{diff}");
                            eprintln!(
                                "error: {} is stale; run `{COMMAND}` to update it",
                                report.output
                            );
                        }
                    }
                    if let Some(mismatch) = &report.pin_mismatch {
                        eprintln!("error: {mismatch}");
                    }
                    if report.is_ok() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

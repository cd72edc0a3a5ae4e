//! `cargo xtask`: the workspace's command line (see `cargo xtask --help`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::client::COMMAND;
use xtask::files::Outcome;
use xtask::generation::{self, Isolation};
use xtask::regenerate;
use xtask::{bench, diff, mock, spec_sync};

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
        /// Apply this overlay instead of spec/overlay.yaml.
        #[arg(long, value_name = "FILE", conflicts_with = "no_overlay")]
        overlay: Option<PathBuf>,
        /// Apply no overlay: generate from the spec as it is (every problem is listed).
        #[arg(long)]
        no_overlay: bool,
        /// Write (or check) this file instead.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Stop the generation, which runs in a child process, after this many seconds and fail
        /// [default: XTASK_GENERATE_DEADLINE, else 300].
        #[arg(long, value_name = "SECONDS")]
        deadline: Option<u64>,
    },
    /// Extract spec/openapi.yaml from upstream's whole API document: the operations
    /// spec/upstream.toml lists and every component they reach; record the origin.
    ///
    /// Exit codes: 0 done (with --check: the spec is what FILE extracts to), 1 --check found a
    /// difference, 2 usage or input error (nothing is written).
    SpecSync {
        /// Upstream's whole document (JSON or YAML), e.g. a downloaded openapi.json.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The upstream revision (commit) FILE is from, recorded in spec/upstream.toml.
        #[arg(long, value_name = "REV", conflicts_with = "check")]
        revision: Option<String>,
        /// Write nothing; exit 1 with a reason and the head of the diff if spec/openapi.yaml is
        /// not what FILE extracts to.
        #[arg(long)]
        check: bool,
        /// The folder holding upstream.toml and the spec it names [default: spec/].
        #[arg(long, value_name = "DIR")]
        spec_dir: Option<PathBuf>,
    },
    /// Measure spec-sync on upstream's whole document (time, peak memory) and list what the
    /// generator reports for that document with no overlay; prints Markdown for
    /// docs/benchmarks.md. Run it in release: `cargo run --release -p xtask -- bench-spec-sync`.
    BenchSpecSync {
        /// Upstream's whole document [default: ../shared/upstream/cloudflare-openapi-2024-08-06.json
        /// beside the workspace; skipped with a message when absent].
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Measured runs per case.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// One measured run of bench-spec-sync, in a fresh process.
    #[command(name = "__bench-spec-sync-child", hide = true)]
    BenchSpecSyncChild {
        /// Upstream's whole document.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The spec folder to sync into; none: report the process's baseline only.
        #[arg(long, value_name = "DIR")]
        spec_dir: Option<PathBuf>,
    },
    /// Compare two versions of the spec and classify each change for users of the client.
    ///
    /// Exit codes: 0 done (and the --fail-on gate passed), 1 breaking changes found with
    /// `--fail-on breaking`, 2 usage or input error.
    Diff {
        /// The spec before: a file, or a git revision whose spec/openapi.yaml is read.
        #[arg(long, value_name = "SPEC_OR_GIT_REV")]
        old: String,
        /// The spec after: a file or a git revision [default: the working tree's spec/openapi.yaml].
        #[arg(long, value_name = "SPEC_OR_GIT_REV")]
        new: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = diff::Format::Text)]
        format: diff::Format,
        /// Exit with code 1 when a change of this class is found.
        #[arg(long, value_enum, default_value_t = diff::FailOn::Never)]
        fail_on: diff::FailOn,
    },
    /// Generate in this process and write the source to standard output: the child process
    /// that `regenerate` runs the generator in, so that a crash cannot take it down.
    #[command(name = "__generate", hide = true)]
    Generate {
        /// The spec.
        #[arg(long, value_name = "FILE")]
        spec: PathBuf,
        /// The overlay; none when absent.
        #[arg(long, value_name = "FILE")]
        overlay: Option<PathBuf>,
    },
    /// Build the mock server in release and run it on 127.0.0.1 (e.g. `--port 8787 --entries
    /// 100000`); every argument goes to the server (`cargo xtask mock --help` lists them).
    #[command(disable_help_flag = true)]
    Mock {
        /// The mock server's own arguments.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<OsString>,
    },
}

/// All memory through a ceiling, so a generation whose memory runs away fails instead of
/// exhausting the machine (see `xtask::generation::MemoryCap`).
#[global_allocator]
static ALLOCATOR: generation::MemoryCap = generation::MemoryCap;

fn main() -> ExitCode {
    // A usage error exits with clap's code 2, the same as `diff::EXIT_ERROR`.
    let cli = Cli::parse();
    match cli.command {
        Command::Mock { args } => match mock::command(&args).status() {
            // The server's own exit code, or 1 when a signal ended it.
            Ok(status) => ExitCode::from(status.code().map_or(1, |code| code.clamp(0, 255) as u8)),
            Err(error) => {
                eprintln!("error: cannot run cargo for the mock server: {error}");
                ExitCode::FAILURE
            }
        },
        Command::Diff {
            old,
            new,
            format,
            fail_on,
        } => {
            let options = diff::Options {
                old,
                new,
                overlay: None,
                format,
                fail_on,
            };
            match diff::run(&options) {
                Ok(report) => {
                    print!("{}", report.render(format));
                    ExitCode::from(report.exit_code(fail_on))
                }
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::from(diff::EXIT_ERROR)
                }
            }
        }
        Command::SpecSync {
            from,
            revision,
            check,
            spec_dir,
        } => {
            let defaults = spec_sync::Options::new(from);
            let options = spec_sync::Options {
                revision,
                check,
                spec_dir: spec_dir.unwrap_or(defaults.spec_dir.clone()),
                ..defaults
            };
            match spec_sync::run(&options) {
                Ok(report) => {
                    match &report.outcome {
                        spec_sync::Outcome::Written { changed } => eprintln!(
                            "{} {}: {} from {} (sha256 {}); recorded in {}\n\
                             next: `cargo xtask diff --old HEAD`, then `cargo xtask regenerate`",
                            if *changed { "wrote" } else { "unchanged:" },
                            report.spec,
                            report.summary(),
                            report.from,
                            report.upstream_sha256,
                            report.record,
                        ),
                        spec_sync::Outcome::Fresh => eprintln!(
                            "{} is what {} extracts to ({})",
                            report.spec,
                            report.from,
                            report.summary()
                        ),
                        spec_sync::Outcome::Stale { reason, diff_head } => {
                            print!("{diff_head}");
                            eprintln!("error: {reason}");
                        }
                    }
                    if report.is_ok() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::from(2)
                }
            }
        }
        Command::BenchSpecSync { from, runs } => {
            let from = from.unwrap_or_else(bench::default_document);
            match bench::run(&bench::Options {
                from: from.clone(),
                runs,
            }) {
                Ok(Some(report)) => {
                    print!("{report}");
                    ExitCode::SUCCESS
                }
                Ok(None) => {
                    eprintln!(
                        "skipped: {} does not exist; pass --from with upstream's whole \
                         openapi.json",
                        xtask::display_path(&from)
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::BenchSpecSyncChild { from, spec_dir } => {
            ExitCode::from(bench::serve_child(&from, spec_dir.as_deref()))
        }
        Command::Generate { spec, overlay } => {
            ExitCode::from(generation::serve_child(&spec, overlay.as_deref()))
        }
        Command::Regenerate {
            check,
            spec,
            overlay,
            no_overlay,
            out,
            deadline,
        } => {
            let isolation =
                match generation::deadline(deadline).and_then(Isolation::child_of_current_exe) {
                    Ok(isolation) => isolation,
                    Err(error) => {
                        eprintln!("error: {error:#}");
                        return ExitCode::FAILURE;
                    }
                };
            let overlay = match (overlay, no_overlay) {
                (Some(file), _) => regenerate::OverlayChoice::File(file),
                (None, true) => regenerate::OverlayChoice::None,
                (None, false) => regenerate::OverlayChoice::Pinned,
            };
            let options = regenerate::Options {
                check,
                spec,
                overlay,
                out,
                isolation,
            };
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

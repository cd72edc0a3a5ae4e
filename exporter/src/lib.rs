//! `insight-audit-log`: exports Cloudflare Security Center insight audit logs to NDJSON, JSON, CSV or a table,
//! resumably. The binary is a thin shell over this library so tests and benchmarks can run the same code in-process.
//!
//! - [`args`]: the command line (flag names scripts rely on);
//! - [`scopes`]: the accounts and zones of a run;
//! - [`walk`]: one scope's page walk, with rate limits waited out;
//! - [`state`]: the checkpoint of incremental runs;
//! - [`output`]: the formats, written a whole page at a time;
//! - [`run`]: one run, from flags to exit code, with where to resume on any stop;
//! - [`exit`]: the exit codes and one-line error messages;
//! - [`generate`]: the manual page and shell completions (`--generate KIND`);
//! - [`telemetry`], [`metrics`], [`logs`]: what a service reports besides its output (Prometheus metrics, health
//!   and readiness on `--metrics-listen`, systemd notifications, JSON logs).

pub mod args;
mod client;
mod destination;
mod enrich;
pub mod exit;
pub mod generate;
mod health;
mod ledger;
pub mod logs;
pub mod metrics;
pub mod output;
pub mod run;
pub mod scopes;
mod serve;
pub mod siem;
pub mod state;
mod summary;
mod systemd;
pub mod telemetry;
pub mod walk;

use std::io::IsTerminal as _;
use std::process::ExitCode;

/// The program: parses `std::env::args_os`, runs the export on a multi-threaded runtime with Ctrl-C as the
/// interrupt, and returns the exit code (see [`exit`]).
pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(exit::USAGE));
        }
    };
    if let Some(kind) = cli.generate {
        return ExitCode::from(generate::print(kind));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("insight-audit-log: error: cannot start the async runtime: {error}");
            return ExitCode::from(exit::OTHER);
        }
    };
    let telemetry = telemetry::Telemetry::new(&cli);
    logs::install(cli.log_format, telemetry.metrics());
    let terminals = run::Terminals {
        stdout: std::io::stdout().is_terminal(),
        stderr: std::io::stderr().is_terminal(),
    };
    let interrupt = async {
        // Ctrl-C, or SIGTERM (how systemd and container runtimes stop a service). If no handler can be
        // installed, that signal never reports an interruption.
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = ctrl_c => {}
            () = terminate => {}
        }
        // Said at once: the state is saved and the summary written after it.
        systemd::stopping();
    };
    let code = runtime.block_on(run::run_with(
        cli,
        &|name| std::env::var(name).ok(),
        terminals,
        std::io::stdout().lock(),
        std::io::stderr(),
        interrupt,
        telemetry,
    ));
    ExitCode::from(code)
}

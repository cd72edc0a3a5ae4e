//! `--generate KIND`: the manual page and the shell completions, written from the same clap declaration as the
//! flags so that they cannot drift from them. Printed on demand rather than shipped as files, because
//! `cargo install` installs only the binary.

use std::ffi::OsString;
use std::io::{self, Write};

use clap::{CommandFactory, FromArgMatches, ValueEnum};
use clap_complete::Shell;

use crate::args::Cli;

/// What `--generate` writes to stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// The manual page, in roff (`man -l`, or install as `insight-audit-log.1`).
    Man,
    /// Completions for bash.
    CompleteBash,
    /// Completions for zsh (install as `_insight-audit-log` on `$fpath`).
    CompleteZsh,
    /// Completions for fish.
    CompleteFish,
    /// Completions for PowerShell.
    CompletePowershell,
}

/// The command line `args` when it is `--generate KIND` alone (clap's `exclusive` refuses any other flag, but the
/// scopes group is required on every other command line); `None` for any other.
pub(crate) fn parse_alone(args: &[OsString]) -> Option<Cli> {
    let matches = Cli::command()
        .mut_group("scopes", |group| group.required(false))
        .try_get_matches_from(args)
        .ok()?;
    Cli::from_arg_matches(&matches)
        .ok()
        .filter(|cli| cli.generate.is_some())
}

/// Writes `kind` for the command line that [`Cli`] declares. The text is made in memory first: clap_complete
/// panics when its writer fails (a closed pipe), and this returns the error instead.
pub fn write(kind: Kind, out: &mut dyn Write) -> io::Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    let mut text = Vec::new();
    let shell = match kind {
        Kind::Man => None,
        Kind::CompleteBash => Some(Shell::Bash),
        Kind::CompleteZsh => Some(Shell::Zsh),
        Kind::CompleteFish => Some(Shell::Fish),
        Kind::CompletePowershell => Some(Shell::PowerShell),
    };
    match shell {
        None => clap_mangen::Man::new(command).render(&mut text)?,
        Some(shell) => clap_complete::generate(shell, &mut command, name, &mut text),
    }
    out.write_all(&text)
}

/// `--generate KIND` as the program runs it: `kind` on stdout; exit code 8 (output) if it cannot be written.
pub fn print(kind: Kind) -> u8 {
    let mut stdout = io::stdout().lock();
    match write(kind, &mut stdout).and_then(|()| stdout.flush()) {
        Ok(()) => crate::exit::OK,
        Err(error) => {
            eprintln!("insight-audit-log: error: cannot write to stdout: {error}");
            crate::exit::OUTPUT
        }
    }
}

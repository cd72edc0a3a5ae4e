//! The end of a run as a value: the lines to print and the exit code, from what the ledger recorded. Advice is
//! about the scope it concerns (a zone that answers 404 is a zone, wherever it was given) and is the same with or
//! without `--state`: a failure that running again cannot cure says what to fix in both modes.

use cloudflare_security_center::{ENV_API_KEY, ENV_API_TOKEN, ENV_EMAIL, Error, Scope};

use crate::args::Cli;
use crate::exit;
use crate::ledger::{Closed, ScopeReport};
use crate::run::Terminals;
use crate::scopes::Target;

/// What a run says at its end, and how it exits.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// The lines for stderr, in order.
    pub(crate) lines: Vec<String>,
    /// The exit code (see [`crate::exit`]).
    pub(crate) code: u8,
}

impl Summary {
    fn say(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }
}

/// The summary of a run over `targets` that ended as `closed` says; `interrupted` when Ctrl-C or SIGTERM ended it.
pub(crate) fn summarize(
    cli: &Cli,
    targets: &[Target],
    closed: &Closed,
    interrupted: bool,
    terminals: Terminals,
) -> Summary {
    let mut summary = Summary::default();
    let reports = &closed.reports;
    let output_failure = &closed.output_failure;
    let pages: u64 = reports.iter().map(|report| report.pages).sum();
    let entries: u64 = reports.iter().map(|report| report.entries).sum();
    let failed: Vec<usize> = (0..reports.len())
        .filter(|index| reports[*index].failure.is_some())
        .collect();

    if let Some(error) = output_failure
        && error.kind() == std::io::ErrorKind::BrokenPipe
        && cli.output.is_none()
    {
        // The reader (e.g. `head`) has had enough: not an error.
        return summary;
    }
    let missing: u64 = reports.iter().map(|report| report.missing_insight).sum();
    if missing > 0 {
        let failed_lists: u64 = reports.iter().map(|report| report.failed_insight).sum();
        summary.say(format!(
            "{missing} entries were written without their insight: {} not in the insight lists, {failed_lists} \
             while the lists could not be read (their `enrichment` field says which)",
            missing - failed_lists
        ));
    }
    let clean = output_failure.is_none() && failed.is_empty();
    // Ctrl-C or SIGTERM is how a follow run ends.
    if clean && (!interrupted || cli.follow) {
        if terminals.stderr || cli.follow {
            let target = cli
                .output
                .as_ref()
                .map_or_else(|| "stdout".to_owned(), |path| path.display().to_string());
            summary.say(format!(
                "wrote {entries} entries ({pages} pages) to {target}"
            ));
            if let Some(state) = &cli.state {
                summary.say(format!("state saved in {}", state.display()));
            }
        }
        return summary;
    }
    summary.code = if let Some(error) = output_failure {
        summary.say(format!(
            "error: cannot write the output: {}",
            exit::one_line(error)
        ));
        exit::OUTPUT
    } else if let Some(first) = failed.first() {
        let error = reports[*first].failure.as_ref();
        // A follow run said it when it happened; runs over several scopes say it per scope.
        if targets.len() == 1
            && !cli.follow
            && let Some(error) = error
        {
            summary.say(format!("error: {}", exit::one_line(error)));
        }
        error.map_or(exit::OTHER, exit::for_client_error)
    } else {
        exit::INTERRUPTED
    };
    if interrupted {
        summary.say("interrupted");
    }
    let kept = match (&cli.output, output_failure, &closed.kept_in) {
        (Some(_), Some(_), Some(partial)) => format!(
            "{entries} entries kept in {} (the pages before the failure)",
            partial.display()
        ),
        (Some(path), Some(_), None) if !cli.incremental() => {
            format!("nothing was written to {}", path.display())
        }
        (Some(path), _, _) => format!("{entries} entries kept in {}", path.display()),
        (None, _, _) => format!("{entries} entries written"),
    };
    summary.say(format!("stopped after {pages} pages; {kept}"));
    let wrote = output_failure.is_none();
    if targets.len() == 1 {
        advise_one(&mut summary, cli, &targets[0], &reports[0], wrote);
        return summary;
    }
    for (target, report) in targets.iter().zip(reports) {
        advise_each(&mut summary, cli, target, report, wrote);
    }
    if let Some(state) = &cli.state {
        summary.say(state_line(state, !failed.is_empty()));
    }
    summary
}

/// What the state file holds after a run that stopped early; `fix_first` when the run said what to fix.
fn state_line(state: &std::path::Path, fix_first: bool) -> String {
    let then = if fix_first { "then run again: " } else { "" };
    format!(
        "{then}the state in {} covers every entry written; the next run goes on from there",
        state.display()
    )
}

/// What to do next, for a run over one scope.
fn advise_one(
    summary: &mut Summary,
    cli: &Cli,
    target: &Target,
    report: &ScopeReport,
    wrote: bool,
) {
    let fix = report
        .failure
        .as_ref()
        .filter(|_| wrote)
        .and_then(|error| what_to_fix(error, target, cli));
    if let Some(fix) = &fix {
        summary.say(fix.clone());
    }
    if let Some(state) = &cli.state {
        summary.say(state_line(state, fix.is_some()));
        return;
    }
    if cli.follow {
        return;
    }
    match &report.resume {
        Some(cursor) if fix.is_some() => summary.say(format!(
            "then resume with: --cursor {}",
            exit::shell_word(cursor)
        )),
        Some(cursor) => summary.say(format!(
            "resume with: --cursor {}",
            exit::shell_word(cursor)
        )),
        None if report.pages == 0 && fix.is_some() => {
            summary.say("no page was written; fix that, then run the command again");
        }
        None if report.pages == 0 => {
            summary.say("no page was written; run the same command again to start over");
        }
        None => summary.say("the last page was written; nothing is left to resume"),
    }
}

/// What to do next about one scope of a run over several.
fn advise_each(
    summary: &mut Summary,
    cli: &Cli,
    target: &Target,
    report: &ScopeReport,
    wrote: bool,
) {
    if report.finished && report.failure.is_none() {
        return;
    }
    if let Some(error) = &report.failure {
        summary.say(format!("{target}: failed: {}", exit::one_line(error)));
        if wrote && let Some(fix) = what_to_fix(error, target, cli) {
            summary.say(format!("{target}: {fix}"));
        }
    }
    if cli.incremental() {
        return;
    }
    match &report.resume {
        Some(cursor) => summary.say(format!(
            "{target}: resume with: {} --cursor {}",
            target.flag(),
            exit::shell_word(cursor)
        )),
        None if report.pages == 0 => summary.say(format!("{target}: no page was written")),
        None => {}
    }
}

/// For a failure of `target` that running the same command again cannot cure (400, 401, 403, 404, a refused
/// certificate), what to change.
fn what_to_fix(error: &Error, target: &Target, cli: &Cli) -> Option<String> {
    let status = match error {
        Error::Api(api) => api.status.as_u16(),
        Error::Certificate { .. } => {
            return Some(
                "to fix: check that the base URL names the API's host; behind a TLS-inspecting proxy, trust its CA \
                 with --ca-cert FILE"
                    .to_owned(),
            );
        }
        _ => return None,
    };
    let (kind, id) = match &target.scope {
        Scope::Account(id) => ("account", id),
        Scope::Zone(id) => ("zone", id),
    };
    let id = exit::shell_word(id);
    let text = match status {
        400 => "the API refused a parameter: check --since, --before, --field-changed, --changed-by, --per-page \
                and --cursor"
            .to_owned(),
        401 => format!(
            "the credentials were refused: check {ENV_API_TOKEN} (or {ENV_API_KEY} with {ENV_EMAIL}, or \
             --api-token-file); they may be mistyped, expired or revoked"
        ),
        403 => format!(
            "the credentials may not read this {kind}'s Security Center: give the token read access to \
             Security Center insights of {kind} {id}, or leave it out"
        ),
        404 => match &cli.issue {
            Some(_) => format!("no such {kind} or insight: check the {kind} id {id} and --issue"),
            None => format!("no such {kind}: check the {kind} id {id}"),
        },
        _ => return None,
    };
    Some(format!("to fix: {text}"))
}

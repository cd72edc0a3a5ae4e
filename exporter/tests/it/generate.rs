//! `--generate KIND`: the manual page and the shell completions come from the flags' own declaration, so each lists
//! every flag the binary takes, and the bash script is valid bash.

use std::io::Write as _;
use std::process::{Command, Stdio};

use clap::CommandFactory as _;
use insight_audit_log::args::Cli;

use crate::support::{bare_command, run};

/// Every long flag of the command line, `--account` to `--generate`.
fn flags() -> Vec<String> {
    let flags: Vec<String> = Cli::command()
        .get_arguments()
        .filter_map(|arg| arg.get_long())
        .map(|long| format!("--{long}"))
        .collect();
    assert!(flags.len() > 25, "the flags were found: {flags:?}");
    flags
}

/// `--generate KIND` alone: exit code 0, the text on stdout, nothing on stderr.
fn generate(kind: &str) -> String {
    let out = run(&mut bare_command(), &["--generate", kind]);
    assert_eq!(out.code, Some(0), "{kind}: {}", out.stderr);
    assert!(out.stderr.is_empty(), "{kind}: {}", out.stderr);
    out.stdout
}

/// The manual page is roff for section 1 named after the binary, with its version, and documents every flag (roff
/// writes a hyphen as `\-`).
#[test]
fn the_manual_page_documents_every_flag() {
    let page = generate("man");
    let header = format!(
        ".TH insight-audit-log 1  \"insight-audit-log {}\"",
        env!("CARGO_PKG_VERSION")
    );
    assert!(page.contains(&header), "{page}");
    assert!(page.contains(".SH OPTIONS"), "{page}");
    let plain = page.replace("\\-", "-");
    for flag in flags() {
        assert!(plain.contains(&flag), "the manual page lacks {flag}");
    }
}

/// The bash completions parse as bash (`bash -n`), are registered for the binary's name, and offer every flag and
/// the formats' values.
#[test]
fn bash_completions_are_valid_bash_offering_every_flag() {
    let script = generate("complete-bash");
    let mut bash = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    bash.stdin
        .take()
        .expect("a pipe")
        .write_all(script.as_bytes())
        .expect("written");
    let checked = bash.wait_with_output().expect("bash ends");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        script.contains("-o bashdefault -o default insight-audit-log"),
        "registered for the binary: {script}"
    );
    for word in flags().iter().map(String::as_str).chain(["ndjson", "ocsf"]) {
        assert!(script.contains(word), "the bash completions lack {word}");
    }
}

/// zsh, fish and PowerShell each get a script in their own form, for this binary, offering every flag.
#[test]
fn each_shell_gets_completions_in_its_own_form() {
    for (kind, marker) in [
        ("complete-zsh", "#compdef insight-audit-log"),
        ("complete-fish", "complete -c insight-audit-log"),
        (
            "complete-powershell",
            "Register-ArgumentCompleter -Native -CommandName 'insight-audit-log'",
        ),
    ] {
        let script = generate(kind);
        assert!(script.contains(marker), "{kind}: {script}");
        for flag in flags() {
            // fish names long flags without their dashes (`-l account`).
            let word = if kind == "complete-fish" {
                format!("-l {}", &flag[2..])
            } else {
                flag.clone()
            };
            assert!(script.contains(&word), "{kind} lacks {word}");
        }
    }
}

/// `--generate` goes alone: beside a scope it is a usage error (exit code 2), and an unknown kind is refused with
/// the kinds listed.
#[test]
fn generate_goes_alone_and_names_its_kinds() {
    let beside = run(
        &mut bare_command(),
        &[
            "--generate",
            "man",
            "--account",
            "023e105f4ecef8ad9ca31a8372d0c353",
        ],
    );
    assert_eq!(beside.code, Some(2), "{}", beside.stderr);
    assert!(beside.stdout.is_empty(), "{}", beside.stdout);
    assert!(
        beside.stderr.contains("cannot be used with"),
        "{}",
        beside.stderr
    );

    let unknown = run(&mut bare_command(), &["--generate", "complete-tcsh"]);
    assert_eq!(unknown.code, Some(2), "{}", unknown.stderr);
    for kind in [
        "man",
        "complete-bash",
        "complete-zsh",
        "complete-fish",
        "complete-powershell",
    ] {
        assert!(unknown.stderr.contains(kind), "{}", unknown.stderr);
    }

    let missing = run(&mut bare_command(), &[]);
    assert_eq!(
        missing.code,
        Some(2),
        "without --generate the scopes are required: {}",
        missing.stderr
    );
}

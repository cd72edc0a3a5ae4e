//! `cargo xtask regenerate` runs the generator in a child process: a crash there (a stack
//! overflow in typify, an abort) or a child still running at its deadline is an error that
//! names the spec, the output stays untouched, and otherwise the child's answer is exactly what
//! generating in process gives.
//!
//! The tests run the built `xtask` executable, since the backstop is a second process of it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use xtask::generation::{CRASH_FOR_TESTS, DEADLINE_VAR};

use crate::support::SENTINEL;

/// A folder with a copy of the workspace spec (changed by `edit`) and a sentinel output file.
struct Run {
    dir: tempfile::TempDir,
    spec: PathBuf,
    out: PathBuf,
}

impl Run {
    fn new(edit: impl FnOnce(String) -> String) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let text = std::fs::read_to_string(xtask::workspace_root().join("spec/openapi.yaml"))
            .expect("the workspace spec");
        let spec = dir.path().join("openapi.yaml");
        std::fs::write(&spec, edit(text)).expect("write the spec");
        let out = dir.path().join("generated.rs");
        std::fs::write(&out, SENTINEL).expect("write the sentinel");
        Self { dir, spec, out }
    }

    /// Runs `xtask regenerate --spec SPEC --out OUT` with `crash` in the environment (if any);
    /// the exit code (`None` when a signal ended it) and the standard error.
    fn regenerate(&self, crash: Option<&str>) -> (Option<i32>, String) {
        self.regenerate_with(crash, &[], None)
    }

    /// [`Run::regenerate`] with more arguments and [`DEADLINE_VAR`] set to `deadline` (if any).
    fn regenerate_with(
        &self,
        crash: Option<&str>,
        args: &[&str],
        deadline: Option<&str>,
    ) -> (Option<i32>, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .args(["regenerate", "--spec"])
            .arg(&self.spec)
            .arg("--out")
            .arg(&self.out)
            .args(args)
            .env_remove(CRASH_FOR_TESTS)
            .env_remove(DEADLINE_VAR);
        if let Some(crash) = crash {
            command.env(CRASH_FOR_TESTS, crash);
        }
        if let Some(deadline) = deadline {
            command.env(DEADLINE_VAR, deadline);
        }
        let output = command.output().expect("xtask runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn assert_untouched(&self) {
        let now = std::fs::read_to_string(&self.out).expect("the output still exists");
        assert_eq!(now, SENTINEL, "a failed run changed the output");
        let left: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("list the folder")
            .filter_map(Result::ok)
            .filter(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".regenerate-")
            })
            .collect();
        assert!(left.is_empty(), "a temporary file was left behind");
    }
}

fn shown(path: &Path) -> String {
    xtask::display_path(path)
}

/// Typify recurses until the stack overflows (simulated in the child); the command
/// exits 1 with an error naming the spec and the stack overflow, instead of dying of a signal.
#[test]
fn a_stack_overflow_in_the_generator_is_an_error_naming_the_spec() {
    let run = Run::new(|text| text);
    let (code, stderr) = run.regenerate(Some("stack-overflow"));
    assert_eq!(code, Some(1), "{stderr}");
    let expected = format!(
        "error: generation of {} crashed (signal 6 SIGABRT, stack overflow) in the generator \
         (progenitor/typify)",
        shown(&run.spec)
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("has overflowed its stack"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    run.assert_untouched();
}

/// The generation aborts; the command exits 1 naming the spec and the signal.
#[test]
fn an_abort_in_the_generator_is_an_error_naming_the_spec() {
    let run = Run::new(|text| text);
    let (code, stderr) = run.regenerate(Some("abort"));
    assert_eq!(code, Some(1), "{stderr}");
    let expected = format!(
        "error: generation of {} crashed (signal 6 SIGABRT) in the generator",
        shown(&run.spec)
    );
    assert!(stderr.contains(&expected), "{stderr}");
    run.assert_untouched();
}

/// The generation asks for memory without end (typify does on some specs); the
/// allocation past the 4 GiB ceiling fails, and the command exits 1 naming the spec and the
/// memory, with the output untouched.
#[test]
fn runaway_memory_in_the_generator_is_an_error_naming_the_spec() {
    let run = Run::new(|text| text);
    let (code, stderr) = run.regenerate(Some("memory"));
    assert_eq!(code, Some(1), "{stderr}");
    let expected = format!(
        "error: generation of {} crashed (signal 6 SIGABRT, out of memory: over the 4 GiB the \
         generator may hold) in the generator",
        shown(&run.spec)
    );
    assert!(stderr.contains(&expected), "{stderr}");
    // The allocations stopped at the ceiling, not where the system would have refused them.
    let most = stderr
        .split(|c: char| !c.is_ascii_alphanumeric() && c != ' ')
        .filter_map(|part| part.trim().strip_prefix("held ")?.strip_suffix(" MiB"))
        .filter_map(|mebibytes| mebibytes.parse::<usize>().ok())
        .max();
    assert_eq!(most, Some(3840), "{stderr}");
    run.assert_untouched();
}

/// The pid the hanging child printed, from the error that reports it.
fn hanging_pid(stderr: &str) -> u32 {
    let (_, after) = stderr
        .split_once("hanging: pid ")
        .expect("the child's pid is reported");
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("a pid")
}

/// The generation hangs (simulated in the child) past a one-second `--deadline`; the
/// command kills the child and exits 1 naming the spec and the deadline, with the output untouched.
#[test]
fn a_generation_past_its_deadline_is_stopped_naming_the_spec() {
    let run = Run::new(|text| text);
    let started = Instant::now();
    let (code, stderr) = run.regenerate_with(Some("hang"), &["--deadline", "1"], None);
    assert_eq!(code, Some(1), "{stderr}");
    let expected = format!(
        "error: generation of {} did not finish within its deadline of 1 s, so it was stopped",
        shown(&run.spec)
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(60), "{stderr}");
    // Killed and reaped, not left running.
    let pid = hanging_pid(&stderr);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the child {pid} still runs"
    );
    run.assert_untouched();
}

/// The deadline comes from `XTASK_GENERATE_DEADLINE` when `--deadline` is not given,
/// and `--deadline` wins over it.
#[test]
fn the_deadline_is_read_from_the_environment_unless_the_flag_gives_it() {
    let run = Run::new(|text| text);
    let (code, stderr) = run.regenerate_with(Some("hang"), &[], Some("1"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("within its deadline of 1 s"), "{stderr}");
    let (code, stderr) = run.regenerate_with(Some("hang"), &["--deadline", "2"], Some("1"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("within its deadline of 2 s"), "{stderr}");
    run.assert_untouched();
}

/// `XTASK_GENERATE_DEADLINE` is not a number of seconds above zero; the command
/// refuses it, naming the variable, before generating anything.
#[test]
fn an_unreadable_deadline_is_refused_naming_where_it_came_from() {
    let run = Run::new(|text| text);
    let (code, stderr) = run.regenerate_with(Some("hang"), &[], Some("5m"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("error: XTASK_GENERATE_DEADLINE=\"5m\" is not a number of seconds"),
        "{stderr}"
    );
    let (code, stderr) = run.regenerate_with(None, &["--deadline", "0"], None);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("error: --deadline: the generation's deadline must be at least one second"),
        "{stderr}"
    );
    run.assert_untouched();
}

/// A spec the generator refuses; the child's error reaches the command word for word,
/// as the in-process generation words it.
#[test]
fn an_error_in_the_child_reads_as_in_process() {
    let run = Run::new(|text| text.replacen("openapi: 3.0.3", "openapi: 3.1.0", 1));
    let (code, stderr) = run.regenerate(None);
    let in_process = xtask::regenerate::generate_source(
        &run.spec,
        &xtask::workspace_root().join("spec/overlay.yaml"),
    )
    .expect_err("refused");
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.trim_end(), format!("error: {in_process:#}"));
    run.assert_untouched();
}

/// The workspace spec through the child; the file written is byte for byte the
/// in-process generation.
#[test]
fn generation_in_the_child_writes_what_the_process_generates() {
    let run = Run::new(|text| text);
    let (code, stderr) = run.regenerate(None);
    assert_eq!(code, Some(0), "{stderr}");
    let written = std::fs::read_to_string(&run.out).expect("the output");
    let in_process = xtask::regenerate::generate_source(
        &run.spec,
        &xtask::workspace_root().join("spec/overlay.yaml"),
    )
    .expect("generates");
    assert!(written == in_process, "the child's output differs");
}

//! Running the generator where a crash cannot take `cargo xtask regenerate` down with it.
//!
//! progenitor and typify panic on some inputs (which `codegen` turns into errors) but also
//! recurse without end on others: a stack overflow aborts the whole process, and no
//! `catch_unwind` can stop it. `codegen` refuses every such shape found so far, but new ones
//! turn up (fuzzing found four). So the command runs the generation in a child process, its own
//! executable started again with the hidden subcommand [`CHILD_COMMAND`]: the child reads the
//! spec and the overlay, writes the generated source to its standard output, and any crash of
//! the child becomes an error that names the spec instead of a SIGSEGV of the command.
//!
//! A generation that never ends (typify looping on a shape it cannot lay out) would hang the
//! command and CI with it, so the child has a deadline ([`DEFAULT_DEADLINE`], or `--deadline`, or
//! [`DEADLINE_VAR`]): past it the child is killed and the command fails naming the spec.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::display_path;

/// The hidden subcommand that generates in a child: `xtask __generate --spec FILE [--overlay
/// FILE]` (no `--overlay`: no overlay).
pub const CHILD_COMMAND: &str = "__generate";

/// Starts the last line of the child's standard error that holds its error message.
pub const ERROR_MARKER: &str = "xtask-generate-error: ";

/// Environment variable that makes the generation crash on purpose, to test the backstop:
/// `stack-overflow` recurses without end, `abort` aborts, `memory` asks for memory without end,
/// `hang` prints `hanging: pid N` and sleeps for ever. Read where the generation runs.
pub const CRASH_FOR_TESTS: &str = "XTASK_GENERATE_CRASH_FOR_TESTS";

/// How long the child may generate before it is killed: five minutes. The workspace's spec
/// generates in under a second in a debug build, so only a generation that never ends meets it,
/// and CI fails within minutes instead of at its own time limit.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

/// Environment variable giving the child's deadline in whole seconds, when `--deadline` does not.
pub const DEADLINE_VAR: &str = "XTASK_GENERATE_DEADLINE";

/// How often the parent looks whether the child has ended.
const POLL: Duration = Duration::from_millis(20);

/// The child's deadline: `flag` (seconds) if given, else [`DEADLINE_VAR`] if set, else
/// [`DEFAULT_DEADLINE`]. A value that is not a whole number of seconds above zero is an error
/// naming where it came from.
pub fn deadline(flag: Option<u64>) -> anyhow::Result<Duration> {
    let (seconds, from) = match flag {
        Some(seconds) => (seconds, "--deadline".to_owned()),
        None => match std::env::var(DEADLINE_VAR) {
            Ok(text) => {
                let seconds = text.trim().parse::<u64>().map_err(|_| {
                    anyhow::anyhow!(
                        "{DEADLINE_VAR}={text:?} is not a number of seconds (e.g. \
                         {DEADLINE_VAR}=600)"
                    )
                })?;
                (seconds, format!("{DEADLINE_VAR}={text}"))
            }
            Err(std::env::VarError::NotPresent) => return Ok(DEFAULT_DEADLINE),
            Err(std::env::VarError::NotUnicode(text)) => {
                anyhow::bail!("{DEADLINE_VAR}={text:?} is not a number of seconds")
            }
        },
    };
    anyhow::ensure!(
        seconds > 0,
        "{from}: the generation's deadline must be at least one second"
    );
    Ok(Duration::from_secs(seconds))
}

/// How much memory the `xtask` process may hold at once: 4 GiB. typify's memory runs away on some
/// specs (fuzzing found one that takes 3 GB in five seconds); past this limit an allocation fails
/// and the process aborts, which the parent reports, before the machine runs out of memory.
pub const MEMORY_LIMIT: usize = 4 << 30;

/// The system allocator with a ceiling of [`MEMORY_LIMIT`] bytes held at once; the `xtask`
/// executable allocates through it, so the child that generates cannot take the machine's
/// memory.
pub struct MemoryCap;

static HELD: AtomicUsize = AtomicUsize::new(0);

impl MemoryCap {
    fn take(size: usize) -> bool {
        let before = HELD.fetch_add(size, Ordering::Relaxed);
        if before.saturating_add(size) > MEMORY_LIMIT {
            HELD.fetch_sub(size, Ordering::Relaxed);
            return false;
        }
        true
    }
}

// SAFETY: every call is passed on to `System` unchanged; the cap only refuses (returns null)
// before asking it, and the count is given back when memory is freed.
#[allow(
    unsafe_code,
    reason = "a global allocator is an unsafe trait; like the benchmark's counting allocator, \
              it only passes calls on to the system allocator"
)]
unsafe impl GlobalAlloc for MemoryCap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !Self::take(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc`, passed on.
        let pointer = unsafe { System.alloc(layout) };
        if pointer.is_null() {
            HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !Self::take(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if pointer.is_null() {
            HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(pointer, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let grows = new_size.saturating_sub(layout.size());
        if !Self::take(grows) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `realloc`, passed on.
        let new = unsafe { System.realloc(pointer, layout, new_size) };
        if new.is_null() {
            HELD.fetch_sub(grows, Ordering::Relaxed);
        } else {
            HELD.fetch_sub(layout.size().saturating_sub(new_size), Ordering::Relaxed);
        }
        new
    }
}

/// Where the generator runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Isolation {
    /// In this process: what the library does by default (tests, other callers). A stack
    /// overflow in progenitor or typify ends the process.
    #[default]
    InProcess,
    /// In a child process of this executable (which must handle [`CHILD_COMMAND`]): what
    /// `cargo xtask regenerate` does. A crash of the child is an error naming the spec, and so
    /// is a child still running at its deadline, which is killed.
    ChildProcess {
        /// The executable to start.
        executable: PathBuf,
        /// How long the child may run.
        deadline: Duration,
    },
}

impl Isolation {
    /// Runs the generation in a child process of the running executable, for at most
    /// `deadline`.
    pub fn child_of_current_exe(deadline: Duration) -> anyhow::Result<Self> {
        let executable = std::env::current_exe()
            .context("cannot find the xtask executable to run the generator in")?;
        Ok(Self::ChildProcess {
            executable,
            deadline,
        })
    }
}

/// Generates the client source for the spec at `spec_path` with the overlay at `overlay_path`
/// (or none), here or in a child process.
pub fn generate(
    isolation: &Isolation,
    spec_path: &Path,
    overlay_path: Option<&Path>,
) -> anyhow::Result<String> {
    match isolation {
        Isolation::InProcess => generate_here(spec_path, overlay_path),
        Isolation::ChildProcess {
            executable,
            deadline,
        } => generate_in_child(executable, *deadline, spec_path, overlay_path),
    }
}

/// Generates in this process: reads the files and runs `codegen` with the client's settings.
pub fn generate_here(spec_path: &Path, overlay_path: Option<&Path>) -> anyhow::Result<String> {
    let spec_text = read(spec_path)?;
    let overlay_text = overlay_path.map(read).transpose()?;
    let spec_name = display_path(spec_path);
    let overlay_name = overlay_path.map(display_path);
    crash_if_asked();
    let overlay = overlay_name
        .as_deref()
        .zip(overlay_text.as_deref())
        .map(|(name, text)| codegen::Source::new(name, text));
    let source = codegen::generate(
        codegen::Source::new(&spec_name, &spec_text),
        overlay,
        &crate::client::settings(),
    )?;
    Ok(source)
}

/// The child's side: generates and writes the source to standard output, or the error after
/// [`ERROR_MARKER`] to standard error. Returns the exit code (0 or 1).
pub fn serve_child(spec_path: &Path, overlay_path: Option<&Path>) -> u8 {
    match generate_here(spec_path, overlay_path) {
        Ok(source) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(source.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => 0,
                Err(error) => {
                    eprintln!("\n{ERROR_MARKER}cannot hand the generated source over: {error}");
                    1
                }
            }
        }
        Err(error) => {
            // The last thing written, so the parent takes back everything after the marker, a
            // list of problems on several lines included.
            eprintln!("\n{ERROR_MARKER}{error:#}");
            1
        }
    }
}

/// The parent's side: runs `executable __generate ...` for at most `deadline` and reads its
/// answer.
fn generate_in_child(
    executable: &Path,
    deadline: Duration,
    spec_path: &Path,
    overlay_path: Option<&Path>,
) -> anyhow::Result<String> {
    let mut command = Command::new(executable);
    command.arg(CHILD_COMMAND).arg("--spec").arg(spec_path);
    if let Some(overlay_path) = overlay_path {
        command.arg("--overlay").arg(overlay_path);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!(
                "cannot start {} to run the generator in",
                executable.display()
            )
        })?;
    // Both pipes are read while the child runs, so that a full pipe never stops it.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let spec = display_path(spec_path);
    let finished = wait_until(&mut child, deadline)
        .with_context(|| format!("cannot wait for the generation of {spec}"))?;
    let stderr = collect(stderr)?;
    let stdout = collect(stdout)?;
    match finished {
        Some(status) => answer(
            &spec,
            Output {
                status,
                stdout,
                stderr,
            },
        ),
        None => Err(anyhow::anyhow!(
            "generation of {spec} did not finish within its deadline of {} s, so it was \
             stopped{}; nothing was written. Give it longer with `--deadline SECONDS` or \
             {DEADLINE_VAR}; if it never ends, the spec has a shape the generator \
             (progenitor/typify) loops on: find the schema (remove schemas until it \
             generates), change it in the overlay, and report it so that the generator refuses \
             it with a clear error",
            deadline.as_secs(),
            said(&String::from_utf8_lossy(&stderr)),
        )),
    }
}

/// Waits for `child` to end, for at most `deadline`: its status, or `None` when the deadline
/// passed and the child was killed (and reaped).
fn wait_until(
    child: &mut Child,
    deadline: Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let elapsed = started.elapsed();
        if elapsed >= deadline {
            // It may have ended just now; either way `wait` reaps it.
            if let Err(error) = child.kill()
                && child.try_wait()?.is_none()
            {
                return Err(error);
            }
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(POLL.min(deadline - elapsed));
    }
}

/// Reads all of `pipe` on a thread of its own.
fn drain(
    pipe: Option<impl std::io::Read + Send + 'static>,
) -> JoinHandle<std::io::Result<Vec<u8>>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            pipe.read_to_end(&mut bytes)?;
        }
        Ok(bytes)
    })
}

/// What a [`drain`] thread read.
fn collect(reader: JoinHandle<std::io::Result<Vec<u8>>>) -> anyhow::Result<Vec<u8>> {
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the thread reading the generator's output panicked"))?
        .context("cannot read the generator's output")
}

/// The child's non-empty standard error lines, joined, as ` (it said: ...)`; empty if none.
fn said(stderr: &str) -> String {
    let last_words = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    if last_words.is_empty() {
        String::new()
    } else {
        format!(" (it said: {last_words})")
    }
}

/// Turns the child's output into the generated source or an error.
fn answer(spec: &str, output: Output) -> anyhow::Result<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let (notes, message) = match stderr.rfind(ERROR_MARKER) {
        Some(at) => (
            &stderr[..at],
            Some(stderr[at + ERROR_MARKER.len()..].trim_end()),
        ),
        None => (&*stderr, None),
    };
    if output.status.success() {
        // What the generator printed on the way (progenitor panics it caught), as before.
        eprint!("{notes}");
        return String::from_utf8(output.stdout)
            .with_context(|| format!("the generated source for {spec} is not UTF-8"));
    }
    if let (Some(message), Some(1)) = (message, output.status.code()) {
        eprint!("{}", notes.strip_suffix('\n').unwrap_or(notes));
        return Err(anyhow::anyhow!("{message}"));
    }
    let cause = if stderr.contains("has overflowed its stack") {
        ", stack overflow"
    } else if stderr.contains("memory allocation of") {
        ", out of memory: over the 4 GiB the generator may hold"
    } else {
        ""
    };
    let how = match (signal_of(&output.status), output.status.code()) {
        (Some(signal), _) => format!(
            "signal {signal}{}{cause}",
            signal_name(signal).map_or(String::new(), |name| format!(" {name}")),
        ),
        (None, Some(code)) => format!("exit code {code}"),
        (None, None) => "no exit code".to_owned(),
    };
    let said = said(&stderr);
    Err(anyhow::anyhow!(
        "generation of {spec} crashed ({how}) in the generator (progenitor/typify){said}; \
         nothing was written. The spec has a shape the generator cannot handle: find the \
         schema (remove schemas until it generates), change it in the overlay, and report it \
         so that the generator refuses it with a clear error"
    ))
}

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

#[cfg(not(unix))]
fn signal_of(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        _ => return None,
    })
}

/// Crashes the way [`CRASH_FOR_TESTS`] asks, if it is set.
fn crash_if_asked() {
    match std::env::var(CRASH_FOR_TESTS).as_deref() {
        Ok("stack-overflow") => {
            std::hint::black_box(recurse(0));
        }
        Ok("abort") => std::process::abort(),
        Ok("hang") => {
            // Its pid, so that a test can see the process is gone after the deadline.
            eprintln!("hanging: pid {}", std::process::id());
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        Ok("memory") => {
            // Asked for, never touched: the cap counts it, the machine does not hold it. Each
            // step is reported, so a test can see where the allocations stopped.
            let mut held: Vec<Vec<u8>> = Vec::new();
            loop {
                held.push(Vec::with_capacity(256 << 20));
                std::hint::black_box(&held);
                eprintln!("held {} MiB", held.len() * 256);
            }
        }
        _ => {}
    }
}

/// Recursion without end, as typify's (each frame keeps a buffer the optimiser cannot drop).
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 32]);
    if std::hint::black_box(depth) == u64::MAX {
        return frame[0];
    }
    recurse(depth + 1).wrapping_add(frame[1])
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", display_path(path)))
}

//! Replays every committed fuzz input (the minimised corpus, the seeds and the regression
//! inputs of past crashes) through the fuzz targets' own checks, so the test command covers
//! them without libFuzzer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};

use tests::fuzz;

/// `fuzz/corpus/<target>`, `fuzz/regressions/<target>` and the target's seed folders (read
/// recursively, as libFuzzer does).
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut folders = vec![
        root.join("fuzz/corpus").join(target),
        root.join("fuzz/regressions").join(target),
    ];
    folders.extend(
        fuzz::seed_folders(target)
            .iter()
            .map(|seeds| root.join(seeds)),
    );
    let mut files = Vec::new();
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Feeds each input of `target` to `check` under `catch_unwind`; fails listing every input that
/// panicked. Returns how many inputs ran.
fn replay(target: &str, check: impl Fn(&[u8])) -> usize {
    let files = inputs(target);
    let mut panicked = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).expect("read a corpus file");
        if catch_unwind(AssertUnwindSafe(|| check(&bytes))).is_err() {
            panicked.push(file.display().to_string());
        }
    }
    assert!(panicked.is_empty(), "inputs that panic: {panicked:#?}");
    files.len()
}

/// Decodes typed input the way `libfuzzer_sys::fuzz_target!` does.
fn structured<'a, T: Arbitrary<'a>>(bytes: &'a [u8]) -> Option<T> {
    T::arbitrary_take_rest(Unstructured::new(bytes)).ok()
}

/// Runs `body` on a thread with a 64 MiB stack: the `arbitrary`-derived models are built
/// recursively (one frame per nested value, large in an unoptimised build), which is the test
/// input's construction, not the code under test; the checks themselves cap the depth.
fn with_large_stack(body: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(body)
        .expect("a thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

/// Every committed response input decodes or fails without a panic, and keeps the decode
/// invariants (plain and path-reporting decoders agree; pages survive re-encoding).
#[test]
fn decode_page_corpus_replays_without_panic() {
    let count = replay("decode_page", fuzz::decode_page);
    assert!(count >= 7, "the seed pages are missing: {count}");
}

/// Every committed structured response input replays without a panic.
#[test]
fn decode_structured_corpus_replays_without_panic() {
    with_large_stack(|| {
        replay("decode_structured", |bytes| {
            if let Some(page) = structured::<fuzz::PageModel>(bytes) {
                fuzz::decode_structured(&page);
            }
        });
    });
}

/// Every committed spec input (valid fixtures and their mutations) generates or fails with an
/// error, never a panic that escapes the generator.
#[test]
fn codegen_text_corpus_replays_without_panic() {
    let count = replay("codegen_text", fuzz::codegen_text);
    assert!(count >= 10, "the seed specs are missing: {count}");
}

/// Every committed structured spec input replays without a panic.
#[test]
fn codegen_structured_corpus_replays_without_panic() {
    with_large_stack(|| {
        replay("codegen_structured", |bytes| {
            if let Some(spec) = structured::<fuzz::SpecModel>(bytes) {
                fuzz::codegen_structured(&spec);
            }
        });
    });
}

/// The checks can fail: a panic in a check is reported, so the replay tests above are not
/// vacuous.
#[test]
fn replay_reports_a_panicking_check() {
    let outcome = catch_unwind(|| replay("decode_page", |_| panic!("planted")));
    assert!(outcome.is_err());
}

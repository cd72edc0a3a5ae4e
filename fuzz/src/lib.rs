//! The fuzz targets' library: the checks themselves live in the workspace's `tests` library
//! (`tests/src/fuzz.rs`), free of libFuzzer, so that the replay test in `tests/hardening` runs
//! every committed input through the same copy; this crate adds what only a libFuzzer run
//! needs, the panic hook of the generator targets.

pub use tests::fuzz::*;

/// The panic hook of the generator targets.
///
/// libFuzzer's hook aborts on every panic, even one that is caught. progenitor and typify
/// panic (`todo!`, `assert!`) on some inputs, and `codegen::generate` already turns those
/// panics into `Error::Generator` with `catch_unwind`; this hook lets exactly those unwind to
/// that `catch_unwind` (printing each distinct one once, prefixed `caught progenitor panic:`)
/// and hands every other panic to libFuzzer's hook, which reports it as a crash.
pub mod hook {
    use std::collections::HashSet;
    use std::sync::Mutex;

    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);

    /// Wraps the current (libFuzzer's) panic hook.
    pub fn install() {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info
                .location()
                .map(|location| format!("{}:{}", location.file(), location.line()))
                .unwrap_or_default();
            let inside_progenitor =
                location.contains("progenitor-impl") || location.contains("typify-impl") || {
                    let trace = std::backtrace::Backtrace::force_capture().to_string();
                    trace.contains("progenitor_impl::") || trace.contains("typify_impl::")
                };
            if !inside_progenitor {
                return fuzzer_hook(info);
            }
            let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if seen
                .get_or_insert_with(HashSet::new)
                .insert(location.clone())
            {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let message: String = message.chars().take(200).collect();
                eprintln!("caught progenitor panic: {location}: {message}");
            }
        }));
    }
}

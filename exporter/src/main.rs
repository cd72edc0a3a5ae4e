//! The `insight-audit-log` binary; everything lives in the library so tests can run it in-process.

fn main() -> std::process::ExitCode {
    insight_audit_log::main()
}

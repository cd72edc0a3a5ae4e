//! Shared helpers of the workspace tests (fixture paths).

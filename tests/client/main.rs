//! Tests of the client area.

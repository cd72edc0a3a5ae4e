//! Tests of the codegen area.

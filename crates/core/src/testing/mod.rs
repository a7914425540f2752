//! Test support (cargo feature `testing`): an in-memory target with scripted
//! failures, and the conformance suite every target crate runs against itself.
//!
//! The in-memory target is for unit tests of dispatch logic. It is never enough on its
//! own to test a real target: run [`conformance::run`] against the real medium.

pub mod conformance;
mod memory;

pub use memory::{MemoryConfig, MemoryTarget, Scripted, MEMORY_REGISTRATION};

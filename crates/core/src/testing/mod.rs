//! Test support (cargo feature `testing`): an in-memory target with scripted
//! failures, the conformance suite every target crate runs against itself, and a
//! capture of what code logs.
//!
//! The in-memory target is for unit tests of dispatch logic. It is never enough on its
//! own to test a real target: run [`conformance::run`] against the real medium.

pub mod conformance;
mod logs;
mod memory;

pub use logs::logged;
pub use memory::{MemoryConfig, MemoryTarget, Scripted, MEMORY_REGISTRATION};

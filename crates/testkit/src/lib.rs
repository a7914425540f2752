//! Test support shared by auditrail's tests. Not published: it panics on failure by
//! design, since a failed step is a failed test.

pub mod ext4;
pub mod port;
pub mod prereq;
pub mod process;
pub mod server;
pub mod store;
pub mod tmpfs;
pub mod unwritable;

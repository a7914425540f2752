//! No code: this crate only asks for dependency features, so that `cargo xtask
//! features` checks each feature combination against the workspace build's
//! dependencies instead of recompiling them (see this crate's `Cargo.toml`).

//! Tamper evidence of the central store: the hash chain over every stored record
//! ([`chain`]), and (in later modules) signed checkpoints and the verifier.

pub mod chain;

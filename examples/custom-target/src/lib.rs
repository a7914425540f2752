//! Example custom target (work in progress).

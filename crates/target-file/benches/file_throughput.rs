//! Throughput benchmark (work in progress).
fn main() {}

//! auditrail-target-kafka (work in progress).

//! auditrail-target-file (work in progress).

//! auditrail-target-eventserver (work in progress).

//! auditrail-eventserver (work in progress).
